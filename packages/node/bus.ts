import type { Clock } from "@kemu/kernel";

/** A message between two hosts (control-plane traffic, remote exec), timestamped with the sender's clock. */
export interface BusMessage {
  readonly from: string;
  readonly to: string;
  readonly sentAt: number;
  readonly channel: string;
  readonly body: unknown;
}

/**
 * Messages between hosts that do not travel as frames: the main thread
 * relays them. A message sent at t is handled at t + latency on the
 * receiver's clock, so on lockstep time the run stays deterministic.
 */
export class Bus {
  readonly #handlers = new Map<string, (msg: BusMessage) => void>();

  constructor(
    readonly self: string,
    private readonly clock: Clock,
    private readonly out: (msg: BusMessage) => void,
    readonly latencyMs: number,
  ) {}

  /** Sends `body` to host `to` on `channel`. */
  send(to: string, channel: string, body: unknown): void {
    this.out({ from: this.self, to, sentAt: this.clock.now(), channel, body });
  }

  /** Registers the handler of a channel (one per channel). */
  handle(channel: string, fn: (msg: BusMessage) => void): void {
    this.#handlers.set(channel, fn);
  }

  /** A message arrived from the relay: run its handler when its time comes. */
  deliver(msg: BusMessage): void {
    const at = Math.max(msg.sentAt + this.latencyMs, this.clock.now());
    this.clock.setTimer(at - this.clock.now(), () => this.#handlers.get(msg.channel)?.(msg));
  }
}
