/**
 * DNS messages (RFC 1035) with name compression, as a stub resolver sends
 * them and CoreDNS answers them. Names are presentation text without the
 * trailing dot ("" is the root); a literal `.` or `\` inside a label is
 * escaped as `\.` or `\\`, and other bytes map one-to-one to char codes 0–255.
 */
import { type Ipv4Addr, readIpv4, readU16, readU32, writeIpv4 } from "./address.ts";
import { needBytes, WireError } from "./error.ts";

/** Record type: IPv4 address. */
export const DNS_TYPE_A = 1;
/** Record type: authoritative name server. */
export const DNS_TYPE_NS = 2;
/** Record type: canonical name (alias). */
export const DNS_TYPE_CNAME = 5;
/** Record type: start of authority, in the authority section of negative answers. */
export const DNS_TYPE_SOA = 6;
/** Record type: domain name pointer (reverse lookups). */
export const DNS_TYPE_PTR = 12;
/** Record type: mail exchange. */
export const DNS_TYPE_MX = 15;
/** Record type: text strings. */
export const DNS_TYPE_TXT = 16;
/** Record type: IPv6 address (carried as raw data). */
export const DNS_TYPE_AAAA = 28;
/** Record type: service location, as Kubernetes publishes for named ports. */
export const DNS_TYPE_SRV = 33;
/** Record type: EDNS(0) OPT pseudo-record (carried as raw data). */
export const DNS_TYPE_OPT = 41;
/** Query type: any records. */
export const DNS_TYPE_ANY = 255;

/** Class: Internet. */
export const DNS_CLASS_IN = 1;

/** Response code: no error. */
export const DNS_RCODE_NOERROR = 0;
/** Response code: the server could not parse the query. */
export const DNS_RCODE_FORMERR = 1;
/** Response code: the server failed. */
export const DNS_RCODE_SERVFAIL = 2;
/** Response code: the name does not exist. */
export const DNS_RCODE_NXDOMAIN = 3;
/** Response code: the server does not implement the query kind. */
export const DNS_RCODE_NOTIMP = 4;
/** Response code: the server refuses to answer. */
export const DNS_RCODE_REFUSED = 5;

/** Length of the DNS message header. */
export const DNS_HEADER_LEN = 12;
/** The DNS UDP and TCP port. */
export const DNS_PORT = 53;

const MAX_LABEL_LEN = 63;
const MAX_NAME_WIRE_LEN = 255;
const MAX_LABELS = 127;
const MAX_POINTER = 0x3fff;

/** A question: which name, record type and class is asked for. */
export interface DnsQuestion {
  name: string;
  type: number;
  class: number;
}

/**
 * Record data, discriminated by `kind` rather than the numeric type so that a
 * `switch (data.kind)` narrows (a numeric catch-all would defeat narrowing on
 * `type`). `dnsRecordType` gives the numeric type; any type without its own
 * kind (AAAA, OPT, …) is `{ kind: "raw", type, raw }`. TXT strings, like
 * labels, hold one byte per char code (0–255), not UTF-8.
 */
export type DnsRecordData =
  | { kind: "a"; address: Ipv4Addr }
  | { kind: "ns" | "cname" | "ptr"; target: string }
  | { kind: "mx"; preference: number; exchange: string }
  | { kind: "srv"; priority: number; weight: number; port: number; target: string }
  | { kind: "txt"; texts: string[] }
  | {
      kind: "soa";
      mname: string;
      rname: string;
      serial: number;
      refresh: number;
      retry: number;
      expire: number;
      minimum: number;
    }
  | { kind: "raw"; type: number; raw: Uint8Array };

/** A resource record; its type is that of its data (see `dnsRecordType`). */
export interface DnsRecord {
  name: string;
  class: number;
  ttl: number;
  data: DnsRecordData;
}

/** A whole DNS message: header fields and the four sections. */
export interface DnsMessage {
  id: number;
  /** True for a response. */
  qr: boolean;
  opcode: number;
  /** Authoritative answer. */
  aa: boolean;
  /** Truncated: retry over TCP. */
  tc: boolean;
  /** Recursion desired. */
  rd: boolean;
  /** Recursion available. */
  ra: boolean;
  rcode: number;
  /** Authentic data (RFC 4035), as dig sets on queries; parse includes it only when set. */
  ad?: boolean | undefined;
  /** Checking disabled (RFC 4035); parse includes it only when set. */
  cd?: boolean | undefined;
  questions: DnsQuestion[];
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
}

/** The numeric record type of `data`: DNS_TYPE_A for `{ kind: "a" }`, and so on. */
export function dnsRecordType(data: DnsRecordData): number {
  switch (data.kind) {
    case "a":
      return DNS_TYPE_A;
    case "ns":
      return DNS_TYPE_NS;
    case "cname":
      return DNS_TYPE_CNAME;
    case "ptr":
      return DNS_TYPE_PTR;
    case "mx":
      return DNS_TYPE_MX;
    case "srv":
      return DNS_TYPE_SRV;
    case "txt":
      return DNS_TYPE_TXT;
    case "soa":
      return DNS_TYPE_SOA;
    case "raw":
      return data.type;
  }
}

// ---- parsing ----

function malformed(message: string): WireError {
  return new WireError("dns", "malformed", message);
}

function truncated(message: string): WireError {
  return new WireError("dns", "truncated", message);
}

function decodeLabel(buf: Uint8Array, start: number, len: number): string {
  let s = "";
  for (let i = start; i < start + len; i++) {
    const b = buf[i]!;
    s += b === 0x2e ? "\\." : b === 0x5c ? "\\\\" : String.fromCharCode(b);
  }
  return s;
}

/**
 * Reads the name at `offset`, following compression pointers. Each pointer
 * must point strictly before the run of labels it ends, which rules out
 * loops. The labels before the first pointer must end by `limit`.
 */
function readName(buf: Uint8Array, offset: number, limit: number): { name: string; end: number } {
  const labels: string[] = [];
  let wireLen = 1;
  let pos = offset;
  let runStart = offset;
  let end = -1;
  for (;;) {
    const bound = end < 0 ? limit : buf.length;
    if (pos >= bound) throw bound === buf.length ? truncated("name runs past the message") : malformed("name runs past its record");
    const len = buf[pos]!;
    if (len === 0) {
      if (end < 0) end = pos + 1;
      return { name: labels.join("."), end };
    }
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= bound) throw bound === buf.length ? truncated("pointer cut short") : malformed("pointer runs past its record");
      const target = ((len & 0x3f) << 8) | buf[pos + 1]!;
      if (end < 0) end = pos + 2;
      if (target >= runStart) throw malformed(`compression pointer to ${target} does not point back`);
      pos = runStart = target;
      continue;
    }
    if ((len & 0xc0) !== 0) throw malformed(`label type 0x${(len & 0xc0).toString(16)}`);
    if (pos + 1 + len > bound) throw bound === buf.length ? truncated("label cut short") : malformed("label runs past its record");
    wireLen += 1 + len;
    if (wireLen > MAX_NAME_WIRE_LEN) throw malformed("name longer than 255 bytes");
    if (labels.length === MAX_LABELS) throw malformed("name has more than 127 labels");
    labels.push(decodeLabel(buf, pos + 1, len));
    pos += 1 + len;
  }
}

function readRecordData(buf: Uint8Array, type: number, start: number, end: number): DnsRecordData {
  const len = end - start;
  const expectLen = (n: number): void => {
    if (len !== n) throw malformed(`type ${type} record data of ${len} bytes, expected ${n}`);
  };
  const nameAt = (offset: number): { name: string; end: number } => readName(buf, offset, end);
  switch (type) {
    case DNS_TYPE_A:
      expectLen(4);
      return { kind: "a", address: readIpv4(buf, start) };
    case DNS_TYPE_NS:
    case DNS_TYPE_CNAME:
    case DNS_TYPE_PTR: {
      const target = nameAt(start);
      expectLen(target.end - start);
      const kind = type === DNS_TYPE_NS ? "ns" : type === DNS_TYPE_CNAME ? "cname" : "ptr";
      return { kind, target: target.name };
    }
    case DNS_TYPE_MX: {
      if (len < 3) throw malformed(`MX record data of ${len} bytes`);
      const exchange = nameAt(start + 2);
      expectLen(exchange.end - start);
      return { kind: "mx", preference: readU16(buf, start), exchange: exchange.name };
    }
    case DNS_TYPE_SRV: {
      if (len < 7) throw malformed(`SRV record data of ${len} bytes`);
      const target = nameAt(start + 6);
      expectLen(target.end - start);
      return {
        kind: "srv",
        priority: readU16(buf, start),
        weight: readU16(buf, start + 2),
        port: readU16(buf, start + 4),
        target: target.name,
      };
    }
    case DNS_TYPE_TXT: {
      const texts: string[] = [];
      let pos = start;
      while (pos < end) {
        const n = buf[pos]!;
        if (pos + 1 + n > end) throw malformed("TXT string runs past its record");
        let s = "";
        for (let i = pos + 1; i < pos + 1 + n; i++) s += String.fromCharCode(buf[i]!);
        texts.push(s);
        pos += 1 + n;
      }
      return { kind: "txt", texts };
    }
    case DNS_TYPE_SOA: {
      const mname = nameAt(start);
      const rname = nameAt(mname.end);
      expectLen(rname.end + 20 - start);
      const at = rname.end;
      return {
        kind: "soa",
        mname: mname.name,
        rname: rname.name,
        serial: readU32(buf, at),
        refresh: readU32(buf, at + 4),
        retry: readU32(buf, at + 8),
        expire: readU32(buf, at + 12),
        minimum: readU32(buf, at + 16),
      };
    }
    default:
      return { kind: "raw", type, raw: buf.slice(start, end) };
  }
}

function readRecords(buf: Uint8Array, pos: number, count: number, out: DnsRecord[]): number {
  for (let i = 0; i < count; i++) {
    const name = readName(buf, pos, buf.length);
    pos = name.end;
    if (pos + 10 > buf.length) throw truncated("record header cut short");
    const type = readU16(buf, pos);
    const cls = readU16(buf, pos + 2);
    const ttl = readU32(buf, pos + 4);
    const rdlength = readU16(buf, pos + 8);
    pos += 10;
    if (pos + rdlength > buf.length) throw truncated(`record data of ${rdlength} bytes cut short`);
    out.push({ name: name.name, class: cls, ttl, data: readRecordData(buf, type, pos, pos + rdlength) });
    pos += rdlength;
  }
  return pos;
}

/**
 * Parses a whole DNS message (the UDP payload). Throws "truncated" when the
 * message ends early and "malformed" for bad names (pointer loops or forward
 * pointers, labels over 63 bytes, names over 255 bytes or 127 labels) or
 * record data that disagrees with its length. Trailing bytes are ignored.
 */
export function parseDns(buf: Uint8Array): DnsMessage {
  needBytes("dns", buf, DNS_HEADER_LEN);
  const flags = readU16(buf, 2);
  const msg: DnsMessage = {
    id: readU16(buf, 0),
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >>> 11) & 0xf,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    rcode: flags & 0xf,
    questions: [],
    answers: [],
    authorities: [],
    additionals: [],
  };
  if (flags & 0x0020) msg.ad = true;
  if (flags & 0x0010) msg.cd = true;
  let pos = DNS_HEADER_LEN;
  const qdcount = readU16(buf, 4);
  for (let i = 0; i < qdcount; i++) {
    const name = readName(buf, pos, buf.length);
    pos = name.end;
    if (pos + 4 > buf.length) throw truncated("question cut short");
    msg.questions.push({ name: name.name, type: readU16(buf, pos), class: readU16(buf, pos + 2) });
    pos += 4;
  }
  pos = readRecords(buf, pos, readU16(buf, 6), msg.answers);
  pos = readRecords(buf, pos, readU16(buf, 8), msg.authorities);
  readRecords(buf, pos, readU16(buf, 10), msg.additionals);
  return msg;
}

// ---- building ----

/** Splits presentation text into label strings (escapes kept) and their bytes. */
function splitName(name: string): Array<{ text: string; bytes: number[] }> {
  if (name === "" || name === ".") return [];
  const labels: Array<{ text: string; bytes: number[] }> = [];
  let text = "";
  let bytes: number[] = [];
  let i = 0;
  const finish = (): void => {
    if (bytes.length === 0) throw new RangeError(`dns: empty label in ${JSON.stringify(name)}`);
    if (bytes.length > MAX_LABEL_LEN) throw new RangeError(`dns: label longer than 63 bytes in ${JSON.stringify(name)}`);
    labels.push({ text, bytes });
    text = "";
    bytes = [];
  };
  while (i < name.length) {
    const c = name.charCodeAt(i);
    if (c === 0x2e) {
      finish();
      i++;
      if (i === name.length) return labels; // a trailing dot is allowed
      continue;
    }
    let b = c;
    let raw = name[i]!;
    if (c === 0x5c) {
      const digits = /^\d{3}/.exec(name.slice(i + 1, i + 4));
      if (digits) {
        b = Number(digits[0]);
        raw = name.slice(i, i + 4);
      } else if (i + 1 < name.length) {
        b = name.charCodeAt(i + 1);
        raw = name.slice(i, i + 2);
      } else {
        throw new RangeError(`dns: trailing backslash in ${JSON.stringify(name)}`);
      }
    }
    if (b > 255) throw new RangeError(`dns: character code ${b} in ${JSON.stringify(name)} is not a byte`);
    bytes.push(b);
    // Canonical escape spelling, so "a\.b" and "a\046b" compress as one suffix.
    text += b === 0x2e ? "\\." : b === 0x5c ? "\\\\" : String.fromCharCode(b);
    i += raw.length;
  }
  finish();
  return labels;
}

/** A growable byte buffer with name compression state. */
class DnsWriter {
  bytes = new Uint8Array(512);
  length = 0;
  private readonly suffixes = new Map<string, number>();

  private reserve(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }
  u8(value: number): void {
    this.reserve(1);
    this.bytes[this.length++] = value & 255;
  }
  u16(value: number): void {
    this.u8(value >>> 8);
    this.u8(value);
  }
  u32(value: number): void {
    this.u16(value >>> 16);
    this.u16(value & 0xffff);
  }
  raw(data: Uint8Array): void {
    this.reserve(data.length);
    this.bytes.set(data, this.length);
    this.length += data.length;
  }
  patchU16(offset: number, value: number): void {
    this.bytes[offset] = (value >>> 8) & 255;
    this.bytes[offset + 1] = value & 255;
  }

  /**
   * Writes a name, ending it with a pointer to the longest suffix already
   * written when `compress` is set. Every suffix written in full is
   * remembered, whether or not this name itself may be compressed.
   */
  name(name: string, compress: boolean): void {
    const labels = splitName(name);
    let wireLen = 1;
    for (const l of labels) wireLen += 1 + l.bytes.length;
    if (wireLen > MAX_NAME_WIRE_LEN) throw new RangeError(`dns: name ${JSON.stringify(name)} is longer than 255 bytes`);
    for (let i = 0; i < labels.length; i++) {
      const key = labels
        .slice(i)
        .map((l) => l.text)
        .join(".");
      const known = this.suffixes.get(key);
      if (compress && known !== undefined) {
        this.u16(0xc000 | known);
        return;
      }
      if (known === undefined && this.length <= MAX_POINTER) this.suffixes.set(key, this.length);
      const label = labels[i]!.bytes;
      this.u8(label.length);
      for (const b of label) this.u8(b);
    }
    this.u8(0);
  }

  record(rec: DnsRecord): void {
    const data = rec.data;
    this.name(rec.name, true);
    this.u16(dnsRecordType(data));
    this.u16(rec.class);
    this.u32(rec.ttl);
    const lengthAt = this.length;
    this.u16(0);
    switch (data.kind) {
      case "a":
        this.reserve(4);
        writeIpv4(this.bytes, this.length, data.address);
        this.length += 4;
        break;
      case "ns":
      case "cname":
      case "ptr":
        this.name(data.target, true);
        break;
      case "mx":
        this.u16(data.preference);
        this.name(data.exchange, true);
        break;
      case "srv":
        this.u16(data.priority);
        this.u16(data.weight);
        this.u16(data.port);
        // RFC 2782: the target is never compressed (BIND and CoreDNS's miekg/dns agree).
        this.name(data.target, false);
        break;
      case "txt":
        for (const text of data.texts) {
          if (text.length > 255) throw new RangeError("dns: TXT string longer than 255 bytes");
          this.u8(text.length);
          for (let i = 0; i < text.length; i++) {
            const b = text.charCodeAt(i);
            if (b > 255) throw new RangeError(`dns: TXT character code ${b} is not a byte`);
            this.u8(b);
          }
        }
        break;
      case "soa":
        this.name(data.mname, true);
        this.name(data.rname, true);
        this.u32(data.serial);
        this.u32(data.refresh);
        this.u32(data.retry);
        this.u32(data.expire);
        this.u32(data.minimum);
        break;
      case "raw":
        this.raw(data.raw);
        break;
    }
    const rdlength = this.length - lengthAt - 2;
    if (rdlength > 0xffff) throw new RangeError("dns: record data longer than 65535 bytes");
    this.patchU16(lengthAt, rdlength);
  }
}

/**
 * Serialises `msg` with name compression as real servers do: every name
 * (owner names and names inside NS, CNAME, PTR, MX and SOA data) ends in a
 * pointer to the longest suffix already written; SRV targets are written in
 * full per RFC 2782. Throws RangeError for names or strings that cannot be
 * encoded.
 */
export function buildDns(msg: DnsMessage): Uint8Array {
  const w = new DnsWriter();
  w.u16(msg.id);
  w.u16(
    (msg.qr ? 0x8000 : 0) |
      ((msg.opcode & 0xf) << 11) |
      (msg.aa ? 0x0400 : 0) |
      (msg.tc ? 0x0200 : 0) |
      (msg.rd ? 0x0100 : 0) |
      (msg.ra ? 0x0080 : 0) |
      (msg.ad ? 0x0020 : 0) |
      (msg.cd ? 0x0010 : 0) |
      (msg.rcode & 0xf),
  );
  for (const section of [msg.questions, msg.answers, msg.authorities, msg.additionals]) {
    if (section.length > 0xffff) throw new RangeError("dns: more than 65535 entries in a section");
    w.u16(section.length);
  }
  for (const q of msg.questions) {
    w.name(q.name, true);
    w.u16(q.type);
    w.u16(q.class);
  }
  for (const section of [msg.answers, msg.authorities, msg.additionals]) {
    for (const rec of section) w.record(rec);
  }
  return w.bytes.slice(0, w.length);
}
