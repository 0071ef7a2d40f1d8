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
import { finishChecksum, pseudoHeaderSum, sumWords } from "@kemu/wire";
import { GSO_MAX_SIZE, setGso } from "./gso.ts";

/** How many flows a poll holds packets for at once (MAX_GRO_SKBS). */
const MAX_HELD = 8;

const TCP_FIN = 0x01;
const TCP_PSH = 0x08;
const TCP_ACK = 0x10;

/** What a mergeable frame is: where its headers are and what identifies its flow. */
interface Seg {
  readonly frame: Uint8Array;
  readonly key: string;
  readonly outerIp: number;
  readonly udp: number;
  readonly ip: number;
  readonly tcp: number;
  readonly payload: number;
  readonly end: number;
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

function u16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 8;
  b[at + 1] = v & 255;
}

/** An IPv4 header GRO takes: version 4, no options, not a fragment, a good checksum. */
function plainIp(b: Uint8Array, ip: number): boolean {
  if (b.length < ip + 20 || b[ip] !== 0x45) return false;
  if ((u16(b, ip + 6) & 0x3fff) !== 0) return false;
  return finishChecksum(sumWords(b, ip, ip + 20)) === 0;
}

/**
 * Reads a frame as a candidate: TCP with payload and only ACK/PSH/FIN, over
 * IPv4, possibly inside VXLAN on a port `tunnelPort` says is one (outer UDP
 * without checksum). Undefined for anything GRO passes up as it is.
 */
function candidate(frame: Uint8Array, tunnelPort: (port: number) => boolean): Seg | undefined {
  if (frame.length < 54 || u16(frame, 12) !== 0x0800 || !plainIp(frame, 14)) return undefined;
  const end = 14 + u16(frame, 16);
  if (end > frame.length) return undefined;
  let outerIp = -1;
  let udp = -1;
  let ip = 14;
  let key = "";
  if (frame[23] === 17) {
    udp = 34;
    if (end < udp + 16 + 14 + 20 || u16(frame, udp + 6) !== 0 || !tunnelPort(u16(frame, udp + 2))) return undefined;
    if ((frame[udp + 8]! & 0x08) === 0 || u16(frame, udp + 8 + 8 + 12) !== 0x0800) return undefined;
    outerIp = 14;
    ip = udp + 16 + 14;
    if (!plainIp(frame, ip)) return undefined;
    // The outer flow, the VNI and the inner MACs.
    key = `${u32(frame, 26)}>${u32(frame, 30)}:${u32(frame, udp)}:${u32(frame, udp + 12)}:`;
    for (let i = udp + 16; i < udp + 28; i++) key += frame[i]!.toString(16) + ".";
  }
  if (frame[ip + 9] !== 6) return undefined;
  const tcp = ip + 20;
  const ipEnd = ip + u16(frame, ip + 2);
  if (ipEnd !== end || end < tcp + 20) return undefined;
  const payload = tcp + (frame[tcp + 12]! >> 4) * 4;
  if (payload <= tcp + 19 || payload >= end) return undefined;
  const flags = frame[tcp + 13]!;
  if ((flags & ~(TCP_ACK | TCP_PSH | TCP_FIN)) !== 0 || (flags & TCP_ACK) === 0) return undefined;
  const src = u32(frame, ip + 12);
  const dst = u32(frame, ip + 16);
  const sum = sumWords(frame, payload, end);
  const check = sumWords(frame, tcp, payload, pseudoHeaderSum(src, dst, 6, end - tcp));
  if (finishChecksum(check + sum) !== 0) return undefined;
  key += `${src}>${dst}:${u32(frame, tcp)}`;
  return { frame, key, outerIp, udp, ip, tcp, payload, end, seq: u32(frame, tcp + 4), flags, sum };
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
  const id = u16(b, ip + 4);
  const id0 = u16(a, ip + 4);
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
  setIpLength(out, f.ip, end - f.ip);
  if (f.outerIp >= 0) {
    setIpLength(out, f.outerIp, end - f.outerIp);
    put16(out, f.udp + 4, end - f.udp);
  }
  const tcpLen = end - f.tcp;
  put16(out, f.tcp + 16, 0);
  const head = sumWords(out, f.tcp, hdr, pseudoHeaderSum(u32(out, f.ip + 12), u32(out, f.ip + 16), 6, tcpLen));
  put16(out, f.tcp + 16, finishChecksum(head + sum));
  setGso(out, f.end - f.payload);
  return out;
}

function swap(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ((s & 0xff) << 8) | (s >>> 8);
}

function setIpLength(b: Uint8Array, ip: number, len: number): void {
  put16(b, ip + 2, len);
  put16(b, ip + 10, 0);
  put16(b, ip + 10, finishChecksum(sumWords(b, ip, ip + 20)));
}

/**
 * Runs one poll's frames through GRO: returns what the stack receives, in
 * order per flow, merged super-packets marked with their gso_size.
 * `tunnelPort` says whether a UDP destination port is a VXLAN socket's.
 */
export function groReceive(frames: readonly Uint8Array[], tunnelPort: (port: number) => boolean): Uint8Array[] {
  const out: Uint8Array[] = [];
  const held = new Map<string, Held>();
  const flush = (key: string) => {
    const h = held.get(key);
    if (h === undefined) return;
    held.delete(key);
    out.push(complete(h));
  };
  for (const frame of frames) {
    const s = candidate(frame, tunnelPort);
    if (s === undefined) {
      // Not mergeable: what was held for its flow goes first, if it is TCP at all.
      const k = flowKeyOf(frame, tunnelPort);
      if (k !== undefined) flush(k);
      out.push(frame);
      continue;
    }
    const h = held.get(s.key);
    if (h !== undefined && continues(h, s)) {
      h.parts.push(s);
      h.bytes += s.end - s.payload;
      h.flags |= s.flags & (TCP_PSH | TCP_FIN);
      if (s.flags & (TCP_PSH | TCP_FIN) || s.end - s.payload < h.first.end - h.first.payload) h.closed = true;
      continue;
    }
    if (h !== undefined) flush(s.key);
    if (held.size >= MAX_HELD) flush(held.keys().next().value!);
    held.set(s.key, {
      first: s,
      parts: [s],
      bytes: s.end - s.payload,
      flags: s.flags,
      closed: (s.flags & (TCP_PSH | TCP_FIN)) !== 0,
    });
  }
  for (const key of [...held.keys()]) flush(key);
  return out;
}

/** The flow key of a TCP frame GRO does not merge (a pure ACK, a SYN), so what is held for it goes first. */
function flowKeyOf(frame: Uint8Array, tunnelPort: (port: number) => boolean): string | undefined {
  if (frame.length < 54 || u16(frame, 12) !== 0x0800 || frame[14] !== 0x45) return undefined;
  let ip = 14;
  let key = "";
  if (frame[23] === 17) {
    const udp = 34;
    if (frame.length < udp + 16 + 14 + 40 || !tunnelPort(u16(frame, udp + 2))) return undefined;
    ip = udp + 16 + 14;
    if (frame[ip] !== 0x45) return undefined;
    key = `${u32(frame, 26)}>${u32(frame, 30)}:${u32(frame, udp)}:${u32(frame, udp + 12)}:`;
    for (let i = udp + 16; i < udp + 28; i++) key += frame[i]!.toString(16) + ".";
  }
  if (frame[ip + 9] !== 6 || frame.length < ip + 24) return undefined;
  return `${key}${u32(frame, ip + 12)}>${u32(frame, ip + 16)}:${u32(frame, ip + 20)}`;
}
