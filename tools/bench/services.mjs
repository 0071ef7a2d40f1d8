// Figure 4 (Services): kube-proxy-style iptables rules for N Services (2
// endpoints each) loaded with iptables-restore into the netfilter engine,
// and the wall cost of a new connection's first packet through them.
import { netfilterOf, runRestore, UdpSocket } from "@kemu/kernel";
import { parseCidr } from "@kemu/wire";
import { twoPods } from "./datapath.mjs";

const hash = (s, n) => {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return (h >>> 0).toString(36).toUpperCase().padStart(7, "0").slice(0, 7) + n.toString(36).toUpperCase();
};
const clusterIp = (i) => `10.96.${(i >> 8) & 255}.${i & 255}`;

/** The nat table kube-proxy (iptables mode) writes for `n` UDP Services, each with 2 endpoints. */
export function kubeProxyNat(n) {
  const chains = [":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]", ":POSTROUTING ACCEPT [0:0]"];
  chains.push(":KUBE-SERVICES - [0:0]", ":KUBE-MARK-MASQ - [0:0]", ":KUBE-POSTROUTING - [0:0]");
  const rules = [
    "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
    "-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
    "-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING",
    "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000",
    "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
  ];
  for (let i = 0; i < n; i++) {
    const svc = `KUBE-SVC-${hash(`svc${i}`, i)}`;
    const seps = [0, 1].map((e) => `KUBE-SEP-${hash(`sep${i}.${e}`, i)}`);
    chains.push(`:${svc} - [0:0]`, ...seps.map((s) => `:${s} - [0:0]`));
    rules.push(`-A KUBE-SERVICES -d ${clusterIp(i)}/32 -p udp -m comment --comment "default/svc${i}:dns cluster IP" -m udp --dport 53 -j ${svc}`);
    rules.push(`-A ${svc} -m comment --comment "default/svc${i}:dns -> 10.0.0.3:9000" -m statistic --mode random --probability 0.50000000000 -j ${seps[0]}`);
    rules.push(`-A ${svc} -m comment --comment "default/svc${i}:dns -> 10.0.0.3:9001" -j ${seps[1]}`);
    seps.forEach((sep, e) => {
      rules.push(`-A ${sep} -s 10.0.0.3/32 -m comment --comment "default/svc${i}:dns" -j KUBE-MARK-MASQ`);
      rules.push(`-A ${sep} -p udp -m comment --comment "default/svc${i}:dns" -m udp -j DNAT --to-destination 10.0.0.3:${9000 + e}`);
    });
  }
  return `*nat\n${chains.join("\n")}\n${rules.join("\n")}\nCOMMIT\n`;
}

/** Restores `n` Services' rules into pod a's namespace: wall ms. */
export function syncMs(n) {
  const { a } = twoPods();
  const text = kubeProxyNat(n);
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
  const r = runRestore(netfilterOf(a), kubeProxyNat(n));
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
