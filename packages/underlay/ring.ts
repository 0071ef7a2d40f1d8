/**
 * A bounded multi-producer, single-consumer queue of frames in a
 * SharedArrayBuffer (Vyukov's bounded queue): producers reserve a slot with a
 * compare-and-swap on the tail, write, then publish by storing the slot's
 * sequence number; the one consumer reads slots in order. Slots are 8-byte
 * aligned, because unaligned payload copies are several times slower.
 */

// The producers' words and the consumer's head on cache lines of their own:
// sharing one, every frame bounced it between the two cores.
const HDR_TAIL = 0;
const HDR_DOORBELL = 1;
const HDR_SLEEPING = 2;
const HDR_DROPPED = 3;
const HDR_HEAD = 16;
const HDR_INTS = 32;
/** Bytes before a slot's payload: seq, len, source, pad (4 × i32), then the send time (f64). */
const SLOT_HEADER = 24;
/** The consumer's slabs that frames are copied out into. */
const SLAB_BYTES = 16384;

/** How a ring is laid out; the same numbers must be used on every side. */
export interface RingShape {
  /** A power of two. */
  readonly slots: number;
  /** Bytes per slot, header included; a multiple of 8. */
  readonly slotSize: number;
}

/** The default: 512 slots of 2 KiB, enough for a 1514-byte frame. */
export const DEFAULT_RING: RingShape = { slots: 512, slotSize: 2048 };

/** Allocates the shared memory of one ring. */
export function allocateRing(shape: RingShape = DEFAULT_RING): SharedArrayBuffer {
  if ((shape.slots & (shape.slots - 1)) !== 0) throw new RangeError("ring slots must be a power of two");
  if (shape.slotSize % 8 !== 0 || shape.slotSize <= SLOT_HEADER) throw new RangeError("bad slot size");
  const sab = new SharedArrayBuffer(HDR_INTS * 4 + shape.slots * shape.slotSize);
  const ints = new Int32Array(sab);
  for (let i = 0; i < shape.slots; i++) ints[(HDR_INTS * 4 + i * shape.slotSize) / 4] = i;
  return sab;
}

/** One frame taken off a ring. */
export interface RingFrame {
  readonly data: Uint8Array;
  /** The index of the member that sent it. */
  readonly source: number;
  /** The sender's emulated time when it sent the frame, ms. */
  readonly sentAt: number;
}

/** A view of a ring in one thread; any number of producers, one consumer. */
export class Ring {
  readonly #ints: Int32Array;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #slab = new Uint8Array(0);
  #slabUsed = 0;
  readonly #mask: number;
  readonly #slots: number;
  readonly #slotSize: number;
  readonly maxFrame: number;

  constructor(
    readonly buffer: SharedArrayBuffer,
    shape: RingShape = DEFAULT_RING,
  ) {
    this.#ints = new Int32Array(buffer);
    this.#bytes = new Uint8Array(buffer);
    this.#view = new DataView(buffer);
    this.#slots = shape.slots;
    this.#mask = shape.slots - 1;
    this.#slotSize = shape.slotSize;
    this.maxFrame = shape.slotSize - SLOT_HEADER;
  }

  /** Frames refused because the ring was full or the frame too large. */
  get dropped(): number {
    return Atomics.load(this.#ints, HDR_DROPPED);
  }

  /** Queues a copy of `frame`; false (and counted) when full or too large. */
  push(frame: Uint8Array, source: number, sentAt: number): boolean {
    if (frame.length > this.maxFrame) {
      Atomics.add(this.#ints, HDR_DROPPED, 1);
      return false;
    }
    const ints = this.#ints;
    let pos = Atomics.load(ints, HDR_TAIL);
    let base: number;
    for (;;) {
      base = HDR_INTS * 4 + (pos & this.#mask) * this.#slotSize;
      const seq = Atomics.load(ints, base >> 2);
      const dif = (seq - pos) | 0;
      if (dif === 0) {
        const seen = Atomics.compareExchange(ints, HDR_TAIL, pos, (pos + 1) | 0);
        if (seen === pos) break;
        pos = seen;
      } else if (dif < 0) {
        Atomics.add(ints, HDR_DROPPED, 1);
        return false;
      } else {
        pos = Atomics.load(ints, HDR_TAIL);
      }
    }
    ints[(base >> 2) + 1] = frame.length;
    ints[(base >> 2) + 2] = source;
    this.#view.setFloat64(base + 16, sentAt, true);
    this.#bytes.set(frame, base + SLOT_HEADER);
    Atomics.store(ints, base >> 2, (pos + 1) | 0);
    Atomics.add(ints, HDR_DOORBELL, 1);
    if (Atomics.load(ints, HDR_SLEEPING) !== 0) Atomics.notify(ints, HDR_DOORBELL);
    return true;
  }

  /** Whether a push now would find a free slot (another producer may take it first). */
  get hasRoom(): boolean {
    const ints = this.#ints;
    const pos = Atomics.load(ints, HDR_TAIL);
    const base = HDR_INTS * 4 + (pos & this.#mask) * this.#slotSize;
    return ((Atomics.load(ints, base >> 2) - pos) | 0) >= 0;
  }

  /** Takes the next frame (a copy), or undefined when the ring is empty. Consumer only. */
  shift(): RingFrame | undefined {
    return this.#take() ? { data: this.#data, source: this.#source, sentAt: this.#sentAt } : undefined;
  }

  /** Takes the next frame as it arrives `latencyMs` after it was sent, or undefined when the ring is empty. Consumer only. */
  arrival(latencyMs: number): { frame: Uint8Array; source: number; sentAt: number; arriveAt: number } | undefined {
    return this.#take() ? { frame: this.#data, source: this.#source, sentAt: this.#sentAt, arriveAt: this.#sentAt + latencyMs } : undefined;
  }

  /** The frame taken last (a consumer's scratch: one object per frame, not two). */
  #data: Uint8Array = new Uint8Array(0);
  #source = 0;
  #sentAt = 0;

  /** Takes the next frame into the scratch fields; false when the ring is empty. */
  #take(): boolean {
    const ints = this.#ints;
    const pos = ints[HDR_HEAD]!;
    const base = HDR_INTS * 4 + (pos & this.#mask) * this.#slotSize;
    const seq = Atomics.load(ints, base >> 2);
    if (((seq - ((pos + 1) | 0)) | 0) < 0) return false;
    const len = ints[(base >> 2) + 1]!;
    this.#source = ints[(base >> 2) + 2]!;
    this.#sentAt = this.#view.getFloat64(base + 16, true);
    this.#data = this.#copyOut(base + SLOT_HEADER, len);
    Atomics.store(ints, base >> 2, (pos + this.#slots) | 0);
    ints[HDR_HEAD] = (pos + 1) | 0;
    return true;
  }

  /**
   * A copy of `len` bytes at `at`, cut from a slab of the consumer's: a new
   * ArrayBuffer for every frame cost more than the copy itself. A frame
   * kept long keeps its slab (a few frames' worth) alive with it.
   */
  #copyOut(at: number, len: number): Uint8Array {
    if (this.#slab.length - this.#slabUsed < len) {
      this.#slab = new Uint8Array(Math.max(SLAB_BYTES, len));
      this.#slabUsed = 0;
    }
    const data = this.#slab.subarray(this.#slabUsed, this.#slabUsed + len);
    data.set(this.#bytes.subarray(at, at + len));
    // Each frame starts on 8 bytes, as a fresh buffer would.
    this.#slabUsed += (len + 7) & ~7;
    return data;
  }

  /** True when a frame is waiting. Consumer only. */
  get ready(): boolean {
    const ints = this.#ints;
    const pos = ints[HDR_HEAD]!;
    const base = HDR_INTS * 4 + (pos & this.#mask) * this.#slotSize;
    return ((Atomics.load(ints, base >> 2) - ((pos + 1) | 0)) | 0) >= 0;
  }

  /**
   * Resolves once a frame may be waiting (the doorbell rang), without
   * blocking the thread. Consumer only.
   */
  async wait(timeoutMs?: number): Promise<void> {
    const ints = this.#ints;
    const bell = Atomics.load(ints, HDR_DOORBELL);
    if (this.ready) return;
    Atomics.store(ints, HDR_SLEEPING, 1);
    try {
      if (this.ready) return;
      const r = Atomics.waitAsync(ints, HDR_DOORBELL, bell, timeoutMs);
      if (r.async) await r.value;
    } finally {
      Atomics.store(ints, HDR_SLEEPING, 0);
    }
  }
}
