/**
 * net-tools' `route` and `arp` (and busybox's applets of the same names):
 * views of /proc/net/route (the main table) and /proc/net/arp (the
 * neighbour table, NOARP entries left out), plus adding and deleting
 * routes and ARP entries.
 */
import { KernelError, type NetDevice, type Neighbour, type Route, RT_TABLE_MAIN } from "@kemu/kernel";
import { formatIpv4Addr, formatMacAddr, prefixMask } from "@kemu/wire";
import type { Command, ProcessContext } from "../process.ts";
import { BUSYBOX_BANNER, bytesToMac, die, maskToLen, parseInetLoose, parseLlAddr, runTool } from "./_net.ts";
import { BUSYBOX_ARP_USAGE, BUSYBOX_ROUTE_USAGE } from "./ip_usage.ts";

const RTF = { UP: 0x1, GATEWAY: 0x2, HOST: 0x4, REJECT: 0x200 } as const;

/** The routes /proc/net/route lists: the main table without broadcast routes. */
function procRoutes(ctx: ProcessContext): Route[] {
  return ctx.netns.ipv4.routes.list(RT_TABLE_MAIN).filter((r) => r.type !== "broadcast");
}

function rtFlags(r: Route): number {
  let f = RTF.UP;
  if (r.type === "unreachable" || r.type === "prohibit") f |= RTF.REJECT;
  if (r.gateway !== undefined) f |= RTF.GATEWAY;
  if (r.dstLen === 32) f |= RTF.HOST;
  return f;
}

function flagText(flags: number): string {
  if (flags & RTF.REJECT) return "!";
  let t = "U";
  if (flags & RTF.GATEWAY) t += "G";
  if (flags & RTF.HOST) t += "H";
  return t;
}

/** INET_rresolve for a destination without -n: 0.0.0.0/0 is "default", /etc/networks names link-local. */
function destName(r: Route, numeric: boolean): string {
  if (!numeric && r.dst === 0 && r.dstLen === 0) return "default";
  if (!numeric && r.dst === 0xa9fe0000 && r.dstLen !== 32) return "link-local";
  return formatIpv4Addr(r.dst);
}

function routeTable(ctx: ProcessContext, numeric: boolean, extended: boolean): string {
  const bb = ctx.flavour === "busybox";
  let out = "Kernel IP routing table\n";
  out += extended
    ? "Destination     Gateway         Genmask         Flags Metric Ref    Use Iface    MSS   Window irtt\n"
    : "Destination     Gateway         Genmask         Flags Metric Ref    Use Iface\n";
  for (const r of procRoutes(ctx)) {
    const flags = rtFlags(r);
    const dest = destName(r, numeric).padEnd(15);
    const mask = formatIpv4Addr(prefixMask(r.dstLen)).padEnd(15);
    const gw = r.gateway === undefined ? (bb && !numeric ? "*" : "0.0.0.0") : formatIpv4Addr(r.gateway);
    const iface = r.dev?.name ?? "*";
    if (bb) {
      out += `${dest.slice(0, 15)} ${gw.padEnd(15)} ${mask.padEnd(16)}${flagText(flags).padEnd(6)}${String(r.metric).padEnd(6)} ${"0".padEnd(2)} ${"0".padStart(7)} ${iface}\n`;
      continue;
    }
    if (flags & RTF.REJECT) {
      out += extended
        ? `${dest} -               ${mask} ${flagText(flags).padEnd(5)} ${String(r.metric).padEnd(6)} -  ${"0".padStart(7)} -        -     -      -\n`
        : `${dest} -               ${mask} ${flagText(flags).padEnd(5)} ${String(r.metric).padEnd(6)} -  ${"0".padStart(7)} -\n`;
    } else if (extended) {
      out += `${dest} ${gw.padEnd(15)} ${mask} ${flagText(flags).padEnd(5)} ${String(r.metric).padEnd(6)} ${"0".padEnd(3)} ${"0".padStart(6)} ${iface.slice(0, 6).padEnd(6)}   ${"0".padEnd(5)} ${"0".padEnd(6)} 0\n`;
    } else {
      out += `${dest} ${gw.padEnd(15)} ${mask} ${flagText(flags).padEnd(5)} ${String(r.metric).padEnd(6)} ${"0".padEnd(2)} ${"0".padStart(7)} ${iface}\n`;
    }
  }
  return out;
}

/** `route …` */
export const route: Command = (ctx) => runTool(() => routeMain(ctx));

function routeMain(ctx: ProcessContext): number {
  const bb = ctx.flavour === "busybox";
  const argv = ctx.argv.slice(1);
  let numeric = false;
  let extended = false;
  let i = 0;
  for (; i < argv.length && argv[i]!.startsWith("-") && !["-net", "-host"].includes(argv[i]!); i++) {
    const o = argv[i]!;
    if (o === "-A") {
      i++;
      continue;
    }
    if (o === "--numeric") numeric = true;
    else if (o === "--extend") extended = true;
    else if (o === "--help" || o === "-h") {
      if (bb) die(ctx, `${BUSYBOX_BANNER}\n\n${BUSYBOX_ROUTE_USAGE}`, 1);
      ctx.stdout.write(NET_TOOLS_ROUTE_USAGE);
      return 0;
    } else {
      for (const c of o.slice(1)) {
        if (c === "n") numeric = true;
        else if (c === "e") extended = !bb;
        else if (c === "v" || c === "F" || c === "4") {
          // verbose / FIB (the default) / inet
        } else if (bb) die(ctx, `route: invalid option -- '${c}'\n${BUSYBOX_BANNER}\n\n${BUSYBOX_ROUTE_USAGE}`, 1);
        else {
          ctx.stderr.write(NET_TOOLS_ROUTE_USAGE);
          return 3;
        }
      }
    }
  }
  const action = argv[i];
  if (action === undefined) {
    ctx.stdout.write(routeTable(ctx, numeric, extended));
    return 0;
  }
  if (action !== "add" && action !== "del") {
    if (bb) die(ctx, `${BUSYBOX_BANNER}\n\n${BUSYBOX_ROUTE_USAGE}`, 1);
    ctx.stderr.write(NET_TOOLS_ROUTE_USAGE);
    return 3;
  }
  return setRoute(ctx, action, argv.slice(i + 1));
}

/** `route add|del [-net|-host] TARGET [netmask M] [gw G] [metric N] [reject] [[dev] IF]`. */
function setRoute(ctx: ProcessContext, action: "add" | "del", args: string[]): number {
  const bb = ctx.flavour === "busybox";
  const usage = (): never => {
    if (bb) die(ctx, `${BUSYBOX_BANNER}\n\n${BUSYBOX_ROUTE_USAGE}`, 1);
    die(ctx, NET_TOOLS_ROUTE_USAGE, 3);
  };
  let host = false;
  let k = 0;
  if (args[k] === "-net" || args[k] === "-host") host = args[k++] === "-host";
  const target = args[k++];
  if (target === undefined) return usage();
  let dst: number | undefined;
  let len = host ? 32 : undefined;
  if (target === "default") {
    dst = 0;
    len = 0;
  } else {
    const slash = target.indexOf("/");
    dst = parseInetLoose(slash < 0 ? target : target.slice(0, slash));
    if (slash >= 0) len = Number(target.slice(slash + 1));
  }
  if (dst === undefined) {
    if (bb) die(ctx, `route: resolving ${target}\n`, 1);
    die(ctx, `${target}: Unknown host\n`, 6);
  }
  let gateway: number | undefined;
  let metric: number | undefined;
  let devName: string | undefined;
  let reject = false;
  while (k < args.length) {
    const a = args[k++]!;
    const v = () => args[k++] ?? usage();
    if (a === "netmask") {
      const m = parseInetLoose(v());
      const l = m === undefined ? undefined : maskToLen(m);
      if (l === undefined) {
        if (bb) die(ctx, `route: bogus netmask\n`, 1);
        die(ctx, `route: bogus netmask ${args[k - 1]}\n`, 3);
      }
      len = l;
    } else if (a === "gw" || a === "gateway") {
      const g = v();
      gateway = parseInetLoose(g);
      if (gateway === undefined) die(ctx, `${g}: Unknown host\n`, bb ? 1 : 6);
    } else if (a === "metric") {
      metric = Number(v());
    } else if (a === "mss" || a === "window" || a === "irtt" || a === "mtu") {
      v();
    } else if (a === "reject") {
      reject = true;
    } else if (a === "mod" || a === "dyn" || a === "reinstate") {
      // flags the kernel ignores
    } else if (a === "dev" || a === "device") {
      devName = v();
    } else if (devName === undefined && k === args.length) {
      devName = a;
    } else usage();
  }
  len ??= 32;
  if (((dst & ~prefixMask(len)) >>> 0) !== 0) die(ctx, "route: netmask doesn't match route address\n", bb ? 1 : 3);
  let dev: NetDevice | undefined;
  const ioctl = action === "add" ? "SIOCADDRT" : "SIOCDELRT";
  const sockErr = (text: string): never => die(ctx, bb ? `route: ${ioctl}: ${text}\n` : `${ioctl}: ${text}\n`, bb ? 1 : 7);
  if (devName !== undefined) {
    dev = ctx.netns.deviceByName(devName);
    if (dev === undefined) sockErr("No such device");
  }
  const ns = ctx.netns;
  if (action === "del") {
    const hit = ns.ipv4.routes
      .list(RT_TABLE_MAIN)
      .find(
        (r) =>
          r.dst === dst &&
          r.dstLen === len &&
          (gateway === undefined || r.gateway === gateway) &&
          (dev === undefined || r.dev === dev) &&
          (metric === undefined || r.metric === metric),
      );
    if (hit === undefined) return sockErr("No such process");
    ns.ipv4.routes.delete(hit);
    return 0;
  }
  try {
    ns.addRoute({
      dst,
      dstLen: len,
      gateway,
      dev,
      type: reject ? "unreachable" : "unicast",
      metric,
      scope: reject || gateway !== undefined ? "universe" : "link",
    });
  } catch (err) {
    if (!(err instanceof KernelError)) throw err;
    sockErr(err.text);
  }
  return 0;
}

/** NUD_VALID: states with a usable link-layer address (ATF_COM). */
function complete(n: Neighbour): boolean {
  return n.mac !== undefined && ["PERMANENT", "NOARP", "REACHABLE", "PROBE", "STALE", "DELAY"].includes(n.state);
}

/** /proc/net/arp's entries (NOARP ones are skipped, as neigh_seq does). */
function procArp(ctx: ProcessContext): Neighbour[] {
  return ctx.netns.ipv4.neigh.list().filter((n) => n.state !== "NOARP");
}

/** `arp …` */
export const arp: Command = (ctx) => runTool(() => arpMain(ctx));

function arpMain(ctx: ProcessContext): number {
  const bb = ctx.flavour === "busybox";
  const argv = ctx.argv.slice(1);
  let bsd = bb;
  let device: string | undefined;
  let mode: "show" | "set" | "del" = "show";
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--help" || a === "-h") {
      if (bb) die(ctx, `${BUSYBOX_BANNER}\n\n${BUSYBOX_ARP_USAGE}`, 1);
      ctx.stdout.write(NET_TOOLS_ARP_USAGE);
      return 0;
    }
    if (a === "-i" || a === "--device") {
      device = argv[++i];
      continue;
    }
    if (a === "-H" || a === "-t" || a === "-A" || a === "-p") {
      i++;
      continue;
    }
    if (a.startsWith("-") && a.length > 1) {
      for (const c of a.slice(1)) {
        if (c === "a") bsd = true;
        else if (c === "e") bsd = bb;
        else if (c === "n" || c === "v") {
          // names never resolve in the model
        } else if (c === "s") mode = "set";
        else if (c === "d") mode = "del";
        else if (c === "D") {
          // read the address from a device: unsupported below
        } else if (bb) die(ctx, `arp: invalid option -- '${c}'\n${BUSYBOX_BANNER}\n\n${BUSYBOX_ARP_USAGE}`, 1);
        else {
          ctx.stderr.write(NET_TOOLS_ARP_USAGE);
          return 3;
        }
      }
      continue;
    }
    rest.push(a);
  }
  const ns = ctx.netns;
  if (mode === "set") {
    const [hostText, macText] = rest;
    if (hostText === undefined || macText === undefined) {
      if (bb) die(ctx, `${BUSYBOX_BANNER}\n\n${BUSYBOX_ARP_USAGE}`, 1);
      die(ctx, NET_TOOLS_ARP_USAGE, 3);
    }
    const addr = parseInetLoose(hostText);
    if (addr === undefined) die(ctx, bb ? `arp: bad address '${hostText}'\n` : `${hostText}: Unknown host\n`, bb ? 1 : 255);
    const bytes = parseLlAddr(macText);
    if (bytes === undefined || bytes.length !== 6) die(ctx, bb ? `arp: invalid hardware address\n` : "arp: invalid hardware address\n", bb ? 1 : 255);
    const route = ns.ipv4.routes.lookup(addr);
    const dev = device !== undefined ? ns.deviceByName(device) : route?.dev;
    if (dev === undefined) die(ctx, bb ? "arp: SIOCSARP: Network is unreachable\n" : "SIOCSARP: Network is unreachable\n", bb ? 1 : 255);
    ns.ipv4.neigh.set(dev, addr, bytesToMac(bytes), rest.includes("temp") ? "REACHABLE" : "PERMANENT");
    return 0;
  }
  if (mode === "del") {
    const hostText = rest[0];
    if (hostText === undefined) {
      if (bb) die(ctx, `${BUSYBOX_BANNER}\n\n${BUSYBOX_ARP_USAGE}`, 1);
      die(ctx, NET_TOOLS_ARP_USAGE, 3);
    }
    const addr = parseInetLoose(hostText);
    if (addr === undefined) die(ctx, bb ? `arp: bad address '${hostText}'\n` : `${hostText}: Unknown host\n`, bb ? 1 : 255);
    const hits = procArp(ctx).filter((n) => n.addr === addr && (device === undefined || n.dev.name === device));
    if (hits.length === 0) {
      if (bb) die(ctx, "arp: SIOCDARP(priv): No such device or address\n", 1);
      ctx.stdout.write(`No ARP entry for ${hostText}\n`);
      return 255;
    }
    for (const n of hits) ns.ipv4.neigh.delete(n.dev, n.addr);
    return 0;
  }
  const hostText = rest[0];
  let host: number | undefined;
  if (hostText !== undefined) {
    host = parseInetLoose(hostText);
    if (host === undefined) die(ctx, bb ? `arp: bad address '${hostText}'\n` : `${hostText}: Unknown host\n`, 255);
  }
  const all = procArp(ctx);
  const shown = all.filter((n) => (host === undefined || n.addr === host) && (device === undefined || n.dev.name === device));
  let out = "";
  shown.forEach((n, idx) => {
    const ip = formatIpv4Addr(n.addr);
    const com = complete(n);
    const perm = n.state === "PERMANENT";
    if (bsd) {
      out += `? (${ip}) at `;
      out += com ? `${formatMacAddr(n.mac!)} [ether] ` : "<incomplete> ";
      if (bb) out += `${perm ? "PERM" : ""} on ${n.dev.name}\n`;
      else out += `${perm ? "PERM " : ""}on ${n.dev.name}\n`;
      return;
    }
    if (idx === 0) out += "Address                  HWtype  HWaddress           Flags Mask            Iface\n";
    const flags = `${com ? "C" : ""}${perm ? "M" : ""}`;
    out += `${ip.padEnd(23)}  ${(com ? "ether" : "").padEnd(8)}${(com ? formatMacAddr(n.mac!) : "(incomplete)").padEnd(20)}${flags.padEnd(6)}${"".padEnd(15)} ${n.dev.name}\n`;
  });
  if (shown.length === 0) {
    if (bb) {
      if (host !== undefined || device !== undefined) out += `No match found in ${all.length} entries\n`;
    } else if (host !== undefined && !bsd) out += `${hostText} (${formatIpv4Addr(host)}) -- no entry\n`;
    else if (host !== undefined || device !== undefined) out += `arp: in ${all.length} entries no match found.\n`;
  }
  ctx.stdout.write(out);
  return 0;
}

/** net-tools `route --help`. */
const NET_TOOLS_ROUTE_USAGE =
  "Usage: route [-nNvee] [-FC] [<AF>]           List kernel routing tables\n" +
  "       route [-v] [-FC] {add|del|flush} ...  Modify routing table for AF.\n\n" +
  "       route {-h|--help} [<AF>]              Detailed usage syntax for specified AF.\n" +
  "       route {-V|--version}                  Display version/author and exit.\n\n" +
  "        -v, --verbose            be verbose\n" +
  "        -n, --numeric            don't resolve names\n" +
  "        -e, --extend             display other/more information\n" +
  "        -F, --fib                display Forwarding Information Base (default)\n" +
  "        -C, --cache              display routing cache instead of FIB\n\n" +
  "  <AF>=Use -4, -6, '-A <af>' or '--<af>'; default: inet\n" +
  "  List of possible address families (which support routing):\n" +
  "    inet (DARPA Internet) inet6 (IPv6) ax25 (AMPR AX.25) \n" +
  "    netrom (AMPR NET/ROM) rose (AMPR ROSE) ipx (Novell IPX) \n" +
  "    ddp (Appletalk DDP) x25 (CCITT X.25) \n";

/** net-tools `arp --help`. */
const NET_TOOLS_ARP_USAGE =
  "Usage:\n" +
  "  arp [-vn]  [<HW>] [-i <if>] [-a] [<hostname>]             <-Display ARP cache\n" +
  "  arp [-v]          [-i <if>] -d  <host> [pub]               <-Delete ARP entry\n" +
  "  arp [-vnD] [<HW>] [-i <if>] -f  [<filename>]            <-Add entry from file\n" +
  "  arp [-v]   [<HW>] [-i <if>] -s  <host> <hwaddr> [temp]            <-Add entry\n" +
  "  arp [-v]   [<HW>] [-i <if>] -Ds <host> <if> [netmask <nm>] pub          <-''-\n\n" +
  "        -a                       display (all) hosts in alternative (BSD) style\n" +
  "        -e                       display (all) hosts in default (Linux) style\n" +
  "        -s, --set                set a new ARP entry\n" +
  "        -d, --delete             delete a specified entry\n" +
  "        -v, --verbose            be verbose\n" +
  "        -n, --numeric            don't resolve names\n" +
  "        -i, --device             specify network interface (e.g. eth0)\n" +
  "        -D, --use-device         read <hwaddr> from given device\n" +
  "        -A, -p, --protocol       specify protocol family\n" +
  "        -f, --file               read new entries from file or from /etc/ethers\n\n" +
  "  <HW>=Use '-H <hw>' to specify hardware address type. Default: ether\n";
