import test from "ava";
import { ApiError, type KubeObject, type Service } from "@kemu/api";
import { EventLoop, Rng } from "@kemu/kernel";
import { ClusterIpAllocator, NodePortAllocator, ipToNumber, parseCidr } from "./allocator.ts";
import { bootstrap } from "./bootstrap.ts";
import { ApiServer } from "./server.ts";

function server(): ApiServer {
  const s = new ApiServer(new EventLoop(), new Rng(3));
  bootstrap(s, { controlAddress: "192.168.56.10" });
  return s;
}

function svc(name: string, spec: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: "v1", kind: "Service", metadata: { name }, spec: { selector: { app: name }, ports: [{ port: 80 }], ...spec } };
}

function fails(f: () => unknown): ApiError {
  try {
    f();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error("no error");
}

test("ClusterIPs come at random from 10.96.0.0/12, above the band kept for requested addresses", (t) => {
  const s = server();
  const seen = new Set<string>();
  for (let i = 0; i < 20; i++) {
    const v = s.direct.create<Service>("services", "default", svc(`s${i}`));
    const ip = v.spec.clusterIP!;
    t.deepEqual(v.spec.clusterIPs, [ip]);
    const n = ipToNumber(ip);
    t.true(n > ipToNumber("10.96.1.0") && n < ipToNumber("10.111.255.255"), ip);
    seen.add(ip);
  }
  t.is(seen.size, 20);
  t.is(s.direct.get<Service>({ resource: "services", namespace: "default", name: "kubernetes" }).spec.clusterIP, "10.96.0.1");
});

test("a requested ClusterIP is honoured once; others are refused in the API server's words", (t) => {
  const s = server();
  t.is(s.direct.create<Service>("services", "kube-system", svc("kube-dns", { clusterIP: "10.96.0.10" })).spec.clusterIP, "10.96.0.10");
  let e = fails(() => s.direct.create("services", "default", svc("again", { clusterIP: "10.96.0.10" })));
  t.is(e.code, 422);
  t.is(e.message, 'Service "again" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.10"}: failed to allocate IP 10.96.0.10: provided IP is already allocated');
  e = fails(() => s.direct.create("services", "default", svc("far", { clusterIP: "10.0.0.10" })));
  t.is(e.message, 'Service "far" is invalid: spec.clusterIPs: Invalid value: []string{"10.0.0.10"}: failed to allocate IP 10.0.0.10: the provided IP (10.0.0.10) is not in the valid range. The range of valid IPs is 10.96.0.0/12');
  e = fails(() => s.direct.create("services", "default", svc("bad", { clusterIP: "10.96.0.300" })));
  t.is(e.message, 'Service "bad" is invalid: spec.clusterIPs[0]: Invalid value: "10.96.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)');
  e = fails(() => s.direct.create("services", "default", svc("kubernetes2", { clusterIP: "10.96.0.1" })));
  t.regex(e.message, /provided IP is already allocated$/);
  // Deleting a service frees its address.
  s.direct.delete({ resource: "services", namespace: "kube-system", name: "kube-dns" });
  t.is(s.direct.create<Service>("services", "default", svc("again", { clusterIP: "10.96.0.10" })).spec.clusterIP, "10.96.0.10");
});

test("headless services have clusterIP None", (t) => {
  const s = server();
  const v = s.direct.create<Service>("services", "default", svc("h", { clusterIP: "None" }));
  t.is(v.spec.clusterIP, "None");
  t.deepEqual(v.spec.clusterIPs, ["None"]);
  const e = fails(() => s.direct.create("services", "default", svc("hn", { clusterIP: "None", type: "NodePort" })));
  t.is(e.message, `Service "hn" is invalid: spec.clusterIPs[0]: Invalid value: "None": may not be set to 'None' for NodePort services`);
});

test("NodePorts: random in 30000-32767 without duplicates, requested ones honoured or refused", (t) => {
  const s = server();
  const ports = new Set<number>();
  for (let i = 0; i < 30; i++) {
    const v = s.direct.create<Service>("services", "default", svc(`n${i}`, { type: "NodePort" }));
    const np = v.spec.ports![0]!.nodePort!;
    t.true(np >= 30000 && np <= 32767);
    ports.add(np);
  }
  t.is(ports.size, 30);
  t.is(s.direct.create<Service>("services", "default", svc("fixed", { type: "NodePort", ports: [{ port: 80, nodePort: 30080 }] })).spec.ports![0]!.nodePort, 30080);
  let e = fails(() => s.direct.create("services", "default", svc("dup", { type: "NodePort", ports: [{ port: 80, nodePort: 30080 }] })));
  t.is(e.message, 'Service "dup" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated');
  e = fails(() => s.direct.create("services", "default", svc("low", { type: "NodePort", ports: [{ port: 80, nodePort: 80 }] })));
  t.is(e.message, 'Service "low" is invalid: spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767');
  e = fails(() => s.direct.create("services", "default", svc("cip", { ports: [{ port: 80, nodePort: 30090 }] })));
  t.is(e.message, "Service \"cip\" is invalid: spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'");
});

test("service defaults and port validation", (t) => {
  const s = server();
  const v = s.direct.create<Service>("services", "default", svc("d", { ports: [{ port: 8080 }] }));
  t.like(v.spec, { type: "ClusterIP", sessionAffinity: "None", internalTrafficPolicy: "Cluster", ipFamilyPolicy: "SingleStack", ipFamilies: ["IPv4"] });
  t.deepEqual(v.spec.ports, [{ port: 8080, protocol: "TCP", targetPort: 8080 }]);
  t.deepEqual(v.status, { loadBalancer: {} });
  let e = fails(() => s.direct.create("services", "default", svc("p", { ports: [{ port: 0 }] })));
  // targetPort defaults to port, so both are wrong.
  t.is(e.message, 'Service "p" is invalid: [spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive, spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive]');
  e = fails(() => s.direct.create("services", "default", svc("p", { ports: [{ port: 80, targetPort: "http_port" }] })));
  t.is(e.message, 'Service "p" is invalid: spec.ports[0].targetPort: Invalid value: "http_port": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  e = fails(() => s.direct.create("services", "default", svc("p", { ports: [{ port: 80 }, { port: 81 }] })));
  t.is(e.message, 'Service "p" is invalid: [spec.ports[0].name: Required value, spec.ports[1].name: Required value]');
  e = fails(() => s.direct.create("services", "default", svc("Web")));
  t.is(
    e.message,
    `Service "Web" is invalid: metadata.name: Invalid value: "Web": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
  );
  e = fails(() => s.direct.create("services", "default", svc("p", { ports: [] })));
  t.is(e.message, 'Service "p" is invalid: spec.ports: Required value');
});

test("an update keeps the allocated ClusterIP and NodePorts when they are left out", (t) => {
  const s = server();
  const v = s.direct.create<Service>("services", "default", svc("u", { type: "NodePort" }));
  const u = s.direct.update<Service>("services", "default", { ...svc("u", { type: "NodePort", ports: [{ port: 80 }] }), metadata: { name: "u" } });
  t.is(u.spec.clusterIP, v.spec.clusterIP);
  t.is(u.spec.ports![0]!.nodePort, v.spec.ports![0]!.nodePort);
  const e = fails(() => s.direct.update("services", "default", { ...svc("u", { type: "NodePort", clusterIP: "10.96.9.9" }), metadata: { name: "u" } }));
  t.is(e.message, 'Service "u" is invalid: spec.clusterIPs[0]: Invalid value: "10.96.9.9": may not change once set');
});

test("allocators by themselves", (t) => {
  const rng = new Rng(1);
  const a = new ClusterIpAllocator("10.0.0.0/29", rng);
  t.deepEqual(parseCidr("10.0.0.5/29"), { base: ipToNumber("10.0.0.0"), prefix: 29, size: 8, text: "10.0.0.0/29" });
  const got = new Set<string>();
  for (let i = 0; i < 6; i++) got.add(a.allocateNext()!);
  t.deepEqual([...got].sort(), ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"]);
  t.is(a.allocateNext(), undefined);
  t.is(a.allocate("10.0.0.7"), "out-of-range");
  a.release("10.0.0.3");
  t.is(a.allocate("10.0.0.3"), "ok");
  const p = new NodePortAllocator([30000, 30001], rng);
  t.is(p.allocate(30001), "ok");
  t.is(p.allocateNext(), 30000);
  t.is(p.allocateNext(), undefined);
});
