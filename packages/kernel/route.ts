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

/** The policy routing tables of one namespace: lookups walk local, then main, then default. */
export class RoutingTables {
  readonly #tables = new Map<number, Route[]>([
    [RT_TABLE_LOCAL, []],
    [RT_TABLE_MAIN, []],
    [RT_TABLE_DEFAULT, []],
  ]);

  /** Routes of one table, in the order `ip route` prints them (the FIB trie's: by address, then prefix length). */
  list(table: number): Route[] {
    return [...(this.#tables.get(table) ?? [])].sort(
      (a, b) => a.dst - b.dst || a.dstLen - b.dstLen || a.metric - b.metric,
    );
  }

  /** Numbers of every table that holds routes. */
  tableIds(): number[] {
    return [...this.#tables.keys()].filter((t) => this.#tables.get(t)!.length > 0);
  }

  /** The route that would be replaced by `r`: same table, prefix, metric (and type class). */
  find(r: Pick<Route, "table" | "dst" | "dstLen" | "metric">): Route | undefined {
    return this.#tables.get(r.table)?.find((x) => x.dst === r.dst && x.dstLen === r.dstLen && x.metric === r.metric);
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
    const list = this.#tables.get(route.table);
    const i = list?.indexOf(route) ?? -1;
    if (i < 0) return false;
    list!.splice(i, 1);
    return true;
  }

  /** Removes every route that matches `pred`; returns how many. */
  deleteWhere(pred: (r: Route) => boolean): number {
    let n = 0;
    for (const list of this.#tables.values()) {
      for (let i = list.length - 1; i >= 0; i--) {
        if (pred(list[i]!)) {
          list.splice(i, 1);
          n++;
        }
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

  /** Longest-prefix match inside one table. Lists are kept sorted, so the first hit wins. */
  lookupIn(table: number, dst: Ipv4Addr, options: { oif?: NetDevice | undefined } = {}): Route | undefined {
    const list = this.#tables.get(table);
    if (!list) return undefined;
    for (const r of list) {
      if (((dst & prefixMask(r.dstLen)) >>> 0) !== r.dst) continue;
      if (options.oif && r.dev && r.dev !== options.oif) continue;
      return r;
    }
    return undefined;
  }

  #insert(route: Route): void {
    let list = this.#tables.get(route.table);
    if (!list) this.#tables.set(route.table, (list = []));
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
