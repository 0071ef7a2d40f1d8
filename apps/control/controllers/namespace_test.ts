import test from "ava";
import { TestCluster } from "../_testing.ts";

test("deleting a namespace empties it, then removes it", (t) => {
  const c = new TestCluster();
  c.addNode("node1");
  c.api.create("namespaces", "", { apiVersion: "v1", kind: "Namespace", metadata: { name: "team" } });
  c.api.create("configmaps", "team", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" } });
  c.api.create("pods", "team", { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "i" }] } });
  c.run(1_000);
  const ns = c.api.delete({ resource: "namespaces", namespace: "", name: "team" });
  t.is((ns.status as { phase: string }).phase, "Terminating");
  const e = t.throws(() => c.api.create("configmaps", "team", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "b" } }));
  t.is(e?.message, 'configmaps "b" is forbidden: unable to create new content in namespace team because it is being terminated');
  c.run(1_000);
  t.is(c.api.list("namespaces", "", { fieldSelector: "metadata.name=team" }).items.length, 0);
  t.is(c.server.store.list("pods", "team").length, 0);
});
