import type { Clock, Timer } from "./clock.ts";

interface Waiter<T> {
  resolve(value: T | undefined): void;
  timer: Timer | undefined;
}

/**
 * A bounded queue a process awaits on, with timeouts on the host's clock:
 * a socket's receive queue, a pipe. Items pushed when full are dropped.
 */
export class Mailbox<T> {
  readonly #items: T[] = [];
  readonly #waiters: Waiter<T>[] = [];
  #closed = false;
  /** Items refused because the queue was full. */
  dropped = 0;

  constructor(
    private readonly clock: Clock,
    readonly capacity = 1024,
  ) {}

  /** Queues an item, or hands it straight to a waiting receiver. False when dropped. */
  push(item: T): boolean {
    if (this.#closed) return false;
    const waiter = this.#waiters.shift();
    if (waiter) {
      waiter.timer?.cancel();
      waiter.resolve(item);
      return true;
    }
    if (this.#items.length >= this.capacity) {
      this.dropped++;
      return false;
    }
    this.#items.push(item);
    return true;
  }

  /** The next item; undefined after `timeoutMs` of emulated time or once closed and drained. */
  receive(timeoutMs?: number): Promise<T | undefined> {
    if (this.#items.length > 0) return Promise.resolve(this.#items.shift());
    if (this.#closed || timeoutMs === 0) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiter: Waiter<T> = { resolve, timer: undefined };
      if (timeoutMs !== undefined) {
        waiter.timer = this.clock.setTimer(timeoutMs, () => {
          const i = this.#waiters.indexOf(waiter);
          if (i >= 0) this.#waiters.splice(i, 1);
          resolve(undefined);
        });
      }
      this.#waiters.push(waiter);
    });
  }

  /** The next item if one is queued. */
  tryReceive(): T | undefined {
    return this.#items.shift();
  }

  get length(): number {
    return this.#items.length;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Ends the queue: waiters get undefined, later pushes are refused. */
  close(): void {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) {
      w.timer?.cancel();
      w.resolve(undefined);
    }
  }
}
