/** Helpers shared by the store, the server and the controllers: time stamps, uids, names, copies. */
import type { Rng } from "@kemu/kernel";

/** Emulated time 0 as a wall-clock instant: 2026-01-01T00:00:00Z. */
export const DEFAULT_EPOCH_MS = Date.UTC(2026, 0, 1);

/** An RFC 3339 time stamp at seconds precision (`2026-01-01T00:00:05Z`), as metav1.Time marshals. */
export function rfc3339(epochMs: number, nowMs: number): string {
  return new Date(epochMs + Math.floor(nowMs / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Milliseconds of emulated time at an RFC 3339 stamp (the inverse of rfc3339). */
export function parseTime(epochMs: number, stamp: string | undefined): number | undefined {
  if (stamp === undefined) return undefined;
  const t = Date.parse(stamp);
  return Number.isNaN(t) ? undefined : t - epochMs;
}

/** The alphabet of `utilrand.String` and `rand.SafeEncodeString`: no vowels, no confusable digits. */
export const SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

/** A random suffix as generateName appends it (5 characters). */
export function randomSuffix(rng: Rng, n = 5): string {
  let s = "";
  for (let i = 0; i < n; i++) s += SAFE_ALPHABET[rng.below(SAFE_ALPHABET.length)];
  return s;
}

/** A random version-4 UUID, drawn from the rng. */
export function uuid(rng: Rng): string {
  const b = rng.bytes(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The JSON text of frozen (stored, immutable) objects: a watch event copied for many watchers is written once. */
const frozenJson = new WeakMap<object, string>();

/** A deep copy of a JSON value. */
export function clone<T>(v: T): T {
  if (v === undefined) return v;
  if (v !== null && typeof v === "object" && Object.isFrozen(v)) {
    let text = frozenJson.get(v);
    if (text === undefined) {
      text = JSON.stringify(v);
      frozenJson.set(v, text);
    }
    return JSON.parse(text) as T;
  }
  return JSON.parse(JSON.stringify(v)) as T;
}

/** Freezes a JSON value and everything in it. */
export function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === "object" && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v as object)) deepFreeze(x);
  }
  return v;
}

/** Whether two JSON values are equal (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => jsonEqual(x, bb[i]));
  }
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** JSON with object keys sorted, at every level (a canonical form for hashing). */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  const keys = Object.keys(v)
    .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(",")}}`;
}
