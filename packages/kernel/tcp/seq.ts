/**
 * Sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4): comparisons hold
 * across wrap-around as long as the two numbers are less than 2^31 apart.
 */

/** `a + n` modulo 2^32. */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** The signed distance from `b` to `a` (a − b), for numbers less than 2^31 apart. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** `a` comes before `b`. */
export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/** `a` comes before or is `b`. */
export function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

/** `a` comes after `b`. */
export function seqGt(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

/** `a` comes after or is `b`. */
export function seqGe(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

/** The later of two sequence numbers. */
export function seqMax(a: number, b: number): number {
  return seqGt(a, b) ? a : b;
}
