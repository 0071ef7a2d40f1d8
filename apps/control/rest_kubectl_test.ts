/**
 * A real kubectl against the REST API (HTTPS, bearer token), when one is on
 * the PATH (or named by KEMU_KUBECTL); skipped with a message otherwise.
 * exec is checked with kubectl 1.30 and later (WebSocket; older ones speak
 * SPDY, which kemu does not serve). The cluster is the test
 * control plane with stand-in kubelets, its clock driven by a timer.
 */
import test from "ava";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { TestCluster } from "./_testing.ts";
import { startRestServer } from "./rest.ts";
import { kubeconfigText } from "./rest_host.ts";
import { selfSignedCert } from "./rest_tls.ts";

const run = promisify(execFile);
const KUBECTL = process.env["KEMU_KUBECTL"] ?? "kubectl";

async function kubectlVersion(): Promise<string | undefined> {
  try {
    const { stdout } = await run(KUBECTL, ["version", "--client", "-o", "json"], { timeout: 20_000 });
    return (JSON.parse(stdout) as { clientVersion: { gitVersion: string } }).clientVersion.gitVersion;
  } catch {
    return undefined;
  }
}

const version = await kubectlVersion();
if (version === undefined) console.log(`rest_kubectl_test: no ${KUBECTL} on the PATH; skipping the real-kubectl tests`);
const minor = Number(/^v1\.(\d+)/.exec(version ?? "")?.[1] ?? "0");
const kube = version === undefined ? test.skip : test.serial;

const MANIFEST = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
`;

async function cluster(): Promise<{ k: (...args: string[]) => Promise<{ stdout: string; stderr: string; code: number }>; kubeconfig: string; stop: () => Promise<void> }> {
  const c = new TestCluster();
  c.addNode("node1");
  c.addNode("node2");
  c.run(1000);
  const timer = setInterval(() => c.run(200), 20);
  const tls = selfSignedCert();
  const token = "kubectl-test-token";
  const rest = await startRestServer(c.server, {
    token,
    tls,
    logs: async (pod) => `hello from ${pod.metadata.name}\n`,
    exec: async (_pod, _container, argv, io) => {
      io.stdout.write(`ran ${argv.join(" ")}\n`);
      return argv.includes("fail") ? 7 : 0;
    },
  });
  const dir = mkdtempSync(join(tmpdir(), "kemu-kubectl-test-"));
  const kubeconfig = join(dir, "kubeconfig");
  writeFileSync(kubeconfig, kubeconfigText(rest.port, token, tls.cert), { mode: 0o600 });
  writeFileSync(join(dir, "web.yaml"), MANIFEST);
  const k = async (...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> => {
    try {
      const r = await run(KUBECTL, ["--kubeconfig", kubeconfig, ...args.map((a) => (a === "@web.yaml" ? join(dir, "web.yaml") : a))], { timeout: 60_000 });
      return { ...r, code: 0 };
    } catch (e) {
      const err = e as { stdout: string; stderr: string; code: number };
      return { stdout: err.stdout, stderr: err.stderr, code: err.code };
    }
  };
  return {
    k,
    kubeconfig,
    stop: async () => {
      clearInterval(timer);
      await rest.close();
      c.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

kube(`real kubectl (${version}): apply, get -o wide, scale, rollout, logs, exec, watch, delete`, async (t) => {
  const { k, kubeconfig, stop } = await cluster();
  try {
    const nodes = await k("get", "nodes");
    t.is(nodes.code, 0, nodes.stderr);
    t.regex(nodes.stdout, /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\nnode1\s+Ready/);
    const applied = await k("apply", "-f", "@web.yaml");
    t.is(applied.code, 0, applied.stderr);
    t.regex(applied.stdout, /deployment.apps\/web created\nservice\/web created/);
    const rollout = await k("rollout", "status", "deployment/web", "--timeout=30s");
    t.is(rollout.code, 0, rollout.stderr);
    const wide = await k("get", "pods", "-o", "wide");
    t.regex(wide.stdout, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES\n/);
    t.is(wide.stdout.match(/\sRunning\s+0\s+\S+\s+10\.244\.\d+\.\d+\s+node\d\s/g)?.length, 2, wide.stdout);
    const ssa = await k("apply", "--server-side", "-f", "@web.yaml");
    t.is(ssa.code, 0, ssa.stderr);
    t.regex(ssa.stdout, /serverside-applied/);

    const watcher = spawn(KUBECTL, ["--kubeconfig", kubeconfig, "get", "pods", "-w", "--no-headers"]);
    let watched = "";
    watcher.stdout.on("data", (d: Buffer) => (watched += d.toString()));
    await new Promise((r) => setTimeout(r, 1500));
    const scaled = await k("scale", "deployment/web", "--replicas=3");
    t.is(scaled.code, 0, scaled.stderr);
    t.is((await k("wait", "--for=condition=Available", "deployment/web", "--timeout=30s")).code, 0);
    for (let i = 0; i < 50 && (watched.match(/Running/g)?.length ?? 0) < 3; i++) await new Promise((r) => setTimeout(r, 100));
    watcher.kill();
    t.true((watched.match(/\n/g)?.length ?? 0) >= 3, watched);

    const pod = (await k("get", "pods", "-l", "app=web", "-o", "jsonpath={.items[0].metadata.name}")).stdout;
    t.is((await k("logs", pod)).stdout, `hello from ${pod}\n`);
    if (minor >= 30) {
      const exec = await k("exec", pod, "--", "echo", "hi");
      t.is(exec.stdout, "ran echo hi\n");
      t.is((await k("exec", pod, "--", "fail")).code, 7);
    }

    const missing = await k("get", "pod", "nope");
    t.is(missing.code, 1);
    t.regex(missing.stderr, /Error from server \(NotFound\): pods "nope" not found/);
    const unknown = await k("get", "widgets");
    t.regex(unknown.stderr, /the server doesn't have a resource type "widgets"/);
    const del = await k("delete", "-f", "@web.yaml");
    t.is(del.code, 0, del.stderr);
    t.regex(del.stdout, /deployment.apps "web" deleted\nservice "web" deleted/);
  } finally {
    await stop();
  }
});

kube("real kubectl without the token is refused", async (t) => {
  const { k, stop } = await cluster();
  try {
    const r = await k("--token", "wrong", "get", "pods");
    t.not(r.code, 0);
    // Which of its two words kubectl prints depends on whether discovery or
    // the GET met the 401 first; a real API server gets both too.
    t.regex(r.stderr, /You must be logged in to the server \((Unauthorized|the server has asked for the client to provide credentials)\)/);
  } finally {
    await stop();
  }
});
