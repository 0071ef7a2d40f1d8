/**
 * The byte stores of a TCP socket: a chunk list for the send and receive
 * queues (appending and consuming never copy the whole), and the
 * out-of-order queue that reassembles segments arriving ahead of RCV.NXT.
 */
import { seqAdd, seqDiff, seqGt, seqLt } from "./seq.ts";

const EMPTY = new Uint8Array(0);

/**
 * A FIFO of bytes kept as a list of chunks. Readers take from the front;
 * `copyOut` reads at any offset without consuming (for building segments
 * out of the send queue).
 */
export class ByteQueue {
  #chunks: Uint8Array[] = [];
  /** Index of the first live chunk in #chunks (spent ones are compacted away lazily). */
  #first = 0;
  /** Bytes already consumed from the first live chunk. */
  #head = 0;
  #length = 0;
  // A cursor for copyOut: the chunk index and the queue offset at which it starts.
  #cursorIndex = 0;
  #cursorOffset = 0;

  /** Bytes queued. */
  get length(): number {
    return this.#length;
  }

  /** Appends `bytes`; the queue keeps the reference (the caller hands the buffer over). */
  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#chunks.push(bytes);
    this.#length += bytes.length;
  }

  /**
   * Removes up to `max` bytes from the front (everything when omitted). A
   * read inside one chunk returns a view of it; a longer one a new buffer.
   */
  shift(max = Number.POSITIVE_INFINITY): Uint8Array {
    const n = Math.min(max, this.#length);
    if (n <= 0) return EMPTY;
    const first = this.#chunks[this.#first]!;
    if (first.length - this.#head >= n) {
      const out = first.subarray(this.#head, this.#head + n);
      this.drop(n);
      return out;
    }
    const out = new Uint8Array(n);
    this.copyOut(0, n, out, 0);
    this.drop(n);
    return out;
  }

  /** Discards `n` bytes from the front. */
  drop(n: number): void {
    n = Math.min(n, this.#length);
    this.#length -= n;
    this.#cursorOffset -= n;
    while (n > 0) {
      const first = this.#chunks[this.#first]!;
      const left = first.length - this.#head;
      if (n < left) {
        this.#head += n;
        break;
      }
      n -= left;
      this.#first++;
      this.#head = 0;
    }
    if (this.#cursorIndex < this.#first) {
      this.#cursorIndex = this.#first;
      this.#cursorOffset = -this.#head;
    }
    if (this.#first > 64 && this.#first * 2 > this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#first);
      this.#cursorIndex -= this.#first;
      this.#first = 0;
    }
    if (this.#length === 0) {
      this.#chunks = [];
      this.#first = 0;
      this.#head = 0;
      this.#cursorIndex = 0;
      this.#cursorOffset = 0;
    }
  }

  /** Copies `len` bytes starting `offset` bytes into the queue to `target[at…]`. */
  copyOut(offset: number, len: number, target: Uint8Array, at: number): void {
    if (offset < 0 || offset + len > this.#length) throw new RangeError(`copyOut ${offset}+${len} of ${this.#length}`);
    // Offsets below are relative to the start of the first live chunk (before #head).
    let pos = offset + this.#head;
    let index = this.#first;
    let start = 0;
    const cursorStart = this.#cursorOffset + this.#head;
    if (this.#cursorIndex >= this.#first && cursorStart <= pos) {
      index = this.#cursorIndex;
      start = cursorStart;
    }
    while (len > 0) {
      const chunk = this.#chunks[index]!;
      const end = start + chunk.length;
      if (pos >= end) {
        index++;
        start = end;
        continue;
      }
      const from = pos - start;
      const n = Math.min(len, chunk.length - from);
      target.set(chunk.subarray(from, from + n), at);
      at += n;
      pos += n;
      len -= n;
      this.#cursorIndex = index;
      this.#cursorOffset = start - this.#head;
    }
  }

  /** Empties the queue. */
  clear(): void {
    this.drop(this.#length);
  }
}

interface Piece {
  seq: number;
  data: Uint8Array;
}

/**
 * Segments received ahead of RCV.NXT, kept sorted and without overlaps:
 * bytes already held win over a later copy of them, so duplicates cost
 * nothing. `take` hands back what has become contiguous.
 */
export class Reassembly {
  #pieces: Piece[] = [];
  #bytes = 0;
  /** Left edge of the piece most recently added, for the first SACK block. */
  #recent: number | undefined;

  /** Bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  get empty(): boolean {
    return this.#pieces.length === 0;
  }

  /** Stores `data` that starts at `seq`, dropping the parts already held. */
  insert(seq: number, data: Uint8Array): void {
    if (data.length === 0) return;
    const end = seqAdd(seq, data.length);
    const fresh: Piece[] = [];
    let cursor = seq;
    for (const p of this.#pieces) {
      const pEnd = seqAdd(p.seq, p.data.length);
      if (!seqGt(pEnd, cursor)) continue;
      if (!seqLt(p.seq, end)) break;
      if (seqLt(cursor, p.seq)) fresh.push({ seq: cursor, data: data.subarray(seqDiff(cursor, seq), seqDiff(p.seq, seq)) });
      cursor = pEnd;
      if (!seqLt(cursor, end)) break;
    }
    if (seqLt(cursor, end)) fresh.push({ seq: cursor, data: data.subarray(seqDiff(cursor, seq)) });
    if (fresh.length === 0) return;
    for (const f of fresh) {
      this.#bytes += f.data.length;
      let i = this.#pieces.length;
      while (i > 0 && seqGt(this.#pieces[i - 1]!.seq, f.seq)) i--;
      this.#pieces.splice(i, 0, f);
    }
    this.#recent = seq;
  }

  /**
   * Removes the pieces that start at or before `rcvNxt` and returns their
   * bytes past `rcvNxt`, in order; stops at the first gap.
   */
  take(rcvNxt: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    let n = 0;
    while (n < this.#pieces.length) {
      const p = this.#pieces[n]!;
      if (seqGt(p.seq, rcvNxt)) break;
      n++;
      this.#bytes -= p.data.length;
      const skip = seqDiff(rcvNxt, p.seq);
      if (skip >= p.data.length) continue;
      const data = p.data.subarray(skip);
      out.push(data);
      rcvNxt = seqAdd(rcvNxt, data.length);
    }
    if (n > 0) this.#pieces.splice(0, n);
    return out;
  }

  /**
   * Up to `max` SACK blocks [left, right) of the contiguous runs held, the
   * run holding the most recent arrival first (RFC 2018 §4), then the
   * others from the highest down.
   */
  sackBlocks(max: number): Array<[number, number]> {
    const runs: Array<[number, number]> = [];
    for (const p of this.#pieces) {
      const end = seqAdd(p.seq, p.data.length);
      const last = runs[runs.length - 1];
      if (last && last[1] === p.seq) last[1] = end;
      else runs.push([p.seq, end]);
    }
    const recent = this.#recent;
    const i = recent === undefined ? -1 : runs.findIndex(([l, r]) => !seqLt(recent, l) && seqLt(recent, r));
    const ordered = i >= 0 ? [runs[i]!, ...runs.filter((_, j) => j !== i).reverse()] : runs.reverse();
    return ordered.slice(0, max);
  }

  /** Drops everything held. */
  clear(): void {
    this.#pieces = [];
    this.#bytes = 0;
    this.#recent = undefined;
  }
}
