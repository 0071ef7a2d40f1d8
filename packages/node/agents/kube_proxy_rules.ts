/**
 * kube-proxy's iptables mode as a pure function: Services and EndpointSlices
 * in, the `iptables-restore --noflush` input out, written the way
 * `pkg/proxy/iptables/proxier.go` (≈1.29–1.30) writes it — the same chain
 * names (sha256 → base32, 16 characters), the same per-service-port rule
 * order, comments, `statistic` probabilities, KUBE-SEP DNAT rules, masquerade
 * mark and REJECT rules for services without endpoints.
 *
 * One difference: kube-proxy walks services in Go map order (a different
 * order on every sync); here they are walked sorted by service port name, so
 * the output is stable. Topology hints, loadBalancer IPs and nfacct are not
 * modelled.
 */
import { createHash } from "node:crypto";
import type { EndpointSlice, Service } from "@kemu/api";

/** Chain names kube-proxy owns (§A.1). */
export const KUBE_SERVICES = "KUBE-SERVICES";
/** filter chain for external destinations without endpoints. */
export const KUBE_EXTERNAL_SERVICES = "KUBE-EXTERNAL-SERVICES";
/** nat chain of NodePort captures; filter chain of health-check node ports. */
export const KUBE_NODEPORTS = "KUBE-NODEPORTS";
/** nat chain that masquerades marked traffic. */
export const KUBE_POSTROUTING = "KUBE-POSTROUTING";
/** nat chain that sets the masquerade mark. */
export const KUBE_MARK_MASQ = "KUBE-MARK-MASQ";
/** filter chain accepting marked and established forwarded traffic. */
export const KUBE_FORWARD = "KUBE-FORWARD";
/** filter chain for loadBalancerSourceRanges drops. */
export const KUBE_PROXY_FIREWALL = "KUBE-PROXY-FIREWALL";
/** filter chain blocking martian localnet connections (shared with kubelet). */
export const KUBE_FIREWALL = "KUBE-FIREWALL";
/** The empty chain kube-proxy watches to notice a flushed table. */
export const KUBE_PROXY_CANARY = "KUBE-PROXY-CANARY";

/** Standard RFC 4648 base32 (A–Z 2–7), with padding. */
export function base32(bytes: Uint8Array): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const b of bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += alphabet[(buffer << (5 - bits)) & 31];
  while (out.length % 8 !== 0) out += "=";
  return out;
}

function hash16(text: string): string {
  return base32(createHash("sha256").update(text).digest()).slice(0, 16);
}

/** kube-proxy's `portProtoHash`: the 16 characters after `KUBE-SVC-`/`KUBE-SVL-`/`KUBE-EXT-`/`KUBE-FW-`. */
export function portProtoHash(servicePortName: string, protocol: string): string {
  return hash16(servicePortName + protocol.toLowerCase());
}

/** `KUBE-SVC-…` for a service port name (`ns/name[:port]`) and protocol. */
export function serviceChainName(servicePortName: string, protocol: string): string {
  return `KUBE-SVC-${portProtoHash(servicePortName, protocol)}`;
}

/** `KUBE-SEP-…` for one endpoint (`ip:port`) of a service port. */
export function endpointChainName(servicePortName: string, protocol: string, endpoint: string): string {
  return `KUBE-SEP-${hash16(servicePortName + protocol.toLowerCase() + endpoint)}`;
}

/** `ServicePortName.String()`: `ns/name`, plus `:port` when the port has a name. */
export function servicePortNameString(namespace: string, name: string, portName: string | undefined): string {
  return `${namespace}/${name}${portName ? `:${portName}` : ""}`;
}

/** `%0.10f` of 1/n, as kube-proxy's `probability`. */
export function probability(n: number): string {
  return (1 / n).toFixed(10);
}

/** What the rules are computed from. */
export interface ProxyRulesInput {
  services: readonly Service[];
  endpointSlices: readonly EndpointSlice[];
  /** This node's name (endpoints' `nodeName`: which are local). */
  nodeName: string;
  /** The cluster (pod) CIDR of the ClusterCIDR local detector; undefined: no detector (no `! -s` masquerade rule). */
  clusterCIDR?: string | undefined;
  /** `--masquerade-all`. */
  masqueradeAll?: boolean;
  /** `--iptables-masquerade-bit`, default 14 (mark 0x4000). */
  masqueradeBit?: number;
  /** Whether iptables supports `--random-fully` (1.6.2+); default true. */
  randomFully?: boolean;
  /** `--iptables-localhost-nodeports`, default true. */
  localhostNodePorts?: boolean;
  /** nf_conntrack_tcp_be_liberal set: no INVALID drop rule. */
  conntrackTCPLiberal?: boolean;
  /** Chains that exist now in nat (from iptables-save): stale service chains among them are flushed and deleted. */
  existingNatChains?: Iterable<string>;
}

/** One endpoint of a service port, as the endpoint slice cache holds it. */
export interface ProxyEndpoint {
  ip: string;
  port: number;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  local: boolean;
  /** `ip:port`. */
  readonly str: string;
}

/** One service port, as the proxier's service map holds it. */
export interface ProxyServicePort {
  namespace: string;
  name: string;
  portName: string;
  /** `ns/name[:port]`. */
  nameString: string;
  protocol: string;
  clusterIP: string;
  port: number;
  nodePort: number;
  externalIPs: string[];
  healthCheckNodePort: number;
  sessionAffinityClientIP: boolean;
  stickyMaxAgeSeconds: number;
  internalPolicyLocal: boolean;
  externalPolicyLocal: boolean;
}

/** The service ports kube-proxy programs (not headless, not ExternalName), sorted by name. */
export function servicePorts(services: readonly Service[]): ProxyServicePort[] {
  const out: ProxyServicePort[] = [];
  for (const svc of services) {
    const spec = svc.spec;
    const type = spec.type ?? "ClusterIP";
    if (type === "ExternalName") continue;
    const clusterIP = spec.clusterIP ?? "";
    if (clusterIP === "" || clusterIP === "None") continue;
    const namespace = svc.metadata.namespace ?? "default";
    const name = svc.metadata.name ?? "";
    const affinity = spec.sessionAffinity === "ClientIP";
    const cfg = spec["sessionAffinityConfig"] as { clientIP?: { timeoutSeconds?: number } } | undefined;
    const ext = type === "NodePort" || type === "LoadBalancer";
    for (const p of spec.ports ?? []) {
      out.push({
        namespace,
        name,
        portName: p.name ?? "",
        nameString: servicePortNameString(namespace, name, p.name),
        protocol: (p.protocol ?? "TCP").toLowerCase(),
        clusterIP,
        port: p.port,
        nodePort: ext ? (p.nodePort ?? 0) : 0,
        externalIPs: ((spec["externalIPs"] as string[] | undefined) ?? []).slice(),
        healthCheckNodePort: ext && spec.externalTrafficPolicy === "Local" ? ((spec["healthCheckNodePort"] as number | undefined) ?? 0) : 0,
        sessionAffinityClientIP: affinity,
        stickyMaxAgeSeconds: cfg?.clientIP?.timeoutSeconds ?? 10800,
        internalPolicyLocal: spec.internalTrafficPolicy === "Local",
        externalPolicyLocal: ext && spec.externalTrafficPolicy === "Local",
      });
    }
  }
  return out.sort((a, b) => cmp(a.nameString + "/" + a.protocol, b.nameString + "/" + b.protocol));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The slices of each service, by `namespace/name`, indexed once per list (a sync asks for every service's). */
const sliceIndex = new WeakMap<readonly EndpointSlice[], Map<string, EndpointSlice[]>>();

function slicesOfService(slices: readonly EndpointSlice[], namespace: string, name: string): readonly EndpointSlice[] {
  let index = sliceIndex.get(slices);
  if (index === undefined) {
    index = new Map();
    for (const s of slices) {
      const svc = s.metadata.labels?.["kubernetes.io/service-name"];
      if (svc === undefined) continue;
      const key = `${s.metadata.namespace ?? "default"}/${svc}`;
      const list = index.get(key);
      if (list === undefined) index.set(key, [s]);
      else list.push(s);
    }
    sliceIndex.set(slices, index);
  }
  return index.get(`${namespace}/${name}`) ?? [];
}

/**
 * The endpoints of one service port from the EndpointSlices labelled with its
 * service: matched by port name and protocol, deduplicated by `ip:port` and
 * sorted by that string (`byEndpoint` in endpointslicecache.go).
 */
export function endpointsFor(sp: ProxyServicePort, slices: readonly EndpointSlice[], nodeName: string): ProxyEndpoint[] {
  const byKey = new Map<string, ProxyEndpoint>();
  for (const s of slicesOfService(slices, sp.namespace, sp.name)) {
    if (s.addressType !== "IPv4") continue;
    for (const port of s.ports ?? []) {
      if ((port.name ?? "") !== sp.portName) continue;
      if ((port.protocol ?? "TCP").toLowerCase() !== sp.protocol) continue;
      if (port.port === undefined) continue;
      for (const e of s.endpoints ?? []) {
        const ip = e.addresses[0];
        if (ip === undefined) continue;
        const ready = e.conditions?.ready ?? true;
        const serving = e.conditions?.serving ?? ready;
        const terminating = e.conditions?.terminating ?? false;
        const str = `${ip}:${port.port}`;
        if (byKey.has(str)) continue;
        byKey.set(str, { ip, port: port.port, ready, serving, terminating, local: e.nodeName === nodeName, str });
      }
    }
  }
  return [...byKey.values()].sort((a, b) => cmp(a.str, b.str));
}

function externallyAccessible(sp: ProxyServicePort): boolean {
  return sp.nodePort !== 0 || sp.externalIPs.length > 0;
}
function usesClusterEndpoints(sp: ProxyServicePort): boolean {
  return !sp.internalPolicyLocal || (externallyAccessible(sp) && !sp.externalPolicyLocal);
}
function usesLocalEndpoints(sp: ProxyServicePort): boolean {
  return sp.internalPolicyLocal || (externallyAccessible(sp) && sp.externalPolicyLocal);
}

/** `proxy.CategorizeEndpoints`, without topology: cluster, local and all locally reachable endpoints. */
export function categorizeEndpoints(
  sp: ProxyServicePort,
  endpoints: readonly ProxyEndpoint[],
): { cluster: ProxyEndpoint[]; local: ProxyEndpoint[]; reachable: ProxyEndpoint[]; hasAny: boolean } {
  let cluster: ProxyEndpoint[] = [];
  let local: ProxyEndpoint[] = [];
  let hasAny = false;
  if (usesClusterEndpoints(sp)) {
    cluster = endpoints.filter((e) => e.ready);
    if (cluster.length === 0) cluster = endpoints.filter((e) => e.serving && e.terminating);
    if (cluster.length > 0) hasAny = true;
  }
  if (!usesLocalEndpoints(sp)) return { cluster, local, reachable: cluster, hasAny };
  let localReady = false;
  let localST = false;
  for (const e of endpoints) {
    if (e.ready) {
      hasAny = true;
      if (e.local) localReady = true;
    } else if (e.serving && e.terminating) {
      hasAny = true;
      if (e.local) localST = true;
    }
  }
  if (localReady) local = endpoints.filter((e) => e.local && e.ready);
  else if (localST) local = endpoints.filter((e) => e.local && e.serving && e.terminating);
  if (!usesClusterEndpoints(sp)) return { cluster, local, reachable: local, hasAny };
  if (local.length === 0) return { cluster, local, reachable: cluster, hasAny };
  if (cluster.length === 0) return { cluster, local, reachable: local, hasAny };
  const seen = new Set<string>();
  const reachable: ProxyEndpoint[] = [];
  for (const e of [...cluster, ...local]) {
    if (seen.has(e.str)) continue;
    seen.add(e.str);
    reachable.push(e);
  }
  return { cluster, local, reachable, hasAny };
}

/** `%#08x` of the mark, as kube-proxy formats it (`0x004000`). */
function markString(bit: number): string {
  return `0x${(1 << bit).toString(16).padStart(6, "0")}`;
}

/** Endpoints beyond which kube-proxy leaves out per-endpoint comments (`largeClusterEndpointsThreshold`). */
export const LARGE_CLUSTER_ENDPOINTS = 1000;

const SERVICE_CHAIN_PREFIXES = ["KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-", "KUBE-FW-", "KUBE-SEP-"];

/** True for the per-service chains kube-proxy deletes when stale. */
export function isServiceChainName(chain: string): boolean {
  return SERVICE_CHAIN_PREFIXES.some((p) => chain.startsWith(p));
}

/** The result of one rule computation. */
export interface ProxyRules {
  /** The `iptables-restore --noflush` input. */
  restore: string;
  /** nat chains the rules use (per-service ones among them). */
  activeNatChains: Set<string>;
}

/**
 * One full sync's `iptables-restore` input: `*filter` (top-level chain lines,
 * KUBE-FIREWALL, REJECT/DROP rules for services without usable endpoints,
 * KUBE-FORWARD), then `*nat` (KUBE-POSTROUTING, KUBE-MARK-MASQ, each
 * service port's KUBE-SERVICES/KUBE-NODEPORTS captures and its
 * KUBE-SVC/SVL/EXT/SEP chains, stale chains deleted, the KUBE-NODEPORTS tail
 * call last).
 */
export function proxyRules(input: ProxyRulesInput): ProxyRules {
  const mark = markString(input.masqueradeBit ?? 14);
  const filterChains: string[] = [];
  const filterRules: string[] = [];
  const natChains: string[] = [];
  const natRules: string[] = [];
  const chainLine = (c: string) => `:${c} - [0:0]`;
  for (const c of [KUBE_SERVICES, KUBE_EXTERNAL_SERVICES, KUBE_FORWARD, KUBE_NODEPORTS, KUBE_PROXY_FIREWALL]) filterChains.push(chainLine(c));
  for (const c of [KUBE_SERVICES, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_MARK_MASQ]) natChains.push(chainLine(c));

  natRules.push(`-A ${KUBE_POSTROUTING} -m mark ! --mark ${mark}/${mark} -j RETURN`);
  natRules.push(`-A ${KUBE_POSTROUTING} -j MARK --xor-mark ${mark}`);
  natRules.push(`-A ${KUBE_POSTROUTING} -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE${input.randomFully === false ? "" : " --random-fully"}`);
  natRules.push(`-A ${KUBE_MARK_MASQ} -j MARK --or-mark ${mark}`);

  const localhostNodePorts = input.localhostNodePorts ?? true;
  if (localhostNodePorts) {
    filterChains.push(chainLine(KUBE_FIREWALL));
    filterRules.push(`-A ${KUBE_FIREWALL} -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP`);
  }

  const active = new Set<string>();
  const detector = input.clusterCIDR;
  const ports = servicePorts(input.services);
  const endpointsOf = new Map(ports.map((sp) => [sp, endpointsFor(sp, input.endpointSlices, input.nodeName)]));
  // Large-cluster mode (more than 1000 endpoints): no per-endpoint comments.
  const largeCluster = [...endpointsOf.values()].reduce((n, eps) => n + eps.length, 0) > LARGE_CLUSTER_ENDPOINTS;
  const comment = (text: string) => (largeCluster ? "" : ` -m comment --comment ${text}`);
  for (const sp of ports) {
    const proto = sp.protocol;
    const spn = sp.nameString;
    const h = portProtoHash(spn, proto);
    const endpoints = endpointsOf.get(sp)!;
    const { cluster, local, reachable, hasAny } = categorizeEndpoints(sp, endpoints);
    const sepChain = (e: ProxyEndpoint) => endpointChainName(spn, proto, e.str);
    for (const e of reachable) active.add(sepChain(e));

    const clusterPolicyChain = `KUBE-SVC-${h}`;
    const usesClusterPolicyChain = cluster.length > 0 && usesClusterEndpoints(sp);
    if (usesClusterPolicyChain) active.add(clusterPolicyChain);
    const localPolicyChain = `KUBE-SVL-${h}`;
    const usesLocalPolicyChain = local.length > 0 && usesLocalEndpoints(sp);
    if (usesLocalPolicyChain) active.add(localPolicyChain);

    let internalPolicyChain = clusterPolicyChain;
    let hasInternal = hasAny;
    if (sp.internalPolicyLocal) {
      internalPolicyChain = localPolicyChain;
      if (local.length === 0) hasInternal = false;
    }
    let externalPolicyChain = clusterPolicyChain;
    let hasExternal = hasAny;
    if (sp.externalPolicyLocal) {
      externalPolicyChain = localPolicyChain;
      if (local.length === 0) hasExternal = false;
    }
    const extChain = `KUBE-EXT-${h}`;
    const usesExt = hasAny && externallyAccessible(sp);
    if (usesExt) active.add(extChain);

    let internalFilterTarget = "";
    let internalFilterComment = "";
    let externalFilterTarget = "";
    let externalFilterComment = "";
    if (!hasAny) {
      internalFilterTarget = externalFilterTarget = "REJECT";
      internalFilterComment = externalFilterComment = `"${spn} has no endpoints"`;
    } else {
      if (!hasInternal) {
        internalFilterTarget = "DROP";
        internalFilterComment = `"${spn} has no local endpoints"`;
      }
      if (!hasExternal) {
        externalFilterTarget = "DROP";
        externalFilterComment = `"${spn} has no local endpoints"`;
      }
    }

    const clusterMatch = `-m comment --comment "${spn} cluster IP" -m ${proto} -p ${proto} -d ${sp.clusterIP} --dport ${sp.port}`;
    // Capture the clusterIP.
    if (hasInternal) natRules.push(`-A ${KUBE_SERVICES} ${clusterMatch} -j ${internalPolicyChain}`);
    else filterRules.push(`-A ${KUBE_SERVICES} -m comment --comment ${internalFilterComment} -m ${proto} -p ${proto} -d ${sp.clusterIP} --dport ${sp.port} -j ${internalFilterTarget}`);

    // Capture externalIPs.
    for (const ip of sp.externalIPs) {
      if (hasAny) natRules.push(`-A ${KUBE_SERVICES} -m comment --comment "${spn} external IP" -m ${proto} -p ${proto} -d ${ip} --dport ${sp.port} -j ${extChain}`);
      if (!hasExternal) filterRules.push(`-A ${KUBE_EXTERNAL_SERVICES} -m comment --comment ${externalFilterComment} -m ${proto} -p ${proto} -d ${ip} --dport ${sp.port} -j ${externalFilterTarget}`);
    }

    // Capture nodeports.
    if (sp.nodePort !== 0) {
      if (hasAny) natRules.push(`-A ${KUBE_NODEPORTS} -m comment --comment ${spn} -m ${proto} -p ${proto} --dport ${sp.nodePort} -j ${extChain}`);
      if (!hasExternal) filterRules.push(`-A ${KUBE_EXTERNAL_SERVICES} -m comment --comment ${externalFilterComment} -m addrtype --dst-type LOCAL -m ${proto} -p ${proto} --dport ${sp.nodePort} -j ${externalFilterTarget}`);
    }

    // Capture healthCheckNodePorts.
    if (sp.healthCheckNodePort !== 0) {
      filterRules.push(`-A ${KUBE_NODEPORTS} -m comment --comment "${spn} health check node port" -m tcp -p tcp --dport ${sp.healthCheckNodePort} -j ACCEPT`);
    }

    // Internal traffic handling: masquerade off-cluster clients.
    if (hasInternal) {
      if (input.masqueradeAll) natRules.push(`-A ${internalPolicyChain} ${clusterMatch} -j ${KUBE_MARK_MASQ}`);
      else if (detector !== undefined) natRules.push(`-A ${internalPolicyChain} ${clusterMatch} ! -s ${detector} -j ${KUBE_MARK_MASQ}`);
    }

    // External traffic handling.
    if (usesExt) {
      natChains.push(chainLine(extChain));
      if (!sp.externalPolicyLocal) {
        natRules.push(`-A ${extChain} -m comment --comment "masquerade traffic for ${spn} external destinations" -j ${KUBE_MARK_MASQ}`);
      } else {
        if (detector !== undefined) natRules.push(`-A ${extChain} -m comment --comment "pod traffic for ${spn} external destinations" -s ${detector} -j ${clusterPolicyChain}`);
        natRules.push(`-A ${extChain} -m comment --comment "masquerade LOCAL traffic for ${spn} external destinations" -m addrtype --src-type LOCAL -j ${KUBE_MARK_MASQ}`);
        natRules.push(`-A ${extChain} -m comment --comment "route LOCAL traffic for ${spn} external destinations" -m addrtype --src-type LOCAL -j ${clusterPolicyChain}`);
      }
      if (hasExternal) natRules.push(`-A ${extChain} -j ${externalPolicyChain}`);
    }

    const toEndpoints = (chain: string, eps: readonly ProxyEndpoint[]) => {
      if (sp.sessionAffinityClientIP) {
        for (const e of eps) {
          natRules.push(`-A ${chain}${comment(`"${spn} -> ${e.str}"`)} -m recent --name ${sepChain(e)} --rcheck --seconds ${sp.stickyMaxAgeSeconds} --reap -j ${sepChain(e)}`);
        }
      }
      eps.forEach((e, i) => {
        const stat = i < eps.length - 1 ? ` -m statistic --mode random --probability ${probability(eps.length - i)}` : "";
        natRules.push(`-A ${chain}${comment(`"${spn} -> ${e.str}"`)}${stat} -j ${sepChain(e)}`);
      });
    };
    if (usesClusterPolicyChain) {
      natChains.push(chainLine(clusterPolicyChain));
      toEndpoints(clusterPolicyChain, cluster);
    }
    if (usesLocalPolicyChain) {
      natChains.push(chainLine(localPolicyChain));
      toEndpoints(localPolicyChain, local);
    }

    // The per-endpoint chains.
    for (const e of reachable) {
      const c = sepChain(e);
      natChains.push(chainLine(c));
      natRules.push(`-A ${c}${comment(spn)} -s ${e.ip} -j ${KUBE_MARK_MASQ}`);
      const recent = sp.sessionAffinityClientIP ? ` -m recent --name ${c} --set` : "";
      natRules.push(`-A ${c}${comment(spn)}${recent} -m ${proto} -p ${proto} -j DNAT --to-destination ${e.str}`);
    }
  }

  // Stale service chains: a chain line flushes, -X deletes.
  const stale = [...(input.existingNatChains ?? [])].filter((c) => isServiceChainName(c) && !active.has(c)).sort();
  for (const c of stale) {
    natChains.push(chainLine(c));
    natRules.push(`-X ${c}`);
  }

  // Tail call to the nodePorts chain: after every service portal rule.
  natRules.push(
    `-A ${KUBE_SERVICES} -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL${localhostNodePorts ? "" : " ! -d 127.0.0.0/8"} -j ${KUBE_NODEPORTS}`,
  );

  if (!input.conntrackTCPLiberal) filterRules.push(`-A ${KUBE_FORWARD} -m conntrack --ctstate INVALID -j DROP`);
  filterRules.push(`-A ${KUBE_FORWARD} -m comment --comment "kubernetes forwarding rules" -m mark --mark ${mark}/${mark} -j ACCEPT`);
  filterRules.push(`-A ${KUBE_FORWARD} -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);

  const restore = ["*filter", ...filterChains, ...filterRules, "COMMIT", "*nat", ...natChains, ...natRules, "COMMIT", ""].join("\n");
  return { restore, activeNatChains: active };
}

/** One jump rule kube-proxy ensures in a built-in chain (§A.3). */
export interface JumpRule {
  table: "filter" | "nat";
  chain: string;
  /** The rule's arguments after the chain name (`-m … -j TARGET`). */
  args: string[];
}

/**
 * The jump rules kube-proxy ensures with `iptables -I` (so in the end each
 * built-in chain holds them in the reverse of this order), in its list order.
 */
export function jumpRules(): JumpRule[] {
  const rules: JumpRule[] = [];
  const add = (table: JumpRule["table"], dst: string, srcs: string[], comment: string, extra: string[] = []) => {
    for (const chain of srcs) rules.push({ table, chain, args: [...extra, "-m", "comment", "--comment", comment, "-j", dst] });
  };
  const ctNew = ["-m", "conntrack", "--ctstate", "NEW"];
  add("filter", KUBE_EXTERNAL_SERVICES, ["INPUT", "FORWARD"], "kubernetes externally-visible service portals", ctNew);
  add("filter", KUBE_NODEPORTS, ["INPUT"], "kubernetes health check service ports");
  add("filter", KUBE_SERVICES, ["FORWARD", "OUTPUT"], "kubernetes service portals", ctNew);
  add("filter", KUBE_FORWARD, ["FORWARD"], "kubernetes forwarding rules");
  add("filter", KUBE_PROXY_FIREWALL, ["INPUT", "OUTPUT", "FORWARD"], "kubernetes load balancer firewall", ctNew);
  add("nat", KUBE_SERVICES, ["OUTPUT", "PREROUTING"], "kubernetes service portals");
  add("nat", KUBE_POSTROUTING, ["POSTROUTING"], "kubernetes postrouting rules");
  return rules;
}
