import test from "ava";
import {
  buildIcmp,
  buildIpv4,
  buildUdp,
  EthernetFrame,
  formatIpv4Addr,
  IcmpPacket,
  Ipv4Packet,
  parseIcmp,
  parseIpv4Addr,
  UdpPacket,
  VxlanPacket,
} from "@kemu/wire";
import { configure, pingOnce, testKernel } from "./_testing.ts";
import type { Kernel } from "./kernel.ts";
import type { NetNs } from "./netns.ts";
import { RawSocket } from "./socket.ts";
import { readSysClassNet } from "./sysfs.ts";
import { flowSourcePort, type Vxlan } from "./tunnel.ts";

const ip = (s: string) => parseIpv4Addr(s)!;

/** Two "nodes" on one underlay link, each with flannel.1 (VNI 1) programmed as flanneld does. */
function twoNodes(kernel: Kernel): { a: NetNs; b: NetNs; va: Vxlan; vb: Vxlan } {
  const a = kernel.createNetns();
  const b = kernel.createNetns();
  const [ea, eb] = kernel.createVeth(a, "eth0", "eth0", { peerNs: b });
  configure(a, ea, "192.168.0.11/24");
  configure(b, eb, "192.168.0.12/24");
  const va = kernel.createVxlan(a, "flannel.1", { vni: 1, local: ip("192.168.0.11"), lower: ea });
  const vb = kernel.createVxlan(b, "flannel.1", { vni: 1, local: ip("192.168.0.12"), lower: eb });
  a.addAddress(va, { addr: ip("10.244.1.0"), prefixLen: 32 });
  b.addAddress(vb, { addr: ip("10.244.2.0"), prefixLen: 32 });
  a.setUp(va, true);
  b.setUp(vb, true);
  a.ipv4.neigh.set(va, ip("10.244.2.0"), vb.mac, "PERMANENT");
  va.fdbSet(vb.mac, ip("192.168.0.12"));
  a.addRoute({ dst: ip("10.244.2.0"), dstLen: 24, gateway: ip("10.244.2.0"), dev: va, onlink: true });
  b.ipv4.neigh.set(vb, ip("10.244.1.0"), va.mac, "PERMANENT");
  vb.fdbSet(va.mac, ip("192.168.0.11"));
  b.addRoute({ dst: ip("10.244.1.0"), dstLen: 24, gateway: ip("10.244.1.0"), dev: vb, onlink: true });
  return { a, b, va, vb };
}

test("a vxlan device takes the lower MTU less 50 and shows state UNKNOWN", (t) => {
  const { kernel } = testKernel();
  const { va } = twoNodes(kernel);
  t.is(va.mtu, 1450);
  t.is(va.kind, "vxlan");
  t.is(va.operstate, "UNKNOWN");
  t.is(va.port, 8472);
});

test("a frame through flannel.1 leaves eth0 as UDP 8472 / VXLAN with the inner frame intact", async (t) => {
  const { kernel, clock } = testKernel();
  const { a, va, vb } = twoNodes(kernel);
  const outer: Uint8Array[] = [];
  const inner: Uint8Array[] = [];
  a.deviceByName("eth0")!.taps.add((_d, f, dir) => dir === "out" && outer.push(f));
  va.taps.add((_d, f, dir) => dir === "out" && inner.push(f));
  const answer = await pingOnce(clock, a, ip("10.244.2.0"));
  t.deepEqual(answer, { kind: "echo-reply", from: "10.244.2.0", ttl: 64 });
  const frames = outer.filter((f) => EthernetFrame.checked(f).ethertype === 0x0800);
  t.is(frames.length, 1);
  const eth = EthernetFrame.checked(frames[0]!);
  const ipv4 = Ipv4Packet.checked(eth.payload);
  t.is(formatIpv4Addr(ipv4.src), "192.168.0.11");
  t.is(formatIpv4Addr(ipv4.dst), "192.168.0.12");
  t.is(ipv4.protocol, 17);
  t.is(ipv4.ttl, 64);
  t.true(ipv4.verifyChecksum());
  const udp = UdpPacket.checked(ipv4.payload);
  t.is(udp.dstPort, 8472);
  t.true(udp.srcPort >= 32768 && udp.srcPort < 61000);
  t.is(udp.srcPort, flowSourcePort(inner[0]!));
  t.is(udp.checksum, 0);
  t.is(udp.length, 8 + 8 + inner[0]!.length);
  const vx = VxlanPacket.checked(udp.payload);
  t.is(vx.flags, 0x08);
  t.is(vx.vni, 1);
  t.deepEqual([...vx.payload], [...inner[0]!]);
  const innerEth = EthernetFrame.checked(vx.payload);
  t.is(innerEth.dst, vb.mac);
  t.is(innerEth.src, va.mac);
  const innerIp = Ipv4Packet.checked(innerEth.payload);
  t.is(formatIpv4Addr(innerIp.src), "10.244.1.0");
  t.is(innerIp.protocol, 1);
  t.is(vb.stats.rxPackets, 1);
});

test("datagrams with another VNI or a bad header are dropped and counted", (t) => {
  const { kernel, clock } = testKernel();
  const { b, vb } = twoNodes(kernel);
  const src = ip("192.168.0.11");
  const dst = ip("192.168.0.12");
  const eb = b.deviceByName("eth0")!;
  const send = (payload: Uint8Array) => {
    const udp = buildUdp({ srcPort: 40000, dstPort: 8472 }, payload, src, dst, { checksum: false });
    const pkt = buildIpv4(
      { src, dst, protocol: 17, ttl: 64, ident: 1, dontFrag: false, moreFrags: false, fragOffset: 0, dscp: 0, ecn: 0 },
      udp,
    );
    b.ipv4.ipInput(eb, pkt);
  };
  const frame = new Uint8Array(60);
  const wrongVni = new Uint8Array(8 + 60);
  wrongVni[0] = 0x08;
  wrongVni[6] = 2;
  send(wrongVni);
  const noIFlag = new Uint8Array(8 + 60);
  send(noIFlag);
  send(frame.subarray(0, 4));
  clock.runUntil(clock.now() + 10);
  t.is(vb.rxMalformed, 3);
  t.is(vb.stats.rxPackets, 0);
});

test("without an FDB entry the vxlan device drops the frame", async (t) => {
  const { kernel, clock } = testKernel();
  const { a, va, vb } = twoNodes(kernel);
  va.fdbDelete(vb.mac);
  const answer = await pingOnce(clock, a, ip("10.244.2.0"), { waitMs: 1000 });
  t.is(answer, undefined);
  t.is(va.stats.txDropped, 1);
});

test("a tun device hands routed packets to its owner without a link header and receives what it writes", async (t) => {
  const { kernel, clock } = testKernel();
  const ns = kernel.createNetns();
  ns.setUp(ns.lo, true);
  const tun = kernel.createTun(ns, "flannel0", 1472);
  ns.addAddress(tun, { addr: ip("10.244.1.0"), prefixLen: 32 });
  ns.setUp(tun, true);
  ns.addRoute({ dst: ip("10.244.0.0"), dstLen: 16, dev: tun });
  t.false(tun.arp);
  t.is(readSysClassNet(ns, "flannel0/flags"), "0x1091\n", "UP|POINTOPOINT|NOARP|MULTICAST");
  t.is(readSysClassNet(ns, "flannel0/type"), "65534\n");
  const pending = pingOnce(clock, ns, ip("10.244.2.5"), { waitMs: 100 });
  const packet = tun.queue.tryReceive();
  t.truthy(packet);
  const p = Ipv4Packet.checked(packet!);
  t.is(formatIpv4Addr(p.dst), "10.244.2.5");
  t.is(formatIpv4Addr(p.src), "10.244.1.0");
  await pending;
  // An echo request written to the tun is answered back through it.
  const back = packet!.slice();
  back.set(packet!.subarray(16, 20), 12);
  back.set(packet!.subarray(12, 16), 16);
  tun.write(back);
  clock.runUntil(clock.now() + 10);
  t.is(tun.stats.rxPackets, 1);
  const reply = Ipv4Packet.checked(tun.queue.tryReceive()!);
  t.is(formatIpv4Addr(reply.dst), "10.244.2.5");
  t.is(reply.payload[0], 0, "an echo reply");
});

test("a forwarded DF packet too big for flannel.1 gets ICMP fragmentation needed with mtu 1450", (t) => {
  const { kernel, clock } = testKernel();
  const { a } = twoNodes(kernel);
  // A pod behind a veth with a misconfigured MTU of 1500.
  const pod = kernel.createNetns();
  const [host, podEth] = kernel.createVeth(a, "veth0", "eth0", { peerNs: pod });
  configure(a, host, "10.244.1.1/24");
  configure(pod, podEth, "10.244.1.2/24");
  pod.addRoute({ dst: 0, dstLen: 0, gateway: ip("10.244.1.1") });
  a.sysctl.set("net.ipv4.ip_forward", "1");
  const sock = new RawSocket(pod, 1);
  const big = buildIcmp({ kind: "echo-request", ident: 7, seq: 1, data: new Uint8Array(1500 - 28) });
  t.is(sock.send(ip("10.244.2.0"), big, { dontFrag: true }), undefined);
  clock.runUntil(clock.now() + 1000);
  const d = sock.mailbox.tryReceive();
  t.truthy(d);
  const icmp = parseIcmp(IcmpPacket.checked(d!.data));
  t.is(icmp.kind, "dest-unreachable");
  t.is(icmp.kind === "dest-unreachable" ? icmp.code : -1, 4);
  t.is(icmp.kind === "dest-unreachable" ? icmp.nextHopMtu : -1, 1450);
  t.is(formatIpv4Addr(d!.src), "10.244.1.1");
  // One that fits goes through the tunnel.
  const fits = buildIcmp({ kind: "echo-request", ident: 7, seq: 2, data: new Uint8Array(1450 - 28) });
  t.is(sock.send(ip("10.244.2.0"), fits, { dontFrag: true }), undefined);
  clock.runUntil(clock.now() + 1000);
  const reply = sock.mailbox.tryReceive();
  t.is(reply && parseIcmp(IcmpPacket.checked(reply.data)).kind, "echo-reply");
  sock.close();
});
