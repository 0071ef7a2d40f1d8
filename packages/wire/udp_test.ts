import test from "ava";
import { parseIpv4Addr, readU16, writeU16 } from "./address.ts";
import { finishChecksum, pseudoHeaderSum, sumWords } from "./checksum.ts";
import { WireError } from "./error.ts";
import { IPPROTO_UDP } from "./ipv4.ts";
import { buildUdp, emitUdp, parseUdp, UDP_HEADER_LEN, UdpPacket } from "./udp.ts";
import { hex, nonWireErrors } from "./_testing.ts";

const POD = parseIpv4Addr("10.244.1.5")!;
const KUBE_DNS = parseIpv4Addr("10.96.0.10")!;

// A real glibc resolver query from a pod to kube-dns: 10.244.1.5:41234 → 10.96.0.10:53.
const DNS_QUERY = hex(`
  a1 12 00 35 00 48 4a 97 5c 3a 01 00 00 01 00 00 00 00 00 00 14 6e 67 69 6e 78 2d 73 65 72 76 65
  72 2d 73 65 72 76 69 63 65 07 64 65 66 61 75 6c 74 03 73 76 63 07 63 6c 75 73 74 65 72 05 6c 6f
  63 61 6c 00 00 01 00 01
`);

test("udp golden datagram has a correct pseudo-header checksum", (t) => {
  t.is(finishChecksum(sumWords(DNS_QUERY, 0, DNS_QUERY.length, pseudoHeaderSum(POD, KUBE_DNS, IPPROTO_UDP, 72))), 0);
  t.true(UdpPacket.checked(DNS_QUERY).verifyChecksum(POD, KUBE_DNS));
});

test("udp header parses field by field", (t) => {
  const pkt = UdpPacket.checked(DNS_QUERY);
  t.is(pkt.srcPort, 41234);
  t.is(pkt.dstPort, 53);
  t.is(pkt.length, 72);
  t.is(pkt.checksum, 0x4a97);
  t.deepEqual(pkt.payload, DNS_QUERY.subarray(UDP_HEADER_LEN));
  t.deepEqual(parseUdp(pkt, POD, KUBE_DNS), { srcPort: 41234, dstPort: 53 });
});

test("udp datagram is rebuilt byte for byte", (t) => {
  const pkt = UdpPacket.checked(DNS_QUERY);
  t.deepEqual(buildUdp(parseUdp(pkt, POD, KUBE_DNS), pkt.payload, POD, KUBE_DNS), DNS_QUERY);
  const buf = DNS_QUERY.slice();
  buf.fill(0, 0, 8);
  emitUdp({ srcPort: 41234, dstPort: 53 }, buf, POD, KUBE_DNS);
  t.deepEqual(buf, DNS_QUERY);
});

test("a zero udp checksum means none and passes", (t) => {
  const buf = DNS_QUERY.slice();
  writeU16(buf, 6, 0);
  t.deepEqual(parseUdp(UdpPacket.checked(buf), POD, KUBE_DNS), { srcPort: 41234, dstPort: 53 });
  const unchecked = buildUdp({ srcPort: 41234, dstPort: 53 }, DNS_QUERY.subarray(8), POD, KUBE_DNS, { checksum: false });
  t.is(readU16(unchecked, 6), 0);
});

test("a computed zero udp checksum is sent as 0xffff", (t) => {
  const repr = { srcPort: 1000, dstPort: 2000 };
  const probe = buildUdp(repr, new Uint8Array(2), POD, KUBE_DNS);
  // A payload word equal to that checksum makes the ones'-complement sum 0xffff.
  const payload = probe.slice(6, 8);
  const datagram = buildUdp(repr, payload, POD, KUBE_DNS);
  t.is(readU16(datagram, 6), 0xffff);
  t.true(UdpPacket.checked(datagram).verifyChecksum(POD, KUBE_DNS));
});

test("udp setters and fillChecksum rewrite a datagram for NAT", (t) => {
  const buf = DNS_QUERY.slice();
  const pkt = UdpPacket.checked(buf);
  const coredns = parseIpv4Addr("10.244.0.3")!;
  pkt.dstPort = 5353;
  t.false(pkt.verifyChecksum(POD, coredns));
  pkt.fillChecksum(POD, coredns);
  t.deepEqual(parseUdp(pkt, POD, coredns), { srcPort: 41234, dstPort: 5353 });
});

test("bytes after the udp length field are not payload", (t) => {
  const padded = new Uint8Array(DNS_QUERY.length + 6);
  padded.set(DNS_QUERY);
  const pkt = UdpPacket.checked(padded);
  t.is(pkt.payload.length, 64);
  t.true(pkt.verifyChecksum(POD, KUBE_DNS));
});

test("a short udp datagram is refused as truncated", (t) => {
  for (const n of [0, 7, 8, 71]) {
    t.is(t.throws(() => UdpPacket.checked(DNS_QUERY.subarray(0, n)), { instanceOf: WireError })?.kind, "truncated");
  }
});

test("a udp length field below 8 is malformed", (t) => {
  const bad = DNS_QUERY.slice();
  writeU16(bad, 4, 7);
  t.is(t.throws(() => UdpPacket.checked(bad), { instanceOf: WireError })?.kind, "malformed");
});

test("a bad udp checksum is refused unless verification is off", (t) => {
  const pkt = UdpPacket.checked(DNS_QUERY);
  const other = parseIpv4Addr("10.244.1.6")!;
  t.is(t.throws(() => parseUdp(pkt, other, KUBE_DNS), { instanceOf: WireError })?.kind, "checksum");
  t.deepEqual(parseUdp(pkt, other, KUBE_DNS, { verifyChecksum: false }), { srcPort: 41234, dstPort: 53 });
});

test("udp parse paths only ever throw WireError", (t) => {
  t.deepEqual(nonWireErrors(DNS_QUERY, (b) => parseUdp(UdpPacket.checked(b), POD, KUBE_DNS)), []);
});
