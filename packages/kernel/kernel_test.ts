import test from "ava";
import { EthernetFrame, formatMacAddr, parseCidr, parseIpv4Addr } from "@kemu/wire";
import { configure, pingOnce, testKernel } from "./_testing.ts";
import { readSysClassNet } from "./sysfs.ts";

const ip = (s: string) => parseIpv4Addr(s)!;

test("a veth moved into a namespace keeps its ifindex and points iflink at its peer", (t) => {
  const { kernel } = testKernel();
  const root = kernel.root;
  kernel.createBridge(root, "docker0");
  const [host, cont] = kernel.createVeth(root, "veth1a2b3c4", "eth0-tmp");
  const ns = kernel.createNetns();
  const before = cont.ifindex;
  root.moveDevice(cont, ns);
  t.is(cont.ifindex, before, "index is kept when free in the new namespace");
  t.is(ns.lo.ifindex, 1);
  t.is(readSysClassNet(ns, "eth0-tmp/iflink"), `${host.ifindex}\n`);
  t.is(readSysClassNet(root, "veth1a2b3c4/iflink"), `${cont.ifindex}\n`);
  t.is(readSysClassNet(root, "veth1a2b3c4/ifindex"), `${host.ifindex}\n`);
  t.is(readSysClassNet(root, "lo/iflink"), "1\n");
});

test("two namespaces on a veth pair ping each other after ARP", async (t) => {
  const { kernel, clock } = testKernel();
  const a = kernel.createNetns();
  const b = kernel.createNetns();
  const [va, vb] = kernel.createVeth(a, "eth0", "eth0", { peerNs: b });
  configure(a, va, "10.0.0.1/24");
  configure(b, vb, "10.0.0.2/24");
  const answer = await pingOnce(clock, a, ip("10.0.0.2"));
  t.deepEqual(answer, { kind: "echo-reply", from: "10.0.0.2", ttl: 64 });
  const n = a.ipv4.neigh.get(va, ip("10.0.0.2"));
  t.is(n?.state, "REACHABLE");
  t.is(formatMacAddr(n!.mac!), formatMacAddr(vb.mac));
  // b learned a from the request it answered (STALE, neigh_event_ns); sending
  // the reply through a STALE entry moves it to DELAY, and 5 s later a unicast
  // probe confirms it.
  t.is(b.ipv4.neigh.get(vb, ip("10.0.0.1"))?.state, "DELAY");
  clock.runUntil(clock.now() + 6_000);
  t.is(b.ipv4.neigh.get(vb, ip("10.0.0.1"))?.state, "REACHABLE");
});

test("a neighbour entry goes STALE after reachable time", async (t) => {
  const { kernel, clock } = testKernel();
  const a = kernel.createNetns();
  const b = kernel.createNetns();
  const [va, vb] = kernel.createVeth(a, "eth0", "eth0", { peerNs: b });
  configure(a, va, "10.0.0.1/24");
  configure(b, vb, "10.0.0.2/24");
  await pingOnce(clock, a, ip("10.0.0.2"));
  clock.runUntil(clock.now() + 46_000);
  t.is(a.ipv4.neigh.get(va, ip("10.0.0.2"))?.state, "STALE");
});

test("ARP that is never answered fails and reports host unreachable to the sender", async (t) => {
  const { kernel, clock } = testKernel();
  const a = kernel.createNetns();
  const b = kernel.createNetns();
  const [va] = kernel.createVeth(a, "eth0", "eth0", { peerNs: b });
  configure(a, va, "10.0.0.1/24");
  const answer = await pingOnce(clock, a, ip("10.0.0.9"), { waitMs: 5000 });
  t.deepEqual(answer, { kind: "dest-unreachable/1", from: "10.0.0.1", ttl: 64 });
  t.is(a.ipv4.neigh.get(va, ip("10.0.0.9"))?.state, "FAILED");
});

test("no route gives ENETUNREACH to the sender", async (t) => {
  const { kernel, clock } = testKernel();
  const a = kernel.createNetns();
  const answer = await pingOnce(clock, a, ip("8.8.8.8"));
  t.is(answer?.kind, "ENETUNREACH");
});

/** a — r — b with r routing between 10.0.1.0/24 and 10.0.2.0/24. */
function routed() {
  const { kernel, clock } = testKernel();
  const a = kernel.createNetns();
  const r = kernel.createNetns();
  const b = kernel.createNetns();
  const [a0, r0] = kernel.createVeth(a, "eth0", "eth0", { peerNs: r });
  const [b0, r1] = kernel.createVeth(b, "eth0", "eth1", { peerNs: r });
  configure(a, a0, "10.0.1.2/24");
  configure(r, r0, "10.0.1.1/24");
  configure(r, r1, "10.0.2.1/24");
  configure(b, b0, "10.0.2.2/24");
  a.addRoute({ dst: 0, dstLen: 0, gateway: ip("10.0.1.1") });
  b.addRoute({ dst: 0, dstLen: 0, gateway: ip("10.0.2.1") });
  return { kernel, clock, a, r, b };
}

test("forwarding is off by default: the router drops silently", async (t) => {
  const { clock, a, r } = routed();
  const answer = await pingOnce(clock, a, ip("10.0.2.2"), { waitMs: 3000 });
  t.is(answer, undefined);
  t.true(r.ipv4.stats.inAddrErrors > 0);
});

test("with ip_forward=1 the router forwards and the TTL drops by one per hop", async (t) => {
  const { clock, a, r } = routed();
  r.sysctl.set("net.ipv4.ip_forward", "1");
  const answer = await pingOnce(clock, a, ip("10.0.2.2"));
  t.deepEqual(answer, { kind: "echo-reply", from: "10.0.2.2", ttl: 63 });
  t.is(r.sysctl.get("net.ipv4.conf.all.forwarding"), "1");
});

test("a packet whose TTL runs out gets time exceeded from the router", async (t) => {
  const { clock, a, r } = routed();
  r.sysctl.set("net.ipv4.ip_forward", "1");
  const answer = await pingOnce(clock, a, ip("10.0.2.2"), { ttl: 1 });
  t.deepEqual(answer, { kind: "time-exceeded/0", from: "10.0.1.1", ttl: 64 });
});

test("no route on the router gives net unreachable", async (t) => {
  const { clock, a, r } = routed();
  r.sysctl.set("net.ipv4.ip_forward", "1");
  const answer = await pingOnce(clock, a, ip("192.0.2.1"));
  t.deepEqual(answer, { kind: "dest-unreachable/0", from: "10.0.1.1", ttl: 64 });
});

test("connected routes follow the device; a gateway must be on a connected route", (t) => {
  const { kernel } = testKernel();
  const ns = kernel.createNetns();
  const d = kernel.createDummy(ns, "dummy0");
  ns.addAddress(d, { addr: ip("10.1.0.1"), prefixLen: 24 });
  t.is(ns.ipv4.routes.list(254).length, 0, "no prefix route while the device is down");
  ns.setUp(d, true);
  t.is(ns.ipv4.routes.list(254).length, 1);
  const err = t.throws(() => ns.addRoute({ dst: 0, dstLen: 0, gateway: ip("10.9.0.1") }));
  t.is((err as { detail?: string }).detail, "Nexthop has invalid gateway.");
  ns.addRoute({ dst: 0, dstLen: 0, gateway: ip("10.1.0.254") });
  t.is(ns.ipv4.routes.lookup(ip("1.1.1.1"))?.gateway, ip("10.1.0.254"));
  ns.setUp(d, false);
  t.is(ns.ipv4.routes.list(254).length, 0, "static routes through a downed device are flushed");
  const c = parseCidr("10.1.0.77/24", { mask: true })!;
  t.is(c.addr, ip("10.1.0.0"));
});
