/**
 * VXLAN (RFC 7348): an 8-byte header carrying a 24-bit network identifier,
 * in front of an inner Ethernet frame, inside UDP. Flannel's vxlan backend
 * tunnels pod traffic between nodes this way.
 */
import { needBytes, WireError } from "./error.ts";
import { prepend } from "./headroom.ts";

/** Length of the VXLAN header. */
export const VXLAN_HEADER_LEN = 8;
/** The IANA-assigned VXLAN UDP port. */
export const VXLAN_PORT_IANA = 4789;
/** The UDP port Linux (and so flannel) uses when none is configured. */
export const VXLAN_PORT_LINUX_DEFAULT = 8472;

/** The I flag: the VNI is valid. RFC 7348 requires it set. */
export const VXLAN_FLAG_I = 0x08;

/**
 * A view over a VXLAN header and the inner frame. `checked` requires 8 bytes
 * ("truncated") and the I flag ("malformed").
 */
export class VxlanPacket {
  private constructor(readonly buffer: Uint8Array) {}

  /** Wraps `buffer` (the UDP payload). */
  static checked(buffer: Uint8Array): VxlanPacket {
    needBytes("vxlan", buffer, VXLAN_HEADER_LEN);
    if ((buffer[0]! & VXLAN_FLAG_I) === 0) {
      throw new WireError("vxlan", "malformed", `flags 0x${buffer[0]!.toString(16).padStart(2, "0")} lack the I flag`);
    }
    return new VxlanPacket(buffer);
  }

  /** The flags byte (0x08 when only I is set). */
  get flags(): number {
    return this.buffer[0]!;
  }
  /** The 24-bit VXLAN network identifier. */
  get vni(): number {
    return (this.buffer[4]! << 16) | (this.buffer[5]! << 8) | this.buffer[6]!;
  }
  /** The inner Ethernet frame (a view). */
  get payload(): Uint8Array {
    return this.buffer.subarray(VXLAN_HEADER_LEN);
  }
}

/** The fields of a VXLAN header as a value. */
export interface VxlanRepr {
  vni: number;
}

/** Reads the header of a checked VXLAN packet. */
export function parseVxlan(pkt: VxlanPacket): VxlanRepr {
  return { vni: pkt.vni };
}

/** Writes the 8-byte header for `repr` at the start of `buf`: flags 0x08, VNI, reserved bytes zero. */
export function emitVxlan(repr: VxlanRepr, buf: Uint8Array): void {
  buf[0] = VXLAN_FLAG_I;
  buf[1] = 0;
  buf[2] = 0;
  buf[3] = 0;
  buf[4] = (repr.vni >>> 16) & 255;
  buf[5] = (repr.vni >>> 8) & 255;
  buf[6] = repr.vni & 255;
  buf[7] = 0;
}

/** A VXLAN packet: the header for `repr` in front of the inner frame (in its headroom when free, else a copy). */
export function buildVxlan(repr: VxlanRepr, inner: Uint8Array): Uint8Array {
  const out = prepend(inner, VXLAN_HEADER_LEN);
  emitVxlan(repr, out);
  return out;
}
