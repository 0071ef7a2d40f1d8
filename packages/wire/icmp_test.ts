import test from "ava";
import { checksum } from "./checksum.ts";
import { WireError } from "./error.ts";
import {
  buildIcmp,
  emitIcmp,
  ICMP_DEST_UNREACH,
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  ICMP_ERROR_QUOTE_MAX,
  ICMP_EXC_TTL,
  ICMP_FRAG_NEEDED,
  ICMP_PORT_UNREACH,
  ICMP_TIME_EXCEEDED,
  icmpLen,
  IcmpPacket,
  icmpQuote,
  type IcmpRepr,
  parseIcmp,
} from "./icmp.ts";
import { Ipv4Packet } from "./ipv4.ts";
import { hex, nonWireErrors } from "./_testing.ts";

// Linux iputils ping data: a 16-byte timeval, then 0x10..0x37.
const PING_DATA = hex(`
  f1 4c 5c 65 00 00 00 00 2c 8c 0d 00 00 00 00 00 10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f
  20 21 22 23 24 25 26 27 28 29 2a 2b 2c 2d 2e 2f 30 31 32 33 34 35 36 37
`);
// The ICMP part of a real `ping 172.17.0.3` request and its reply.
const ECHO_REQUEST = hex(`08 00 b1 d6 00 17 00 01`);
const ECHO_REPLY = hex(`00 00 b9 d6 00 17 00 01`);
function withData(header: Uint8Array): Uint8Array {
  const out = new Uint8Array(header.length + PING_DATA.length);
  out.set(header);
  out.set(PING_DATA, header.length);
  return out;
}
const REQUEST = withData(ECHO_REQUEST);
const REPLY = withData(ECHO_REPLY);

// Port unreachable for `echo hello | nc -u 10.244.2.7 9999`, quoting the
// whole offending datagram as Linux does.
const PROBE = hex(`
  45 00 00 22 4d 2a 40 00 40 11 d4 ad 0a f4 01 05 0a f4 02 07 a0 28 27 0f 00 0e db ca 68 65 6c 6c
  6f 0a
`);
const PORT_UNREACH = hex(`
  03 03 16 10 00 00 00 00 45 00 00 22 4d 2a 40 00 40 11 d4 ad 0a f4 01 05 0a f4 02 07 a0 28 27 0f
  00 0e db ca 68 65 6c 6c 6f 0a
`);
// Fragmentation needed with next-hop MTU 1450 (a flannel VXLAN link), quoting header + 8 bytes.
const FRAG_NEEDED = hex(`
  03 04 54 41 00 00 05 aa 45 00 00 22 4d 2a 40 00 40 11 d4 ad 0a f4 01 05 0a f4 02 07 a0 28 27 0f
  00 0e db ca
`);
// TTL exceeded in transit for a Linux traceroute probe (UDP to 33434, TTL 1).
const TIME_EXCEEDED = hex(`
  0b 00 0b 93 00 00 00 00 45 00 00 3c 7a 11 00 00 01 11 29 47 0a f4 01 05 0a 60 00 01 ac 5b 82 9a
  00 28 c5 49 40 41 42 43 44 45 46 47 48 49 4a 4b 4c 4d 4e 4f 50 51 52 53 54 55 56 57 58 59 5a 5b
  5c 5d 5e 5f
`);

const GOLDEN = { REQUEST, REPLY, PORT_UNREACH, FRAG_NEEDED, TIME_EXCEEDED };

test("icmp golden messages have correct checksums", (t) => {
  for (const [name, bytes] of Object.entries(GOLDEN)) {
    t.is(checksum(bytes), 0, name);
    t.true(IcmpPacket.checked(bytes).verifyChecksum(), name);
  }
  t.is(checksum(PROBE, 0, 20), 0);
});

test("icmp echo request parses field by field", (t) => {
  const pkt = IcmpPacket.checked(REQUEST);
  t.is(pkt.type, ICMP_ECHO_REQUEST);
  t.is(pkt.code, 0);
  t.is(pkt.checksum, 0xb1d6);
  t.deepEqual(parseIcmp(pkt), { kind: "echo-request", ident: 0x17, seq: 1, data: PING_DATA });
  const reply = IcmpPacket.checked(REPLY);
  t.is(reply.type, ICMP_ECHO_REPLY);
  t.deepEqual(parseIcmp(reply), { kind: "echo-reply", ident: 0x17, seq: 1, data: PING_DATA });
});

test("icmp echo request and reply are rebuilt byte for byte", (t) => {
  t.deepEqual(buildIcmp({ kind: "echo-request", ident: 0x17, seq: 1, data: PING_DATA }), REQUEST);
  t.deepEqual(buildIcmp(parseIcmp(IcmpPacket.checked(REPLY))), REPLY);
});

test("port unreachable parses and quotes the offending datagram", (t) => {
  const pkt = IcmpPacket.checked(PORT_UNREACH);
  t.is(pkt.type, ICMP_DEST_UNREACH);
  t.is(pkt.code, ICMP_PORT_UNREACH);
  const repr = parseIcmp(pkt);
  t.deepEqual(repr, { kind: "dest-unreachable", code: ICMP_PORT_UNREACH, nextHopMtu: 0, original: PROBE });
  if (repr.kind !== "dest-unreachable") return t.fail();
  const quoted = Ipv4Packet.checked(repr.original);
  t.is(quoted.protocol, 17);
  t.is(quoted.payload.length, 14);
  t.deepEqual(buildIcmp(repr), PORT_UNREACH);
  t.deepEqual(buildIcmp({ kind: "dest-unreachable", code: ICMP_PORT_UNREACH, nextHopMtu: 0, original: icmpQuote(PROBE) }), PORT_UNREACH);
});

test("frag-needed carries the next-hop MTU", (t) => {
  const repr = parseIcmp(IcmpPacket.checked(FRAG_NEEDED));
  t.deepEqual(repr, { kind: "dest-unreachable", code: ICMP_FRAG_NEEDED, nextHopMtu: 1450, original: PROBE.subarray(0, 28) });
  t.deepEqual(buildIcmp(repr), FRAG_NEEDED);
});

test("time exceeded parses and is rebuilt byte for byte", (t) => {
  const pkt = IcmpPacket.checked(TIME_EXCEEDED);
  t.is(pkt.type, ICMP_TIME_EXCEEDED);
  const repr = parseIcmp(pkt);
  t.is(repr.kind, "time-exceeded");
  if (repr.kind !== "time-exceeded") return;
  t.is(repr.code, ICMP_EXC_TTL);
  t.is(Ipv4Packet.checked(repr.original).ttl, 1);
  t.deepEqual(buildIcmp(repr), TIME_EXCEEDED);
});

test("other icmp types keep their bytes after the checksum", (t) => {
  // Timestamp request (type 13): ident, seq and three timestamps.
  const repr: IcmpRepr = { kind: "other", type: 13, code: 0, rest: hex("00 2a 00 01 00 5b 8d 80 00 00 00 00 00 00 00 00") };
  const bytes = buildIcmp(repr);
  t.is(bytes.length, icmpLen(repr));
  t.is(checksum(bytes), 0);
  t.deepEqual(parseIcmp(IcmpPacket.checked(bytes)), repr);
});

test("an echo with a non-zero code is kept whole as other", (t) => {
  const odd = buildIcmp({ kind: "other", type: ICMP_ECHO_REQUEST, code: 1, rest: REQUEST.subarray(4) });
  const repr = parseIcmp(IcmpPacket.checked(odd));
  t.is(repr.kind, "other");
  t.deepEqual(buildIcmp(repr), odd);
});

test("emitIcmp writes only icmpLen bytes of a larger buffer", (t) => {
  const repr = parseIcmp(IcmpPacket.checked(REQUEST));
  const buf = new Uint8Array(icmpLen(repr) + 4).fill(0xee);
  emitIcmp(repr, buf);
  t.deepEqual(buf.subarray(0, icmpLen(repr)), REQUEST);
  t.deepEqual(buf.subarray(icmpLen(repr)), hex("ee ee ee ee"));
});

test("icmpQuote keeps at most 548 bytes, as Linux does", (t) => {
  t.is(icmpQuote(new Uint8Array(1500)).length, ICMP_ERROR_QUOTE_MAX);
  t.is(icmpQuote(PROBE).length, PROBE.length);
});

test("a short icmp message is refused as truncated", (t) => {
  for (const n of [0, 4, 7]) {
    t.is(t.throws(() => IcmpPacket.checked(REQUEST.subarray(0, n)), { instanceOf: WireError })?.kind, "truncated");
  }
});

test("a bad icmp checksum is refused unless verification is off", (t) => {
  const bad = REQUEST.slice();
  bad[bad.length - 1] = 0x99; // was 0x37
  const pkt = IcmpPacket.checked(bad);
  t.is(t.throws(() => parseIcmp(pkt), { instanceOf: WireError })?.kind, "checksum");
  t.is(parseIcmp(pkt, { verifyChecksum: false }).kind, "echo-request");
  pkt.fillChecksum();
  t.is(parseIcmp(pkt).kind, "echo-request");
});

test("icmp parse paths only ever throw WireError", (t) => {
  for (const golden of Object.values(GOLDEN)) {
    t.deepEqual(nonWireErrors(golden, (b) => parseIcmp(IcmpPacket.checked(b))), []);
    t.deepEqual(nonWireErrors(golden, (b) => parseIcmp(IcmpPacket.checked(b), { verifyChecksum: false }), { seed: 7 }), []);
  }
});
