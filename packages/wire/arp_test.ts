import test from "ava";
import { formatIpv4Addr, formatMacAddr, MAC_ZERO, parseIpv4Addr, parseMacAddr } from "./address.ts";
import { ARP_LEN, ARP_REPLY, ARP_REQUEST, ArpPacket, buildArp, emitArp, parseArp } from "./arp.ts";
import { WireError } from "./error.ts";
import { hex, nonWireErrors } from "./_testing.ts";

// A real ARP request from a container on docker0 (the Ethernet header and its
// padding stripped): 172.17.0.2 asks for its gateway 172.17.0.1.
const REQUEST = hex(`
  00 01 08 00 06 04 00 01 02 42 ac 11 00 02 ac 11
  00 02 00 00 00 00 00 00 ac 11 00 01
`);
// The bridge's answer: 172.17.0.1 is at 02:42:5c:9d:1e:47.
const REPLY = hex(`
  00 01 08 00 06 04 00 02 02 42 5c 9d 1e 47 ac 11
  00 01 02 42 ac 11 00 02 ac 11 00 02
`);

test("arp request parses field by field", (t) => {
  const repr = parseArp(ArpPacket.checked(REQUEST));
  t.is(repr.operation, ARP_REQUEST);
  t.is(formatMacAddr(repr.senderMac), "02:42:ac:11:00:02");
  t.is(formatIpv4Addr(repr.senderIp), "172.17.0.2");
  t.is(repr.targetMac, MAC_ZERO);
  t.is(formatIpv4Addr(repr.targetIp), "172.17.0.1");
});

test("arp reply parses field by field", (t) => {
  const pkt = ArpPacket.checked(REPLY);
  t.is(pkt.operation, ARP_REPLY);
  t.is(formatMacAddr(pkt.senderMac), "02:42:5c:9d:1e:47");
  t.is(formatIpv4Addr(pkt.senderIp), "172.17.0.1");
  t.is(formatMacAddr(pkt.targetMac), "02:42:ac:11:00:02");
  t.is(formatIpv4Addr(pkt.targetIp), "172.17.0.2");
});

test("arp request and reply are rebuilt byte for byte", (t) => {
  t.deepEqual(buildArp(parseArp(ArpPacket.checked(REQUEST))), REQUEST);
  t.deepEqual(buildArp(parseArp(ArpPacket.checked(REPLY))), REPLY);
  const built = buildArp({
    operation: ARP_REPLY,
    senderMac: parseMacAddr("02:42:5c:9d:1e:47")!,
    senderIp: parseIpv4Addr("172.17.0.1")!,
    targetMac: parseMacAddr("02:42:ac:11:00:02")!,
    targetIp: parseIpv4Addr("172.17.0.2")!,
  });
  t.is(built.length, ARP_LEN);
  t.deepEqual(built, REPLY);
});

test("arp emit writes into a larger buffer and leaves the rest alone", (t) => {
  const buf = new Uint8Array(46).fill(0xee);
  emitArp(parseArp(ArpPacket.checked(REQUEST)), buf);
  t.deepEqual(buf.subarray(0, ARP_LEN), REQUEST);
  t.true(buf.subarray(ARP_LEN).every((b) => b === 0xee));
});

test("arp with ethernet padding after it is accepted", (t) => {
  const padded = new Uint8Array(46);
  padded.set(REQUEST);
  t.is(formatIpv4Addr(ArpPacket.checked(padded).targetIp), "172.17.0.1");
});

test("a short arp packet is refused as truncated", (t) => {
  for (const n of [0, 7, 8, 27]) {
    const err = t.throws(() => ArpPacket.checked(REQUEST.subarray(0, n)), { instanceOf: WireError });
    t.is(err?.kind, "truncated", `length ${n}`);
  }
});

test("arp for other hardware or protocol types is unsupported", (t) => {
  const cases: Array<[number, number]> = [
    [1, 6], // htype 6 (IEEE 802)
    [2, 0x86], // ptype IPv6
    [4, 8], // hlen 8
    [5, 16], // plen 16
  ];
  for (const [offset, value] of cases) {
    const bad = REQUEST.slice();
    bad[offset] = value;
    const err = t.throws(() => ArpPacket.checked(bad), { instanceOf: WireError });
    t.is(err?.kind, "unsupported", `byte ${offset} = ${value}`);
  }
});

test("arp parse paths only ever throw WireError", (t) => {
  t.deepEqual(nonWireErrors(REQUEST, (b) => parseArp(ArpPacket.checked(b))), []);
});
