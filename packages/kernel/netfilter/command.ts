/**
 * What `iptables` and `iptables-restore` do with a parsed command, with the
 * nft backend's semantics: every command is a transaction on one table
 * (created on first write), checked as the kernel checks it on commit, and
 * failing in iptables' words (`iptables: No chain/target/match by that
 * name.`, `Index of insertion too big`, ` CHAIN_DEL failed (…)`).
 */
import { type HostResolver, paramError, XtablesError } from "./_xtables.ts";
import type { Netfilter, TableProblem } from "./engine.ts";
import { listTable, verboseRuleLine } from "./list.ts";
import { assertValidChainName, type IptablesCommand, parseIptables } from "./parse.ts";
import { Rule, type TableName } from "./rule.ts";
import { listRules, ruleKey } from "./save.ts";
import { Chain, isTableName, Table } from "./table.ts";

/** An error of the nft layer (nft_strerror): printed `iptables: <text>.`, exit 1. */
export class NftError extends XtablesError {
  constructor(
    message: string,
    /** EINVAL errors add "Run `dmesg' for more information." on the command line. */
    readonly einval = false,
  ) {
    super(message, 1, "nft");
  }
}

const ENOENT = "No chain/target/match by that name";
const BAD_RULE = "Bad rule (does a matching rule exist in that chain?)";

/** How commit failures name the operation (nft.c batch object types). */
function opName(cmd: IptablesCommand): string {
  switch (cmd.command) {
    case "insert":
      return "RULE_INSERT";
    case "replace":
      return "RULE_REPLACE";
    case "set-policy":
      return "CHAIN_UPDATE";
    case "rename-chain":
      return "CHAIN_RENAME";
    default:
      return "RULE_APPEND";
  }
}

/** The commit error text of a kernel refusal (` RULE_APPEND failed (Invalid argument): rule in chain X`). */
export function problemText(op: string, problem: TableProblem): string {
  const why = problem.errno === "ELOOP" ? "Too many levels of symbolic links" : "Invalid argument";
  return `${op} failed (${why}): rule in chain ${problem.chain}`;
}

/** What applying a command to a working table gave. */
interface Applied {
  readonly output: string;
  readonly mutated: boolean;
}

/** Options of listing commands. */
export interface ExecOptions {
  /** Reverse names for `-L` without -n. */
  readonly hostName?: (addr: number) => string | undefined;
}

function requireChain(table: Table, name: string | undefined, message = ENOENT): Chain {
  const c = name === undefined ? undefined : table.chain(name);
  if (c === undefined) throw new NftError(message);
  return c;
}

/**
 * Applies a parsed command to `table` (a working copy, or the live table for
 * listings). Returns what it printed and whether it changed anything.
 */
export function applyCommand(table: Table, cmd: IptablesCommand, options: ExecOptions = {}): Applied {
  const jumpCheck = (): void => {
    if (cmd.jumpTo !== undefined && table.chain(cmd.jumpTo) === undefined) {
      throw paramError(`Chain '${cmd.jumpTo}' does not exist`);
    }
  };
  const echo = (rules: readonly Rule[]): string => (cmd.verbose > 0 ? rules.map(verboseRuleLine).join("") : "");
  switch (cmd.command) {
    case "append": {
      jumpCheck();
      const c = requireChain(table, cmd.chain);
      // A short chain gets an array of its exact size: push would reserve room for 17 rules in each of thousands of small chains.
      if (c.rules.length < 16) c.rules = c.rules.concat(cmd.rules);
      else c.rules.push(...cmd.rules);
      return { output: echo(cmd.rules), mutated: true };
    }
    case "insert": {
      jumpCheck();
      const c = requireChain(table, cmd.chain);
      if (cmd.rulenum > c.rules.length + 1) throw new NftError("Index of insertion too big");
      for (const r of cmd.rules) c.rules.splice(cmd.rulenum - 1, 0, r);
      return { output: echo(cmd.rules), mutated: true };
    }
    case "replace": {
      if (cmd.rules.length !== 1) throw paramError("Replacement rule does not specify a unique address");
      jumpCheck();
      const c = requireChain(table, cmd.chain);
      if (cmd.rulenum > c.rules.length) throw new NftError("Index of replacement too big");
      c.rules[cmd.rulenum - 1] = cmd.rules[0]!;
      return { output: echo(cmd.rules), mutated: true };
    }
    case "delete":
    case "check": {
      jumpCheck();
      const c = requireChain(table, cmd.chain, BAD_RULE);
      let said = "";
      for (const r of cmd.rules) {
        const key = ruleKey(r);
        const at = c.rules.findIndex((x) => ruleKey(x) === key);
        if (at < 0) throw new NftError(BAD_RULE);
        said += echo([r]);
        if (cmd.command === "delete") c.rules.splice(at, 1);
      }
      return { output: said, mutated: cmd.command === "delete" };
    }
    case "delete-num": {
      const c = requireChain(table, cmd.chain);
      if (cmd.rulenum > c.rules.length) throw new NftError("Index of deletion too big");
      c.rules.splice(cmd.rulenum - 1, 1);
      return { output: "", mutated: true };
    }
    case "list":
    case "list-rules": {
      const c = cmd.chain === undefined ? undefined : requireChain(table, cmd.chain);
      const output =
        cmd.command === "list"
          ? listTable(table, c, cmd.rulenum, {
              numeric: cmd.numeric,
              verbose: cmd.verbose > 0,
              exact: cmd.exact,
              lineNumbers: cmd.lineNumbers,
              ...(options.hostName ? { hostName: options.hostName } : {}),
            })
          : listRules(table, c, cmd.rulenum, cmd.verbose > 0);
      let said = "";
      if (cmd.zeroToo) said = zero(table, c, 0, cmd.verbose > 0);
      return { output: output + said, mutated: cmd.zeroToo };
    }
    case "flush": {
      const chains = cmd.chain === undefined ? table.orderedChains() : [requireChain(table, cmd.chain)];
      let said = "";
      for (const c of chains) {
        if (cmd.verbose > 0) said += `Flushing chain \`${c.name}'\n`;
        c.rules = [];
      }
      return { output: said, mutated: true };
    }
    case "zero":
    case "zero-num": {
      const c = cmd.chain === undefined ? undefined : requireChain(table, cmd.chain);
      if (cmd.command === "zero-num" && (c === undefined || cmd.rulenum > c.rules.length)) throw new NftError(ENOENT);
      const said = zero(table, c, cmd.command === "zero-num" ? cmd.rulenum : 0, cmd.verbose > 0);
      return { output: said, mutated: true };
    }
    case "new-chain": {
      if (table.chain(cmd.chain!) !== undefined) throw new NftError("Chain already exists");
      table.chains.set(cmd.chain!, new Chain(cmd.chain!, undefined));
      return { output: "", mutated: true };
    }
    case "delete-chain": {
      const doomed = cmd.chain === undefined ? [...table.chains.values()].filter((c) => !c.builtin) : [requireChain(table, cmd.chain)];
      for (const c of doomed) {
        if (c.builtin) {
          // Only chains are cached for `-X CHAIN`: the policy is known, the rules are left to the kernel.
          if (cmd.chain === undefined) continue;
          if (c.policy !== "ACCEPT") throw new NftError("Directory not empty");
          if (c.rules.length > 0) throw new XtablesError(` CHAIN_DEL failed (Device or resource busy): chain ${c.name}`, 4, "param");
          continue;
        }
        if (c.rules.length > 0 || table.references(c.name) > 0) {
          throw new XtablesError(` CHAIN_DEL failed (Device or resource busy): chain ${c.name}`, 4, "param");
        }
      }
      let said = "";
      for (const c of doomed) {
        if (c.builtin) continue;
        if (cmd.verbose > 0) said += `Deleting chain \`${c.name}'\n`;
        table.chains.delete(c.name);
      }
      return { output: said, mutated: true };
    }
    case "rename-chain": {
      const c = requireChain(table, cmd.chain);
      if (c.builtin) throw new NftError("Operation not supported");
      if (table.chain(cmd.newName!) !== undefined) throw new NftError("File exists");
      const from = c.name;
      const to = cmd.newName!;
      table.chains.delete(from);
      c.name = to;
      table.chains.set(to, c);
      for (const other of table.chains.values()) {
        other.rules = other.rules.map((r) => {
          if (r.action.kind !== "jump" || r.action.chain !== from) return r;
          const moved = new Rule(r.ip, r.matches, { ...r.action, chain: to });
          moved.counters.packets = r.counters.packets;
          moved.counters.bytes = r.counters.bytes;
          return moved;
        });
      }
      return { output: "", mutated: true };
    }
    case "set-policy": {
      const c = table.chain(cmd.chain!);
      if (c === undefined || !c.builtin) throw new NftError("Bad built-in chain name");
      if (cmd.policy !== "ACCEPT" && cmd.policy !== "DROP") throw new NftError("Bad policy name", true);
      c.policy = cmd.policy;
      if (cmd.counters) {
        c.counters.packets = cmd.counters.packets;
        c.counters.bytes = cmd.counters.bytes;
      }
      return { output: "", mutated: true };
    }
  }
}

function zero(table: Table, chain: Chain | undefined, rulenum: number, verbose: boolean): string {
  const chains = chain === undefined ? table.orderedChains() : [chain];
  let said = "";
  for (const c of chains) {
    if (verbose && rulenum === 0) said += `Zeroing chain \`${c.name}'\n`;
    if (rulenum === 0) {
      c.counters.packets = 0;
      c.counters.bytes = 0;
    }
    c.rules.forEach((r, i) => {
      if (rulenum !== 0 && i + 1 !== rulenum) return;
      r.counters.packets = 0;
      r.counters.bytes = 0;
    });
  }
  return said;
}

/** What a tool run printed and its exit status. */
export interface ToolResult {
  readonly exit: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** How iptables prints an XtablesError (xtables_error, exit_tryhelp, nft_strerror). */
export function formatXtablesError(err: XtablesError, prog = "iptables"): ToolResult {
  const tryHelp = `Try \`${prog} -h' or '${prog} --help' for more information.\n`;
  switch (err.style) {
    case "nft": {
      const einval = err instanceof NftError && err.einval;
      return { exit: 1, stdout: "", stderr: `${prog}: ${err.message}.${einval ? " Run `dmesg' for more information." : ""}\n` };
    }
    case "plain":
      return { exit: err.status, stdout: "", stderr: `${err.message === "" ? "" : `${err.message}\n`}${tryHelp}` };
    default: {
      let text = `${prog} v1.8.10 (nf_tables): ${err.message}\n`;
      if (err.status === 2) text += tryHelp;
      if (err.status === 3) text += "Perhaps iptables or your kernel needs to be upgraded.\n";
      return { exit: err.status, stdout: "", stderr: text };
    }
  }
}

/** The start of `iptables -h`. */
const HELP = `iptables v1.8.10 (nf_tables)

Usage: iptables -[ACD] chain rule-specification [options]
       iptables -I chain [rulenum] rule-specification [options]
       iptables -R chain rulenum rule-specification [options]
       iptables -D chain rulenum [options]
       iptables -[LS] [chain [rulenum]] [options]
       iptables -[FZ] [chain] [options]
       iptables -[NX] chain
       iptables -E old-chain-name new-chain-name
       iptables -P chain target [options]
       iptables -h (print this help information)

Commands:
Either long or short options are allowed.
  --append  -A chain\t\tAppend to chain
  --check   -C chain\t\tCheck for the existence of a rule
  --delete  -D chain\t\tDelete matching rule from chain
  --delete  -D chain rulenum
\t\t\t\tDelete rule rulenum (1 = first) from chain
  --insert  -I chain [rulenum]
\t\t\t\tInsert in chain as rulenum (default 1=first)
  --replace -R chain rulenum
\t\t\t\tReplace rule rulenum (1 = first) in chain
  --list    -L [chain [rulenum]]
\t\t\t\tList the rules in a chain or all chains
  --list-rules -S [chain [rulenum]]
\t\t\t\tPrint the rules in a chain or all chains
  --flush   -F [chain]\t\tDelete all rules in  chain or all chains
  --zero    -Z [chain [rulenum]]
\t\t\t\tZero counters in chain or all chains
  --new     -N chain\t\tCreate a new user-defined chain
  --delete-chain
            -X [chain]\t\tDelete a user-defined chain
  --policy  -P chain target
\t\t\t\tChange policy on chain to target
  --rename-chain
            -E old-chain new-chain
\t\t\t\tChange chain name, (moving any references)
`;

/**
 * `iptables ARGS…` as a whole program: what it prints and its exit status,
 * errors in iptables' own words.
 */
export function iptablesMain(nf: Netfilter, argv: readonly string[], options: ExecOptions & { resolve?: HostResolver } = {}): ToolResult {
  try {
    return { exit: 0, stdout: runIptables(nf, argv, options), stderr: "" };
  } catch (err) {
    if (!(err instanceof XtablesError)) throw err;
    if (err.style === "raw" && err.message === "version") return { exit: 0, stdout: "iptables v1.8.10 (nf_tables)\n", stderr: "" };
    if (err.style === "raw" && err.message === "help") return { exit: 0, stdout: HELP, stderr: "" };
    return formatXtablesError(err);
  }
}

/** Commands that create their table when it does not exist yet (nft creates tables on first write). */
const CREATES = new Set(["append", "insert", "replace", "new-chain", "set-policy"]);

/**
 * Runs one `iptables` command line (argv without the program name) against a
 * namespace's netfilter. Returns what it prints on stdout; throws
 * XtablesError in iptables' words.
 */
export function runIptables(nf: Netfilter, argv: readonly string[], options: ExecOptions & { resolve?: HostResolver } = {}): string {
  const cmd = parseIptables(argv, { services: nf, ...(options.resolve ? { resolve: options.resolve } : {}) });
  const name = cmd.table;
  const live = nf.table(name);
  if (cmd.command === "list" || cmd.command === "list-rules") {
    if (cmd.zeroToo && live) {
      return applyCommand(live, cmd, options).output;
    }
    return applyCommand(live ?? new Table(name), cmd, options).output;
  }
  const work = nf.begin(name);
  let applied: Applied;
  try {
    applied = applyCommand(work, cmd, options);
  } catch (err) {
    nf.abort(work);
    throw err;
  }
  if (!applied.mutated || (live === undefined && !CREATES.has(cmd.command))) {
    nf.abort(work);
    return applied.output;
  }
  const problem = nf.validate(work);
  if (problem) {
    nf.abort(work);
    throw new XtablesError(` ${problemText(opName(cmd), problem)}`, 4, "param");
  }
  nf.commit(work);
  return applied.output;
}

/** Options of `iptables-restore`. */
export interface RestoreOptions {
  /** --noflush: add to the tables instead of replacing them. */
  readonly noflush?: boolean;
  /** --counters: take packet and byte counters from the input. */
  readonly counters?: boolean;
  /** -T TABLE: restore only this table. */
  readonly table?: string;
  /** --test: parse and check, commit nothing. */
  readonly test?: boolean;
  readonly resolve?: HostResolver;
  /** The program name in messages. */
  readonly program?: string;
}

/** What iptables-restore printed and its exit status. */
export interface RestoreResult {
  readonly exit: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Gives one shared copy of each long word (chain names, comments) so that
 * thousands of rules naming the same chain hold one string, and no rule holds
 * a slice of the whole input text. Words under 13 characters are copies
 * already (V8 slices only longer strings), so they are passed through.
 */
export class WordInterner {
  readonly #words = new Map<string, string>();

  word(s: string): string {
    if (s.length < 13) return s;
    const known = this.#words.get(s);
    if (known !== undefined) return known;
    // A fresh flat copy: the slice it came from keeps its whole source line alive.
    const copy = (" " + s).slice(1);
    this.#words.set(copy, copy);
    return copy;
  }
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/** add_param_to_argv: splits a rule line into words, honouring double quotes and backslash escapes in them. */
export function tokenizeRuleLine(line: string, interner?: WordInterner): string[] {
  const out: string[] = [];
  const n = line.length;
  let i = 0;
  while (i < n) {
    while (i < n && isBlank(line.charCodeAt(i))) i++;
    if (i >= n) break;
    // One word: runs of plain characters, and quoted runs where a backslash escapes the next character.
    let cur = "";
    let from = i;
    let inQuote = false;
    for (; i < n; i++) {
      const c = line.charCodeAt(i);
      if (inQuote) {
        if (c === 92) {
          cur += line.slice(from, i);
          i++;
          from = i;
          if (i >= n) break;
        } else if (c === 34) {
          cur += line.slice(from, i);
          from = i + 1;
          inQuote = false;
        }
        continue;
      }
      if (c === 34) {
        cur += line.slice(from, i);
        from = i + 1;
        inQuote = true;
      } else if (isBlank(c)) {
        break;
      }
    }
    cur += line.slice(from, Math.min(i, n));
    out.push(interner ? interner.word(cur) : cur);
  }
  return out;
}

/**
 * `iptables-restore`: reads a ruleset in save form and commits it table by
 * table, each table at its COMMIT line and only if every line of it was
 * good; a bad line stops everything and names its line number.
 */
export function runRestore(nf: Netfilter, input: string, options: RestoreOptions = {}): RestoreResult {
  const prog = options.program ?? "iptables-restore";
  const stderrParam = (message: string, line: number): string =>
    `${prog} v1.8.10 (nf_tables): ${message}\nError occurred at line: ${line}\nTry \`${prog} -h' or '${prog} --help' for more information.\n`;
  // Each rule's line, for commit errors: kept as two lists (cheap to append), looked up only on failure.
  let current: { name: TableName; work: Table; rules: Rule[]; lines: number[] } | undefined;
  let skipping = false;
  let stdout = "";
  const lines = input.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  let lineNo = 0;
  const interner = new WordInterner();
  const parseOptions = { services: nf, restore: true, ...(options.resolve ? { resolve: options.resolve } : {}) };
  const fail = (result: RestoreResult): RestoreResult => {
    if (current) nf.abort(current.work);
    return result;
  };
  for (const raw of lines) {
    lineNo++;
    const line = raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
    if (line === "" || line.startsWith("#")) continue;
    if (current !== undefined && line === "COMMIT") {
      const problem = nf.validate(current.work);
      if (problem) {
        const lines = new Map<Rule, number>();
        current.rules.forEach((r, k) => lines.set(r, current!.lines[k]!));
        const at = firstRuleLine(current.work, problem.chain, lines) ?? lineNo;
        return fail({ exit: 4, stdout: "", stderr: `${prog} v1.8.10 (nf_tables): \nline ${at}: ${problemText("RULE_APPEND", problem)}\n` });
      }
      if (options.test) nf.abort(current.work);
      else nf.commit(current.work);
      current = undefined;
      continue;
    }
    if (line.startsWith("*") && current === undefined) {
      const name = line.slice(1).split(/[ \t]/)[0] ?? "";
      if (name === "") return fail({ exit: 2, stdout: "", stderr: stderrParam(`${prog}: line ${lineNo} table name invalid`, lineNo) });
      if (!isTableName(name)) {
        return fail({ exit: 2, stdout: "", stderr: stderrParam(`${prog}: line ${lineNo} table name '${name}' invalid`, lineNo) });
      }
      if (options.table !== undefined && options.table !== name) {
        skipping = true;
        continue;
      }
      skipping = false;
      // Without --noflush the table starts empty: no rules, no user chains, default policies.
      const work = options.noflush ? nf.begin(name) : new Table(name);
      current = { name, work, rules: [], lines: [] };
      continue;
    }
    if (line.startsWith(":") && current !== undefined) {
      const parts = line.slice(1).split(/[ \t]+/).filter((p) => p !== "");
      const chainName = parts[0];
      if (chainName === undefined) return fail({ exit: 2, stdout: "", stderr: stderrParam(`${prog}: line ${lineNo} chain name invalid`, lineNo) });
      try {
        assertValidChainName(chainName);
      } catch (err) {
        return fail({ exit: 2, stdout: "", stderr: stderrParam((err as Error).message, lineNo) });
      }
      const policy = parts[1];
      if (policy === undefined) return fail({ exit: 2, stdout: "", stderr: stderrParam(`${prog}: line ${lineNo} policy invalid`, lineNo) });
      const existing = current.work.chain(chainName);
      if (existing?.builtin) {
        const ctrs = parts[2];
        const m = ctrs === undefined ? undefined : /^\[(\d+):(\d+)\]$/.exec(ctrs);
        if ((ctrs === undefined && options.counters) || (ctrs !== undefined && m === null)) {
          return fail({ exit: 2, stdout: "", stderr: stderrParam(`invalid policy counters for chain '${chainName}'`, lineNo) });
        }
        if (policy !== "ACCEPT" && policy !== "DROP") {
          return fail({ exit: 1, stdout: "", stderr: `${prog}: line ${lineNo} failed: Bad policy name.\n` });
        }
        existing.policy = policy;
        if (options.counters && m) {
          existing.counters.packets = Number(m[1]);
          existing.counters.bytes = Number(m[2]);
        }
      } else if (existing !== undefined) {
        existing.rules = [];
      } else {
        const name = interner.word(chainName);
        current.work.chains.set(name, new Chain(name, undefined));
      }
      continue;
    }
    if (current === undefined) {
      if (skipping) continue;
      return { exit: 1, stdout: "", stderr: `${prog}: line ${lineNo} failed\n` };
    }
    // A rule or command line.
    let body = line;
    const words: string[] = ["-t", current.name];
    if (body.startsWith("[")) {
      const close = body.indexOf("]");
      if (close < 0) return fail({ exit: 2, stdout: "", stderr: stderrParam(`Bad line ${lineNo}: need ]`, lineNo) });
      const inner = body.slice(1, close);
      const colon = inner.indexOf(":");
      if (colon < 0) return fail({ exit: 2, stdout: "", stderr: stderrParam(`Bad line ${lineNo}: need :`, lineNo) });
      if (options.counters) words.push("--set-counters", inner.slice(0, colon), inner.slice(colon + 1));
      body = body.slice(close + 1);
    }
    words.push(...tokenizeRuleLine(body, interner));
    let cmd: IptablesCommand;
    try {
      cmd = parseIptables(words, parseOptions);
    } catch (err) {
      if (!(err instanceof XtablesError)) throw err;
      return fail(restoreError(err, prog, lineNo, stderrParam));
    }
    try {
      const applied = applyCommand(current.work, cmd);
      for (const r of cmd.rules) {
        current.rules.push(r);
        current.lines.push(lineNo);
      }
      stdout += applied.output;
    } catch (err) {
      if (!(err instanceof XtablesError)) throw err;
      for (const r of cmd.rules) r.matches.forEach((m) => m.release?.());
      return fail(restoreError(err, prog, lineNo, stderrParam));
    }
  }
  if (current !== undefined) {
    return fail({ exit: 1, stdout, stderr: `${prog}: COMMIT expected at line ${lineNo + 1}\n` });
  }
  return { exit: 0, stdout, stderr: "" };
}

function restoreError(err: XtablesError, prog: string, line: number, param: (m: string, l: number) => string): RestoreResult {
  switch (err.style) {
    case "nft":
      return { exit: 1, stdout: "", stderr: `${prog}: line ${line} failed: ${err.message}.\n` };
    case "plain":
      return {
        exit: 2,
        stdout: "",
        stderr: `${err.message}\nError occurred at line: ${line}\nTry \`${prog} -h' or '${prog} --help' for more information.\n`,
      };
    default:
      if (err.status === 4) return { exit: 4, stdout: "", stderr: `${prog} v1.8.10 (nf_tables): \nline ${line}:${err.message}\n` };
      return { exit: err.status === 0 ? 2 : err.status, stdout: "", stderr: param(err.message, line) };
  }
}

function firstRuleLine(table: Table, chain: string, lines: Map<Rule, number>): number | undefined {
  for (const r of table.chain(chain)?.rules ?? []) {
    const n = lines.get(r);
    if (n !== undefined) return n;
  }
  return undefined;
}
