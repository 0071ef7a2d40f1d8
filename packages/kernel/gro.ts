/**
 * Generic receive offload: the TCP segments of one flow that a NIC takes in
 * one poll are merged, in order, into one super-packet before the stack sees
 * them (napi_gro_receive → inet_gro_receive → tcp4_gro_receive), through a
 * VXLAN tunnel too (udp_gro_receive → vxlan_gro_receive), so that IP,
 * netfilter, routing and TCP run once for many segments.
 *
 * A segment joins the packet held for its flow when it continues it exactly:
 * the next sequence number, the same ACK number, window and options, the
 * same TTL, TOS and DF, the next IP ID, no larger than the first segment,
 * and only ACK with PSH or FIN; a PSH, a FIN or a short segment ends the
 * packet. Anything else (a pure ACK, a SYN, another protocol, a bad
 * checksum) goes up on its own, after what was held for its flow.
 */
import { finishChecksum, pseudoHeaderSum, readU16, readU32, sumWords, writeU16 } from "@kemu/wire";
import { GSO_MAX_SIZE, ipFix, setGso, type TcpLayout, tcpLayout } from "./gso.ts";

/** How many flows a poll holds packets for at once (MAX_GRO_SKBS). */
const MAX_HELD = 8;

const TCP_FIN = 0x01;
const TCP_PSH = 0x08;
const TCP_ACK = 0x10;

/** A mergeable frame: where its headers are, where it sits in its flow, its payload's sum. */
interface Seg extends TcpLayout {
  readonly frame: Uint8Array;
  readonly seq: number;
  readonly flags: number;
  /** The payload's 16-bit word sum (unfolded), from the checksum check. */
  readonly sum: number;
}

/** A packet held for a flow: its first segment and the payloads merged after it. */
interface Held {
  readonly first: Seg;
  readonly parts: Seg[];
  bytes: number;
  flags: number;
  /** Nothing more may join (after a PSH, FIN or short segment). */
  closed: boolean;
}

/** An IPv4 header GRO takes: version 4, no options, not a fragment, a good checksum. */
function plainIp(b: Uint8Array, ip: number): boolean {
  if (b.length < ip + 20 || b[ip] !== 0x45) return false;
  if ((readU16(b, ip + 6) & 0x3fff) !== 0) return false;
  return finishChecksum(sumWords(b, ip, ip + 20)) === 0;
}

/** The headers of a TCP frame, plain or inside VXLAN on a port `tunnelPort` says is a tunnel's; undefined for any other. */
function tcpFrame(frame: Uint8Array, tunnelPort: (port: number) => boolean): TcpLayout | undefined {
  if (frame.length < 54 || readU16(frame, 12) !== 0x0800 || frame[14] !== 0x45) return undefined;
  if (frame[23] === 17 && !tunnelPort(readU16(frame, 36))) return undefined;
  return tcpLayout(frame, 14);
}

/**
 * Reads a frame as a candidate: TCP with payload and only ACK/PSH/FIN, over
 * IPv4, possibly inside VXLAN (outer UDP without checksum). Undefined for
 * anything GRO passes up as it is.
 */
function candidate(frame: Uint8Array, l: TcpLayout | undefined): Seg | undefined {
  if (l === undefined || !plainIp(frame, 14) || l.end !== 14 + readU16(frame, 16)) return undefined;
  if (l.udp >= 0 && (readU16(frame, l.udp + 6) !== 0 || (frame[l.udp + 8]! & 0x08) === 0 || !plainIp(frame, l.ip))) return undefined;
  const { tcp, payload, end } = l;
  if (l.ip + readU16(frame, l.ip + 2) !== end || tcp !== l.ip + 20 || payload <= tcp + 19 || payload >= end) return undefined;
  const flags = frame[tcp + 13]!;
  if ((flags & ~(TCP_ACK | TCP_PSH | TCP_FIN)) !== 0 || (flags & TCP_ACK) === 0) return undefined;
  const sum = sumWords(frame, payload, end);
  const check = sumWords(frame, tcp, payload, pseudoHeaderSum(readU32(frame, l.ip + 12), readU32(frame, l.ip + 16), 6, end - tcp));
  if (finishChecksum(check + sum) !== 0) return undefined;
  // Spelled out, not spread: every Seg has one shape, which keeps the merge loop's property reads fast.
  return { frame, outerIp: l.outerIp, udp: l.udp, ip: l.ip, tcp, payload, end, seq: readU32(frame, tcp + 4), flags, sum };
}

/** Whether bytes [at, at + n) of `a` and `b` are equal. */
function sameBytes(a: Uint8Array, b: Uint8Array, at: number, n: number): boolean {
  for (let i = at; i < at + n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Whether two TCP frames are of one flow (tcp4_gro_receive's and
 * vxlan_gro_receive's matches): addresses and ports, and for a tunnel the
 * outer addresses and ports, the VNI and the inner MACs.
 */
function sameFlow(a: Uint8Array, la: TcpLayout, b: Uint8Array, lb: TcpLayout): boolean {
  if (la.ip !== lb.ip || la.tcp !== lb.tcp || la.udp !== lb.udp) return false;
  if (!sameBytes(a, b, la.ip + 12, 8) || !sameBytes(a, b, la.tcp, 4)) return false;
  return la.udp < 0 || (sameBytes(a, b, la.outerIp + 12, 8) && sameBytes(a, b, la.udp, 4) && sameBytes(a, b, la.udp + 12, 4) && sameBytes(a, b, la.udp + 16, 12));
}

/** Whether `s` continues `h` exactly, headers and all. */
function continues(h: Held, s: Seg): boolean {
  const f = h.first;
  const a = f.frame;
  const b = s.frame;
  if (h.closed || s.payload !== f.payload) return false;
  const size = f.end - f.payload;
  const len = s.end - s.payload;
  if (len > size || f.payload + h.bytes + len > GSO_MAX_SIZE + 14) return false;
  const last = h.parts[h.parts.length - 1]!;
  if (s.seq !== ((last.seq + (last.end - last.payload)) >>> 0)) return false;
  // ACK number, window and options: the same bytes (tcp_gro_receive's flush checks).
  for (let i = f.tcp + 8; i < f.tcp + 12; i++) if (a[i] !== b[i]) return false;
  for (let i = f.tcp + 14; i < f.tcp + 16; i++) if (a[i] !== b[i]) return false;
  for (let i = f.tcp + 20; i < f.payload; i++) if (a[i] !== b[i]) return false;
  const n = h.parts.length;
  if (!sameIp(a, b, f.ip, n)) return false;
  if (f.outerIp >= 0 && !sameIp(a, b, f.outerIp, n)) return false;
  return true;
}

/** TOS, TTL and DF equal, and the ID the n-th one after the first's (or fixed, with DF), as inet_gro_receive wants. */
function sameIp(a: Uint8Array, b: Uint8Array, ip: number, n: number): boolean {
  if (a[ip + 1] !== b[ip + 1] || a[ip + 8] !== b[ip + 8]) return false;
  const df = a[ip + 6]! & 0x40;
  if (df !== (b[ip + 6]! & 0x40)) return false;
  const id = readU16(b, ip + 4);
  const id0 = readU16(a, ip + 4);
  return id === ((id0 + n) & 0xffff) || (df !== 0 && id === id0);
}

/** Builds the merged frame of `h`, marked with the first segment's size; the frame itself when alone. */
function complete(h: Held): Uint8Array {
  const f = h.first;
  if (h.parts.length === 1) return f.frame;
  const hdr = f.payload;
  const out = new Uint8Array(hdr + h.bytes);
  out.set(f.frame.subarray(0, hdr));
  let at = hdr;
  let sum = 0;
  for (const p of h.parts) {
    out.set(p.frame.subarray(p.payload, p.end), at);
    // A payload that lands at an odd offset adds its words one byte out of step.
    sum += ((at - hdr) & 1) === 0 ? p.sum : swap(p.sum);
    at += p.end - p.payload;
  }
  const end = out.length;
  out[f.tcp + 13] = h.flags;
  ipFix(out, f.ip, end - f.ip, readU16(out, f.ip + 4));
  if (f.outerIp >= 0) {
    ipFix(out, f.outerIp, end - f.outerIp, readU16(out, f.outerIp + 4));
    writeU16(out, f.udp + 4, end - f.udp);
  }
  const tcpLen = end - f.tcp;
  writeU16(out, f.tcp + 16, 0);
  const head = sumWords(out, f.tcp, hdr, pseudoHeaderSum(readU32(out, f.ip + 12), readU32(out, f.ip + 16), 6, tcpLen));
  writeU16(out, f.tcp + 16, finishChecksum(head + sum));
  setGso(out, f.end - f.payload);
  return out;
}

function swap(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ((s & 0xff) << 8) | (s >>> 8);
}

/**
 * Runs one poll's frames through GRO: returns what the stack receives, in
 * order per flow, merged super-packets marked with their gso_size.
 * `tunnelPort` says whether a UDP destination port is a VXLAN socket's.
 */
export function groReceive(frames: readonly Uint8Array[], tunnelPort: (port: number) => boolean): Uint8Array[] {
  const out: Uint8Array[] = [];
  // Oldest first, as the flows' packets were started.
  const held: Held[] = [];
  const flush = (h: Held) => {
    held.splice(held.indexOf(h), 1);
    out.push(complete(h));
  };
  const heldFor = (frame: Uint8Array, l: TcpLayout) => held.find((h) => sameFlow(h.first.frame, h.first, frame, l));
  for (const frame of frames) {
    const l = tcpFrame(frame, tunnelPort);
    const s = candidate(frame, l);
    if (s === undefined) {
      // Not mergeable: what was held for its flow goes first, if it is TCP at all.
      const h = l === undefined ? undefined : heldFor(frame, l);
      if (h !== undefined) flush(h);
      out.push(frame);
      continue;
    }
    const h = heldFor(frame, s);
    if (h !== undefined && continues(h, s)) {
      h.parts.push(s);
      h.bytes += s.end - s.payload;
      h.flags |= s.flags & (TCP_PSH | TCP_FIN);
      if (s.flags & (TCP_PSH | TCP_FIN) || s.end - s.payload < h.first.end - h.first.payload) h.closed = true;
      continue;
    }
    if (h !== undefined) flush(h);
    if (held.length >= MAX_HELD) flush(held[0]!);
    held.push({ first: s, parts: [s], bytes: s.end - s.payload, flags: s.flags, closed: (s.flags & (TCP_PSH | TCP_FIN)) !== 0 });
  }
  while (held.length > 0) flush(held[0]!);
  return out;
}
