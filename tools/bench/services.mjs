// Figure 4 (Services): kube-proxy's iptables rules for N Services (2
// endpoints each) loaded with iptables-restore into the netfilter engine,
// and the wall cost of a new connection's first packet through them.
import { netfilterOf, runRestore, UdpSocket } from "@kemu/kernel";
import { parseCidr } from "@kemu/wire";
import { jumpRules, proxyRules } from "../../packages/node/dist/agents/kube_proxy_rules.js";
import { twoPods } from "./datapath.mjs";

/** ClusterIP of the i-th bench Service, in 10.96.0.0/12. */
export const clusterIp = (i) => `10.96.${((i + 1) >> 8) & 255}.${(i + 1) & 255}`;

/** `n` UDP Services `svc0`… (port 53), each with two ready endpoints 10.0.0.3:9000 and :9001. */
export function benchObjects(n) {
  const services = [];
  const endpointSlices = [];
  for (let i = 0; i < n; i++) {
    const name = `svc${i}`;
    services.push({ apiVersion: "v1", kind: "Service", metadata: { namespace: "default", name }, spec: { clusterIP: clusterIp(i), ports: [{ name: "dns", port: 53, protocol: "UDP" }] } });
    for (const [suffix, port] of [["x", 9000], ["y", 9001]]) {
      endpointSlices.push({
        apiVersion: "discovery.k8s.io/v1",
        kind: "EndpointSlice",
        metadata: { namespace: "default", name: `${name}-${suffix}`, labels: { "kubernetes.io/service-name": name } },
        addressType: "IPv4",
        endpoints: [{ addresses: ["10.0.0.3"], conditions: { ready: true } }],
        ports: [{ name: "dns", port, protocol: "UDP" }],
      });
    }
  }
  return { services, endpointSlices };
}

/**
 * What kube-proxy (iptables mode) loads for `n` bench Services: its own
 * proxyRules output, with the jump rules from the built-in chains that it
 * ensures with `iptables -I` written in as well (same order as -I leaves them).
 */
export function kubeProxyRestore(n) {
  const { restore } = proxyRules({ ...benchObjects(n), nodeName: "node1", clusterCIDR: "10.0.0.0/24" });
  const quote = (a) => (/\s/.test(a) ? `"${a}"` : a);
  // Each table's jump rules go in before its COMMIT; -I leaves them in reverse list order.
  return restore.replace(/^\*(\w+)\n([^]*?)^COMMIT$/gm, (_, table, body) => {
    const jumps = jumpRules()
      .filter((j) => j.table === table)
      .reverse()
      .map((j) => `-A ${j.chain} ${j.args.map(quote).join(" ")}\n`);
    return `*${table}\n${body}${jumps.join("")}COMMIT`;
  });
}

/** Restores `n` Services' rules into pod a's namespace: wall ms. */
export function syncMs(n) {
  const { a } = twoPods();
  const text = kubeProxyRestore(n);
  globalThis.gc?.();
  const t0 = performance.now();
  const r = runRestore(netfilterOf(a), text);
  const ms = performance.now() - t0;
  if (r.exit !== 0) throw new Error(`iptables-restore: ${r.stderr}`);
  return ms;
}

/**
 * µs of wall time per new flow's first packet to the last Service's ClusterIP
 * (the worst case for a linear walk), from a socket of its own each time.
 */
export function firstPacketUs(n, flows = 2000) {
  const { clock, a, b } = twoPods();
  // ClusterIPs are routed like everything off-link: via the bridge (the node).
  a.addRoute({ dst: 0, dstLen: 0, gateway: parseCidr("10.0.0.1/32").addr });
  const r = runRestore(netfilterOf(a), kubeProxyRestore(n));
  if (r.exit !== 0) throw new Error(`iptables-restore: ${r.stderr}`);
  return timeFirstPackets({ clock, from: a, to: b, dst: parseCidr(clusterIp(n - 1)).addr, port: 53, serverPorts: [9000, 9001], flows });
}

/**
 * µs of wall time per first packet of `flows` new UDP flows from `from` to
 * `dst:port` (each from a socket of its own), after 200 to warm up; the
 * datagrams must reach `to` on one of `serverPorts`.
 */
export function timeFirstPackets({ clock, from, to, dst, port, serverPorts, flows }) {
  const rx = serverPorts.map((p) => {
    const s = new UdpSocket(to);
    s.bind(0, p);
    return s;
  });
  const payload = new Uint8Array(64);
  let got = 0;
  const run = (count) => {
    const socks = [];
    for (let i = 0; i < count; i++) {
      const s = new UdpSocket(from);
      s.sendTo(dst, port, payload);
      socks.push(s);
      if ((i & 63) === 63) {
        clock.runUntil(clock.now() + 0.2);
        for (const s of rx) while (s.mailbox.tryReceive() !== undefined) got++;
      }
    }
    clock.runUntil(clock.now() + 0.5);
    for (const s of rx) while (s.mailbox.tryReceive() !== undefined) got++;
    for (const s of socks) s.close();
  };
  run(200);
  got = 0;
  // Collect the garbage of earlier runs (a 10,000-Service rule set) outside the timing.
  globalThis.gc?.();
  const t0 = performance.now();
  run(flows);
  const us = ((performance.now() - t0) * 1000) / flows;
  if (got < flows * 0.99) throw new Error(`first packets: ${got} of ${flows} delivered`);
  return us;
}
