/**
 * Time for the kernel model. Nothing in the kernel reads the wall clock or
 * calls setTimeout: it asks a Clock, so that a host can run on emulated time
 * (deterministic, as fast as the CPU allows) or follow the wall clock.
 */

/** A scheduled callback; cancel it to stop it from running. */
export interface Timer {
  cancel(): void;
}

/** What the kernel knows of time: the current instant and timers. Milliseconds. */
export interface Clock {
  /** Emulated milliseconds since the host booted (a float: 0.002 is 2 µs). */
  now(): number;
  /** Runs `fn` once, `delayMs` from now (0 means: after what is already due). */
  setTimer(delayMs: number, fn: () => void): Timer;
}

interface Entry {
  at: number;
  seq: number;
  fn: (() => void) | undefined;
}

/**
 * A discrete-event clock: a heap of timers ordered by (time, insertion order).
 * Time moves only when its driver says so (`runUntil`, `runNext`), which makes
 * every run repeatable. A real-time driver moves it along with the wall clock.
 */
export class EventLoop implements Clock {
  #now = 0;
  #seq = 0;
  #heap: Entry[] = [];
  /**
   * Called when a new timer becomes the earliest pending one, so that a
   * real-time driver sleeping until a later timer can wake up sooner.
   */
  onEarlier: ((at: number) => void) | undefined;

  now(): number {
    return this.#now;
  }

  setTimer(delayMs: number, fn: () => void): Timer {
    const entry: Entry = { at: this.#now + Math.max(0, delayMs), seq: this.#seq++, fn };
    this.#push(entry);
    if (this.onEarlier !== undefined && this.#heap[0] === entry) this.onEarlier(entry.at);
    return {
      cancel: () => {
        entry.fn = undefined;
      },
    };
  }

  /** The time of the earliest pending timer, or undefined when none is pending. */
  nextAt(): number | undefined {
    this.#dropCancelled();
    return this.#heap[0]?.at;
  }

  /** Runs every timer due at or before `t` in order, then sets the time to `t`. */
  runUntil(t: number): void {
    for (;;) {
      this.#dropCancelled();
      const top = this.#heap[0];
      if (top === undefined || top.at > t) break;
      this.#pop();
      if (top.at > this.#now) this.#now = top.at;
      const fn = top.fn!;
      top.fn = undefined;
      fn();
    }
    if (t > this.#now) this.#now = t;
  }

  /**
   * Moves time forward to `t` without running anything; nothing may be
   * pending before `t` (lockstep time ends every round this way).
   */
  skipTo(t: number): void {
    const next = this.nextAt();
    if (next !== undefined && next < t) throw new Error(`skipTo(${t}) would skip a timer at ${next}`);
    if (t > this.#now) this.#now = t;
  }

  /** Runs the timers due now (those scheduled with no delay). */
  runDue(): void {
    this.runUntil(this.#now);
  }

  /** Number of pending timers (cancelled ones may still be counted). */
  get pending(): number {
    return this.#heap.length;
  }

  #dropCancelled(): void {
    while (this.#heap.length > 0 && this.#heap[0]!.fn === undefined) this.#pop();
  }

  #less(a: Entry, b: Entry): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  #push(e: Entry): void {
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  #pop(): void {
    const h = this.#heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.#less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.#less(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
