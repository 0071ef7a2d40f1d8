import test from "ava";
import { parseIpv4Addr } from "./address.ts";
import {
  buildDns,
  DNS_CLASS_IN,
  DNS_RCODE_NOERROR,
  DNS_RCODE_NXDOMAIN,
  DNS_TYPE_A,
  DNS_TYPE_AAAA,
  DNS_TYPE_OPT,
  DNS_TYPE_SOA,
  DNS_TYPE_SRV,
  type DnsMessage,
  dnsRecordType,
  parseDns,
} from "./dns.ts";
import { WireError } from "./error.ts";
import { hex, nonWireErrors, toHex } from "./_testing.ts";

const SERVICE = "nginx-server-service.default.svc.cluster.local";

// A glibc resolver query from a pod (id 0x5c3a, RD only, no EDNS).
const QUERY = hex(`
  5c 3a 01 00 00 01 00 00 00 00 00 00                                // header
  14 6e 67 69 6e 78 2d 73 65 72 76 65 72 2d 73 65 72 76 69 63 65     // nginx-server-service
  07 64 65 66 61 75 6c 74 03 73 76 63 07 63 6c 75 73 74 65 72        // default svc cluster
  05 6c 6f 63 61 6c 00 00 01 00 01                                   // local, A, IN
`);
// CoreDNS's answer: QR AA RD, the answer's name a pointer to the question (c0 0c), TTL 30.
const RESPONSE = hex(`
  5c 3a 85 00 00 01 00 01 00 00 00 00
  14 6e 67 69 6e 78 2d 73 65 72 76 65 72 2d 73 65 72 76 69 63 65
  07 64 65 66 61 75 6c 74 03 73 76 63 07 63 6c 75 73 74 65 72
  05 6c 6f 63 61 6c 00 00 01 00 01
  c0 0c 00 01 00 01 00 00 00 1e 00 04 0a 60 7b 2d                   // A 10.96.123.45
`);
// CoreDNS's NXDOMAIN for foo.default.svc.cluster.local: the zone's SOA in the
// authority section, its owner and both names in its data compressed.
const NXDOMAIN = hex(`
  1d 2e 85 03 00 01 00 00 00 01 00 00
  03 66 6f 6f 07 64 65 66 61 75 6c 74 03 73 76 63 07 63 6c 75 73 74 65 72 05 6c 6f 63 61 6c 00
  00 01 00 01
  c0 1c 00 06 00 01 00 00 00 1e 00 2a                               // cluster.local SOA, TTL 30
  02 6e 73 03 64 6e 73 c0 1c                                         // ns.dns.cluster.local
  0a 68 6f 73 74 6d 61 73 74 65 72 c0 1c                             // hostmaster.cluster.local
  65 53 f1 00 00 00 1c 20 00 00 07 08 00 01 51 80 00 00 00 1e
`);
// An SRV answer for a named port: the SRV target is written in full (RFC 2782
// forbids compressing it) and the additional A record's owner points into the question.
const SRV = hex(`
  7b 01 85 00 00 01 00 01 00 00 00 01
  05 5f 68 74 74 70 04 5f 74 63 70                                   // _http._tcp
  14 6e 67 69 6e 78 2d 73 65 72 76 65 72 2d 73 65 72 76 69 63 65 07 64 65 66 61 75 6c 74 03 73 76 63
  07 63 6c 75 73 74 65 72 05 6c 6f 63 61 6c 00 00 21 00 01
  c0 0c 00 21 00 01 00 00 00 1e 00 36 00 00 00 64 00 50              // SRV 0 100 80
  14 6e 67 69 6e 78 2d 73 65 72 76 65 72 2d 73 65 72 76 69 63 65 07 64 65 66 61 75 6c 74 03 73 76 63
  07 63 6c 75 73 74 65 72 05 6c 6f 63 61 6c 00
  c0 17 00 01 00 01 00 00 00 1e 00 04 0a 60 7b 2d                   // A, owner → offset 0x17
`);
// A recursive answer through a CNAME: the alias target compressed against the question.
const CNAME = hex(`
  00 42 81 80 00 01 00 02 00 00 00 00
  03 77 77 77 07 65 78 61 6d 70 6c 65 03 63 6f 6d 00 00 01 00 01
  c0 0c 00 05 00 01 00 00 01 2c 00 06 03 77 65 62 c0 10             // CNAME web.example.com
  c0 2d 00 01 00 01 00 00 01 2c 00 04 5d b8 d8 22                   // A 93.184.216.34
`);

const header = { opcode: 0, aa: false, tc: false, rd: true, ra: false, rcode: DNS_RCODE_NOERROR };
const none = { answers: [], authorities: [], additionals: [] };

test("a pod's A query parses field by field", (t) => {
  const msg = parseDns(QUERY);
  t.deepEqual(msg, {
    id: 0x5c3a,
    qr: false,
    ...header,
    questions: [{ name: SERVICE, type: DNS_TYPE_A, class: DNS_CLASS_IN }],
    ...none,
  });
  t.deepEqual(buildDns(msg), QUERY);
});

test("coredns's A answer parses and is rebuilt with the c0 0c pointer", (t) => {
  const msg = parseDns(RESPONSE);
  t.deepEqual(msg, {
    id: 0x5c3a,
    qr: true,
    ...header,
    aa: true,
    questions: [{ name: SERVICE, type: DNS_TYPE_A, class: DNS_CLASS_IN }],
    answers: [{ name: SERVICE, class: DNS_CLASS_IN, ttl: 30, data: { kind: "a", address: parseIpv4Addr("10.96.123.45")! } }],
    authorities: [],
    additionals: [],
  });
  const built = buildDns(msg);
  t.is(toHex(built.subarray(64, 66)), "c0 0c");
  t.deepEqual(built, RESPONSE);
});

test("an answer built from scratch matches coredns byte for byte", (t) => {
  const msg: DnsMessage = {
    id: 0x5c3a,
    qr: true,
    opcode: 0,
    aa: true,
    tc: false,
    rd: true,
    ra: false,
    rcode: DNS_RCODE_NOERROR,
    questions: [{ name: SERVICE, type: DNS_TYPE_A, class: DNS_CLASS_IN }],
    answers: [{ name: SERVICE, class: DNS_CLASS_IN, ttl: 30, data: { kind: "a", address: parseIpv4Addr("10.96.123.45")! } }],
    authorities: [],
    additionals: [],
  };
  t.deepEqual(buildDns(msg), RESPONSE);
});

test("nxdomain with an soa parses and compresses names inside the soa", (t) => {
  const msg = parseDns(NXDOMAIN);
  t.is(msg.rcode, DNS_RCODE_NXDOMAIN);
  t.deepEqual(msg.authorities, [
    {
      name: "cluster.local",
      class: DNS_CLASS_IN,
      ttl: 30,
      data: {
        kind: "soa",
        mname: "ns.dns.cluster.local",
        rname: "hostmaster.cluster.local",
        serial: 1700000000,
        refresh: 7200,
        retry: 1800,
        expire: 86400,
        minimum: 30,
      },
    },
  ]);
  t.is(dnsRecordType(msg.authorities[0]!.data), DNS_TYPE_SOA);
  t.deepEqual(buildDns(msg), NXDOMAIN);
});

test("srv answers keep the target whole and point later names at it", (t) => {
  const msg = parseDns(SRV);
  t.deepEqual(msg.questions, [{ name: `_http._tcp.${SERVICE}`, type: DNS_TYPE_SRV, class: DNS_CLASS_IN }]);
  t.deepEqual(msg.answers[0]!.data, { kind: "srv", priority: 0, weight: 100, port: 80, target: SERVICE });
  t.deepEqual(msg.additionals[0], { name: SERVICE, class: DNS_CLASS_IN, ttl: 30, data: { kind: "a", address: parseIpv4Addr("10.96.123.45")! } });
  t.deepEqual(buildDns(msg), SRV);
});

test("cname chains compress the alias target", (t) => {
  const msg = parseDns(CNAME);
  t.true(msg.ra);
  t.deepEqual(msg.answers.map((r) => r.data), [
    { kind: "cname", target: "web.example.com" },
    { kind: "a", address: parseIpv4Addr("93.184.216.34")! },
  ]);
  t.is(msg.answers[1]!.name, "web.example.com");
  t.deepEqual(buildDns(msg), CNAME);
});

test("txt, mx, ptr, aaaa and edns opt records round-trip", (t) => {
  const msg: DnsMessage = {
    id: 1,
    qr: true,
    opcode: 0,
    aa: false,
    tc: false,
    rd: true,
    ra: true,
    rcode: 0,
    ad: true,
    questions: [{ name: "Example.COM", type: 255, class: DNS_CLASS_IN }],
    answers: [
      { name: "Example.COM", class: 1, ttl: 60, data: { kind: "txt", texts: ["v=spf1 -all", "", "caf\u00e9"] } },
      { name: "Example.COM", class: 1, ttl: 60, data: { kind: "mx", preference: 10, exchange: "mail.Example.COM" } },
      { name: "1.0.0.10.in-addr.arpa", class: 1, ttl: 5, data: { kind: "ptr", target: "a\\.b.example.com" } },
      { name: "Example.COM", class: 1, ttl: 60, data: { kind: "raw", type: DNS_TYPE_AAAA, raw: hex("20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01") } },
    ],
    authorities: [],
    additionals: [{ name: "", class: 1232, ttl: 0, data: { kind: "raw", type: DNS_TYPE_OPT, raw: new Uint8Array(0) } }],
  };
  const bytes = buildDns(msg);
  t.deepEqual(parseDns(bytes), msg);
  // "mail.Example.COM" ends in a pointer to the question name (offset 12).
  t.true(toHex(bytes).includes("04 6d 61 69 6c c0 0c"));
  // The escaped dot stays inside one label: 03 'a' '.' 'b'.
  t.true(toHex(bytes).includes("03 61 2e 62 07 65 78 61 6d 70 6c 65"));
});

test("names are case-preserving and compress only exact matches", (t) => {
  const msg: DnsMessage = {
    ...parseDns(QUERY),
    questions: [
      { name: "A.example", type: 1, class: 1 },
      { name: "b.EXAMPLE", type: 1, class: 1 },
      { name: "c.example.", type: 1, class: 1 },
    ],
  };
  const bytes = buildDns(msg);
  t.deepEqual(
    parseDns(bytes).questions.map((q) => q.name),
    ["A.example", "b.EXAMPLE", "c.example"],
  );
  t.is(toHex(bytes.subarray(27, 40)), "01 62 07 45 58 41 4d 50 4c 45 00 00 01");
  t.is(toHex(bytes.subarray(-8)), "01 63 c0 0e 00 01 00 01");
});

test("invalid names are a RangeError at build time", (t) => {
  const build = (name: string): Uint8Array => buildDns({ ...parseDns(QUERY), questions: [{ name, type: 1, class: 1 }] });
  t.throws(() => build("a..b"), { instanceOf: RangeError });
  t.throws(() => build(`${"x".repeat(64)}.com`), { instanceOf: RangeError });
  t.throws(() => build(Array(128).fill("a").join(".")), { instanceOf: RangeError });
  t.throws(() => build("sn\u2603w.com"), { instanceOf: RangeError });
  t.is(build(".").length, 17);
});

test("a short dns message is refused as truncated", (t) => {
  for (const n of [0, 11, 12, 30, 62, 63, 64, 73, 78]) {
    t.is(t.throws(() => parseDns(RESPONSE.subarray(0, n)), { instanceOf: WireError })?.kind, "truncated", `length ${n}`);
  }
});

test("compression pointer loops and forward pointers are malformed", (t) => {
  const base = hex("00 01 01 00 00 01 00 00 00 00 00 00");
  const cases: Array<[string, string]> = [
    ["pointer to itself", "c0 0c 00 01 00 01"],
    ["forward pointer", "c0 0e 00 01 00 01 00"],
    ["two-label loop", "01 61 c0 0c 00 01 00 01"],
    ["reserved label type", "41 61 00 00 01 00 01"],
  ];
  for (const [what, body] of cases) {
    const msg = new Uint8Array([...base, ...hex(body)]);
    t.is(t.throws(() => parseDns(msg), { instanceOf: WireError })?.kind, "malformed", what);
  }
  // A chain of pointers each pointing back one step is fine.
  const chain = hex("00 01 01 00 00 02 00 00 00 00 00 00 01 61 00 00 01 00 01 01 62 c0 0c 00 01 00 01");
  t.deepEqual(parseDns(chain).questions.map((q) => q.name), ["a", "b.a"]);
});

test("names over 255 bytes or 127 labels are malformed", (t) => {
  const base = [0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
  const labels128 = Array.from({ length: 128 }, () => [1, 0x61]).flat();
  const long = [...base, ...labels128, 0, 0, 1, 0, 1];
  t.is(t.throws(() => parseDns(Uint8Array.from(long)), { instanceOf: WireError })?.kind, "malformed");
  // 127 one-byte labels: exactly 255 bytes on the wire, the largest legal name.
  const max = [...base, ...labels128.slice(2), 0, 0, 1, 0, 1];
  t.is(parseDns(Uint8Array.from(max)).questions[0]!.name.split(".").length, 127);
  // Four 63-byte labels reached partly through a pointer: 257 bytes.
  const label63 = [63, ...Array<number>(63).fill(0x62)];
  const viaPointer = [...base.slice(0, 5), 2, ...base.slice(6), ...label63, ...label63, 0, 0, 1, 0, 1, ...label63, ...label63, 0xc0, 12, 0, 1, 0, 1];
  t.is(t.throws(() => parseDns(Uint8Array.from(viaPointer)), { instanceOf: WireError })?.kind, "malformed");
});

test("record data that disagrees with its length is malformed", (t) => {
  const shortA = RESPONSE.slice();
  shortA[75] = 3; // rdlength 3 for an A record
  t.is(t.throws(() => parseDns(shortA), { instanceOf: WireError })?.kind, "malformed");
  const soa = NXDOMAIN.slice();
  soa[58] = 0x29; // SOA rdlength one short: the last number runs past it
  t.is(t.throws(() => parseDns(soa), { instanceOf: WireError })?.kind, "malformed");
  const cname = CNAME.slice();
  cname[44] = 4; // CNAME data ends inside the compressed target name
  t.is(t.throws(() => parseDns(cname), { instanceOf: WireError })?.kind, "malformed");
});

test("dns parse paths only ever throw WireError, and what parses rebuilds", (t) => {
  for (const golden of [QUERY, RESPONSE, NXDOMAIN, SRV, CNAME]) {
    const roundTrip = (b: Uint8Array): void => {
      const msg = parseDns(b);
      const again = parseDns(buildDns(msg));
      if (JSON.stringify(again, (_k, v: unknown) => (v instanceof Uint8Array ? Array.from(v) : v)) !==
        JSON.stringify(msg, (_k, v: unknown) => (v instanceof Uint8Array ? Array.from(v) : v))) {
        throw new Error(`rebuilt message differs for ${toHex(b)}`);
      }
    };
    t.deepEqual(nonWireErrors(golden, roundTrip), []);
  }
});
