import { type Ipv4Addr, prefixMask } from "@kemu/wire";
import type { NetDevice } from "./device.ts";

/** Route types, as `ip route` names them. */
export type RouteType = "unicast" | "local" | "broadcast" | "blackhole" | "unreachable" | "prohibit";

/** The routing tables by number: local 255, main 254, default 253. */
export const RT_TABLE_LOCAL = 255;
export const RT_TABLE_MAIN = 254;
export const RT_TABLE_DEFAULT = 253;

/** A route, as `ip route` lists it. */
export interface Route {
  readonly table: number;
  readonly type: RouteType;
  readonly dst: Ipv4Addr;
  readonly dstLen: number;
  readonly gateway: Ipv4Addr | undefined;
  readonly dev: NetDevice | undefined;
  /** `kernel` for routes the kernel adds from addresses; `boot` when none was given. */
  readonly proto: string;
  readonly scope: "host" | "link" | "universe";
  readonly prefsrc: Ipv4Addr | undefined;
  readonly metric: number;
  readonly onlink: boolean;
}

/**
 * One routing table: host routes (/32) in a map by address — a node in ipvs
 * mode holds one per ClusterIP — and shorter prefixes in a list kept
 * longest first.
 */
class Table {
  readonly hosts = new Map<number, Route[]>();
  readonly nets: Route[] = [];
  size = 0;

  all(): Route[] {
    const out: Route[] = [];
    for (const rs of this.hosts.values()) out.push(...rs);
    out.push(...this.nets);
    return out;
  }
}

/** The policy routing tables of one namespace: lookups walk local, then main, then default. */
export class RoutingTables {
  readonly #tables = new Map<number, Table>([
    [RT_TABLE_LOCAL, new Table()],
    [RT_TABLE_MAIN, new Table()],
    [RT_TABLE_DEFAULT, new Table()],
  ]);

  /** Routes of one table, in the order `ip route` prints them (the FIB trie's: by address, then prefix length). */
  list(table: number): Route[] {
    return (this.#tables.get(table)?.all() ?? []).sort((a, b) => a.dst - b.dst || a.dstLen - b.dstLen || a.metric - b.metric);
  }

  /** Numbers of every table that holds routes. */
  tableIds(): number[] {
    return [...this.#tables.keys()].filter((t) => this.#tables.get(t)!.size > 0);
  }

  /** The route that would be replaced by `r`: same table, prefix, metric (and type class). */
  find(r: Pick<Route, "table" | "dst" | "dstLen" | "metric">): Route | undefined {
    const t = this.#tables.get(r.table);
    if (t === undefined) return undefined;
    const list = r.dstLen === 32 ? (t.hosts.get(r.dst) ?? []) : t.nets;
    return list.find((x) => x.dst === r.dst && x.dstLen === r.dstLen && x.metric === r.metric);
  }

  /** Adds a route; returns false when one with the same key exists (EEXIST). */
  add(route: Route): boolean {
    if (this.find(route)) return false;
    this.#insert(route);
    return true;
  }

  /** Adds or replaces the route with the same key. */
  replace(route: Route): void {
    const old = this.find(route);
    if (old) this.delete(old);
    this.#insert(route);
  }

  /** Removes one route; false when absent. */
  delete(route: Route): boolean {
    const t = this.#tables.get(route.table);
    if (t === undefined) return false;
    const list = route.dstLen === 32 ? t.hosts.get(route.dst) : t.nets;
    const i = list?.indexOf(route) ?? -1;
    if (i < 0) return false;
    list!.splice(i, 1);
    if (route.dstLen === 32 && list!.length === 0) t.hosts.delete(route.dst);
    t.size--;
    return true;
  }

  /** Removes every route that matches `pred`; returns how many. */
  deleteWhere(pred: (r: Route) => boolean): number {
    let n = 0;
    for (const t of this.#tables.values()) {
      for (const r of t.all()) {
        if (pred(r) && this.delete(r)) n++;
      }
    }
    return n;
  }

  /** Longest-prefix match for `dst`, walking local, main, default, then other tables by number. */
  lookup(dst: Ipv4Addr, options: { oif?: NetDevice | undefined } = {}): Route | undefined {
    for (const table of [RT_TABLE_LOCAL, RT_TABLE_MAIN, RT_TABLE_DEFAULT]) {
      const hit = this.lookupIn(table, dst, options);
      if (hit) return hit;
    }
    return undefined;
  }

  /** Longest-prefix match inside one table: a host route first, then the sorted shorter prefixes. */
  lookupIn(table: number, dst: Ipv4Addr, options: { oif?: NetDevice | undefined } = {}): Route | undefined {
    const t = this.#tables.get(table);
    if (!t) return undefined;
    const hosts = t.hosts.get(dst);
    if (hosts !== undefined) {
      for (const r of hosts) if (!(options.oif && r.dev && r.dev !== options.oif)) return r;
    }
    for (const r of t.nets) {
      if (((dst & prefixMask(r.dstLen)) >>> 0) !== r.dst) continue;
      if (options.oif && r.dev && r.dev !== options.oif) continue;
      return r;
    }
    return undefined;
  }

  #insert(route: Route): void {
    let t = this.#tables.get(route.table);
    if (!t) this.#tables.set(route.table, (t = new Table()));
    t.size++;
    let list: Route[];
    if (route.dstLen === 32) {
      list = t.hosts.get(route.dst) ?? [];
      t.hosts.set(route.dst, list);
    } else list = t.nets;
    // Keep longest prefix first, then lowest metric; ties keep insertion order.
    let i = 0;
    while (
      i < list.length &&
      (list[i]!.dstLen > route.dstLen || (list[i]!.dstLen === route.dstLen && list[i]!.metric <= route.metric))
    ) {
      i++;
    }
    list.splice(i, 0, route);
  }
}
