/**
 * ICMP for IPv4 (RFC 792): echo for ping, and the destination-unreachable and
 * time-exceeded errors a router or host sends back, quoting the datagram.
 */
import { readU16, writeU16 } from "./address.ts";
import { checksum } from "./checksum.ts";
import { needBytes, WireError } from "./error.ts";
import { withHeadroom } from "./headroom.ts";

/** ICMP type: echo reply (ping's answer). */
export const ICMP_ECHO_REPLY = 0;
/** ICMP type: destination unreachable; the code says why. */
export const ICMP_DEST_UNREACH = 3;
/** ICMP type: echo request (ping). */
export const ICMP_ECHO_REQUEST = 8;
/** ICMP type: time exceeded (TTL hit zero, as traceroute relies on). */
export const ICMP_TIME_EXCEEDED = 11;

/** Unreachable code: network unreachable. */
export const ICMP_NET_UNREACH = 0;
/** Unreachable code: host unreachable (ARP got no answer). */
export const ICMP_HOST_UNREACH = 1;
/** Unreachable code: protocol unreachable. */
export const ICMP_PROT_UNREACH = 2;
/** Unreachable code: port unreachable (no UDP socket bound). */
export const ICMP_PORT_UNREACH = 3;
/** Unreachable code: fragmentation needed and DF set; carries the next-hop MTU. */
export const ICMP_FRAG_NEEDED = 4;
/** Unreachable code: network administratively prohibited. */
export const ICMP_NET_PROHIBITED = 9;
/** Unreachable code: host administratively prohibited (iptables REJECT --reject-with icmp-host-prohibited). */
export const ICMP_HOST_PROHIBITED = 10;
/** Unreachable code: communication administratively prohibited (iptables REJECT --reject-with icmp-admin-prohibited). */
export const ICMP_ADMIN_PROHIBITED = 13;

/** Time-exceeded code: TTL exceeded in transit. */
export const ICMP_EXC_TTL = 0;
/** Time-exceeded code: fragment reassembly time exceeded. */
export const ICMP_EXC_FRAGTIME = 1;

/** Length of the ICMP header: type, code, checksum and the 4-byte rest-of-header. */
export const ICMP_HEADER_LEN = 8;

/**
 * Most bytes of the offending datagram Linux quotes in an ICMP error, so the
 * error fits in 576 bytes (576 − 20 − 8).
 */
export const ICMP_ERROR_QUOTE_MAX = 548;

/** A view over an ICMP message (the whole IPv4 payload). `checked` needs the 8-byte header. */
export class IcmpPacket {
  private constructor(readonly buffer: Uint8Array) {}

  /** Wraps `buffer`, throwing a truncated WireError if it is shorter than 8 bytes. */
  static checked(buffer: Uint8Array): IcmpPacket {
    needBytes("icmp", buffer, ICMP_HEADER_LEN);
    return new IcmpPacket(buffer);
  }

  get type(): number {
    return this.buffer[0]!;
  }
  get code(): number {
    return this.buffer[1]!;
  }
  get checksum(): number {
    return readU16(this.buffer, 2);
  }
  set checksum(value: number) {
    writeU16(this.buffer, 2, value);
  }
  /** Bytes 4–5: the echo identifier (NAT rewrites it like a port). */
  get ident(): number {
    return readU16(this.buffer, 4);
  }
  set ident(value: number) {
    writeU16(this.buffer, 4, value);
  }
  /** Bytes 6–7: the echo sequence number, or the next-hop MTU of frag-needed. */
  get seq(): number {
    return readU16(this.buffer, 6);
  }
  /** The bytes after the 8-byte header: echo data or the quoted datagram (a view). */
  get payload(): Uint8Array {
    return this.buffer.subarray(ICMP_HEADER_LEN);
  }

  /** True when the checksum over the whole message is correct. */
  verifyChecksum(): boolean {
    return checksum(this.buffer) === 0;
  }

  /** Recomputes the checksum over the whole message in place. */
  fillChecksum(): void {
    writeU16(this.buffer, 2, 0);
    writeU16(this.buffer, 2, checksum(this.buffer));
  }
}

/**
 * An ICMP message as a value, discriminated by `kind`. Byte arrays are views
 * into the parsed buffer, not copies.
 */
export type IcmpRepr =
  | { kind: "echo-request" | "echo-reply"; ident: number; seq: number; data: Uint8Array }
  | {
      kind: "dest-unreachable";
      code: number;
      /** The next-hop MTU; 0 unless code is ICMP_FRAG_NEEDED. */
      nextHopMtu: number;
      /** The quoted IP header and leading payload bytes of the offending datagram. */
      original: Uint8Array;
    }
  | { kind: "time-exceeded"; code: number; original: Uint8Array }
  | {
      kind: "other";
      type: number;
      code: number;
      /** Everything after type, code and checksum (bytes 4..). */
      rest: Uint8Array;
    };

/**
 * Reads a checked ICMP message. The checksum is verified unless
 * `verifyChecksum: false` (a bad one throws a WireError of kind "checksum").
 */
export function parseIcmp(pkt: IcmpPacket, options: { verifyChecksum?: boolean } = {}): IcmpRepr {
  if ((options.verifyChecksum ?? true) && !pkt.verifyChecksum()) {
    throw new WireError("icmp", "checksum", `bad checksum 0x${pkt.checksum.toString(16).padStart(4, "0")}`);
  }
  const buf = pkt.buffer;
  switch (pkt.type) {
    case ICMP_ECHO_REQUEST:
    case ICMP_ECHO_REPLY:
      if (pkt.code !== 0) break; // kept whole as "other" so it rebuilds byte for byte
      return {
        kind: pkt.type === ICMP_ECHO_REQUEST ? "echo-request" : "echo-reply",
        ident: pkt.ident,
        seq: pkt.seq,
        data: pkt.payload,
      };
    case ICMP_DEST_UNREACH:
      return {
        kind: "dest-unreachable",
        code: pkt.code,
        nextHopMtu: pkt.code === ICMP_FRAG_NEEDED ? readU16(buf, 6) : 0,
        original: pkt.payload,
      };
    case ICMP_TIME_EXCEEDED:
      return { kind: "time-exceeded", code: pkt.code, original: pkt.payload };
  }
  return { kind: "other", type: pkt.type, code: pkt.code, rest: buf.subarray(4) };
}

/** The length in bytes of the message `repr` describes. */
export function icmpLen(repr: IcmpRepr): number {
  switch (repr.kind) {
    case "echo-request":
    case "echo-reply":
      return ICMP_HEADER_LEN + repr.data.length;
    case "dest-unreachable":
    case "time-exceeded":
      return ICMP_HEADER_LEN + repr.original.length;
    case "other":
      return 4 + repr.rest.length;
  }
}

/** Writes `repr` at the start of `buf` (which needs `icmpLen(repr)` bytes), checksum filled. */
export function emitIcmp(repr: IcmpRepr, buf: Uint8Array): void {
  const len = icmpLen(repr);
  buf[2] = 0;
  buf[3] = 0;
  switch (repr.kind) {
    case "echo-request":
    case "echo-reply":
      buf[0] = repr.kind === "echo-request" ? ICMP_ECHO_REQUEST : ICMP_ECHO_REPLY;
      buf[1] = 0;
      writeU16(buf, 4, repr.ident);
      writeU16(buf, 6, repr.seq);
      buf.set(repr.data, ICMP_HEADER_LEN);
      break;
    case "dest-unreachable":
      buf[0] = ICMP_DEST_UNREACH;
      buf[1] = repr.code;
      writeU16(buf, 4, 0);
      writeU16(buf, 6, repr.code === ICMP_FRAG_NEEDED ? repr.nextHopMtu : 0);
      buf.set(repr.original, ICMP_HEADER_LEN);
      break;
    case "time-exceeded":
      buf[0] = ICMP_TIME_EXCEEDED;
      buf[1] = repr.code;
      writeU16(buf, 4, 0);
      writeU16(buf, 6, 0);
      buf.set(repr.original, ICMP_HEADER_LEN);
      break;
    case "other":
      buf[0] = repr.type;
      buf[1] = repr.code;
      buf.set(repr.rest, 4);
      break;
  }
  writeU16(buf, 2, checksum(buf, 0, len));
}

/** A new ICMP message holding `repr`, checksum filled. */
export function buildIcmp(repr: IcmpRepr): Uint8Array {
  const out = withHeadroom(icmpLen(repr));
  emitIcmp(repr, out);
  return out;
}

/**
 * The part of an offending datagram an ICMP error quotes, as Linux does: the
 * whole datagram up to ICMP_ERROR_QUOTE_MAX bytes (a copy). Pass the datagram
 * without link-layer padding, e.g. `buf.subarray(0, ipv4.totalLen)`.
 */
export function icmpQuote(datagram: Uint8Array): Uint8Array {
  return datagram.slice(0, ICMP_ERROR_QUOTE_MAX);
}
