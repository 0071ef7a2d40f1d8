import test from "ava";
import { parseIpv4Addr } from "./address.ts";
import { finishChecksum, pseudoHeaderSum, sumWords } from "./checksum.ts";
import { WireError } from "./error.ts";
import { IPPROTO_TCP } from "./ipv4.ts";
import {
  buildTcp,
  emitTcp,
  parseTcp,
  TCP_ACK,
  TCP_FIN,
  TCP_HEADER_LEN,
  TCP_PSH,
  TCP_SYN,
  tcpHeaderLen,
  TcpPacket,
  type TcpRepr,
} from "./tcp.ts";
import { hex, nonWireErrors, toHex } from "./_testing.ts";

const CLIENT = parseIpv4Addr("10.0.0.1")!;
const SERVER = parseIpv4Addr("10.0.0.2")!;

// A real Linux SYN (`curl http://10.0.0.2/` from 10.0.0.1:45678): window
// 64240, options MSS 1460, SACK permitted, timestamps, NOP, window scale 7.
const SYN = hex(`
  b2 6e 00 50 8c 1f 3a 2b 00 00 00 00 a0 02 fa f0 69 8b 00 00 02 04 05 b4 04 02 08 0a 1a 2b 3c 4d
  00 00 00 00 01 03 03 07
`);
// The same connection's request: PSH|ACK with NOP NOP timestamps and the HTTP request.
const GET = hex(`
  b2 6e 00 50 8c 1f 3a 2c 5e 6f 70 81 80 18 01 f6 0c 0e 00 00 01 01 08 0a 1a 2b 3c 5a 7e 8f 9a 0b
  47 45 54 20 2f 20 48 54 54 50 2f 31 2e 31 0d 0a 48 6f 73 74 3a 20 31 30 2e 30 2e 30 2e 32 0d 0a
  0d 0a
`);

const SYN_REPR: TcpRepr = {
  srcPort: 45678,
  dstPort: 80,
  seq: 0x8c1f3a2b,
  ack: 0,
  flags: TCP_SYN,
  window: 64240,
  urgent: 0,
  options: { mss: 1460, sackPermitted: true, timestamp: { tsval: 0x1a2b3c4d, tsecr: 0 }, windowScale: 7 },
};

function tcpSum(seg: Uint8Array, src: number, dst: number): number {
  return finishChecksum(sumWords(seg, 0, seg.length, pseudoHeaderSum(src, dst, IPPROTO_TCP, seg.length)));
}

test("tcp golden segments have correct pseudo-header checksums", (t) => {
  t.is(tcpSum(SYN, CLIENT, SERVER), 0);
  t.is(tcpSum(GET, CLIENT, SERVER), 0);
});

test("linux syn parses field by field", (t) => {
  const pkt = TcpPacket.checked(SYN);
  t.is(pkt.srcPort, 45678);
  t.is(pkt.dstPort, 80);
  t.is(pkt.seq, 0x8c1f3a2b);
  t.is(pkt.ack, 0);
  t.is(pkt.headerLen, 40);
  t.is(pkt.flags, TCP_SYN);
  t.is(pkt.window, 64240);
  t.is(pkt.checksum, 0x698b);
  t.is(pkt.urgent, 0);
  t.deepEqual(pkt.options, SYN.subarray(20, 40));
  t.is(pkt.payload.length, 0);
  t.deepEqual(parseTcp(pkt, CLIENT, SERVER), SYN_REPR);
});

test("linux syn is rebuilt byte for byte in linux's option order", (t) => {
  const built = buildTcp(SYN_REPR, new Uint8Array(0), CLIENT, SERVER);
  t.is(toHex(built.subarray(20)), "02 04 05 b4 04 02 08 0a 1a 2b 3c 4d 00 00 00 00 01 03 03 07");
  t.deepEqual(built, SYN);
});

test("a data segment with timestamps parses and is rebuilt byte for byte", (t) => {
  const pkt = TcpPacket.checked(GET);
  const repr = parseTcp(pkt, CLIENT, SERVER);
  t.deepEqual(repr, {
    srcPort: 45678,
    dstPort: 80,
    seq: 0x8c1f3a2c,
    ack: 0x5e6f7081,
    flags: TCP_PSH | TCP_ACK,
    window: 502,
    urgent: 0,
    options: { timestamp: { tsval: 0x1a2b3c5a, tsecr: 0x7e8f9a0b } },
  });
  t.is(new TextDecoder().decode(pkt.payload), "GET / HTTP/1.1\r\nHost: 10.0.0.2\r\n\r\n");
  t.deepEqual(buildTcp(repr, pkt.payload, CLIENT, SERVER), GET);
  const buf = GET.slice();
  buf.fill(0, 0, 32);
  emitTcp(repr, buf, CLIENT, SERVER);
  t.deepEqual(buf, GET);
});

test("options are laid out 32-bit aligned as linux writes them", (t) => {
  const base: TcpRepr = { srcPort: 80, dstPort: 45678, seq: 1, ack: 2, flags: TCP_ACK, window: 509, urgent: 0, options: {} };
  const layout = (options: TcpRepr["options"]): string => toHex(buildTcp({ ...base, options }, new Uint8Array(0), SERVER, CLIENT).subarray(TCP_HEADER_LEN));
  t.is(layout({}), "");
  t.is(layout({ mss: 1410 }), "02 04 05 82");
  t.is(layout({ sackPermitted: true }), "01 01 04 02");
  t.is(layout({ windowScale: 9 }), "01 03 03 09");
  t.is(layout({ mss: 1460, sackPermitted: true, windowScale: 7 }), "02 04 05 b4 01 01 04 02 01 03 03 07");
  t.is(layout({ timestamp: { tsval: 1, tsecr: 2 } }), "01 01 08 0a 00 00 00 01 00 00 00 02");
  t.is(
    layout({ timestamp: { tsval: 1, tsecr: 2 }, sack: [[1000, 2000], [3000, 4000]] }),
    "01 01 08 0a 00 00 00 01 00 00 00 02 01 01 05 12 00 00 03 e8 00 00 07 d0 00 00 0b b8 00 00 0f a0",
  );
});

test("sack blocks and every option round-trip", (t) => {
  const repr: TcpRepr = {
    srcPort: 80,
    dstPort: 45678,
    seq: 0xfffffff0,
    ack: 0x80000000,
    flags: TCP_ACK | TCP_FIN,
    window: 65535,
    urgent: 0,
    options: { timestamp: { tsval: 0xffffffff, tsecr: 7 }, sack: [[0xfffffff0, 0x10]] },
  };
  const seg = buildTcp(repr, hex("de ad"), SERVER, CLIENT);
  t.is(tcpHeaderLen(repr), 20 + 12 + 12);
  t.is(tcpSum(seg, SERVER, CLIENT), 0);
  t.deepEqual(parseTcp(TcpPacket.checked(seg), SERVER, CLIENT), repr);
});

test("too many options for 40 bytes is a RangeError at build time", (t) => {
  const sack: Array<[number, number]> = [[1, 2], [3, 4], [5, 6], [7, 8]];
  t.throws(() => buildTcp({ ...SYN_REPR, options: { timestamp: { tsval: 1, tsecr: 2 }, sack } }, new Uint8Array(0), CLIENT, SERVER), {
    instanceOf: RangeError,
  });
});

test("unknown options are skipped and EOL ends the list", (t) => {
  // MSS, an unknown kind 30 of length 4, EOL, then bytes that must not be read as options.
  const seg = hex(`b2 6e 00 50 00 00 00 01 00 00 00 00 80 02 fa f0 00 00 00 00 02 04 05 b4 1e 04 aa bb 00 08 0a 00`);
  const pkt = TcpPacket.checked(seg);
  pkt.fillChecksum(CLIENT, SERVER);
  t.deepEqual(parseTcp(pkt, CLIENT, SERVER).options, { mss: 1460 });
});

test("setters and fillChecksum rewrite a segment for NAT", (t) => {
  const buf = SYN.slice();
  const pkt = TcpPacket.checked(buf);
  const pod = parseIpv4Addr("10.244.1.7")!;
  pkt.dstPort = 8080;
  t.false(pkt.verifyChecksum(CLIENT, pod));
  pkt.fillChecksum(CLIENT, pod);
  t.deepEqual(parseTcp(pkt, CLIENT, pod), { ...SYN_REPR, dstPort: 8080 });
});

test("a short tcp segment is refused as truncated", (t) => {
  for (const n of [0, 19, 20, 39]) {
    t.is(t.throws(() => TcpPacket.checked(SYN.subarray(0, n)), { instanceOf: WireError })?.kind, "truncated", `length ${n}`);
  }
});

test("bad data offset or option lengths are malformed", (t) => {
  const cases: Array<[string, (b: Uint8Array) => void]> = [
    ["data offset 4", (b) => (b[12] = 0x40)],
    ["option length 0", (b) => (b[21] = 0)],
    ["option length 1", (b) => (b[21] = 1)],
    ["option past the header", (b) => (b[38] = 9)], // window scale claims 9 bytes
    ["kind without a length byte", (b) => ((b[36] = 1), (b[37] = 1), (b[38] = 1), (b[39] = 3))],
  ];
  for (const [what, mutate] of cases) {
    const bad = SYN.slice();
    mutate(bad);
    t.is(t.throws(() => TcpPacket.checked(bad), { instanceOf: WireError })?.kind, "malformed", what);
  }
  const badMss = SYN.slice();
  badMss.set(hex("02 03 05 01"), 20); // MSS with length 3, followed by a NOP
  const pkt = TcpPacket.checked(badMss);
  t.is(t.throws(() => parseTcp(pkt, CLIENT, SERVER, { verifyChecksum: false }), { instanceOf: WireError })?.kind, "malformed");
});

test("a bad tcp checksum is refused unless verification is off", (t) => {
  const pkt = TcpPacket.checked(SYN);
  const elsewhere = parseIpv4Addr("10.0.0.3")!;
  t.is(t.throws(() => parseTcp(pkt, CLIENT, elsewhere), { instanceOf: WireError })?.kind, "checksum");
  t.deepEqual(parseTcp(pkt, CLIENT, elsewhere, { verifyChecksum: false }), SYN_REPR);
});

test("tcp parse paths only ever throw WireError", (t) => {
  for (const golden of [SYN, GET]) {
    t.deepEqual(nonWireErrors(golden, (b) => parseTcp(TcpPacket.checked(b), CLIENT, SERVER)), []);
    t.deepEqual(nonWireErrors(golden, (b) => parseTcp(TcpPacket.checked(b), CLIENT, SERVER, { verifyChecksum: false }), { seed: 5 }), []);
  }
});
