/**
 * Command-line flags the way kubectl (cobra + pflag) reads them: long
 * `--name value` / `--name=value`, short `-n value` / `-nvalue` / `-n=value`,
 * bundled booleans `-it`, flags anywhere among the arguments, `--` ending
 * them; errors in pflag's words.
 */
import { CmdError } from "./errors.ts";

/** One flag a command accepts. */
export interface FlagSpec {
  long: string;
  short?: string;
  kind: "bool" | "string" | "array" | "int";
}

/** Parsed flags and positional arguments. */
export class Flags {
  constructor(
    readonly values: ReadonlyMap<string, string | boolean | number | string[]>,
    readonly args: readonly string[],
    /** Index in `args` where `--` was (cobra's ArgsLenAtDash), or -1. */
    readonly dashAt: number,
  ) {}

  has(long: string): boolean {
    return this.values.has(long);
  }
  bool(long: string, fallback = false): boolean {
    const v = this.values.get(long);
    return typeof v === "boolean" ? v : fallback;
  }
  string(long: string, fallback = ""): string {
    const v = this.values.get(long);
    return typeof v === "string" ? v : fallback;
  }
  array(long: string): string[] {
    const v = this.values.get(long);
    return Array.isArray(v) ? v : [];
  }
  int(long: string): number | undefined {
    const v = this.values.get(long);
    return typeof v === "number" ? v : undefined;
  }
}

/** A flag error; kubectl adds `See 'kubectl get --help' for usage.`. */
export class FlagError extends CmdError {}

/** Parses `argv` against `specs`. */
export function parseFlags(argv: readonly string[], specs: readonly FlagSpec[]): Flags {
  const values = new Map<string, string | boolean | number | string[]>();
  const args: string[] = [];
  let dashAt = -1;
  const byLong = new Map(specs.map((s) => [s.long, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));

  const set = (spec: FlagSpec, value: string, shown: string): void => {
    switch (spec.kind) {
      case "bool": {
        const b = parseBool(value);
        if (b === undefined) {
          throw new FlagError(`invalid argument "${value}" for "${shown}" flag: strconv.ParseBool: parsing "${value}": invalid syntax`);
        }
        values.set(spec.long, b);
        return;
      }
      case "int": {
        if (!/^[-+]?\d+$/.test(value)) {
          throw new FlagError(`invalid argument "${value}" for "${shown}" flag: strconv.ParseInt: parsing "${value}": invalid syntax`);
        }
        values.set(spec.long, Number(value));
        return;
      }
      case "array": {
        const prev = values.get(spec.long);
        const list = Array.isArray(prev) ? prev : [];
        list.push(value);
        values.set(spec.long, list);
        return;
      }
      case "string":
        values.set(spec.long, value);
    }
  };
  const nameOf = (spec: FlagSpec) => (spec.short ? `-${spec.short}, --${spec.long}` : `--${spec.long}`);

  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      dashAt = args.length;
      args.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      const spec = byLong.get(name);
      if (spec === undefined) throw new FlagError(`unknown flag: --${name}`);
      if (eq >= 0) set(spec, a.slice(eq + 1), nameOf(spec));
      else if (spec.kind === "bool") set(spec, "true", nameOf(spec));
      else {
        if (i + 1 >= argv.length) throw new FlagError(`flag needs an argument: --${name}`);
        set(spec, argv[++i]!, nameOf(spec));
      }
      continue;
    }
    if (a.startsWith("-") && a.length > 1) {
      const shorts = a.slice(1);
      for (let j = 0; j < shorts.length; j++) {
        const ch = shorts[j]!;
        const spec = byShort.get(ch);
        if (spec === undefined) throw new FlagError(`unknown shorthand flag: '${ch}' in ${a}`);
        if (spec.kind === "bool") {
          if (shorts[j + 1] === "=") {
            set(spec, shorts.slice(j + 2), nameOf(spec));
            break;
          }
          set(spec, "true", nameOf(spec));
          continue;
        }
        let value = shorts.slice(j + 1);
        if (value.startsWith("=")) value = value.slice(1);
        else if (value === "") {
          if (i + 1 >= argv.length) throw new FlagError(`flag needs an argument: '${ch}' in -${ch}`);
          value = argv[++i]!;
        }
        set(spec, value, nameOf(spec));
        break;
      }
      continue;
    }
    args.push(a);
  }
  return new Flags(values, args, dashAt);
}

function parseBool(v: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(v)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(v)) return false;
  return undefined;
}

/** The global flags every kubectl command takes (those kemu reads, and the connection ones it ignores). */
export const GLOBAL_FLAGS: readonly FlagSpec[] = [
  { long: "namespace", short: "n", kind: "string" },
  { long: "kubeconfig", kind: "string" },
  { long: "context", kind: "string" },
  { long: "cluster", kind: "string" },
  { long: "user", kind: "string" },
  { long: "server", short: "s", kind: "string" },
  { long: "token", kind: "string" },
  { long: "request-timeout", kind: "string" },
  { long: "insecure-skip-tls-verify", kind: "bool" },
  { long: "v", short: "v", kind: "string" },
  { long: "help", short: "h", kind: "bool" },
  { long: "warnings-as-errors", kind: "bool" },
  { long: "match-server-version", kind: "bool" },
];

/**
 * The first argument that is not a flag or a global flag's value (cobra's
 * stripFlags), so that `kubectl -n kube-system get pods` finds `get`.
 */
export function findVerb(argv: readonly string[]): { verb: string | undefined; index: number } {
  const valued = new Set(GLOBAL_FLAGS.filter((f) => f.kind !== "bool").flatMap((f) => [`--${f.long}`, ...(f.short ? [`-${f.short}`] : [])]));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") return { verb: undefined, index: -1 };
    if (a.startsWith("-") && a.length > 1) {
      if (!a.includes("=") && valued.has(a)) i++;
      continue;
    }
    return { verb: a, index: i };
  }
  return { verb: undefined, index: -1 };
}
