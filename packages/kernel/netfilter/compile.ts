import type { Rule } from "./rule.ts";

/**
 * A chain's rules compiled for lookup: rules whose destination is one exact
 * address (`-d A/32`, as kube-proxy's KUBE-SERVICES rules are) indexed by
 * that address; every other rule kept in a list walked for every packet. A
 * packet visits only the rules indexed under its destination and the others,
 * in their original order — so verdicts, counters and traces are exactly
 * those of the linear walk, while a 10,000-Service chain costs a lookup.
 */
interface Compiled {
  readonly byDst: ReadonlyMap<number, readonly number[]>;
  readonly rest: readonly number[];
}

/** Below this many rules the linear walk is as fast. */
const MIN_RULES = 16;
const NONE: readonly number[] = [];
const cache = new WeakMap<readonly Rule[], { readonly length: number; readonly compiled: Compiled | undefined }>();
let enabled = true;

/** Turns compilation off (tests compare both walks) or on. */
export function setRuleCompilation(on: boolean): void {
  enabled = on;
}

function compile(rules: readonly Rule[]): Compiled | undefined {
  if (rules.length < MIN_RULES) return undefined;
  const byDst = new Map<number, number[]>();
  const rest: number[] = [];
  rules.forEach((rule, i) => {
    const ip = rule.ip;
    if (ip.dstMask === 0xffffffff && !ip.invDst) {
      const list = byDst.get(ip.dst);
      if (list) list.push(i);
      else byDst.set(ip.dst, [i]);
    } else {
      rest.push(i);
    }
  });
  // Worth it only when most rules are indexed.
  return rest.length * 2 > rules.length ? undefined : { byDst, rest };
}

function compiled(rules: readonly Rule[]): Compiled | undefined {
  const hit = cache.get(rules);
  if (hit && hit.length === rules.length) return hit.compiled;
  const c = compile(rules);
  cache.set(rules, { length: rules.length, compiled: c });
  return c;
}

/** The first position ≥ `from` in a sorted list, or `end`. */
function firstAtLeast(list: readonly number[], from: number, end: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]! < from) lo = mid + 1;
    else hi = mid;
  }
  return lo < list.length ? list[lo]! : end;
}

/**
 * The position of the next rule at or after `from` that can match a packet
 * to `dst` (`rules.length` when none is left). Without compilation, `from`.
 */
export function nextCandidate(rules: readonly Rule[], from: number, dst: number): number {
  if (!enabled) return from;
  const c = compiled(rules);
  if (c === undefined) return from;
  const end = rules.length;
  return Math.min(firstAtLeast(c.byDst.get(dst) ?? NONE, from, end), firstAtLeast(c.rest, from, end));
}
