import type { Ipv4Addr, MacAddr } from "@kemu/wire";
import type { Timer } from "./clock.ts";
import type { NetDevice } from "./device.ts";
import type { NetNs } from "./netns.ts";

/** Neighbour states, NUD_*, as `ip neigh` prints them. */
export type NeighState =
  | "INCOMPLETE"
  | "REACHABLE"
  | "STALE"
  | "DELAY"
  | "PROBE"
  | "FAILED"
  | "NOARP"
  | "PERMANENT";

/** arp_tbl defaults (net/ipv4/arp.c), in milliseconds. */
export const ARP_PARAMS = {
  baseReachableMs: 30_000,
  retransMs: 1_000,
  delayFirstProbeMs: 5_000,
  ucastProbes: 3,
  mcastProbes: 3,
  unresQlen: 101,
} as const;

/** One neighbour entry. */
export interface Neighbour {
  readonly dev: NetDevice;
  readonly addr: Ipv4Addr;
  mac: MacAddr | undefined;
  state: NeighState;
  /** Set for entries learned from a router's traffic (never in this model yet). */
  router: boolean;
  probes: number;
  updatedAt: number;
  confirmedAt: number;
  /** IPv4 packets (without link header) waiting for resolution. */
  readonly queue: Uint8Array[];
  timer: Timer | undefined;
}

/** What the neighbour table needs from the IPv4 stack. */
export interface NeighOps {
  /** Sends an ARP request for `addr` out of `dev`; unicast to `mac` when given. */
  solicit(dev: NetDevice, addr: Ipv4Addr, mac: MacAddr | undefined): void;
  /** Sends an IPv4 packet with a resolved link address. */
  send(dev: NetDevice, mac: MacAddr, packet: Uint8Array): void;
  /** Resolution failed: the stack reports host unreachable to the packets' senders. */
  unreachable(dev: NetDevice, packet: Uint8Array): void;
}

/**
 * The ARP cache of one namespace with the kernel's NUD state machine:
 * INCOMPLETE → REACHABLE → STALE → DELAY → PROBE → REACHABLE or FAILED.
 */
export class NeighTable {
  readonly #entries = new Map<string, Neighbour>();

  constructor(
    private readonly ns: NetNs,
    private readonly ops: NeighOps,
  ) {}

  /** All entries, in insertion order. */
  list(): Neighbour[] {
    return [...this.#entries.values()];
  }

  get(dev: NetDevice, addr: Ipv4Addr): Neighbour | undefined {
    return this.#entries.get(key(dev, addr));
  }

  /** Sends `packet` to `addr` on `dev`, resolving the link address first when needed. */
  output(dev: NetDevice, addr: Ipv4Addr, packet: Uint8Array): void {
    let n = this.#entries.get(key(dev, addr));
    const now = this.#now();
    if (n === undefined) {
      n = this.#create(dev, addr, undefined, "INCOMPLETE");
      n.queue.push(packet);
      this.#startResolve(n);
      return;
    }
    switch (n.state) {
      case "PERMANENT":
      case "NOARP":
      case "REACHABLE":
      case "DELAY":
      case "PROBE":
        this.ops.send(dev, n.mac!, packet);
        return;
      case "STALE":
        n.state = "DELAY";
        n.updatedAt = now;
        this.#arm(n, ARP_PARAMS.delayFirstProbeMs);
        this.ops.send(dev, n.mac!, packet);
        return;
      case "INCOMPLETE":
        if (n.queue.length >= ARP_PARAMS.unresQlen) n.queue.shift();
        n.queue.push(packet);
        return;
      case "FAILED":
        n.state = "INCOMPLETE";
        n.queue.push(packet);
        this.#startResolve(n);
        return;
    }
  }

  /**
   * An ARP packet told us `addr` is at `mac`. `solicited` is true for a reply
   * to our request: that confirms reachability; a request only makes a STALE
   * entry (neigh_event_ns), and only when `create` allows a new one.
   */
  learn(dev: NetDevice, addr: Ipv4Addr, mac: MacAddr, options: { solicited: boolean; create: boolean }): void {
    let n = this.#entries.get(key(dev, addr));
    if (n === undefined) {
      if (!options.create) return;
      n = this.#create(dev, addr, mac, options.solicited ? "REACHABLE" : "STALE");
    }
    if (n.state === "PERMANENT" || n.state === "NOARP") return;
    const changed = n.mac !== mac;
    n.mac = mac;
    n.updatedAt = this.#now();
    if (options.solicited) {
      n.state = "REACHABLE";
      n.confirmedAt = n.updatedAt;
      n.probes = 0;
      this.#arm(n, this.#reachableTime());
    } else if (changed || n.state === "INCOMPLETE" || n.state === "FAILED") {
      n.state = "STALE";
      n.timer?.cancel();
      n.timer = undefined;
    }
    if (n.mac !== undefined && n.queue.length > 0) {
      const queued = n.queue.splice(0);
      for (const p of queued) this.ops.send(dev, n.mac, p);
    }
  }

  /** `ip neigh add|replace`: a static entry. */
  set(dev: NetDevice, addr: Ipv4Addr, mac: MacAddr | undefined, state: NeighState): Neighbour {
    const old = this.#entries.get(key(dev, addr));
    old?.timer?.cancel();
    const n = old ?? this.#create(dev, addr, mac, state);
    n.mac = mac;
    n.state = state;
    n.updatedAt = this.#now();
    if (mac !== undefined && n.queue.length > 0) for (const p of n.queue.splice(0)) this.ops.send(dev, mac, p);
    return n;
  }

  /** `ip neigh del`; false when absent. */
  delete(dev: NetDevice, addr: Ipv4Addr): boolean {
    const n = this.#entries.get(key(dev, addr));
    if (!n) return false;
    n.timer?.cancel();
    return this.#entries.delete(key(dev, addr));
  }

  /** Forgets every entry on `dev` (the device went down or left the namespace). */
  flushDev(dev: NetDevice, options: { keepPermanent?: boolean } = {}): void {
    for (const [k, n] of this.#entries) {
      if (n.dev !== dev) continue;
      if (options.keepPermanent && n.state === "PERMANENT") continue;
      n.timer?.cancel();
      this.#entries.delete(k);
    }
  }

  #create(dev: NetDevice, addr: Ipv4Addr, mac: MacAddr | undefined, state: NeighState): Neighbour {
    const now = this.#now();
    const n: Neighbour = {
      dev,
      addr,
      mac,
      state,
      router: false,
      probes: 0,
      updatedAt: now,
      confirmedAt: now,
      queue: [],
      timer: undefined,
    };
    this.#entries.set(key(dev, addr), n);
    if (state === "REACHABLE") this.#arm(n, this.#reachableTime());
    return n;
  }

  #startResolve(n: Neighbour): void {
    n.probes = 1;
    n.updatedAt = this.#now();
    this.ops.solicit(n.dev, n.addr, undefined);
    this.#arm(n, ARP_PARAMS.retransMs);
  }

  #arm(n: Neighbour, ms: number): void {
    n.timer?.cancel();
    n.timer = this.ns.kernel.clock.setTimer(ms, () => this.#timeout(n));
  }

  #timeout(n: Neighbour): void {
    n.timer = undefined;
    const now = this.#now();
    switch (n.state) {
      case "REACHABLE":
        n.state = "STALE";
        n.updatedAt = now;
        return;
      case "DELAY":
        if (n.confirmedAt > n.updatedAt) {
          n.state = "REACHABLE";
          this.#arm(n, this.#reachableTime());
          return;
        }
        n.state = "PROBE";
        n.probes = 1;
        n.updatedAt = now;
        this.ops.solicit(n.dev, n.addr, n.mac);
        this.#arm(n, ARP_PARAMS.retransMs);
        return;
      case "INCOMPLETE":
      case "PROBE": {
        const max = n.state === "INCOMPLETE" ? ARP_PARAMS.mcastProbes : ARP_PARAMS.ucastProbes;
        if (n.probes >= max) {
          n.state = "FAILED";
          n.updatedAt = now;
          const dropped = n.queue.splice(0);
          for (const p of dropped) this.ops.unreachable(n.dev, p);
          return;
        }
        n.probes++;
        this.ops.solicit(n.dev, n.addr, n.state === "PROBE" ? n.mac : undefined);
        this.#arm(n, ARP_PARAMS.retransMs);
        return;
      }
      default:
        return;
    }
  }

  #reachableTime(): number {
    // neigh_rand_reach_time: uniformly 0.5–1.5 × base_reachable_time.
    return ARP_PARAMS.baseReachableMs / 2 + this.ns.kernel.rng.below(ARP_PARAMS.baseReachableMs);
  }

  #now(): number {
    return this.ns.kernel.clock.now();
  }
}

function key(dev: NetDevice, addr: Ipv4Addr): string {
  return `${dev.ifindex}/${addr}`;
}
