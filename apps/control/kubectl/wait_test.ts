import test from "ava";
import type { Deployment } from "@kemu/api";
import { KubectlHarness } from "./_testing.ts";
import { deploymentStatus } from "./wait.ts";

const POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: nginx\n  labels:\n    app: web\nspec:\n  containers:\n  - name: nginx\n    image: nginx\n";

test("wait --for=condition=Ready returns once the pod is ready", async (t) => {
  const h = new KubectlHarness({ controllers: true, kubelets: true });
  h.cluster.addNode("node1");
  h.file("/pod.yaml", POD);
  await h.kubectl("apply -f /pod.yaml");
  t.deepEqual(await h.kubectl("wait --for=condition=Ready pod/nginx --timeout=60s"), { exit: 0, stdout: "pod/nginx condition met\n", stderr: "" });
  t.deepEqual(await h.kubectl("wait --for=condition=Ready pod -l app=web"), { exit: 0, stdout: "pod/nginx condition met\n", stderr: "" });
});

test("wait times out at --timeout with kubectl's message, exit 1", async (t) => {
  const h = new KubectlHarness({ controllers: true, kubelets: true });
  h.cluster.addNode("node1");
  h.cluster.notReady.add("default/nginx");
  h.file("/pod.yaml", POD);
  await h.kubectl("apply -f /pod.yaml");
  const start = h.cluster.clock.now();
  t.deepEqual(await h.kubectl("wait --for=condition=Ready pod/nginx --timeout=60s"), {
    exit: 1,
    stdout: "",
    stderr: "error: timed out waiting for the condition on pods/nginx\n",
  });
  t.is(h.cluster.clock.now() - start, 60_000);
});

test("wait names what it cannot find", async (t) => {
  const h = new KubectlHarness();
  t.deepEqual(await h.kubectl("wait --for=condition=Ready pod/nope --timeout=5s"), { exit: 1, stdout: "", stderr: 'Error from server (NotFound): pods "nope" not found\n' });
  t.deepEqual(await h.kubectl("wait --for=condition=Ready pod -l app=none"), { exit: 1, stdout: "", stderr: "error: no matching resources found\n" });
  t.deepEqual(await h.kubectl("wait --for=ready pod/x"), { exit: 1, stdout: "", stderr: 'error: unrecognized condition: "ready"\n' });
});

test("wait --for=delete returns when the object is gone", async (t) => {
  const h = new KubectlHarness({ controllers: true, kubelets: true });
  h.cluster.addNode("node1");
  h.file("/pod.yaml", POD);
  await h.kubectl("apply -f /pod.yaml");
  h.advance(1_000);
  h.cluster.clock.setTimer(10_000, () => void h.cluster.server.direct.delete({ resource: "pods", namespace: "default", name: "nginx" }));
  t.deepEqual(await h.kubectl("wait --for=delete pod/nginx"), { exit: 0, stdout: "pod/nginx condition met\n", stderr: "" });
});

test("rollout status follows a deployment until it is rolled out", async (t) => {
  const h = new KubectlHarness({ controllers: true, kubelets: true });
  for (const n of ["node1", "node2", "node3"]) h.cluster.addNode(n);
  h.file(
    "/web.yaml",
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 6\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: nginx\n        image: nginx\n",
  );
  await h.kubectl("apply -f /web.yaml");
  h.advance(1);
  const r = await h.kubectl("rollout status deployment/web");
  t.is(r.exit, 0);
  const lines = r.stdout.trimEnd().split("\n");
  t.is(lines.at(-1), 'deployment "web" successfully rolled out');
  for (const l of lines.slice(0, -1)) t.regex(l, /^Waiting for deployment "web" rollout to finish: \d+ of 6 updated replicas are available\.\.\.$|^Waiting for deployment spec update to be observed\.\.\.$/);
  t.deepEqual(await h.kubectl("rollout status deploy/nope"), { exit: 1, stdout: "", stderr: 'Error from server (NotFound): deployments.apps "nope" not found\n' });
});

test("the rollout status text follows the deployment's counts", (t) => {
  const d = (spec: number, status: Deployment["status"], generation = 2, observed = 2): Deployment =>
    ({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", generation }, spec: { replicas: spec, selector: {}, template: { spec: { containers: [] } } }, status: { observedGeneration: observed, ...status } }) as Deployment;
  t.deepEqual(deploymentStatus(d(6, { updatedReplicas: 2 })), { text: 'Waiting for deployment "web" rollout to finish: 2 out of 6 new replicas have been updated...\n', done: false });
  t.deepEqual(deploymentStatus(d(6, { updatedReplicas: 6, replicas: 8 })), { text: 'Waiting for deployment "web" rollout to finish: 2 old replicas are pending termination...\n', done: false });
  t.deepEqual(deploymentStatus(d(6, { updatedReplicas: 6, replicas: 6, availableReplicas: 2 })), { text: 'Waiting for deployment "web" rollout to finish: 2 of 6 updated replicas are available...\n', done: false });
  t.deepEqual(deploymentStatus(d(6, { updatedReplicas: 6, replicas: 6, availableReplicas: 6 })), { text: 'deployment "web" successfully rolled out\n', done: true });
  t.deepEqual(deploymentStatus(d(6, {}, 3, 2)), { text: "Waiting for deployment spec update to be observed...\n", done: false });
});
