import test from "ava";
import type { Event, KubeObject, Pod } from "@kemu/api";
import { TestCluster } from "./_testing.ts";
import { podRequest, unschedulableMessage } from "./scheduler.ts";

function pod(name: string, spec: Record<string, unknown> = {}, requests?: Record<string, string>): KubeObject {
  const c: Record<string, unknown> = { name: "c", image: "busybox" };
  if (requests !== undefined) c["resources"] = { requests };
  return { apiVersion: "v1", kind: "Pod", metadata: { name }, spec: { containers: [c], ...spec } };
}

function scheduled(c: TestCluster, name: string): Pod {
  return c.api.get<Pod>({ resource: "pods", namespace: "default", name });
}

test("a pod is bound to a node with a PodScheduled condition and a Scheduled event", (t) => {
  const c = new TestCluster({ kubelets: false });
  c.addNode("node1");
  c.api.create("pods", "default", pod("p"));
  c.run(100);
  const p = scheduled(c, "p");
  t.is(p.spec.nodeName, "node1");
  t.like(p.status?.conditions?.[0], { type: "PodScheduled", status: "True" });
  const ev = c.api.list<Event>("events", "default", { fieldSelector: "involvedObject.name=p" }).items[0]!;
  t.is(ev.reason, "Scheduled");
  t.is(ev.message, "Successfully assigned default/p to node1");
  t.is(ev.source?.component, "default-scheduler");
});

test("nodeSelector, nodeName and resource requests decide where pods go", (t) => {
  const c = new TestCluster({ kubelets: false });
  c.addNode("node1", { cpu: "1", labels: { disk: "hdd" } });
  c.addNode("node2", { cpu: "4", labels: { disk: "ssd" } });
  c.api.create("pods", "default", pod("ssd", { nodeSelector: { disk: "ssd" } }));
  c.api.create("pods", "default", pod("pinned", { nodeName: "node1" }));
  c.api.create("pods", "default", pod("big", {}, { cpu: "2" }));
  c.run(100);
  t.is(scheduled(c, "ssd").spec.nodeName, "node2");
  t.is(scheduled(c, "pinned").spec.nodeName, "node1");
  t.is(scheduled(c, "big").spec.nodeName, "node2");
});

test("an unschedulable pod stays Pending with the scheduler's reasons", (t) => {
  const c = new TestCluster({ kubelets: false });
  for (const n of ["node1", "node2", "node3"]) c.addNode(n, { cpu: "1" });
  c.api.create("pods", "default", pod("huge", {}, { cpu: "8" }));
  c.run(100);
  const p = scheduled(c, "huge");
  t.is(p.spec.nodeName, undefined);
  t.is(p.status?.phase, "Pending");
  const cond = p.status?.conditions?.find((x) => x.type === "PodScheduled");
  t.like(cond, { status: "False", reason: "Unschedulable" });
  t.is(cond?.message, "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.");
  const ev = c.api.list<Event>("events", "default", { fieldSelector: "reason=FailedScheduling" }).items[0]!;
  t.is(ev.type, "Warning");
  t.is(ev.message, cond?.message);
  // A node with room arrives: the pod is scheduled there.
  c.addNode("node4", { cpu: "16" });
  c.run(100);
  t.is(scheduled(c, "huge").spec.nodeName, "node4");
});

test("reasons are counted per node and sorted; preemption cannot help selectors and taints", (t) => {
  const c = new TestCluster({ kubelets: false });
  c.addNode("node1", { labels: { zone: "a" } });
  c.addNode("node2", { labels: { zone: "b" }, memory: "1Gi" });
  c.addNode("node3", { ready: false });
  const n1 = c.api.get({ resource: "nodes", namespace: "", name: "node1" });
  n1.spec = { unschedulable: true };
  c.api.update("nodes", "", n1);
  c.api.create("pods", "default", pod("p", { nodeSelector: { zone: "b" } }, { memory: "2Gi" }));
  c.run(100);
  t.is(
    scheduled(c, "p").status?.conditions?.[0]?.message,
    "0/3 nodes are available: 1 Insufficient memory, 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 1 node(s) were unschedulable. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.",
  );
});

test("a node's pod capacity counts", (t) => {
  const c = new TestCluster({ kubelets: false });
  c.addNode("node1", { pods: "2" });
  for (const n of ["a", "b", "c"]) c.api.create("pods", "default", pod(n));
  c.run(100);
  t.is(scheduled(c, "c").status?.conditions?.[0]?.message, "0/1 nodes are available: 1 Too many pods. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.");
});

test("requests of bound pods are subtracted from allocatable", (t) => {
  const c = new TestCluster({ kubelets: false });
  c.addNode("node1", { cpu: "1", memory: "1Gi" });
  c.api.create("pods", "default", pod("a", {}, { cpu: "600m", memory: "512Mi" }));
  c.api.create("pods", "default", pod("b", {}, { cpu: "0.5" }));
  c.api.create("pods", "default", pod("c", {}, { memory: "600Mi" }));
  c.run(100);
  t.is(scheduled(c, "a").spec.nodeName, "node1");
  t.is(scheduled(c, "b").spec.nodeName, undefined);
  t.is(scheduled(c, "c").spec.nodeName, undefined);
  t.regex(scheduled(c, "c").status?.conditions?.[0]?.message ?? "", /^0\/1 nodes are available: 1 Insufficient memory\./);
});

test("without nodes the message says so", (t) => {
  const c = new TestCluster({ kubelets: false });
  c.api.create("pods", "default", pod("p"));
  c.run(100);
  t.is(scheduled(c, "p").status?.conditions?.[0]?.message, "no nodes available to schedule pods");
  t.is(unschedulableMessage(0, []), "no nodes available to schedule pods");
});

test("requests sum over containers; init containers count by their largest", (t) => {
  const r = podRequest({
    apiVersion: "v1",
    kind: "Pod",
    metadata: {},
    spec: {
      initContainers: [{ name: "i", image: "x", resources: { requests: { cpu: "2" } } }],
      containers: [
        { name: "a", image: "x", resources: { requests: { cpu: "250m", memory: "1Gi" } } },
        { name: "b", image: "x", resources: { requests: { cpu: "0.5", memory: "512M" } } },
      ],
    },
  } as Pod);
  t.deepEqual(r, { milliCPU: 2000, memory: 1073741824 + 512_000_000, hostPorts: [] });
});

test("replicas spread: fewest of the same owner, then fewest pods, then name", (t) => {
  const c = new TestCluster({ kubelets: false });
  for (const n of ["node3", "node1", "node2"]) c.addNode(n);
  c.api.create("pods", "default", pod("lonely", { nodeName: "node1" }));
  c.api.create("replicasets", "default", {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: { name: "rs" },
    spec: { replicas: 4, selector: { matchLabels: { app: "x" } }, template: { metadata: { labels: { app: "x" } }, spec: { containers: [{ name: "c", image: "i" }] } } },
  });
  c.run(1000);
  const per: Record<string, number> = {};
  for (const p of c.api.list<Pod>("pods", "default", { labelSelector: "app=x" }).items) per[p.spec.nodeName ?? ""] = (per[p.spec.nodeName ?? ""] ?? 0) + 1;
  t.deepEqual(per, { node1: 1, node2: 2, node3: 1 });
});
