import test from "ava";
import type { KubeObject, Pod, ReplicaSet } from "@kemu/api";
import { TestCluster } from "../_testing.ts";
import { podsToDeleteFirst } from "./replicaset.ts";

function rs(replicas: number): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: { name: "rs" },
    spec: { replicas, selector: { matchLabels: { app: "x" } }, template: { metadata: { labels: { app: "x" } }, spec: { containers: [{ name: "c", image: "i" }] } } },
  };
}

test("a ReplicaSet keeps its replicas and reports their state", (t) => {
  const c = new TestCluster();
  c.addNode("node1");
  c.api.create("replicasets", "default", rs(3));
  c.run(2_000);
  const pods = c.api.list<Pod>("pods", "default").items;
  t.is(pods.length, 3);
  t.true(pods.every((p) => p.metadata.ownerReferences?.[0]?.kind === "ReplicaSet" && p.metadata.ownerReferences[0].controller === true));
  t.like(c.api.get<ReplicaSet>({ resource: "replicasets", namespace: "default", name: "rs" }).status, { replicas: 3, readyReplicas: 3, availableReplicas: 3, fullyLabeledReplicas: 3, observedGeneration: 1 });
  // A pod deleted by hand is replaced.
  c.api.delete({ resource: "pods", namespace: "default", name: pods[0]!.metadata.name! });
  c.run(2_000);
  t.is(c.api.list("pods", "default").items.length, 3);
});

test("scale-down deletes unscheduled pods first, then the newest", (t) => {
  const c = new TestCluster({ control: { disable: ["scheduler"] }, kubelets: false });
  c.api.create("replicasets", "default", rs(3));
  c.run(1_000);
  const names = c.api.list<Pod>("pods", "default").items.map((p) => p.metadata.name!);
  // Bind two of them by hand; the third stays unscheduled.
  c.api.create("nodes", "", { apiVersion: "v1", kind: "Node", metadata: { name: "n" }, spec: {} });
  c.server.direct.bind({ resource: "pods", namespace: "default", name: names[0]! }, "n");
  c.server.direct.bind({ resource: "pods", namespace: "default", name: names[2]! }, "n");
  c.api.patch({ resource: "replicasets", namespace: "default", name: "rs" }, "merge", { spec: { replicas: 2 } });
  c.run(1_000);
  t.deepEqual(c.api.list<Pod>("pods", "default").items.map((p) => p.metadata.name).sort(), [names[0], names[2]].sort());
});

test("ranking: unassigned, pending, not ready, crowded, newest go first", (t) => {
  const mk = (name: string, node: string | undefined, phase: string, ready: boolean, created: string): Pod =>
    ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, creationTimestamp: created },
      spec: { containers: [], ...(node ? { nodeName: node } : {}) },
      status: { phase, conditions: ready ? [{ type: "Ready", status: "True", lastTransitionTime: created }] : [] },
    }) as unknown as Pod;
  const order = podsToDeleteFirst(
    [
      mk("old-running", "a", "Running", true, "2026-01-01T00:00:00Z"),
      mk("new-running", "b", "Running", true, "2026-01-01T00:00:09Z"),
      mk("pending", "a", "Pending", false, "2026-01-01T00:00:01Z"),
      mk("unassigned", undefined, "Pending", false, "2026-01-01T00:00:00Z"),
      mk("not-ready", "a", "Running", false, "2026-01-01T00:00:00Z"),
    ],
    Date.UTC(2026, 0, 1),
  ).map((p) => p.metadata.name);
  t.deepEqual(order, ["unassigned", "pending", "not-ready", "old-running", "new-running"]);
});

test("orphan pods matching the selector are adopted", (t) => {
  const c = new TestCluster({ kubelets: false, control: { disable: ["scheduler"] } });
  c.api.create("pods", "default", { apiVersion: "v1", kind: "Pod", metadata: { name: "stray", labels: { app: "x" } }, spec: { containers: [{ name: "c", image: "i" }] } });
  c.api.create("replicasets", "default", rs(2));
  c.run(1_000);
  const pods = c.api.list<Pod>("pods", "default").items;
  t.is(pods.length, 2);
  t.is(pods.find((p) => p.metadata.name === "stray")?.metadata.ownerReferences?.[0]?.name, "rs");
});
