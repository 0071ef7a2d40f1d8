/**
 * The address lists of `-m recent` (xt_recent): per namespace, by name, each
 * remembering up to 200 addresses with the times of their last 20 packets,
 * on the emulated clock.
 */

/** Entries per list (ip_list_tot). */
export const RECENT_LIST_MAX = 200;
/** Packet times kept per entry (ip_pkt_list_tot). */
export const RECENT_STAMPS_MAX = 20;

/** One remembered address. */
export interface RecentEntry {
  readonly addr: number;
  ttl: number;
  /** Times (ms) of the last packets, oldest first. */
  stamps: number[];
}

/** One named list. Map order is least recently updated first. */
export class RecentTable {
  readonly entries = new Map<number, RecentEntry>();
  refs = 0;
  constructor(readonly name: string) {}

  /** The entry for `addr` (and, when `ttl` is given, that TTL). */
  lookup(addr: number, ttl: number | undefined): RecentEntry | undefined {
    const e = this.entries.get(addr);
    if (e === undefined) return undefined;
    if (ttl !== undefined && e.ttl !== ttl) return undefined;
    return e;
  }

  /** A new entry seen now; evicts the least recently used one when full. */
  add(addr: number, ttl: number, now: number): RecentEntry {
    if (this.entries.size >= RECENT_LIST_MAX) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    const e: RecentEntry = { addr, ttl, stamps: [now] };
    this.entries.set(addr, e);
    return e;
  }

  /** Records a packet now and moves the entry to the most recent end. */
  update(e: RecentEntry, now: number): void {
    e.stamps.push(now);
    if (e.stamps.length > RECENT_STAMPS_MAX) e.stamps.shift();
    this.entries.delete(e.addr);
    this.entries.set(e.addr, e);
  }

  remove(e: RecentEntry): void {
    this.entries.delete(e.addr);
  }

  /** --reap: forgets entries whose last packet is older than `before` (except `keep`). */
  reap(before: number, keep: RecentEntry | undefined): void {
    for (const [addr, e] of this.entries) {
      if (e === keep) continue;
      const last = e.stamps[e.stamps.length - 1] ?? 0;
      if (last < before) this.entries.delete(addr);
    }
  }
}

/** The lists of one namespace. A list lives while a rule refers to it. */
export class RecentTables {
  readonly #tables = new Map<string, RecentTable>();

  /** The list called `name`, created on first reference. */
  acquire(name: string): RecentTable {
    let t = this.#tables.get(name);
    if (t === undefined) this.#tables.set(name, (t = new RecentTable(name)));
    t.refs++;
    return t;
  }

  /** Drops a reference; the list goes with its last one. */
  release(t: RecentTable): void {
    if (--t.refs <= 0 && this.#tables.get(t.name) === t) this.#tables.delete(t.name);
  }

  /** The list called `name`, if a rule refers to it. */
  get(name: string): RecentTable | undefined {
    return this.#tables.get(name);
  }
}
