import test from "ava";
import type { EndpointSlice, Service } from "@kemu/api";
import { UdpSocket } from "@kemu/kernel";
import { parseIpv4Addr } from "@kemu/wire";
import { runCommand, testHost } from "../_testing.ts";
import type { Host } from "../host.ts";
import type { Command } from "../process.ts";
import { proxyRules } from "./kube_proxy_rules.ts";

const ENDPOINTS = ["10.244.0.2", "10.244.0.3", "10.244.0.4"];

/** A host with kube-proxy's rules for a 3-endpoint UDP service at 10.96.50.1:80, reached from the host itself. */
async function proxiedHost(affinity: boolean): Promise<Host> {
  const host = testHost("node1", 7);
  for (const line of [
    "ip link add cni0 type bridge",
    "ip addr add 10.244.0.1/24 dev cni0",
    "ip link set cni0 up",
    "ip route add 10.96.0.0/12 dev cni0",
  ]) {
    const r = await runCommand(host, line.split(" "));
    if (r.exit !== 0) throw new Error(`${line}: ${r.stderr}`);
  }
  const svc: Service = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { namespace: "default", name: "echo" },
    spec: { clusterIP: "10.96.50.1", ports: [{ name: "u", port: 80, protocol: "UDP" }], selector: { app: "echo" }, ...(affinity ? { sessionAffinity: "ClientIP" as const } : {}) },
  };
  const slice: EndpointSlice = {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { namespace: "default", name: "echo-abc12", labels: { "kubernetes.io/service-name": "echo" } },
    addressType: "IPv4",
    endpoints: ENDPOINTS.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
    ports: [{ name: "u", port: 8080, protocol: "UDP" }],
  };
  const { restore } = proxyRules({ services: [svc], endpointSlices: [slice], nodeName: "node1", clusterCIDR: "10.244.0.0/16" });
  const r = await runCommand(host, ["iptables-restore", "--noflush"], { stdin: restore });
  if (r.exit !== 0) throw new Error(r.stderr);
  await runCommand(host, ["iptables", "-t", "nat", "-I", "OUTPUT", "-m", "comment", "--comment", "kubernetes service portals", "-j", "KUBE-SERVICES"]);
  return host;
}

/** Opens `n` new UDP flows (a new socket, so a new source port, each) to the ClusterIP; counts where conntrack says each was DNATed. */
async function spread(host: Host, n: number): Promise<Map<string, number>> {
  const flows: Command = async (ctx) => {
    const dst = parseIpv4Addr("10.96.50.1")!;
    for (let i = 0; i < n; i++) {
      const s = new UdpSocket(ctx.netns);
      s.sendTo(dst, 80, new TextEncoder().encode(`flow ${i}\n`));
      s.close();
    }
    return 0;
  };
  host.commands.set("flows", flows);
  await runCommand(host, ["flows"]);
  const listed = await runCommand(host, ["conntrack", "-L", "-p", "udp"]);
  const counts = new Map<string, number>();
  for (const line of listed.stdout.split("\n")) {
    const m = /dst=10\.96\.50\.1 .*? src=(\S+) /.exec(line);
    if (m) counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + 1);
  }
  return counts;
}

test("600 new flows to a 3-endpoint Service split by the statistic match within chi-square bounds", async (t) => {
  const host = await proxiedHost(false);
  const counts = await spread(host, 600);
  t.deepEqual([...counts.keys()].sort(), ENDPOINTS);
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  t.is(total, 600);
  const chi2 = [...counts.values()].reduce((a, o) => a + (o - 200) ** 2 / 200, 0);
  // df = 2: P(chi2 > 13.82) = 0.001.
  t.true(chi2 < 13.82, `chi-square ${chi2.toFixed(2)} for ${JSON.stringify([...counts])}`);
});

test("with sessionAffinity ClientIP every flow from one client goes to one endpoint", async (t) => {
  const host = await proxiedHost(true);
  const counts = await spread(host, 60);
  t.is(counts.size, 1);
  t.is([...counts.values()][0], 60);
});
