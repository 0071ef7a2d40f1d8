import test from "ava";
import type { Deployment, Pod, ReplicaSet } from "@kemu/api";
import { TestCluster } from "../_testing.ts";
import { fnv32a, podTemplateHash, safeEncode } from "./deployment.ts";

function nginx(replicas: number, image = "nginx:1.25"): Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", labels: { app: "web" } },
    spec: {
      replicas,
      selector: { matchLabels: { app: "web" } },
      template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "nginx", image, ports: [{ containerPort: 80 }] }] } },
    },
  };
}

function threeNodes(): TestCluster {
  const c = new TestCluster();
  for (const n of ["node1", "node2", "node3"]) c.addNode(n);
  return c;
}

test("a Deployment of 6 replicas on 3 Ready nodes runs 6 pods spread 2/2/2", (t) => {
  const c = threeNodes();
  c.api.create("deployments", "default", nginx(6), { fieldValidation: "Strict" });
  c.run(5_000);
  const rs = c.api.list<ReplicaSet>("replicasets", "default").items;
  t.is(rs.length, 1);
  const hash = rs[0]!.metadata.labels?.["pod-template-hash"] ?? "";
  t.regex(hash, /^[bcdfghjklmnpqrstvwxz2456789]{6,10}$/);
  t.is(rs[0]!.metadata.name, `web-${hash}`);
  const pods = c.api.list<Pod>("pods", "default").items;
  t.is(pods.length, 6);
  for (const p of pods) t.regex(p.metadata.name ?? "", new RegExp(`^web-${hash}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
  t.deepEqual(c.podsPerNode(), { node1: 2, node2: 2, node3: 2 });
  const d = c.api.get<Deployment>({ resource: "deployments", namespace: "default", name: "web" });
  t.like(d.status, { replicas: 6, updatedReplicas: 6, readyReplicas: 6, availableReplicas: 6, observedGeneration: 1 });
  t.deepEqual(
    d.status?.conditions?.map((x) => [x.type, x.status, x.reason]),
    [
      ["Available", "True", "MinimumReplicasAvailable"],
      ["Progressing", "True", "NewReplicaSetAvailable"],
    ],
  );
  t.is(d.metadata.annotations?.["deployment.kubernetes.io/revision"], "1");
  c.stop();
});

test("scaling a Deployment down deletes pods, and up creates them", (t) => {
  const c = threeNodes();
  c.api.create("deployments", "default", nginx(6));
  c.run(5_000);
  c.api.patch({ resource: "deployments", namespace: "default", name: "web" }, "merge", { spec: { replicas: 3 } });
  c.run(5_000);
  t.is(c.api.list("pods", "default").items.length, 3);
  t.deepEqual(c.podsPerNode(), { node1: 1, node2: 1, node3: 1 });
  c.api.patch({ resource: "deployments", namespace: "default", name: "web" }, "merge", { spec: { replicas: 9 } });
  c.run(5_000);
  t.deepEqual(c.podsPerNode(), { node1: 3, node2: 3, node3: 3 });
  const rs = c.api.list<ReplicaSet>("replicasets", "default").items[0]!;
  t.is(rs.spec.replicas, 9);
  t.is(rs.metadata.annotations?.["deployment.kubernetes.io/desired-replicas"], "9");
  const events = c.api.list("events", "default", { fieldSelector: "reason=ScalingReplicaSet" }).items.map((e) => e["message"]);
  t.deepEqual(events, [`Scaled up replica set ${rs.metadata.name} from 0 to 6`, `Scaled down replica set ${rs.metadata.name} from 6 to 3`, `Scaled up replica set ${rs.metadata.name} from 3 to 9`]);
  c.stop();
});

test("changing the template rolls out a new ReplicaSet and retires the old one", (t) => {
  const c = threeNodes();
  c.api.create("deployments", "default", nginx(4));
  c.run(5_000);
  const before = c.api.list<ReplicaSet>("replicasets", "default").items[0]!;
  const d = c.api.get<Deployment>({ resource: "deployments", namespace: "default", name: "web" });
  d.spec.template.spec.containers[0]!.image = "nginx:1.26";
  c.api.update("deployments", "default", d);
  c.run(30_000);
  const rss = c.api.list<ReplicaSet>("replicasets", "default").items;
  t.is(rss.length, 2);
  const old = rss.find((r) => r.metadata.uid === before.metadata.uid)!;
  const next = rss.find((r) => r.metadata.uid !== before.metadata.uid)!;
  t.is(old.spec.replicas, 0);
  t.is(next.spec.replicas, 4);
  t.is(next.metadata.annotations?.["deployment.kubernetes.io/revision"], "2");
  const pods = c.api.list<Pod>("pods", "default").items;
  t.is(pods.length, 4);
  t.true(pods.every((p) => p.spec.containers[0]!.image === "nginx:1.26"));
  const dd = c.api.get<Deployment>({ resource: "deployments", namespace: "default", name: "web" });
  t.like(dd.status, { replicas: 4, updatedReplicas: 4, availableReplicas: 4, observedGeneration: 2 });
  t.is(dd.metadata.annotations?.["deployment.kubernetes.io/revision"], "2");
  c.stop();
});

test("deleting a Deployment deletes its ReplicaSets and pods (Background)", (t) => {
  const c = threeNodes();
  c.api.create("deployments", "default", nginx(3));
  c.run(5_000);
  c.api.delete({ resource: "deployments", namespace: "default", name: "web" });
  c.run(5_000);
  t.is(c.api.list("replicasets", "default").items.length, 0);
  t.is(c.api.list("pods", "default").items.length, 0);
  c.stop();
});

test("Orphan deletion of a Deployment leaves its ReplicaSet without an owner", (t) => {
  const c = threeNodes();
  c.api.create("deployments", "default", nginx(2));
  c.run(5_000);
  c.api.delete({ resource: "deployments", namespace: "default", name: "web" }, { propagationPolicy: "Orphan" });
  c.run(5_000);
  t.is(c.api.list("deployments", "default").items.length, 0);
  const rs = c.api.list<ReplicaSet>("replicasets", "default").items;
  t.is(rs.length, 1);
  t.is(rs[0]!.metadata.ownerReferences, undefined);
  t.is(c.api.list("pods", "default").items.length, 2);
  c.stop();
});

test("Foreground deletion removes the dependents before the owner", (t) => {
  const c = threeNodes();
  c.api.create("deployments", "default", nginx(2));
  c.run(5_000);
  const d = c.api.delete<Deployment>({ resource: "deployments", namespace: "default", name: "web" }, { propagationPolicy: "Foreground" });
  t.truthy(d.metadata.deletionTimestamp);
  t.deepEqual(d.metadata.finalizers, ["foregroundDeletion"]);
  c.run(5_000);
  t.is(c.api.list("deployments", "default").items.length, 0);
  t.is(c.api.list("replicasets", "default").items.length, 0);
  t.is(c.api.list("pods", "default").items.length, 0);
  c.stop();
});

test("pod-template-hash is FNV-32a, safe-encoded from its decimal text", (t) => {
  t.is(fnv32a(""), 0x811c9dc5);
  t.is(fnv32a("a"), 0xe40c292c);
  t.is(safeEncode("0123456789"), "456789bcdf");
  const h = podTemplateHash({ metadata: { labels: { app: "x" } }, spec: { containers: [{ name: "a", image: "b" }] } });
  t.regex(h, /^[4-9bcdf]+$/);
  t.not(h, podTemplateHash({ metadata: { labels: { app: "x" } }, spec: { containers: [{ name: "a", image: "c" }] } }));
});

test("a rolling update stays within maxSurge and maxUnavailable", (t) => {
  const c = threeNodes();
  c.api.create("deployments", "default", nginx(4));
  c.run(5_000);
  // What the Deployment controller bounds: the ReplicaSets' sizes, and their available pods.
  let most = 0;
  let fewestAvailable = Infinity;
  const stop = c.server.store.watch("replicasets", "default", undefined, () => {
    const rss = c.server.store.list("replicasets", "default") as ReplicaSet[];
    most = Math.max(most, rss.reduce((a, r) => a + (r.spec.replicas ?? 0), 0));
    fewestAvailable = Math.min(fewestAvailable, rss.reduce((a, r) => a + (r.status?.availableReplicas ?? 0), 0));
  });
  c.api.patch({ resource: "deployments", namespace: "default", name: "web" }, "strategic", { spec: { template: { spec: { containers: [{ name: "nginx", image: "nginx:1.27" }] } } } });
  c.run(30_000);
  stop();
  // 25% of 4: one extra pod at most, one unavailable at most.
  t.is(most, 5);
  t.is(fewestAvailable, 3);
  t.true(c.api.list<Pod>("pods", "default").items.every((p) => p.spec.containers[0]!.image === "nginx:1.27"));
});

test("Recreate stops every old pod before starting new ones", (t) => {
  const c = threeNodes();
  const d = nginx(3);
  d.spec.strategy = { type: "Recreate" };
  c.api.create("deployments", "default", d);
  c.run(5_000);
  let mixed = false;
  const stop = c.server.store.watch("pods", "default", undefined, () => {
    const images = new Set((c.server.store.list("pods", "default") as Pod[]).map((p) => p.spec.containers[0]!.image));
    if (images.size > 1) mixed = true;
  });
  c.api.patch({ resource: "deployments", namespace: "default", name: "web" }, "strategic", { spec: { template: { spec: { containers: [{ name: "nginx", image: "nginx:1.27" }] } } } });
  c.run(30_000);
  stop();
  t.false(mixed);
  t.is(c.api.list<Pod>("pods", "default").items.filter((p) => p.spec.containers[0]!.image === "nginx:1.27").length, 3);
});

test("a rollout that makes no progress times out after progressDeadlineSeconds", (t) => {
  const c = threeNodes();
  const d = nginx(2);
  d.spec["progressDeadlineSeconds"] = 30;
  d.spec.template.spec.containers[0]!.resources = { requests: { cpu: "64" } };
  c.api.create("deployments", "default", d);
  c.run(60_000);
  const got = c.api.get<Deployment>({ resource: "deployments", namespace: "default", name: "web" });
  const prog = got.status?.conditions?.find((x) => x.type === "Progressing");
  t.like(prog, { status: "False", reason: "ProgressDeadlineExceeded" });
  t.regex(prog?.message ?? "", /^ReplicaSet "web-[4-9bcdf]+" has timed out progressing\.$/);
  t.like(got.status, { unavailableReplicas: 2 });
});
