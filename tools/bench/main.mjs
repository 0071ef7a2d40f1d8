#!/usr/bin/env node
// `npm run bench`: every figure of issue 8, each a median over repeated runs,
// with its baseline measured in the same run. Progress on stderr; the table
// on stdout (plain, then markdown for the README); bench/results.json.
//
//   node tools/bench/main.mjs [--quick] [--no-real-kernel] [--json PATH]
//
// --quick skips the 100-node and 1,000-pod figures and does fewer runs.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { tcpMbps, udpPps } from "./datapath.mjs";
import { bareNetnsBytes, controlBytesPerPod, nodeBytesPerContainer } from "./memory.mjs";
import { podToPod } from "./podpath.mjs";
import { realKernelAvailable, realPingUs, realRestoreMs, realTcpMbps, realUdpPps, realUdpRttUs, setUp, tearDown } from "./realkernel.mjs";
import { bareWorkers, bootCluster, controlPlanePods, crossHost, podsRunning, scenarioWall } from "./scale.mjs";
import { firstPacketUs, kubeProxyRestore, syncMs } from "./services.mjs";
import { ipvsFirstPacketUs, ipvsSyncMs } from "./services_ipvs.mjs";
import { underlayFrames } from "./underlay.mjs";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const noReal = args.includes("--no-real-kernel");
const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const jsonPath = args.includes("--json") ? resolve(args[args.indexOf("--json") + 1]) : resolve(root, "bench/results.json");

const started = performance.now();
const log = (msg) => process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1)}s] ${msg}\n`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
async function repeat(n, fn) {
  const xs = [];
  for (let i = 0; i < n; i++) xs.push(await fn(i));
  return xs;
}

/** Rows of the table. higher: true when more is better. */
const rows = [];
function row(r) {
  rows.push(r);
  const k = r.kemu === undefined ? r.note : `${fmt(r.kemu, r.unit)}`;
  log(`${r.figure}: ${k}`);
}
function fmt(v, unit) {
  if (v === undefined || v === null || Number.isNaN(v)) return "n/a";
  if (unit === "pps" || unit === "frames/s") return v >= 1e6 ? `${(v / 1e6).toFixed(2)} M${unit === "pps" ? "pps" : " frames/s"}` : `${(v / 1e3).toFixed(0)} k${unit === "pps" ? "pps" : " frames/s"}`;
  if (unit === "Mbit/s") return v >= 1000 ? `${(v / 1000).toFixed(2)} Gbit/s` : `${v.toFixed(0)} Mbit/s`;
  if (unit === "ms") return v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(v < 10 ? 1 : 0)} ms`;
  if (unit === "µs") return `${v.toFixed(1)} µs`;
  if (unit === "MB") return `${v.toFixed(1)} MB`;
  if (unit === "KB") return `${v.toFixed(0)} KB`;
  return `${v}`;
}
/** A target check: kemu value against a target ({ min } or { max }). */
function status(v, target) {
  if (v === undefined || target === undefined) return "—";
  if (target.min !== undefined) return v >= target.min ? "met" : `gap ×${(target.min / v).toFixed(1)}`;
  if (target.max !== undefined) return v <= target.max ? "met" : `gap ×${(v / target.max).toFixed(1)}`;
  return "—";
}
function targetText(target, unit) {
  if (target === undefined) return "—";
  if (target.text) return target.text;
  return target.min !== undefined ? `≥ ${fmt(target.min, unit)}` : `≤ ${fmt(target.max, unit)}`;
}
async function guarded(figure, fn) {
  try {
    try {
      await fn();
    } catch (err) {
      // A build running alongside (nx rebuilding a package's dist) makes a
      // worker's import fail; try that figure once more.
      if (err?.code !== "ERR_MODULE_NOT_FOUND" && !/Cannot find module/.test(String(err?.message))) throw err;
      log(`${figure}: ${String(err.message).split("\n")[0]}; retrying once in 5 s`);
      await new Promise((r) => setTimeout(r, 5000));
      await fn();
    }
  } catch (err) {
    row({ figure, note: `n/a (${String(err?.message ?? err).split("\n")[0].slice(0, 120)})` });
  }
}

log(`machine: ${cpus().length} × ${cpus()[0]?.model?.trim()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, load ${loadavg().map((l) => l.toFixed(1)).join(" ")}`);

// 1. Underlay ------------------------------------------------------------------
await guarded("underlay: 1514-byte frames/s, worker → worker", async () => {
  log("underlay: SegmentPort vs raw Ring vs minimal SPSC ring (interleaved runs)…");
  const u = await underlayFrames({ runs: quick ? 3 : 5, frames: 100_000 });
  const spsc = median(u.spsc);
  const seg = median(u.segment);
  const ring = median(u.ring);
  row({ figure: "underlay: 1514-byte frames/s, worker → worker (SegmentPort send + drain)", unit: "frames/s", kemu: seg, baseline: spsc, baselineName: "minimal SPSC SharedArrayBuffer ring", ratio: seg / spsc, target: { text: "≥ 50% of baseline" }, status: seg / spsc >= 0.5 ? "met" : `gap ×${(0.5 / (seg / spsc)).toFixed(1)}`, runs: u });
  row({ figure: "underlay: the same through the raw Ring (no switching)", unit: "frames/s", kemu: ring, baseline: spsc, baselineName: "minimal SPSC SharedArrayBuffer ring", ratio: ring / spsc, target: undefined, status: "—", runs: u.ring });
});

// 2. Data path -----------------------------------------------------------------
let real;
const realWhy = noReal ? "--no-real-kernel" : realKernelAvailable();
if (!realWhy) {
  try {
    log("real kernel: ip netns kbbr/kba/kbb, veth + bridge, Node dgram/net…");
    setUp();
    const udp = await repeat(3, () => realUdpPps(1.5));
    const tcp = await repeat(3, () => realTcpMbps(1.5));
    // Without a ping binary, a UDP echo between the same namespaces stands in for it.
    let ping;
    let pingName = "real kernel ping between two namespaces on a bridge";
    try {
      ping = median(await repeat(3, () => realPingUs(50)));
    } catch {
      ping = median(await repeat(3, () => realUdpRttUs()));
      pingName = "real kernel, a 56-byte UDP echo between two namespaces on a bridge (no ping here)";
    }
    real = { udp: median(udp.map((x) => x.pps)), tcp: median(tcp), ping, pingName, udpRuns: udp, tcpRuns: tcp };
  } catch (err) {
    real = { why: String(err?.message ?? err).split("\n")[0] };
  } finally {
    tearDown();
  }
} else real = { why: realWhy };
const realNote = real.why ? `n/a (${real.why})` : undefined;

await guarded("data path: UDP 64-byte pps", async () => {
  log("data path: UDP 64-byte datagrams, pod → bridge → pod, one kernel…");
  const xs = await repeat(quick ? 3 : 5, () => udpPps({ packets: 150_000 }));
  const v = median(xs);
  row({ figure: "data path: UDP 64-byte packets/s, pod → veth → bridge → veth → pod (one kernel)", unit: "pps", kemu: v, baseline: real.udp, baselineName: realNote ?? "real kernel, same path, Node dgram sender/receiver", ratio: real.udp ? v / real.udp : undefined, target: { min: 300_000 }, status: status(v, { min: 300_000 }), runs: xs });
});
await guarded("data path: TCP bulk Mbit/s", async () => {
  log("data path: TCP bulk, 16 MiB through TcpConnection…");
  const xs = await repeat(3, () => tcpMbps({ bytes: 16 << 20 }));
  const v = median(xs.map((x) => x.mbps));
  row({ figure: "data path: TCP bulk Mbit/s (wall), pod → bridge → pod (one kernel)", unit: "Mbit/s", kemu: v, baseline: real.tcp, baselineName: realNote ?? "real kernel, same path, Node net", ratio: real.tcp ? v / real.tcp : undefined, target: { min: 1000 }, status: status(v, { min: 1000 }), runs: xs });
});
await guarded("data path: across two nodes", async () => {
  log("data path: node1 → node2 across the underlay, real-time mode: ping RTT, iperf3…");
  const xs = await repeat(3, () => crossHost());
  const rtt = median(xs.map((x) => x.rttUs));
  row({ figure: "data path: ping RTT node1 → node2 across the underlay (real-time mode, as ping reports it)", unit: "µs", kemu: rtt, baseline: real.ping, baselineName: realNote ?? real.pingName, ratio: real.ping ? rtt / real.ping : undefined, status: "—", runs: xs.map((x) => x.rttUs) });
  const tcp = median(xs.map((x) => x.tcpMbps));
  const lo = median(xs.map((x) => x.loMbps));
  row({ figure: "data path: TCP node1 → node2 across the underlay (iperf3 -t 3, receiver's Mbit/s, real-time mode)", unit: "Mbit/s", kemu: tcp, baseline: lo, baselineName: "the same iperf3 over lo on node1, same run", ratio: tcp / lo, target: { min: 1000 }, status: status(tcp, { min: 1000 }), runs: xs });
});
let nodeToNode;
await guarded("data path: pod → pod over vxlan", async () => {
  log("data path: pod on node1 → pod on node2 over flannel vxlan, 100 Services' kube-proxy rules, real-time mode…");
  const xs = await repeat(quick ? 1 : 3, () => podToPod({ services: 100 }));
  const rtt = median(xs.map((x) => x.rttUs));
  const tcp = median(xs.map((x) => x.tcpMbps));
  const rules = xs[0].rules;
  nodeToNode = rows.find((r) => r.figure.startsWith("data path: TCP node1 → node2"));
  const hostRtt = rows.find((r) => r.figure.startsWith("data path: ping RTT node1 → node2"));
  row({ figure: `data path: ping RTT pod → pod across two nodes over vxlan, 100 Services (${rules} rules on the node; real-time mode)`, unit: "µs", kemu: rtt, baseline: hostRtt?.kemu, baselineName: "node → node ping, same run", ratio: hostRtt?.kemu ? rtt / hostRtt.kemu : undefined, status: "—", runs: xs.map((x) => x.rttUs) });
  row({ figure: "data path: TCP pod → pod across two nodes over vxlan, 100 Services (iperf3 -t 3, receiver's Mbit/s, real-time mode)", unit: "Mbit/s", kemu: tcp, baseline: nodeToNode?.kemu, baselineName: "node → node, same iperf3, same run", ratio: nodeToNode?.kemu ? tcp / nodeToNode.kemu : undefined, target: { min: 1000 }, status: status(tcp, { min: 1000 }), runs: xs.map((x) => x.tcpMbps) });
});

// 3. Services (netfilter engine directly) -------------------------------------
await guarded("services", async () => {
  const ns = quick ? [10, 1000] : [10, 1000, 10000];
  const first = {};
  const syncs = {};
  for (const n of ns) {
    log(`services: iptables-restore of ${n} Services' nat rules, first-packet cost…`);
    const sync = median(await repeat(n >= 10000 ? 1 : 3, () => syncMs(n)));
    const real = noReal ? undefined : realRestoreMs(kubeProxyRestore(n));
    syncs[n] = sync;
    row({ figure: `services: ${n} Services, iptables-restore of kube-proxy's rules (filter + nat)`, unit: "ms", kemu: sync, baseline: real, baselineName: real === undefined ? "n/a (no real iptables-restore here)" : "the real iptables-restore, same text, in a namespace", ratio: real === undefined ? undefined : sync / real, target: n === 10000 ? { max: 1000 } : undefined, status: n === 10000 ? status(sync, { max: 1000 }) : "—" });
  }
  // First-packet costs: interleaved rounds, so warm-up and drift hit every size alike.
  log("services: first-packet cost, interleaved rounds…");
  const samples = Object.fromEntries(ns.map((n) => [n, []]));
  firstPacketUs(10, 1000);
  for (let round = 0; round < 3; round++) for (const n of ns) samples[n].push(firstPacketUs(n, 2000));
  for (const n of ns) first[n] = median(samples[n]);
  for (const n of ns) {
    const ratio = first[n] / first[10];
    row({ figure: `services: first packet of a new UDP flow, ${n} Services (iptables mode)`, unit: "µs", kemu: first[n], baseline: first[10], baselineName: "the same at 10 Services", ratio, target: n === 10 ? undefined : { text: "≤ 2× at 10" }, status: n === 10 ? "—" : ratio <= 2 ? "met" : `gap ×${(ratio / 2).toFixed(1)}` });
  }
  // ipvs mode: kube-proxy's whole sync (rules computed from the objects, kube-ipvs0, IPVS, ipsets, iptables-restore).
  const ipvsFirst = {};
  for (const n of ns) {
    log(`services: ipvs mode, ${n} Services: sync and first-packet cost…`);
    const sync = median(await repeat(n >= 10000 ? 1 : 3, () => ipvsSyncMs(n)));
    row({ figure: `services: ${n} Services, ipvs mode full sync (kube-ipvs0, IPVS, ipsets, rules)`, unit: "ms", kemu: sync, baseline: syncs[n], baselineName: "kemu's iptables-mode restore of the same Services", ratio: syncs[n] ? sync / syncs[n] : undefined, target: n === 10000 ? { max: 1000 } : undefined, status: n === 10000 ? status(sync, { max: 1000 }) : "—" });
    ipvsFirst[n] = median(await repeat(3, () => ipvsFirstPacketUs(n, 2000)));
  }
  for (const n of ns) {
    const ratio = ipvsFirst[n] / ipvsFirst[10];
    row({ figure: `services: first packet of a new UDP flow, ${n} Services (ipvs mode, through the node)`, unit: "µs", kemu: ipvsFirst[n], baseline: ipvsFirst[10], baselineName: "the same at 10 Services", ratio, target: n === 10 ? undefined : { text: "≤ 2× at 10" }, status: n === 10 ? "—" : ratio <= 2 ? "met" : `gap ×${(ratio / 2).toFixed(1)}` });
  }
});

// 4–6. Scale, memory, virtual time ----------------------------------------------
const boots = {};
async function bootFigure(nodes, runs, keepLast) {
  const xs = [];
  const per = [];
  let kept;
  let heap;
  for (let i = 0; i < runs; i++) {
    log(`scale: startCluster ${nodes} nodes → all Ready (run ${i + 1}/${runs})…`);
    const b = await bootCluster(nodes);
    xs.push(b.ms);
    per.push(b.perWorker);
    heap = b.nodeHeap;
    if (b.ready < nodes) {
      await b.d.shutdown();
      throw new Error(`${b.ready} of ${nodes} nodes Ready`);
    }
    if (keepLast && i === runs - 1) kept = b.d;
    else await b.d.shutdown();
  }
  boots[nodes] = { ms: median(xs), perWorker: median(per) };
  log(`scale: ${nodes + 3} bare worker threads (the floor)…`);
  const bare = await bareWorkers(nodes + 3);
  const target = nodes === 100 ? { max: 5000 } : undefined;
  row({ figure: `scale: ${nodes} nodes, startCluster → all Ready (wall, virtual time)`, unit: "ms", kemu: boots[nodes].ms, baseline: bare.ms, baselineName: `${nodes + 3} bare worker threads started`, ratio: boots[nodes].ms / bare.ms, target, status: status(boots[nodes].ms, target), runs: xs });
  const mb = boots[nodes].perWorker / 1e6;
  row({ figure: `memory: RSS per idle host worker (${nodes}-node cluster: process RSS delta / ${nodes + 3} workers, every heap collected)`, unit: "MB", kemu: mb, baseline: bare.perWorker / 1e6, baselineName: "a bare worker thread", ratio: mb / (bare.perWorker / 1e6), target: { max: 12 }, status: status(mb, { max: 12 }) });
  if (nodes === 10 && heap) {
    const used = heap.heapUsed / 1e6;
    row({ figure: `memory: V8 heap of an idle node worker (node1, after GC: ${used.toFixed(1)} MB used of the committed figure shown)`, unit: "MB", kemu: heap.heapTotal / 1e6, baseline: bare.heapTotal / 1e6, baselineName: "a bare worker thread's heap", ratio: heap.heapTotal / bare.heapTotal, status: "—" });
  }
  return kept;
}
let ten;
await guarded("scale: 10 nodes", async () => {
  ten = await bootFigure(10, 3, true);
});
await guarded("scale: pods", async () => {
  if (!ten) throw new Error("no 10-node cluster");
  try {
    const pods = quick ? 200 : 1000;
    log(`scale: Deployment of ${pods} pods on 10 nodes → all Running with IPs…`);
    const p = await podsRunning(ten, pods);
    if (p.running < pods) throw new Error(`${p.running} of ${pods} Running`);
    const target = pods === 1000 ? { max: 10_000 } : undefined;
    log(`scale: the control plane alone, ${pods} pods with stand-in kubelets…`);
    const alone = await controlPlanePods(pods);
    row({ figure: `scale: ${pods} pods on 10 nodes, apply → all Running with IPs (wall, virtual time)`, unit: "ms", kemu: p.ms, baseline: alone, baselineName: "the control plane alone, stand-in kubelets, one thread", ratio: p.ms / alone, target, status: status(p.ms, target) });
    // What a pod keeps for good (its container on the node, its objects in the control plane), after GC.
    const kept = (await nodeBytesPerContainer(50, "nginx")) + controlBytesPerPod(200).bytes;
    row({ figure: "memory: RSS per pod (process RSS delta / pods)", unit: "KB", kemu: p.perPod / 1e3, baseline: kept / 1e3, baselineName: "the heap a pod keeps after GC (container on its node + control plane)", ratio: p.perPod / kept, target: { max: 50 }, status: status(p.perPod / 1e3, { max: 50 }) });
  } finally {
    await ten.shutdown();
  }
});
for (const nodes of quick ? [50] : [50, 100]) {
  await guarded(`scale: ${nodes} nodes`, async () => {
    await bootFigure(nodes, 1, false);
  });
}
await guarded("virtual time", async () => {
  log("virtual vs real time: 2-node cluster, ping -c 5 -i 0.2 + wget across the gateway…");
  const v = await repeat(3, () => scenarioWall("virtual"));
  const r = await repeat(3, () => scenarioWall("real"));
  const vs = median(v.map((x) => x.steps));
  const rs = median(r.map((x) => x.steps));
  row({ figure: "virtual time: ping -c 5 -i 0.2 + wget, wall ms of the steps, virtual mode", unit: "ms", kemu: vs, baseline: rs, baselineName: "the same steps in real-time mode", ratio: vs / rs, status: "—" });
  row({ figure: "virtual time: the same, boot included", unit: "ms", kemu: median(v.map((x) => x.total)), baseline: median(r.map((x) => x.total)), baselineName: "real-time mode", ratio: median(v.map((x) => x.total)) / median(r.map((x) => x.total)), status: "—" });
});

await guarded("memory: retained heap per pod", async () => {
  log("memory: heap one more container keeps on its node, and one more pod in the control plane (after GC)…");
  const node = await nodeBytesPerContainer(100, "nginx");
  const sleeper = await nodeBytesPerContainer(100, "busybox sleep 3600");
  const bare = bareNetnsBytes(100);
  const control = controlBytesPerPod(1000);
  row({ figure: "memory: retained heap per nginx container on its node (netns, veth, process, files; after GC)", unit: "KB", kemu: node / 1024, baseline: bare / 1024, baselineName: "a bare netns with a veth pair on a bridge (the kernel's share)", ratio: node / bare, target: { max: 50 }, status: status(node / 1024, { max: 50 }) });
  row({ figure: "memory: the same for a busybox `sleep` container", unit: "KB", kemu: sleeper / 1024, baseline: bare / 1024, baselineName: "a bare netns with a veth pair", ratio: sleeper / bare, status: "—" });
  row({ figure: "memory: retained heap per pod in the control plane (API objects, controllers; 1,000 pods)", unit: "KB", kemu: control.bytes / 1024, baseline: control.objectBytes / 1024, baselineName: "the Pod object's JSON text", ratio: control.bytes / control.objectBytes, status: "—" });
});

// 7. Rule compilation: the equivalence test over many more rule sets --------
await guarded("rule compilation: equivalence", async () => {
  const sets = quick ? 500 : 3000;
  log(`rule compilation: compiled vs linear walk on ${sets} random rule sets × 40 packets…`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [resolve(root, "node_modules/ava/entrypoints/cli.mjs"), "dist/netfilter/compile_test.js", "--match", "compiled chains*"], {
    cwd: resolve(root, "packages/kernel"),
    env: { ...process.env, KEMU_EQUIV_SETS: String(sets) },
    encoding: "utf8",
  });
  const ok = r.status === 0;
  row({ figure: `rule compilation: compiled walk = linear walk (verdicts, marks, counters) on ${sets} random rule sets × 40 packets`, note: ok ? `pass (${((performance.now() - t0) / 1000).toFixed(0)} s)` : `FAIL: ${(r.stdout + r.stderr).split("\n").filter((l) => /✘|fail|differ/.test(l)).slice(0, 2).join(" ")}`, status: ok ? "met" : "failed" });
});

// Output ---------------------------------------------------------------------
const machine = `${cpus().length} × ${cpus()[0]?.model?.trim()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}`;
const date = new Date().toISOString().slice(0, 10);
const cells = (r) => [r.figure, r.kemu === undefined ? r.note : fmt(r.kemu, r.unit), r.baseline === undefined ? (r.baselineName?.startsWith("n/a") ? r.baselineName : "—") : `${fmt(r.baseline, r.unit)} (${r.baselineName})`, r.ratio === undefined ? "—" : r.ratio.toFixed(2), targetText(r.target, r.unit), r.status ?? "—"];
const header = ["figure", "kemu", "baseline", "ratio", "target", "status"];
const table = [header, ...rows.map(cells)];
const widths = header.map((_, i) => Math.min(90, Math.max(...table.map((c) => String(c[i]).length))));
const plain = table.map((c) => c.map((x, i) => String(x).padEnd(widths[i])).join(" | ")).join("\n");
const md = [
  `Measured ${date} on ${machine} (load average at start ${loadavg()[0].toFixed(1)}); medians of repeated runs.`,
  "",
  `| ${header.join(" | ")} |`,
  `|${header.map(() => "---").join("|")}|`,
  ...rows.map((r) => `| ${cells(r).map((x) => String(x).replace(/\|/g, "\\|")).join(" | ")} |`),
].join("\n");
mkdirSync(dirname(jsonPath), { recursive: true });
writeFileSync(jsonPath, `${JSON.stringify({ date: new Date().toISOString(), machine, quick, wallSeconds: (performance.now() - started) / 1000, real, rows }, null, 2)}\n`);
process.stdout.write(`\n${plain}\n\n${md}\n`);
log(`done in ${((performance.now() - started) / 1000).toFixed(0)} s; wrote ${jsonPath}`);
