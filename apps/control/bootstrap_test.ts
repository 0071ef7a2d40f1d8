import test from "ava";
import type { EndpointSlice, Endpoints, Service } from "@kemu/api";
import { EventLoop, Rng } from "@kemu/kernel";
import { bootstrap } from "./bootstrap.ts";
import { ApiServer } from "./server.ts";

test("a fresh cluster has kubeadm's namespaces and the kubernetes service", (t) => {
  const s = new ApiServer(new EventLoop(), new Rng(1));
  bootstrap(s, { controlAddress: "192.168.56.2" });
  bootstrap(s, { controlAddress: "192.168.56.2" });
  t.deepEqual(
    s.direct.list("namespaces", "").items.map((n) => n.metadata.name),
    ["default", "kube-node-lease", "kube-public", "kube-system"],
  );
  const svc = s.direct.get<Service>({ resource: "services", namespace: "default", name: "kubernetes" });
  t.is(svc.spec.clusterIP, "10.96.0.1");
  t.deepEqual(svc.spec.ports, [{ name: "https", port: 443, protocol: "TCP", targetPort: 6443 }]);
  t.deepEqual(svc.metadata.labels, { component: "apiserver", provider: "kubernetes" });
  const ep = s.direct.get<Endpoints>({ resource: "endpoints", namespace: "default", name: "kubernetes" });
  t.deepEqual(ep.subsets, [{ addresses: [{ ip: "192.168.56.2" }], ports: [{ name: "https", port: 6443, protocol: "TCP" }] }]);
  const slice = s.direct.get<EndpointSlice>({ resource: "endpointslices", namespace: "default", name: "kubernetes" });
  t.deepEqual(slice.endpoints, [{ addresses: ["192.168.56.2"], conditions: { ready: true } }]);
});
