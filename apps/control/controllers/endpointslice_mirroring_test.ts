import test from "ava";
import type { EndpointSlice } from "@kemu/api";
import { TestCluster } from "../_testing.ts";

const slices = (c: TestCluster, svc: string): EndpointSlice[] =>
  c.api.list<EndpointSlice>("endpointslices", "default", { labelSelector: `kubernetes.io/service-name=${svc}` }).items;

test("a Service without selector gets EndpointSlices mirroring its hand-written Endpoints; they follow edits and deletion", (t) => {
  const c = new TestCluster();
  c.api.create("services", "default", { apiVersion: "v1", kind: "Service", metadata: { name: "db" }, spec: { ports: [{ name: "pg", port: 5432 }] } });
  c.api.create("endpoints", "default", {
    apiVersion: "v1",
    kind: "Endpoints",
    metadata: { name: "db" },
    subsets: [{ addresses: [{ ip: "192.168.0.50" }], notReadyAddresses: [{ ip: "192.168.0.51" }], ports: [{ name: "pg", port: 5432, protocol: "TCP" }] }],
  });
  c.run(2_000);
  const [s] = slices(c, "db");
  t.truthy(s);
  t.is(s!.metadata.labels?.["endpointslice.kubernetes.io/managed-by"], "endpointslicemirroring-controller.k8s.io");
  t.deepEqual(s!.endpoints, [
    { addresses: ["192.168.0.50"], conditions: { ready: true } },
    { addresses: ["192.168.0.51"], conditions: { ready: false } },
  ]);
  t.deepEqual(s!.ports, [{ name: "pg", port: 5432, protocol: "TCP" }]);
  // The kubernetes Service's Endpoints carry skip-mirror: only the bootstrap slice exists.
  t.deepEqual(slices(c, "kubernetes").map((x) => x.metadata.name), ["kubernetes"]);
  c.api.delete({ resource: "endpoints", namespace: "default", name: "db" });
  c.run(2_000);
  t.deepEqual(slices(c, "db"), []);
});
