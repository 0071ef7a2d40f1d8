/**
 * The sender's view of what the peer has selectively acknowledged above
 * SND.UNA (RFC 2018 blocks, kept as RFC 6675 uses them): which holes to
 * retransmit during recovery, and which bytes a go-back-N pass may skip.
 */
import { seqDiff, seqGt, seqLe, seqLt } from "./seq.ts";

/** SACKed ranges [left, right) above SND.UNA, merged and in order. */
export class SackScoreboard {
  #ranges: Array<[number, number]> = [];
  #bytes = 0;

  /** Bytes SACKed above SND.UNA. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The right edge of the highest SACKed range, if any. */
  get highest(): number | undefined {
    return this.#ranges[this.#ranges.length - 1]?.[1];
  }

  /** Merges `blocks`, clipped to (una, max]. True when they SACKed something new. */
  update(blocks: ReadonlyArray<readonly [number, number]>, una: number, max: number): boolean {
    const before = this.#bytes;
    for (let [l, r] of blocks) {
      if (seqLt(l, una)) l = una;
      if (seqGt(r, max)) r = max;
      if (!seqLt(l, r)) continue;
      this.#add(l, r);
    }
    return this.#bytes > before;
  }

  #add(l: number, r: number): void {
    const out: Array<[number, number]> = [];
    let placed = false;
    for (const range of this.#ranges) {
      if (seqLt(range[1], l)) out.push(range);
      else if (seqGt(range[0], r)) {
        if (!placed) out.push([l, r]);
        placed = true;
        out.push(range);
      } else {
        if (seqLt(range[0], l)) l = range[0];
        if (seqGt(range[1], r)) r = range[1];
      }
    }
    if (!placed) out.push([l, r]);
    this.#set(out);
  }

  /** Forgets everything at or below `una` (it has been acknowledged). */
  advance(una: number): void {
    if (this.#ranges.length === 0) return;
    const out: Array<[number, number]> = [];
    for (const [l, r] of this.#ranges) {
      if (seqLe(r, una)) continue;
      out.push([seqLt(l, una) ? una : l, r]);
    }
    this.#set(out);
  }

  /** When `seq` lies in a SACKed range, that range's right edge. */
  coveredUntil(seq: number): number | undefined {
    for (const [l, r] of this.#ranges) {
      if (seqLt(seq, l)) return undefined;
      if (seqLt(seq, r)) return r;
    }
    return undefined;
  }

  /** The left edge of the first SACKed range above `seq`. */
  nextSacked(seq: number): number | undefined {
    for (const [l] of this.#ranges) if (seqGt(l, seq)) return l;
    return undefined;
  }

  /** Forgets everything (the peer may renege, or the connection restarts). */
  clear(): void {
    this.#set([]);
  }

  #set(ranges: Array<[number, number]>): void {
    this.#ranges = ranges;
    this.#bytes = 0;
    for (const [l, r] of ranges) this.#bytes += seqDiff(r, l);
  }
}
