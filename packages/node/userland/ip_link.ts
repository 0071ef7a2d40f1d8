/**
 * `ip address` and `ip link`: listing (ip/ipaddress.c ipaddr_list_flush_or_save),
 * address changes (ipaddr_modify) and link changes (ip/iplink.c iplink_parse,
 * applied in do_setlink's order), over the kernel model.
 */
import { Bridge, type IfAddr, KernelError, type NetDevice, type NetNs, type VxlanOptions } from "@kemu/kernel";
import { parseIpv4Addr, prefixMask } from "@kemu/wire";
import { IpArgs, type Prefix } from "./_ip_args.ts";
import {
  bytesToMac,
  die,
  freeVethName,
  isBridge,
  matches,
  parseInteger,
  parseLlAddr,
  parseU32,
  setLinkUp,
  validIfName,
} from "./_net.ts";
import { formatAddr, formatLink, type IpView, sl, statsLines } from "./ip_format.ts";
import { IP_ADDR_USAGE, IP_LINK_BRIDGE_USAGE, IP_LINK_USAGE } from "./ip_usage.ts";

const SCOPES: Record<string, IfAddr["scope"]> = { host: "host", link: "link", global: "global" };

/** rtnl_rtscope_a2n for addresses ("universe" is global). */
function addrScope(text: string): IfAddr["scope"] | undefined {
  if (text === "universe") return "global";
  const n = parseU32(text);
  if (n !== undefined) return n === 254 ? "host" : n === 253 ? "link" : n === 0 ? "global" : undefined;
  return SCOPES[text];
}

/** fnmatch for `label` filters: `*` and `?`. */
function globMatch(pattern: string, text: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*").replaceAll("?", ".")}$`);
  return re.test(text);
}

function inPrefix(addr: number, p: Prefix): boolean {
  return ((addr & prefixMask(p.len)) >>> 0) === ((p.addr & prefixMask(p.len)) >>> 0);
}

interface AddrFilter {
  dev: string | undefined;
  up: boolean;
  scope: IfAddr["scope"] | undefined;
  to: Prefix | undefined;
  label: string | undefined;
  /** ifindex of the master, or -1 for `nomaster`. */
  master: number | undefined;
  kind: string | undefined;
  slaveKind: string | undefined;
  secondary: boolean | undefined;
  /** A filter no address of the model can meet (dynamic, a group other than default). */
  none: boolean;
}

function addrMatches(f: AddrFilter, a: IfAddr): boolean {
  if (f.none) return false;
  if (f.scope !== undefined && a.scope !== f.scope) return false;
  if (f.secondary !== undefined && a.secondary !== f.secondary) return false;
  if (f.label !== undefined && !globMatch(f.label, a.label)) return false;
  if (f.to !== undefined && !inPrefix(a.addr, f.to)) return false;
  return true;
}

function linkMatches(f: AddrFilter, dev: NetDevice): boolean {
  if (f.up && !dev.adminUp) return false;
  if (f.master === -1 && dev.master !== undefined) return false;
  if (f.master !== undefined && f.master > 0 && dev.master?.ifindex !== f.master) return false;
  if (f.kind !== undefined && dev.kind !== (f.kind === "ether" ? "ether" : f.kind)) return false;
  if (f.slaveKind !== undefined && !(f.slaveKind === "bridge" && dev.master !== undefined)) return false;
  return true;
}

/** `ip addr [show|flush] …` and `ip link [show] …` (doLink). */
export function ipAddrList(p: IpArgs, view: IpView, mode: { doLink: boolean; flush: boolean }): number {
  const bb = p.flavour === "busybox";
  const f: AddrFilter = {
    dev: undefined,
    up: false,
    scope: undefined,
    to: undefined,
    label: undefined,
    master: undefined,
    kind: undefined,
    slaveKind: undefined,
    secondary: undefined,
    none: false,
  };
  if (mode.flush && p.left === 0) {
    if (bb) die(p.ctx, "ip: flush requires arguments\n", 1);
    die(p.ctx, "Flush requires arguments.\n", 1);
  }
  for (; p.cur !== undefined; p.shift()) {
    const a = p.cur;
    if (a === "to") {
      f.to = p.prefix(p.next(), view.opts.family === "inet" ? "inet" : "any");
    } else if (a === "scope") {
      const s = p.next();
      const scope = addrScope(s);
      if (scope === undefined && s !== "all") p.invarg('invalid "scope"\n', s);
      f.scope = scope;
    } else if (a === "up") {
      f.up = true;
    } else if (a === "primary" || a === "secondary") {
      f.secondary = a === "secondary";
    } else if (a === "permanent" || a === "-dynamic" || a === "dynamic" || a === "-permanent") {
      // Every IPv4 address of the model is permanent.
      if (a === "dynamic" || a === "-permanent") f.none = true;
    } else if (a === "label") {
      f.label = p.next();
    } else if (a === "group") {
      const g = p.next();
      if (g !== "default" && g !== "0") f.none = true;
    } else if (a === "master") {
      const m = p.next();
      const d = view.ns.deviceByName(m);
      if (d === undefined) p.invarg("Device does not exist\n", m);
      f.master = d.ifindex;
    } else if (a === "nomaster") {
      f.master = -1;
    } else if (a === "type") {
      const t = p.next();
      if (t.endsWith("_slave")) f.slaveKind = t.slice(0, -"_slave".length);
      else f.kind = t;
    } else {
      let name = a;
      if (a === "dev") name = p.next();
      else if (matches(a, "help")) usage(p, mode.doLink ? IP_LINK_USAGE : IP_ADDR_USAGE);
      if (f.dev !== undefined) p.duparg2("dev", name, mode.doLink ? 2 : 1);
      f.dev = name;
    }
  }
  let only: NetDevice | undefined;
  if (f.dev !== undefined) {
    only = view.ns.deviceByName(f.dev);
    if (only === undefined) {
      if (bb) die(p.ctx, `ip: can't find device '${f.dev}'\n`, mode.doLink ? 2 : 1);
      die(p.ctx, `Device "${f.dev}" does not exist.\n`, 1);
    }
  }
  const devices = only !== undefined ? [only] : view.ns.devices();
  if (mode.flush) {
    for (const dev of devices) {
      if (!linkMatches(f, dev)) continue;
      for (const a of [...dev.addrs]) {
        if (!addrMatches(f, a) || !dev.addrs.includes(a)) continue;
        p.kernel(() => view.ns.deleteAddress(dev, a.addr, a.prefixLen));
      }
    }
    return 0;
  }
  const out: string[] = [];
  // `ip link` always lists with AF_PACKET; a `to` prefix fixes the family, as filter.pfx.family does.
  const opts = mode.doLink
    ? { ...view.opts, family: "link" as const }
    : f.to !== undefined && view.opts.family === undefined
      ? { ...view.opts, family: "inet" as const }
      : view.opts;
  view = { ...view, opts };
  // `ip link show DEV` asks for the one link (iplink_get) whatever the other filters say.
  const single = only !== undefined && mode.doLink && !bb;
  for (const dev of devices) {
    if (!single && !linkMatches(f, dev)) continue;
    const addrs = opts.family === "link" || opts.family === "other" ? [] : dev.addrs.filter((a) => addrMatches(f, a));
    if (!mode.doLink && opts.family !== "link") {
      // ipaddr_filter: a link whose addresses all fail the filters is left out;
      // one with no address at all only when no family was asked for.
      if (addrs.length === 0 && (dev.addrs.length > 0 || opts.family !== undefined)) continue;
    }
    // print_linkinfo prints nothing when filtering on a label.
    const noLink = (opts.oneline || f.label !== undefined) && !mode.doLink && opts.family !== "link" && !(opts.brief && !bb);
    if (!noLink) out.push(formatLink(view, dev, mode.doLink));
    if (!mode.doLink) {
      for (const a of addrs) out.push(formatAddr(view, dev, a));
      if (opts.brief && !bb) out.push("\n");
      else if (opts.stats > 0 && !bb) out.push(`${statsLines(dev, opts).slice(sl(opts).length)}\n`);
    }
  }
  p.ctx.stdout.write(out.join(""));
  return 0;
}

function usage(p: IpArgs, text: string): never {
  die(p.ctx, text, 255);
}

/** `ip addr add|change|replace|del …` (ipaddr_modify). */
export function ipAddrModify(p: IpArgs, view: IpView, cmd: "add" | "replace" | "del"): number {
  const bb = p.flavour === "busybox";
  let family: "any" | "inet" = view.opts.family === "inet" ? "inet" : "any";
  let dev: string | undefined;
  let label: string | undefined;
  let local: Prefix | undefined;
  let localText = "";
  let brd: number | "+" | "-" | undefined;
  let scope: IfAddr["scope"] | undefined;
  for (; p.cur !== undefined; p.shift()) {
    const a = p.cur;
    if (a === "peer" || a === "remote") {
      p.prefix(p.next(), family);
      p.kernel(() => {
        throw new KernelError("EOPNOTSUPP");
      });
    } else if (matches(a, "broadcast") || a === "brd") {
      const v = p.next();
      if (brd !== undefined) p.duparg("broadcast", v);
      brd = v === "+" ? "+" : v === "-" ? "-" : p.addr(v, family);
      family = "inet";
    } else if (a === "anycast") {
      p.addr(p.next(), family);
    } else if (a === "scope") {
      const s = p.next();
      const sc = addrScope(s);
      if (sc === undefined) p.invarg("invalid scope value.", s);
      scope = sc;
    } else if (a === "dev") {
      dev = p.next();
    } else if (a === "label") {
      label = p.next();
    } else if (matches(a, "metric") || matches(a, "priority") || matches(a, "preference")) {
      const v = p.next();
      if (parseU32(v) === undefined) p.invarg('"metric" value is invalid\n', v);
    } else if (matches(a, "valid_lft") || matches(a, "preferred_lft")) {
      const v = p.next();
      if (v !== "forever" && parseU32(v) === undefined) p.invarg(`${a.startsWith("v") ? "valid" : "preferred"}_lft value`, v);
    } else if (["home", "nodad", "mngtmpaddr", "noprefixroute", "autojoin"].includes(a)) {
      // Accepted; they change nothing an IPv4 address does in the model.
    } else {
      let v = a;
      if (a === "local") v = p.next();
      if (matches(v, "help")) usage(p, IP_ADDR_USAGE);
      if (local !== undefined) p.duparg2("local", v);
      localText = v;
      if (bb && v.includes(":")) die(p.ctx, "ip: RTNETLINK answers: Numerical result out of range\n", 2);
      local = p.prefix(v, family);
      family = "inet";
    }
  }
  if (dev === undefined) {
    if (bb) die(p.ctx, 'ip: need "dev IFACE"\n', 1);
    die(p.ctx, 'Not enough information: "dev" argument is required.\n', 1);
  }
  if (local === undefined) {
    // The kernel rejects an address message without IFA_LOCAL.
    if (cmd === "del") {
      const d = view.ns.deviceByName(dev) ?? p.nodev(dev);
      const first = d.addrs[0];
      if (first === undefined) p.rtnl(new KernelError("EADDRNOTAVAIL", "ipv4: Address not found."));
      p.kernel(() => view.ns.deleteAddress(d, first.addr, first.prefixLen));
      return 0;
    }
    p.rtnl(new KernelError("EINVAL"));
  }
  if (cmd === "del" && !local.lenGiven && !bb) {
    p.ctx.stderr.write(
      "Warning: Executing wildcard deletion to stay compatible with old scripts.\n" +
        `         Explicitly specify the prefix length (${localText}/32) to avoid this warning.\n` +
        "         This special behaviour is likely to disappear in further releases,\n" +
        "         fix your scripts!\n",
    );
  }
  let broadcast: number | undefined;
  if (typeof brd === "number") broadcast = brd;
  else if (brd !== undefined && cmd !== "del" && local.len <= 30) {
    const host = ~prefixMask(local.len) >>> 0;
    broadcast = brd === "+" ? (local.addr | host) >>> 0 : (local.addr & ~host) >>> 0;
  }
  const d = view.ns.deviceByName(dev) ?? p.nodev(dev);
  if (cmd === "del") {
    try {
      view.ns.deleteAddress(d, local.addr, local.lenGiven ? local.len : undefined);
    } catch (err) {
      if (err instanceof KernelError && err.errno === "EADDRNOTAVAIL") {
        p.rtnl(new KernelError("EADDRNOTAVAIL", "ipv4: Address not found."));
      }
      p.rtnl(err);
    }
    return 0;
  }
  const existing = d.addrs.find((a) => a.addr === local.addr && a.prefixLen === local.len);
  if (existing !== undefined) {
    if (cmd === "add") p.rtnl(new KernelError("EEXIST", "ipv4: Address already assigned."));
    p.kernel(() => view.ns.deleteAddress(d, existing.addr, existing.prefixLen));
  }
  p.kernel(() =>
    view.ns.addAddress(d, {
      addr: local.addr,
      prefixLen: local.len,
      broadcast,
      scope: scope ?? ((local.addr >>> 24) === 127 ? "host" : "global"),
      label: label ?? d.name,
    }),
  );
  return 0;
}

/** One side of `ip link add|set`: what iplink_parse collected. */
interface LinkReq {
  dev: string | undefined;
  name: string | undefined;
  up: boolean | undefined;
  mtu: number | undefined;
  qlen: number | undefined;
  address: number[] | undefined;
  netns: string | undefined;
  master: NetDevice | null | undefined;
  promisc: boolean | undefined;
  alias: string | undefined;
  unsupported: boolean;
  type: string | undefined;
  /** The arguments after `type KIND`. */
  typeArgs: string[];
}

function onOff(p: IpArgs, what: string): boolean {
  const v = p.next();
  if (v === "on") return true;
  if (v === "off") return false;
  die(p.ctx, `Error: argument of "${what}" must be "on" or "off", not "${v}"\n`, 1);
}

/** iplink_parse: the keywords of `ip link add|set|del`, up to `type`. */
function parseLink(p: IpArgs, view: IpView, create: boolean): LinkReq {
  const r: LinkReq = {
    dev: undefined,
    name: undefined,
    up: undefined,
    mtu: undefined,
    qlen: undefined,
    address: undefined,
    netns: undefined,
    master: undefined,
    promisc: undefined,
    alias: undefined,
    unsupported: false,
    type: undefined,
    typeArgs: [],
  };
  for (; p.cur !== undefined; p.shift()) {
    const a = p.cur;
    if (a === "up") r.up = true;
    else if (a === "down") r.up = false;
    else if (a === "name") {
      const v = p.next();
      if (r.name !== undefined) p.duparg("name", v);
      if (!validIfName(v)) p.invarg('"name" not a valid ifname', v);
      r.name = v;
      r.dev ??= v;
    } else if (a === "index") {
      const v = p.next();
      if ((parseInteger(v) ?? 0) <= 0) p.invarg('Invalid "index" value', v);
    } else if (matches(a, "link")) {
      p.next();
    } else if (matches(a, "address")) {
      const v = p.next();
      const bytes = parseLlAddr(v);
      if (bytes === undefined) die(p.ctx, `"${v}" is invalid lladdr.\n`, 1);
      r.address = bytes;
    } else if (matches(a, "broadcast") || a === "brd") {
      const v = p.next();
      if (parseLlAddr(v) === undefined) die(p.ctx, `"${v}" is invalid lladdr.\n`, 1);
    } else if (matches(a, "txqueuelen") || a === "qlen" || matches(a, "txqlen")) {
      const v = p.next();
      if (r.qlen !== undefined) p.duparg("txqueuelen", v);
      const n = parseInteger(v);
      if (n === undefined) p.invarg('Invalid "txqueuelen" value\n', v);
      r.qlen = n;
    } else if (a === "mtu") {
      const v = p.next();
      if (r.mtu !== undefined) p.duparg("mtu", v);
      const n = parseInteger(v);
      if (n === undefined) p.invarg('Invalid "mtu" value\n', v);
      r.mtu = n;
    } else if (a === "netns") {
      const v = p.next();
      if (r.netns !== undefined) p.duparg("netns", v);
      if (!view.ctx.host.namedNetns.has(v) && parseInteger(v) === undefined) p.invarg('Invalid "netns" value\n', v);
      r.netns = v;
    } else if (a === "promisc") {
      r.promisc = onOff(p, "promisc");
    } else if (["multicast", "allmulticast", "trailers", "arp", "dynamic", "carrier", "protodown"].includes(a) || matches(a, "dynamic")) {
      onOff(p, a);
      r.unsupported = true;
    } else if (matches(a, "master")) {
      const v = p.next();
      const d = view.ns.deviceByName(v);
      if (d === undefined) p.invarg("Device does not exist\n", v);
      r.master = d;
    } else if (matches(a, "nomaster")) {
      r.master = null;
    } else if (matches(a, "type")) {
      r.type = p.next();
      p.shift();
      r.typeArgs = p.rest();
      break;
    } else if (matches(a, "alias")) {
      r.alias = p.next();
    } else if (["mode", "state", "addrgenmode", "gso_max_size", "gso_max_segs", "gro_max_size", "group"].includes(a) || matches(a, "numtxqueues") || matches(a, "numrxqueues")) {
      p.next();
    } else {
      if (matches(a, "help")) usage(p, IP_LINK_USAGE);
      let v = a;
      if (a === "dev") v = p.next();
      if (r.dev !== r.name) p.duparg2("dev", v);
      if (/[/\s]/.test(v) || v === "") p.invarg('"dev" not a valid ifname', v);
      r.dev = v;
    }
  }
  if (!create) return r;
  if (r.name === undefined) r.name = r.dev;
  else if (r.dev === undefined) r.dev = r.name;
  else if (r.name !== r.dev) die(p.ctx, 'both "name" and "dev" cannot be used when creating devices.\n', 255);
  return r;
}

/** The namespace `netns NAME|PID` names. */
function targetNetns(p: IpArgs, view: IpView, spec: string): NetNs {
  const named = view.ctx.host.namedNetns.get(spec);
  if (named !== undefined) return named;
  const pid = parseInteger(spec) ?? -1;
  const table = (view.ctx.host as { processes?: ReadonlyMap<number, { netns: NetNs }> }).processes;
  const proc = table?.get(pid);
  if (proc === undefined) p.rtnl(new KernelError("ESRCH"));
  return proc.netns;
}

/** Applies the changes of `r` to `dev`, in do_setlink's order. */
function applyLink(p: IpArgs, view: IpView, dev: NetDevice, r: LinkReq, options: { rename: boolean }): void {
  let ns = dev.netns;
  if (r.netns !== undefined) {
    const target = targetNetns(p, view, r.netns);
    if (target !== ns) {
      if (dev.kind === "loopback" || dev.kind === "bridge") p.rtnl(new KernelError("EINVAL", "The interface netns is immutable."));
      p.kernel(() => ns.moveDevice(dev, target));
      ns = target;
    }
  }
  if (r.address !== undefined) {
    if (r.address.length !== 6) die(p.ctx, `Invalid address length ${r.address.length} - must be 6 bytes\n`, 1);
    const m = bytesToMac(r.address);
    if ((r.address[0]! & 1) === 1 || m === 0) p.rtnl(new KernelError("EADDRNOTAVAIL"));
    const br = dev.master;
    if (br !== undefined) {
      const old = br.fdb.get(dev.mac);
      if (old?.local && old.port === dev) br.fdb.delete(dev.mac);
      br.fdb.set(m, { mac: m, port: dev, local: true, static: false, updatedAt: 0 });
    }
    dev.mac = m;
  }
  if (r.mtu !== undefined && dev.kind !== "loopback") {
    if (r.mtu < 68) p.rtnl(new KernelError("EINVAL", "mtu less than device minimum."));
    if (r.mtu > 65535) p.rtnl(new KernelError("EINVAL", "mtu greater than device maximum."));
  }
  if (r.mtu !== undefined) dev.mtu = r.mtu;
  if (options.rename && r.name !== undefined && r.name !== dev.name) {
    const name = r.name;
    p.kernel(() => ns.renameDevice(dev, name));
  }
  if (r.alias !== undefined) dev.alias = r.alias;
  if (r.unsupported) p.rtnl(new KernelError("EOPNOTSUPP"));
  if (r.promisc !== undefined) dev.promisc = r.promisc;
  if (r.up !== undefined) setLinkUp(dev, r.up);
  if (r.master === null) dev.master?.removePort(dev);
  else if (r.master !== undefined && r.master !== dev.master) {
    const br = r.master;
    if (!(br instanceof Bridge)) p.rtnl(new KernelError("EOPNOTSUPP"));
    if (isBridge(dev)) p.rtnl(new KernelError("EINVAL", "Can not enslave a bridge to a bridge."));
    if (dev.kind === "loopback" || dev.kind === "tun") p.rtnl(new KernelError("EINVAL"));
    dev.master?.removePort(dev);
    br.addPort(dev);
  }
  if (r.qlen !== undefined) dev.txqlen = r.qlen;
}

/** `type bridge` options: ageing_time is the one the model keeps. */
function bridgeOptions(p: IpArgs, br: Bridge | undefined, args: readonly string[]): void {
  const known = ["fdb_flush", "forward_delay", "hello_time", "max_age", "ageing_time", "stp_state", "priority", "group_fwd_mask", "group_address", "no_linklocal_learn", "vlan_filtering", "vlan_protocol", "vlan_default_pvid", "vlan_stats_enabled", "vlan_stats_per_port", "mcast_snooping", "mcast_vlan_snooping", "mcast_router", "mcast_query_use_ifaddr", "mcast_querier", "mcast_hash_elasticity", "mcast_hash_max", "mcast_last_member_count", "mcast_startup_query_count", "mcast_last_member_interval", "mcast_membership_interval", "mcast_querier_interval", "mcast_query_interval", "mcast_query_response_interval", "mcast_startup_query_interval", "mcast_stats_enabled", "mcast_igmp_version", "mcast_mld_version", "nf_call_iptables", "nf_call_ip6tables", "nf_call_arptables"];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "fdb_flush") {
      if (br) for (const [m, e] of br.fdb) if (!e.local && !e.static) br.fdb.delete(m);
      continue;
    }
    if (!known.includes(a)) die(p.ctx, `bridge: unknown command "${a}"?\n${IP_LINK_BRIDGE_USAGE}`, 1);
    const v = args[++i];
    if (v === undefined) p.incomplete();
    if (a === "ageing_time") {
      const n = parseU32(v);
      if (n === undefined) p.invarg('invalid ageing_time value', v);
      if (br) br.ageingMs = n * 10;
    }
  }
}

/** `ip link add …` (iplink_modify with NLM_F_CREATE). */
export function ipLinkAdd(p: IpArgs, view: IpView): number {
  const bb = p.flavour === "busybox";
  const r = parseLink(p, view, true);
  if (r.type === undefined) {
    if (bb) die(p.ctx, "ip: RTNETLINK answers: Operation not supported\n", 2);
    die(p.ctx, 'Not enough information: "type" argument is required\n', 1);
  }
  if (r.dev !== undefined && r.dev.length >= 16) p.rtnl(new KernelError("EINVAL", "Attribute failed policy validation."));
  const ns = view.ns;
  const kernel = ns.kernel;
  let created: NetDevice[] = [];
  switch (r.type) {
    case "veth": {
      let peer: LinkReq | undefined;
      const args = r.typeArgs;
      if (args.length > 0 && !bb) {
        if (args[0] !== "peer") die(p.ctx, "Usage: ip link <options> type veth [peer <options>]\nTo get <options> type 'ip link add help'\n", 1);
        const sub = new IpArgs(p.ctx, args.slice(1), p.flavour);
        peer = parseLink(sub, view, true);
        if (peer.type !== undefined) p.duparg("type", peer.type);
      }
      const peerNs = peer?.netns !== undefined ? targetNetns(p, view, peer.netns) : ns;
      if (peer?.dev !== undefined && peer.dev.length >= 16) p.rtnl(new KernelError("EINVAL", "Attribute failed policy validation."));
      const peerName = peer?.dev ?? freeVethName(peerNs);
      const name = r.dev ?? freeVethName(ns, ns === peerNs ? [peerName] : []);
      // The driver registers the peer first: it takes the lower ifindex.
      const [pd, d] = p.kernel(() => kernel.createVeth(peerNs, peerName, name, { peerNs: ns }));
      if (peer !== undefined) applyLink(p, view, pd, { ...peer, netns: undefined }, { rename: false });
      applyLink(p, view, d, r, { rename: false });
      return 0;
    }
    case "bridge": {
      bridgeOptions(p, undefined, r.typeArgs);
      const name = r.dev ?? nextName(ns, "bridge");
      const br = p.kernel(() => kernel.createBridge(ns, name));
      bridgeOptions(p, br, r.typeArgs);
      created = [br];
      break;
    }
    case "dummy": {
      if (r.typeArgs.length > 0 && !bb) {
        die(p.ctx, `Garbage instead of arguments "${r.typeArgs[0]} ...". Try "ip link help".\n`, 1);
      }
      const name = r.dev ?? nextName(ns, "dummy");
      created = [p.kernel(() => kernel.createDummy(ns, name))];
      break;
    }
    case "vxlan": {
      const name = r.dev ?? nextName(ns, "vxlan");
      const o = vxlanOptions(p, ns, r.typeArgs);
      created = [p.kernel(() => kernel.createVxlan(ns, name, o))];
      break;
    }
    default:
      if (bb) die(p.ctx, "ip: RTNETLINK answers: Operation not supported\n", 2);
      p.rtnl(new KernelError("EOPNOTSUPP", "Unknown device type."));
  }
  for (const d of created) applyLink(p, view, d, r, { rename: false });
  return 0;
}

/** `type vxlan id VNI [local IP] [dev NAME] [dstport PORT] [[no]learning] [ttl N]` (iplink_vxlan.c). */
function vxlanOptions(p: IpArgs, ns: NetNs, args: readonly string[]): VxlanOptions {
  let vni: number | undefined;
  let local = 0;
  let lower: NetDevice | undefined;
  let port: number | undefined;
  let learning = true;
  let ttl = 0;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const v = (): string => args[++i] ?? die(p.ctx, 'Command line is not complete. Try option "help"\n', 255);
    if (a === "id" || a === "vni") {
      const t = v();
      const n = parseU32(t);
      if (n === undefined || n >= 1 << 24) p.invarg("invalid id", t);
      vni = n;
    } else if (a === "local") {
      const t = v();
      const addr = parseIpv4Addr(t);
      if (addr === undefined) p.invarg("invalid local address", t);
      local = addr;
    } else if (a === "dev") {
      const t = v();
      lower = ns.deviceByName(t) ?? die(p.ctx, `Cannot find device "${t}"\n`, 1);
    } else if (a === "dstport") {
      const t = v();
      const n = parseU32(t);
      if (n === undefined || n > 65535) p.invarg("dstport", t);
      port = n;
    } else if (a === "nolearning") {
      learning = false;
    } else if (a === "learning") {
      learning = true;
    } else if (a === "ttl" || a === "hoplimit") {
      const t = v();
      const n = t === "auto" || t === "inherit" ? 0 : parseU32(t);
      if (n === undefined || n > 255) p.invarg('invalid TTL', t);
      ttl = n;
    } else {
      die(p.ctx, `vxlan: unknown command "${a}"?\n`, 255);
    }
  }
  if (vni === undefined) die(p.ctx, "vxlan: missing virtual network identifier\n", 255);
  return { vni, local, lower, port: port ?? 8472, learning, ttl };
}

function nextName(ns: NetNs, base: string): string {
  for (let i = 0; ; i++) if (!ns.deviceByName(`${base}${i}`)) return `${base}${i}`;
}

/** `ip link set …` (iplink_modify without NLM_F_CREATE). */
export function ipLinkSet(p: IpArgs, view: IpView): number {
  const r = parseLink(p, view, false);
  if (r.dev === undefined) die(p.ctx, 'Not enough information: "dev" argument is required.\n', 255);
  const dev = view.ns.deviceByName(r.dev);
  if (dev === undefined) {
    if (p.flavour === "busybox") die(p.ctx, "ip: SIOCGIFFLAGS: No such device\n", 2);
    p.nodev(r.dev);
  }
  if (r.type !== undefined) {
    if (r.type === "bridge" && isBridge(dev)) bridgeOptions(p, dev, r.typeArgs);
    else if (r.type !== dev.kind && !(r.type === "bridge_slave" && dev.master !== undefined)) p.rtnl(new KernelError("EOPNOTSUPP"));
  }
  applyLink(p, view, dev, r, { rename: r.name !== undefined && r.name !== r.dev });
  return 0;
}

/** `ip link del …`. */
export function ipLinkDel(p: IpArgs, view: IpView): number {
  const r = parseLink(p, view, false);
  if (r.dev === undefined) die(p.ctx, 'Not enough information: "dev" argument is required.\n', 255);
  const dev = view.ns.deviceByName(r.dev) ?? p.nodev(r.dev, 2);
  if (dev.kind === "loopback" || dev.kind === "ether") p.rtnl(new KernelError("EOPNOTSUPP"));
  view.ns.kernel.destroyDevice(dev);
  return 0;
}
