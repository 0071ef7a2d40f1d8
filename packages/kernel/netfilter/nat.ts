/**
 * NAT on top of conntrack (nf_nat_core.c, nf_nat_proto.c): the binding is
 * decided once, on a flow's first packet, by changing the entry's reply
 * tuple; every later packet of either direction is rewritten to match it,
 * with incremental checksum updates. ICMP errors about a NATed flow get their
 * quoted header translated back too.
 */
import { checksum, updateChecksum16, updateChecksum32 } from "@kemu/wire";
import type { Rng } from "../random.ts";
import {
  type ConnEntry,
  type Conntrack,
  invertTuple,
  IPS_DST_NAT,
  IPS_DST_NAT_DONE,
  IPS_SRC_NAT,
  IPS_SRC_NAT_DONE,
  type Tuple,
} from "./conntrack.ts";

/** Which end of a packet a NAT hook rewrites: PREROUTING/OUTPUT the destination, POSTROUTING/INPUT the source. */
export type Manip = "src" | "dst";

/** A NAT target's range (struct nf_nat_range2). */
export interface NatRange {
  readonly mapIps: boolean;
  readonly minIp: number;
  readonly maxIp: number;
  readonly protoSpecified: boolean;
  readonly minPort: number;
  readonly maxPort: number;
  readonly random: boolean;
  readonly randomFully: boolean;
  readonly persistent: boolean;
}

/** A range that changes nothing: the null binding of a flow no NAT rule matched. */
export function nullRange(ip: number): NatRange {
  return {
    mapIps: true,
    minIp: ip,
    maxIp: ip,
    protoSpecified: false,
    minPort: 0,
    maxPort: 0,
    random: false,
    randomFully: false,
    persistent: false,
  };
}

/** Whether NAT of this kind has been decided for the flow. */
export function natInitialized(e: ConnEntry, manip: Manip): boolean {
  return (e.status & (manip === "src" ? IPS_SRC_NAT_DONE : IPS_DST_NAT_DONE)) !== 0;
}

function tupleEq(a: Tuple, b: Tuple): boolean {
  return a.proto === b.proto && a.src === b.src && a.dst === b.dst && a.sport === b.sport && a.dport === b.dport;
}

function hasPorts(proto: number): boolean {
  return proto === 6 || proto === 17 || proto === 132 || proto === 136 || proto === 33;
}

/** nf_nat_setup_info: binds the flow to `range` for one kind of NAT. */
export function setupNat(ct: Conntrack, e: ConnEntry, range: NatRange, manip: Manip, rng: Rng): void {
  if (natInitialized(e, manip)) return;
  const curr = invertTuple(e.tuples[1]);
  const next = uniqueTuple(ct, e, curr, range, manip, rng);
  if (!tupleEq(next, curr)) {
    e.tuples[1] = invertTuple(next);
    e.status |= manip === "src" ? IPS_SRC_NAT : IPS_DST_NAT;
  }
  e.status |= manip === "src" ? IPS_SRC_NAT_DONE : IPS_DST_NAT_DONE;
}

function withKey(t: Tuple, manip: Manip, key: number): Tuple {
  if (t.proto === 1) return { ...t, sport: key };
  return manip === "src" ? { ...t, sport: key } : { ...t, dport: key };
}

function keyOf(t: Tuple, manip: Manip): number {
  if (t.proto === 1) return t.sport;
  return manip === "src" ? t.sport : t.dport;
}

/** get_unique_tuple: the address from the range, and a port that no other flow uses. */
function uniqueTuple(ct: Conntrack, e: ConnEntry, orig: Tuple, range: NatRange, manip: Manip, rng: Rng): Tuple {
  let t = orig;
  if (range.mapIps) {
    let ip = range.minIp;
    if (range.maxIp > range.minIp) {
      const span = range.maxIp - range.minIp + 1;
      const h = Math.imul((orig.src ^ (range.persistent ? 0 : orig.dst)) >>> 0, 0x9e3779b1) >>> 0;
      ip = range.minIp + (h % span);
    }
    t = manip === "src" ? { ...t, src: ip } : { ...t, dst: ip };
  }
  const used = (x: Tuple): boolean => ct.tupleTaken(invertTuple(x), e);
  const randomAll = range.random || range.randomFully;
  if (!randomAll) {
    const key = keyOf(t, manip);
    const inRange = !range.protoSpecified || (key >= range.minPort && key <= range.maxPort);
    if (inRange && !used(t)) return t;
  }
  if (t.proto !== 1 && !hasPorts(t.proto)) return t;
  let min: number;
  let size: number;
  if (!range.protoSpecified) {
    if (t.proto === 1) {
      min = 0;
      size = 65536;
    } else {
      if (manip === "dst") return t;
      const port = keyOf(t, manip);
      if (port < 1024) {
        if (port < 512) {
          min = 1;
          size = 511;
        } else {
          min = 600;
          size = 424;
        }
      } else {
        min = 1024;
        size = 65535 - 1024 + 1;
      }
    }
  } else {
    min = range.minPort;
    size = range.maxPort - range.minPort + 1;
  }
  let off = randomAll || manip !== "dst" ? rng.below(65536) : 0;
  let attempts = Math.min(size, 128);
  let candidate = t;
  for (;;) {
    for (let i = 0; i < attempts; i++, off++) {
      candidate = withKey(t, manip, min + (off % size));
      if (!used(candidate)) return candidate;
    }
    if (attempts >= size || attempts < 16) return candidate;
    attempts = Math.floor(attempts / 2);
    off = rng.below(65536);
  }
}

const rd32 = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
const rd16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;
function wr16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 255;
  b[o + 1] = v & 255;
}
function wr32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 255;
  b[o + 2] = (v >>> 8) & 255;
  b[o + 3] = v & 255;
}

/**
 * nf_nat_ipv4_manip_pkt: rewrites, in place, the IPv4 packet starting at
 * `offset` so that its source (or destination) address and port are
 * `target`'s, updating the IP, TCP/UDP (pseudo-header) and ICMP checksums.
 */
export function manipPacket(buf: Uint8Array, offset: number, target: Tuple, manip: Manip): void {
  const ihl = (buf[offset]! & 15) * 4;
  const hdroff = offset + ihl;
  const proto = buf[offset + 9]!;
  const fragOff = rd16(buf, offset + 6) & 0x1fff;
  const addrOff = offset + (manip === "src" ? 12 : 16);
  const oldIp = rd32(buf, addrOff);
  const newIp = manip === "src" ? target.src : target.dst;
  if (fragOff === 0) {
    switch (proto) {
      case 6:
      case 17:
      case 132:
      case 136: {
        if (buf.length < hdroff + 8) break;
        const portOff = hdroff + (manip === "src" ? 0 : 2);
        const oldPort = rd16(buf, portOff);
        const newPort = manip === "src" ? target.sport : target.dport;
        wr16(buf, portOff, newPort);
        if (proto === 6) {
          if (buf.length < hdroff + 20) break;
          let c = rd16(buf, hdroff + 16);
          c = updateChecksum32(c, oldIp, newIp);
          c = updateChecksum16(c, oldPort, newPort);
          wr16(buf, hdroff + 16, c);
        } else if (proto === 17 || proto === 136) {
          let c = rd16(buf, hdroff + 6);
          if (c === 0 && proto === 17) break;
          c = updateChecksum32(c, oldIp, newIp);
          c = updateChecksum16(c, oldPort, newPort);
          wr16(buf, hdroff + 6, c === 0 ? 0xffff : c);
        }
        break;
      }
      case 1: {
        if (buf.length < hdroff + 8) break;
        const type = buf[hdroff]!;
        if (type !== 0 && type !== 8 && type !== 13 && type !== 14 && type !== 15 && type !== 16 && type !== 17 && type !== 18) break;
        const oldId = rd16(buf, hdroff + 4);
        const c = updateChecksum16(rd16(buf, hdroff + 2), oldId, target.sport);
        wr16(buf, hdroff + 4, target.sport);
        wr16(buf, hdroff + 2, c);
        break;
      }
    }
  }
  wr16(buf, offset + 10, updateChecksum32(rd16(buf, offset + 10), oldIp, newIp));
  wr32(buf, addrOff, newIp);
}

/**
 * nf_nat_packet: rewrites a packet of direction `dir` at a hook of kind
 * `manip` as the flow's binding says. Returns the packet (a new buffer when
 * it changed).
 */
export function natPacket(packet: Uint8Array, e: ConnEntry, dir: 0 | 1, manip: Manip): Uint8Array {
  let bit = manip === "src" ? IPS_SRC_NAT : IPS_DST_NAT;
  if (dir === 1) bit ^= IPS_SRC_NAT | IPS_DST_NAT;
  if ((e.status & bit) === 0) return packet;
  const target = invertTuple(e.tuples[dir === 0 ? 1 : 0]);
  const out = packet.slice();
  manipPacket(out, 0, target, manip);
  return out;
}

/**
 * nf_nat_icmp_reply_translation: an ICMP error RELATED to a NATed flow has
 * its quoted packet changed back to what its sender sent, and its outer
 * header made to look like a reply to that packet.
 */
export function icmpReplyTranslation(packet: Uint8Array, e: ConnEntry, dir: 0 | 1, manip: Manip): Uint8Array {
  let bit = manip === "src" ? IPS_SRC_NAT : IPS_DST_NAT;
  if (dir === 1) bit ^= IPS_SRC_NAT | IPS_DST_NAT;
  if ((e.status & bit) === 0) return packet;
  const ihl = (packet[0]! & 15) * 4;
  if (packet.length < ihl + 8 + 20) return packet;
  const out = packet.slice();
  const other = e.tuples[dir === 0 ? 1 : 0];
  manipPacket(out, ihl + 8, other, manip === "src" ? "dst" : "src");
  wr16(out, ihl + 2, 0);
  wr16(out, ihl + 2, checksum(out, ihl, out.length));
  const target = { ...invertTuple(other), proto: 1 };
  manipPacket(out, 0, target, manip);
  return out;
}
