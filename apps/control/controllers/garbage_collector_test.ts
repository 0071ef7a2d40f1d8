import test from "ava";
import type { KubeObject } from "@kemu/api";
import { TestCluster } from "../_testing.ts";

const cm = (name: string, owners: KubeObject[] = []): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, ownerReferences: owners.map((o) => ({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name!, uid: o.metadata.uid! })) },
});

test("dependents whose owners are all gone are deleted; a remaining owner keeps them", (t) => {
  const c = new TestCluster({ kubelets: false });
  const a = c.api.create("configmaps", "default", cm("a"));
  const b = c.api.create("configmaps", "default", cm("b"));
  c.api.create("configmaps", "default", cm("only-a", [a]));
  c.api.create("configmaps", "default", cm("a-and-b", [a, b]));
  c.api.delete({ resource: "configmaps", namespace: "default", name: "a" });
  c.run(100);
  t.is(c.server.store.get("configmaps", "default", "only-a"), undefined);
  const both = c.server.store.get("configmaps", "default", "a-and-b");
  t.deepEqual(both?.metadata.ownerReferences?.map((r) => r.name), ["b"]);
});

test("a dependent created for an owner that does not exist is collected", (t) => {
  const c = new TestCluster({ kubelets: false });
  c.api.create("configmaps", "default", { ...cm("x"), metadata: { name: "x", ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "ghost", uid: "no-such-uid" }] } });
  c.run(100);
  t.is(c.server.store.get("configmaps", "default", "x"), undefined);
});

test("pods of a deleted Node object are deleted at once", (t) => {
  const c = new TestCluster();
  c.addNode("node1");
  c.api.create("pods", "default", { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "i" }] } });
  c.run(1_000);
  t.is(c.server.store.get("pods", "default", "p")?.spec !== undefined, true);
  c.api.delete({ resource: "nodes", namespace: "", name: "node1" });
  c.run(100);
  t.is(c.server.store.get("pods", "default", "p"), undefined);
});
