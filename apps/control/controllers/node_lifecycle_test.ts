import test from "ava";
import type { Deployment, Node, Pod } from "@kemu/api";
import { TestCluster } from "../_testing.ts";

function deployment(replicas: number): Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web" },
    spec: { replicas, selector: { matchLabels: { app: "web" } }, template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image: "nginx" }] } } },
  };
}

function node(c: TestCluster, name: string): Node {
  return c.api.get<Node>({ resource: "nodes", namespace: "", name });
}

test("a node whose heartbeats stop is Unknown after 40 s, and its pods are evicted after 300 s", (t) => {
  const c = new TestCluster();
  for (const n of ["node1", "node2", "node3"]) c.addNode(n);
  c.api.create("deployments", "default", deployment(6));
  c.run(5_000);
  t.deepEqual(c.podsPerNode(), { node1: 2, node2: 2, node3: 2 });
  const stoppedAt = c.clock.now();
  c.dead.add("node3");
  // The last heartbeat was at most 10 s before; at +30 s the node is still Ready.
  c.run(30_000);
  t.is(node(c, "node3").status?.conditions?.[0]?.status, "True");
  c.run(25_000);
  const ready = node(c, "node3").status!.conditions![0]!;
  t.like(ready, { type: "Ready", status: "Unknown", reason: "NodeStatusUnknown", message: "Kubelet stopped posting node status." });
  t.deepEqual(
    node(c, "node3").spec.taints?.map((x) => `${x.key}:${x.effect}`),
    ["node.kubernetes.io/unreachable:NoSchedule", "node.kubernetes.io/unreachable:NoExecute"],
  );
  const onDead = (): Pod[] => c.api.list<Pod>("pods", "default", { fieldSelector: "spec.nodeName=node3" }).items;
  t.true(onDead().every((p) => p.status?.conditions?.find((x) => x.type === "Ready")?.status === "False"));
  t.true(onDead().every((p) => p.metadata.deletionTimestamp === undefined));
  const taintedAt = Date.parse(node(c, "node3").spec.taints![1]!.timeAdded as string) - Date.UTC(2026, 0, 1);
  const unknownAt = c.clock.now();
  // 300 s of toleration, counted from the taint.
  c.clock.runUntil(taintedAt + 299_000);
  t.true(onDead().every((p) => p.metadata.deletionTimestamp === undefined));
  c.clock.runUntil(taintedAt + 301_000);
  t.is(onDead().length, 2);
  t.true(onDead().every((p) => p.metadata.deletionTimestamp !== undefined), "evicted pods are Terminating: their kubelet is gone");
  c.run(5_000);
  // The ReplicaSet replaced them on the live nodes.
  t.deepEqual(c.podsPerNode(), { node1: 3, node2: 3 });
  t.true(unknownAt - stoppedAt >= 40_000);
  const evictions = c.api.list("events", "default", { fieldSelector: "reason=TaintManagerEviction" }).items;
  t.is(evictions.length, 2);
});

test("durations are options", (t) => {
  const c = new TestCluster({ control: { nodeLifecycle: { gracePeriodMs: 15_000 } }, server: { defaultTolerationSeconds: 30 } });
  c.addNode("node1");
  c.api.create("pods", "default", { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "x" }] } });
  c.run(1_000);
  c.dead.add("node1");
  c.run(30_000);
  t.is(node(c, "node1").status?.conditions?.[0]?.status, "Unknown");
  c.run(35_000);
  t.truthy(c.api.get<Pod>({ resource: "pods", namespace: "default", name: "p" }).metadata.deletionTimestamp);
});

test("a node that comes back loses its taints", (t) => {
  const c = new TestCluster();
  c.addNode("node1");
  c.run(1_000);
  c.dead.add("node1");
  c.run(60_000);
  t.is(node(c, "node1").spec.taints?.length, 2);
  c.dead.delete("node1");
  c.run(15_000);
  t.is(node(c, "node1").status?.conditions?.[0]?.status, "True");
  t.is(node(c, "node1").spec.taints, undefined);
});

test("NotReady and unschedulable nodes get their condition taints", (t) => {
  const c = new TestCluster({ kubelets: false });
  c.addNode("node1", { ready: false });
  c.addNode("node2");
  const n2 = node(c, "node2");
  n2.spec.unschedulable = true;
  c.api.update("nodes", "", n2);
  c.run(100);
  t.deepEqual(node(c, "node1").spec.taints?.map((x) => `${x.key}:${x.effect}`), ["node.kubernetes.io/not-ready:NoSchedule", "node.kubernetes.io/not-ready:NoExecute"]);
  t.deepEqual(node(c, "node2").spec.taints?.map((x) => `${x.key}:${x.effect}`), ["node.kubernetes.io/unschedulable:NoSchedule"]);
});
