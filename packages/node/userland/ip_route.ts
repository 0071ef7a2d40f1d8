/**
 * `ip route` (ip/iproute.c: iproute_modify, iproute_list_flush_or_save,
 * iproute_get) and `ip neigh` (ip/ipneigh.c) over the kernel model.
 */
import {
  KernelError,
  type NeighState,
  type NetDevice,
  type Route,
  type RouteType,
  RT_TABLE_LOCAL,
  RT_TABLE_MAIN,
} from "@kemu/kernel";
import { formatIpv4Addr, prefixMask } from "@kemu/wire";
import type { Family, IpArgs, Prefix } from "./_ip_args.ts";
import { bytesToMac, die, matches, parseLlAddr, parseU32 } from "./_net.ts";
import { formatNeigh, formatRoute, type IpView, type RouteFilter } from "./ip_format.ts";
import { IP_NEIGH_USAGE, IP_ROUTE_USAGE } from "./ip_usage.ts";

const PROTOCOLS: Record<string, number> = {
  unspec: 0,
  redirect: 1,
  kernel: 2,
  boot: 3,
  static: 4,
  gated: 8,
  ra: 9,
  mrt: 10,
  zebra: 11,
  bird: 12,
  dnrouted: 13,
  xorp: 14,
  ntk: 15,
  dhcp: 16,
  keepalived: 18,
  babel: 42,
  openr: 99,
  bgp: 186,
  isis: 187,
  ospf: 188,
  rip: 189,
  eigrp: 192,
};

/** rtnl_rtprot_a2n, answered with the name `ip route` prints back. */
function protoName(text: string): string | undefined {
  if (text in PROTOCOLS) return text;
  const n = parseU32(text);
  if (n === undefined || n > 255) return undefined;
  return Object.keys(PROTOCOLS).find((k) => PROTOCOLS[k] === n) ?? String(n);
}

/** rtnl_rttable_a2n. */
function tableId(text: string): number | undefined {
  if (text === "local") return RT_TABLE_LOCAL;
  if (text === "main") return RT_TABLE_MAIN;
  if (text === "default") return 253;
  if (text === "unspec") return 0;
  return parseU32(text);
}

/** rtnl_rtntype_a2n, for the types the model routes. */
function routeType(text: string): RouteType | "other" | undefined {
  if (text === "local") return "local";
  if (matches(text, "broadcast") || text === "brd") return "broadcast";
  if (matches(text, "prohibit")) return "prohibit";
  if (matches(text, "unreachable")) return "unreachable";
  if (matches(text, "blackhole")) return "blackhole";
  if (matches(text, "unicast")) return "unicast";
  if (text === "nat" || text === "throw" || matches(text, "anycast") || matches(text, "multicast") || matches(text, "xresolve")) {
    return "other";
  }
  return undefined;
}

type Scope = Route["scope"];

/** rtnl_rtscope_a2n for routes. */
function routeScope(text: string): Scope | "site" | undefined {
  if (text === "host") return "host";
  if (text === "link") return "link";
  if (text === "global" || text === "universe") return "universe";
  if (text === "site") return "site";
  const n = parseU32(text);
  if (n === 254) return "host";
  if (n === 253) return "link";
  if (n === 0) return "universe";
  return undefined;
}

function usage(p: IpArgs, text: string): never {
  die(p.ctx, text, 255);
}

/** `ip route add|change|replace|append|prepend|del …`. */
export function ipRouteModify(p: IpArgs, view: IpView, cmd: "add" | "replace" | "del"): number {
  const bb = p.flavour === "busybox";
  let family: Family = view.opts.family === "inet" ? "inet" : "any";
  let dst: Prefix | undefined;
  let gateway: number | undefined;
  let devName: string | undefined;
  let prefsrc: number | undefined;
  let metric: number | undefined;
  let table: number | undefined;
  let proto: string | undefined;
  let scope: Scope | "site" | undefined;
  let type: RouteType | "other" | undefined;
  let onlink = false;
  for (; p.cur !== undefined; p.shift()) {
    const a = p.cur;
    if (a === "src") {
      prefsrc = p.addr(p.next(), family);
      family = "inet";
    } else if (a === "via") {
      if (gateway !== undefined) p.invarg("use nexthop syntax to specify multiple via\n", a);
      let v = p.next();
      if (v === "inet") v = p.next();
      gateway = p.addr(v, family);
      family = "inet";
    } else if (a === "from") {
      p.prefix(p.next(), family);
    } else if (a === "tos" || matches(a, "dsfield") || a === "expires" || matches(a, "realms") || a === "pref" || a === "ttl-propagate") {
      p.next();
    } else if (matches(a, "metric") || matches(a, "priority") || a === "preference") {
      const v = p.next();
      metric = parseU32(v);
      if (metric === undefined) p.invarg('"metric" value is invalid\n', v);
    } else if (a === "scope") {
      const v = p.next();
      scope = routeScope(v);
      if (scope === undefined) p.invarg('invalid "scope" value\n', v);
    } else if (["mtu", "hoplimit", "advmss", "rtt", "rto_min", "rttvar"].includes(a) || ["reordering", "window", "cwnd", "initcwnd", "initrwnd", "ssthresh", "quickack", "congctl", "fastopen_no_cookie"].some((k) => matches(a, k))) {
      let v = p.next();
      if (v === "lock") v = p.next();
    } else if (matches(a, "features")) {
      p.next();
    } else if (a === "onlink") {
      onlink = true;
    } else if (a === "nexthop" || a === "nhid" || a === "encap") {
      p.rtnl(new KernelError("EOPNOTSUPP"));
    } else if (matches(a, "protocol")) {
      const v = p.next();
      proto = protoName(v);
      if (proto === undefined) p.invarg('"protocol" value is invalid\n', v);
    } else if (matches(a, "table")) {
      const v = p.next();
      table = tableId(v);
      if (table === undefined) p.invarg('"table" value is invalid\n', v);
    } else if (a === "dev" || a === "oif") {
      devName = p.next();
    } else {
      let v = a;
      if (v === "to") v = p.next();
      if (!/^[0-9]/.test(v)) {
        const t = routeType(v);
        if (t !== undefined) {
          type = t;
          v = p.next();
        }
      }
      if (matches(v, "help")) usage(p, IP_ROUTE_USAGE);
      if (dst !== undefined) p.duparg2("to", v);
      dst = p.prefix(v, family);
      family = "inet";
    }
  }
  if (dst === undefined) {
    if (bb) die(p.ctx, "ip: need \"to\"\n", 1);
    usage(p, IP_ROUTE_USAGE);
  }
  let dev: NetDevice | undefined;
  if (devName !== undefined) dev = view.ns.deviceByName(devName) ?? p.nodev(devName);
  if (type === "other") p.rtnl(new KernelError("EOPNOTSUPP"));
  const rtype: RouteType = type ?? "unicast";
  if (table === undefined) table = rtype === "local" || rtype === "broadcast" ? RT_TABLE_LOCAL : RT_TABLE_MAIN;
  if (scope === "site") p.rtnl(new KernelError("EINVAL"));
  if (cmd === "del") {
    const spec = { dst: dst.addr, dstLen: dst.len, gateway, dev, metric, table };
    const hit = view.ns.ipv4.routes
      .list(table)
      .find(
        (r) =>
          r.dst === spec.dst &&
          r.dstLen === spec.dstLen &&
          (type === undefined || r.type === type) &&
          (gateway === undefined || r.gateway === gateway) &&
          (dev === undefined || r.dev === dev) &&
          (metric === undefined || r.metric === metric) &&
          (proto === undefined || r.proto === proto) &&
          (scope === undefined || r.scope === scope),
      );
    if (hit === undefined) p.rtnl(new KernelError("ESRCH"));
    view.ns.ipv4.routes.delete(hit);
    return 0;
  }
  if (((dst.addr & ~prefixMask(dst.len)) >>> 0) !== 0) p.rtnl(new KernelError("EINVAL", "Invalid prefix for given prefix length."));
  scope ??=
    rtype === "local" ? "host" : rtype === "broadcast" ? "link" : rtype === "unicast" && gateway === undefined ? "link" : "universe";
  if (rtype === "unicast" || rtype === "local") {
    if (onlink && dev === undefined) p.rtnl(new KernelError("EINVAL", "Nexthop device required for onlink."));
    if (dev === undefined && gateway === undefined) p.rtnl(new KernelError("ENODEV"));
  }
  if (prefsrc !== undefined && rtype !== "local" && !view.ns.isLocalAddress(prefsrc)) {
    p.rtnl(new KernelError("EINVAL", "Invalid prefsrc address."));
  }
  const spec = {
    dst: dst.addr,
    dstLen: dst.len,
    gateway,
    dev,
    type: rtype,
    table,
    proto: proto ?? "boot",
    scope,
    prefsrc,
    metric,
    onlink,
  };
  p.kernel(() => view.ns.addRoute(spec, { replace: cmd === "replace" }));
  return 0;
}

interface ListFilter {
  table: number;
  /** "other" is a type the model never has (nat, multicast…): it selects nothing. */
  type: RouteType | "other" | undefined;
  proto: string | undefined;
  scope: Scope | undefined;
  oif: NetDevice | undefined;
  via: Prefix | undefined;
  src: Prefix | undefined;
  metric: number | undefined;
  /** `root P`: routes at least as long as P inside it. */
  root: Prefix | undefined;
  /** `match P`: routes that cover P. */
  match: Prefix | undefined;
  cache: boolean;
}

function covers(r: Route, p: Prefix): boolean {
  return ((p.addr & prefixMask(r.dstLen)) >>> 0) === r.dst;
}

function inside(r: Route, p: Prefix): boolean {
  return ((r.dst & prefixMask(p.len)) >>> 0) === ((p.addr & prefixMask(p.len)) >>> 0);
}

function routeMatches(f: ListFilter, r: Route): boolean {
  if (f.table !== 0 && r.table !== f.table) return false;
  if (f.type !== undefined && r.type !== f.type) return false;
  if (f.proto !== undefined && r.proto !== f.proto) return false;
  if (f.scope !== undefined && r.scope !== f.scope) return false;
  if (f.oif !== undefined && r.dev !== f.oif) return false;
  if (f.metric !== undefined && r.metric !== f.metric) return false;
  if (f.via !== undefined && (r.gateway === undefined || ((r.gateway & prefixMask(f.via.len)) >>> 0) !== ((f.via.addr & prefixMask(f.via.len)) >>> 0))) {
    return false;
  }
  if (f.src !== undefined && (r.prefsrc === undefined || ((r.prefsrc & prefixMask(f.src.len)) >>> 0) !== ((f.src.addr & prefixMask(f.src.len)) >>> 0))) {
    return false;
  }
  if (f.root !== undefined && (r.dstLen < f.root.len || !inside(r, f.root))) return false;
  if (f.match !== undefined && (r.dstLen > f.match.len || !covers(r, f.match))) return false;
  return true;
}

/** Routes of the tables in the order a FIB dump walks them (hash bucket id & 255, then id). */
function dumpOrder(view: IpView, table: number): Route[] {
  const routes = view.ns.ipv4.routes;
  if (table !== 0) return routes.list(table);
  const ids = [...new Set([...routes.tableIds(), RT_TABLE_MAIN, RT_TABLE_LOCAL])].sort((a, b) => (a & 255) - (b & 255) || a - b);
  return ids.flatMap((id) => routes.list(id));
}

/** `ip route [show|list|flush] SELECTOR`. */
export function ipRouteList(p: IpArgs, view: IpView, flush: boolean): number {
  const bb = p.flavour === "busybox";
  const family: Family = view.opts.family === "inet" ? "inet" : "any";
  const f: ListFilter = {
    table: RT_TABLE_MAIN,
    type: undefined,
    proto: undefined,
    scope: undefined,
    oif: undefined,
    via: undefined,
    src: undefined,
    metric: undefined,
    root: undefined,
    match: undefined,
    cache: false,
  };
  if (flush && p.left === 0) {
    if (bb) die(p.ctx, "ip: flush requires arguments\n", 1);
    die(p.ctx, '"ip route flush" requires arguments.\n', 1);
  }
  let oifName: string | undefined;
  for (; p.cur !== undefined; p.shift()) {
    const a = p.cur;
    if (matches(a, "table")) {
      const v = p.next();
      const id = tableId(v);
      if (id !== undefined) f.table = id;
      else if (v === "all") f.table = 0;
      else if (v === "cache") f.cache = true;
      else if (v === "help") usage(p, IP_ROUTE_USAGE);
      else p.invarg("table id value is invalid\n", v);
    } else if (matches(a, "cached") || matches(a, "cloned")) {
      f.cache = true;
    } else if (a === "tos" || matches(a, "dsfield") || matches(a, "realms") || a === "mark" || a === "iif") {
      p.next();
    } else if (matches(a, "protocol")) {
      const v = p.next();
      if (v !== "all") {
        const pr = protoName(v);
        if (pr === undefined) p.invarg('invalid "protocol"\n', v);
        f.proto = pr;
      }
    } else if (matches(a, "scope")) {
      const v = p.next();
      if (v !== "all") {
        const s = routeScope(v);
        if (s === undefined || s === "site") p.invarg('invalid "scope"\n', v);
        f.scope = s;
      }
    } else if (matches(a, "type")) {
      const v = p.next();
      const t = routeType(v);
      if (t === undefined) p.invarg("node type value is invalid\n", v);
      f.type = t;
    } else if (a === "dev" || a === "oif") {
      oifName = p.next();
    } else if (matches(a, "metric") || matches(a, "priority") || a === "preference") {
      const v = p.next();
      const m = parseU32(v);
      if (m === undefined) p.invarg('"metric" value is invalid\n', v);
      f.metric = m;
    } else if (a === "via") {
      let v = p.next();
      if (v === "inet") v = p.next();
      f.via = p.prefix(v, family);
    } else if (a === "src") {
      f.src = p.prefix(p.next(), family);
    } else if (matches(a, "from")) {
      let v = p.next();
      if (matches(v, "root") || matches(v, "match") || matches(v, "exact")) v = p.next();
      p.prefix(v, family);
    } else {
      let v = a;
      if (matches(v, "to")) v = p.next();
      if (matches(v, "root")) {
        f.root = p.prefix(p.next(), family);
      } else if (matches(v, "match")) {
        f.match = p.prefix(p.next(), family);
      } else {
        if (matches(v, "exact")) v = p.next();
        else if (matches(v, "help")) usage(p, IP_ROUTE_USAGE);
        const pr = p.prefix(v, family);
        f.root = pr;
        f.match = pr;
      }
    }
  }
  if (oifName !== undefined) {
    f.oif = view.ns.deviceByName(oifName);
    if (f.oif === undefined) p.nodev(oifName);
  }
  if (f.cache || view.opts.family === "other") return 0; // IPv4 has no route cache since Linux 3.6; the model has no IPv6.
  const routes = dumpOrder(view, f.table).filter((r) => routeMatches(f, r));
  if (flush) {
    for (const r of routes) view.ns.ipv4.routes.delete(r);
    return 0;
  }
  const rf: RouteFilter = {
    table: f.table,
    oif: f.oif,
    proto: f.proto !== undefined,
    scope: f.scope !== undefined,
    metric: f.metric !== undefined,
    viaHost: f.via?.len === 32,
    srcHost: f.src?.len === 32,
  };
  p.ctx.stdout.write(routes.map((r) => formatRoute(view, r, rf)).join(""));
  return 0;
}

/** `ip route get ADDRESS [from S] [oif DEV] …`. */
export function ipRouteGet(p: IpArgs, view: IpView): number {
  const bb = p.flavour === "busybox";
  const family: Family = view.opts.family === "inet" ? "inet" : "any";
  let to: Prefix | undefined;
  let from: number | undefined;
  let oifName: string | undefined;
  for (; p.cur !== undefined; p.shift()) {
    const a = p.cur;
    if (a === "tos" || matches(a, "dsfield") || a === "iif" || a === "mark" || a === "uid" || a === "ipproto" || a === "sport" || a === "dport" || a === "vrf") {
      p.next();
    } else if (matches(a, "from")) {
      from = p.prefix(p.next(), family).addr;
    } else if (a === "oif" || a === "dev") {
      oifName = p.next();
    } else if (matches(a, "connected") || a === "fibmatch") {
      // Accepted; the answer is the same route here.
    } else {
      let v = a;
      if (matches(v, "to")) v = p.next();
      if (matches(v, "help")) usage(p, IP_ROUTE_USAGE);
      to = p.prefix(v, family);
    }
  }
  if (to === undefined) {
    if (bb) die(p.ctx, 'ip: need at least destination address\n', 1);
    die(p.ctx, "need at least a destination address\n", 1);
  }
  let oif: NetDevice | undefined;
  if (oifName !== undefined) oif = view.ns.deviceByName(oifName) ?? p.nodev(oifName);
  const dst = to.addr;
  const r = view.ns.ipv4.routes.lookup(dst, { oif });
  if (r === undefined) p.rtnl(new KernelError("ENETUNREACH"));
  if (r.type === "blackhole") p.rtnl(new KernelError("EINVAL"));
  if (r.type === "unreachable") p.rtnl(new KernelError("EHOSTUNREACH"));
  if (r.type === "prohibit") p.rtnlText("Permission denied");
  const dev = r.type === "local" ? view.ns.lo : (oif ?? r.dev);
  let text = r.type === "local" ? "local " : r.type === "broadcast" ? "broadcast " : "";
  text += `${formatIpv4Addr(dst)} `;
  if (from !== undefined && !bb) text += `from ${formatIpv4Addr(from)} `;
  if (r.gateway !== undefined) text += `via ${formatIpv4Addr(r.gateway)} `;
  if (dev !== undefined) text += `dev ${dev.name} `;
  const src =
    from === undefined
      ? (r.type === "local" ? dst : (r.prefsrc ?? (r.dev ? view.ns.selectSource(r.dev, r.gateway ?? dst) : undefined)))
      : undefined;
  if (bb) {
    if (src !== undefined) text += ` src ${formatIpv4Addr(src)} `;
    p.ctx.stdout.write(`${text}\n`);
    return 0;
  }
  if (src !== undefined) text += `src ${formatIpv4Addr(src)} `;
  text += "uid 0 \n    cache ";
  if (r.type === "local") text += "<local> ";
  else if (r.type === "broadcast") text += "<local,brd> ";
  p.ctx.stdout.write(`${text}\n`);
  return 0;
}

const NUD: Record<string, NeighState> = {
  permanent: "PERMANENT",
  reachable: "REACHABLE",
  noarp: "NOARP",
  stale: "STALE",
  incomplete: "INCOMPLETE",
  delay: "DELAY",
  probe: "PROBE",
  failed: "FAILED",
};

/** nud_state_a2n ("none" is its own state: the model has no such entry). */
function nudState(text: string): NeighState | "NONE" | undefined {
  if (matches(text, "permanent")) return "PERMANENT";
  if (matches(text, "reachable")) return "REACHABLE";
  if (matches(text, "failed")) return "FAILED";
  if (text === "none") return "NONE";
  return NUD[text];
}

/** `ip neigh add|change|replace|del …`. */
export function ipNeighModify(p: IpArgs, view: IpView, cmd: "add" | "change" | "replace" | "del"): number {
  const family: Family = view.opts.family === "inet" ? "inet" : "any";
  let lladdr: string | undefined;
  let state: NeighState | "NONE" = "PERMANENT";
  let devName: string | undefined;
  let dst: number | undefined;
  let router = false;
  for (; p.cur !== undefined; p.shift()) {
    const a = p.cur;
    if (matches(a, "lladdr")) {
      const v = p.next();
      if (lladdr !== undefined) p.duparg("lladdr", v);
      lladdr = v;
    } else if (a === "nud") {
      const v = p.next();
      const s = nudState(v);
      if (s === undefined) p.invarg("nud state is bad", v);
      state = s;
    } else if (matches(a, "proxy")) {
      p.next();
      p.rtnl(new KernelError("EOPNOTSUPP"));
    } else if (a === "router") {
      router = true;
    } else if (a === "use" || a === "managed" || matches(a, "extern_learn")) {
      // Flags the model does not keep.
    } else if (a === "dev") {
      devName = p.next();
    } else if (matches(a, "protocol")) {
      const v = p.next();
      if (protoName(v) === undefined) p.invarg('"protocol" value is invalid\n', v);
    } else {
      let v = a;
      if (v === "to") v = p.next();
      if (matches(v, "help")) v = p.next();
      if (dst !== undefined) p.duparg2("to", v);
      dst = p.addr(v, family);
    }
  }
  if (devName === undefined || dst === undefined) die(p.ctx, "Device and destination are required arguments.\n", 255);
  let mac: number | undefined;
  if (lladdr !== undefined && lladdr !== "null") {
    const bytes = parseLlAddr(lladdr);
    if (bytes === undefined) die(p.ctx, `"${lladdr}" is invalid lladdr.\n`, 1);
    if (bytes.length !== 6) p.rtnl(new KernelError("EINVAL"));
    mac = bytesToMac(bytes);
  }
  const dev = view.ns.deviceByName(devName) ?? p.nodev(devName);
  const table = view.ns.ipv4.neigh;
  const old = table.get(dev, dst);
  if (cmd === "del") {
    if (!table.delete(dev, dst)) p.rtnl(new KernelError("ENOENT"));
    return 0;
  }
  if (cmd === "add" && old !== undefined) p.rtnl(new KernelError("EEXIST"));
  if (cmd === "change" && old === undefined) p.rtnl(new KernelError("ENOENT"));
  if (!dev.arp) p.rtnl(new KernelError("EINVAL"));
  if (state === "NONE") p.rtnl(new KernelError("EINVAL"));
  const valid = state !== "INCOMPLETE" && state !== "FAILED";
  if (mac === undefined && valid && old?.mac === undefined) p.rtnl(new KernelError("EINVAL", "No link layer address given."));
  const n = table.set(dev, dst, mac ?? old?.mac, state);
  n.router = router;
  return 0;
}

/** `ip neigh [show|flush] [dev X] [nud S] [to PREFIX]`. */
export function ipNeighList(p: IpArgs, view: IpView, flush: boolean): number {
  const bb = p.flavour === "busybox";
  const family: Family = view.opts.family === "inet" ? "inet" : "any";
  if (flush && p.left === 0) {
    if (bb) die(p.ctx, "ip: flush requires arguments\n", 1);
    die(p.ctx, "Flush requires arguments.\n", 1);
  }
  const all: NeighState[] = ["INCOMPLETE", "REACHABLE", "STALE", "DELAY", "PROBE", "FAILED", "NOARP", "PERMANENT"];
  let states = new Set<NeighState>(flush ? all.filter((s) => s !== "PERMANENT" && s !== "NOARP") : all.filter((s) => s !== "NOARP"));
  let stateGiven = false;
  let devName: string | undefined;
  let to: Prefix | undefined;
  for (; p.cur !== undefined; p.shift()) {
    const a = p.cur;
    if (a === "dev") {
      const v = p.next();
      if (devName !== undefined) p.duparg("dev", v);
      devName = v;
    } else if (a === "nud") {
      const v = p.next();
      if (!stateGiven) {
        stateGiven = true;
        states = new Set();
      }
      const s = nudState(v);
      if (s === undefined) {
        if (v !== "all") p.invarg("nud state is bad", v);
        for (const x of all) if (!(flush && x === "NOARP")) states.add(x);
      } else if (s !== "NONE") {
        states.add(s);
      }
    } else if (a === "master" || a === "vrf") {
      const v = p.next();
      if (view.ns.deviceByName(v) === undefined) p.invarg("Device does not exist\n", v);
    } else if (a === "nomaster" || a === "unused" || a === "proxy") {
      // Nothing the model distinguishes.
    } else if (matches(a, "protocol")) {
      p.next();
    } else {
      let v = a;
      if (v === "to") v = p.next();
      if (matches(v, "help")) usage(p, IP_NEIGH_USAGE);
      to = p.prefix(v, family);
    }
  }
  let dev: NetDevice | undefined;
  if (devName !== undefined) dev = view.ns.deviceByName(devName) ?? p.nodev(devName);
  const entries = view.ns.ipv4.neigh.list().filter((n) => {
    if (view.opts.family === "other") return false;
    if (dev !== undefined && n.dev !== dev) return false;
    if (!states.has(n.state)) return false;
    if (to !== undefined && ((n.addr & prefixMask(to.len)) >>> 0) !== ((to.addr & prefixMask(to.len)) >>> 0)) return false;
    return true;
  });
  if (flush) {
    for (const n of entries) view.ns.ipv4.neigh.delete(n.dev, n.addr);
    return 0;
  }
  p.ctx.stdout.write(entries.map((n) => formatNeigh(view, n, { filteredDev: dev !== undefined })).join(""));
  return 0;
}
