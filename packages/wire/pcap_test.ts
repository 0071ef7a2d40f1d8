import test from "ava";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAC_BROADCAST, MAC_ZERO, parseIpv4Addr, parseMacAddr } from "./address.ts";
import { ARP_REPLY, ARP_REQUEST, buildArp } from "./arp.ts";
import { WireError } from "./error.ts";
import { buildEthernet, ETHERTYPE_ARP, ETHERTYPE_IPV4 } from "./ethernet.ts";
import { buildIcmp } from "./icmp.ts";
import { buildIpv4, IPPROTO_ICMP, ipv4Defaults } from "./ipv4.ts";
import { LINKTYPE_ETHERNET, PcapWriter, readPcap } from "./pcap.ts";
import { hex, nonWireErrors, toHex } from "./_testing.ts";

const FRAME_A = hex("ff ff ff ff ff ff 02 42 ac 11 00 02 08 06 00 01");
const FRAME_B = hex("02 42 ac 11 00 02 02 42 5c 9d 1e 47 08 06");
const FRAME_C = new Uint8Array(100).map((_, i) => i);

test("pcap global and record headers are written byte for byte", (t) => {
  const w = new PcapWriter();
  t.is(w.count, 0);
  w.add(1500.25, FRAME_A);
  t.is(w.count, 1);
  const bytes = w.toBytes();
  t.is(
    toHex(bytes.subarray(0, 24)),
    "d4 c3 b2 a1 02 00 04 00 00 00 00 00 00 00 00 00 00 00 04 00 01 00 00 00", // magic, 2.4, zone, sigfigs, snaplen 262144, Ethernet
  );
  t.is(toHex(bytes.subarray(24, 40)), "01 00 00 00 1a a2 07 00 10 00 00 00 10 00 00 00"); // 1 s, 500250 µs, 16, 16
  t.deepEqual(bytes.subarray(40), FRAME_A);
});

test("three frames are read back with their timestamps and lengths", (t) => {
  const w = new PcapWriter({ snaplen: 64 });
  w.add(0, FRAME_A);
  w.add(999.9999, FRAME_B); // rounds up to exactly 1 s, never usec 1000000
  w.add(86_400_000.001, FRAME_C); // cut to the 64-byte snaplen
  t.is(w.count, 3);
  const bytes = w.toBytes();
  t.is(toHex(bytes.subarray(16, 20)), "40 00 00 00");
  const second = 24 + 16 + FRAME_A.length;
  t.is(toHex(bytes.subarray(second, second + 8)), "01 00 00 00 00 00 00 00");
  const file = readPcap(bytes);
  t.is(file.linktype, LINKTYPE_ETHERNET);
  t.is(file.snaplen, 64);
  t.deepEqual(
    file.packets.map((p) => [p.timestampMs, p.data.length, p.origLen]),
    [
      [0, 16, 16],
      [1000, 14, 14],
      [86_400_000.001, 64, 100],
    ],
  );
  t.deepEqual(file.packets[0]!.data, FRAME_A);
  t.deepEqual(file.packets[2]!.data, FRAME_C.subarray(0, 64));
});

test("microsecond conversion never rounds to a million", (t) => {
  const w = new PcapWriter();
  const times = [0.0004, 0.0005, 1.001, 999.9995, 1999.9999999, 4_294_967_295_000.5];
  for (const ms of times) w.add(ms, FRAME_A);
  const view = new DataView(w.toBytes().buffer);
  const stamps: Array<[number, number]> = [];
  for (let i = 0, at = 24; i < times.length; i++, at += 16 + FRAME_A.length) {
    stamps.push([view.getUint32(at, true), view.getUint32(at + 4, true)]);
  }
  t.deepEqual(stamps, [
    [0, 0],
    [0, 1],
    [0, 1001],
    [1, 0],
    [2, 0],
    [4_294_967_295, 500],
  ]);
  t.throws(() => w.add(-1, FRAME_A), { instanceOf: RangeError });
});

test("many frames are appended without quadratic copying", (t) => {
  const w = new PcapWriter();
  const frame = new Uint8Array(1514);
  const start = performance.now();
  for (let i = 0; i < 20_000; i++) w.add(i, frame);
  const elapsed = performance.now() - start;
  t.log(`20000 × 1514 B frames in ${elapsed.toFixed(1)} ms`);
  t.is(w.count, 20_000);
  t.is(w.toBytes().length, 24 + 20_000 * (16 + 1514));
  t.true(elapsed < 2000);
});

test("big-endian and nanosecond pcap files are read", (t) => {
  const be = hex(`
    a1 b2 c3 d4 00 02 00 04 00 00 00 00 00 00 00 00 00 00 ff ff 00 00 00 01
    00 00 00 02 00 00 00 07 00 00 00 02 00 00 00 3c aa bb
  `);
  t.deepEqual(readPcap(be), { linktype: 1, snaplen: 65535, packets: [{ timestampMs: 2000.007, data: hex("aa bb"), origLen: 60 }] });
  const nano = hex(`
    4d 3c b2 a1 02 00 04 00 00 00 00 00 00 00 00 00 00 00 04 00 01 00 00 00
    03 00 00 00 40 42 0f 00 01 00 00 00 01 00 00 00 cc
  `);
  t.deepEqual(readPcap(nano).packets, [{ timestampMs: 3001, data: hex("cc"), origLen: 1 }]);
});

test("a cut-short pcap file is truncated and a bad magic malformed", (t) => {
  const w = new PcapWriter();
  w.add(0, FRAME_A);
  const bytes = w.toBytes();
  for (const n of [0, 23, 30, 39, 41]) {
    t.is(t.throws(() => readPcap(bytes.subarray(0, n)), { instanceOf: WireError })?.kind, "truncated", `length ${n}`);
  }
  const pcapng = hex("0a 0d 0d 0a 1c 00 00 00 4d 3c 2b 1a 01 00 00 00 ff ff ff ff ff ff ff ff 1c 00 00 00");
  t.is(t.throws(() => readPcap(pcapng), { instanceOf: WireError })?.kind, "malformed");
});

test("pcap read paths only ever throw WireError", (t) => {
  const w = new PcapWriter();
  w.add(1, FRAME_A);
  w.add(2, FRAME_B);
  t.deepEqual(nonWireErrors(w.toBytes(), readPcap), []);
});

// ARP request and reply, then a ping and its reply, between a container and docker0.
function dockerCapture(): Uint8Array {
  const container = { mac: parseMacAddr("02:42:ac:11:00:02")!, ip: parseIpv4Addr("172.17.0.2")! };
  const bridge = { mac: parseMacAddr("02:42:5c:9d:1e:47")!, ip: parseIpv4Addr("172.17.0.1")! };
  const data = new Uint8Array(56).map((_, i) => (i < 16 ? 0 : i));
  const w = new PcapWriter();
  w.add(
    0,
    buildEthernet(
      { dst: MAC_BROADCAST, src: container.mac, ethertype: ETHERTYPE_ARP },
      buildArp({ operation: ARP_REQUEST, senderMac: container.mac, senderIp: container.ip, targetMac: MAC_ZERO, targetIp: bridge.ip }),
    ),
  );
  w.add(
    0.045,
    buildEthernet(
      { dst: container.mac, src: bridge.mac, ethertype: ETHERTYPE_ARP },
      buildArp({ operation: ARP_REPLY, senderMac: bridge.mac, senderIp: bridge.ip, targetMac: container.mac, targetIp: container.ip }),
    ),
  );
  const echo = (from: typeof container, to: typeof container, kind: "echo-request" | "echo-reply", ms: number): void => {
    const ip = buildIpv4(
      ipv4Defaults({ src: from.ip, dst: to.ip, protocol: IPPROTO_ICMP, ident: 0x8f3e, dontFrag: kind === "echo-request" }),
      buildIcmp({ kind, ident: 0x17, seq: 1, data }),
    );
    w.add(ms, buildEthernet({ dst: to.mac, src: from.mac, ethertype: ETHERTYPE_IPV4 }, ip));
  };
  echo(container, bridge, "echo-request", 0.06);
  echo(bridge, container, "echo-reply", 0.108);
  return w.toBytes();
}

const TSHARK = "/usr/bin/tshark";
const hasTshark = existsSync(TSHARK);

(hasTshark ? test : test.skip)("tshark reads our capture with good checksums and nothing malformed", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "kemu-wire-"));
  try {
    const file = join(dir, "docker0.pcap");
    writeFileSync(file, dockerCapture());
    const run = (...args: string[]): string =>
      execFileSync(TSHARK, ["-r", file, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const summary = run();
    t.log(summary);
    t.regex(summary, /Who has 172\.17\.0\.1\? Tell 172\.17\.0\.2/);
    t.regex(summary, /172\.17\.0\.1 is at 02:42:5c:9d:1e:47/);
    t.regex(summary, /Echo \(ping\) request\s+id=0x0017, seq=1\/256, ttl=64/);
    t.regex(summary, /Echo \(ping\) reply\s+id=0x0017, seq=1\/256, ttl=64 \(request in 3\)/);
    // Wireshark names checksum verdicts "Good" / "Bad" / "Unverified" in its detail view.
    const statuses = run("-o", "ip.check_checksum:TRUE", "-V")
      .split("\n")
      .filter((line) => /checksum status:/i.test(line))
      .map((line) => line.trim());
    t.deepEqual(statuses, [
      "[Header checksum status: Good]",
      "[Checksum Status: Good]",
      "[Header checksum status: Good]",
      "[Checksum Status: Good]",
    ]);
    t.is(run("-Y", "_ws.malformed || _ws.expert.severity >= warning").trim(), "");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
