import test from "ava";
import type { ApiClient, EndpointSlice, KubeObject, Service, WatchEvent } from "@kemu/api";
import { runCommand, testHost } from "../_testing.ts";
import { KubeProxy } from "./kube_proxy.ts";

/** An ApiClient that only watches: `emit` sends events to the watchers of a resource. */
function watchOnlyApi(): { api: ApiClient; emit: (resource: string, ev: WatchEvent) => void } {
  const watchers = new Map<string, Array<(ev: WatchEvent) => void>>();
  const unsupported = () => Promise.reject(new Error("not in this fake"));
  const api = {
    get: unsupported,
    list: unsupported,
    create: unsupported,
    update: unsupported,
    updateStatus: unsupported,
    patch: unsupported,
    delete: unsupported,
    watch: <T extends KubeObject>(resource: string, _ns: string, _o: unknown, onEvent: (ev: WatchEvent<T>) => void) => {
      const list = watchers.get(resource) ?? [];
      list.push(onEvent as (ev: WatchEvent) => void);
      watchers.set(resource, list);
      return () => {};
    },
  } as unknown as ApiClient;
  return { api, emit: (resource, ev) => watchers.get(resource)?.forEach((w) => w(ev)) };
}

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
