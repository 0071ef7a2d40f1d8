/**
 * A Kubernetes node's whole ruleset — Docker's, flannel's and kube-proxy's,
 * with a NodePort Service of two endpoints and a Service without any — as
 * kemu's `iptables-save` prints it, handed to the REAL iptables-restore and
 * iptables-save in a network namespace made for the test: it must come
 * back unchanged. Skipped where iptables or namespaces are unavailable.
 */
import test from "ava";
import { spawnSync } from "node:child_process";
import { startCluster } from "./cluster.ts";

function sh(args: string[], input?: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(args[0]!, args.slice(1), { input, encoding: "utf8", timeout: 20_000 });
  return { status: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? (r.error ? String(r.error) : "") };
}

const MANIFEST = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: nginx, image: nginx}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, nodePort: 30080}]
---
apiVersion: v1
kind: Service
metadata: {name: nobody}
spec:
  selector: {app: nobody}
  ports: [{port: 81}]
`;

const noComments = (text: string): string =>
  text
    .split("\n")
    .filter((l) => !l.startsWith("#"))
    .join("\n");

test("a node's iptables-save (Docker, flannel, kube-proxy) survives the real iptables-restore and iptables-save", async (t) => {
  const d = await startCluster({ nodes: 2, seed: 7, time: "virtual", capture: false });
  let saved: string;
  try {
    const applied = await d.exec({ kind: "host", host: "control" }, "kubectl apply -f -", { stdin: MANIFEST });
    t.is(applied.exit, 0, applied.stderr);
    await d.sleep(5000);
    const r = await d.exec({ kind: "host", host: "node1" }, "iptables-save");
    t.is(r.exit, 0, r.stderr);
    saved = r.stdout;
  } finally {
    await d.shutdown();
  }
  // What makes this node's ruleset: the pieces must be there before the round trip means anything.
  t.regex(saved, /^-A KUBE-SVC-\w{16} .*-j KUBE-SEP-\w{16}$/m);
  t.regex(saved, /--probability 0\.50000000000/);
  t.regex(saved, /^-A KUBE-NODEPORTS .*--dport 30080 -j KUBE-EXT-\w{16}$/m);
  t.regex(saved, /has no endpoints" .*-j REJECT --reject-with icmp-port-unreachable$/m);
  t.regex(saved, /^-A FLANNEL-POSTRTG /m);
  t.regex(saved, /^:DOCKER - \[0:0\]$/m);

  if (sh(["iptables", "--version"]).status !== 0) {
    t.log("skipped the real round trip: iptables is not installed");
    return;
  }
  const name = `kemu-rt-${process.pid}`;
  sh(["ip", "netns", "del", name]);
  const add = sh(["ip", "netns", "add", name]);
  if (add.status !== 0) {
    t.log(`skipped the real round trip: cannot make a network namespace: ${add.stderr.trim()}`);
    return;
  }
  try {
    const run = (args: string[], input?: string) => sh(["ip", "netns", "exec", name, ...args], input);
    const restored = run(["iptables-restore"], saved);
    t.is(restored.status, 0, restored.stderr);
    const back = run(["iptables-save"]);
    t.is(back.status, 0, back.stderr);
    t.is(noComments(back.stdout), noComments(saved));
  } finally {
    sh(["ip", "netns", "del", name]);
  }
});
