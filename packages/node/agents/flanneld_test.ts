import test from "ava";
import type { ApiClient, KubeObject, Node, WatchEvent } from "@kemu/api";
import { parseCidr } from "@kemu/wire";
import type { Host } from "../host.ts";
import { runCommand, testHost } from "../_testing.ts";
import { type FlannelBackend, Flanneld } from "./flanneld.ts";

/** An ApiClient that watches and records merge patches. */
function fakeApi(): { api: ApiClient; emit: (ev: WatchEvent) => void; patches: unknown[] } {
  const watchers: Array<(ev: WatchEvent) => void> = [];
  const patches: unknown[] = [];
  const unsupported = () => Promise.reject(new Error("not in this fake"));
  const api = {
    get: unsupported,
    list: unsupported,
    create: unsupported,
    update: unsupported,
    updateStatus: unsupported,
    patch: (_ref: unknown, _type: string, patch: unknown) => {
      patches.push(patch);
      return Promise.resolve({});
    },
    delete: unsupported,
    watch: <T extends KubeObject>(_r: string, _ns: string, _o: unknown, onEvent: (ev: WatchEvent<T>) => void) => {
      watchers.push(onEvent as (ev: WatchEvent) => void);
      return () => {};
    },
  } as unknown as ApiClient;
  return { api, emit: (ev) => watchers.forEach((w) => w(ev)), patches };
}

function node(name: string, podCIDR: string, annotations: Record<string, string> = {}): Node {
  return { apiVersion: "v1", kind: "Node", metadata: { name, annotations }, spec: { podCIDR } };
}

function remote(name: string, podCIDR: string, ip: string, backend: FlannelBackend, mac = "aa:bb:cc:dd:ee:02"): Node {
  return node(name, podCIDR, {
    "flannel.alpha.coreos.com/backend-type": backend,
    "flannel.alpha.coreos.com/backend-data": backend === "vxlan" ? `{"VNI":1,"VtepMAC":"${mac}"}` : "null",
    "flannel.alpha.coreos.com/kube-subnet-manager": "true",
    "flannel.alpha.coreos.com/public-ip": ip,
  });
}

/** node1 with eth0 192.168.0.11/24 and flanneld on `backend`. */
function setup(backend: FlannelBackend): { host: Host; flanneld: Flanneld; emit: (ev: WatchEvent) => void; patches: unknown[] } {
  const host = testHost("node1");
  const root = host.kernel.root;
  const eth0 = host.kernel.createEther(root, "eth0", 0x525400000001);
  eth0.wire = () => {};
  const c = parseCidr("192.168.0.11/24")!;
  root.addAddress(eth0, { addr: c.addr, prefixLen: c.len });
  root.setUp(eth0, true);
  const { api, emit, patches } = fakeApi();
  const flanneld = new Flanneld(host, api, { nodeName: "node1", nodeIP: "192.168.0.11", backend });
  flanneld.start();
  emit({ type: "ADDED", object: node("node1", "10.244.0.0/24") });
  return { host, flanneld, emit, patches };
}

const sh = async (host: Host, cmd: string) => (await runCommand(host, ["sh", "-c", cmd])).stdout;

test("vxlan: subnet.env's four lines, the CNI conflist, flannel.1 and the node's annotations", async (t) => {
  const { host, patches } = setup("vxlan");
  t.is(host.fs.readFile("/run/flannel/subnet.env"), "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.0.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n");
  t.regex(host.fs.readFile("/etc/cni/net.d/10-flannel.conflist"), /"type": "flannel"/);
  const dev = host.kernel.root.deviceByName("flannel.1")!;
  t.is(dev.kind, "vxlan");
  t.is(dev.mtu, 1450);
  t.regex(await sh(host, "ip -4 addr show flannel.1"), /inet 10\.244\.0\.0\/32 scope global flannel\.1/);
  const ann = (patches[0] as { metadata: { annotations: Record<string, string> } }).metadata.annotations;
  t.is(ann["flannel.alpha.coreos.com/backend-type"], "vxlan");
  t.regex(ann["flannel.alpha.coreos.com/backend-data"]!, /^\{"VNI":1,"VtepMAC":"([0-9a-f]{2}:){5}[0-9a-f]{2}"\}$/);
  t.is(ann["flannel.alpha.coreos.com/public-ip"], "192.168.0.11");
  t.is(ann["flannel.alpha.coreos.com/kube-subnet-manager"], "true");
});

test("vxlan: a remote node adds neighbour, FDB entry and onlink route; its deletion removes them", async (t) => {
  const { host, emit } = setup("vxlan");
  emit({ type: "ADDED", object: remote("node2", "10.244.1.0/24", "192.168.0.12", "vxlan") });
  t.is(await sh(host, "ip route show dev flannel.1"), "10.244.1.0/24 via 10.244.1.0 onlink \n");
  t.is(await sh(host, "ip neigh show dev flannel.1"), "10.244.1.0 lladdr aa:bb:cc:dd:ee:02 PERMANENT \n");
  t.is(await sh(host, "bridge fdb show dev flannel.1"), "aa:bb:cc:dd:ee:02 dst 192.168.0.12 self permanent\n");
  // A changed VTEP MAC replaces the entries.
  emit({ type: "MODIFIED", object: remote("node2", "10.244.1.0/24", "192.168.0.12", "vxlan", "aa:bb:cc:dd:ee:03") });
  t.is(await sh(host, "bridge fdb show dev flannel.1"), "aa:bb:cc:dd:ee:03 dst 192.168.0.12 self permanent\n");
  emit({ type: "DELETED", object: remote("node2", "10.244.1.0/24", "192.168.0.12", "vxlan", "aa:bb:cc:dd:ee:03") });
  t.is(await sh(host, "ip route show dev flannel.1"), "");
  t.is(await sh(host, "ip neigh show dev flannel.1"), "");
  t.is(await sh(host, "bridge fdb show dev flannel.1"), "");
});

test("--ip-masq installs FLANNEL-POSTRTG and FLANNEL-FWD through iptables-restore", async (t) => {
  const { host } = setup("vxlan");
  await host.advance(10);
  const nat = await sh(host, "iptables-save -t nat | grep FLANNEL");
  t.true(nat.includes('-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG\n'));
  t.true(nat.includes('-A FLANNEL-POSTRTG -s 10.244.0.0/24 -d 10.244.0.0/16 -m comment --comment "flanneld masq" -j RETURN\n'));
  t.true(nat.includes('-A FLANNEL-POSTRTG -s 10.244.0.0/16 ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully\n'));
  const filter = await sh(host, "iptables-save -t filter | grep FLANNEL");
  t.true(filter.includes('-A FLANNEL-FWD -d 10.244.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT\n'));
});

test("host-gw: a route via the remote node's address on eth0, MTU 1500, no device", async (t) => {
  const { host, emit } = setup("host-gw");
  emit({ type: "ADDED", object: remote("node2", "10.244.1.0/24", "192.168.0.12", "host-gw") });
  t.is(await sh(host, "ip route show 10.244.1.0/24"), "10.244.1.0/24 via 192.168.0.12 dev eth0 \n");
  t.regex(host.fs.readFile("/run/flannel/subnet.env"), /FLANNEL_MTU=1500\n/);
  t.is(host.kernel.root.deviceByName("flannel.1"), undefined);
  emit({ type: "DELETED", object: remote("node2", "10.244.1.0/24", "192.168.0.12", "host-gw") });
  t.is(await sh(host, "ip route show 10.244.1.0/24"), "");
});

test("host-gw: a remote node off the local segment cannot be routed to, as the real one fails", async (t) => {
  const { host, emit, flanneld } = setup("host-gw");
  emit({ type: "ADDED", object: remote("node2", "10.244.1.0/24", "192.168.1.12", "host-gw") });
  t.is(await sh(host, "ip route show 10.244.1.0/24"), "");
  t.true(flanneld.log.some((l) => l.includes("Nexthop has invalid gateway")));
});

test("udp: flannel0 (MTU 1472) with a route for the whole network; a lease of another backend is ignored", async (t) => {
  const { host, emit, flanneld } = setup("udp");
  t.is(await sh(host, "ip route show dev flannel0"), "10.244.0.0/16 \n");
  t.is(host.kernel.root.deviceByName("flannel0")!.mtu, 1472);
  t.regex(host.fs.readFile("/run/flannel/subnet.env"), /FLANNEL_MTU=1472\n/);
  emit({ type: "ADDED", object: remote("node2", "10.244.1.0/24", "192.168.0.12", "vxlan") });
  t.true(flanneld.log.some((l) => l.includes("backend type vxlan is not udp")));
  flanneld.stop();
  t.false(flanneld.running);
});

test("vxlan: leases seen before this node has its own (a node joining a running cluster) are programmed once it has one", async (t) => {
  const host = testHost("node4");
  const root = host.kernel.root;
  const eth0 = host.kernel.createEther(root, "eth0", 0x525400000004);
  eth0.wire = () => {};
  const c = parseCidr("192.168.0.14/24")!;
  root.addAddress(eth0, { addr: c.addr, prefixLen: c.len });
  root.setUp(eth0, true);
  const { api, emit } = fakeApi();
  const flanneld = new Flanneld(host, api, { nodeName: "node4", nodeIP: "192.168.0.14", backend: "vxlan" });
  flanneld.start();
  emit({ type: "ADDED", object: remote("node1", "10.244.0.0/24", "192.168.0.11", "vxlan") });
  emit({ type: "ADDED", object: node("node4", "") });
  t.is(await sh(host, "ip route show 10.244.0.0/24"), "");
  emit({ type: "MODIFIED", object: node("node4", "10.244.3.0/24") });
  t.is(await sh(host, "ip route show 10.244.0.0/24"), "10.244.0.0/24 via 10.244.0.0 dev flannel.1 onlink \n");
  t.regex(await sh(host, "bridge fdb show dev flannel.1"), /^aa:bb:cc:dd:ee:02 dst 192\.168\.0\.11 self permanent$/m);
});
