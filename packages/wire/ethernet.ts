import { type MacAddr, readMac, readU16, writeMac, writeU16 } from "./address.ts";
import { needBytes } from "./error.ts";
import { prepend } from "./headroom.ts";

/** EtherType of IPv4. */
export const ETHERTYPE_IPV4 = 0x0800;
/** EtherType of ARP. */
export const ETHERTYPE_ARP = 0x0806;
/** EtherType of an 802.1Q VLAN tag. */
export const ETHERTYPE_VLAN = 0x8100;
/** EtherType of IPv6. */
export const ETHERTYPE_IPV6 = 0x86dd;

/** Length of an Ethernet II header: two MACs and the EtherType. */
export const ETHERNET_HEADER_LEN = 14;

/**
 * A view over an Ethernet II frame's bytes. Build one with `checked` (which
 * refuses a buffer too short for the header); after that no accessor fails.
 */
export class EthernetFrame {
  private constructor(readonly buffer: Uint8Array) {}

  /** Wraps `buffer`, throwing a truncated WireError if it cannot hold a header. */
  static checked(buffer: Uint8Array): EthernetFrame {
    needBytes("ethernet", buffer, ETHERNET_HEADER_LEN);
    return new EthernetFrame(buffer);
  }

  get dst(): MacAddr {
    return readMac(this.buffer, 0);
  }
  set dst(mac: MacAddr) {
    writeMac(this.buffer, 0, mac);
  }
  get src(): MacAddr {
    return readMac(this.buffer, 6);
  }
  set src(mac: MacAddr) {
    writeMac(this.buffer, 6, mac);
  }
  get ethertype(): number {
    return readU16(this.buffer, 12);
  }
  set ethertype(value: number) {
    writeU16(this.buffer, 12, value);
  }
  /** The bytes after the header (a view, not a copy). */
  get payload(): Uint8Array {
    return this.buffer.subarray(ETHERNET_HEADER_LEN);
  }
}

/** The fields of an Ethernet II header as a value. */
export interface EthernetRepr {
  dst: MacAddr;
  src: MacAddr;
  ethertype: number;
}

/** Reads the header fields of a checked frame. */
export function parseEthernet(frame: EthernetFrame): EthernetRepr {
  return { dst: frame.dst, src: frame.src, ethertype: frame.ethertype };
}

/** Writes `repr` into the first 14 bytes of `buf`. */
export function emitEthernet(repr: EthernetRepr, buf: Uint8Array): void {
  writeMac(buf, 0, repr.dst);
  writeMac(buf, 6, repr.src);
  writeU16(buf, 12, repr.ethertype);
}

/** A frame: the header from `repr` in front of `payload` (in its headroom when free, else a copy). */
export function buildEthernet(repr: EthernetRepr, payload: Uint8Array): Uint8Array {
  const out = prepend(payload, ETHERNET_HEADER_LEN);
  emitEthernet(repr, out);
  return out;
}
