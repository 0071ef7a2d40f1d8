import type { EventLoop } from "@kemu/kernel";

/**
 * Drives an EventLoop along the wall clock (`kemu up`): timers fire when
 * their emulated time is reached in real time. This is the only place a
 * host's time touches the wall clock.
 */
export class RealTimePump {
  #t0 = 0;
  #handle: NodeJS.Timeout | NodeJS.Immediate | undefined;
  #running = false;

  /**
   * @param epochWall the wall-clock instant (ms since the Unix epoch) that is
   * emulated time 0, shared by every host so their clocks agree.
   */
  constructor(
    private readonly clock: EventLoop,
    private readonly epochWall = performance.timeOrigin + performance.now(),
  ) {}

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#t0 = this.epochWall - performance.timeOrigin;
    this.clock.onEarlier = () => this.#schedule();
    this.#schedule();
  }

  stop(): void {
    this.#running = false;
    this.clock.onEarlier = undefined;
    this.#clear();
  }

  #clear(): void {
    if (this.#handle === undefined) return;
    clearTimeout(this.#handle as NodeJS.Timeout);
    clearImmediate(this.#handle as NodeJS.Immediate);
    this.#handle = undefined;
  }

  #schedule(): void {
    if (!this.#running) return;
    this.#clear();
    const next = this.clock.nextAt();
    if (next === undefined) return;
    const wait = next - (performance.now() - this.#t0);
    this.#handle = wait <= 1 ? setImmediate(() => this.#tick()) : setTimeout(() => this.#tick(), wait);
  }

  #tick(): void {
    this.#handle = undefined;
    this.clock.runUntil(performance.now() - this.#t0);
    this.#schedule();
  }
}
