import test from "ava";
import { formatIpv4Addr, formatMacAddr, parseIpv4Addr, parseMacAddr } from "./address.ts";
import { checksum } from "./checksum.ts";
import { WireError } from "./error.ts";
import { buildEthernet, ETHERTYPE_IPV4, EthernetFrame, parseEthernet } from "./ethernet.ts";
import { buildIcmp, IcmpPacket, parseIcmp } from "./icmp.ts";
import { buildIpv4, IPPROTO_ICMP, IPPROTO_UDP, Ipv4Packet, ipv4Defaults, parseIpv4 } from "./ipv4.ts";
import { buildUdp, parseUdp, UdpPacket } from "./udp.ts";
import { buildVxlan, parseVxlan, VXLAN_PORT_LINUX_DEFAULT, VxlanPacket } from "./vxlan.ts";
import { hex, nonWireErrors } from "./_testing.ts";

// A pod-to-pod ping crossing a flannel VXLAN tunnel between two nodes:
// node1 192.168.56.11 → node2 192.168.56.12, UDP to 8472 with no checksum
// (Linux VXLAN's default), VNI 1, inner flannel.1 → flannel.1 frame carrying
// 10.244.0.2 → 10.244.1.2 (TTL already decremented to 63).
const OUTER_FRAME = hex(`
  08 00 27 5a 1c 02 08 00 27 9e 4b 01 08 00                          // ethernet: node2 ← node1
  45 00 00 86 9b 2e 00 00 40 11 ed d0 c0 a8 38 0b c0 a8 38 0c        // ipv4: UDP, TTL 64
  ca 05 21 18 00 72 00 00                                            // udp: 51717 → 8472, checksum none
  08 00 00 00 00 00 01 00                                            // vxlan: I flag, VNI 1
  c2 4e 7b 19 8d 02 9a 3f 5e 21 07 b4 08 00                          // inner ethernet
  45 00 00 54 d1 ec 40 00 3f 01 52 d1 0a f4 00 02 0a f4 01 02        // inner ipv4: ICMP, TTL 63, DF
  08 00 b1 c1 00 2a 00 03                                            // icmp echo request id 42 seq 3
  f1 4c 5c 65 00 00 00 00 2c 8c 0d 00 00 00 00 00 10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f
  20 21 22 23 24 25 26 27 28 29 2a 2b 2c 2d 2e 2f 30 31 32 33 34 35 36 37
`);
const PING_DATA = OUTER_FRAME.subarray(92);

const NODE1 = parseIpv4Addr("192.168.56.11")!;
const NODE2 = parseIpv4Addr("192.168.56.12")!;
const POD1 = parseIpv4Addr("10.244.0.2")!;
const POD2 = parseIpv4Addr("10.244.1.2")!;

test("vxlan golden frame has correct ip and icmp checksums", (t) => {
  t.is(checksum(OUTER_FRAME, 14, 34), 0);
  t.is(checksum(OUTER_FRAME, 64, 84), 0);
  t.is(checksum(OUTER_FRAME, 84), 0);
});

test("a flannel vxlan frame is built byte for byte from the layer builders", (t) => {
  const icmp = buildIcmp({ kind: "echo-request", ident: 42, seq: 3, data: PING_DATA });
  const innerIp = buildIpv4(ipv4Defaults({ src: POD1, dst: POD2, protocol: IPPROTO_ICMP, ttl: 63, ident: 0xd1ec, dontFrag: true }), icmp);
  const inner = buildEthernet(
    { dst: parseMacAddr("c2:4e:7b:19:8d:02")!, src: parseMacAddr("9a:3f:5e:21:07:b4")!, ethertype: ETHERTYPE_IPV4 },
    innerIp,
  );
  const vxlan = buildVxlan({ vni: 1 }, inner);
  const udp = buildUdp({ srcPort: 51717, dstPort: VXLAN_PORT_LINUX_DEFAULT }, vxlan, NODE1, NODE2, { checksum: false });
  const outerIp = buildIpv4(ipv4Defaults({ src: NODE1, dst: NODE2, protocol: IPPROTO_UDP, ident: 0x9b2e }), udp);
  const frame = buildEthernet(
    { dst: parseMacAddr("08:00:27:5a:1c:02")!, src: parseMacAddr("08:00:27:9e:4b:01")!, ethertype: ETHERTYPE_IPV4 },
    outerIp,
  );
  t.deepEqual(frame, OUTER_FRAME);
});

test("a flannel vxlan frame parses back layer by layer", (t) => {
  const eth = EthernetFrame.checked(OUTER_FRAME);
  t.is(formatMacAddr(parseEthernet(eth).src), "08:00:27:9e:4b:01");
  const ip = Ipv4Packet.checked(eth.payload);
  const ipRepr = parseIpv4(ip);
  t.is(formatIpv4Addr(ipRepr.src), "192.168.56.11");
  t.is(formatIpv4Addr(ipRepr.dst), "192.168.56.12");
  t.is(ipRepr.protocol, IPPROTO_UDP);
  const udp = UdpPacket.checked(ip.payload);
  t.deepEqual(parseUdp(udp, ipRepr.src, ipRepr.dst), { srcPort: 51717, dstPort: 8472 });
  t.is(udp.checksum, 0);
  const vx = VxlanPacket.checked(udp.payload);
  t.is(vx.flags, 0x08);
  t.deepEqual(parseVxlan(vx), { vni: 1 });
  const innerEth = EthernetFrame.checked(vx.payload);
  t.deepEqual(parseEthernet(innerEth), {
    dst: parseMacAddr("c2:4e:7b:19:8d:02")!,
    src: parseMacAddr("9a:3f:5e:21:07:b4")!,
    ethertype: ETHERTYPE_IPV4,
  });
  const innerIp = Ipv4Packet.checked(innerEth.payload);
  const innerRepr = parseIpv4(innerIp);
  t.is(formatIpv4Addr(innerRepr.src), "10.244.0.2");
  t.is(formatIpv4Addr(innerRepr.dst), "10.244.1.2");
  t.is(innerRepr.ttl, 63);
  t.deepEqual(parseIcmp(IcmpPacket.checked(innerIp.payload)), { kind: "echo-request", ident: 42, seq: 3, data: PING_DATA });
});

test("vxlan header carries a 24-bit vni with reserved bytes zero", (t) => {
  const built = buildVxlan({ vni: 0xabcdef }, hex("aa"));
  t.deepEqual(built, hex("08 00 00 00 ab cd ef 00 aa"));
  t.deepEqual(parseVxlan(VxlanPacket.checked(built)), { vni: 0xabcdef });
});

test("a short vxlan header is truncated and a missing I flag malformed", (t) => {
  const vx = OUTER_FRAME.subarray(42);
  for (const n of [0, 1, 7]) {
    t.is(t.throws(() => VxlanPacket.checked(vx.subarray(0, n)), { instanceOf: WireError })?.kind, "truncated");
  }
  const bad = vx.slice();
  bad[0] = 0x00;
  t.is(t.throws(() => VxlanPacket.checked(bad), { instanceOf: WireError })?.kind, "malformed");
});

test("vxlan parse paths only ever throw WireError", (t) => {
  t.deepEqual(nonWireErrors(OUTER_FRAME.subarray(42, 60), (b) => parseVxlan(VxlanPacket.checked(b))), []);
  // The whole stack, as a receiving node's kernel walks it.
  const walk = (frame: Uint8Array): unknown => {
    const ip = Ipv4Packet.checked(EthernetFrame.checked(frame).payload);
    const ipRepr = parseIpv4(ip);
    const udp = UdpPacket.checked(ip.payload);
    parseUdp(udp, ipRepr.src, ipRepr.dst);
    const inner = Ipv4Packet.checked(EthernetFrame.checked(VxlanPacket.checked(udp.payload).payload).payload);
    parseIpv4(inner);
    return parseIcmp(IcmpPacket.checked(inner.payload));
  };
  t.deepEqual(nonWireErrors(OUTER_FRAME, walk), []);
});
