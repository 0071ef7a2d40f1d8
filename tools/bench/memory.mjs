// Figure 5, retained memory: what one more pod keeps on the heap after a
// full GC, on its node (sandbox netns, veth, container, process, files)
// and in the control plane (API objects, controllers' caches) — measured in
// this thread, where a GC can be forced; the process-RSS figures from whole
// clusters are printed beside it.
import { BufferOutput, textInput } from "../../packages/node/dist/process.js";
import { bootHost } from "../../packages/node/dist/node.js";
import { TestCluster } from "../../apps/control/dist/_testing.js";

const heap = () => {
  globalThis.gc?.();
  globalThis.gc?.();
  return process.memoryUsage().heapUsed;
};

/** Heap bytes a `docker run -d IMAGE …` container keeps on its host. */
export async function nodeBytesPerContainer(n = 100, command = "nginx") {
  const host = bootHost({ name: "node1", seed: 1, role: "node", nics: [{ ifname: "eth0", mac: 0x525400000001, cidr: "192.168.0.11/24" }] });
  const run = async (cmd) => {
    const out = new BufferOutput();
    const code = await host.runToCompletion(host.spawn(["sh", "-c", cmd], host.rootSpec({ stdin: textInput(""), stdout: out, stderr: out })));
    if (code !== 0) throw new Error(`${cmd}: ${out.text}`);
  };
  await run(`docker run -d --name warm ${command}`);
  const h0 = heap();
  for (let i = 0; i < n; i++) await run(`docker run -d --name c${i} ${command}`);
  return (heap() - h0) / n;
}

/** Heap bytes the control plane keeps per pod of a Deployment of `n` on 10 nodes. */
export function controlBytesPerPod(n = 1000) {
  const c = new TestCluster();
  for (let i = 1; i <= 10; i++) c.addNode(`node${i}`);
  c.run(5000);
  const h0 = heap();
  c.api.create("deployments", "default", {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "bench" },
    spec: { replicas: n, selector: { matchLabels: { app: "bench" } }, template: { metadata: { labels: { app: "bench" } }, spec: { containers: [{ name: "c", image: "nginx" }] } } },
  });
  c.run(60_000);
  const items = c.api.list("pods", "default").items;
  const bytes = (heap() - h0) / items.length;
  const objectBytes = items.reduce((n, p) => n + JSON.stringify(p).length, 0) / items.length;
  c.stop();
  return { bytes, objectBytes };
}

/** Heap bytes of a bare network namespace with a veth pair on a bridge, as a pod's sandbox has. */
export function bareNetnsBytes(n = 100) {
  const host = bootHost({ name: "node1", seed: 1, role: "node", nics: [] });
  const kernel = host.kernel;
  const br = kernel.createBridge(kernel.root, "cni0");
  const keep = [];
  const h0 = heap();
  for (let i = 0; i < n; i++) {
    const ns = kernel.createNetns();
    const [v] = kernel.createVeth(kernel.root, `veth${i}`, "eth0", { peerNs: ns });
    br.addPort(v);
    keep.push(ns);
  }
  return (heap() - h0) / n;
}
