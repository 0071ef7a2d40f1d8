import test from "ava";
import {
  EthernetFrame,
  Ipv4Packet,
  parseIpv4Addr,
  parseTcp,
  TCP_ACK,
  TCP_CWR,
  TCP_FIN,
  TCP_PSH,
  TcpPacket,
  UdpPacket,
  VxlanPacket,
  buildIpv4,
  buildEthernet,
  ETHERTYPE_IPV4,
  emitTcp,
  withHeadroom,
  IcmpPacket,
  parseIcmp,
} from "@kemu/wire";
import { RawSocket } from "./socket.ts";
import { configure, testKernel } from "./_testing.ts";
import type { EventLoop } from "./clock.ts";
import type { Ether } from "./links.ts";
import type { Kernel } from "./kernel.ts";
import type { NetNs } from "./netns.ts";
import { gsoSegment, gsoSize, setGso } from "./gso.ts";
import { groReceive } from "./gro.ts";
import { settle } from "./tcp/_testing.ts";
import { TcpConnection, TcpListener } from "./tcp/tcp_socket.ts";
import { runIptables } from "./netfilter/command.ts";
import { netfilterOf } from "./netfilter/engine.ts";

const ip = (s: string) => parseIpv4Addr(s)!;

/**
 * Joins two NICs with a wire that delivers what one side sends during one
 * event to the other as one poll (as a ring drained at once), recording every
 * frame that crosses.
 */
function wire(clock: EventLoop, a: Ether, b: Ether, log: Uint8Array[]): void {
  const link = (from: Ether, to: Ether) => {
    let pending: Uint8Array[] | undefined;
    from.wire = (frame) => {
      log.push(frame);
      if (pending === undefined) {
        pending = [];
        const batch = pending;
        clock.setTimer(0.05, () => {
          pending = undefined;
          to.receiveBatch(batch);
        });
      }
      pending.push(frame);
    };
  };
  link(a, b);
  link(b, a);
}

/**
 * node A: a pod (10.244.1.2) on bridge cni0 (10.244.1.1) by a veth, and eth0
 * 192.168.0.11; node B: eth0 192.168.0.12. Each routes the other's pod
 * subnet; A forwards.
 */
function twoNodes(kernel: Kernel, clock: EventLoop) {
  const pod = kernel.createNetns();
  const a = kernel.createNetns();
  const b = kernel.createNetns();
  const [podEth, hostEnd] = kernel.createVeth(pod, "eth0", "veth1", { peerNs: a });
  const br = kernel.createBridge(a, "cni0");
  br.addPort(hostEnd);
  a.setUp(hostEnd, true);
  configure(a, br, "10.244.1.1/24");
  configure(pod, podEth, "10.244.1.2/24");
  pod.addRoute({ dst: 0, dstLen: 0, gateway: ip("10.244.1.1") });
  const ea = kernel.createEther(a, "eth0", kernel.randomMac());
  const eb = kernel.createEther(b, "eth0", kernel.randomMac());
  const log: Uint8Array[] = [];
  wire(clock, ea, eb, log);
  configure(a, ea, "192.168.0.11/24");
  configure(b, eb, "192.168.0.12/24");
  b.addRoute({ dst: ip("10.244.1.0"), dstLen: 24, gateway: ip("192.168.0.11") });
  a.sysctl.set("net.ipv4.ip_forward", "1");
  return { pod, a, b, podEth, hostEnd, br, ea, eb, log };
}

/** Connects pod → B:5001 and returns both ends, the sender's window opened wide. */
async function connect(clock: EventLoop, from: NetNs, to: NetNs, dst: string) {
  const listener = TcpListener.listen(to, 0, 5001);
  const accepted = listener.accept();
  const client = await settle(clock, TcpConnection.connect(from, ip(dst), 5001));
  const server = (await settle(clock, accepted))!;
  // Past slow start, as a warmed-up connection is: the receive window is the limit.
  client.tcb.cwnd = 1 << 20;
  return { client, server };
}

/** Reads `n` bytes on `conn`. */
async function readAll(conn: TcpConnection, n: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let got = 0;
  while (got < n) {
    const c = await conn.read();
    if (c === undefined) break;
    chunks.push(c);
    got += c.length;
  }
  return Buffer.concat(chunks);
}

/** The TCP data segments among Ethernet frames (plain or inside VXLAN), with their IPv4 packets. */
function tcpData(frames: Uint8Array[]): { frame: Uint8Array; ipv4: Ipv4Packet; tcp: TcpPacket }[] {
  const out = [];
  for (const frame of frames) {
    const eth = EthernetFrame.checked(frame);
    if (eth.ethertype !== ETHERTYPE_IPV4) continue;
    let ipv4 = Ipv4Packet.checked(eth.payload);
    if (ipv4.protocol === 17) {
      const udp = UdpPacket.checked(ipv4.payload);
      if (udp.dstPort !== 8472) continue;
      ipv4 = Ipv4Packet.checked(EthernetFrame.checked(VxlanPacket.checked(udp.payload).payload).payload);
    }
    if (ipv4.protocol !== 6) continue;
    const tcp = TcpPacket.checked(ipv4.payload);
    if (tcp.payload.length > 0) out.push({ frame, ipv4, tcp });
  }
  return out;
}

const pattern = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + (i >> 8)) & 255);

test("a 64 KiB write crosses veth and bridge as one super-packet and leaves the NIC as wire frames of at most the MTU", async (t) => {
  const { kernel, clock } = testKernel(3);
  const { pod, a, b, podEth, hostEnd, log } = twoNodes(kernel, clock);
  runIptables(netfilterOf(a), ["-A", "FORWARD", "-p", "tcp", "--dport", "5001"]);
  const { client, server } = await connect(clock, pod, b, "192.168.0.12");
  runIptables(netfilterOf(a), ["-Z", "FORWARD"]);
  const onVeth: Uint8Array[] = [];
  hostEnd.taps.add((_d, f, dir) => dir === "in" && onVeth.push(f));
  log.length = 0;
  const before = { tx: podEth.stats.txPackets, rx: hostEnd.stats.rxPackets };
  const data = pattern(45 * 1448);
  await settle(clock, client.write(data));
  const got = await settle(clock, readAll(server, data.length));
  t.deepEqual(got, Buffer.from(data));

  // veth and bridge: one packet of 45 segments' worth, longer than the MTU, as tcpdump shows it on Linux.
  const supers = tcpData(onVeth);
  t.is(supers.length, 1);
  t.is(supers[0]!.tcp.payload.length, 45 * 1448);
  t.is(supers[0]!.ipv4.totalLen, 20 + 32 + 45 * 1448);
  t.is(podEth.stats.txPackets - before.tx, 1);
  t.is(hostEnd.stats.rxPackets - before.rx, 1);
  // iptables counts it once, with its full length.
  const listing = runIptables(netfilterOf(a), ["-L", "FORWARD", "-v", "-n", "-x"]);
  t.regex(listing, new RegExp(`^\\s+1\\s+${20 + 32 + 45 * 1448}\\s+`, "m"), listing);

  // On the wire: 45 frames of at most 1514 bytes, each a valid segment, in order.
  const wireSegs = tcpData(log);
  t.is(wireSegs.length, 45);
  let seq = parseTcp(supers[0]!.tcp, ip("10.244.1.2"), ip("192.168.0.12")).seq;
  const ident = supers[0]!.ipv4.ident;
  wireSegs.forEach(({ frame, ipv4, tcp }, i) => {
    t.true(frame.length <= 1514);
    t.true(ipv4.verifyChecksum());
    t.is(ipv4.ident, (ident + i) & 0xffff);
    t.is(ipv4.ttl, 63); // forwarded once, by node A
    const repr = parseTcp(tcp, ipv4.src, ipv4.dst); // throws on a bad checksum
    t.is(repr.seq, seq);
    t.is(tcp.payload.length, 1448);
    t.is(repr.flags & (TCP_PSH | TCP_FIN), i === 44 ? TCP_PSH : 0);
    seq = (seq + 1448) >>> 0;
  });
});

test("GRO merges a poll's segments back: the receiving stack sees one packet, TCP one segment", async (t) => {
  const { kernel, clock } = testKernel(4);
  const { pod, b, eb } = twoNodes(kernel, clock);
  const { client, server } = await connect(clock, pod, b, "192.168.0.12");
  const seen: Uint8Array[] = [];
  eb.taps.add((_d, f, dir) => dir === "in" && seen.push(f));
  const rxBefore = eb.stats.rxPackets;
  const data = pattern(20 * 1448 + 100);
  await settle(clock, client.write(data));
  t.deepEqual(await settle(clock, readAll(server, data.length)), Buffer.from(data));
  // The NIC counts 21 wire frames; what goes up (and what tcpdump sees, after GRO) is one packet.
  t.is(eb.stats.rxPackets - rxBefore, 21);
  const up = tcpData(seen);
  t.is(up.length, 1);
  t.is(up[0]!.tcp.payload.length, data.length);
  t.is(gsoSize(up[0]!.frame), 1448);
  const repr = parseTcp(up[0]!.tcp, up[0]!.ipv4.src, up[0]!.ipv4.dst);
  t.is(repr.flags, TCP_ACK | TCP_PSH);
  t.true(up[0]!.ipv4.verifyChecksum());
});

test("segmenting a VXLAN super-packet gives each segment its own outer headers, and GRO puts them back together", (t) => {
  // An inner TCP super-packet of 3 × 1398 + 10 bytes, CWR and PSH|FIN set, in VXLAN in UDP/IPv4.
  const mss = 1398;
  const payload = pattern(3 * mss + 10);
  const tcp = withHeadroom(32 + payload.length);
  tcp.set(payload, 32);
  const src = ip("10.244.1.2");
  const dst = ip("10.244.2.3");
  emitTcp(
    { srcPort: 40000, dstPort: 5001, seq: 0xfffff000, ack: 77, flags: TCP_ACK | TCP_CWR | TCP_PSH | TCP_FIN, window: 500, urgent: 0, options: { timestamp: { tsval: 1, tsecr: 2 } } },
    tcp,
    src,
    dst,
  );
  const innerIp = buildIpv4({ src, dst, protocol: 6, ttl: 63, ident: 100, dontFrag: true, moreFrags: false, fragOffset: 0, dscp: 0, ecn: 0 }, tcp);
  const innerEth = buildEthernet({ dst: 0x0a0000000002, src: 0x0a0000000001, ethertype: ETHERTYPE_IPV4 }, innerIp);
  const vx = new Uint8Array(8 + 8 + innerEth.length);
  vx[8] = 0x08;
  vx[8 + 6] = 1; // VNI 1
  vx.set(innerEth, 16);
  vx[0] = 0x9c;
  vx[1] = 0x40; // source port 40000
  vx[2] = 0x21;
  vx[3] = 0x18; // 8472
  vx[4] = vx.length >> 8;
  vx[5] = vx.length & 255;
  const outerIp = buildIpv4({ src: ip("192.168.0.11"), dst: ip("192.168.0.12"), protocol: 17, ttl: 64, ident: 9, dontFrag: false, moreFrags: false, fragOffset: 0, dscp: 0, ecn: 0 }, vx);
  const frame = buildEthernet({ dst: 0x020000000002, src: 0x020000000001, ethertype: ETHERTYPE_IPV4 }, outerIp);
  setGso(frame, mss);

  const segs = gsoSegment(frame, mss);
  t.is(segs.length, 4);
  segs.forEach((seg, i) => {
    t.true(seg.length <= 1514, `segment ${i} is ${seg.length} bytes`);
    const outer = Ipv4Packet.checked(EthernetFrame.checked(seg).payload);
    t.true(outer.verifyChecksum());
    t.is(outer.ident, 9 + i);
    t.is(outer.totalLen, seg.length - 14);
    const udp = UdpPacket.checked(outer.payload);
    t.is(udp.length, outer.totalLen - 20);
    t.is(udp.checksum, 0);
    t.is(udp.srcPort, 40000);
    const vxp = VxlanPacket.checked(udp.payload);
    t.is(vxp.vni, 1);
    const inner = Ipv4Packet.checked(EthernetFrame.checked(vxp.payload).payload);
    t.true(inner.verifyChecksum());
    t.is(inner.ident, 100 + i);
    const r = parseTcp(TcpPacket.checked(inner.payload), src, dst);
    t.is(r.seq, (0xfffff000 + i * mss) >>> 0);
    t.is(TcpPacket.checked(inner.payload).payload.length, i === 3 ? 10 : mss);
    t.is(r.flags & TCP_CWR, i === 0 ? TCP_CWR : 0);
    t.is(r.flags & (TCP_PSH | TCP_FIN), i === 3 ? TCP_PSH | TCP_FIN : 0);
    t.deepEqual(r.options.timestamp, { tsval: 1, tsecr: 2 });
  });

  // The first segment carries CWR, which ends a GRO packet at once (tcp_gro_receive flushes on CWR);
  // the other three merge back into one, FIN and PSH from the last.
  const merged = groReceive(segs, (port) => port === 8472);
  t.is(merged.length, 2);
  t.is(merged[0], segs[0]);
  const m = merged[1]!;
  t.is(gsoSize(m), mss);
  const outer = Ipv4Packet.checked(EthernetFrame.checked(m).payload);
  t.true(outer.verifyChecksum());
  t.is(outer.totalLen, m.length - 14);
  t.is(UdpPacket.checked(outer.payload).length, outer.totalLen - 20);
  const inner = Ipv4Packet.checked(EthernetFrame.checked(VxlanPacket.checked(UdpPacket.checked(outer.payload).payload).payload).payload);
  t.true(inner.verifyChecksum());
  const innerTcp = TcpPacket.checked(inner.payload);
  const r = parseTcp(innerTcp, src, dst);
  t.is(r.seq, (0xfffff000 + mss) >>> 0);
  t.is(r.flags, TCP_ACK | TCP_PSH | TCP_FIN);
  t.deepEqual(innerTcp.payload, payload.subarray(mss));
});

test("GRO keeps flows apart, passes pure ACKs up after what it held for their flow, and refuses a gap", (t) => {
  const src = ip("10.0.0.1");
  const dst = ip("10.0.0.2");
  const ids = new Map<number, number>();
  const seg = (seq: number, len: number, sport = 1000, flags = TCP_ACK) => {
    const ident = ids.get(sport) ?? 0;
    ids.set(sport, ident + 1);
    const tcp = withHeadroom(20 + len);
    tcp.set(pattern(len), 20);
    emitTcp({ srcPort: sport, dstPort: 80, seq, ack: 1, flags, window: 100, urgent: 0, options: {} }, tcp, src, dst);
    const p = buildIpv4({ src, dst, protocol: 6, ttl: 64, ident, dontFrag: true, moreFrags: false, fragOffset: 0, dscp: 0, ecn: 0 }, tcp);
    return buildEthernet({ dst: 2, src: 1, ethertype: ETHERTYPE_IPV4 }, p);
  };
  const a1 = seg(1000, 100);
  const b1 = seg(5000, 100, 2000);
  const a2 = seg(1100, 100);
  const ack = seg(1200, 0);
  const a3 = seg(1200, 100); // the ACK carried no data: 1200 is next
  const a4 = seg(1400, 100); // a gap of 100 bytes: it starts a packet of its own
  const b2 = seg(5100, 100, 2000);
  const out = groReceive([a1, b1, a2, ack, a3, a4, b2], () => false);
  const seqs = out.map((f) => {
    const p = Ipv4Packet.checked(EthernetFrame.checked(f).payload);
    const tcp = TcpPacket.checked(p.payload);
    return `${tcp.srcPort}:${parseTcp(tcp, src, dst).seq}+${tcp.payload.length}`;
  });
  t.deepEqual(seqs, ["1000:1000+200", "1000:1200+0", "1000:1200+100", "2000:5000+200", "1000:1400+100"]);
});

test("a DF super-packet whose segments fit the MTU is forwarded; one whose segments do not earns frag-needed", (t) => {
  const { kernel, clock } = testKernel(5);
  const { pod, a, podEth, br, log } = twoNodes(kernel, clock);
  const src = ip("10.244.1.2");
  const dst = ip("192.168.0.12");
  const superPacket = () => {
    const tcp = withHeadroom(20 + 10 * 1448);
    tcp.set(pattern(10 * 1448), 20);
    emitTcp({ srcPort: 40000, dstPort: 9, seq: 1, ack: 1, flags: TCP_ACK, window: 100, urgent: 0, options: {} }, tcp, src, dst);
    const p = buildIpv4({ src, dst, protocol: 6, ttl: 64, ident: 1, dontFrag: true, moreFrags: false, fragOffset: 0, dscp: 0, ecn: 0 }, tcp);
    const f = buildEthernet({ dst: br.mac, src: podEth.mac, ethertype: ETHERTYPE_IPV4 }, p);
    setGso(f, 1448);
    return f;
  };
  const icmp = new RawSocket(pod, 1);
  podEth.transmit(superPacket());
  clock.runUntil(clock.now() + 100);
  const wireSegs = tcpData(log).filter(({ tcp }) => tcp.dstPort === 9);
  t.is(wireSegs.length, 10);
  for (const { frame, ipv4 } of wireSegs) {
    t.is(frame.length, 14 + 20 + 20 + 1448);
    t.true(ipv4.dontFrag);
  }
  t.is(a.ipv4.stats.fragFails, 0);
  t.is(icmp.mailbox.tryReceive(), undefined);

  // With eth0's MTU below a segment's 1488 bytes the packet is refused, and the sender told the MTU.
  a.deviceByName("eth0")!.mtu = 1400;
  podEth.transmit(superPacket());
  clock.runUntil(clock.now() + 100);
  t.is(a.ipv4.stats.fragFails, 1);
  const d = icmp.mailbox.tryReceive();
  t.truthy(d);
  const err = parseIcmp(IcmpPacket.checked(d!.data));
  t.like(err, { kind: "dest-unreachable", code: 4, nextHopMtu: 1400 });
  icmp.close();
});

test("a tun device's owner reads wire-sized packets: a super-packet routed into it is segmented", (t) => {
  const { kernel, clock } = testKernel(6);
  const ns = kernel.createNetns();
  const tun = kernel.createTun(ns, "flannel0", 1472);
  configure(ns, tun, "10.244.1.0/16");
  const src = ip("10.244.1.0");
  const dst = ip("10.244.2.5");
  const tcp = withHeadroom(20 + 5 * 1432);
  tcp.set(pattern(5 * 1432), 20);
  emitTcp({ srcPort: 1, dstPort: 2, seq: 7, ack: 1, flags: TCP_ACK | TCP_PSH, window: 100, urgent: 0, options: {} }, tcp, src, dst);
  const err = ns.ipv4.send({ dst, protocol: 6, gsoSize: 1432, payload: () => tcp });
  t.is(err, undefined);
  clock.runUntil(clock.now() + 1);
  const read: Uint8Array[] = [];
  for (let p = tun.queue.tryReceive(); p; p = tun.queue.tryReceive()) read.push(p);
  t.is(read.length, 5);
  read.forEach((p, i) => {
    t.is(p.length, 20 + 20 + 1432);
    const ipv4 = Ipv4Packet.checked(p);
    t.true(ipv4.verifyChecksum());
    const r = parseTcp(TcpPacket.checked(ipv4.payload), src, dst);
    t.is(r.seq, 7 + i * 1432);
    t.is(r.flags, i === 4 ? TCP_ACK | TCP_PSH : TCP_ACK);
  });
});

test("a super-packet's mark stays with it: packets cut from the same slab are not marked, its own views are", (t) => {
  // Two small packets from the shared headroom slab: one a (2-MSS) super-packet, the other not.
  const superPacket = withHeadroom(3000);
  const neighbour = withHeadroom(1600);
  t.is(superPacket.buffer, neighbour.buffer, "both come from one slab");
  setGso(superPacket, 1448);
  t.is(gsoSize(superPacket), 1448);
  t.is(gsoSize(superPacket.subarray(20)), 1448, "a view of its payload ends where it ends");
  t.is(gsoSize(neighbour), undefined);
});
