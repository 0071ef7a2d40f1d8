// Figure 4 in ipvs mode: what kube-proxy's ipvs sync does for N Services
// (2 endpoints each) — kube-ipvs0 addresses, IPVS virtual and real servers,
// ipset entries, the §B rules through iptables-restore — and the wall cost
// of a new flow's first packet to a ClusterIP through IPVS.
import { netfilterOf, runRestore } from "@kemu/kernel";
import { parseCidr } from "@kemu/wire";
import { ipvsProxyState } from "../../packages/node/dist/agents/kube_proxy_ipvs.js";
import { twoPods } from "./datapath.mjs";
import { benchObjects, clusterIp, timeFirstPackets } from "./services.mjs";

const ip = (s) => parseCidr(`${s}/32`).addr;
/** One full ipvs-mode sync of `n` Services into the root namespace of a two-pod kernel; wall ms and the kernel. */
function sync(n) {
  const pods = twoPods();
  const root = pods.kernel.root;
  root.sysctl.set("net.ipv4.ip_forward", "1");
  const input = benchObjects(n);
  globalThis.gc?.();
  const t0 = performance.now();
  const state = ipvsProxyState({ ...input, nodeName: "node1", nodeAddresses: ["10.0.0.1"], clusterCIDR: "10.0.0.0/24" });
  const dummy = pods.kernel.createDummy(root, "kube-ipvs0");
  for (const a of state.boundAddresses) root.addAddress(dummy, { addr: ip(a), prefixLen: 32 });
  const nf = netfilterOf(root);
  for (const vs of state.virtualServers) {
    const svc = nf.ipvs.addService(vs.proto, ip(vs.addr), vs.port, "rr", vs.persistent);
    for (const d of vs.dests) nf.ipvs.addDest(svc, ip(d.addr), d.port, 1);
  }
  for (const s of state.ipsets) {
    const set = nf.ipsets.create(s.name, s.type, s.type === "bitmap:port" ? ["range", "0-65535"] : [], { exist: true });
    for (const e of s.entries) set.add(e, { exist: true });
  }
  const r = runRestore(nf, state.restore, { noflush: true });
  const ms = performance.now() - t0;
  if (r.exit !== 0) throw new Error(`iptables-restore: ${r.stderr}`);
  return { ms, ...pods };
}

/** Wall ms of a full ipvs-mode sync of `n` Services. */
export function ipvsSyncMs(n) {
  return sync(n).ms;
}

/** µs of wall time per new flow's first packet to the last Service's ClusterIP, through IPVS. */
export function ipvsFirstPacketUs(n, flows = 2000) {
  const { clock, a, b } = sync(n);
  a.addRoute({ dst: 0, dstLen: 0, gateway: parseCidr("10.0.0.1/32").addr });
  return timeFirstPackets({ clock, from: a, to: b, dst: ip(clusterIp(n - 1)), port: 53, serverPorts: [9000, 9001], flows });
}
