import test from "ava";
import type { EndpointSlice, Service } from "@kemu/api";
import { runCommand, testHost } from "../_testing.ts";
import { endpointChainName, portProtoHash, probability, proxyRules, serviceChainName } from "./kube_proxy_rules.ts";

test("chain names are kube-proxy's: sha256, standard base32, 16 characters (NETWORKING-FACTS §A.2)", (t) => {
  t.is(serviceChainName("default/kubernetes:https", "tcp"), "KUBE-SVC-NPX46M4PTMTKRN6Y");
  t.is(serviceChainName("kube-system/kube-dns:dns", "UDP"), "KUBE-SVC-TCOU7JCQXEZGVUNU");
  t.is(serviceChainName("kube-system/kube-dns:dns-tcp", "tcp"), "KUBE-SVC-ERIFXISQEP7F7OF4");
  t.is(serviceChainName("kube-system/kube-dns:metrics", "tcp"), "KUBE-SVC-JD5MR3NA4I4DYORP");
  t.is(serviceChainName("ns1/svc1:p80", "tcp"), "KUBE-SVC-XPGD46QRK7WJZT7O");
  t.is(endpointChainName("ns1/svc1:p80", "tcp", "10.180.0.1:80"), "KUBE-SEP-SXIVWICOYRO3J4NJ");
  t.is(endpointChainName("default/kubernetes:https", "tcp", "192.168.1.5:6443"), "KUBE-SEP-54IUPJM2TTG4TKF2");
  t.is(endpointChainName("kube-system/kube-dns:dns", "udp", "10.1.0.67:53"), "KUBE-SEP-O5LSP4IVD436RT3J");
  t.is(endpointChainName("kube-system/kube-dns:metrics", "tcp", "10.1.0.64:9153"), "KUBE-SEP-24CQDNH5YB2GOAMH");
  t.is(serviceChainName("default/registry", "tcp"), "KUBE-SVC-UHY5YTYXWYGJMWN5");
  t.is(endpointChainName("default/registry", "tcp", "10.42.0.10:5000"), "KUBE-SEP-47TYL3K3JWJ36POJ");
  t.is(serviceChainName("default/nginx:80-80", "tcp"), "KUBE-SVC-OVTWZ4GROBJZO4C5");
  t.is(portProtoHash("default/nginx-server-service:http", "tcp"), "5MSM3UZHD6Y54CKX");
  t.is(endpointChainName("default/nginx-server-service:http", "tcp", "10.244.1.2:80"), "KUBE-SEP-AWD3UEHXL47TRHSR");
});

test("probabilities are %0.10f of 1/n", (t) => {
  t.deepEqual([2, 3, 4, 5, 6, 7].map(probability), ["0.5000000000", "0.3333333333", "0.2500000000", "0.2000000000", "0.1666666667", "0.1428571429"]);
});

function svc(ns: string, name: string, clusterIP: string, ports: NonNullable<Service["spec"]["ports"]>, extra: Partial<Service["spec"]> = {}): Service {
  return { apiVersion: "v1", kind: "Service", metadata: { namespace: ns, name }, spec: { type: "ClusterIP", clusterIP, ports, selector: { app: name }, ...extra } };
}

function slice(ns: string, service: string, ips: Array<string | { ip: string; node?: string; ready?: boolean }>, ports: NonNullable<EndpointSlice["ports"]>): EndpointSlice {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { namespace: ns, name: `${service}-abcde`, labels: { "kubernetes.io/service-name": service } },
    addressType: "IPv4",
    endpoints: ips.map((e) => {
      const o = typeof e === "string" ? { ip: e } : e;
      return { addresses: [o.ip], conditions: { ready: o.ready ?? true }, ...(o.node ? { nodeName: o.node } : {}) };
    }),
    ports,
  };
}

/** Loads `restore` into a fresh host with iptables-restore --noflush and returns `iptables-save -t <table>` minus headers. */
async function loaded(restore: string, table: string): Promise<string[]> {
  const host = testHost();
  const r = await runCommand(host, ["iptables-restore", "--noflush", "--counters"], { stdin: restore });
  if (r.exit !== 0) throw new Error(r.stderr);
  const saved = await runCommand(host, ["iptables-save", "-t", table]);
  return saved.stdout.split("\n").filter((l) => l.startsWith("-A ") || l.startsWith(":"));
}

const KUBE_DNS = svc("kube-system", "kube-dns", "10.2.0.10", [{ name: "dns", port: 53, protocol: "UDP", targetPort: 53 }]);

test("two endpoints: the restore text kube-proxy writes, and the save form of NETWORKING-FACTS §A.6", async (t) => {
  const rules = proxyRules({
    services: [KUBE_DNS],
    endpointSlices: [slice("kube-system", "kube-dns", ["10.1.0.67", "10.1.0.64"], [{ name: "dns", port: 53, protocol: "UDP" }])],
    nodeName: "node1",
    clusterCIDR: "10.1.0.0/16",
  });
  const sep64 = endpointChainName("kube-system/kube-dns:dns", "udp", "10.1.0.64:53");
  t.is(sep64, "KUBE-SEP-TT4D5P4LY4YRBPNS");
  t.is(
    rules.restore,
    [
      "*filter",
      ":KUBE-SERVICES - [0:0]",
      ":KUBE-EXTERNAL-SERVICES - [0:0]",
      ":KUBE-FORWARD - [0:0]",
      ":KUBE-NODEPORTS - [0:0]",
      ":KUBE-PROXY-FIREWALL - [0:0]",
      ":KUBE-FIREWALL - [0:0]",
      '-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
      "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP",
      '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x004000/0x004000 -j ACCEPT',
      '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      "COMMIT",
      "*nat",
      ":KUBE-SERVICES - [0:0]",
      ":KUBE-NODEPORTS - [0:0]",
      ":KUBE-POSTROUTING - [0:0]",
      ":KUBE-MARK-MASQ - [0:0]",
      ":KUBE-SVC-TCOU7JCQXEZGVUNU - [0:0]",
      ":KUBE-SEP-TT4D5P4LY4YRBPNS - [0:0]",
      ":KUBE-SEP-O5LSP4IVD436RT3J - [0:0]",
      "-A KUBE-POSTROUTING -m mark ! --mark 0x004000/0x004000 -j RETURN",
      "-A KUBE-POSTROUTING -j MARK --xor-mark 0x004000",
      '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
      "-A KUBE-MARK-MASQ -j MARK --or-mark 0x004000",
      '-A KUBE-SERVICES -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp -p udp -d 10.2.0.10 --dport 53 -j KUBE-SVC-TCOU7JCQXEZGVUNU',
      '-A KUBE-SVC-TCOU7JCQXEZGVUNU -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp -p udp -d 10.2.0.10 --dport 53 ! -s 10.1.0.0/16 -j KUBE-MARK-MASQ',
      '-A KUBE-SVC-TCOU7JCQXEZGVUNU -m comment --comment "kube-system/kube-dns:dns -> 10.1.0.64:53" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-TT4D5P4LY4YRBPNS',
      '-A KUBE-SVC-TCOU7JCQXEZGVUNU -m comment --comment "kube-system/kube-dns:dns -> 10.1.0.67:53" -j KUBE-SEP-O5LSP4IVD436RT3J',
      "-A KUBE-SEP-TT4D5P4LY4YRBPNS -m comment --comment kube-system/kube-dns:dns -s 10.1.0.64 -j KUBE-MARK-MASQ",
      "-A KUBE-SEP-TT4D5P4LY4YRBPNS -m comment --comment kube-system/kube-dns:dns -m udp -p udp -j DNAT --to-destination 10.1.0.64:53",
      "-A KUBE-SEP-O5LSP4IVD436RT3J -m comment --comment kube-system/kube-dns:dns -s 10.1.0.67 -j KUBE-MARK-MASQ",
      "-A KUBE-SEP-O5LSP4IVD436RT3J -m comment --comment kube-system/kube-dns:dns -m udp -p udp -j DNAT --to-destination 10.1.0.67:53",
      '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
      "COMMIT",
      "",
    ].join("\n"),
  );
  const nat = await loaded(rules.restore, "nat");
  // The real excerpt's lines (iptables 1.4.21 save form; 1.8 prints these the same).
  for (const line of [
    '-A KUBE-SEP-O5LSP4IVD436RT3J -s 10.1.0.67/32 -m comment --comment "kube-system/kube-dns:dns" -j KUBE-MARK-MASQ',
    '-A KUBE-SEP-O5LSP4IVD436RT3J -p udp -m comment --comment "kube-system/kube-dns:dns" -m udp -j DNAT --to-destination 10.1.0.67:53',
    '-A KUBE-SERVICES -d 10.2.0.10/32 -p udp -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp --dport 53 -j KUBE-SVC-TCOU7JCQXEZGVUNU',
    '-A KUBE-SVC-TCOU7JCQXEZGVUNU ! -s 10.1.0.0/16 -d 10.2.0.10/32 -p udp -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp --dport 53 -j KUBE-MARK-MASQ',
    '-A KUBE-SVC-TCOU7JCQXEZGVUNU -m comment --comment "kube-system/kube-dns:dns -> 10.1.0.64:53" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-TT4D5P4LY4YRBPNS',
    '-A KUBE-SVC-TCOU7JCQXEZGVUNU -m comment --comment "kube-system/kube-dns:dns -> 10.1.0.67:53" -j KUBE-SEP-O5LSP4IVD436RT3J',
    "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000",
    "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
    "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0",
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
    '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
  ]) {
    t.true(nat.includes(line), line);
  }
  const filter = await loaded(rules.restore, "filter");
  t.true(filter.includes('-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT'));
  t.true(filter.includes('-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP'));
});

test("n endpoints: --probability 1/(n-i) on all but the last, shown by iptables-save with 11 decimals; sorted as strings", async (t) => {
  const ips = ["10.244.1.5", "10.244.1.100", "10.244.2.7", "10.244.1.64", "10.244.3.9"];
  const rules = proxyRules({
    services: [svc("default", "web", "10.96.50.1", [{ port: 80, targetPort: 8080 }])],
    endpointSlices: [slice("default", "web", ips, [{ port: 8080, protocol: "TCP" }])],
    nodeName: "node1",
    clusterCIDR: "10.244.0.0/16",
  });
  const nat = await loaded(rules.restore, "nat");
  const svcChain = serviceChainName("default/web", "tcp");
  const dispatch = nat.filter((l) => l.startsWith(`-A ${svcChain} -m comment`));
  t.deepEqual(
    dispatch.map((l) => [/-> (\S+)"/.exec(l)![1], /--probability (\S+)/.exec(l)?.[1]]),
    [
      ["10.244.1.100:8080", "0.20000000019"],
      ["10.244.1.5:8080", "0.25000000000"],
      ["10.244.1.64:8080", "0.33333333349"],
      ["10.244.2.7:8080", "0.50000000000"],
      ["10.244.3.9:8080", undefined],
    ],
  );
});

test("no endpoints: REJECT in filter KUBE-SERVICES and KUBE-EXTERNAL-SERVICES, nothing in nat (§A.6)", async (t) => {
  const rules = proxyRules({
    services: [KUBE_DNS, svc("jenkins", "jenkins", "10.2.44.1", [{ name: "http", port: 8080, nodePort: 32117 }], { type: "NodePort" })],
    endpointSlices: [],
    nodeName: "node1",
    clusterCIDR: "10.1.0.0/16",
  });
  const filter = await loaded(rules.restore, "filter");
  t.true(filter.includes('-A KUBE-SERVICES -d 10.2.0.10/32 -p udp -m comment --comment "kube-system/kube-dns:dns has no endpoints" -m udp --dport 53 -j REJECT --reject-with icmp-port-unreachable'));
  t.true(filter.includes('-A KUBE-EXTERNAL-SERVICES -p tcp -m comment --comment "jenkins/jenkins:http has no endpoints" -m addrtype --dst-type LOCAL -m tcp --dport 32117 -j REJECT --reject-with icmp-port-unreachable'));
  const nat = await loaded(rules.restore, "nat");
  t.false(nat.some((l) => /KUBE-(SVC|SEP|EXT)-/.test(l)));
});

test("NodePort: KUBE-NODEPORTS → KUBE-EXT (masquerade, then KUBE-SVC), as §A.6", async (t) => {
  const rules = proxyRules({
    services: [svc("jenkins", "jenkins", "10.2.44.1", [{ name: "http", port: 8080, nodePort: 32117 }], { type: "NodePort" })],
    endpointSlices: [slice("jenkins", "jenkins", ["10.1.0.80"], [{ name: "http", port: 8080, protocol: "TCP" }])],
    nodeName: "node1",
    clusterCIDR: "10.1.0.0/16",
  });
  const nat = await loaded(rules.restore, "nat");
  for (const line of [
    '-A KUBE-NODEPORTS -p tcp -m comment --comment "jenkins/jenkins:http" -m tcp --dport 32117 -j KUBE-EXT-KLKESZFIHQ5XX6FZ',
    '-A KUBE-EXT-KLKESZFIHQ5XX6FZ -m comment --comment "masquerade traffic for jenkins/jenkins:http external destinations" -j KUBE-MARK-MASQ',
    "-A KUBE-EXT-KLKESZFIHQ5XX6FZ -j KUBE-SVC-KLKESZFIHQ5XX6FZ",
    '-A KUBE-SVC-KLKESZFIHQ5XX6FZ -m comment --comment "jenkins/jenkins:http -> 10.1.0.80:8080" -j ' + endpointChainName("jenkins/jenkins:http", "tcp", "10.1.0.80:8080"),
  ]) {
    t.true(nat.includes(line), line);
  }
  t.true(nat.includes(":KUBE-EXT-KLKESZFIHQ5XX6FZ - [0:0]"));
});

test("ClientIP affinity: recent --rcheck per endpoint first, recent --set on the DNAT rule", async (t) => {
  const rules = proxyRules({
    services: [svc("ns1", "svc1", "172.30.0.41", [{ name: "p80", port: 80 }], { sessionAffinity: "ClientIP" })],
    endpointSlices: [slice("ns1", "svc1", ["10.180.0.1", "10.180.0.2"], [{ name: "p80", port: 80, protocol: "TCP" }])],
    nodeName: "node1",
    clusterCIDR: "10.0.0.0/8",
  });
  const sep = "KUBE-SEP-SXIVWICOYRO3J4NJ";
  t.true(rules.restore.includes(`-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -m recent --name ${sep} --rcheck --seconds 10800 --reap -j ${sep}\n`));
  t.true(rules.restore.includes(`-A ${sep} -m comment --comment ns1/svc1:p80 -m recent --name ${sep} --set -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80\n`));
  const nat = await loaded(rules.restore, "nat");
  t.true(nat.includes(`-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -m recent --rcheck --seconds 10800 --reap --name ${sep} --mask 255.255.255.255 --rsource -j ${sep}`));
  t.true(nat.includes(`-A ${sep} -p tcp -m comment --comment "ns1/svc1:p80" -m recent --set --name ${sep} --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.180.0.1:80`));
  t.true(nat.includes('-A KUBE-SVC-XPGD46QRK7WJZT7O ! -s 10.0.0.0/8 -d 172.30.0.41/32 -p tcp -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ'));
});

test("stale service chains are flushed and deleted; headless and ExternalName services get no rules", (t) => {
  const rules = proxyRules({
    services: [svc("default", "headless", "None", [{ port: 80 }]), svc("default", "ext", "", [{ port: 80 }], { type: "ExternalName", externalName: "example.com" })],
    endpointSlices: [slice("default", "headless", ["10.244.1.2"], [{ port: 80, protocol: "TCP" }])],
    nodeName: "node1",
    existingNatChains: ["KUBE-SERVICES", "KUBE-SVC-OLDOLDOLDOLDOLD1", "KUBE-SEP-OLDOLDOLDOLDOLD2", "DOCKER"],
  });
  t.true(rules.restore.includes(":KUBE-SEP-OLDOLDOLDOLDOLD2 - [0:0]\n:KUBE-SVC-OLDOLDOLDOLDOLD1 - [0:0]\n"));
  t.true(rules.restore.includes("-X KUBE-SEP-OLDOLDOLDOLDOLD2\n-X KUBE-SVC-OLDOLDOLDOLDOLD1\n"));
  t.false(rules.restore.includes("DOCKER"));
  t.false(/KUBE-SVC-(?!OLD)/.test(rules.restore));
});

test("externalTrafficPolicy Local: KUBE-SVL with local endpoints only, KUBE-EXT short-circuits pod and LOCAL traffic", (t) => {
  const rules = proxyRules({
    services: [svc("default", "web", "10.96.7.7", [{ port: 80, nodePort: 30080 }], { type: "NodePort", externalTrafficPolicy: "Local" })],
    endpointSlices: [slice("default", "web", [{ ip: "10.244.0.5", node: "node1" }, { ip: "10.244.1.5", node: "node2" }], [{ port: 80, protocol: "TCP" }])],
    nodeName: "node1",
    clusterCIDR: "10.244.0.0/16",
  });
  const h = portProtoHash("default/web", "tcp");
  t.true(rules.restore.includes(`-A KUBE-EXT-${h} -m comment --comment "pod traffic for default/web external destinations" -s 10.244.0.0/16 -j KUBE-SVC-${h}\n`));
  t.true(rules.restore.includes(`-A KUBE-EXT-${h} -j KUBE-SVL-${h}\n`));
  t.true(rules.restore.includes(`-A KUBE-SVL-${h} -m comment --comment "default/web -> 10.244.0.5:80" -j ${endpointChainName("default/web", "tcp", "10.244.0.5:80")}\n`));
});

test("large-cluster mode: over 1000 endpoints, the per-endpoint rules carry no comments", (t) => {
  const ips = Array.from({ length: 1001 }, (_, i) => `10.244.${(i + 1) >> 8}.${(i + 1) & 255}`);
  const rules = proxyRules({
    services: [svc("default", "big", "10.96.9.9", [{ port: 80 }])],
    endpointSlices: [slice("default", "big", ips, [{ port: 80, protocol: "TCP" }])],
    nodeName: "node1",
    clusterCIDR: "10.244.0.0/16",
  });
  const sep = endpointChainName("default/big", "tcp", "10.244.0.1:80");
  t.true(rules.restore.includes(`-A ${sep} -s 10.244.0.1 -j KUBE-MARK-MASQ\n`));
  t.true(rules.restore.includes(`-A ${sep} -m tcp -p tcp -j DNAT --to-destination 10.244.0.1:80\n`));
  t.true(rules.restore.includes('-A KUBE-SERVICES -m comment --comment "default/big cluster IP" -m tcp -p tcp -d 10.96.9.9 --dport 80 -j '));
  t.false(rules.restore.includes(" -> 10.244."));
});
