// Figure 2, across nodes: pod → pod from node1 to node2 over flannel's vxlan,
// with 100 Services' kube-proxy rules installed on both nodes, in real-time
// mode (one worker thread per host, frames over the shared-memory underlay).
import { startCluster } from "@kemu/cli/dist/cluster.js";
import { receiverMbps } from "./scale.mjs";

const control = { kind: "host", host: "control" };
const pod = (name) => ({ kind: "pod", namespace: "default", pod: name });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function manifest(services) {
  const docs = [];
  for (const [name, node] of [["bench-a", "node1"], ["bench-b", "node2"]]) {
    docs.push(`apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: {app: bench}
spec:
  nodeName: ${node}
  containers:
  - name: c
    image: networkstatic/iperf3
    command: ["sleep", "3600"]`);
  }
  for (let i = 0; i < services; i++) {
    docs.push(`apiVersion: v1
kind: Service
metadata:
  name: bench-${i}
spec:
  selector: {app: bench}
  ports:
  - name: p
    port: ${1000 + i}
    targetPort: 80`);
  }
  return docs.join("\n---\n") + "\n";
}

/** ping RTT and iperf3's TCP Mbit/s from pod a (node1) to pod b (node2), and how many rules node1 holds. */
export async function podToPod({ services = 100, seconds = 3 } = {}) {
  const d = await startCluster({ nodes: 2, seed: 1, time: "real", capture: false, backend: "vxlan" });
  try {
    const a = await d.exec(control, "kubectl apply -f -", { stdin: manifest(services) });
    if (a.exit !== 0) throw new Error(`kubectl apply: ${a.stderr}`);
    let ipB;
    for (let i = 0; i < 200 && ipB === undefined; i++) {
      const r = await d.exec(control, "kubectl get pods -o wide --no-headers");
      const rows = r.stdout.split("\n").filter((l) => /^bench-[ab]\s+1\/1\s+Running/.test(l));
      if (rows.length === 2) ipB = /^bench-b\s.*?\s(10\.244\.\d+\.\d+)\s/m.exec(r.stdout)?.[1];
      else await sleep(100);
    }
    if (ipB === undefined) throw new Error("the two bench pods did not start");
    // kube-proxy's rules for every Service on node1 before measuring (it syncs at most once a second).
    for (let i = 0; i < 100; i++) {
      const r = await d.exec({ kind: "host", host: "node1" }, `iptables-save -t nat | grep -c -- '-j KUBE-SVC-'`);
      if (Number(r.stdout.trim()) >= services) break;
      await sleep(200);
    }
    const rules = Number((await d.exec({ kind: "host", host: "node1" }, "iptables-save | grep -c '^-A'")).stdout.trim());
    await d.exec(pod("bench-a"), `ping -c 3 -i 0.05 ${ipB}`);
    const p = await d.exec(pod("bench-a"), `ping -c 50 -i 0.01 ${ipB}`);
    const m = /= ([\d.]+)\/([\d.]+)\/([\d.]+)/.exec(p.stdout);
    if (!m) throw new Error(`ping: ${p.stdout}${p.stderr}`);
    const rttUs = Number(m[2]) * 1000;

    const srv = d.exec(pod("bench-b"), "iperf3 -s -1");
    await sleep(300);
    const c = await d.exec(pod("bench-a"), `iperf3 -c ${ipB} -t ${seconds}`);
    const s = await srv;
    if (c.exit !== 0 || s.exit !== 0) throw new Error(`iperf3: ${c.stdout}${c.stderr}${s.stdout}${s.stderr}`);
    const tcpMbps = receiverMbps(c.stdout);

    return { rttUs, tcpMbps, rules };
  } finally {
    await d.shutdown();
  }
}
