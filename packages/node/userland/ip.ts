/**
 * The `ip` command: iproute2 6.1 on hosts, busybox's applet in containers.
 * Global options and object dispatch follow ip/ip.c (keywords match by
 * prefix, in iproute2's table order, so `ip a`, `ip r`, `ip n s` work);
 * `address`, `link`, `route`, `neigh`, `netns` and `rule` are served.
 */
import type { NetNs } from "@kemu/kernel";
import { CommandNotFound } from "../host.ts";
import type { Command, ProcessContext } from "../process.ts";
import { IpArgs } from "./_ip_args.ts";
import { BUSYBOX_BANNER, die, matches, parseInteger, runTool } from "./_net.ts";
import type { IpOptions, IpView } from "./ip_format.ts";
import { ipAddrList, ipAddrModify, ipLinkAdd, ipLinkDel, ipLinkSet } from "./ip_link.ts";
import { ipNeighList, ipNeighModify, ipRouteGet, ipRouteList, ipRouteModify } from "./ip_route.ts";
import {
  BUSYBOX_IP_USAGE,
  IP_ADDR_USAGE,
  IP_LINK_USAGE,
  IP_NEIGH_USAGE,
  IP_NETNS_USAGE,
  IP_ROUTE_USAGE,
  IP_USAGE,
} from "./ip_usage.ts";

/** What `ip -V` prints. */
export const IPROUTE2_VERSION = "ip utility, iproute2-6.1.0, libbpf 1.1.2";

/** The objects of ip/ip.c's table, in its order (the first prefix match wins). */
const OBJECTS = [
  "address",
  "addrlabel",
  "maddress",
  "route",
  "rule",
  "neighbor",
  "neighbour",
  "ntable",
  "ntbl",
  "link",
  "l2tp",
  "fou",
  "ila",
  "macsec",
  "tunnel",
  "tunl",
  "tuntap",
  "tap",
  "token",
  "tcpmetrics",
  "tcp_metrics",
  "monitor",
  "xfrm",
  "mroute",
  "mrule",
  "netns",
  "netconf",
  "vrf",
  "sr",
  "nexthop",
  "mptcp",
  "ioam",
  "help",
  "stats",
];

/** The objects of busybox `ip`. */
const BUSYBOX_OBJECTS = ["address", "route", "link", "tunnel", "neigh", "rule"];

function bbUsage(ctx: ProcessContext): never {
  die(ctx, `${BUSYBOX_BANNER}\n\n${BUSYBOX_IP_USAGE}`, 1);
}

/** `ip …` */
export const ip: Command = (ctx) => runTool(() => ipMain(ctx));

async function ipMain(ctx: ProcessContext): Promise<number> {
  const bb = ctx.flavour === "busybox";
  const argv = ctx.argv.slice(1);
  const opts: IpOptions = { flavour: ctx.flavour, stats: 0, details: 0, oneline: false, brief: false, family: undefined };
  let ns: NetNs = ctx.netns;
  let all = false;
  let i = 0;
  for (; i < argv.length; i++) {
    let opt = argv[i]!;
    if (opt === "--") {
      i++;
      break;
    }
    if (!opt.startsWith("-")) break;
    if (opt.startsWith("--")) opt = opt.slice(1);
    if (bb) {
      if (opt === "-4") opts.family = "inet";
      else if (opt === "-0") opts.family = "link";
      else if (opt === "-6") opts.family = "other";
      else if (matches(opt, "-oneline") && opt.length >= 2) opts.oneline = true;
      else if (matches(opt, "-family") && opt.length >= 2) {
        const f = argv[++i];
        if (f === "inet") opts.family = "inet";
        else if (f === "link") opts.family = "link";
        else bbUsage(ctx);
      } else bbUsage(ctx);
      continue;
    }
    if (matches(opt, "-loops")) {
      if (argv[++i] === undefined) die(ctx, IP_USAGE, 255);
    } else if (matches(opt, "-family")) {
      const f = argv[++i];
      if (f === undefined || f === "help") die(ctx, IP_USAGE, 255);
      if (f === "inet") opts.family = "inet";
      else if (f === "link") opts.family = "link";
      else if (f === "inet6" || f === "mpls" || f === "bridge") opts.family = "other";
      else die(ctx, `Error: argument "${f}" is wrong: invalid protocol family\n`, 255);
    } else if (opt === "-4") {
      opts.family = "inet";
    } else if (opt === "-0") {
      opts.family = "link";
    } else if (opt === "-6" || opt === "-M" || opt === "-B") {
      // No IPv6, MPLS or bridge-family objects in the model: nothing matches.
      opts.family = "other";
    } else if (matches(opt, "-human") || matches(opt, "-human-readable") || matches(opt, "-iec") || matches(opt, "-resolve")) {
      // Numbers and names print the same in the model's small counts.
    } else if (matches(opt, "-stats") || matches(opt, "-statistics")) {
      opts.stats++;
    } else if (matches(opt, "-details")) {
      opts.details++;
    } else if (matches(opt, "-oneline")) {
      opts.oneline = true;
    } else if (matches(opt, "-timestamp") || matches(opt, "-tshort") || matches(opt, "-force") || matches(opt, "-Numeric") || opt === "-echo") {
      // Accepted.
    } else if (matches(opt, "-Version")) {
      ctx.stdout.write(`${IPROUTE2_VERSION}\n`);
      return 0;
    } else if (matches(opt, "-batch")) {
      die(ctx, IP_USAGE, 255);
    } else if (matches(opt, "-brief")) {
      opts.brief = true;
    } else if (matches(opt, "-json") || matches(opt, "-pretty")) {
      die(ctx, `Option "${opt}" is unknown, try "ip -help".\n`, 255);
    } else if (matches(opt, "-rcvbuf")) {
      i++;
    } else if (opt === "-c" || matches(opt, "-color") || opt.startsWith("-color=")) {
      // Colour is for terminals; the emulator prints plain text.
    } else if (matches(opt, "-help")) {
      die(ctx, IP_USAGE, 255);
    } else if (matches(opt, "-netns")) {
      const name = argv[++i];
      const target = name === undefined ? undefined : ctx.host.namedNetns.get(name);
      if (target === undefined) die(ctx, `Cannot open network namespace "${name ?? "(null)"}": No such file or directory\n`, 255);
      ns = target;
    } else if (matches(opt, "-all")) {
      all = true;
    } else {
      die(ctx, `Option "${opt}" is unknown, try "ip -help".\n`, 255);
    }
  }
  const rest = argv.slice(i);
  const object = rest[0];
  if (object === undefined) {
    if (bb) bbUsage(ctx);
    die(ctx, IP_USAGE, 255);
  }
  const view: IpView = { ctx, ns, opts };
  const p = new IpArgs(ctx, rest.slice(1), ctx.flavour);
  if (bb) {
    const obj = BUSYBOX_OBJECTS.find((o) => matches(object, o));
    if (obj === undefined) bbUsage(ctx);
    return busyboxObject(p, view, obj);
  }
  const obj = OBJECTS.find((o) => matches(object, o));
  switch (obj) {
    case "address":
      return doAddr(p, view);
    case "route":
      return doRoute(p, view);
    case "rule":
      return doRule(p);
    case "neighbor":
    case "neighbour":
      return doNeigh(p, view);
    case "link":
      return doLink(p, view);
    case "netns":
      return doNetns(p, view, all);
    case "help":
      die(ctx, IP_USAGE, 255);
    default:
      die(ctx, `Object "${object}" is unknown, try "ip help".\n`, 1);
  }
}

function unknownCommand(p: IpArgs, object: string): never {
  die(p.ctx, `Command "${p.cur}" is unknown, try "ip ${object} help".\n`, 255);
}

function doAddr(p: IpArgs, view: IpView): number {
  const c = p.cur;
  if (c === undefined) return ipAddrList(p, view, { doLink: false, flush: false });
  p.shift();
  if (matches(c, "add")) return ipAddrModify(p, view, "add");
  if (matches(c, "change") || c === "chg" || matches(c, "replace")) return ipAddrModify(p, view, "replace");
  if (matches(c, "delete")) return ipAddrModify(p, view, "del");
  if (matches(c, "list") || matches(c, "show") || matches(c, "lst")) return ipAddrList(p, view, { doLink: false, flush: false });
  if (matches(c, "flush")) return ipAddrList(p, view, { doLink: false, flush: true });
  if (matches(c, "help")) die(p.ctx, IP_ADDR_USAGE, 255);
  die(p.ctx, `Command "${c}" is unknown, try "ip address help".\n`, 255);
}

function doLink(p: IpArgs, view: IpView): number {
  const c = p.cur;
  if (c === undefined) return ipAddrList(p, view, { doLink: true, flush: false });
  p.shift();
  if (matches(c, "add")) return ipLinkAdd(p, view);
  if (matches(c, "set") || matches(c, "change")) return ipLinkSet(p, view);
  if (matches(c, "replace")) return ipLinkSet(p, view);
  if (matches(c, "delete")) return ipLinkDel(p, view);
  if (matches(c, "show") || matches(c, "lst") || matches(c, "list")) return ipAddrList(p, view, { doLink: true, flush: false });
  if (matches(c, "help")) die(p.ctx, IP_LINK_USAGE, 255);
  die(p.ctx, `Command "${c}" is unknown, try "ip link help".\n`, 255);
}

function doRoute(p: IpArgs, view: IpView): number {
  const c = p.cur;
  if (c === undefined) return ipRouteList(p, view, false);
  p.shift();
  if (matches(c, "add")) return ipRouteModify(p, view, "add");
  if (matches(c, "change") || c === "chg" || matches(c, "replace") || matches(c, "prepend") || matches(c, "append")) {
    return ipRouteModify(p, view, matches(c, "prepend") || matches(c, "append") ? "add" : "replace");
  }
  if (matches(c, "test")) return 0;
  if (matches(c, "delete")) return ipRouteModify(p, view, "del");
  if (matches(c, "list") || matches(c, "show") || matches(c, "lst")) return ipRouteList(p, view, false);
  if (matches(c, "get")) return ipRouteGet(p, view);
  if (matches(c, "flush")) return ipRouteList(p, view, true);
  if (matches(c, "help")) die(p.ctx, IP_ROUTE_USAGE, 255);
  die(p.ctx, `Command "${c}" is unknown, try "ip route help".\n`, 255);
}

function doNeigh(p: IpArgs, view: IpView): number {
  const c = p.cur;
  if (c === undefined) return ipNeighList(p, view, false);
  p.shift();
  if (matches(c, "add")) return ipNeighModify(p, view, "add");
  if (matches(c, "change") || c === "chg") return ipNeighModify(p, view, "change");
  if (matches(c, "replace")) return ipNeighModify(p, view, "replace");
  if (matches(c, "delete")) return ipNeighModify(p, view, "del");
  if (matches(c, "show") || matches(c, "lst") || matches(c, "list")) return ipNeighList(p, view, false);
  if (matches(c, "flush")) return ipNeighList(p, view, true);
  if (matches(c, "help")) die(p.ctx, IP_NEIGH_USAGE, 255);
  die(p.ctx, `Command "${c}" is unknown, try "ip neigh help".\n`, 255);
}

/** `ip rule`: the model has the three default rules and no policy routing. */
function doRule(p: IpArgs): number {
  const bb = p.flavour === "busybox";
  const c = p.cur;
  if (c === undefined || matches(c, "list") || matches(c, "show") || matches(c, "lst")) {
    const end = bb ? " \n" : "\n";
    p.ctx.stdout.write(`0:\tfrom all lookup local${end}32766:\tfrom all lookup main${end}32767:\tfrom all lookup default${end}`);
    return 0;
  }
  if (matches(c, "add") || matches(c, "delete") || matches(c, "flush") || matches(c, "replace") || matches(c, "change")) {
    p.rtnlText("Operation not supported");
  }
  if (bb) die(p.ctx, `ip: invalid argument '${c}' to 'ip'\n`, 1);
  unknownCommand(p, "rule");
}

function busyboxObject(p: IpArgs, view: IpView, obj: string): number {
  const c = p.cur;
  const invalid = (code: number): never => die(p.ctx, `ip: invalid argument '${c}' to 'ip'\n`, code);
  switch (obj) {
    case "address": {
      if (c === undefined) return ipAddrList(p, view, { doLink: false, flush: false });
      p.shift();
      if (matches(c, "add")) return ipAddrModify(p, view, "add");
      if (matches(c, "change") || c === "chg" || matches(c, "replace")) return ipAddrModify(p, view, "replace");
      if (matches(c, "delete")) return ipAddrModify(p, view, "del");
      if (matches(c, "list") || matches(c, "show") || matches(c, "lst")) return ipAddrList(p, view, { doLink: false, flush: false });
      if (matches(c, "flush")) return ipAddrList(p, view, { doLink: false, flush: true });
      return invalid(1);
    }
    case "link": {
      if (c === undefined) return ipAddrList(p, view, { doLink: true, flush: false });
      p.shift();
      if (matches(c, "add")) return ipLinkAdd(p, view);
      if (matches(c, "delete")) return ipLinkDel(p, view);
      if (matches(c, "set")) return ipLinkSet(p, view);
      if (matches(c, "show") || matches(c, "lst") || matches(c, "list")) return ipAddrList(p, view, { doLink: true, flush: false });
      return invalid(2);
    }
    case "route": {
      if (c === undefined) return ipRouteList(p, view, false);
      p.shift();
      if (matches(c, "add") || matches(c, "append") || matches(c, "prepend")) return ipRouteModify(p, view, "add");
      if (matches(c, "change") || matches(c, "replace")) return ipRouteModify(p, view, "replace");
      if (matches(c, "delete")) return ipRouteModify(p, view, "del");
      if (matches(c, "list") || matches(c, "show") || matches(c, "lst")) return ipRouteList(p, view, false);
      if (matches(c, "get")) return ipRouteGet(p, view);
      if (matches(c, "flush")) return ipRouteList(p, view, true);
      if (matches(c, "test")) return 0;
      return invalid(1);
    }
    case "neigh": {
      if (c === undefined) return ipNeighList(p, view, false);
      p.shift();
      if (matches(c, "show") || matches(c, "list") || matches(c, "lst")) return ipNeighList(p, view, false);
      if (matches(c, "flush")) return ipNeighList(p, view, true);
      return invalid(1);
    }
    case "rule":
      return doRule(p);
    default:
      die(p.ctx, "ip: SIOCGETTUNNEL: No such device\n", 1);
  }
}

function invalidName(name: string): boolean {
  return name.includes("/") || name === "." || name === "..";
}

async function doNetns(p: IpArgs, view: IpView, all: boolean): Promise<number> {
  const { ctx } = p;
  const named = ctx.host.namedNetns;
  const c = p.cur;
  const list = () => {
    let out = "";
    for (const [name, target] of named) {
      const id = view.ns.peerNsid(target);
      out += id === undefined ? `${name}\n` : `${name} (id: ${id})\n`;
    }
    ctx.stdout.write(out);
    return 0;
  };
  if (c === undefined) return list();
  const rest = p.rest();
  if (!all && rest.length > 1 && invalidName(rest[1]!)) die(ctx, `Invalid netns name "${rest[1]}"\n`, 255);
  p.shift();
  const name = p.cur;
  if (matches(c, "list") || matches(c, "show") || matches(c, "lst")) return list();
  if (matches(c, "list-id")) {
    let out = "";
    for (const target of ctx.host.kernel.namespaces()) {
      const id = view.ns.peerNsid(target);
      if (id === undefined) continue;
      const n = [...named].find(([, t]) => t === target)?.[0];
      out += n === undefined ? `nsid ${id} \n` : `nsid ${id} (iproute2 netns name: ${n})\n`;
    }
    ctx.stdout.write(out);
    return 0;
  }
  if (matches(c, "help")) die(ctx, IP_NETNS_USAGE, 255);
  if (matches(c, "add") || matches(c, "attach")) {
    if (name === undefined) die(ctx, "No netns name specified\n", 1);
    if (named.has(name)) die(ctx, `Cannot create namespace file "/run/netns/${name}": File exists\n`, 1);
    named.set(name, ctx.host.kernel.createNetns());
    return 0;
  }
  if (matches(c, "set")) {
    if (name === undefined) die(ctx, "No netns name specified\n", 1);
    p.shift();
    const idText = p.cur;
    if (idText === undefined) die(ctx, "No nsid specified\n", 1);
    const target = named.get(name);
    if (target === undefined) die(ctx, `Cannot open network namespace "${name}": No such file or directory\n`, 1);
    if (idText === "auto") {
      view.ns.nsidOf(target);
      return 0;
    }
    const id = parseInteger(idText);
    if (id === undefined || id < 0) die(ctx, `Invalid "netnsid" value\n`, 1);
    if (!view.ns.setNsid(target, id)) p.rtnlText("File exists");
    return 0;
  }
  if (matches(c, "delete")) {
    if (name === undefined && !all) die(ctx, "No netns name specified\n", 1);
    const names = name === undefined ? [...named.keys()] : [name];
    for (const n of names) {
      const target = named.get(n);
      if (target === undefined) die(ctx, `Cannot remove namespace file "/run/netns/${n}": No such file or directory\n`, 1);
      named.delete(n);
      destroyIfUnused(ctx, target);
    }
    return 0;
  }
  if (matches(c, "identify")) {
    const names = [...named].filter(([, t]) => t === ctx.netns).map(([n]) => n);
    ctx.stdout.write(`${names.join(" ")}\n`);
    return 0;
  }
  if (matches(c, "pids")) {
    if (name === undefined) die(ctx, "No netns name specified\n", 1);
    const target = named.get(name);
    if (target === undefined) die(ctx, `Cannot open network namespace "${name}": No such file or directory\n`, 1);
    const pids = [...processTable(ctx)].filter(([, e]) => e.netns === target).map(([pid]) => `${pid}\n`);
    ctx.stdout.write(pids.join(""));
    return 0;
  }
  if (matches(c, "exec")) {
    if (name === undefined) die(ctx, "No netns name specified\n", 1);
    p.shift();
    const cmd = p.rest();
    if (cmd.length === 0) die(ctx, "No command specified\n", 1);
    const target = named.get(name);
    if (target === undefined) die(ctx, `Cannot open network namespace "${name}": No such file or directory\n`, 255);
    try {
      return await ctx.spawn(cmd, { netns: target });
    } catch (err) {
      if (err instanceof CommandNotFound) die(ctx, `exec of "${cmd[0]}" failed: No such file or directory\n`, 1);
      throw err;
    }
  }
  if (matches(c, "monitor")) return 0;
  die(ctx, `Command "${c}" is unknown, try "ip netns help".\n`, 255);
}

/** The host's process table, when the host offers one (the Host class does). */
function processTable(ctx: ProcessContext): ReadonlyMap<number, { netns: NetNs }> {
  return (ctx.host as { processes?: ReadonlyMap<number, { netns: NetNs }> }).processes ?? new Map();
}

/**
 * `ip netns del` only unmounts the name: the namespace dies when nothing
 * holds it any more (no other name, no process in it).
 */
function destroyIfUnused(ctx: ProcessContext, target: NetNs): void {
  if ([...ctx.host.namedNetns.values()].includes(target)) return;
  for (const e of processTable(ctx).values()) if (e.netns === target) return;
  if (target === ctx.host.kernel.root) return;
  ctx.host.kernel.destroyNetns(target);
  for (const other of ctx.host.kernel.namespaces()) other.forgetNsid(target);
}
