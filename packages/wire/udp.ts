/**
 * UDP (RFC 768) over IPv4, with the pseudo-header checksum.
 */
import { type Ipv4Addr, readU16, writeU16 } from "./address.ts";
import { finishChecksum, pseudoHeaderSum, sumWords } from "./checksum.ts";
import { needBytes, WireError } from "./error.ts";
import { IPPROTO_UDP } from "./ipv4.ts";
import { prepend } from "./headroom.ts";

/** Length of the UDP header. */
export const UDP_HEADER_LEN = 8;

/**
 * A view over a UDP datagram. `checked` requires the length field to be at
 * least 8 ("malformed" otherwise) and to fit the buffer ("truncated").
 */
export class UdpPacket {
  private constructor(readonly buffer: Uint8Array) {}

  /** Wraps `buffer` (the IPv4 payload); bytes past the length field are ignored. */
  static checked(buffer: Uint8Array): UdpPacket {
    needBytes("udp", buffer, UDP_HEADER_LEN);
    const length = readU16(buffer, 4);
    if (length < UDP_HEADER_LEN) throw new WireError("udp", "malformed", `length field ${length}`);
    needBytes("udp", buffer, length);
    return new UdpPacket(buffer);
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
  /** The length field: header plus payload. */
  get length(): number {
    return readU16(this.buffer, 4);
  }
  /** The checksum field; 0 means the sender computed none. */
  get checksum(): number {
    return readU16(this.buffer, 6);
  }
  set checksum(value: number) {
    writeU16(this.buffer, 6, value);
  }
  /** The bytes after the header up to the length field (a view). */
  get payload(): Uint8Array {
    return this.buffer.subarray(UDP_HEADER_LEN, this.length);
  }

  /** True when the checksum is absent (0) or correct for the given addresses. */
  verifyChecksum(src: Ipv4Addr, dst: Ipv4Addr): boolean {
    if (this.checksum === 0) return true;
    const len = this.length;
    return finishChecksum(sumWords(this.buffer, 0, len, pseudoHeaderSum(src, dst, IPPROTO_UDP, len))) === 0;
  }

  /** Recomputes the checksum in place for the given addresses (a computed 0 is sent as 0xffff). */
  fillChecksum(src: Ipv4Addr, dst: Ipv4Addr): void {
    writeU16(this.buffer, 6, udpChecksum(this.buffer.subarray(0, this.length), src, dst));
  }
}

/** The ports of a UDP header as a value; length and checksum follow from the payload. */
export interface UdpRepr {
  srcPort: number;
  dstPort: number;
}

/**
 * Reads the ports of a checked datagram sent from `src` to `dst`. A non-zero
 * checksum is verified unless `verifyChecksum: false` ("checksum" error).
 */
export function parseUdp(
  pkt: UdpPacket,
  src: Ipv4Addr,
  dst: Ipv4Addr,
  options: { verifyChecksum?: boolean } = {},
): UdpRepr {
  if ((options.verifyChecksum ?? true) && !pkt.verifyChecksum(src, dst)) {
    throw new WireError("udp", "checksum", `bad checksum 0x${pkt.checksum.toString(16).padStart(4, "0")}`);
  }
  return { srcPort: pkt.srcPort, dstPort: pkt.dstPort };
}

// The checksum of `datagram` skipping its checksum field, ready to store.
function udpChecksum(datagram: Uint8Array, src: Ipv4Addr, dst: Ipv4Addr): number {
  const len = datagram.length;
  const sum = finishChecksum(sumWords(datagram, 0, 6, sumWords(datagram, 8, len, pseudoHeaderSum(src, dst, IPPROTO_UDP, len))));
  return sum === 0 ? 0xffff : sum;
}

/**
 * Writes the header for `repr` into `datagram[0..8)`, where the payload already
 * sits at `datagram[8..)`: length is `datagram.length`, and the checksum is
 * filled unless `checksum: false` (then 0, as Linux VXLAN sends by default).
 */
export function emitUdp(
  repr: UdpRepr,
  datagram: Uint8Array,
  src: Ipv4Addr,
  dst: Ipv4Addr,
  options: { checksum?: boolean } = {},
): void {
  writeU16(datagram, 0, repr.srcPort);
  writeU16(datagram, 2, repr.dstPort);
  writeU16(datagram, 4, datagram.length);
  writeU16(datagram, 6, options.checksum ?? true ? udpChecksum(datagram, src, dst) : 0);
}

/**
 * A new datagram from `src` to `dst`: the header for `repr` and a copy of
 * `payload`, with the pseudo-header checksum (a computed 0 is sent as 0xffff)
 * unless `checksum: false`.
 */
export function buildUdp(
  repr: UdpRepr,
  payload: Uint8Array,
  src: Ipv4Addr,
  dst: Ipv4Addr,
  options: { checksum?: boolean } = {},
): Uint8Array {
  if (UDP_HEADER_LEN + payload.length > 0xffff) throw new RangeError(`udp: payload of ${payload.length} bytes is too long`);
  const out = prepend(payload, UDP_HEADER_LEN);
  emitUdp(repr, out, src, dst, options);
  return out;
}
