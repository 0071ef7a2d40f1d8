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
  readonly #calls = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  #nextCall = 1;

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

  /** Asks host `to` for an answer on `channel` (served there with `serve`). */
  request(to: string, channel: string, body: unknown): Promise<unknown> {
    if (!this.#handlers.has("rpc-reply")) {
      this.handle("rpc-reply", (msg) => {
        const b = msg.body as { call: number; ok: boolean; value?: unknown; error?: string };
        const p = this.#calls.get(b.call);
        this.#calls.delete(b.call);
        if (b.ok) p?.resolve(b.value);
        else p?.reject(new Error(b.error));
      });
    }
    const call = this.#nextCall++;
    return new Promise((resolve, reject) => {
      this.#calls.set(call, { resolve, reject });
      this.send(to, `rpc:${channel}`, { call, body });
    });
  }

  /** Answers `request`s on `channel`. */
  serve(channel: string, fn: (body: unknown, from: string) => Promise<unknown> | unknown): void {
    this.handle(`rpc:${channel}`, (msg) => {
      const { call, body } = msg.body as { call: number; body: unknown };
      Promise.resolve()
        .then(() => fn(body, msg.from))
        .then(
          (value) => this.send(msg.from, "rpc-reply", { call, ok: true, value }),
          (err: unknown) => this.send(msg.from, "rpc-reply", { call, ok: false, error: err instanceof Error ? err.message : String(err) }),
        );
    });
  }

  /** A message arrived from the relay: run its handler when its time comes. */
  deliver(msg: BusMessage): void {
    const at = Math.max(msg.sentAt + this.latencyMs, this.clock.now());
    this.clock.setTimer(at - this.clock.now(), () => this.#handlers.get(msg.channel)?.(msg));
  }
}
