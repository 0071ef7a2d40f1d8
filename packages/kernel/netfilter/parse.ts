/**
 * The iptables command line (xshared.c do_parse), shared by `iptables` and
 * `iptables-restore`: getopt_long with iptables' option table, `!` before an
 * option, extension options merged in as `-m`/`-j`/`-p` load them, the same
 * checks in the same order and iptables' own error words.
 */
import { type HostResolver, paramError, parseAddressList, strtoui, XtablesError } from "./_xtables.ts";

/** Errors and the host resolver type, for callers of the parser. */
export { type HostResolver, XtablesError } from "./_xtables.ts";
import type { ExtParser, NetfilterServices, ParseEnv } from "./extension.ts";
import { MATCHES, PROTO_BY_NAME } from "./matches.ts";
import { anyIpSpec, type IpSpec, type Match, Rule, type RuleAction, type TableName, type Target } from "./rule.ts";
import { isTableName } from "./table.ts";
import { TARGETS } from "./targets.ts";

/** The commands, as xtables names them. */
export type CommandName =
  | "append"
  | "check"
  | "delete"
  | "delete-num"
  | "replace"
  | "insert"
  | "list"
  | "list-rules"
  | "flush"
  | "zero"
  | "zero-num"
  | "new-chain"
  | "delete-chain"
  | "rename-chain"
  | "set-policy";

/** A parsed iptables command line. */
export interface IptablesCommand {
  readonly command: CommandName;
  /** -L/-S together with -Z (list, then zero). */
  readonly zeroToo: boolean;
  readonly table: TableName;
  readonly chain: string | undefined;
  readonly rulenum: number;
  readonly newName: string | undefined;
  readonly policy: string | undefined;
  /** The rules the spec expands to (one per -s × -d address). */
  readonly rules: readonly Rule[];
  /** The chain a rule jumps or goes to, when it is not a verdict or extension. */
  readonly jumpTo: string | undefined;
  readonly verbose: number;
  readonly numeric: boolean;
  readonly exact: boolean;
  readonly lineNumbers: boolean;
  /** -c PKTS BYTES. */
  readonly counters: { packets: number; bytes: number } | undefined;
}

/** What the parser needs besides argv. */
export interface ParseOptions {
  readonly services: NetfilterServices;
  readonly resolve?: HostResolver;
  /** Parsing a line of iptables-restore (some options are refused). */
  readonly restore?: boolean;
}

interface LongOpt {
  readonly name: string;
  /** 0 none, 1 required, 2 optional (attached only). */
  readonly hasArg: 0 | 1 | 2;
  readonly val: string;
}

const LONG_OPTS: readonly LongOpt[] = [
  { name: "append", hasArg: 1, val: "A" },
  { name: "delete", hasArg: 1, val: "D" },
  { name: "check", hasArg: 1, val: "C" },
  { name: "insert", hasArg: 1, val: "I" },
  { name: "replace", hasArg: 1, val: "R" },
  { name: "list", hasArg: 2, val: "L" },
  { name: "list-rules", hasArg: 2, val: "S" },
  { name: "flush", hasArg: 2, val: "F" },
  { name: "zero", hasArg: 2, val: "Z" },
  { name: "new-chain", hasArg: 1, val: "N" },
  { name: "delete-chain", hasArg: 2, val: "X" },
  { name: "rename-chain", hasArg: 1, val: "E" },
  { name: "policy", hasArg: 1, val: "P" },
  { name: "source", hasArg: 1, val: "s" },
  { name: "destination", hasArg: 1, val: "d" },
  { name: "src", hasArg: 1, val: "s" },
  { name: "dst", hasArg: 1, val: "d" },
  { name: "protocol", hasArg: 1, val: "p" },
  { name: "in-interface", hasArg: 1, val: "i" },
  { name: "jump", hasArg: 1, val: "j" },
  { name: "table", hasArg: 1, val: "t" },
  { name: "match", hasArg: 1, val: "m" },
  { name: "numeric", hasArg: 0, val: "n" },
  { name: "out-interface", hasArg: 1, val: "o" },
  { name: "verbose", hasArg: 0, val: "v" },
  { name: "wait", hasArg: 2, val: "w" },
  { name: "wait-interval", hasArg: 2, val: "W" },
  { name: "exact", hasArg: 0, val: "x" },
  { name: "fragments", hasArg: 0, val: "f" },
  { name: "version", hasArg: 0, val: "V" },
  { name: "help", hasArg: 2, val: "h" },
  { name: "line-numbers", hasArg: 0, val: "0" },
  { name: "modprobe", hasArg: 1, val: "M" },
  { name: "set-counters", hasArg: 1, val: "c" },
  { name: "goto", hasArg: 1, val: "g" },
  { name: "ipv4", hasArg: 0, val: "4" },
  { name: "ipv6", hasArg: 0, val: "6" },
];

/** What a `--name` resolves to among the built-in long options. */
interface LongHit {
  /** The option when every option `name` abbreviates has one meaning, else undefined. */
  readonly opt: LongOpt | undefined;
  /** `name` is a full option name (not an abbreviation). */
  readonly exact: boolean;
}

const LONG_EXACT = new Map(LONG_OPTS.map((o) => [o.name, o] as const));
const longHits = new Map<string, LongHit>();

/** getopt_long's lookup of `--name`: the exact option, else the one all options starting with `name` share. */
function resolveLong(name: string): LongHit {
  let hit = longHits.get(name);
  if (hit !== undefined) return hit;
  const exact = LONG_EXACT.get(name);
  const hits = exact ? [exact] : LONG_OPTS.filter((o) => o.name.startsWith(name));
  const distinct = new Set(hits.map((h) => h.val));
  hit = { opt: hits.length > 0 && distinct.size === 1 ? hits[0] : undefined, exact: exact !== undefined };
  // Names come from user input: remember a bounded number of them.
  if (longHits.size >= 1024) longHits.clear();
  longHits.set(name, hit);
  return hit;
}

/** Short options: letter → argument kind (0 none, 1 required, 2 optional). */
const SHORT: Readonly<Record<string, 0 | 1 | 2>> = {
  A: 1, C: 1, D: 1, R: 1, I: 1, L: 2, S: 2, M: 1, F: 2, Z: 2, N: 1, X: 2, E: 1, P: 1, V: 0, h: 2,
  o: 1, p: 1, s: 1, d: 1, j: 1, i: 1, f: 0, b: 0, v: 0, w: 2, W: 2, n: 0, t: 1, m: 1, x: 0, c: 1, g: 1, "4": 0, "6": 0,
};

const OPT_LETTERS = "nsdpjvxio0cf";
type OptLetter = "n" | "s" | "d" | "p" | "j" | "v" | "x" | "i" | "o" | "0" | "c" | "f";

/** commands_v_options: which options each command allows ('x' = illegal). */
const LEGAL: Readonly<Record<CommandName, string>> = {
  insert: "x     x  x  ",
  delete: "x     x  xx ",
  "delete-num": "xxxxx xxxxxx",
  replace: "x     x  x  ",
  append: "x     x  x  ",
  list: " xxxx  xx xx",
  flush: "xxxxx xxxxxx",
  zero: "xxxxx xxxxxx",
  "zero-num": "xxxxx xxxxxx",
  "new-chain": "xxxxx xxxxxx",
  "delete-chain": "xxxxx xxxxxx",
  "set-policy": "xxxxx xxxx x",
  "rename-chain": "xxxxx xxxxxx",
  "list-rules": "xxxxx xxxxxx",
  check: "x     x  xx ",
};

const CMD_CHARS: Readonly<Record<CommandName, string>> = {
  append: "A",
  check: "C",
  delete: "D",
  "delete-num": "D",
  replace: "R",
  insert: "I",
  list: "L",
  "list-rules": "S",
  flush: "F",
  zero: "Z",
  "zero-num": "Z",
  "new-chain": "N",
  "delete-chain": "X",
  "rename-chain": "E",
  "set-policy": "P",
};

/** The commands that take a rule specification. */
const RULE_COMMANDS: ReadonlySet<CommandName> = new Set(["append", "delete", "check", "insert", "replace"]);

/** A loaded extension and the parser collecting its options. */
interface Loaded<T> {
  readonly name: string;
  readonly parser: ExtParser<T>;
}

/** xs_has_arg: the next argument exists and is not an option or `!`. */
function hasArg(argv: readonly string[], i: number): boolean {
  const a = argv[i];
  return a !== undefined && !a.startsWith("-") && !a.startsWith("!");
}

/** The chain-name checks of assert_valid_chain_name. */
export function assertValidChainName(name: string): void {
  if (name.length >= 29) throw paramError(`chain name \`${name}' too long (must be under 29 chars)`);
  if (name.startsWith("-") || name.startsWith("!")) throw paramError(`chain name not allowed to start with \`${name[0]}'`);
  if (name in TARGETS) throw paramError("chain name may not clash with target name");
  if (/\s/.test(name)) throw paramError(`Invalid chain name \`${name}'`);
}

/** What extensions see of the rule being parsed, as it is when they look: `-m udp -p udp` is fine. */
class LiveEnv implements ParseEnv {
  /** The `-t` argument so far. */
  tableName = "filter";

  constructor(
    readonly ip: IpSpec,
    readonly services: NetfilterServices,
  ) {}

  get proto(): number {
    return this.ip.proto;
  }
  get invProto(): boolean {
    return this.ip.invProto;
  }
  get table(): TableName {
    return isTableName(this.tableName) ? this.tableName : "filter";
  }
}

/** Parses an iptables command line (argv without the program name). Throws XtablesError. */
export function parseIptables(argv: readonly string[], options: ParseOptions): IptablesCommand {
  let command: CommandName | undefined;
  let zeroToo = false;
  let chain: string | undefined;
  let rulenum = 0;
  let newName: string | undefined;
  let policy: string | undefined;
  let tableName = "filter";
  let tableSet = false;
  let invert = false;
  const opts = new Set<OptLetter>();
  let verbose = 0;
  let counters: { packets: number; bytes: number } | undefined;
  const ip: IpSpec = anyIpSpec();
  let srcText: string | undefined;
  let dstText: string | undefined;
  let jump: string | undefined;
  let goto = false;
  const matches: Array<Loaded<Match>> = [];
  let target: Loaded<Target> | undefined;

  const addCommand = (c: CommandName, allowed: CommandName[] = []): void => {
    if (invert) throw paramError("unexpected '!' flag");
    if (command !== undefined && !allowed.includes(command)) {
      throw paramError(`Cannot use -${CMD_CHARS[c]} with -${CMD_CHARS[command]}`);
    }
    if (command !== undefined && allowed.includes(command)) {
      if (c === "zero" || c === "zero-num") {
        zeroToo = true;
        return;
      }
      zeroToo = true;
    }
    command = c;
  };
  const setOption = (letter: OptLetter, inv: boolean): void => {
    if (opts.has(letter)) throw paramError(`multiple -${letter} flags not allowed`);
    opts.add(letter);
    if (inv) {
      if (!"sdpiof".includes(letter)) throw paramError(`cannot have ! before -${letter}`);
    }
  };
  const liveEnv = new LiveEnv(ip, options.services);
  const env = (): ParseEnv => liveEnv;
  const loadMatch = (name: string): void => {
    const factory = MATCHES[name];
    if (factory === undefined) throw paramError(`Couldn't load match \`${name}':No such file or directory\n`);
    matches.push({ name, parser: factory(env()) });
  };

  /** Handles an option no built-in knows: a target's, a match's, or the protocol's implicit match. */
  const extensionOption = (name: string, value: string | undefined, i: number): number => {
    const owners: Array<Loaded<Match> | Loaded<Target>> = [...(target ? [target] : []), ...matches];
    for (let attempt = 0; attempt < 2; attempt++) {
      for (const ext of owners) {
        const spec = ext.parser.options.find((o) => o.name === name) ?? uniquePrefix(ext.parser.options, name);
        if (spec === undefined) continue;
        const args: string[] = [];
        let next = i;
        if (spec.args >= 1) {
          if (value !== undefined) args.push(value);
          else {
            const a = argv[next];
            if (a === undefined) throw paramError(`option "--${name}" requires an argument`);
            args.push(a);
            next++;
          }
        } else if (value !== undefined) {
          throw paramError(`option "--${spec.name}" doesn't allow an argument`);
        }
        if (spec.args === 2) {
          const a = argv[next];
          if (a !== undefined && !a.startsWith("-") && !a.startsWith("!")) {
            args.push(a);
            next++;
          }
        }
        if (invert && !spec.invertible) throw paramError(`${ext.name}: option "--${spec.name}" cannot be inverted.\n`);
        ext.parser.option(spec.name, args, invert);
        return next;
      }
      // Implicit protocol match (`-p tcp --dport 80`).
      const protoName = ip.proto === 6 ? "tcp" : ip.proto === 17 ? "udp" : ip.proto === 1 ? "icmp" : undefined;
      if (attempt === 0 && protoName !== undefined && !matches.some((m) => m.name === protoName)) {
        loadMatch(protoName);
        owners.push(matches[matches.length - 1]!);
        continue;
      }
      break;
    }
    throw paramError(`unknown option "--${name}"`);
  };

  let i = 0;
  while (i < argv.length) {
    const arg = argv[i]!;
    i++;
    if (arg === "--") {
      // Everything after is a non-option argument.
      if (i < argv.length) {
        const rest = argv[i]!;
        throw new XtablesError(`Bad argument \`${rest}'`, 2, "plain");
      }
      break;
    }
    let letter: string | undefined;
    let optarg: string | undefined;
    if (arg.startsWith("--") && arg.length > 2) {
      const eq = arg.indexOf("=");
      const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      const value = eq >= 0 ? arg.slice(eq + 1) : undefined;
      const { opt: o, exact } = resolveLong(name);
      // Extension options win over abbreviations of built-in ones.
      if (o !== undefined && !(!exact && extensionKnows(name))) {
        letter = o.val;
        if (o.hasArg === 1) {
          if (value !== undefined) optarg = value;
          else {
            optarg = argv[i];
            if (optarg === undefined) throw paramError(`option "${arg}" requires an argument`);
            i++;
          }
        } else if (o.hasArg === 2) optarg = value;
        else if (value !== undefined) throw paramError(`option "--${o.name}" doesn't allow an argument`);
      } else {
        i = extensionOption(name, value, i);
        invert = false;
        continue;
      }
    } else if (arg.startsWith("-") && arg.length > 1) {
      // A cluster of short options: -nvL, -tnat, -Ajchain…
      let k = 1;
      let consumedCluster = false;
      while (k < arg.length && !consumedCluster) {
        const ch = arg[k]!;
        const kind = SHORT[ch];
        if (kind === undefined) throw paramError(`unknown option "${arg}"`);
        let value: string | undefined;
        if (kind === 1) {
          if (k + 1 < arg.length) value = arg.slice(k + 1);
          else {
            value = argv[i];
            if (value === undefined) throw paramError(`option "-${ch}" requires an argument`);
            i++;
          }
          consumedCluster = true;
        } else if (kind === 2) {
          if (k + 1 < arg.length) value = arg.slice(k + 1);
          consumedCluster = true;
        }
        k++;
        i = handleShort(ch, value, i);
        invert = false;
      }
      continue;
    } else {
      // A non-option argument: `!`, or an error.
      if (arg === "!") {
        if (invert) throw paramError("multiple consecutive ! not allowed");
        invert = true;
        continue;
      }
      throw new XtablesError(`Bad argument \`${arg}'`, 2, "plain");
    }
    i = handleShort(letter, optarg, i);
    invert = false;
  }

  function extensionKnows(name: string): boolean {
    const owners = [...(target ? [target] : []), ...matches];
    return owners.some((e) => e.parser.options.some((o) => o.name === name));
  }

  function handleShort(ch: string, optarg: string | undefined, i: number): number {
    switch (ch) {
      case "A":
        addCommand("append");
        chain = optarg;
        return i;
      case "C":
        addCommand("check");
        chain = optarg;
        return i;
      case "D":
        addCommand("delete");
        chain = optarg;
        if (hasArg(argv, i)) {
          rulenum = parseRuleNumber(argv[i]!);
          command = "delete-num";
          return i + 1;
        }
        return i;
      case "R":
        addCommand("replace");
        chain = optarg;
        if (!hasArg(argv, i)) throw paramError("-R requires a rule number");
        rulenum = parseRuleNumber(argv[i]!);
        return i + 1;
      case "I":
        addCommand("insert");
        chain = optarg;
        if (hasArg(argv, i)) {
          rulenum = parseRuleNumber(argv[i]!);
          return i + 1;
        }
        rulenum = 1;
        return i;
      case "L":
      case "S":
        addCommand(ch === "L" ? "list" : "list-rules", ["zero", "zero-num"]);
        if (optarg !== undefined) chain = optarg;
        else if (hasArg(argv, i)) chain = argv[i++];
        if (hasArg(argv, i)) rulenum = parseRuleNumber(argv[i++]!);
        return i;
      case "F":
        addCommand("flush");
        if (optarg !== undefined) chain = optarg;
        else if (hasArg(argv, i)) chain = argv[i++];
        return i;
      case "Z":
        addCommand("zero", ["list", "list-rules"]);
        if (optarg !== undefined) chain = optarg;
        else if (hasArg(argv, i)) chain = argv[i++];
        if (hasArg(argv, i)) {
          rulenum = parseRuleNumber(argv[i++]!);
          if (command === "zero") command = "zero-num";
        }
        return i;
      case "N":
        assertValidChainName(optarg!);
        addCommand("new-chain");
        chain = optarg;
        return i;
      case "X":
        addCommand("delete-chain");
        if (optarg !== undefined) chain = optarg;
        else if (hasArg(argv, i)) chain = argv[i++];
        return i;
      case "E":
        addCommand("rename-chain");
        chain = optarg;
        if (!hasArg(argv, i)) throw paramError("-E requires old-chain-name and new-chain-name");
        newName = argv[i++];
        assertValidChainName(newName!);
        return i;
      case "P":
        addCommand("set-policy");
        if (!hasArg(argv, i)) throw paramError("-P requires a chain and a policy");
        chain = optarg;
        policy = argv[i++];
        return i;
      case "h":
        throw new XtablesError("help", 0, "raw");
      case "V":
        throw new XtablesError("version", 0, "raw");
      case "p": {
        setOption("p", invert);
        ip.invProto = invert;
        const name = optarg!.toLowerCase();
        const num = strtoui(name, 0, 255);
        const proto = num ?? PROTO_BY_NAME[name];
        if (proto === undefined) throw paramError(`unknown protocol "${optarg}" specified`);
        ip.proto = proto;
        if (proto === 0 && ip.invProto) throw paramError("rule would never match protocol");
        return i;
      }
      case "s":
        setOption("s", invert);
        ip.invSrc = invert;
        srcText = optarg;
        return i;
      case "d":
        setOption("d", invert);
        ip.invDst = invert;
        dstText = optarg;
        return i;
      case "i":
      case "o": {
        if (optarg === "") throw paramError("Empty interface is likely to be undesired");
        setOption(ch, invert);
        if (optarg!.length >= 16) throw paramError(`interface name \`${optarg}' must be shorter than 16 characters`);
        if (ch === "i") {
          ip.inIface = optarg!;
          ip.invIn = invert;
        } else {
          ip.outIface = optarg!;
          ip.invOut = invert;
        }
        return i;
      }
      case "f":
        setOption("f", invert);
        ip.frag = true;
        ip.invFrag = invert;
        return i;
      case "j":
      case "g": {
        setOption("j", invert);
        const name = optarg!;
        if (name.length > 28) throw paramError(`Invalid target name \`${name}' (28 chars max)`);
        if (ch === "g") {
          goto = true;
          jump = name;
          return i;
        }
        if (name === "CONTINUE") return i;
        jump = name;
        const factory = TARGETS[name];
        if (factory !== undefined) target = { name, parser: factory(env()) };
        return i;
      }
      case "m":
        if (invert) throw paramError("unexpected ! flag before --match");
        loadMatch(optarg!);
        return i;
      case "n":
        setOption("n", invert);
        return i;
      case "v":
        if (verbose === 0) setOption("v", invert);
        verbose++;
        return i;
      case "x":
        setOption("x", invert);
        return i;
      case "0":
        setOption("0", invert);
        return i;
      case "t":
        if (invert) throw paramError("unexpected ! flag before --table");
        if (options.restore && tableSet) throw paramError("The -t option cannot be used in iptables-restore.\n");
        tableName = optarg!;
        liveEnv.tableName = tableName;
        tableSet = true;
        return i;
      case "w":
      case "W":
        if (options.restore) throw paramError(`You cannot use \`-${ch}' from iptables-restore`);
        if (optarg === undefined && hasArg(argv, i) && /^\d+$/.test(argv[i]!)) return i + 1;
        return i;
      case "c": {
        setOption("c", invert);
        const text = optarg!;
        const comma = text.indexOf(",");
        const p = comma >= 0 ? text.slice(0, comma) : text;
        let b: string | undefined = comma >= 0 ? text.slice(comma + 1) : undefined;
        if (b === undefined && hasArg(argv, i)) b = argv[i++];
        if (b === undefined) throw paramError("-c requires packet and byte counter");
        if (!/^\d+/.test(p)) throw paramError("-c packet counter not numeric");
        if (!/^\d+/.test(b)) throw paramError("-c byte counter not numeric");
        counters = { packets: parseInt(p, 10), bytes: parseInt(b, 10) };
        return i;
      }
      case "M":
      case "4":
      case "b":
        return i;
      case "6":
        throw new XtablesError("", 2, "plain");
      default:
        throw paramError(`unknown option "-${ch}"`);
    }
  }

  const table = tableName;
  if (table === "nat" && (policy === "DROP" || jump === "DROP")) {
    throw paramError('\nThe "nat" table is not intended for filtering, the use of DROP is therefore inhibited.\n\n');
  }
  // Final checks of every extension (x6_fcheck), then the command-level ones.
  for (const m of matches) m.parser.finish().release?.();
  if (target) target.parser.finish();
  if (command === undefined) throw paramError("no command specified");
  if (invert) throw paramError("nothing appropriate following !");

  const srcs = srcText !== undefined ? parseAddressList(srcText, options.resolve) : [{ addr: 0, mask: 0 }];
  const dsts = dstText !== undefined ? parseAddressList(dstText, options.resolve) : [{ addr: 0, mask: 0 }];

  const legal = LEGAL[command];
  for (let k = 0; k < OPT_LETTERS.length; k++) {
    const letter = OPT_LETTERS[k]! as OptLetter;
    if (opts.has(letter) && legal[k] === "x") throw paramError(`Illegal option \`-${letter}' with this command`);
  }
  if (chain !== undefined && chain.length >= 29) throw paramError(`chain name \`${chain}' too long (must be under 29 chars)`);
  if (RULE_COMMANDS.has(command)) {
    if ((chain === "PREROUTING" || chain === "INPUT") && opts.has("o")) throw paramError(`Can't use -o with ${chain}\n`);
    if ((chain === "POSTROUTING" || chain === "OUTPUT") && opts.has("i")) throw paramError(`Can't use -i with ${chain}\n`);
  }
  if (!isTableName(table)) throw new XtablesError(`table '${table}' does not exist`, 3, "param");

  const rules: Rule[] = [];
  if (RULE_COMMANDS.has(command)) {
    for (const s of srcs) {
      for (const d of dsts) {
        const spec = ipSpecOf(ip, s, d);
        // Each rule gets its own extension instances (counters, recent lists).
        const ms = matches.map((m) => m.parser.finish());
        let action: RuleAction;
        if (target) action = { kind: "target", target: target.parser.finish() };
        else if (jump === undefined) action = { kind: "none" };
        else if (jump === "ACCEPT" || jump === "DROP" || jump === "RETURN") action = { kind: "verdict", verdict: jump };
        else action = { kind: "jump", chain: jump, goto };
        const rule = new Rule(spec, ms, action);
        if (counters) {
          rule.counters.packets = counters.packets;
          rule.counters.bytes = counters.bytes;
        }
        rules.push(rule);
      }
    }
  }
  return {
    command,
    zeroToo,
    table,
    chain,
    rulenum,
    newName,
    policy,
    rules,
    jumpTo: jump !== undefined && !target && jump !== "ACCEPT" && jump !== "DROP" && jump !== "RETURN" ? jump : undefined,
    verbose,
    numeric: opts.has("n"),
    exact: opts.has("x"),
    lineNumbers: opts.has("0"),
    counters,
  };
}

/**
 * Specs without addresses or interfaces, one per protocol and flags: rules
 * never change their spec, so those without addresses share one (most of
 * kube-proxy's service and endpoint chains).
 */
const sharedSpecs = new Map<number, IpSpec>();

/** The rule spec of `ip` for one source and destination. */
function ipSpecOf(ip: IpSpec, s: { addr: number; mask: number }, d: { addr: number; mask: number }): IpSpec {
  if (s.mask !== 0 || d.mask !== 0 || ip.inIface !== "" || ip.outIface !== "") {
    return { ...ip, src: s.addr, srcMask: s.mask, dst: d.addr, dstMask: d.mask };
  }
  const flags = (ip.invSrc ? 1 : 0) | (ip.invDst ? 2 : 0) | (ip.invIn ? 4 : 0) | (ip.invOut ? 8 : 0) | (ip.invProto ? 16 : 0) | (ip.frag ? 32 : 0) | (ip.invFrag ? 64 : 0);
  const key = ip.proto * 128 + flags;
  let spec = sharedSpecs.get(key);
  if (spec === undefined) {
    spec = { ...ip, src: 0, srcMask: 0, dst: 0, dstMask: 0 };
    sharedSpecs.set(key, spec);
  }
  return spec;
}

function parseRuleNumber(text: string): number {
  const n = strtoui(text, 1, 0x7fffffff);
  if (n === undefined) throw paramError(`Invalid rule number \`${text}'`);
  return n;
}

function uniquePrefix<T extends { name: string }>(list: readonly T[], prefix: string): T | undefined {
  const hits = list.filter((o) => o.name.startsWith(prefix));
  return hits.length === 1 ? hits[0] : undefined;
}
