/**
 * ARP (RFC 826) for Ethernet and IPv4 only, the one combination a Linux host
 * on a bridge or veth ever sends.
 */
import { type Ipv4Addr, type MacAddr, readIpv4, readMac, readU16, writeIpv4, writeMac, writeU16 } from "./address.ts";
import { ETHERTYPE_IPV4 } from "./ethernet.ts";
import { needBytes, WireError } from "./error.ts";
import { withHeadroom } from "./headroom.ts";

/** ARP operation: who has `targetIp`? */
export const ARP_REQUEST = 1;
/** ARP operation: `senderIp` is at `senderMac`. */
export const ARP_REPLY = 2;
/** Length of an Ethernet/IPv4 ARP packet (without Ethernet padding). */
export const ARP_LEN = 28;

/** ARP hardware type of Ethernet. */
export const ARP_HTYPE_ETHERNET = 1;

/**
 * A view over an Ethernet/IPv4 ARP packet. `checked` refuses short buffers
 * ("truncated") and other hardware/protocol types ("unsupported").
 */
export class ArpPacket {
  private constructor(readonly buffer: Uint8Array) {}

  /** Wraps `buffer` (trailing Ethernet padding is allowed) after checking its fixed header. */
  static checked(buffer: Uint8Array): ArpPacket {
    needBytes("arp", buffer, 8);
    const htype = readU16(buffer, 0);
    const ptype = readU16(buffer, 2);
    if (htype !== ARP_HTYPE_ETHERNET || ptype !== ETHERTYPE_IPV4 || buffer[4] !== 6 || buffer[5] !== 4) {
      throw new WireError("arp", "unsupported", `htype ${htype} ptype 0x${ptype.toString(16)} hlen ${buffer[4]} plen ${buffer[5]}`);
    }
    needBytes("arp", buffer, ARP_LEN);
    return new ArpPacket(buffer);
  }

  /** The operation: ARP_REQUEST, ARP_REPLY or another code. */
  get operation(): number {
    return readU16(this.buffer, 6);
  }
  get senderMac(): MacAddr {
    return readMac(this.buffer, 8);
  }
  get senderIp(): Ipv4Addr {
    return readIpv4(this.buffer, 14);
  }
  get targetMac(): MacAddr {
    return readMac(this.buffer, 18);
  }
  get targetIp(): Ipv4Addr {
    return readIpv4(this.buffer, 24);
  }
}

/** The fields of an Ethernet/IPv4 ARP packet as a value. */
export interface ArpRepr {
  operation: number;
  senderMac: MacAddr;
  senderIp: Ipv4Addr;
  targetMac: MacAddr;
  targetIp: Ipv4Addr;
}

/** Reads the fields of a checked ARP packet. */
export function parseArp(pkt: ArpPacket): ArpRepr {
  return {
    operation: pkt.operation,
    senderMac: pkt.senderMac,
    senderIp: pkt.senderIp,
    targetMac: pkt.targetMac,
    targetIp: pkt.targetIp,
  };
}

/** Writes `repr` as a 28-byte Ethernet/IPv4 ARP packet into the start of `buf`. */
export function emitArp(repr: ArpRepr, buf: Uint8Array): void {
  writeU16(buf, 0, ARP_HTYPE_ETHERNET);
  writeU16(buf, 2, ETHERTYPE_IPV4);
  buf[4] = 6;
  buf[5] = 4;
  writeU16(buf, 6, repr.operation);
  writeMac(buf, 8, repr.senderMac);
  writeIpv4(buf, 14, repr.senderIp);
  writeMac(buf, 18, repr.targetMac);
  writeIpv4(buf, 24, repr.targetIp);
}

/** A new 28-byte ARP packet holding `repr`. */
export function buildArp(repr: ArpRepr): Uint8Array {
  const out = withHeadroom(ARP_LEN);
  emitArp(repr, out);
  return out;
}
