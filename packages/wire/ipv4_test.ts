import test from "ava";
import { formatIpv4Addr, parseIpv4Addr } from "./address.ts";
import { checksum } from "./checksum.ts";
import { WireError } from "./error.ts";
import {
  buildIpv4,
  emitIpv4,
  IPPROTO_ICMP,
  IPPROTO_UDP,
  IPV4_HEADER_LEN,
  Ipv4Packet,
  ipv4Defaults,
  parseIpv4,
} from "./ipv4.ts";
import { hex, nonWireErrors } from "./_testing.ts";

// A real `ping 172.17.0.3` echo request from a container on docker0 (Linux
// iputils: DF set, TTL 64, 56 data bytes: a timeval then 0x10..0x37).
const PING = hex(`
  45 00 00 54 8f 3e 40 00 40 01 53 43 ac 11 00 02
  ac 11 00 03 08 00 b1 d6 00 17 00 01 f1 4c 5c 65
  00 00 00 00 2c 8c 0d 00 00 00 00 00 10 11 12 13
  14 15 16 17 18 19 1a 1b 1c 1d 1e 1f 20 21 22 23
  24 25 26 27 28 29 2a 2b 2c 2d 2e 2f 30 31 32 33
  34 35 36 37
`);

test("ipv4 golden header has a correct checksum", (t) => {
  t.is(checksum(PING, 0, IPV4_HEADER_LEN), 0);
  t.true(Ipv4Packet.checked(PING).verifyChecksum());
});

test("ipv4 header parses field by field", (t) => {
  const pkt = Ipv4Packet.checked(PING);
  t.is(pkt.version, 4);
  t.is(pkt.headerLen, 20);
  t.is(pkt.dscp, 0);
  t.is(pkt.ecn, 0);
  t.is(pkt.totalLen, 84);
  t.is(pkt.ident, 0x8f3e);
  t.true(pkt.dontFrag);
  t.false(pkt.moreFrags);
  t.is(pkt.fragOffset, 0);
  t.is(pkt.ttl, 64);
  t.is(pkt.protocol, IPPROTO_ICMP);
  t.is(pkt.checksum, 0x5343);
  t.is(formatIpv4Addr(pkt.src), "172.17.0.2");
  t.is(formatIpv4Addr(pkt.dst), "172.17.0.3");
  t.is(pkt.options.length, 0);
  t.deepEqual(pkt.payload, PING.subarray(20));
  t.deepEqual(parseIpv4(pkt), {
    src: parseIpv4Addr("172.17.0.2")!,
    dst: parseIpv4Addr("172.17.0.3")!,
    protocol: IPPROTO_ICMP,
    ttl: 64,
    payloadLen: 64,
    ident: 0x8f3e,
    dontFrag: true,
    moreFrags: false,
    fragOffset: 0,
    dscp: 0,
    ecn: 0,
  });
});

test("ipv4 datagram is rebuilt byte for byte", (t) => {
  const pkt = Ipv4Packet.checked(PING);
  const { payloadLen: _, ...repr } = parseIpv4(pkt);
  t.deepEqual(buildIpv4(repr, pkt.payload), PING);
  const buf = new Uint8Array(84);
  emitIpv4(parseIpv4(pkt), buf);
  t.deepEqual(buf.subarray(0, 20), PING.subarray(0, 20));
});

test("ipv4Defaults fills Linux's defaults and keeps what is given", (t) => {
  const src = parseIpv4Addr("10.0.0.1")!;
  const dst = parseIpv4Addr("10.0.0.2")!;
  t.deepEqual(ipv4Defaults({ src, dst, protocol: IPPROTO_UDP }), {
    src,
    dst,
    protocol: IPPROTO_UDP,
    ttl: 64,
    ident: 0,
    dontFrag: false,
    moreFrags: false,
    fragOffset: 0,
    dscp: 0,
    ecn: 0,
  });
  const repr = ipv4Defaults({ src, dst, protocol: IPPROTO_ICMP, ident: 0x8f3e, dontFrag: true, payloadLen: 99 });
  t.false("payloadLen" in repr);
  t.is(repr.ident, 0x8f3e);
  t.true(repr.dontFrag);
});

test("ipv4 fragment fields, dscp and ecn round-trip", (t) => {
  const repr = {
    ...ipv4Defaults({ src: 1, dst: 2, protocol: IPPROTO_UDP }),
    moreFrags: true,
    fragOffset: 1480,
    dscp: 46,
    ecn: 2,
  };
  const bytes = buildIpv4(repr, new Uint8Array(8));
  t.is(bytes[1], (46 << 2) | 2);
  t.deepEqual([bytes[6], bytes[7]], [0x20, 0xb9]); // MF | 185 eight-byte units
  t.deepEqual(parseIpv4(Ipv4Packet.checked(bytes)), { ...repr, payloadLen: 8 });
});

test("ipv4 setters and fillChecksum rewrite the header in place", (t) => {
  const buf = PING.slice();
  const pkt = Ipv4Packet.checked(buf);
  pkt.ttl = 63;
  pkt.src = parseIpv4Addr("10.244.0.1")!;
  pkt.dst = parseIpv4Addr("10.244.1.2")!;
  t.false(pkt.verifyChecksum());
  pkt.fillChecksum();
  t.true(pkt.verifyChecksum());
  t.is(checksum(buf, 0, 20), 0);
  t.is(formatIpv4Addr(parseIpv4(pkt).dst), "10.244.1.2");
});

test("ipv4 options and payload are split by IHL", (t) => {
  // IGMP-style header with the Router Alert option (94 04 00 00).
  const buf = hex(`46 c0 00 20 00 00 40 00 01 02 00 00 0a 00 00 01 e0 00 00 16 94 04 00 00 22 00 f9 02 00 00 00 00`);
  const pkt = Ipv4Packet.checked(buf);
  pkt.fillChecksum();
  t.is(pkt.headerLen, 24);
  t.deepEqual(pkt.options, hex("94 04 00 00"));
  t.deepEqual(pkt.payload, buf.subarray(24));
  t.is(parseIpv4(pkt).payloadLen, 8);
});

test("ethernet padding after the total length is not payload", (t) => {
  const padded = new Uint8Array(PING.length + 10);
  padded.set(PING);
  const pkt = Ipv4Packet.checked(padded);
  t.is(pkt.payload.length, 64);
  t.is(parseIpv4(pkt).payloadLen, 64);
});

test("a short ipv4 datagram is refused as truncated", (t) => {
  for (const n of [0, 1, 19, 20, 83]) {
    const err = t.throws(() => Ipv4Packet.checked(PING.subarray(0, n)), { instanceOf: WireError });
    t.is(err?.kind, "truncated", `length ${n}`);
  }
  const longHeader = PING.slice(0, 22);
  longHeader[0] = 0x46;
  t.is(t.throws(() => Ipv4Packet.checked(longHeader), { instanceOf: WireError })?.kind, "truncated");
});

test("bad version, IHL or total length is malformed", (t) => {
  const cases: Array<[string, (b: Uint8Array) => void]> = [
    ["version 6", (b) => (b[0] = 0x65)],
    ["IHL 4", (b) => (b[0] = 0x44)],
    ["total length 19", (b) => (b[3] = 19)],
    ["total length < IHL 6", (b) => ((b[0] = 0x46), (b[3] = 22))],
  ];
  for (const [what, mutate] of cases) {
    const bad = PING.slice();
    mutate(bad);
    const err = t.throws(() => Ipv4Packet.checked(bad), { instanceOf: WireError });
    t.is(err?.kind, "malformed", what);
  }
});

test("a bad header checksum is refused unless verification is off", (t) => {
  const bad = PING.slice();
  bad[8] = 63; // TTL changed without fixing the checksum
  const pkt = Ipv4Packet.checked(bad);
  t.false(pkt.verifyChecksum());
  t.is(t.throws(() => parseIpv4(pkt), { instanceOf: WireError })?.kind, "checksum");
  t.is(parseIpv4(pkt, { verifyChecksum: false }).ttl, 63);
});

test("ipv4 parse paths only ever throw WireError", (t) => {
  t.deepEqual(nonWireErrors(PING, (b) => parseIpv4(Ipv4Packet.checked(b))), []);
  t.deepEqual(nonWireErrors(PING, (b) => parseIpv4(Ipv4Packet.checked(b), { verifyChecksum: false }), { seed: 2 }), []);
});
