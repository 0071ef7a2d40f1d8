import test from "ava";
import { hostNames, parseHost, parseTarget } from "./location.ts";

test("on: accepts node1..nodeN, control, gateway and outside", (t) => {
  t.deepEqual(parseHost("node2", 2), { location: { kind: "host", host: "node2" } });
  t.deepEqual(parseHost("control", 1), { location: { kind: "host", host: "control" } });
  t.deepEqual(parseHost("outside", 1), { location: { kind: "host", host: "outside" } });
  t.deepEqual(parseHost("gateway", 1), { location: { kind: "host", host: "gateway" } });
  t.deepEqual(hostNames(2), ["node1", "node2", "control", "gateway", "outside"]);
});

test("on: refuses a node beyond the cluster and says how to get it", (t) => {
  t.deepEqual(parseHost("node3", 2), {
    error: `"node3" is not a host of this cluster: it has 2 nodes (node1 to node2); set cluster.nodes to 3 or more to use it`,
  });
});

test("on: refuses unknown hosts with a suggestion", (t) => {
  t.deepEqual(parseHost("nod1", 1), { error: `"nod1" is not a host (use node1, control or outside) (did you mean "node1"?)` });
  t.deepEqual(parseHost("node0", 3), { error: `"node0" is not a host (use node1…node3, control or outside) (did you mean "node1"?)` });
});

test("in: a bare name is a container (the driver falls back to a pod in default)", (t) => {
  t.deepEqual(parseTarget("busybox-1"), { location: { kind: "container", name: "busybox-1" } });
});

test("in: a slash or a colon makes a pod, namespace default when left out", (t) => {
  t.deepEqual(parseTarget("kube-system/coredns-1"), {
    location: { kind: "pod", namespace: "kube-system", pod: "coredns-1" },
  });
  t.deepEqual(parseTarget("web:nginx"), { location: { kind: "pod", namespace: "default", pod: "web", container: "nginx" } });
  t.deepEqual(parseTarget("prod/web:nginx"), {
    location: { kind: "pod", namespace: "prod", pod: "web", container: "nginx" },
  });
});

test("in: refuses what is neither", (t) => {
  for (const text of ["a/b/c", "/web", "web:", "a:b:c", "Web/x", "has space", "-x"]) {
    t.true("error" in parseTarget(text), text);
  }
});
