/**
 * IPv4 (RFC 791): a view over a datagram's header and a value type for the
 * fields a stack sets when it sends one.
 */
import { type Ipv4Addr, readIpv4, readU16, writeIpv4, writeU16 } from "./address.ts";
import { checksum } from "./checksum.ts";
import { needBytes, WireError } from "./error.ts";
import { prepend } from "./headroom.ts";

/** IP protocol number of ICMP. */
export const IPPROTO_ICMP = 1;
/** IP protocol number of TCP. */
export const IPPROTO_TCP = 6;
/** IP protocol number of UDP. */
export const IPPROTO_UDP = 17;
/** Length of an IPv4 header without options. */
export const IPV4_HEADER_LEN = 20;

const FLAG_DF = 0x4000;
const FLAG_MF = 0x2000;

/**
 * A view over an IPv4 datagram. `checked` validates version, header length and
 * total length against the buffer; after that no accessor fails. Setters do not
 * touch the checksum: update it incrementally or call `fillChecksum`.
 */
export class Ipv4Packet {
  private constructor(readonly buffer: Uint8Array) {}

  /**
   * Wraps `buffer`, which may be longer than the datagram (Ethernet padding).
   * Throws "truncated" when the header or total length does not fit and
   * "malformed" for a version other than 4, IHL < 5 or total length < IHL.
   */
  static checked(buffer: Uint8Array): Ipv4Packet {
    needBytes("ipv4", buffer, IPV4_HEADER_LEN);
    const version = buffer[0]! >>> 4;
    if (version !== 4) throw new WireError("ipv4", "malformed", `version ${version}`);
    const headerLen = (buffer[0]! & 0x0f) * 4;
    if (headerLen < IPV4_HEADER_LEN) throw new WireError("ipv4", "malformed", `header length ${headerLen}`);
    needBytes("ipv4", buffer, headerLen);
    const totalLen = readU16(buffer, 2);
    if (totalLen < headerLen) {
      throw new WireError("ipv4", "malformed", `total length ${totalLen} < header length ${headerLen}`);
    }
    needBytes("ipv4", buffer, totalLen);
    return new Ipv4Packet(buffer);
  }

  get version(): number {
    return this.buffer[0]! >>> 4;
  }
  /** Header length in bytes (IHL × 4). */
  get headerLen(): number {
    return (this.buffer[0]! & 0x0f) * 4;
  }
  get dscp(): number {
    return this.buffer[1]! >>> 2;
  }
  get ecn(): number {
    return this.buffer[1]! & 3;
  }
  get totalLen(): number {
    return readU16(this.buffer, 2);
  }
  get ident(): number {
    return readU16(this.buffer, 4);
  }
  get dontFrag(): boolean {
    return (readU16(this.buffer, 6) & FLAG_DF) !== 0;
  }
  get moreFrags(): boolean {
    return (readU16(this.buffer, 6) & FLAG_MF) !== 0;
  }
  /** Fragment offset in bytes (the 13-bit field × 8). */
  get fragOffset(): number {
    return (readU16(this.buffer, 6) & 0x1fff) * 8;
  }
  get ttl(): number {
    return this.buffer[8]!;
  }
  set ttl(value: number) {
    this.buffer[8] = value;
  }
  get protocol(): number {
    return this.buffer[9]!;
  }
  get checksum(): number {
    return readU16(this.buffer, 10);
  }
  set checksum(value: number) {
    writeU16(this.buffer, 10, value);
  }
  get src(): Ipv4Addr {
    return readIpv4(this.buffer, 12);
  }
  set src(addr: Ipv4Addr) {
    writeIpv4(this.buffer, 12, addr);
  }
  get dst(): Ipv4Addr {
    return readIpv4(this.buffer, 16);
  }
  set dst(addr: Ipv4Addr) {
    writeIpv4(this.buffer, 16, addr);
  }
  /** The option bytes between the fixed header and the payload (a view). */
  get options(): Uint8Array {
    return this.buffer.subarray(IPV4_HEADER_LEN, this.headerLen);
  }
  /** The bytes from the end of the header to the total length, without padding (a view). */
  get payload(): Uint8Array {
    return this.buffer.subarray(this.headerLen, this.totalLen);
  }

  /** True when the header checksum is correct. */
  verifyChecksum(): boolean {
    return checksum(this.buffer, 0, this.headerLen) === 0;
  }

  /** Recomputes the header checksum in place, as after changing TTL or addresses. */
  fillChecksum(): void {
    writeU16(this.buffer, 10, 0);
    writeU16(this.buffer, 10, checksum(this.buffer, 0, this.headerLen));
  }
}

/** The fields of an IPv4 header as a value (options are not represented). */
export interface Ipv4Repr {
  src: Ipv4Addr;
  dst: Ipv4Addr;
  protocol: number;
  ttl: number;
  /** Length of the payload in bytes: total length minus header length. */
  payloadLen: number;
  ident: number;
  dontFrag: boolean;
  moreFrags: boolean;
  /** Fragment offset in bytes, a multiple of 8. */
  fragOffset: number;
  dscp: number;
  ecn: number;
}

/**
 * Reads the header of a checked datagram. The checksum is verified unless
 * `verifyChecksum: false` (a bad one throws a WireError of kind "checksum").
 */
export function parseIpv4(pkt: Ipv4Packet, options: { verifyChecksum?: boolean } = {}): Ipv4Repr {
  if ((options.verifyChecksum ?? true) && !pkt.verifyChecksum()) {
    throw new WireError("ipv4", "checksum", `bad header checksum 0x${pkt.checksum.toString(16).padStart(4, "0")}`);
  }
  return {
    src: pkt.src,
    dst: pkt.dst,
    protocol: pkt.protocol,
    ttl: pkt.ttl,
    payloadLen: pkt.totalLen - pkt.headerLen,
    ident: pkt.ident,
    dontFrag: pkt.dontFrag,
    moreFrags: pkt.moreFrags,
    fragOffset: pkt.fragOffset,
    dscp: pkt.dscp,
    ecn: pkt.ecn,
  };
}

/** Writes `repr` as a 20-byte header (no options) at the start of `buf`, checksum filled. */
export function emitIpv4(repr: Ipv4Repr, buf: Uint8Array): void {
  writeIpv4Header(repr, repr.payloadLen, buf);
}

function writeIpv4Header(repr: Omit<Ipv4Repr, "payloadLen">, payloadLen: number, buf: Uint8Array): void {
  buf[0] = 0x45;
  buf[1] = ((repr.dscp & 0x3f) << 2) | (repr.ecn & 3);
  writeU16(buf, 2, IPV4_HEADER_LEN + payloadLen);
  writeU16(buf, 4, repr.ident);
  writeU16(buf, 6, (repr.dontFrag ? FLAG_DF : 0) | (repr.moreFrags ? FLAG_MF : 0) | ((repr.fragOffset >>> 3) & 0x1fff));
  buf[8] = repr.ttl;
  buf[9] = repr.protocol;
  writeU16(buf, 10, 0);
  writeIpv4(buf, 12, repr.src);
  writeIpv4(buf, 16, repr.dst);
  writeU16(buf, 10, checksum(buf, 0, IPV4_HEADER_LEN));
}

/** A datagram: a 20-byte header from `repr` in front of `payload` (in its headroom when free, else a copy). */
export function buildIpv4(repr: Omit<Ipv4Repr, "payloadLen">, payload: Uint8Array): Uint8Array {
  if (IPV4_HEADER_LEN + payload.length > 0xffff) throw new RangeError(`ipv4: payload of ${payload.length} bytes is too long`);
  const out = prepend(payload, IPV4_HEADER_LEN);
  writeIpv4Header(repr, payload.length, out);
  return out;
}

/**
 * A header repr from the fields that matter, the rest as Linux defaults them
 * for a fresh datagram: TTL 64, ident 0, no fragmentation, DSCP and ECN 0.
 */
export function ipv4Defaults(
  partial: Pick<Ipv4Repr, "src" | "dst" | "protocol"> & Partial<Ipv4Repr>,
): Omit<Ipv4Repr, "payloadLen"> {
  return {
    src: partial.src,
    dst: partial.dst,
    protocol: partial.protocol,
    ttl: partial.ttl ?? 64,
    ident: partial.ident ?? 0,
    dontFrag: partial.dontFrag ?? false,
    moreFrags: partial.moreFrags ?? false,
    fragOffset: partial.fragOffset ?? 0,
    dscp: partial.dscp ?? 0,
    ecn: partial.ecn ?? 0,
  };
}
