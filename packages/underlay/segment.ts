import { isMulticastMac, type MacAddr, readMac } from "@kemu/wire";
import { allocateRing, DEFAULT_RING, Ring, type RingShape } from "./ring.ts";

/** One L2 segment of the underlay as every member sees it: a ring per member. */
export interface SegmentLayout {
  readonly name: string;
  /** The inbound ring of each member, by member index (0-based). */
  readonly rings: readonly SharedArrayBuffer[];
  readonly shape: RingShape;
  /** One-way latency of the segment, ms: also the lookahead of lockstep time. */
  readonly latencyMs: number;
  /** The largest IP packet the segment carries (frames up to mtu + 14 bytes). */
  readonly mtu: number;
}

/** Makes the shared memory of a segment with `members` ports. */
export function createSegment(
  name: string,
  members: number,
  options: { latencyMs?: number; mtu?: number; shape?: RingShape } = {},
): SegmentLayout {
  const shape = options.shape ?? DEFAULT_RING;
  const rings: SharedArrayBuffer[] = [];
  for (let i = 0; i < members; i++) rings.push(allocateRing(shape));
  return { name, rings, shape, latencyMs: options.latencyMs ?? 0.05, mtu: options.mtu ?? 1500 };
}

/** A frame that arrived on a port, with where and when it was sent. */
export interface Arrival {
  readonly frame: Uint8Array;
  readonly source: number;
  readonly sentAt: number;
  /** When it reaches the receiver: sentAt + the segment's latency. */
  readonly arriveAt: number;
}

/** Counters of one port. */
export interface PortStats {
  sent: number;
  received: number;
  /** Frames larger than the segment's MTU, dropped as a switch would. */
  oversize: number;
  /** Frames a full ring refused. */
  ringFull: number;
}

/**
 * One member's attachment to a segment. Sending switches by destination MAC,
 * learned from the source MACs of frames received (a distributed learning
 * switch); unknown unicast, broadcast and multicast go to every other member.
 */
export class SegmentPort {
  readonly #rings: Ring[];
  readonly #fdb = new Map<MacAddr, number>();
  /** The source MAC learned last, and its member: a run of frames from one sender is learned once. */
  #lastSrc: MacAddr | undefined;
  #lastSource = -1;
  /** The destination MAC looked up last and where it went (a run of frames to one host is looked up once). */
  #sentTo: { dst: MacAddr; known: number | undefined } | undefined;
  readonly stats: PortStats = { sent: 0, received: 0, oversize: 0, ringFull: 0 };
  /** On lockstep time: frames this member may still put on each ring this round; undefined on real time. */
  readonly #credit: Int32Array | undefined;
  readonly #perRound: number;

  /**
   * With `lockstep`, room on a ring is a per-round credit rather than the
   * ring's momentary state, which depends on when its consumer ran: each
   * consumer drains its ring once per round, so a ring holds at most two
   * rounds of every other member's frames, and a credit of
   * slots / (2 × (members − 1)) per round never fills it — the same frames
   * wait, whatever the threads' timing.
   */
  constructor(
    readonly layout: SegmentLayout,
    readonly index: number,
    options: { lockstep?: boolean } = {},
  ) {
    this.#rings = layout.rings.map((sab) => new Ring(sab, layout.shape));
    const others = Math.max(1, layout.rings.length - 1);
    this.#perRound = Math.max(1, Math.floor(layout.shape.slots / (2 * others)));
    this.#credit = options.lockstep ? new Int32Array(layout.rings.length).fill(this.#perRound) : undefined;
  }

  /** A new lockstep round: every ring's credit is whole again. */
  newRound(): void {
    this.#credit?.fill(this.#perRound);
  }

  /** The member whose host has the frame's destination MAC, or undefined to flood (unknown, broadcast, multicast). */
  #lookup(frame: Uint8Array): number | undefined {
    const dst = readMac(frame, 0);
    const last = this.#sentTo;
    if (last !== undefined && last.dst === dst) return last.known;
    const known = isMulticastMac(dst) ? undefined : this.#fdb.get(dst);
    this.#sentTo = { dst, known };
    return known;
  }

  /** Whether every ring `frame` goes to can take it now. */
  hasRoom(frame: Uint8Array): boolean {
    if (frame.length < 14) return true;
    const known = this.#lookup(frame);
    if (known !== undefined) return known === this.index || this.#roomOn(known);
    for (let i = 0; i < this.#rings.length; i++) if (i !== this.index && !this.#roomOn(i)) return false;
    return true;
  }

  #roomOn(i: number): boolean {
    return this.#credit ? this.#credit[i]! > 0 : this.#rings[i]!.hasRoom;
  }

  #push(i: number, frame: Uint8Array, now: number): void {
    if (this.#credit) this.#credit[i]!--;
    if (!this.#rings[i]!.push(frame, this.index, now)) this.stats.ringFull++;
  }

  /** This member's inbound ring. */
  get inbound(): Ring {
    return this.#rings[this.index]!;
  }

  /** Puts a frame on the segment at emulated time `now`. */
  send(frame: Uint8Array, now: number): void {
    if (frame.length < 14) return;
    if (frame.length > this.layout.mtu + 14) {
      this.stats.oversize++;
      return;
    }
    this.stats.sent++;
    const known = this.#lookup(frame);
    if (known !== undefined) {
      if (known !== this.index) this.#push(known, frame, now);
      return;
    }
    for (let i = 0; i < this.#rings.length; i++) if (i !== this.index) this.#push(i, frame, now);
  }

  /**
   * Takes every frame waiting on this member's ring, in a deterministic order
   * (send time, then sender, then the sender's own order), learning source MACs.
   */
  drain(): Arrival[] {
    const out: Arrival[] = [];
    const latency = this.layout.latencyMs;
    const ring = this.inbound;
    let sorted = true;
    for (let f = ring.arrival(latency); f; f = ring.arrival(latency)) {
      const last = out[out.length - 1];
      if (last !== undefined && (f.sentAt < last.sentAt || (f.sentAt === last.sentAt && f.source < last.source))) sorted = false;
      out.push(f);
    }
    // A stable sort keeps each sender's frames in the order it sent them (most drains are in order already).
    if (!sorted) out.sort((a, b) => a.sentAt - b.sentAt || a.source - b.source);
    this.stats.received += out.length;
    for (let i = 0; i < out.length; i++) {
      const a = out[i]!;
      const src = readMac(a.frame, 6);
      if (src === this.#lastSrc && a.source === this.#lastSource) continue;
      this.#lastSrc = src;
      this.#lastSource = a.source;
      if (!isMulticastMac(src) && this.#fdb.get(src) !== a.source) {
        this.#fdb.set(src, a.source);
        this.#sentTo = undefined;
      }
    }
    return out;
  }
}
