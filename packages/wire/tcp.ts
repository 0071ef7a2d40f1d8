/**
 * TCP (RFC 9293) segments over IPv4: a view over the header, and a value type
 * whose options are written in the order and alignment Linux uses, so built
 * segments look like a Linux host's in a capture.
 */
import { type Ipv4Addr, readU16, readU32, writeU16, writeU32 } from "./address.ts";
import { finishChecksum, pseudoHeaderSum, sumWords } from "./checksum.ts";
import { needBytes, WireError } from "./error.ts";
import { IPPROTO_TCP } from "./ipv4.ts";
import { withHeadroom } from "./headroom.ts";

/** Flag: no more data from sender. */
export const TCP_FIN = 0x01;
/** Flag: synchronise sequence numbers (open). */
export const TCP_SYN = 0x02;
/** Flag: reset the connection. */
export const TCP_RST = 0x04;
/** Flag: push buffered data to the application. */
export const TCP_PSH = 0x08;
/** Flag: the acknowledgment field is significant. */
export const TCP_ACK = 0x10;
/** Flag: the urgent pointer is significant. */
export const TCP_URG = 0x20;
/** Flag: ECN echo. */
export const TCP_ECE = 0x40;
/** Flag: congestion window reduced. */
export const TCP_CWR = 0x80;

/** Length of a TCP header without options. */
export const TCP_HEADER_LEN = 20;
/** Longest TCP header: data offset 15 words. */
export const TCP_MAX_HEADER_LEN = 60;

const OPT_EOL = 0;
const OPT_NOP = 1;
const OPT_MSS = 2;
const OPT_WSCALE = 3;
const OPT_SACK_PERM = 4;
const OPT_SACK = 5;
const OPT_TIMESTAMP = 8;

/**
 * A view over a TCP segment. `checked` requires a data offset of at least 5
 * whose header fits the buffer, and options whose lengths stay inside it.
 */
export class TcpPacket {
  private constructor(readonly buffer: Uint8Array) {}

  /**
   * Wraps `buffer` (the IPv4 payload, so the segment runs to its end). Throws
   * "truncated" when the header does not fit and "malformed" for a data offset
   * below 5 or an option that runs past the header.
   */
  static checked(buffer: Uint8Array): TcpPacket {
    needBytes("tcp", buffer, TCP_HEADER_LEN);
    const headerLen = (buffer[12]! >>> 4) * 4;
    if (headerLen < TCP_HEADER_LEN) throw new WireError("tcp", "malformed", `data offset ${headerLen / 4}`);
    needBytes("tcp", buffer, headerLen);
    let i = TCP_HEADER_LEN;
    while (i < headerLen) {
      const kind = buffer[i]!;
      if (kind === OPT_EOL) break;
      if (kind === OPT_NOP) {
        i++;
        continue;
      }
      if (i + 1 >= headerLen) throw new WireError("tcp", "malformed", `option ${kind} has no length`);
      const len = buffer[i + 1]!;
      if (len < 2 || i + len > headerLen) throw new WireError("tcp", "malformed", `option ${kind} length ${len}`);
      i += len;
    }
    return new TcpPacket(buffer);
  }

  get srcPort(): number {
    return readU16(this.buffer, 0);
  }
  set srcPort(port: number) {
    writeU16(this.buffer, 0, port);
  }
  get dstPort(): number {
    return readU16(this.buffer, 2);
  }
  set dstPort(port: number) {
    writeU16(this.buffer, 2, port);
  }
  get seq(): number {
    return readU32(this.buffer, 4);
  }
  get ack(): number {
    return readU32(this.buffer, 8);
  }
  /** Header length in bytes (data offset × 4). */
  get headerLen(): number {
    return (this.buffer[12]! >>> 4) * 4;
  }
  /** The eight flag bits (TCP_FIN … TCP_CWR). */
  get flags(): number {
    return this.buffer[13]!;
  }
  /** The raw window field, before any window scaling. */
  get window(): number {
    return readU16(this.buffer, 14);
  }
  get checksum(): number {
    return readU16(this.buffer, 16);
  }
  set checksum(value: number) {
    writeU16(this.buffer, 16, value);
  }
  get urgent(): number {
    return readU16(this.buffer, 18);
  }
  /** The option bytes after the fixed header (a view). */
  get options(): Uint8Array {
    return this.buffer.subarray(TCP_HEADER_LEN, this.headerLen);
  }
  /** The bytes after the header (a view). */
  get payload(): Uint8Array {
    return this.buffer.subarray(this.headerLen);
  }

  /** True when the checksum is correct for the given addresses. */
  verifyChecksum(src: Ipv4Addr, dst: Ipv4Addr): boolean {
    const len = this.buffer.length;
    return finishChecksum(sumWords(this.buffer, 0, len, pseudoHeaderSum(src, dst, IPPROTO_TCP, len))) === 0;
  }

  /** Recomputes the checksum in place for the given addresses. */
  fillChecksum(src: Ipv4Addr, dst: Ipv4Addr): void {
    writeU16(this.buffer, 16, tcpChecksum(this.buffer, src, dst));
  }
}

/** The TCP options kemu understands; absent fields were not in the segment. */
export interface TcpOptions {
  /** Maximum segment size (kind 2), sent on SYNs. */
  mss?: number | undefined;
  /** Window scale shift count (kind 3), sent on SYNs. */
  windowScale?: number | undefined;
  /** SACK permitted (kind 4), sent on SYNs. */
  sackPermitted?: boolean | undefined;
  /** SACK blocks (kind 5) as [left edge, right edge) sequence numbers. */
  sack?: Array<[number, number]> | undefined;
  /** Timestamps (kind 8). */
  timestamp?: { tsval: number; tsecr: number } | undefined;
}

/** The fields of a TCP header as a value; seq and ack are unsigned 32-bit. */
export interface TcpRepr {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** The eight flag bits, e.g. `TCP_SYN | TCP_ACK`. */
  flags: number;
  /** The raw window field, before any window scaling. */
  window: number;
  urgent: number;
  options: TcpOptions;
}

function optionError(kind: number, len: number): WireError {
  return new WireError("tcp", "malformed", `option ${kind} has length ${len}`);
}

/** Decodes the options of a checked segment; a known option with the wrong length is "malformed". */
export function parseTcpOptions(pkt: TcpPacket): TcpOptions {
  const buf = pkt.buffer;
  const end = pkt.headerLen;
  const out: TcpOptions = {};
  let i = TCP_HEADER_LEN;
  while (i < end) {
    const kind = buf[i]!;
    if (kind === OPT_EOL) break;
    if (kind === OPT_NOP) {
      i++;
      continue;
    }
    const len = buf[i + 1]!; // checked() guarantees it exists and fits
    switch (kind) {
      case OPT_MSS:
        if (len !== 4) throw optionError(kind, len);
        out.mss = readU16(buf, i + 2);
        break;
      case OPT_WSCALE:
        if (len !== 3) throw optionError(kind, len);
        out.windowScale = buf[i + 2]!;
        break;
      case OPT_SACK_PERM:
        if (len !== 2) throw optionError(kind, len);
        out.sackPermitted = true;
        break;
      case OPT_SACK: {
        if (len < 10 || (len - 2) % 8 !== 0) throw optionError(kind, len);
        const blocks: Array<[number, number]> = [];
        for (let b = i + 2; b < i + len; b += 8) blocks.push([readU32(buf, b), readU32(buf, b + 4)]);
        out.sack = blocks;
        break;
      }
      case OPT_TIMESTAMP:
        if (len !== 10) throw optionError(kind, len);
        out.timestamp = { tsval: readU32(buf, i + 2), tsecr: readU32(buf, i + 6) };
        break;
      default:
        break; // unknown options are skipped, as Linux does
    }
    i += len;
  }
  return out;
}

/**
 * Reads a checked segment sent from `src` to `dst`. The checksum is verified
 * unless `verifyChecksum: false` (a bad one throws a "checksum" WireError).
 */
export function parseTcp(
  pkt: TcpPacket,
  src: Ipv4Addr,
  dst: Ipv4Addr,
  options: { verifyChecksum?: boolean } = {},
): TcpRepr {
  if ((options.verifyChecksum ?? true) && !pkt.verifyChecksum(src, dst)) {
    throw new WireError("tcp", "checksum", `bad checksum 0x${pkt.checksum.toString(16).padStart(4, "0")}`);
  }
  return {
    srcPort: pkt.srcPort,
    dstPort: pkt.dstPort,
    seq: pkt.seq,
    ack: pkt.ack,
    flags: pkt.flags,
    window: pkt.window,
    urgent: pkt.urgent,
    options: parseTcpOptions(pkt),
  };
}

// Byte length of the options as writeOptions lays them out (always a multiple of 4).
function optionsLen(o: TcpOptions): number {
  let n = 0;
  if (o.mss !== undefined) n += 4;
  if (o.timestamp !== undefined) n += 12; // SACK-permitted, if any, takes the place of its two NOPs
  else if (o.sackPermitted) n += 4;
  if (o.windowScale !== undefined) n += 4;
  if (o.sack !== undefined && o.sack.length > 0) n += 4 + 8 * o.sack.length;
  return n;
}

// Writes options 32-bit aligned exactly as Linux's tcp_options_write does.
function writeOptions(o: TcpOptions, buf: Uint8Array, start: number): void {
  let i = start;
  const put = (...bytes: number[]): void => {
    for (const b of bytes) buf[i++] = b;
  };
  if (o.mss !== undefined) {
    put(OPT_MSS, 4);
    writeU16(buf, i, o.mss);
    i += 2;
  }
  if (o.timestamp !== undefined) {
    if (o.sackPermitted) put(OPT_SACK_PERM, 2, OPT_TIMESTAMP, 10);
    else put(OPT_NOP, OPT_NOP, OPT_TIMESTAMP, 10);
    writeU32(buf, i, o.timestamp.tsval);
    writeU32(buf, i + 4, o.timestamp.tsecr);
    i += 8;
  } else if (o.sackPermitted) {
    put(OPT_NOP, OPT_NOP, OPT_SACK_PERM, 2);
  }
  if (o.windowScale !== undefined) put(OPT_NOP, OPT_WSCALE, 3, o.windowScale);
  if (o.sack !== undefined && o.sack.length > 0) {
    put(OPT_NOP, OPT_NOP, OPT_SACK, 2 + 8 * o.sack.length);
    for (const [left, right] of o.sack) {
      writeU32(buf, i, left);
      writeU32(buf, i + 4, right);
      i += 8;
    }
  }
}

/** The header length `repr` needs: 20 plus its options. Throws RangeError past 60 bytes. */
export function tcpHeaderLen(repr: TcpRepr): number {
  const len = TCP_HEADER_LEN + optionsLen(repr.options);
  if (len > TCP_MAX_HEADER_LEN) throw new RangeError(`tcp: options need ${len - TCP_HEADER_LEN} bytes, at most 40 fit`);
  return len;
}

// The checksum of `segment` skipping its checksum field, ready to store.
function tcpChecksum(segment: Uint8Array, src: Ipv4Addr, dst: Ipv4Addr): number {
  const len = segment.length;
  return finishChecksum(sumWords(segment, 0, 16, sumWords(segment, 18, len, pseudoHeaderSum(src, dst, IPPROTO_TCP, len))));
}

/**
 * Writes the header for `repr` into `segment[0..tcpHeaderLen(repr))`, where
 * the payload already sits after it, and fills the checksum over the whole
 * `segment` for `src` → `dst`.
 */
export function emitTcp(repr: TcpRepr, segment: Uint8Array, src: Ipv4Addr, dst: Ipv4Addr): void {
  const headerLen = tcpHeaderLen(repr);
  writeU16(segment, 0, repr.srcPort);
  writeU16(segment, 2, repr.dstPort);
  writeU32(segment, 4, repr.seq);
  writeU32(segment, 8, repr.ack);
  segment[12] = (headerLen / 4) << 4;
  segment[13] = repr.flags & 0xff;
  writeU16(segment, 14, repr.window);
  writeU16(segment, 16, 0);
  writeU16(segment, 18, repr.urgent);
  writeOptions(repr.options, segment, TCP_HEADER_LEN);
  writeU16(segment, 16, tcpChecksum(segment, src, dst));
}

/**
 * A new segment from `src` to `dst`: the header for `repr` (options in
 * Linux's order: MSS, SACK-permitted, timestamps, window scale, SACK blocks)
 * and a copy of `payload`, checksum filled.
 */
export function buildTcp(repr: TcpRepr, payload: Uint8Array, src: Ipv4Addr, dst: Ipv4Addr): Uint8Array {
  const headerLen = tcpHeaderLen(repr);
  const out = withHeadroom(headerLen + payload.length);
  out.set(payload, headerLen);
  emitTcp(repr, out, src, dst);
  return out;
}
