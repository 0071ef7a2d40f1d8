import test from "ava";
import type { ApiClient, EndpointSlice, KubeObject, Service } from "@kemu/api";
import { DNS_TYPE_A, DNS_TYPE_AAAA, DNS_TYPE_PTR, DNS_TYPE_SRV, DNS_TYPE_TXT, formatIpv4Addr, parseIpv4Addr } from "@kemu/wire";
import { fakeWatchApi, runCommand } from "../_testing.ts";
import type { Host } from "../host.ts";
import { BufferOutput, EMPTY_INPUT } from "../process.ts";
import { Vfs } from "../vfs.ts";
import { recordedHost } from "./_net_fixture.ts";
import { DEFAULT_COREFILE, type DnsClusterState, kubernetesAnswer, parseCorefile } from "./coredns.ts";
import { parseResolvConf, searchCandidates } from "./dns.ts";

/** An ApiClient whose watches replay `objects` of the resource as ADDED events. */
const staticApi = (objects: Record<string, KubeObject[]>): ApiClient => fakeWatchApi(objects).api;

function service(ns: string, name: string, clusterIP: string, ports: NonNullable<Service["spec"]["ports"]>): Service {
  return { apiVersion: "v1", kind: "Service", metadata: { namespace: ns, name }, spec: { clusterIP, ports, selector: { app: name } } };
}

function slice(ns: string, svc: string, eps: Array<{ ip: string; hostname?: string; ready?: boolean }>, ports: NonNullable<EndpointSlice["ports"]>): EndpointSlice {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { namespace: ns, name: `${svc}-x`, labels: { "kubernetes.io/service-name": svc } },
    addressType: "IPv4",
    endpoints: eps.map((e) => ({ addresses: [e.ip], conditions: { ready: e.ready ?? true }, ...(e.hostname ? { hostname: e.hostname } : {}) })),
    ports,
  };
}

const NGINX = service("default", "nginx-server-service", "10.96.123.45", [{ name: "http", port: 80, protocol: "TCP" }]);
const HEADLESS = service("default", "web", "None", [{ name: "http", port: 80, protocol: "TCP" }]);
const HEADLESS_EPS = slice("default", "web", [{ ip: "10.244.1.7", hostname: "web-0" }, { ip: "10.244.2.9" }, { ip: "10.244.2.10", ready: false }], [{ name: "http", port: 8080, protocol: "TCP" }]);

const STATE: DnsClusterState = { services: [NGINX, HEADLESS], endpointSlices: [HEADLESS_EPS], serial: 1767225600 };
const CFG = parseCorefile(DEFAULT_COREFILE);

test("the kubeadm Corefile: cluster.local and the reverse zones, pods insecure, ttl 30, forward", (t) => {
  t.deepEqual(CFG, { domain: "cluster.local", zones: ["cluster.local", "in-addr.arpa", "ip6.arpa"], pods: "insecure", ttl: 30, forward: true, port: 53 });
});

test("kubernetes plugin records: service A, headless A per ready endpoint, endpoint names, SRV, PTR, pod A, TXT, NXDOMAIN", (t) => {
  const a = (name: string, type = DNS_TYPE_A) => {
    const r = kubernetesAnswer(CFG, STATE, name, type);
    if (r === "fallthrough") return "fallthrough";
    return { rcode: r.rcode, answers: r.answers.map((x) => (x.data.kind === "a" ? `${x.name} ${x.ttl} A ${formatIpv4Addr(x.data.address)}` : `${x.name} ${x.ttl} ${JSON.stringify(x.data)}`)) };
  };
  t.deepEqual(a("nginx-server-service.default.svc.cluster.local"), { rcode: 0, answers: ["nginx-server-service.default.svc.cluster.local 30 A 10.96.123.45"] });
  t.deepEqual(a("web.default.svc.cluster.local."), { rcode: 0, answers: ["web.default.svc.cluster.local 30 A 10.244.1.7", "web.default.svc.cluster.local 30 A 10.244.2.9"] });
  t.deepEqual(a("web-0.web.default.svc.cluster.local"), { rcode: 0, answers: ["web-0.web.default.svc.cluster.local 30 A 10.244.1.7"] });
  t.deepEqual(a("10-244-2-9.web.default.svc.cluster.local"), { rcode: 0, answers: ["10-244-2-9.web.default.svc.cluster.local 30 A 10.244.2.9"] });
  t.deepEqual(a("_http._tcp.nginx-server-service.default.svc.cluster.local", DNS_TYPE_SRV), {
    rcode: 0,
    answers: ['_http._tcp.nginx-server-service.default.svc.cluster.local 30 {"kind":"srv","priority":0,"weight":100,"port":80,"target":"nginx-server-service.default.svc.cluster.local"}'],
  });
  t.is((a("_http._tcp.web.default.svc.cluster.local", DNS_TYPE_SRV) as { answers: string[] }).answers.length, 2);
  t.deepEqual(a("45.123.96.10.in-addr.arpa", DNS_TYPE_PTR), { rcode: 0, answers: ['45.123.96.10.in-addr.arpa 30 {"kind":"ptr","target":"nginx-server-service.default.svc.cluster.local"}'] });
  t.deepEqual(a("10-244-1-7.default.pod.cluster.local"), { rcode: 0, answers: ["10-244-1-7.default.pod.cluster.local 30 A 10.244.1.7"] });
  t.deepEqual(a("dns-version.cluster.local", DNS_TYPE_TXT), { rcode: 0, answers: ['dns-version.cluster.local 30 {"kind":"txt","texts":["1.0.1"]}'] });
  t.deepEqual(a("nginx-server-service.default.svc.cluster.local", DNS_TYPE_AAAA), { rcode: 0, answers: [] });
  t.deepEqual(a("x.default.svc.cluster.local"), { rcode: 3, answers: [] });
  t.deepEqual(a("nginx-server-service.default.default.svc.cluster.local"), { rcode: 3, answers: [] });
  t.is(a("example.com"), "fallthrough");
  t.is(a("1.0.0.10.in-addr.arpa", DNS_TYPE_PTR), "fallthrough");
});

test("resolv.conf search list and ndots as glibc applies them", (t) => {
  const conf = parseResolvConf("search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n");
  t.deepEqual(conf, { nameservers: ["10.96.0.10"], search: ["default.svc.cluster.local", "svc.cluster.local", "cluster.local"], ndots: 5, timeout: 5, attempts: 2 });
  t.deepEqual(searchCandidates("nginx-server-service.default", conf), [
    "nginx-server-service.default.default.svc.cluster.local",
    "nginx-server-service.default.svc.cluster.local",
    "nginx-server-service.default.cluster.local",
    "nginx-server-service.default",
  ]);
  t.deepEqual(searchCandidates("a.b.c.d.e.f", conf)[0], "a.b.c.d.e.f");
  t.deepEqual(searchCandidates("example.com.", conf), ["example.com"]);
});

const POD_RESOLV = "search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 172.17.0.1\noptions ndots:5\n";

/** CoreDNS in the host's namespace (172.17.0.1), a client namespace ktc (172.17.0.2) with a pod's resolv.conf. */
async function dnsSetup(objects: Record<string, KubeObject[]>): Promise<{ host: Host; client: Vfs; stop: () => void }> {
  const { host } = await recordedHost();
  host.provide("api", staticApi(objects));
  const controller = new AbortController();
  const out = new BufferOutput();
  void host.spawn(["coredns", "-conf", "/etc/coredns/Corefile"], {
    ...host.rootSpec({ stdin: EMPTY_INPUT, stdout: out, stderr: out }),
    commands: new Map([...host.commands, ["coredns", (await import("./coredns.ts")).coredns]]),
    parentSignal: controller.signal,
  });
  const client = new Vfs();
  client.writeFile("/etc/resolv.conf", POD_RESOLV);
  client.writeFile("/etc/hosts", "127.0.0.1\tlocalhost\n");
  return { host, client, stop: () => controller.abort() };
}

test("nslookup through CoreDNS: busybox 1.36's output, NXDOMAIN under each search domain", async (t) => {
  const { host, client, stop } = await dnsSetup({ services: [NGINX], endpointslices: [] });
  const ktc = host.namedNetns.get("ktc")!;
  const r = await runCommand(host, ["nslookup", "nginx-server-service.default.svc.cluster.local"], { busybox: true, spec: { netns: ktc, fs: client } });
  t.is(r.stdout, "Server:\t\t172.17.0.1\nAddress:\t172.17.0.1:53\n\nName:\tnginx-server-service.default.svc.cluster.local\nAddress: 10.96.123.45\n\n\n");
  t.is(r.exit, 0);
  const nx = await runCommand(host, ["nslookup", "x"], { busybox: true, spec: { netns: ktc, fs: client } });
  t.is(
    nx.stdout,
    [
      "Server:\t\t172.17.0.1",
      "Address:\t172.17.0.1:53",
      "",
      "** server can't find x.default.svc.cluster.local: NXDOMAIN",
      "",
      "** server can't find x.svc.cluster.local: NXDOMAIN",
      "",
      "** server can't find x.cluster.local: NXDOMAIN",
      "",
      "** server can't find x.default.svc.cluster.local: NXDOMAIN",
      "",
      "** server can't find x.svc.cluster.local: NXDOMAIN",
      "",
      "** server can't find x.cluster.local: NXDOMAIN",
      "",
      "",
    ].join("\n"),
  );
  const ptr = await runCommand(host, ["nslookup", "10.96.123.45", "172.17.0.1"], { busybox: true, spec: { netns: ktc, fs: client } });
  t.true(ptr.stdout.includes("45.123.96.10.in-addr.arpa\tname = nginx-server-service.default.svc.cluster.local\n"), ptr.stdout);
  stop();
});

test("wget resolves a service name through the search list and the stub resolver, then fetches from its ClusterIP", async (t) => {
  // The Service's ClusterIP is the host's own address, where busybox httpd serves.
  const svc = service("default", "nginx-server-service", "172.17.0.1", [{ name: "http", port: 80, protocol: "TCP" }]);
  const { host, client, stop } = await dnsSetup({ services: [svc], endpointslices: [] });
  host.fs.writeFile("/www/index.html", "hello from the service\n");
  const httpd = new AbortController();
  const out = new BufferOutput();
  void host.spawn(["httpd", "-f", "-p", "80", "-h", "/www"], { ...host.rootSpec({ stdout: out, stderr: out }), parentSignal: httpd.signal });
  const ktc = host.namedNetns.get("ktc")!;
  const r = await runCommand(host, ["wget", "-q", "-O", "-", "nginx-server-service.default"], { busybox: true, spec: { netns: ktc, fs: client } });
  t.is(r.stderr, "");
  t.is(r.stdout, "hello from the service\n");
  const bad = await runCommand(host, ["wget", "-q", "-O", "-", "nosuch.default"], { busybox: true, spec: { netns: ktc, fs: client } });
  t.is(bad.exit, 1);
  t.is(bad.stderr, "wget: bad address 'nosuch.default'\n");
  httpd.abort();
  stop();
});

test("CoreDNS answers over TCP too: length-prefixed messages, as for the kube-dns dns-tcp port", async (t) => {
  const { host, stop } = await dnsSetup({ services: [NGINX], endpointslices: [] });
  const ktc = host.namedNetns.get("ktc")!;
  const { TcpConnection } = await import("@kemu/kernel");
  const { buildDns, parseDns } = await import("@kemu/wire");
  const { dnsQuery } = await import("./dns.ts");
  const work = (async () => {
    const conn = await TcpConnection.connect(ktc, parseIpv4Addr("172.17.0.1")!, 53);
    const q = buildDns(dnsQuery(0x1234, "nginx-server-service.default.svc.cluster.local", DNS_TYPE_A));
    await conn.write(Uint8Array.from([q.length >> 8, q.length & 255, ...q]));
    let buf: number[] = [];
    while (buf.length < 2 || buf.length < 2 + ((buf[0]! << 8) | buf[1]!)) {
      const chunk = await conn.read();
      if (chunk === undefined) break;
      buf = [...buf, ...chunk];
    }
    conn.close();
    return parseDns(Uint8Array.from(buf.slice(2)));
  })();
  const reply = await host.runToCompletion(work);
  t.is(reply.id, 0x1234);
  t.true(reply.aa);
  t.deepEqual(reply.answers.map((r) => (r.data.kind === "a" ? formatIpv4Addr(r.data.address) : "")), ["10.96.123.45"]);
  stop();
});
