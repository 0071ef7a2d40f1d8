import test from "ava";
import type { Node } from "@kemu/api";
import { TestCluster } from "../_testing.ts";

const cidr = (c: TestCluster, name: string): string | undefined => c.api.get<Node>({ resource: "nodes", namespace: "", name }).spec.podCIDR;

test("nodes get /24s of 10.244.0.0/16 in creation order", (t) => {
  const c = new TestCluster({ kubelets: false });
  for (const n of ["node2", "node1", "node3"]) c.addNode(n);
  c.run(100);
  t.is(cidr(c, "node2"), "10.244.0.0/24");
  t.is(cidr(c, "node1"), "10.244.1.0/24");
  t.is(cidr(c, "node3"), "10.244.2.0/24");
  t.deepEqual(c.api.get<Node>({ resource: "nodes", namespace: "", name: "node3" }).spec.podCIDRs, ["10.244.2.0/24"]);
});

test("the cluster CIDR and mask size are options; freed ranges are not reused at once", (t) => {
  const c = new TestCluster({ kubelets: false, control: { nodeIpam: { clusterCIDR: "10.1.0.0/16", nodeCIDRMaskSize: 25 } } });
  c.addNode("a");
  c.addNode("b");
  c.run(100);
  t.is(cidr(c, "a"), "10.1.0.0/25");
  t.is(cidr(c, "b"), "10.1.0.128/25");
  c.api.delete({ resource: "nodes", namespace: "", name: "a" });
  c.addNode("c");
  c.run(100);
  t.is(cidr(c, "c"), "10.1.1.0/25");
});

test("a podCIDR set by the node itself is kept", (t) => {
  const c = new TestCluster({ kubelets: false });
  const n = c.addNode("x");
  n.spec.podCIDR = "10.244.7.0/24";
  n.spec.podCIDRs = ["10.244.7.0/24"];
  c.api.update("nodes", "", n);
  c.run(100);
  t.is(cidr(c, "x"), "10.244.7.0/24");
});
