import test from "ava";
import { parseCidr } from "@kemu/wire";
import { configure, pingOnce, testKernel } from "../_testing.ts";
import { UdpSocket } from "../socket.ts";
import { netfilterOf } from "./engine.ts";
import { IpvsError } from "./ipvs.ts";

const ip = (s: string) => parseCidr(`${s}/32`)!.addr;

/** A node (root namespace, forwarding) with two pods on a bridge and a VIP on a dummy device, as kube-proxy's ipvs mode makes it. */
function node() {
  const { kernel, clock } = testKernel(3);
  const root = kernel.root;
  root.sysctl.set("net.ipv4.ip_forward", "1");
  // br_netfilter, as kube-proxy needs it: pod-to-pod replies on the bridge pass conntrack and are un-NATed.
  root.sysctl.loadBrNetfilter();
  root.sysctl.set("net.bridge.bridge-nf-call-iptables", "1");
  const br = kernel.createBridge(root, "cni0");
  configure(root, br, "10.244.0.1/24");
  const pods = [2, 3].map((i) => {
    const ns = kernel.createNetns();
    const [h, c] = kernel.createVeth(root, `veth${i}`, "eth0", { peerNs: ns });
    br.addPort(h);
    root.setUp(h, true);
    configure(ns, c, `10.244.0.${i}/24`);
    ns.addRoute({ dst: 0, dstLen: 0, gateway: ip("10.244.0.1") });
    return ns;
  });
  const dummy = kernel.createDummy(root, "kube-ipvs0");
  root.addAddress(dummy, { addr: ip("10.96.0.10"), prefixLen: 32 });
  return { kernel, clock, root, a: pods[0]!, b: pods[1]! };
}

test("a new flow to a virtual service reaches a real server, and the reply comes back from the virtual address", (t) => {
  const { clock, root, a, b } = node();
  const ipvs = netfilterOf(root).ipvs;
  const svc = ipvs.addService(17, ip("10.96.0.10"), 53, "rr");
  ipvs.addDest(svc, ip("10.244.0.3"), 5353);
  const server = new UdpSocket(b);
  server.bind(0, 5353);
  const client = new UdpSocket(a);
  client.sendTo(ip("10.96.0.10"), 53, new TextEncoder().encode("query"));
  clock.runUntil(clock.now() + 10);
  const req = server.mailbox.tryReceive();
  t.truthy(req, "the real server got the datagram");
  t.is(req!.src, ip("10.244.0.2"), "the client's own address (no masquerade)");
  server.sendTo(req!.src, req!.srcPort, new TextEncoder().encode("answer"));
  clock.runUntil(clock.now() + 10);
  const reply = client.mailbox.tryReceive();
  t.truthy(reply);
  t.is(reply!.src, ip("10.96.0.10"));
  t.is(reply!.srcPort, 53);
  t.is(new TextDecoder().decode(reply!.data), "answer");
  t.deepEqual(ipvs.connections(svc, svc.dests[0]!), { active: 0, inactive: 1 });
});

test("rr takes the real servers in turn, one new flow each; a persistent service keeps a client on one", (t) => {
  const { clock, root, a, b } = node();
  const ipvs = netfilterOf(root).ipvs;
  const rr = ipvs.addService(17, ip("10.96.0.10"), 53, "rr");
  for (const port of [7001, 7002, 7003]) ipvs.addDest(rr, ip("10.244.0.3"), port);
  const sticky = ipvs.addService(17, ip("10.96.0.10"), 54, "rr", 10800);
  for (const port of [8001, 8002, 8003]) ipvs.addDest(sticky, ip("10.244.0.3"), port);
  const servers = new Map<number, UdpSocket>();
  for (const port of [7001, 7002, 7003, 8001, 8002, 8003]) {
    const s = new UdpSocket(b);
    s.bind(0, port);
    servers.set(port, s);
  }
  for (let i = 0; i < 6; i++) {
    for (const port of [53, 54]) {
      const c = new UdpSocket(a);
      c.sendTo(ip("10.96.0.10"), port, new Uint8Array([i]));
      clock.runUntil(clock.now() + 5);
      c.close();
    }
  }
  const got = (port: number) => {
    let n = 0;
    while (servers.get(port)!.mailbox.tryReceive() !== undefined) n++;
    return n;
  };
  t.deepEqual([7001, 7002, 7003].map(got), [2, 2, 2]);
  const stickyCounts = [8001, 8002, 8003].map(got).sort();
  t.deepEqual(stickyCounts, [0, 0, 6]);
});

test("the virtual address is the node's own even on a device that is down: ping is answered", async (t) => {
  const { clock, root, a } = node();
  const ipvs = netfilterOf(root).ipvs;
  ipvs.addService(6, ip("10.96.0.10"), 80, "rr");
  const reply = await pingOnce(clock, a, ip("10.96.0.10"));
  t.like(reply, { kind: "echo-reply", from: "10.96.0.10", ttl: 64 });
});

test("the table refuses what ipvsadm's kernel refuses", (t) => {
  const { root } = node();
  const ipvs = netfilterOf(root).ipvs;
  const s = ipvs.addService(6, ip("10.96.0.1"), 443, "rr");
  t.throws(() => ipvs.addService(6, ip("10.96.0.1"), 443), { instanceOf: IpvsError, message: "Service already exists" });
  ipvs.addDest(s, ip("10.244.0.3"), 6443);
  t.throws(() => ipvs.addDest(s, ip("10.244.0.3"), 6443), { message: "Destination already exists" });
  t.throws(() => ipvs.deleteDest(s, ip("10.244.0.9"), 6443), { message: "No such destination" });
  t.throws(() => ipvs.deleteService(17, ip("10.96.0.1"), 443), { message: "No such service" });
  ipvs.deleteService(6, ip("10.96.0.1"), 443);
  t.is(ipvs.services().length, 0);
});
