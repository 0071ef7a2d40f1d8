/**
 * Generic segmentation offload: a TCP packet larger than the MTU that stands
 * for several MSS-sized segments (Linux's skb with gso_size set), and its
 * segmentation into wire-sized segments by a device that cannot send it
 * whole. The mark lives with the packet's memory, so every view of it (the
 * Ethernet frame, its IPv4 payload: views that end where it ends) carries
 * it; a copy must carry it on (`carryGso`), as skb_copy keeps skb_shinfo.
 * Packets cut from one slab share a buffer, so the mark is keyed by where
 * the packet ends in it as well.
 *
 * Two shapes are segmented, as skb_gso_segment does them: plain TCP/IPv4
 * (tcp4_gso_segment) and TCP inside VXLAN inside UDP/IPv4
 * (skb_udp_tunnel_segment), where each segment gets its own outer headers.
 */
import { finishChecksum, pseudoHeaderSum, readU16, readU32, sumWords, withHeadroom, writeU16, writeU32 } from "@kemu/wire";

/** The largest IPv4 packet GSO or GRO makes (GSO_MAX_SIZE less one: the total length field). */
export const GSO_MAX_SIZE = 65535;

const TCP_FIN = 0x01;
const TCP_PSH = 0x08;
const TCP_CWR = 0x80;

/** gso_size of each super-packet, by the memory it lives in and where it ends there. */
const marks = new WeakMap<ArrayBufferLike, Map<number, number>>();

const endOf = (packet: Uint8Array) => packet.byteOffset + packet.byteLength;

/** Marks `packet` (an IPv4 packet or its Ethernet frame) as a super-packet of `gsoSize`-byte segments. */
export function setGso(packet: Uint8Array, gsoSize: number): void {
  let inBuffer = marks.get(packet.buffer);
  if (inBuffer === undefined) marks.set(packet.buffer, (inBuffer = new Map()));
  inBuffer.set(endOf(packet), gsoSize);
}

/** The gso_size of a super-packet, undefined for an ordinary one (skb_is_gso). */
export function gsoSize(packet: Uint8Array): number | undefined {
  return marks.get(packet.buffer)?.get(endOf(packet));
}

/** Gives `to`, a rewritten copy of `from`, the same mark. */
export function carryGso(from: Uint8Array, to: Uint8Array): void {
  if (from.buffer === to.buffer && endOf(from) === endOf(to)) return;
  const size = gsoSize(from);
  if (size !== undefined) setGso(to, size);
}

/** Where the headers of a TCP packet (plain, or inside VXLAN) are, given where its IPv4 header starts. */
export interface TcpLayout {
  /** Offset of the outer IPv4 header and its UDP header, for a tunnel; -1 otherwise. */
  readonly outerIp: number;
  readonly udp: number;
  /** Offset of the IPv4 header carrying TCP. */
  readonly ip: number;
  readonly tcp: number;
  /** First payload byte. */
  readonly payload: number;
  /** One past the last payload byte. */
  readonly end: number;
}

/**
 * Finds the headers of a TCP (or VXLAN-encapsulated TCP: any UDP is read as
 * VXLAN, the caller knows its port) IPv4 packet starting at `ip`; undefined
 * for any other.
 */
export function tcpLayout(b: Uint8Array, ip: number): TcpLayout | undefined {
  if (b.length < ip + 20 || b[ip]! >> 4 !== 4) return undefined;
  const ihl = (b[ip]! & 15) * 4;
  const end = ip + readU16(b, ip + 2);
  if (end > b.length) return undefined;
  let outerIp = -1;
  let udp = -1;
  let inner = ip;
  if (b[ip + 9] === 17) {
    // UDP → VXLAN (8) → Ethernet (14) → IPv4.
    outerIp = ip;
    udp = ip + ihl;
    const eth = udp + 16;
    inner = eth + 14;
    if (b.length < inner + 20 || readU16(b, eth + 12) !== 0x0800 || b[inner]! >> 4 !== 4) return undefined;
  }
  if (b[inner + 9] !== 6) return undefined;
  const tcp = inner + (b[inner]! & 15) * 4;
  if (b.length < tcp + 20) return undefined;
  const payload = tcp + (b[tcp + 12]! >> 4) * 4;
  if (payload > end) return undefined;
  return { outerIp, udp, ip: inner, tcp, payload, end };
}

/**
 * Bytes of headers in front of each segment of the super-packet `packet`
 * (an IPv4 packet): with gso_size added, the length of its largest segment
 * on the network, which is what an MTU check must compare
 * (skb_gso_validate_network_len).
 */
export function gsoNetworkLen(packet: Uint8Array, size: number): number {
  const l = tcpLayout(packet, 0);
  return l === undefined ? packet.length : Math.min(packet.length, l.payload + size);
}

/**
 * Cuts the super-packet in Ethernet frame `frame` into frames of at most
 * `size` bytes of TCP payload each (skb_gso_segment): sequence numbers
 * advance, IP IDs count up from the original's, CWR stays on the first
 * segment only, FIN and PSH on the last only, and every length and checksum
 * is rewritten, the outer ones of a VXLAN tunnel too.
 */
export function gsoSegment(frame: Uint8Array, size: number): Uint8Array[] {
  const l = frame.length >= 14 && readU16(frame, 12) === 0x0800 ? tcpLayout(frame, 14) : undefined;
  if (l === undefined || size <= 0) return [frame];
  const total = l.end - l.payload;
  const count = Math.max(1, Math.ceil(total / size));
  if (count === 1) return [frame];
  const out: Uint8Array[] = [];
  const hdr = l.payload;
  const seq0 = readU32(frame, l.tcp + 4);
  const id0 = readU16(frame, l.ip + 4);
  const outerId0 = l.outerIp >= 0 ? readU16(frame, l.outerIp + 4) : 0;
  const flags = frame[l.tcp + 13]!;
  const src = readU32(frame, l.ip + 12);
  const dst = readU32(frame, l.ip + 16);
  const udpCsum = l.udp >= 0 && readU16(frame, l.udp + 6) !== 0;
  for (let i = 0; i < count; i++) {
    const from = l.payload + i * size;
    const len = Math.min(size, l.end - from);
    // Cut from the shared slabs: a buffer of its own for each of 45 segments kept the GC busy.
    const seg = withHeadroom(hdr + len);
    seg.set(frame.subarray(0, hdr));
    seg.set(frame.subarray(from, from + len), hdr);
    writeU32(seg, l.tcp + 4, (seq0 + i * size) >>> 0);
    let f = flags;
    if (i > 0) f &= ~TCP_CWR;
    if (i < count - 1) f &= ~(TCP_FIN | TCP_PSH);
    seg[l.tcp + 13] = f;
    const tcpLen = hdr - l.tcp + len;
    writeU16(seg, l.tcp + 16, 0);
    writeU16(seg, l.tcp + 16, finishChecksum(sumWords(seg, l.tcp, hdr + len, pseudoHeaderSum(src, dst, 6, tcpLen))));
    ipFix(seg, l.ip, l.tcp - l.ip + tcpLen, (id0 + i) & 0xffff);
    if (l.outerIp >= 0) {
      ipFix(seg, l.outerIp, hdr + len - l.outerIp, (outerId0 + i) & 0xffff);
      const udpLen = hdr + len - l.udp;
      writeU16(seg, l.udp + 4, udpLen);
      if (udpCsum) {
        writeU16(seg, l.udp + 6, 0);
        const sum = pseudoHeaderSum(readU32(seg, l.outerIp + 12), readU32(seg, l.outerIp + 16), 17, udpLen);
        writeU16(seg, l.udp + 6, finishChecksum(sumWords(seg, l.udp, hdr + len, sum)) || 0xffff);
      }
    }
    out.push(seg);
  }
  return out;
}

/** Sets an IPv4 header's total length and ID, and its checksum. */
export function ipFix(b: Uint8Array, ip: number, totalLen: number, id: number): void {
  writeU16(b, ip + 2, totalLen);
  writeU16(b, ip + 4, id);
  writeU16(b, ip + 10, 0);
  const ihl = (b[ip]! & 15) * 4;
  writeU16(b, ip + 10, finishChecksum(sumWords(b, ip, ip + ihl)));
}
