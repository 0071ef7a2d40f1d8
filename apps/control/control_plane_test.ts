import test from "ava";
import { TestCluster } from "./_testing.ts";

function run(seed: number): string {
  const c = new TestCluster({ seed });
  for (const n of ["node1", "node2", "node3"]) c.addNode(n);
  c.api.create("deployments", "default", {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web" },
    spec: { replicas: 5, selector: { matchLabels: { app: "web" } }, template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image: "nginx" }] } } },
  });
  c.api.create("services", "default", { apiVersion: "v1", kind: "Service", metadata: { name: "web" }, spec: { type: "NodePort", selector: { app: "web" }, ports: [{ port: 80 }] } });
  c.run(60_000);
  c.stop();
  const all = ["pods", "replicasets", "services", "endpoints", "endpointslices", "events", "nodes"].map((r) => c.api.list(r, ""));
  return JSON.stringify(all);
}

test("a run repeats exactly from its seed, and another seed differs", (t) => {
  const a = run(11);
  t.is(run(11), a);
  t.not(run(12), a);
});

test("the controllers can be switched off one by one", (t) => {
  const c = new TestCluster({ control: { disable: ["nodeipam", "scheduler"] }, kubelets: false });
  c.addNode("node1");
  c.api.create("pods", "default", { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "i" }] } });
  c.run(1_000);
  t.is(c.api.get({ resource: "nodes", namespace: "", name: "node1" }).spec !== undefined, true);
  t.is((c.api.get({ resource: "nodes", namespace: "", name: "node1" }).spec as { podCIDR?: string }).podCIDR, undefined);
  t.is((c.api.get({ resource: "pods", namespace: "default", name: "p" }).spec as { nodeName?: string }).nodeName, undefined);
  c.stop();
});
