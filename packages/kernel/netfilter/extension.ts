/**
 * How match and target extensions are parsed: each declares its options and
 * builds itself from them, as libxtables' x6 option tables do.
 */
import type { Clock } from "../clock.ts";
import type { Rng } from "../random.ts";
import type { IpSets } from "./ipset.ts";
import type { RecentTables } from "./recent.ts";
import type { TableName } from "./rule.ts";

/** What extension code may use of the namespace's netfilter state. */
export interface NetfilterServices {
  readonly ipsets: IpSets;
  readonly recent: RecentTables;
  readonly rng: Rng;
  readonly clock: Clock;
  /** Appends a kernel log line (dmesg). */
  log(text: string): void;
}

/** What a parser knows of the rule being built when it meets an extension option. */
export interface ParseEnv {
  /** The `-p` protocol number given so far, 0 for none. */
  readonly proto: number;
  readonly invProto: boolean;
  readonly table: TableName;
  readonly services: NetfilterServices;
}

/** One option of an extension. */
export interface ExtOption {
  readonly name: string;
  /** How many arguments follow (two for `--tcp-flags MASK COMP` and `--match-set NAME DIRS`). */
  readonly args: 0 | 1 | 2;
  /** `!` allowed before it. */
  readonly invertible?: boolean;
  /** May be given more than once. */
  readonly multi?: boolean;
}

/** A parser for one use of an extension in one rule. */
export interface ExtParser<T> {
  readonly options: readonly ExtOption[];
  /** Takes one option; throws an XtablesError in iptables' words. */
  option(name: string, args: readonly string[], invert: boolean): void;
  /** The final check (x6_fcheck) and the built extension. */
  finish(): T;
}
