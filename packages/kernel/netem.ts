import type { Clock } from "./clock.ts";
import type { Rng } from "./random.ts";
import { carryGso } from "./gso.ts";

/** A netem configuration, as `tc qdisc … netem` takes it. Percentages are 0–100. */
export interface NetemConfig {
  /** Fixed delay added to every packet, ms. */
  delayMs: number;
  /** Uniform jitter: ± this many ms around the delay. */
  jitterMs: number;
  /** Random loss, %. */
  lossPct: number;
  /** Gilbert–Elliott loss (`loss gemodel p r 1-h 1-k`), %: p = good→bad, r = bad→good, 1-h = loss in bad, 1-k = loss in good. */
  gemodel?: { p: number; r: number; lossBad: number; lossGood: number } | undefined;
  duplicatePct: number;
  /** Chance of flipping one random bit, %. */
  corruptPct: number;
  /** With a delay: this share of packets is sent at once, out of order, %. */
  reorderPct: number;
  /** Rate limit in bits per second (0: none); packets wait their turn in a queue of `limit`. */
  rateBps: number;
  /** Queue length in packets. */
  limit: number;
}

/** The defaults: a netem that does nothing. */
export const NETEM_NONE: NetemConfig = {
  delayMs: 0,
  jitterMs: 0,
  lossPct: 0,
  duplicatePct: 0,
  corruptPct: 0,
  reorderPct: 0,
  rateBps: 0,
  limit: 1000,
};

/** What netem counted (`tc -s qdisc`). */
export interface NetemStats {
  sentPackets: number;
  sentBytes: number;
  dropped: number;
  overlimits: number;
  duplicated: number;
  corrupted: number;
}

/**
 * The netem queueing discipline on a device's egress: delays, jitter, loss
 * (random or Gilbert–Elliott), duplication, corruption, reordering and a rate
 * limit, on the host's clock and from its seeded random source — so a faulty
 * run repeats exactly. A frame is handed to `out` when it leaves.
 */
export class Netem {
  readonly stats: NetemStats = { sentPackets: 0, sentBytes: 0, dropped: 0, overlimits: 0, duplicated: 0, corrupted: 0 };
  /** The qdisc handle `tc` shows (`8001:`). */
  readonly handle: number;
  #queued = 0;
  /** When the link is free again under the rate limit. */
  #busyUntil = 0;
  /** Gilbert–Elliott state: true in the bad state. */
  #bad = false;
  /** A frame filter: only frames it accepts are shaped (a link fault between two hosts); others pass. */
  filter: ((frame: Uint8Array) => boolean) | undefined;

  constructor(
    public config: NetemConfig,
    private readonly clock: Clock,
    private readonly rng: Rng,
    handle: number,
  ) {
    this.handle = handle;
  }

  /** Takes a frame leaving the device; `out` sends it on. */
  enqueue(frame: Uint8Array, out: (frame: Uint8Array) => void): void {
    if (this.filter && !this.filter(frame)) {
      out(frame);
      return;
    }
    const c = this.config;
    if (this.#lost()) {
      this.stats.dropped++;
      return;
    }
    if (this.#queued >= c.limit) {
      this.stats.dropped++;
      this.stats.overlimits++;
      return;
    }
    const copies = c.duplicatePct > 0 && this.#chance(c.duplicatePct) ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let i = 0; i < copies; i++) {
      let f = frame;
      if (c.corruptPct > 0 && this.#chance(c.corruptPct)) {
        f = frame.slice();
        carryGso(frame, f);
        const bit = this.rng.below(f.length * 8);
        f[bit >> 3]! ^= 1 << (bit & 7);
        this.stats.corrupted++;
      }
      this.#schedule(f, out);
    }
  }

  #schedule(frame: Uint8Array, out: (frame: Uint8Array) => void): void {
    const c = this.config;
    const now = this.clock.now();
    let delay = c.delayMs;
    if (c.jitterMs > 0) delay += (this.rng.next() * 2 - 1) * c.jitterMs;
    // netem's reorder: with a delay set, this share goes at once, ahead of the rest.
    if (c.reorderPct > 0 && c.delayMs > 0 && this.#chance(c.reorderPct)) delay = 0;
    let at = now + Math.max(0, delay);
    if (c.rateBps > 0) {
      const start = Math.max(now, this.#busyUntil);
      this.#busyUntil = start + (frame.length * 8 * 1000) / c.rateBps;
      at = Math.max(at, this.#busyUntil);
    }
    this.#queued++;
    const send = () => {
      this.#queued--;
      this.stats.sentPackets++;
      this.stats.sentBytes += frame.length;
      out(frame);
    };
    if (at <= now) send();
    else this.clock.setTimer(at - now, send);
  }

  #lost(): boolean {
    const c = this.config;
    if (c.gemodel) {
      const g = c.gemodel;
      this.#bad = this.#bad ? !this.#chance(g.r) : this.#chance(g.p);
      return this.#chance(this.#bad ? g.lossBad : g.lossGood);
    }
    return c.lossPct > 0 && this.#chance(c.lossPct);
  }

  #chance(pct: number): boolean {
    return this.rng.next() * 100 < pct;
  }
}
