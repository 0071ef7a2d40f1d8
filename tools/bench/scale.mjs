// Figures 3–5: cluster boot, pods, memory, virtual vs real time — through
// startCluster, as `kemu run` does it (one worker thread per host).
import { startCluster } from "@kemu/cli/dist/cluster.js";

const rss = () => process.memoryUsage().rss;
const gc = () => globalThis.gc?.();
const control = { kind: "host", host: "control" };

async function readyNodes(d) {
  const r = await d.exec(control, "kubectl get nodes --no-headers");
  return r.stdout.split("\n").filter((l) => /\sReady\s/.test(l)).length;
}

/** Wall ms from startCluster to every node Ready; RSS per host worker. */
export async function bootCluster(nodes, time = "virtual") {
  gc();
  const rss0 = rss();
  const t0 = performance.now();
  const d = await startCluster({ nodes, seed: 1, time, capture: false });
  let ready = await readyNodes(d);
  for (let i = 0; ready < nodes && i < 50; i++) {
    await d.sleep(100);
    ready = await readyNodes(d);
  }
  const ms = performance.now() - t0;
  // Idle: every heap collected (the bench runs with --expose-gc, which reaches the workers too).
  gc();
  await d.collectGarbage();
  const workers = nodes + 3;
  const perWorker = (rss() - rss0) / workers;
  const node1 = (await d.heaps()).get("node1");
  return { d, ms, ready, perWorker, rss: rss(), nodeHeap: node1 };
}

/** Wall ms from `kubectl apply` of a Deployment to `pods` pods Running with IPs. */
export async function podsRunning(d, pods) {
  gc();
  await d.collectGarbage();
  const rss0 = rss();
  const t0 = performance.now();
  const manifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: bench
spec:
  replicas: ${pods}
  selector:
    matchLabels:
      app: bench
  template:
    metadata:
      labels:
        app: bench
    spec:
      containers:
      - name: c
        image: nginx
`;
  const a = await d.exec(control, "kubectl apply -f -", { stdin: manifest });
  if (a.exit !== 0) throw new Error(`kubectl apply: ${a.stderr}`);
  let running = 0;
  for (let i = 0; i < 600; i++) {
    const r = await d.exec(control, "kubectl get pods -l app=bench -o wide --no-headers");
    running = r.stdout.split("\n").filter((l) => /\sRunning\s+\d+\s+\S+\s+10\.244\./.test(l)).length;
    if (running >= pods) break;
    await d.sleep(100);
  }
  const ms = performance.now() - t0;
  gc();
  await d.collectGarbage();
  return { ms, running, perPod: (rss() - rss0) / pods };
}

/** The same ping + wget scenario's wall time on a fresh 2-node cluster. */
export async function scenarioWall(time) {
  const t0 = performance.now();
  const d = await startCluster({ nodes: 2, seed: 1, time, capture: false });
  const tBoot = performance.now();
  try {
    const p = await d.exec({ kind: "host", host: "node1" }, "ping -c 5 -i 0.2 192.168.0.12");
    if (p.exit !== 0) throw new Error(`ping: ${p.stdout}${p.stderr}`);
    const w = await d.exec({ kind: "host", host: "node1" }, "wget -q -O - http://198.51.100.10/");
    if (w.exit !== 0) throw new Error(`wget: ${w.stdout}${w.stderr}`);
  } finally {
    await d.shutdown();
  }
  const t1 = performance.now();
  return { total: t1 - t0, steps: t1 - tBoot };
}

/**
 * Across two nodes over the underlay (host → host, worker → worker through
 * the shared-memory rings), real-time mode: ping RTT and a TCP transfer with nc.
 */
export async function crossHost({ seconds = 3 } = {}) {
  const d = await startCluster({ nodes: 2, seed: 1, time: "real", capture: false });
  try {
    const node = (n) => ({ kind: "host", host: `node${n}` });
    await d.exec(node(1), "ping -c 3 -i 0.05 192.168.0.12");
    const p = await d.exec(node(1), "ping -c 50 -i 0.01 192.168.0.12");
    const m = /= ([\d.]+)\/([\d.]+)\/([\d.]+)/.exec(p.stdout);
    if (!m) throw new Error(`ping: ${p.stdout}${p.stderr}`);
    const rttUs = Number(m[2]) * 1000;
    const tcpMbps = await iperf3(d, node(2), node(1), "192.168.0.12", seconds);
    const loMbps = await iperf3(d, node(1), node(1), "127.0.0.1", seconds);
    return { rttUs, tcpMbps, loMbps };
  } finally {
    await d.shutdown();
  }
}

/**
 * One `iperf3 -c addr -t seconds` from `client` against `iperf3 -s -1` on
 * `server` (running hosts, real-time mode): the receiver's Mbit/s as the
 * client prints it.
 */
export async function iperf3(d, server, client, addr, seconds) {
  const srv = d.exec(server, "iperf3 -s -1");
  await new Promise((r) => setTimeout(r, 300));
  const c = await d.exec(client, `iperf3 -c ${addr} -t ${seconds}`);
  const s = await srv;
  if (c.exit !== 0 || s.exit !== 0) throw new Error(`iperf3: ${c.stdout}${c.stderr}${s.stdout}${s.stderr}`);
  return receiverMbps(c.stdout);
}

/** The receiver line's bitrate of an iperf3 client's report, in Mbit/s. */
export function receiverMbps(report) {
  const m = /([\d.]+) ([KMG]?)bits\/sec +receiver/.exec(report);
  if (!m) throw new Error(`iperf3 printed no receiver line:\n${report}`);
  return Number(m[1]) * { "": 1e-6, K: 1e-3, M: 1, G: 1e3 }[m[2]];
}

/**
 * The floor of a boot: `n` bare worker threads (no module of kemu's) started
 * until each answers, wall ms, and the RSS each adds.
 */
export async function bareWorkers(n) {
  const { Worker } = await import("node:worker_threads");
  gc();
  const rss0 = rss();
  const t0 = performance.now();
  const workers = [];
  const heaps = await Promise.all(
    Array.from({ length: n }, () => {
      const w = new Worker(new URL(`data:text/javascript,${encodeURIComponent('import { parentPort } from "node:worker_threads"; globalThis.gc?.(); parentPort.postMessage(process.memoryUsage().heapTotal); setInterval(() => {}, 1 << 30);')}`));
      workers.push(w);
      return new Promise((resolve, reject) => {
        w.once("message", resolve);
        w.once("error", reject);
      });
    }),
  );
  const ms = performance.now() - t0;
  gc();
  const perWorker = (rss() - rss0) / n;
  await Promise.all(workers.map((w) => w.terminate()));
  return { ms, perWorker, heapTotal: heaps.sort((a, b) => a - b)[heaps.length >> 1] };
}

/** The control plane alone (stand-in kubelets, one thread): wall ms until a Deployment's `pods` pods are Running. */
export async function controlPlanePods(pods) {
  const { TestCluster } = await import("../../apps/control/dist/_testing.js");
  const c = new TestCluster();
  for (let i = 1; i <= 10; i++) c.addNode(`node${i}`);
  c.run(5000);
  const t0 = performance.now();
  c.api.create("deployments", "default", {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "bench" },
    spec: { replicas: pods, selector: { matchLabels: { app: "bench" } }, template: { metadata: { labels: { app: "bench" } }, spec: { containers: [{ name: "c", image: "nginx" }] } } },
  });
  for (let i = 0; i < 600; i++) {
    c.run(100);
    const running = c.api.list("pods", "default").items.filter((p) => p.status?.phase === "Running").length;
    if (running >= pods) break;
  }
  const ms = performance.now() - t0;
  c.stop();
  return ms;
}
