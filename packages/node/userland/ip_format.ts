/**
 * How `ip` prints links, addresses, routes and neighbours: iproute2's
 * ip/ipaddress.c, ip/iproute.c and ip/ipneigh.c (6.1), and busybox's
 * networking/libiproute, field by field, trailing spaces included. The model
 * has no IPv6, so no inet6 line is ever printed.
 */
import { type Bridge, type IfAddr, type NetDevice, type NetNs, type Neighbour, type Route, RT_TABLE_MAIN, type Vxlan } from "@kemu/kernel";
import { formatIpv4Addr, formatMacAddr } from "@kemu/wire";
import type { Flavour, ProcessContext } from "../process.ts";
import {
  hasCarrier,
  IFF,
  ifFlags,
  isBridge,
  linkBroadcast,
  linkType,
  mac,
  netnsName,
  peerNetns,
  qdiscName,
  vethPeer,
} from "./_net.ts";

/** The global options of one `ip` run that change how things print. */
export interface IpOptions {
  flavour: Flavour;
  /** -s, counted. */
  stats: number;
  /** -d, counted. */
  details: number;
  /** -o */
  oneline: boolean;
  /** -br */
  brief: boolean;
  /** -4 (inet), -0 / -f link (link), -6 and the other families the model has nothing of (other); unset otherwise. */
  family: "inet" | "link" | "other" | undefined;
}

/** What printing needs: the process (for names of namespaces) and the namespace looked at. */
export interface IpView {
  ctx: ProcessContext;
  ns: NetNs;
  opts: IpOptions;
}

/** The line separator iproute2 uses: `\` under -o, a newline otherwise. */
export function sl(opts: IpOptions): string {
  return opts.oneline ? "\\" : "\n";
}

/** ll_index_to_name: a device of the namespace by index, else `if%d`. */
function indexName(ns: NetNs, ifindex: number): string {
  return ns.deviceByIndex(ifindex)?.name ?? `if${ifindex}`;
}

/**
 * The name with its link (`eth0@if7`, `vb@va`) and whether M-DOWN applies,
 * as print_name_and_link decides it: the linked index is looked up in the
 * namespace of the caller unless the kernel said it lives in another one.
 */
export function nameAndLink(view: IpView, dev: NetDevice, options: { alwaysLocal?: boolean } = {}): { name: string; mdown: boolean } {
  const peer = vethPeer(dev);
  if (peer === undefined || dev.iflink === dev.ifindex) return { name: dev.name, mdown: false };
  const iflink = dev.iflink;
  const remote = peerNetns(dev) !== undefined && !options.alwaysLocal && view.opts.flavour === "gnu";
  if (remote) return { name: `${dev.name}@if${iflink}`, mdown: false };
  const local = view.ns.deviceByIndex(iflink);
  const name = `${dev.name}@${indexName(view.ns, iflink)}`;
  if (view.opts.flavour === "busybox") return { name, mdown: !(local?.adminUp ?? false) };
  return { name, mdown: local !== undefined && !local.adminUp };
}

const IPROUTE_FLAG_ORDER: Array<[keyof typeof IFF, number]> = [
  ["LOOPBACK", IFF.LOOPBACK],
  ["BROADCAST", IFF.BROADCAST],
  ["POINTOPOINT", IFF.POINTOPOINT],
  ["MULTICAST", IFF.MULTICAST],
  ["NOARP", IFF.NOARP],
  ["ALLMULTI", IFF.ALLMULTI],
  ["PROMISC", IFF.PROMISC],
  ["MASTER", IFF.MASTER],
  ["SLAVE", IFF.SLAVE],
  ["DEBUG", IFF.DEBUG],
  ["NOTRAILERS", IFF.NOTRAILERS],
  ["UP", IFF.UP],
  ["LOWER_UP", IFF.LOWER_UP],
  ["DORMANT", IFF.DORMANT],
];

const BUSYBOX_FLAG_ORDER: Array<[keyof typeof IFF, number]> = [
  ["LOOPBACK", IFF.LOOPBACK],
  ["BROADCAST", IFF.BROADCAST],
  ["POINTOPOINT", IFF.POINTOPOINT],
  ["MULTICAST", IFF.MULTICAST],
  ["NOARP", IFF.NOARP],
  ["UP", IFF.UP],
  ["LOWER_UP", IFF.LOWER_UP],
];

/** `<NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> ` (print_link_flags). */
export function linkFlags(flags: number, mdown: boolean, flavour: Flavour): string {
  const out: string[] = [];
  if (flags & IFF.UP && !(flags & IFF.RUNNING)) out.push("NO-CARRIER");
  let rest = flags & ~IFF.RUNNING;
  for (const [name, bit] of flavour === "busybox" ? BUSYBOX_FLAG_ORDER : IPROUTE_FLAG_ORDER) {
    if (rest & bit) {
      out.push(name);
      rest &= ~bit;
    }
  }
  let text = out.join(",");
  if (rest) text += (flavour === "gnu" && out.length > 0 ? "," : "") + rest.toString(16);
  if (mdown) text += ",M-DOWN";
  return `<${text}> `;
}

/** The bridge port number of `dev` on its master (1 for the first port). */
export function portNo(br: Bridge, dev: NetDevice): number {
  return [...br.ports.keys()].indexOf(dev) + 1;
}

/** STP port state of a bridge port with STP off: forwarding while it has carrier. */
export function portState(dev: NetDevice): "forwarding" | "disabled" {
  return hasCarrier(dev) ? "forwarding" : "disabled";
}

/** The port's path cost, from its speed (veth reports 10 Gb/s: cost 2; unknown speed: 100). */
export function portCost(dev: NetDevice): number {
  return dev.kind === "veth" ? 2 : 100;
}

/** A bridge id as iproute2 prints it: bytes in %x, unpadded (`8000.2:42:5e:2b:1c:a`). */
function ipBridgeId(br: Bridge): string {
  return `8000.${formatMacAddr(br.mac)
    .split(":")
    .map((b) => parseInt(b, 16).toString(16))
    .join(":")}`;
}

function timer(seconds: number): string {
  return seconds.toFixed(2).padStart(7);
}

function detailsLines(view: IpView, dev: NetDevice): string {
  const S = sl(view.opts);
  const port = dev.master !== undefined;
  const promiscuity = (port ? 1 : 0) + (dev.promisc ? 1 : 0);
  const [minmtu, maxmtu] = dev.kind === "loopback" ? [0, 0] : [68, 65535];
  let text = ` promiscuity ${promiscuity}  allmulti ${port ? 1 : 0} minmtu ${minmtu} maxmtu ${maxmtu} `;
  if (dev.kind === "veth") text += `${S}    veth `;
  if (dev.kind === "dummy") text += `${S}    dummy `;
  if (dev.kind === "vxlan") {
    const vx = dev as Vxlan;
    text +=
      `${S}    vxlan id ${vx.vni} ${vx.local !== 0 ? `local ${formatIpv4Addr(vx.local)} ` : ""}` +
      `${vx.lower !== undefined ? `dev ${vx.lower.name} ` : ""}srcport 0 0 dstport ${vx.port} ${vx.learning ? "" : "nolearning "}` +
      `ttl ${vx.ttl === 0 ? "auto" : vx.ttl} ageing 300 udpcsum noudp6zerocsumtx noudp6zerocsumrx `;
  }
  if (dev.kind === "tun") text += `${S}    tun type tun pi off vnet_hdr off persist off `;
  if (isBridge(dev)) {
    const id = ipBridgeId(dev);
    const now = dev.netns.kernel.clock.now() / 1000;
    text +=
      `${S}    bridge forward_delay 1500 hello_time 200 max_age 2000 ageing_time ${Math.round(dev.ageingMs / 10)} ` +
      `stp_state 0 priority 32768 vlan_filtering 0 bridge_id ${id} designated_root ${id} root_port 0 root_path_cost 0 ` +
      `topology_change 0 topology_change_detected 0 hello_timer ${timer(0)} tcn_timer ${timer(0)} ` +
      `topology_change_timer ${timer(0)} gc_timer ${timer(300 - (now % 300))} group_fwd_mask 0 ` +
      `group_address 01:80:c2:00:00:00 mcast_snooping 1 no_linklocal_learn 0 mcast_vlan_snooping 0 mcast_router 1 ` +
      `mcast_query_use_ifaddr 0 mcast_querier 0 mcast_hash_elasticity 16 mcast_hash_max 4096 mcast_last_member_count 2 ` +
      `mcast_startup_query_count 2 mcast_last_member_interval 100 mcast_membership_interval 26000 ` +
      `mcast_querier_interval 25500 mcast_query_interval 12500 mcast_query_response_interval 1000 ` +
      `mcast_startup_query_interval 3124 mcast_stats_enabled 0 mcast_igmp_version 2 mcast_mld_version 1 ` +
      `nf_call_iptables 0 nf_call_ip6tables 0 nf_call_arptables 0 `;
  }
  if (dev.master !== undefined) {
    const br = dev.master;
    const opts = br.ports.get(dev);
    const no = portNo(br, dev);
    const id = ipBridgeId(br);
    const onoff = (b: boolean | undefined) => (b ? "on" : "off");
    text +=
      `${S}    bridge_slave state ${portState(dev)} priority 32 cost ${portCost(dev)} hairpin ${onoff(opts?.hairpin)} ` +
      `guard off root_block off fastleave off learning ${onoff(opts?.learning ?? true)} flood ${onoff(opts?.flood ?? true)} ` +
      `port_id 0x${(0x8000 + no).toString(16)} port_no 0x${no.toString(16)} designated_port ${0x8000 + no} ` +
      `designated_cost 0 designated_bridge ${id} designated_root ${id} hold_timer ${timer(0)} ` +
      `message_age_timer ${timer(0)} forward_delay_timer ${timer(0)} topology_change_ack 0 config_pending 0 ` +
      `proxy_arp off proxy_arp_wifi off mcast_router 1 mcast_fast_leave off mcast_flood on bcast_flood on ` +
      `mcast_to_unicast off neigh_suppress off group_fwd_mask 0 group_fwd_mask_str 0x0 vlan_tunnel off isolated off locked off `;
  }
  if (dev.kind !== "loopback") text += "addrgenmode eui64 ";
  text += "numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536 ";
  return text;
}

/** print_stats64: the RX/TX table of `ip -s link`, columns sized to the numbers. */
export function statsLines(dev: NetDevice, opts: IpOptions): string {
  const S = sl(opts);
  const s = dev.stats;
  const cols = [10, 7, 6, 7, 7, 7, 10, 9];
  const widen = (values: number[]) => {
    values.forEach((v, i) => {
      const len = String(v).length;
      if (len > cols[i]!) cols[i] = len;
    });
  };
  widen([s.rxBytes, s.rxPackets, s.rxErrors, s.rxDropped, 0, s.multicast, 0, 0]);
  if (opts.stats > 1) widen([0, 0, 0, 0, 0, 0, 0, 0]);
  widen([s.txBytes, s.txPackets, s.txErrors, s.txDropped, 0, 0, 0, 0]);
  const c = (i: number) => cols[i]!;
  const num = (i: number, v: number) => `${String(v).padStart(c(i))} `;
  let text = `${S}    RX: ${"bytes".padStart(c(0) - 4)} ${"packets".padStart(c(1))} ${"errors".padStart(c(2))} ${"dropped".padStart(c(3))} ${"missed".padStart(c(4))} ${"mcast".padStart(c(5))} ${"".padStart(c(6))}${S}`;
  text += `    ${num(0, s.rxBytes)}${num(1, s.rxPackets)}${num(2, s.rxErrors)}${num(3, s.rxDropped)}${num(4, 0)}${num(5, s.multicast)}`;
  if (opts.stats > 1) {
    text += `${S}    RX errors:${"".padStart(c(0) - 10)} ${"length".padStart(c(1))} ${"crc".padStart(c(2))} ${"frame".padStart(c(3))} ${"fifo".padStart(c(4))} ${"overrun".padStart(c(5))}${S}`;
    text += `${"".padStart(c(0) + 5)}${num(1, 0)}${num(2, 0)}${num(3, 0)}${num(4, 0)}${num(5, 0)}`;
  }
  text += S;
  text += `    TX: ${"bytes".padStart(c(0) - 4)} ${"packets".padStart(c(1))} ${"errors".padStart(c(2))} ${"dropped".padStart(c(3))} ${"carrier".padStart(c(4))} ${"collsns".padStart(c(5))} ${"".padStart(c(6))}${S}`;
  text += `    ${num(0, s.txBytes)}${num(1, s.txPackets)}${num(2, s.txErrors)}${num(3, s.txDropped)}${num(4, 0)}${num(5, 0)}`;
  if (opts.stats > 1) {
    text += `${S}    TX errors:${"".padStart(c(0) - 10)} ${"aborted".padStart(c(1))} ${"fifo".padStart(c(2))} ${"window".padStart(c(3))} ${"heartbt".padStart(c(4))} ${"transns".padStart(c(5))}${S}`;
    text += `${"".padStart(c(0) + 5)}${num(1, 0)}${num(2, 0)}${num(3, 0)}${num(4, 0)}${num(5, 0)}`;
  }
  return text;
}

/**
 * One link as `ip link` / `ip addr` print it, up to and excluding the final
 * newline's successors (addresses follow). `doLink` is true for `ip link`
 * (adds `mode DEFAULT` and, with -s, the counters).
 */
export function formatLink(view: IpView, dev: NetDevice, doLink: boolean): string {
  const { opts } = view;
  const bb = opts.flavour === "busybox";
  const { name, mdown } = nameAndLink(view, dev);
  const flags = ifFlags(dev);
  if (opts.brief && !bb) {
    let text = `${name.padEnd(16)} ${dev.operstate.padEnd(14)} `;
    if (doLink) text += `${mac(dev)} ${linkFlags(flags, mdown, "gnu")}\n`;
    return text;
  }
  const S = sl(opts);
  let text = `${dev.ifindex}: ${name}: ${linkFlags(flags, mdown, opts.flavour)}mtu ${dev.mtu} qdisc ${qdiscName(dev)} `;
  if (dev.master) text += `master ${dev.master.name} `;
  if (bb) {
    if (dev.txqlen) text += `qlen ${dev.txqlen}`;
  } else {
    text += `state ${dev.operstate} `;
    if (doLink) text += "mode DEFAULT ";
    text += "group default ";
    if (dev.txqlen) text += `qlen ${dev.txqlen}`;
  }
  if (opts.family === undefined || opts.family === "link" || opts.details > 0) {
    const type = linkType(dev);
    text += `${S}    link/${type} `;
    if (type !== "none") text += `${mac(dev)} brd ${linkBroadcast(dev)}`;
    const other = bb ? undefined : peerNetns(dev);
    if (other !== undefined) {
      // get_name_from_nsid: a named namespace with this id in ours prints by name.
      const id = view.ns.nsidOf(other);
      const named = netnsName(view.ctx, other);
      text += named !== undefined ? ` link-netns ${named}` : ` link-netnsid ${id}`;
    }
    if (opts.details > 0 && !bb) text += detailsLines(view, dev);
  }
  if ((doLink || opts.details > 0) && dev.alias !== "" && !bb) text += `${S}    alias ${dev.alias}`;
  if (doLink && opts.stats > 0 && !bb) text += statsLines(dev, opts);
  return `${text}\n`;
}

/** rtnl_rtscope_n2a. */
export function scopeName(scope: IfAddr["scope"] | Route["scope"]): string {
  return scope === "universe" ? "global" : scope;
}

/** One IPv4 address line (and its lifetime line) of `ip addr`, or `A/LEN ` under -br. */
export function formatAddr(view: IpView, dev: NetDevice, a: IfAddr): string {
  const { opts } = view;
  if (opts.brief && opts.flavour === "gnu") return `${formatIpv4Addr(a.addr)}/${a.prefixLen} `;
  let text = opts.oneline ? `${dev.ifindex}: ${dev.name}` : "";
  text += `    inet ${formatIpv4Addr(a.addr)}/${a.prefixLen} `;
  if (a.broadcast !== undefined) text += `brd ${formatIpv4Addr(a.broadcast)} `;
  text += `scope ${scopeName(a.scope)} `;
  if (a.secondary) text += "secondary ";
  text += a.label;
  text += `${sl(opts)}       valid_lft forever preferred_lft forever\n`;
  return text;
}

/** rtnl_rttable_n2a. */
export function tableName(id: number): string {
  if (id === 255) return "local";
  if (id === 254) return "main";
  if (id === 253) return "default";
  return String(id);
}

/** Filters that take fields out of a route line (`ip route show dev X` drops `dev X`). */
export interface RouteFilter {
  /** The table asked for; 0 for all. */
  table: number;
  oif?: NetDevice | undefined;
  /** Fields the selector fixed, which iproute2 then leaves out of each line. */
  proto?: boolean;
  scope?: boolean;
  metric?: boolean;
  /** A `via`/`src` selector that names one address (a /32). */
  viaHost?: boolean;
  srcHost?: boolean;
}

/** Whether the kernel would mark the route's nexthop RTNH_F_LINKDOWN. */
function linkdown(r: Route): boolean {
  return r.dev !== undefined && r.type !== "local" && r.dev.adminUp && !r.dev.carrier;
}

/** One route as print_route (iproute2) or busybox's print_route writes it. */
export function formatRoute(view: IpView, r: Route, filter: RouteFilter): string {
  const bb = view.opts.flavour === "busybox";
  const details = view.opts.details > 0 && !bb;
  let text = "";
  if (r.type !== "unicast" || details) text += `${r.type} `;
  text += r.dstLen === 0 ? "default " : r.dstLen === 32 ? `${formatIpv4Addr(r.dst)} ` : `${formatIpv4Addr(r.dst)}/${r.dstLen} `;
  if (r.gateway !== undefined && (bb || !filter.viaHost)) text += `via ${formatIpv4Addr(r.gateway)} `;
  if (r.dev !== undefined && (bb || filter.oif === undefined)) text += `dev ${r.dev.name} `;
  if ((r.table !== RT_TABLE_MAIN || details) && filter.table === 0) text += `table ${tableName(r.table)} `;
  if (bb) {
    if (r.scope !== "universe") text += `scope ${scopeName(r.scope)} `;
    if (r.prefsrc !== undefined) text += ` src ${formatIpv4Addr(r.prefsrc)} `;
    if (r.metric !== 0) text += ` metric ${r.metric} `;
    if (r.onlink) text += "onlink ";
    return `${text}\n`;
  }
  if ((r.proto !== "boot" || details) && !filter.proto) text += `proto ${r.proto} `;
  if ((r.scope !== "universe" || details) && !filter.scope) text += `scope ${scopeName(r.scope)} `;
  if (r.prefsrc !== undefined && !filter.srcHost) text += `src ${formatIpv4Addr(r.prefsrc)} `;
  if (r.metric !== 0 && !filter.metric) text += `metric ${r.metric} `;
  if (r.onlink) text += "onlink ";
  if (linkdown(r)) text += "linkdown ";
  return `${text}\n`;
}

const VALID_STATES = new Set(["PERMANENT", "NOARP", "REACHABLE", "PROBE", "STALE", "DELAY"]);

/** One neighbour entry as `ip neigh` prints it; `dev` is left out when filtering on it. */
export function formatNeigh(view: IpView, n: Neighbour, options: { filteredDev: boolean }): string {
  const bb = view.opts.flavour === "busybox";
  let text = `${formatIpv4Addr(n.addr)} `;
  if (!options.filteredDev) text += `dev ${n.dev.name} `;
  const withMac = n.mac !== undefined && VALID_STATES.has(n.state);
  if (bb) {
    if (withMac) text += `lladdr ${formatMacAddr(n.mac!)}`;
    if (n.router) text += " router";
    const now = view.ns.kernel.clock.now();
    const secs = (t: number) => Math.floor((now - t) / 1000);
    text += ` used ${secs(n.updatedAt)}/${secs(n.confirmedAt)}/${secs(n.updatedAt)} probes ${n.probes} ${n.state}\n`;
    return text;
  }
  if (withMac) text += `lladdr ${formatMacAddr(n.mac!)} `;
  if (n.router) text += "router ";
  text += `${n.state} \n`;
  return text;
}
