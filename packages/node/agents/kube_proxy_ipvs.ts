/**
 * kube-proxy's ipvs mode as data (pkg/proxy/ipvs/proxier.go, NETWORKING-FACTS
 * §B): from Services and EndpointSlices, the virtual servers with their real
 * servers, the addresses to bind on `kube-ipvs0`, the ipsets and their
 * entries, and the iptables rules (nat and filter) loaded with
 * `iptables-restore --noflush`.
 *
 * One difference from kube-proxy 1.26 and later, on purpose: no
 * KUBE-IPVS-FILTER chain, whose last rule rejects every new flow to a
 * ClusterIP that is not a service port — ping included. Without it a
 * ClusterIP answers ping, as the seed documents describe ipvs mode (and as
 * kube-proxy up to 1.25 behaves).
 */
import type { EndpointSlice, Service } from "@kemu/api";
import { categorizeEndpoints, endpointsFor, KUBE_FORWARD, KUBE_MARK_MASQ, KUBE_POSTROUTING, KUBE_PROXY_FIREWALL, KUBE_SERVICES, type JumpRule, servicePorts } from "./kube_proxy_rules.ts";

/** The dummy device that holds every ClusterIP (`defaultDummyDevice`). */
export const KUBE_IPVS_DEVICE = "kube-ipvs0";
export const KUBE_NODE_PORT = "KUBE-NODE-PORT";
export const KUBE_LOAD_BALANCER = "KUBE-LOAD-BALANCER";
export const KUBE_SOURCE_RANGES_FIREWALL = "KUBE-SOURCE-RANGES-FIREWALL";

/** One virtual server and its real servers. */
export interface IpvsVirtualServer {
  proto: 6 | 17;
  addr: string;
  port: number;
  scheduler: string;
  /** ClientIP affinity: persistence timeout, seconds. */
  persistent: number | undefined;
  dests: Array<{ addr: string; port: number }>;
}

/** One ipset kube-proxy keeps, with its entries in ipset's entry syntax. */
export interface ProxyIpset {
  name: string;
  type: string;
  comment: string;
  entries: string[];
}

/** What one ipvs-mode sync makes the node look like. */
export interface IpvsProxyState {
  virtualServers: IpvsVirtualServer[];
  /** Addresses bound to kube-ipvs0 (/32). */
  boundAddresses: string[];
  ipsets: ProxyIpset[];
  /** `iptables-restore --noflush` input: the nat and filter tables. */
  restore: string;
}

/** What the ipvs proxier is given. */
export interface IpvsProxyInput {
  services: readonly Service[];
  endpointSlices: readonly EndpointSlice[];
  nodeName: string;
  /** This node's own addresses, where NodePorts listen. */
  nodeAddresses: readonly string[];
  clusterCIDR?: string | undefined;
  /** `--ipvs-scheduler`; empty means rr. */
  scheduler?: string;
  randomFully?: boolean;
}

const SET_COMMENTS: Record<string, [string, string]> = {
  "KUBE-LOOP-BACK": ["hash:ip,port,ip", "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose"],
  "KUBE-CLUSTER-IP": ["hash:ip,port", "Kubernetes service cluster ip + port for masquerade purpose"],
  "KUBE-EXTERNAL-IP": ["hash:ip,port", "Kubernetes service external ip + port for masquerade and filter purpose"],
  "KUBE-EXTERNAL-IP-LOCAL": ["hash:ip,port", "Kubernetes service external ip + port with externalTrafficPolicy=local"],
  "KUBE-LOAD-BALANCER": ["hash:ip,port", "Kubernetes service lb portal"],
  "KUBE-NODE-PORT-TCP": ["bitmap:port", "Kubernetes nodeport TCP port for masquerade purpose"],
  "KUBE-NODE-PORT-LOCAL-TCP": ["bitmap:port", "Kubernetes nodeport TCP port with externalTrafficPolicy=local"],
  "KUBE-NODE-PORT-UDP": ["bitmap:port", "Kubernetes nodeport UDP port for masquerade purpose"],
  "KUBE-NODE-PORT-LOCAL-UDP": ["bitmap:port", "Kubernetes nodeport UDP port with externalTrafficPolicy=local"],
  "KUBE-HEALTH-CHECK-NODE-PORT": ["bitmap:port", "Kubernetes health check node port"],
};

/** The ipvs proxier's sync, computed. */
export function ipvsProxyState(input: IpvsProxyInput): IpvsProxyState {
  const scheduler = input.scheduler || "rr";
  const sets = new Map<string, Set<string>>(Object.keys(SET_COMMENTS).map((n) => [n, new Set<string>()]));
  const add = (set: string, entry: string) => sets.get(set)!.add(entry);
  const virtualServers: IpvsVirtualServer[] = [];
  const bound = new Set<string>();
  for (const sp of servicePorts(input.services)) {
    if (sp.protocol !== "tcp" && sp.protocol !== "udp") continue;
    const proto = sp.protocol === "tcp" ? 6 : 17;
    const endpoints = endpointsFor(sp, input.endpointSlices, input.nodeName);
    const { cluster, local } = categorizeEndpoints(sp, endpoints);
    const internal = sp.internalPolicyLocal ? local : cluster;
    const external = sp.externalPolicyLocal ? local : cluster;
    for (const e of endpoints) if (e.local) add("KUBE-LOOP-BACK", `${e.ip},${sp.protocol}:${e.port},${e.ip}`);
    const vs = (addr: string, port: number, dests: typeof cluster) => {
      virtualServers.push({
        proto,
        addr,
        port,
        scheduler,
        persistent: sp.sessionAffinityClientIP ? sp.stickyMaxAgeSeconds : undefined,
        dests: dests.map((d) => ({ addr: d.ip, port: d.port })),
      });
    };
    add("KUBE-CLUSTER-IP", `${sp.clusterIP},${sp.protocol}:${sp.port}`);
    bound.add(sp.clusterIP);
    vs(sp.clusterIP, sp.port, internal);
    for (const ip of sp.externalIPs) {
      add(sp.externalPolicyLocal ? "KUBE-EXTERNAL-IP-LOCAL" : "KUBE-EXTERNAL-IP", `${ip},${sp.protocol}:${sp.port}`);
      bound.add(ip);
      vs(ip, sp.port, external);
    }
    if (sp.nodePort !== 0) {
      const P = sp.protocol.toUpperCase();
      add(`KUBE-NODE-PORT-${P}`, String(sp.nodePort));
      if (sp.externalPolicyLocal) add(`KUBE-NODE-PORT-LOCAL-${P}`, String(sp.nodePort));
      for (const a of input.nodeAddresses) vs(a, sp.nodePort, external);
    }
    if (sp.healthCheckNodePort !== 0) add("KUBE-HEALTH-CHECK-NODE-PORT", String(sp.healthCheckNodePort));
  }

  const mark = "0x4000";
  const nat: string[] = ["*nat"];
  const natChains = [KUBE_SERVICES, KUBE_POSTROUTING, KUBE_NODE_PORT, KUBE_LOAD_BALANCER, KUBE_MARK_MASQ];
  for (const c of natChains) nat.push(`:${c} - [0:0]`);
  const set = (name: string, flags: string) => `-m set --match-set ${name} ${flags}`;
  const comment = (name: string) => `-m comment --comment "${SET_COMMENTS[name]![1]}"`;
  nat.push(`-A ${KUBE_SERVICES} -s 127.0.0.0/8 -j RETURN`);
  nat.push(`-A ${KUBE_POSTROUTING} ${comment("KUBE-LOOP-BACK")} ${set("KUBE-LOOP-BACK", "dst,dst,src")} -j MASQUERADE`);
  nat.push(`-A ${KUBE_POSTROUTING} -m mark ! --mark ${mark}/${mark} -j RETURN`);
  nat.push(`-A ${KUBE_POSTROUTING} -j MARK --xor-mark ${mark}`);
  nat.push(`-A ${KUBE_POSTROUTING} -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE${input.randomFully === false ? "" : " --random-fully"}`);
  nat.push(`-A ${KUBE_MARK_MASQ} -j MARK --or-mark ${mark}`);
  for (const P of ["TCP", "UDP"]) {
    const name = `KUBE-NODE-PORT-${P}`;
    if (sets.get(name)!.size === 0) continue;
    if (sets.get(`KUBE-NODE-PORT-LOCAL-${P}`)!.size > 0) {
      nat.push(`-A ${KUBE_NODE_PORT} -p ${P.toLowerCase()} ${comment(`KUBE-NODE-PORT-LOCAL-${P}`)} ${set(`KUBE-NODE-PORT-LOCAL-${P}`, "dst")} -j RETURN`);
    }
    nat.push(`-A ${KUBE_NODE_PORT} -p ${P.toLowerCase()} ${comment(name)} ${set(name, "dst")} -j ${KUBE_MARK_MASQ}`);
  }
  if (sets.get("KUBE-EXTERNAL-IP")!.size > 0) {
    nat.push(`-A ${KUBE_SERVICES} ${comment("KUBE-EXTERNAL-IP")} ${set("KUBE-EXTERNAL-IP", "dst,dst")} -j ${KUBE_MARK_MASQ}`);
  }
  const detector = input.clusterCIDR;
  nat.push(`-A ${KUBE_SERVICES} ${comment("KUBE-CLUSTER-IP")} ${set("KUBE-CLUSTER-IP", detector ? "dst,dst" : "src,dst")}${detector ? ` ! -s ${detector}` : ""} -j ${KUBE_MARK_MASQ}`);
  nat.push(`-A ${KUBE_SERVICES} -m addrtype --dst-type LOCAL -j ${KUBE_NODE_PORT}`);
  nat.push(`-A ${KUBE_LOAD_BALANCER} -j ${KUBE_MARK_MASQ}`);
  nat.push(`-A ${KUBE_SERVICES} ${set("KUBE-CLUSTER-IP", "dst,dst")} -j ACCEPT`);
  nat.push("COMMIT");

  const filter: string[] = ["*filter"];
  for (const c of [KUBE_FORWARD, KUBE_NODE_PORT, KUBE_PROXY_FIREWALL, KUBE_SOURCE_RANGES_FIREWALL]) filter.push(`:${c} - [0:0]`);
  filter.push(`-A ${KUBE_FORWARD} -m comment --comment "kubernetes forwarding rules" -m mark --mark ${mark}/${mark} -j ACCEPT`);
  filter.push(`-A ${KUBE_FORWARD} -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
  filter.push(`-A ${KUBE_NODE_PORT} ${comment("KUBE-HEALTH-CHECK-NODE-PORT")} ${set("KUBE-HEALTH-CHECK-NODE-PORT", "dst")} -j ACCEPT`);
  filter.push(`-A ${KUBE_SOURCE_RANGES_FIREWALL} -j DROP`);
  filter.push("COMMIT");

  const ipsets: ProxyIpset[] = [...sets.entries()].map(([name, entries]) => ({
    name,
    type: SET_COMMENTS[name]![0],
    comment: SET_COMMENTS[name]![1],
    entries: [...entries].sort(),
  }));
  return { virtualServers, boundAddresses: [...bound].sort(), ipsets, restore: `${nat.join("\n")}\n${filter.join("\n")}\n` };
}

/** `ipset restore` input that makes the sets hold exactly `sets`' entries (created when missing). */
export function ipsetRestore(sets: readonly ProxyIpset[]): string {
  const lines: string[] = [];
  for (const s of sets) {
    const range = s.type === "bitmap:port" ? " range 0-65535" : " family inet hashsize 1024 maxelem 65536";
    lines.push(`create ${s.name} ${s.type}${range} comment`);
    lines.push(`flush ${s.name}`);
    for (const e of s.entries) lines.push(`add ${s.name} ${e}`);
  }
  return `${lines.join("\n")}\n`;
}

/** The jump rules of ipvs mode (§B), in kube-proxy's list order (ensured with `-I`). */
export function ipvsJumpRules(): JumpRule[] {
  const rules: JumpRule[] = [];
  const add = (table: JumpRule["table"], dst: string, srcs: string[], comment: string, extra: string[] = []) => {
    for (const chain of srcs) rules.push({ table, chain, args: [...extra, "-m", "comment", "--comment", comment, "-j", dst] });
  };
  add("nat", KUBE_SERVICES, ["OUTPUT", "PREROUTING"], "kubernetes service portals");
  add("nat", KUBE_POSTROUTING, ["POSTROUTING"], "kubernetes postrouting rules");
  add("filter", KUBE_FORWARD, ["FORWARD"], "kubernetes forwarding rules");
  add("filter", KUBE_NODE_PORT, ["INPUT"], "kubernetes health check rules");
  add("filter", KUBE_PROXY_FIREWALL, ["INPUT", "FORWARD"], "kube-proxy firewall rules");
  return rules;
}
