import test from "ava";
import type { EndpointSlice, Endpoints, KubeObject, Service } from "@kemu/api";
import { TestCluster } from "../_testing.ts";

function setup(): TestCluster {
  const c = new TestCluster();
  c.addNode("node1");
  c.addNode("node2");
  c.api.create("deployments", "default", {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web" },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: "web" } },
      template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image: "nginx", ports: [{ name: "http", containerPort: 8080 }] }] } },
    },
  });
  const svc: KubeObject = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "web", labels: { team: "a" } },
    spec: { selector: { app: "web" }, ports: [{ name: "web", port: 80, targetPort: "http" }] },
  };
  c.api.create("services", "default", svc);
  c.run(5_000);
  return c;
}

const ep = (c: TestCluster): Endpoints => c.api.get<Endpoints>({ resource: "endpoints", namespace: "default", name: "web" });
const slices = (c: TestCluster): EndpointSlice[] => c.api.list<EndpointSlice>("endpointslices", "default", { labelSelector: "kubernetes.io/service-name=web" }).items;

test("Endpoints list the ready pods with named target ports resolved", (t) => {
  const c = setup();
  const e = ep(c);
  t.is(e.subsets?.length, 1);
  const ss = e.subsets![0]!;
  t.deepEqual(ss.ports, [{ name: "web", port: 8080, protocol: "TCP" }]);
  t.deepEqual(ss.addresses?.map((a) => a.ip), ["10.244.0.2", "10.244.1.2"]);
  t.deepEqual(ss.addresses?.map((a) => [a.nodeName, a.targetRef?.kind]), [
    ["node1", "Pod"],
    ["node2", "Pod"],
  ]);
  t.is(ss.notReadyAddresses, undefined);
  t.is(e.metadata.labels?.["team"], "a");
});

test("EndpointSlices name the service and its manager, and carry readiness", (t) => {
  const c = setup();
  const s = slices(c);
  t.is(s.length, 1);
  t.regex(s[0]!.metadata.name ?? "", /^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  t.is(s[0]!.metadata.labels?.["endpointslice.kubernetes.io/managed-by"], "endpointslice-controller.k8s.io");
  t.is(s[0]!.metadata.ownerReferences?.[0]?.kind, "Service");
  t.is(s[0]!.addressType, "IPv4");
  t.deepEqual(s[0]!.ports, [{ name: "web", port: 8080, protocol: "TCP" }]);
  t.deepEqual(
    s[0]!.endpoints.map((x) => [x.addresses[0], x.conditions?.ready, x.nodeName]),
    [
      ["10.244.0.2", true, "node1"],
      ["10.244.1.2", true, "node2"],
    ],
  );
});

test("a pod that is not ready moves to notReadyAddresses, and back", (t) => {
  const c = setup();
  const name = ep(c).subsets![0]!.addresses![0]!.targetRef!.name;
  c.notReady.add(`default/${name}`);
  c.touch("default", name);
  c.run(100);
  t.deepEqual(ep(c).subsets![0]!.notReadyAddresses?.map((a) => a.targetRef?.name), [name]);
  t.is(ep(c).subsets![0]!.addresses?.length, 1);
  t.is(slices(c)[0]!.endpoints.find((x) => x.targetRef?.name === name)?.conditions?.ready, false);
  c.notReady.delete(`default/${name}`);
  c.touch("default", name);
  c.run(100);
  t.is(ep(c).subsets![0]!.addresses?.length, 2);
});

test("deleting the service removes its Endpoints and EndpointSlices", (t) => {
  const c = setup();
  c.api.delete({ resource: "services", namespace: "default", name: "web" });
  c.run(1_000);
  t.is(c.api.list("endpoints", "default", { fieldSelector: "metadata.name=web" }).items.length, 0);
  t.is(slices(c).length, 0);
});

test("a service without matching pods has empty Endpoints and a placeholder slice", (t) => {
  const c = setup();
  c.api.create("services", "default", { apiVersion: "v1", kind: "Service", metadata: { name: "none" }, spec: { selector: { app: "none" }, ports: [{ port: 80 }] } } as Service);
  c.run(100);
  const e = c.api.get<Endpoints>({ resource: "endpoints", namespace: "default", name: "none" });
  t.is(e.subsets, undefined);
  const s = c.api.list<EndpointSlice>("endpointslices", "default", { labelSelector: "kubernetes.io/service-name=none" }).items;
  t.is(s.length, 1);
  t.deepEqual(s[0]!.endpoints, []);
});

test("the kubernetes service keeps the Endpoints bootstrap gave it", (t) => {
  const c = setup();
  const e = c.api.get<Endpoints>({ resource: "endpoints", namespace: "default", name: "kubernetes" });
  t.deepEqual(e.subsets, [{ addresses: [{ ip: "192.168.56.10" }], ports: [{ name: "https", port: 6443, protocol: "TCP" }] }]);
});
