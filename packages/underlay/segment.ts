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
  readonly stats: PortStats = { sent: 0, received: 0, oversize: 0, ringFull: 0 };

  constructor(
    readonly layout: SegmentLayout,
    readonly index: number,
  ) {
    this.#rings = layout.rings.map((sab) => new Ring(sab, layout.shape));
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
    const dst = readMac(frame, 0);
    const known = isMulticastMac(dst) ? undefined : this.#fdb.get(dst);
    if (known !== undefined) {
      if (known !== this.index && !this.#rings[known]!.push(frame, this.index, now)) this.stats.ringFull++;
      return;
    }
    for (let i = 0; i < this.#rings.length; i++) {
      if (i !== this.index && !this.#rings[i]!.push(frame, this.index, now)) this.stats.ringFull++;
    }
  }

  /**
   * Takes every frame waiting on this member's ring, in a deterministic order
   * (send time, then sender, then the sender's own order), learning source MACs.
   */
  drain(): Arrival[] {
    const out: Arrival[] = [];
    for (let f = this.inbound.shift(); f; f = this.inbound.shift()) {
      out.push({ frame: f.data, source: f.source, sentAt: f.sentAt, arriveAt: f.sentAt + this.layout.latencyMs });
    }
    // A stable sort keeps each sender's frames in the order it sent them.
    out.sort((a, b) => a.sentAt - b.sentAt || a.source - b.source);
    for (const a of out) {
      this.stats.received++;
      const src = readMac(a.frame, 6);
      if (!isMulticastMac(src)) this.#fdb.set(src, a.source);
    }
    return out;
  }
}
