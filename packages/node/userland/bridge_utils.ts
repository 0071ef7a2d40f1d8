/**
 * Bridge tools: `brctl` (bridge-utils 1.7.1 on hosts, busybox's applet in
 * containers) and iproute2's `bridge fdb|link` (bridge/fdb.c, bridge/link.c).
 */
import { type Bridge, type FdbEntry, KernelError, type NetDevice, type NetNs, type Vxlan } from "@kemu/kernel";
import { formatIpv4Addr, formatMacAddr, parseIpv4Addr, parseMacAddr } from "@kemu/wire";
import type { Command, ProcessContext } from "../process.ts";
import { BUSYBOX_BANNER, cmp, die, ifFlags, isBridge, matches, runTool } from "./_net.ts";
import { linkFlags, portCost, portNo, portState } from "./ip_format.ts";
import { BRCTL_USAGE, BRIDGE_FDB_USAGE, BRIDGE_LINK_USAGE, BRIDGE_USAGE, BUSYBOX_BRCTL_USAGE } from "./ip_usage.ts";

/** The bridge id brctl prints: priority 8000, then the MAC without colons. */
function bridgeId(br: Bridge): string {
  return `8000.${formatMacAddr(br.mac).replaceAll(":", "")}`;
}

function bridges(ns: NetNs): Bridge[] {
  return ns
    .devices()
    .filter(isBridge)
    .sort((a, b) => cmp(a.name, b.name));
}

/** One bridge of `brctl show`: the first port on its line, the others on tab-indented lines. */
function showBridge(br: Bridge): string {
  const ports = [...br.ports.keys()].map((d) => d.name).sort(cmp);
  let text = `${br.name}\t\t${bridgeId(br)}\tno\t\t`;
  if (ports.length === 0) return `${text}\n`;
  text += `${ports[0]}\n`;
  for (const p of ports.slice(1)) text += `\t\t\t\t\t\t\t${p}\n`;
  return text;
}

/** `brctl showmacs BR`: brforward, sorted by MAC, local entries with a zero timer. */
function showMacs(br: Bridge): string {
  const now = br.netns.kernel.clock.now();
  const rows = br
    .entries()
    .slice()
    .sort((a, b) => a.mac - b.mac)
    .map((e) => {
      const age = e.local || e.static ? 0 : Math.max(0, now - e.updatedAt);
      const secs = Math.floor(age / 1000);
      const hundredths = Math.floor((age % 1000) / 10);
      return `${String(portNo(br, e.port)).padStart(3)}\t${formatMacAddr(e.mac)}\t${e.local ? "yes" : "no"}\t\t${String(secs).padStart(4)}.${String(hundredths).padStart(2, "0")}\n`;
    });
  return `port no\tmac addr\t\tis local?\tageing timer\n${rows.join("")}`;
}

const BRCTL_COMMANDS: Record<string, { args: number; usage: string }> = {
  addbr: { args: 1, usage: "<bridge>\t\tadd bridge" },
  delbr: { args: 1, usage: "<bridge>\t\tdelete bridge" },
  addif: { args: 2, usage: "<bridge> <device>\tadd interface to bridge" },
  delif: { args: 2, usage: "<bridge> <device>\tdelete interface from bridge" },
  hairpin: { args: 3, usage: "<bridge> <port> {on|off}\tturn hairpin on/off" },
  setageing: { args: 2, usage: "<bridge> <time>\t\tset ageing time" },
  setbridgeprio: { args: 2, usage: "<bridge> <prio>\t\tset bridge priority" },
  setfd: { args: 2, usage: "<bridge> <time>\t\tset bridge forward delay" },
  sethello: { args: 2, usage: "<bridge> <time>\t\tset hello time" },
  setmaxage: { args: 2, usage: "<bridge> <time>\t\tset max message age" },
  setpathcost: { args: 3, usage: "<bridge> <port> <cost>\tset path cost" },
  setportprio: { args: 3, usage: "<bridge> <port> <prio>\tset port priority" },
  show: { args: 0, usage: "[ <bridge> ]\t\tshow a list of bridges" },
  showmacs: { args: 1, usage: "<bridge>\t\tshow a list of mac addrs" },
  showstp: { args: 1, usage: "<bridge>\t\tshow bridge stp info" },
  stp: { args: 2, usage: "<bridge> {on|off}\tturn stp on/off" },
};

/** `brctl …` */
export const brctl: Command = (ctx) => runTool(() => (ctx.flavour === "busybox" ? busyboxBrctl(ctx) : bridgeUtils(ctx)));

function bridgeUtils(ctx: ProcessContext): number {
  const argv = ctx.argv.slice(1);
  const cmd = argv[0];
  if (cmd === undefined || cmd === "-h" || cmd === "--help") {
    ctx.stdout.write(BRCTL_USAGE);
    return 1;
  }
  if (cmd === "-V" || cmd === "--version") {
    ctx.stdout.write("bridge-utils, 1.7.1\n");
    return 0;
  }
  const spec = BRCTL_COMMANDS[cmd];
  if (spec === undefined) {
    ctx.stderr.write(`never heard of command [${cmd}]\n`);
    ctx.stdout.write(BRCTL_USAGE);
    return 1;
  }
  const args = argv.slice(1);
  if (args.length < spec.args) {
    ctx.stdout.write(`Incorrect number of arguments for command\nUsage: brctl ${cmd} ${spec.usage}\n`);
    return 1;
  }
  const ns = ctx.netns;
  const bridgeNamed = (name: string): Bridge => {
    const d = ns.deviceByName(name);
    if (d === undefined) die(ctx, `bridge ${name} does not exist!\n`, 1);
    if (!isBridge(d)) die(ctx, `device ${name} is not a bridge!\n`, 1);
    return d;
  };
  const [a0, a1, a2] = args;
  switch (cmd) {
    case "show": {
      let out = "bridge name\tbridge id\t\tSTP enabled\tinterfaces\n";
      if (args.length === 0) {
        out += bridges(ns).map(showBridge).join("");
        ctx.stdout.write(out);
        return 0;
      }
      let status = 0;
      ctx.stdout.write(out);
      for (const name of args) {
        const d = ns.deviceByName(name);
        if (d === undefined) {
          ctx.stderr.write(`bridge ${name} does not exist!\n`);
          status = 1;
        } else if (!isBridge(d)) {
          ctx.stderr.write(`device ${name} is not a bridge!\n`);
          status = 1;
        } else {
          ctx.stdout.write(showBridge(d));
        }
      }
      return status;
    }
    case "showmacs": {
      const d = ns.deviceByName(a0!);
      if (!isBridge(d)) die(ctx, "read of forward table failed: No such device\n", 1);
      ctx.stdout.write(showMacs(d));
      return 0;
    }
    case "addbr": {
      if (ns.deviceByName(a0!)) die(ctx, `device ${a0} already exists; can't create bridge with the same name\n`, 1);
      ns.kernel.createBridge(ns, a0!);
      return 0;
    }
    case "delbr": {
      const d = ns.deviceByName(a0!);
      if (d === undefined) die(ctx, `bridge ${a0} doesn't exist; can't delete it\n`, 1);
      if (!isBridge(d)) die(ctx, `can't delete bridge ${a0}: Operation not permitted\n`, 1);
      if (d.adminUp) die(ctx, `bridge ${a0} is still up; can't delete it\n`, 1);
      ns.kernel.destroyDevice(d);
      return 0;
    }
    case "addif":
    case "delif": {
      const br = bridgeNamed(a0!);
      let status = 0;
      for (const name of args.slice(1)) {
        const dev = ns.deviceByName(name);
        if (dev === undefined) {
          ctx.stderr.write(`interface ${name} does not exist!\n`);
          status = 1;
          continue;
        }
        if (cmd === "delif") {
          if (dev.master !== br) {
            ctx.stderr.write(`device ${name} is not a port of ${a0}\n`);
            status = 1;
          } else br.removePort(dev);
          continue;
        }
        if (isBridge(dev)) {
          ctx.stderr.write(`device ${name} is a bridge device itself; can't add a bridge device to a bridge device.\n`);
          status = 1;
        } else if (dev.master !== undefined) {
          ctx.stderr.write(`device ${name} is already a member of a bridge; can't add it to bridge ${a0}.\n`);
          status = 1;
        } else if (dev.kind === "loopback" || dev.kind === "tun") {
          ctx.stderr.write(`can't add ${name} to bridge ${a0}: Invalid argument\n`);
          status = 1;
        } else {
          br.addPort(dev);
        }
      }
      return status;
    }
    case "setageing": {
      const br = bridgeNamed(a0!);
      const secs = Number(a1);
      if (!Number.isFinite(secs)) die(ctx, `bad ageing time "${a1}"\n`, 1);
      br.ageingMs = Math.round(secs * 1000);
      return 0;
    }
    case "hairpin": {
      const br = bridgeNamed(a0!);
      const port = [...br.ports.keys()].find((d) => d.name === a1);
      if (port === undefined) die(ctx, `interface ${a1} does not exist!\n`, 1);
      if (a2 !== "on" && a2 !== "off") die(ctx, `expect on/off for argument\n`, 1);
      br.ports.get(port)!.hairpin = a2 === "on";
      return 0;
    }
    case "stp":
    case "setbridgeprio":
    case "setfd":
    case "sethello":
    case "setmaxage":
    case "setpathcost":
    case "setportprio":
      bridgeNamed(a0!);
      return 0;
    default: {
      const br = bridgeNamed(a0!);
      ctx.stdout.write(
        `${br.name}\n bridge id\t\t${bridgeId(br)}\n designated root\t${bridgeId(br)}\n root port\t\t   0\t\t\tpath cost\t\t   0\n`,
      );
      return 0;
    }
  }
}

function busyboxBrctl(ctx: ProcessContext): number {
  const argv = ctx.argv.slice(1);
  const cmd = argv[0];
  const usage = (): never => die(ctx, `${BUSYBOX_BANNER}\n\n${BUSYBOX_BRCTL_USAGE}`, 1);
  if (cmd === undefined || cmd === "--help") return usage();
  const known = ["addbr", "delbr", "addif", "delif", "stp", "showstp", "setageing", "setfd", "sethello", "setmaxage", "setpathcost", "setportprio", "setbridgeprio", "show", "showmacs", "hairpin"];
  if (!known.includes(cmd)) die(ctx, `brctl: invalid argument '${cmd}' to 'brctl'\n`, 1);
  const ns = ctx.netns;
  const args = argv.slice(1);
  if (cmd === "show") {
    const list = args.length === 0 ? bridges(ns) : args.map((n) => ns.deviceByName(n)).filter(isBridge);
    ctx.stdout.write(`bridge name\tbridge id\t\tSTP enabled\tinterfaces\n${list.map(showBridge).join("")}`);
    return 0;
  }
  const br = args[0];
  if (br === undefined) return usage();
  const brDev = ns.deviceByName(br);
  const errno = (e: string) => new KernelError(e as "ENODEV").text;
  switch (cmd) {
    case "addbr":
      if (brDev !== undefined) die(ctx, `brctl: bridge ${br}: ${errno("EEXIST")}\n`, 1);
      ns.kernel.createBridge(ns, br);
      return 0;
    case "delbr":
      if (!isBridge(brDev)) die(ctx, `brctl: bridge ${br}: No such device or address\n`, 1);
      if (brDev.adminUp) die(ctx, `brctl: bridge ${br}: ${errno("EBUSY")}\n`, 1);
      ns.kernel.destroyDevice(brDev);
      return 0;
    case "showmacs":
      if (!isBridge(brDev)) die(ctx, `brctl: can't open '/sys/class/net/${br}/brforward': No such file or directory\n`, 1);
      ctx.stdout.write(showMacs(brDev));
      return 0;
    case "addif":
    case "delif": {
      const name = args[1];
      if (name === undefined) return usage();
      const dev = ns.deviceByName(name);
      if (dev === undefined) die(ctx, `brctl: iface ${name} not found\n`, 1);
      if (!isBridge(brDev)) die(ctx, `brctl: bridge ${br}: ${errno("ENODEV")}\n`, 1);
      if (cmd === "delif") {
        if (dev.master !== brDev) die(ctx, `brctl: bridge ${br}: ${errno("EINVAL")}\n`, 1);
        brDev.removePort(dev);
      } else {
        if (dev.master !== undefined) die(ctx, `brctl: bridge ${br}: ${errno("EBUSY")}\n`, 1);
        if (isBridge(dev) || dev.kind === "loopback") die(ctx, `brctl: bridge ${br}: ${errno("EINVAL")}\n`, 1);
        brDev.addPort(dev);
      }
      return 0;
    }
    case "setageing":
      if (!isBridge(brDev)) die(ctx, `brctl: bridge ${br}: ${errno("ENODEV")}\n`, 1);
      brDev.ageingMs = Math.round(Number(args[1] ?? "0") * 1000);
      return 0;
    default:
      if (!isBridge(brDev)) die(ctx, `brctl: bridge ${br}: ${errno("ENODEV")}\n`, 1);
      return 0;
  }
}

/** The IPv4 multicast groups a device has joined, as its `self permanent` fdb entries show them. */
function selfEntries(dev: NetDevice): string[] {
  if (!dev.adminUp || dev.kind === "loopback" || dev.kind === "tun") return [];
  // IPv6 groups (33:33:…) are left out: the model has no IPv6.
  return isBridge(dev) ? ["01:00:5e:00:00:6a", "01:00:5e:00:00:01"] : ["01:00:5e:00:00:01"];
}

function fdbState(e: FdbEntry): string {
  return e.local ? "permanent" : e.static ? "static" : "";
}

/** `bridge fdb show` lines of one device (rtnl_fdb_dump's per-device part). */
function fdbLines(dev: NetDevice, filtered: boolean): string[] {
  const lines: string[] = [];
  const devPart = filtered ? "" : `dev ${dev.name} `;
  if (dev.kind === "vxlan") {
    // vxlan_fdb_dump: the device's own remote entries, no uc/mc address list.
    for (const e of (dev as Vxlan).fdb.values()) {
      lines.push(`${formatMacAddr(e.mac)} ${devPart}dst ${formatIpv4Addr(e.dst)} self ${e.permanent ? "permanent" : ""}
`);
    }
    return lines;
  }
  const br = dev.master;
  if (br !== undefined) {
    const mine = br.entries().filter((e) => e.port === dev);
    // The kernel's fdb list is newest first.
    for (const e of mine.reverse()) lines.push(`${formatMacAddr(e.mac)} ${devPart}master ${br.name} ${fdbState(e)}\n`);
  }
  for (const m of selfEntries(dev)) lines.push(`${m} ${devPart}self permanent\n`);
  if (isBridge(dev) && !dev.entries().some((e) => e.mac === dev.mac && e.local)) {
    lines.push(`${formatMacAddr(dev.mac)} ${devPart}master ${dev.name} permanent\n`);
  }
  return lines;
}

/** `bridge …` (iproute2 6.1). */
export const bridge: Command = (ctx) => runTool(() => bridgeMain(ctx));

function bridgeMain(ctx: ProcessContext): number {
  const argv = ctx.argv.slice(1);
  let i = 0;
  let ns = ctx.netns;
  for (; i < argv.length && argv[i]!.startsWith("-"); i++) {
    const o = argv[i]!.replace(/^--/, "-");
    if (matches(o, "-Version")) {
      ctx.stdout.write("bridge utility, 6.1.0\n");
      return 0;
    }
    if (matches(o, "-netns")) {
      const name = argv[++i];
      const target = name === undefined ? undefined : ctx.host.namedNetns.get(name);
      if (target === undefined) die(ctx, `Cannot open network namespace "${name ?? "(null)"}": No such file or directory\n`, 255);
      ns = target;
    } else if (matches(o, "-help")) {
      die(ctx, BRIDGE_USAGE, 255);
    } else if (!["-s", "-d", "-o", "-t", "-c", "-p"].some((p) => matches(o, p))) {
      die(ctx, `Option "${argv[i]}" is unknown, try "bridge help".\n`, 255);
    }
  }
  const object = argv[i];
  const rest = argv.slice(i + 1);
  if (object === undefined) die(ctx, BRIDGE_USAGE, 255);
  if (matches(object, "fdb")) return bridgeFdb(ctx, ns, rest);
  if (matches(object, "link")) return bridgeLink(ctx, ns, rest);
  if (matches(object, "help")) die(ctx, BRIDGE_USAGE, 255);
  if (matches(object, "mdb") || matches(object, "vlan") || matches(object, "monitor")) return 0;
  die(ctx, `Object "${object}" is unknown, try "bridge help".\n`, 255);
}

/** `bridge fdb add|append|replace|del LLADDR dev DEV [dst IP] [self] [permanent]`: a vxlan device's own FDB. */
function bridgeFdbModify(ctx: ProcessContext, ns: NetNs, argv: string[]): number {
  const cmd = argv[0]!;
  let mac: number | undefined;
  let dev: NetDevice | undefined;
  let dst: number | undefined;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    const next = (): string => argv[++i] ?? die(ctx, 'Command line is not complete. Try option "help"\n', 255);
    if (a === "dev") {
      const name = next();
      dev = ns.deviceByName(name) ?? die(ctx, `Cannot find device "${name}"\n`, 255);
    } else if (a === "dst") {
      const t = next();
      dst = parseIpv4Addr(t) ?? die(ctx, `Invalid address "${t}"\n`, 255);
    } else if (["self", "master", "permanent", "static", "dynamic", "local", "temp", "router", "use", "extern_learn", "sticky"].includes(a)) {
      continue;
    } else if (mac === undefined) {
      mac = parseMacAddr(a) ?? die(ctx, `Invalid mac address ${a}\n`, 255);
    } else {
      die(ctx, `Unknown argument ${a}\n`, 255);
    }
  }
  if (dev === undefined || mac === undefined) die(ctx, "Device and address are required arguments.\n", 255);
  if (dev.kind !== "vxlan") die(ctx, "RTNETLINK answers: Operation not supported\n", 255);
  const vx = dev as Vxlan;
  if (matches(cmd, "del") || matches(cmd, "delete")) {
    if (!vx.fdbDelete(mac)) die(ctx, "RTNETLINK answers: No such file or directory\n", 2);
    return 0;
  }
  if (dst === undefined) die(ctx, "RTNETLINK answers: Invalid argument\n", 2);
  if (matches(cmd, "add") && vx.fdb.has(mac)) die(ctx, "RTNETLINK answers: File exists\n", 2);
  vx.fdbSet(mac, dst);
  return 0;
}

function bridgeFdb(ctx: ProcessContext, ns: NetNs, argv: string[]): number {
  const cmd = argv[0];
  if (cmd !== undefined && !matches(cmd, "show") && !matches(cmd, "list") && !matches(cmd, "lst")) {
    if (matches(cmd, "help")) die(ctx, BRIDGE_FDB_USAGE, 255);
    if (["add", "append", "del", "delete", "replace"].some((c) => matches(cmd, c))) return bridgeFdbModify(ctx, ns, argv);
    if (["get", "flush"].some((c) => matches(cmd, c))) {
      die(ctx, "RTNETLINK answers: Operation not supported\n", 255);
    }
    die(ctx, `Command "${cmd}" is unknown, try "bridge fdb help".\n`, 255);
  }
  let dev: NetDevice | undefined;
  let br: Bridge | undefined;
  let dynamicOnly = false;
  const args = argv.slice(1);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = (): string => args[++i] ?? die(ctx, 'Command line is not complete. Try option "help"\n', 255);
    if (a === "dev" || a === "brport") {
      const name = next();
      dev = ns.deviceByName(name) ?? die(ctx, `Cannot find device "${name}"\n`, 255);
    } else if (a === "br") {
      const name = next();
      const d = ns.deviceByName(name);
      if (!isBridge(d)) die(ctx, `Cannot find bridge device "${name}"\n`, 255);
      br = d;
    } else if (a === "vlan" || a === "state") {
      next();
    } else if (a === "dynamic") {
      dynamicOnly = true;
    } else {
      die(ctx, `Unknown argument ${a}\n`, 255);
    }
  }
  let lines: string[] = [];
  for (const d of ns.devices()) {
    if (dev !== undefined && d !== dev) continue;
    if (br !== undefined && d !== br && d.master !== br) continue;
    lines.push(...fdbLines(d, dev !== undefined));
  }
  if (dynamicOnly) lines = lines.filter((l) => !l.endsWith("permanent\n") && !l.endsWith("static\n"));
  ctx.stdout.write(lines.join(""));
  return 0;
}

function bridgeLink(ctx: ProcessContext, ns: NetNs, argv: string[]): number {
  const cmd = argv[0];
  if (cmd !== undefined && !matches(cmd, "show") && !matches(cmd, "list") && !matches(cmd, "lst")) {
    if (matches(cmd, "help")) die(ctx, BRIDGE_LINK_USAGE, 255);
    if (matches(cmd, "set") || matches(cmd, "change")) return bridgeLinkSet(ctx, ns, argv.slice(1));
    die(ctx, `Command "${cmd}" is unknown, try "bridge link help".\n`, 255);
  }
  let dev: NetDevice | undefined;
  const args = argv.slice(1);
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "dev") {
      const name = args[++i] ?? die(ctx, 'Command line is not complete. Try option "help"\n', 255);
      dev = ns.deviceByName(name) ?? die(ctx, `Cannot find device "${name}"\n`, 255);
    } else die(ctx, `Unknown argument ${args[i]}\n`, 255);
  }
  let out = "";
  for (const d of ns.devices()) {
    const master = d.master;
    if (master === undefined || (dev !== undefined && d !== dev)) continue;
    let name = d.name;
    let mdown = false;
    if (d.iflink !== d.ifindex) {
      const local = ns.deviceByIndex(d.iflink);
      name += `@${local?.name ?? `if${d.iflink}`}`;
      mdown = local !== undefined && !local.adminUp;
    }
    out += `${d.ifindex}: ${name}: ${linkFlags(ifFlags(d), mdown, "gnu")}mtu ${d.mtu} master ${master.name} state ${portState(d)} priority 32 cost ${portCost(d)} \n`;
  }
  ctx.stdout.write(out);
  return 0;
}

function bridgeLinkSet(ctx: ProcessContext, ns: NetNs, args: string[]): number {
  let dev: NetDevice | undefined;
  let hairpin: boolean | undefined;
  let learning: boolean | undefined;
  let flood: boolean | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = (): string => args[++i] ?? die(ctx, 'Command line is not complete. Try option "help"\n', 255);
    const onOff = (): boolean => {
      const v = next();
      if (v !== "on" && v !== "off") die(ctx, `Error: argument of "${a}" must be "on" or "off", not "${v}"\n`, 255);
      return v === "on";
    };
    if (a === "dev") {
      const name = next();
      dev = ns.deviceByName(name) ?? die(ctx, `Cannot find device "${name}"\n`, 255);
    } else if (a === "hairpin") hairpin = onOff();
    else if (a === "learning") learning = onOff();
    else if (a === "flood") flood = onOff();
    else if (["guard", "fastleave", "root_block", "learning_sync", "mcast_flood", "bcast_flood", "mcast_to_unicast", "neigh_suppress", "vlan_tunnel", "isolated", "locked"].includes(a)) onOff();
    else if (["cost", "priority", "state", "mcast_router", "hwmode", "backup_port"].includes(a)) next();
    else if (a === "self" || a === "master" || a === "nobackup_port") {
      // accepted
    } else die(ctx, `Unknown argument ${a}\n`, 255);
  }
  if (dev === undefined) die(ctx, "Device is a required argument.\n", 255);
  const opts = dev.master?.ports.get(dev);
  if (opts === undefined) die(ctx, "RTNETLINK answers: Operation not supported\n", 255);
  if (hairpin !== undefined) opts.hairpin = hairpin;
  if (learning !== undefined) opts.learning = learning;
  if (flood !== undefined) opts.flood = flood;
  return 0;
}
