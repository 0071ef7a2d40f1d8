import test from "ava";
import type { ApiClient, EndpointSlice, Ingress, IngressClass, KubeObject, Service } from "@kemu/api";
import { fakeWatchApi, runCommand } from "../_testing.ts";
import { BufferOutput, EMPTY_INPUT } from "../process.ts";
import { recordedHost } from "./_net_fixture.ts";
import { buildRouting, endpointsOf, ingressErrorPage, routeRequest, servesIngress } from "./ingress_nginx.ts";

type Path = NonNullable<NonNullable<NonNullable<Ingress["spec"]>["rules"]>[number]["http"]>["paths"][number];

const path = (p: string, pathType: Path["pathType"], service: string): Path => ({ path: p, pathType, backend: { service: { name: service, port: { number: 80 } } } });

function ingress(name: string, spec: Ingress["spec"], created = "2026-01-01T00:00:00Z"): Ingress {
  return { apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: { namespace: "default", name, creationTimestamp: created }, spec: { ingressClassName: "nginx", ...spec } };
}

const ROUTING = buildRouting([
  ingress("main", {
    rules: [
      { host: "a.example.com", http: { paths: [path("/", "Prefix", "root"), path("/foo", "Prefix", "foo"), path("/foo/bar/", "Prefix", "foobar"), path("/foo", "Exact", "exact"), path("/img", "ImplementationSpecific", "img")] } },
      { host: "*.example.com", http: { paths: [path("/", "Prefix", "wild")] } },
      { http: { paths: [path("/any", "Prefix", "anyhost")] } },
    ],
  }),
  ingress("later", { rules: [{ host: "a.example.com", http: { paths: [path("/foo", "Prefix", "shadowed")] } }] }, "2026-01-01T00:01:00Z"),
]);

test("routing follows the Ingress spec: Exact before Prefix, longest prefix by path elements, wildcard one label deep, 404 otherwise", (t) => {
  const table: Array<[string, string, string]> = [
    ["a.example.com", "/foo", "exact"],
    ["a.example.com:30080", "/foo/", "foo"],
    ["A.Example.COM", "/foo/x?q=1", "foo"],
    ["a.example.com", "/foobar", "root"],
    ["a.example.com", "/foo/bar", "foobar"],
    ["a.example.com", "/foo/bar/baz", "foobar"],
    ["a.example.com", "/foo/barn", "foo"],
    ["a.example.com", "/imgs/1.png", "img"],
    ["a.example.com", "/", "root"],
    ["b.example.com", "/x", "wild"],
    ["c.b.example.com", "/x", "default"],
    ["example.com", "/any/thing", "anyhost"],
    ["example.com", "/anything", "default"],
    ["", "/", "default"],
  ];
  for (const [host, target, want] of table) {
    const u = routeRequest(ROUTING, host, target);
    t.is(u === "default" ? "default" : u.service, want, `${host}${target}`);
  }
});

test("a host's unmatched paths fall back to its Ingress's defaultBackend; the catch-all takes one from an Ingress without rules", (t) => {
  const r = buildRouting([
    ingress("a", { defaultBackend: { service: { name: "a-fallback", port: { number: 80 } } }, rules: [{ host: "a.example.com", http: { paths: [path("/x", "Exact", "x")] } }] }),
  ]);
  const name = (host: string, p: string) => {
    const u = routeRequest(r, host, p);
    return u === "default" ? "default" : u.service;
  };
  t.is(name("a.example.com", "/y"), "a-fallback");
  t.is(name("other.example.com", "/"), "default");
  const withCatchAll = buildRouting([ingress("all", { defaultBackend: { service: { name: "everything", port: { number: 80 } } } })]);
  t.is((routeRequest(withCatchAll, "other.example.com", "/") as { service: string }).service, "everything");
});

test("an Ingress is ours by its class's controller or by the old annotation", (t) => {
  const classes: IngressClass[] = [
    { apiVersion: "networking.k8s.io/v1", kind: "IngressClass", metadata: { name: "nginx" }, spec: { controller: "k8s.io/ingress-nginx" } },
    { apiVersion: "networking.k8s.io/v1", kind: "IngressClass", metadata: { name: "traefik" }, spec: { controller: "traefik.io/ingress-controller" } },
  ];
  const opts = { controllerClass: "k8s.io/ingress-nginx", ingressClass: "nginx" };
  t.true(servesIngress(ingress("a", {}), classes, opts));
  t.false(servesIngress({ ...ingress("b", {}), spec: { ingressClassName: "traefik" } }, classes, opts));
  t.false(servesIngress({ ...ingress("c", {}), spec: {} }, classes, opts));
  t.true(servesIngress({ ...ingress("d", {}), spec: {}, metadata: { name: "d", annotations: { "kubernetes.io/ingress.class": "nginx" } } }, classes, opts));
});

const SVC: Service = { apiVersion: "v1", kind: "Service", metadata: { namespace: "default", name: "web" }, spec: { clusterIP: "10.96.5.5", ports: [{ name: "http", port: 80, targetPort: 8080, protocol: "TCP" }] } };
const SLICE: EndpointSlice = {
  apiVersion: "discovery.k8s.io/v1",
  kind: "EndpointSlice",
  metadata: { namespace: "default", name: "web-x", labels: { "kubernetes.io/service-name": "web" } },
  addressType: "IPv4",
  endpoints: [
    { addresses: ["172.17.0.1"], conditions: { ready: true } },
    { addresses: ["10.244.9.9"], conditions: { ready: false } },
  ],
  ports: [{ name: "http", port: 8080, protocol: "TCP" }],
};

test("a Service port's endpoints are its ready pod addresses with the target port, by port number or name", (t) => {
  t.deepEqual(endpointsOf(SVC, [SLICE], 80), ["172.17.0.1:8080"]);
  t.deepEqual(endpointsOf(SVC, [SLICE], "http"), ["172.17.0.1:8080"]);
  t.deepEqual(endpointsOf(SVC, [SLICE], 81), []);
  t.deepEqual(endpointsOf(undefined, [SLICE], 80), []);
});

const staticApi = (objects: Record<string, KubeObject[]>): ApiClient => fakeWatchApi(objects).api;

test("the controller proxies a request to the Service's endpoint (pod IP and target port) and answers 404 for no rule", async (t) => {
  // The controller in namespace ktc (172.17.0.2); the backend, busybox httpd on :8080, is the host (172.17.0.1).
  const { host, ktc } = await recordedHost();
  host.fs.writeFile("/www/index.html", "hello from the backend\n");
  const classes: IngressClass[] = [{ apiVersion: "networking.k8s.io/v1", kind: "IngressClass", metadata: { name: "nginx" }, spec: { controller: "k8s.io/ingress-nginx" } }];
  host.provide("api", staticApi({ ingressclasses: classes, ingresses: [ingress("web", { rules: [{ host: "web.example.com", http: { paths: [path("/", "Prefix", "web")] } }] })], services: [SVC], endpointslices: [SLICE] }));
  const stop = new AbortController();
  const out = new BufferOutput();
  void host.spawn(["httpd", "-f", "-p", "8080", "-h", "/www"], { ...host.rootSpec({ stdout: out, stderr: out }), parentSignal: stop.signal });
  const log = new BufferOutput();
  void host.spawn(["/nginx-ingress-controller", "--ingress-class=nginx"], {
    ...host.rootSpec({ stdin: EMPTY_INPUT, stdout: log, stderr: log }),
    netns: ktc,
    commands: new Map([...host.commands, ["nginx-ingress-controller", (await import("./ingress_nginx.ts")).nginxIngressController]]),
    parentSignal: stop.signal,
  });
  const ok = await runCommand(host, ["curl", "-s", "-H", "Host: web.example.com", "http://172.17.0.2/"]);
  t.is(ok.stdout, "hello from the backend\n");
  const miss = await runCommand(host, ["curl", "-si", "-H", "Host: other.example.com", "http://172.17.0.2/"]);
  t.true(miss.stdout.startsWith("HTTP/1.1 404 Not Found\r\nDate: Thu, 01 Jan 2026 00:00:"), miss.stdout);
  t.true(miss.stdout.includes("\r\nContent-Type: text/html\r\nContent-Length: 146\r\nConnection: keep-alive\r\n\r\n"), miss.stdout);
  t.true(miss.stdout.endsWith(`\r\n\r\n${ingressErrorPage(404)}`));
  t.is(ingressErrorPage(404), "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n");
  t.regex(log.text, /^172\.17\.0\.1 - - \[01\/Jan\/2026:00:00:\d\d \+0000\] "GET \/ HTTP\/1\.1" 200 23 "-" "curl\/8\.5\.0" \d+ 0\.000 \[default-web-80\] \[\] 172\.17\.0\.1:8080 23 0\.000 200$/m);
  stop.abort();
});
