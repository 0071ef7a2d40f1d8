/**
 * The work queue every controller runs on: keys added by watch callbacks
 * (which must not write), processed on the clock in insertion order, each
 * key once per round however often it was added; failed keys retried later.
 */
import { ApiError } from "@kemu/api";
import type { Clock, Timer } from "@kemu/kernel";

/** Options of a WorkQueue. */
export interface WorkQueueOptions {
  /** Delay before a failed key is retried. Default 100 ms. */
  retryMs?: number;
  /** Called with errors that are not API errors (bugs); default: logged. */
  onError?: (err: unknown, key: string) => void;
}

/** Keys to sync, processed on the clock. */
export class WorkQueue {
  readonly #clock: Clock;
  readonly #handle: (key: string) => void;
  readonly #retryMs: number;
  readonly #onError: (err: unknown, key: string) => void;
  #pending = new Set<string>();
  #timer: Timer | undefined;
  readonly #later = new Map<string, { at: number; timer: Timer }>();
  #stopped = false;

  constructor(clock: Clock, handle: (key: string) => void, options: WorkQueueOptions = {}) {
    this.#clock = clock;
    this.#handle = handle;
    this.#retryMs = options.retryMs ?? 100;
    this.#onError = options.onError ?? ((err, key) => console.error(`sync ${key}:`, err));
  }

  /** Queues a key for the next round (now, on the clock). */
  add(key: string): void {
    if (this.#stopped) return;
    this.#pending.add(key);
    this.#timer ??= this.#clock.setTimer(0, () => this.#run());
  }

  /** Queues a key after a delay (the earliest of several requests wins). */
  addAfter(key: string, delayMs: number): void {
    if (this.#stopped) return;
    if (delayMs <= 0) return this.add(key);
    const at = this.#clock.now() + delayMs;
    const prev = this.#later.get(key);
    if (prev !== undefined && prev.at <= at) return;
    prev?.timer.cancel();
    const timer = this.#clock.setTimer(delayMs, () => {
      this.#later.delete(key);
      this.add(key);
    });
    this.#later.set(key, { at, timer });
  }

  /** Stops: nothing queued runs any more. */
  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    for (const l of this.#later.values()) l.timer.cancel();
    this.#later.clear();
    this.#pending.clear();
  }

  #run(): void {
    this.#timer = undefined;
    const keys = [...this.#pending];
    this.#pending.clear();
    for (const key of keys) {
      if (this.#stopped) return;
      try {
        this.#handle(key);
      } catch (err) {
        if (!(err instanceof ApiError)) this.#onError(err, key);
        this.addAfter(key, this.#retryMs);
      }
    }
  }
}

/** `namespace/name` of an object, the usual queue key. */
export function keyOf(namespace: string | undefined, name: string | undefined): string {
  return `${namespace ?? ""}/${name ?? ""}`;
}

/** Splits a `namespace/name` key. */
export function splitKey(key: string): [string, string] {
  const i = key.indexOf("/");
  return [key.slice(0, i), key.slice(i + 1)];
}

/** What a started controller gives back. */
export interface Controller {
  /** Stops watching and processing. */
  stop(): void;
}
