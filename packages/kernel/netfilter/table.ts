/**
 * Tables and chains. A table is a set of chains by name; the built-in ones
 * are entered from a hook and have a policy, user chains are entered by
 * jumps. The nft backend of iptables creates a table on first write, so a
 * namespace's tables exist only once something was written to them.
 */
import type { Hook } from "../ipv4.ts";
import type { Counters, Rule, TableName } from "./rule.ts";

/** The tables in the order `iptables-save` (nft backend) prints them. */
export const TABLE_ORDER: readonly TableName[] = ["mangle", "security", "raw", "filter", "nat"];

/** Hook order, which is also the order of built-in chains in every listing. */
export const HOOK_ORDER: readonly Hook[] = ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"];

/** The built-in chains of each table, in hook order. */
export const BUILTIN_CHAINS: Readonly<Record<TableName, readonly Hook[]>> = {
  raw: ["PREROUTING", "OUTPUT"],
  mangle: ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"],
  nat: ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"],
  filter: ["INPUT", "FORWARD", "OUTPUT"],
  security: ["INPUT", "FORWARD", "OUTPUT"],
};

/** True for a name `-t` accepts. */
export function isTableName(name: string): name is TableName {
  return name === "raw" || name === "mangle" || name === "nat" || name === "filter" || name === "security";
}

/** A chain: built-in (with a hook and a policy) or a user chain. */
export class Chain implements Counters {
  rules: Rule[] = [];
  packets = 0;
  bytes = 0;

  constructor(
    public name: string,
    /** The hook a built-in chain hangs on; undefined for user chains. */
    readonly hook: Hook | undefined,
    public policy: "ACCEPT" | "DROP" = "ACCEPT",
  ) {}

  /** Policy counters of a built-in chain (kept in the chain itself). */
  get counters(): Counters {
    return this;
  }

  get builtin(): boolean {
    return this.hook !== undefined;
  }

  /** A copy whose rule list and counters can change without touching this one (rules are shared). */
  clone(): Chain {
    const c = new Chain(this.name, this.hook, this.policy);
    c.rules = [...this.rules];
    c.counters.packets = this.counters.packets;
    c.counters.bytes = this.counters.bytes;
    return c;
  }
}

/** One table of one namespace. */
export class Table {
  readonly chains = new Map<string, Chain>();

  constructor(readonly name: TableName) {
    for (const hook of BUILTIN_CHAINS[name]) this.chains.set(hook, new Chain(hook, hook));
  }

  /** The chain called `name`, if any. */
  chain(name: string): Chain | undefined {
    return this.chains.get(name);
  }

  /** Built-in chains in hook order, then user chains sorted byte-wise, as iptables lists them. */
  orderedChains(): Chain[] {
    const builtins = BUILTIN_CHAINS[this.name].map((h) => this.chains.get(h)!).filter((c) => c !== undefined);
    const user = [...this.chains.values()].filter((c) => !c.builtin).sort((a, b) => byteCompare(a.name, b.name));
    return [...builtins, ...user];
  }

  /** How many rules in the table jump or go to `chain`. */
  references(chain: string): number {
    let n = 0;
    for (const c of this.chains.values()) {
      for (const r of c.rules) if (r.action.kind === "jump" && r.action.chain === chain) n++;
    }
    return n;
  }

  /** A copy for a transaction: chains are copied, rules shared. */
  clone(): Table {
    const t = new Table(this.name);
    t.chains.clear();
    for (const [name, c] of this.chains) t.chains.set(name, c.clone());
    return t;
  }
}

/** strcmp order. */
export function byteCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
