/**
 * Helpers shared by this package's tests: hex text to bytes, a seeded PRNG,
 * and a fuzz-ish driver that proves a parse path refuses bad input only with
 * WireError. Private to the package (not re-exported from mod.ts).
 */
import { WireError } from "./error.ts";

/** Bytes from hex text such as a `tcpdump -xx` dump; whitespace and `//` comments are ignored. */
export function hex(text: string): Uint8Array {
  const digits = text.replace(/\/\/[^\n]*/g, "").replace(/\s+/g, "");
  if (!/^([0-9a-f]{2})*$/i.test(digits)) throw new Error(`bad hex: ${digits}`);
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Bytes as lower-case hex, two digits per byte with spaces, for readable assertion failures. */
export function toHex(buf: Uint8Array): string {
  return Array.from(buf, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

/** A small deterministic PRNG (mulberry32) returning floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Every prefix of `golden`, then `count` copies with one to four random bytes
 * replaced (some also cut short), from a fixed seed so failures reproduce.
 */
export function mutations(golden: Uint8Array, options: { seed?: number; count?: number } = {}): Uint8Array[] {
  const random = prng(options.seed ?? 0x6b656d75);
  const out: Uint8Array[] = [];
  for (let n = 0; n <= golden.length; n++) out.push(golden.slice(0, n));
  for (let i = 0; i < (options.count ?? 3000); i++) {
    const copy = golden.slice();
    const flips = 1 + Math.floor(random() * 4);
    for (let f = 0; f < flips; f++) copy[Math.floor(random() * copy.length)] = Math.floor(random() * 256);
    out.push(random() < 0.2 ? copy.subarray(0, Math.floor(random() * copy.length)) : copy);
  }
  return out;
}

/**
 * Runs `parse` over the mutations of `golden` and returns a description of
 * every input that threw something other than a WireError (empty means good).
 */
export function nonWireErrors(
  golden: Uint8Array,
  parse: (buf: Uint8Array) => unknown,
  options: { seed?: number; count?: number } = {},
): string[] {
  const bad: string[] = [];
  for (const input of mutations(golden, options)) {
    try {
      parse(input);
    } catch (err) {
      if (!(err instanceof WireError)) bad.push(`${toHex(input)}: ${String(err)}`);
    }
  }
  return bad.slice(0, 5);
}
