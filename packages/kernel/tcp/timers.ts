/**
 * Time for TCP: the RFC 6298 retransmission timeout estimator with Linux's
 * bounds, and a timer whose deadline can move often at no cost.
 */
import type { Clock, Timer } from "../clock.ts";

/** Linux's TCP_RTO_MIN, TCP_RTO_MAX and TCP_TIMEOUT_INIT, in ms. */
export const RTO_MIN_MS = 200;
/** The ceiling of the backed-off retransmission timeout. */
export const RTO_MAX_MS = 120_000;
/** The timeout before the first RTT sample (RFC 6298 §2.1: one second). */
export const RTO_INITIAL_MS = 1_000;

/**
 * Smoothed RTT and RTT variance (RFC 6298 §2) giving the retransmission
 * timeout, floored as Linux does (srtt + max(4·rttvar, 200 ms)) and doubled
 * per timeout up to 120 s until an ACK for new data resets the backoff.
 */
export class RtoEstimator {
  #srtt: number | undefined;
  #rttvar = 0;
  #base = RTO_INITIAL_MS;
  #backoffs = 0;

  /** The smoothed round-trip time in ms, once measured. */
  get srtt(): number | undefined {
    return this.#srtt;
  }

  /** The RTT variance in ms. */
  get rttvar(): number {
    return this.#rttvar;
  }

  /** The current timeout in ms, backoff included. */
  get rto(): number {
    return Math.min(this.#base * 2 ** this.#backoffs, RTO_MAX_MS);
  }

  /** How many times the timer has backed off since the last reset. */
  get backoffs(): number {
    return this.#backoffs;
  }

  /** Feeds one RTT measurement (ms) of a segment that was not retransmitted (Karn). */
  sample(rtt: number): void {
    if (this.#srtt === undefined) {
      this.#srtt = rtt;
      this.#rttvar = rtt / 2;
    } else {
      this.#rttvar = 0.75 * this.#rttvar + 0.25 * Math.abs(this.#srtt - rtt);
      this.#srtt = 0.875 * this.#srtt + 0.125 * rtt;
    }
    this.#base = Math.min(this.#srtt + Math.max(4 * this.#rttvar, RTO_MIN_MS), RTO_MAX_MS);
  }

  /** Doubles the timeout after it expired (RFC 6298 §5.5). */
  backoff(): void {
    if (this.rto < RTO_MAX_MS) this.#backoffs++;
  }

  /** Forgets the backoff once new data is acknowledged. */
  resetBackoff(): void {
    this.#backoffs = 0;
  }
}

/**
 * A one-shot timer for deadlines that move a lot (retransmission, delayed
 * ACK): pushing the deadline later keeps the scheduled wake-up, which
 * re-arms itself for the new deadline when it fires, instead of cancelling
 * and scheduling one clock timer per ACK.
 */
export class DeadlineTimer {
  #at: number | undefined;
  #timer: Timer | undefined;
  #timerAt = 0;

  constructor(
    private readonly clock: Clock,
    private readonly fn: () => void,
  ) {}

  /** Whether a deadline is set. */
  get armed(): boolean {
    return this.#at !== undefined;
  }

  /** The deadline, in the clock's ms, if set. */
  get at(): number | undefined {
    return this.#at;
  }

  /** Sets the deadline `delayMs` from now, replacing any earlier or later one. */
  arm(delayMs: number): void {
    const at = this.clock.now() + delayMs;
    this.#at = at;
    if (this.#timer !== undefined && this.#timerAt <= at) return;
    this.#timer?.cancel();
    this.#schedule(at);
  }

  /** Clears the deadline. */
  cancel(): void {
    this.#at = undefined;
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #schedule(at: number): void {
    this.#timerAt = at;
    this.#timer = this.clock.setTimer(at - this.clock.now(), () => {
      this.#timer = undefined;
      const due = this.#at;
      if (due === undefined) return;
      if (due > this.clock.now()) {
        this.#schedule(due);
        return;
      }
      this.#at = undefined;
      this.fn();
    });
  }
}
