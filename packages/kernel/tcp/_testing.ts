import { EthernetFrame, ETHERTYPE_IPV4, Ipv4Packet, parseCidr, parseTcp, TcpPacket, type TcpRepr } from "@kemu/wire";
import { configure, testKernel } from "../_testing.ts";
import type { EventLoop } from "../clock.ts";
import type { NetDevice } from "../device.ts";
import type { Kernel } from "../kernel.ts";
import { Veth } from "../links.ts";
import type { NetNs } from "../netns.ts";
import type { Rng } from "../random.ts";

/** What a faulty link does to the frames crossing it; probabilities are per frame. */
export interface Faults {
  /** Draws for every fault: a seeded source makes a run repeat exactly. */
  rng: Rng;
  loss?: number;
  duplicate?: number;
  /** Share of frames held back by up to `reorderMs` more, so later ones overtake them. */
  reorder?: number;
  reorderMs?: number;
  /** One-way latency, ms. */
  latencyMs?: number;
  /** Serialisation rate in bit/s (a queue without limit): undefined for none. */
  rateBps?: number;
  /** Frames for which this returns true are dropped (a firewall in the wire). */
  drop?: (frame: Uint8Array) => boolean;
}

/** Counters of what a faulty link did. */
export interface FaultStats {
  sent: number;
  lost: number;
  duplicated: number;
  reordered: number;
}

/**
 * One end of a veth pair whose medium loses, duplicates, delays and
 * reorders frames (smoltcp's fault injector, as a device wrapper).
 */
export class FaultyVeth extends Veth {
  faults: Faults | undefined;
  readonly faultStats: FaultStats = { sent: 0, lost: 0, duplicated: 0, reordered: 0 };
  #busyUntil = 0;

  protected override xmit(frame: Uint8Array): void {
    const f = this.faults;
    const clock = this.netns.kernel.clock;
    const peer = this.peer;
    if (f === undefined) {
      clock.setTimer(0.004, () => peer.receive(frame));
      return;
    }
    this.faultStats.sent++;
    if (f.drop?.(frame)) return;
    if (f.rng.next() < (f.loss ?? 0)) {
      this.faultStats.lost++;
      return;
    }
    let at = clock.now();
    if (f.rateBps !== undefined) {
      this.#busyUntil = Math.max(this.#busyUntil, at) + (frame.length * 8 * 1000) / f.rateBps;
      at = this.#busyUntil;
    }
    at += f.latencyMs ?? 0.004;
    if (f.rng.next() < (f.reorder ?? 0)) {
      this.faultStats.reordered++;
      at += f.rng.next() * (f.reorderMs ?? 1);
    }
    clock.setTimer(at - clock.now(), () => peer.receive(frame));
    if (f.rng.next() < (f.duplicate ?? 0)) {
      this.faultStats.duplicated++;
      clock.setTimer(at - clock.now() + f.rng.next() * (f.reorderMs ?? 1), () => peer.receive(frame));
    }
  }
}

/** Two namespaces, a (10.0.0.1/24) and b (10.0.0.2/24), on a faulty veth pair (faults off until set). */
export function tcpPair(seed = 1): { kernel: Kernel; clock: EventLoop; a: NetNs; b: NetNs; ea: FaultyVeth; eb: FaultyVeth } {
  const { kernel, clock } = testKernel(seed);
  const a = kernel.createNetns();
  const b = kernel.createNetns();
  const ea = new FaultyVeth("eth0", kernel.randomMac(), 1500);
  const eb = new FaultyVeth("eth0", kernel.randomMac(), 1500);
  ea.peer = eb;
  eb.peer = ea;
  a.addDevice(ea);
  b.addDevice(eb);
  configure(a, ea, "10.0.0.1/24");
  configure(b, eb, "10.0.0.2/24");
  return { kernel, clock, a, b, ea, eb };
}

/** 10.0.0.1 etc. as a number. */
export function ip(text: string): number {
  return parseCidr(text)!.addr;
}

/**
 * Drives the clock until `work` settles, letting promise continuations run
 * between timers (what Host.runToCompletion does). Throws when nothing is
 * left that could settle it, or past `maxMs` of emulated time.
 */
export async function settle<T>(clock: EventLoop, work: Promise<T>, maxMs = 10_000_000): Promise<T> {
  let done = false;
  const watched = work.finally(() => {
    done = true;
  });
  watched.catch(() => {});
  const limit = clock.now() + maxMs;
  while (!done) {
    await new Promise((r) => setImmediate(r));
    if (done) break;
    const next = clock.nextAt();
    if (next === undefined) throw new Error(`stuck at ${clock.now()} ms: nothing left to run`);
    if (next > limit) throw new Error(`still running after ${maxMs} ms`);
    clock.runUntil(next);
  }
  return watched;
}

/** Runs the clock (and promise continuations) for `ms` of emulated time. */
export async function advance(clock: EventLoop, ms: number): Promise<void> {
  const until = clock.now() + ms;
  for (;;) {
    await new Promise((r) => setImmediate(r));
    const next = clock.nextAt();
    if (next === undefined || next > until) break;
    clock.runUntil(next);
  }
  clock.runUntil(until);
  await new Promise((r) => setImmediate(r));
}

/** A TCP segment seen on a device: when, which way, and its header. */
export interface SeenSegment {
  time: number;
  dir: "in" | "out";
  src: number;
  dst: number;
  repr: TcpRepr;
  len: number;
}

/** Records the TCP segments a device sends and receives. */
export function watchTcp(dev: NetDevice): SeenSegment[] {
  const seen: SeenSegment[] = [];
  const clock = dev.netns.kernel.clock;
  dev.taps.add((_d, frame, dir) => {
    const eth = EthernetFrame.checked(frame);
    if (eth.ethertype !== ETHERTYPE_IPV4) return;
    const ipPkt = Ipv4Packet.checked(eth.payload);
    if (ipPkt.protocol !== 6) return;
    const tcp = TcpPacket.checked(ipPkt.payload);
    seen.push({ time: clock.now(), dir, src: ipPkt.src, dst: ipPkt.dst, repr: parseTcp(tcp, ipPkt.src, ipPkt.dst), len: tcp.payload.length });
  });
  return seen;
}

/** Flags of a segment as tcpdump prints them: "S", "S.", ".", "P.", "F.", "R", "R.". */
export function flagText(flags: number): string {
  let s = "";
  if (flags & 0x02) s += "S";
  if (flags & 0x01) s += "F";
  if (flags & 0x08) s += "P";
  if (flags & 0x04) s += "R";
  if (flags & 0x10) s += ".";
  return s;
}

/** `n` pseudo-random bytes from a seeded generator (xorshift32), fast enough for megabytes. */
export function seededBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  const words = new Uint32Array(out.buffer, 0, n >>> 2);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  for (let i = words.length * 4; i < n; i++) out[i] = i & 255;
  return out;
}
