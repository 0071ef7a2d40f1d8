import test from "ava";
import type { EndpointSlice, Service } from "@kemu/api";
import { fakeWatchApi, runCommand, testHost } from "../_testing.ts";
import { KubeProxy } from "./kube_proxy.ts";

/** An ApiClient that only watches: `emit` sends events to the watchers of a resource. */
const watchOnlyApi = () => fakeWatchApi();

const SERVICE: Service = {
  apiVersion: "v1",
  kind: "Service",
  metadata: { namespace: "default", name: "nginx-server-service" },
  spec: { type: "NodePort", clusterIP: "10.101.78.74", selector: { app: "nginx" }, ports: [{ name: "http", port: 80, targetPort: 80, nodePort: 31234, protocol: "TCP" }] },
};

function sliceOf(ips: string[]): EndpointSlice {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { namespace: "default", name: "nginx-server-service-x1y2z", labels: { "kubernetes.io/service-name": "nginx-server-service" } },
    addressType: "IPv4",
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true }, nodeName: "node1" })),
    ports: [{ name: "http", port: 80, protocol: "TCP" }],
  };
}

test("kube-proxy syncs through iptables-restore: jump rules in kube-proxy's order, the seed's chains, stale SEPs removed", async (t) => {
  const host = testHost("node1");
  const { api, emit } = watchOnlyApi();
  const proxy = new KubeProxy(host, api, { nodeName: "node1" });
  proxy.start();
  emit("services", { type: "ADDED", object: SERVICE });
  emit("endpointslices", { type: "ADDED", object: sliceOf(["10.244.1.36", "10.244.1.35"]) });
  await host.advance(2000);
  t.is(proxy.lastError, undefined);
  const filter = (await runCommand(host, ["iptables-save", "-t", "filter"])).stdout;
  const jumps = filter.split("\n").filter((l) => /^-A (INPUT|FORWARD|OUTPUT) /.test(l));
  t.deepEqual(jumps, [
    '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
    '-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS',
    '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
    "-A INPUT -j KUBE-FIREWALL",
    '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
    '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
    '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
    '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
    '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    "-A OUTPUT -j KUBE-FIREWALL",
  ]);
  const nat = (await runCommand(host, ["sh", "-c", "iptables-save -t nat | grep KUBE-SVC-5MSM3UZHD6Y54CKX"])).stdout;
  t.is(
    nat,
    [
      ":KUBE-SVC-5MSM3UZHD6Y54CKX - [0:0]",
      "-A KUBE-EXT-5MSM3UZHD6Y54CKX -j KUBE-SVC-5MSM3UZHD6Y54CKX",
      '-A KUBE-SERVICES -d 10.101.78.74/32 -p tcp -m comment --comment "default/nginx-server-service:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-5MSM3UZHD6Y54CKX',
      '-A KUBE-SVC-5MSM3UZHD6Y54CKX ! -s 10.244.0.0/16 -d 10.101.78.74/32 -p tcp -m comment --comment "default/nginx-server-service:http cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ',
      // The seed's two KUBE-SEP chains (it shows PD2ODX… as "PD20DX…", and an older comment without " -> ip:port").
      '-A KUBE-SVC-5MSM3UZHD6Y54CKX -m comment --comment "default/nginx-server-service:http -> 10.244.1.35:80" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-E6XQDMRJWOVB7TWM',
      '-A KUBE-SVC-5MSM3UZHD6Y54CKX -m comment --comment "default/nginx-server-service:http -> 10.244.1.36:80" -j KUBE-SEP-PD2ODXQ6B5WEYRQL',
      "",
    ].join("\n"),
  );
  // Scale down: the second sync (after minSyncPeriod) drops the stale KUBE-SEP chain.
  emit("endpointslices", { type: "MODIFIED", object: sliceOf(["10.244.1.36"]) });
  await host.advance(2000);
  const after = (await runCommand(host, ["iptables-save", "-t", "nat"])).stdout;
  t.false(after.includes("KUBE-SEP-E6XQDMRJWOVB7TWM"));
  t.true(after.includes("-A KUBE-SVC-5MSM3UZHD6Y54CKX -m comment --comment \"default/nginx-server-service:http -> 10.244.1.36:80\" -j KUBE-SEP-PD2ODXQ6B5WEYRQL"));
  // The seed's KUBE-SEP rules, word for word.
  t.true(after.includes('-A KUBE-SEP-PD2ODXQ6B5WEYRQL -s 10.244.1.36/32 -m comment --comment "default/nginx-server-service:http" -j KUBE-MARK-MASQ\n'));
  t.true(after.includes('-A KUBE-SEP-PD2ODXQ6B5WEYRQL -p tcp -m comment --comment "default/nginx-server-service:http" -m tcp -j DNAT --to-destination 10.244.1.36:80\n'));
  // The jump rules are not duplicated by later syncs.
  t.is((await runCommand(host, ["sh", "-c", "iptables-save -t nat | grep -c 'kubernetes service portals'"])).stdout, "2\n");
  // Deleting the Service: the next sync leaves none of its chains or rules.
  emit("services", { type: "DELETED", object: SERVICE });
  emit("endpointslices", { type: "DELETED", object: sliceOf(["10.244.1.36"]) });
  await host.advance(2000);
  const gone = (await runCommand(host, ["iptables-save"])).stdout;
  t.false(/5MSM3UZHD6Y54CKX|KUBE-SEP-|nginx-server-service/.test(gone), gone);
  t.true(gone.includes("-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be the last rule in this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n"));
  proxy.stop();
});

test("ipvs mode: kube-ipvs0 holds the ClusterIP, a virtual server per port with the endpoints as real servers, the ipsets; scale-down and deletion leave nothing stale", async (t) => {
  const host = testHost("node1");
  const eth0 = host.kernel.createDummy(host.kernel.root, "eth0");
  host.kernel.root.addAddress(eth0, { addr: 0xc0a8000b, prefixLen: 24 });
  host.kernel.root.setUp(eth0, true);
  const { api, emit } = watchOnlyApi();
  const proxy = new KubeProxy(host, api, { nodeName: "node1", mode: "ipvs" });
  proxy.start();
  emit("services", { type: "ADDED", object: SERVICE });
  emit("endpointslices", { type: "ADDED", object: sliceOf(["10.244.1.36", "10.244.1.35"]) });
  await host.advance(2000);
  t.is(proxy.lastError, undefined);
  const sh = async (cmd: string) => (await runCommand(host, ["sh", "-c", cmd])).stdout;
  t.regex(await sh("ip addr show kube-ipvs0"), /kube-ipvs0: <BROADCAST,NOARP> mtu 1500 qdisc noop state DOWN[^]*inet 10\.101\.78\.74\/32 scope global kube-ipvs0/);
  t.is(
    await sh("ipvsadm -Ln"),
    [
      "IP Virtual Server version 1.2.1 (size=4096)",
      "Prot LocalAddress:Port Scheduler Flags",
      "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn",
      "TCP  10.101.78.74:80 rr",
      "  -> 10.244.1.35:80               Masq    1      0          0         ",
      "  -> 10.244.1.36:80               Masq    1      0          0         ",
      "TCP  192.168.0.11:31234 rr",
      "  -> 10.244.1.35:80               Masq    1      0          0         ",
      "  -> 10.244.1.36:80               Masq    1      0          0         ",
      "",
    ].join("\n"),
  );
  t.regex(await sh("ipset list KUBE-CLUSTER-IP"), /Members:\n10\.101\.78\.74,tcp:80\n/);
  t.regex(await sh("ipset list KUBE-NODE-PORT-TCP"), /Members:\n31234\n/);
  t.regex(await sh("ipset list KUBE-LOOP-BACK"), /10\.244\.1\.35,tcp:80,10\.244\.1\.35\n10\.244\.1\.36,tcp:80,10\.244\.1\.36\n/);
  const nat = await sh("iptables-save -t nat");
  t.true(nat.includes('-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\n'));
  t.true(nat.includes('-A KUBE-NODE-PORT -p tcp -m comment --comment "Kubernetes nodeport TCP port for masquerade purpose" -m set --match-set KUBE-NODE-PORT-TCP dst -j KUBE-MARK-MASQ\n'));
  t.false(nat.includes("KUBE-SVC-"), "no per-service chains in ipvs mode");
  // Scale down: the stale real server goes.
  emit("endpointslices", { type: "MODIFIED", object: sliceOf(["10.244.1.36"]) });
  await host.advance(2000);
  t.notRegex(await sh("ipvsadm -Ln"), /10\.244\.1\.35/);
  // Deleting the Service: no virtual server, address or set entry of it is left.
  emit("services", { type: "DELETED", object: SERVICE });
  emit("endpointslices", { type: "DELETED", object: sliceOf(["10.244.1.36"]) });
  await host.advance(2000);
  t.is(await sh("ipvsadm -Sn"), "");
  t.notRegex(await sh("ip addr show kube-ipvs0"), /inet /);
  t.notRegex(await sh("ipset list KUBE-CLUSTER-IP"), /10\.101\.78\.74/);
  proxy.stop();
});
