/**
 * Service ClusterIP and NodePort allocation as kube-apiserver does it: a
 * bitmap over the range, random dynamic allocation from the upper part of
 * the range (the lower band is left for addresses asked for by value, like
 * 10.96.0.10 for kube-dns), and its error wording.
 */
import type { Rng } from "@kemu/kernel";

/** An IPv4 address as an unsigned 32-bit number. */
export function ipToNumber(ip: string): number {
  return ip.split(".").reduce((a, p) => ((a << 8) | Number(p)) >>> 0, 0);
}

/** A 32-bit number as dotted IPv4 text. */
export function numberToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** A parsed IPv4 CIDR. */
export interface Cidr {
  base: number;
  prefix: number;
  size: number;
  text: string;
}

/** Parses `10.96.0.0/12` (the base is masked to the prefix). */
export function parseCidr(text: string): Cidr {
  const [ip, len] = text.split("/");
  const prefix = Number(len);
  if (ip === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) throw new Error(`invalid CIDR ${text}`);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const base = (ipToNumber(ip) & mask) >>> 0;
  return { base, prefix, size: 2 ** (32 - prefix), text: `${numberToIp(base)}/${prefix}` };
}

/** Outcome of asking for a specific value. */
export type AllocateResult = "ok" | "out-of-range" | "taken";

/** The lower band kept for static allocation: min(max(lo, size/step), hi), as `calculateRangeOffset`. */
function bandOffset(size: number, lo: number, hi: number, step: number): number {
  if (size < lo) return 0;
  return Math.min(Math.max(lo, Math.floor(size / step)), hi);
}

/** A set of integers [0, size) with random allocation from the band above `offset`. */
class Bitmap {
  readonly #used = new Set<number>();
  constructor(
    readonly size: number,
    readonly offset: number,
  ) {}

  has(i: number): boolean {
    return this.#used.has(i);
  }

  take(i: number): boolean {
    if (this.#used.has(i)) return false;
    this.#used.add(i);
    return true;
  }

  release(i: number): void {
    this.#used.delete(i);
  }

  next(rng: Rng): number | undefined {
    // The upper band first, scanning from a random start; then the lower band.
    for (const [lo, hi] of [
      [this.offset, this.size],
      [0, this.offset],
    ] as const) {
      const n = hi - lo;
      if (n <= 0) continue;
      const start = rng.below(n);
      for (let k = 0; k < n; k++) {
        const i = lo + ((start + k) % n);
        if (!this.#used.has(i)) {
          this.#used.add(i);
          return i;
        }
      }
    }
    return undefined;
  }
}

/** ClusterIPs from a service CIDR (network and broadcast addresses excluded). */
export class ClusterIpAllocator {
  readonly cidr: Cidr;
  readonly #map: Bitmap;
  readonly #rng: Rng;

  constructor(cidr: string, rng: Rng) {
    this.cidr = parseCidr(cidr);
    const usable = Math.max(0, this.cidr.size - 2);
    this.#map = new Bitmap(usable, bandOffset(usable, 16, 256, 16));
    this.#rng = rng;
  }

  /** Takes a given address. */
  allocate(ip: string): AllocateResult {
    const i = ipToNumber(ip) - this.cidr.base - 1;
    if (i < 0 || i >= this.#map.size) return "out-of-range";
    return this.#map.take(i) ? "ok" : "taken";
  }

  /** Takes a random free address; undefined when the range is full. */
  allocateNext(): string | undefined {
    const i = this.#map.next(this.#rng);
    return i === undefined ? undefined : numberToIp(this.cidr.base + 1 + i);
  }

  /** Gives an address back. */
  release(ip: string): void {
    const i = ipToNumber(ip) - this.cidr.base - 1;
    if (i >= 0 && i < this.#map.size) this.#map.release(i);
  }

  /** Whether an address is taken. */
  has(ip: string): boolean {
    const i = ipToNumber(ip) - this.cidr.base - 1;
    return this.#map.has(i);
  }
}

/** NodePorts from a port range (30000–32767 by default). */
export class NodePortAllocator {
  readonly first: number;
  readonly last: number;
  readonly #map: Bitmap;
  readonly #rng: Rng;

  constructor(range: readonly [number, number], rng: Rng) {
    [this.first, this.last] = range;
    const size = this.last - this.first + 1;
    this.#map = new Bitmap(size, bandOffset(size, 16, 128, 32));
    this.#rng = rng;
  }

  /** The range as the API server prints it: `30000-32767`. */
  get text(): string {
    return `${this.first}-${this.last}`;
  }

  /** Takes a given port. */
  allocate(port: number): AllocateResult {
    if (port < this.first || port > this.last) return "out-of-range";
    return this.#map.take(port - this.first) ? "ok" : "taken";
  }

  /** Takes a random free port; undefined when the range is full. */
  allocateNext(): number | undefined {
    const i = this.#map.next(this.#rng);
    return i === undefined ? undefined : this.first + i;
  }

  /** Gives a port back. */
  release(port: number): void {
    if (port >= this.first && port <= this.last) this.#map.release(port - this.first);
  }
}
