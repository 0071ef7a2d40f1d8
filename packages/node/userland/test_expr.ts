/**
 * `test` / `[`: evaluation of POSIX test expressions, shared by the shell
 * builtin and the external command. Errors come back as data; callers word
 * them as bash, coreutils or busybox do.
 */

/** What test needs to know about files. */
export interface TestFiles {
  stat(path: string): "file" | "dir" | undefined;
  /** Size in bytes, for -s. */
  size(path: string): number;
}

/** Why an expression could not be evaluated (exit status 2). */
export type TestIssue =
  | { kind: "missing-bracket" }
  | { kind: "integer"; arg: string }
  | { kind: "unary-expected"; arg: string }
  | { kind: "binary-expected"; arg: string }
  | { kind: "too-many" }
  | { kind: "argument-expected"; arg: string }
  | { kind: "extra"; arg: string };

/** 0 true, 1 false, 2 error (with the issue). */
export interface TestResult {
  status: 0 | 1 | 2;
  issue?: TestIssue;
}

const UNARY = new Set(["-z", "-n", "-e", "-f", "-d", "-s", "-r", "-w", "-x", "-L", "-h", "-b", "-c", "-p", "-S", "-t", "-g", "-u", "-k", "-O", "-G", "-N", "-a"]);
const BINARY = new Set(["=", "==", "!=", "<", ">", "-eq", "-ne", "-lt", "-le", "-gt", "-ge", "-nt", "-ot", "-ef"]);

class TestError {
  constructor(readonly issue: TestIssue) {}
}

/**
 * Evaluates `test ARGS…`; for `[`, pass `bracket` so the closing `]` is
 * checked and dropped.
 *
 * ```ts
 * evalTest(["-n", "x"], files).status; // 0
 * ```
 */
export function evalTest(argsIn: readonly string[], files: TestFiles, bracket = false): TestResult {
  let args = [...argsIn];
  if (bracket) {
    if (args[args.length - 1] !== "]") return { status: 2, issue: { kind: "missing-bracket" } };
    args = args.slice(0, -1);
  }
  try {
    return { status: evalPosix(args, files) ? 0 : 1 };
  } catch (err) {
    if (err instanceof TestError) return { status: 2, issue: err.issue };
    throw err;
  }
}

/** POSIX's rules by argument count, then a full expression parser beyond four. */
function evalPosix(a: string[], files: TestFiles): boolean {
  switch (a.length) {
    case 0:
      return false;
    case 1:
      return a[0] !== "";
    case 2:
      if (a[0] === "!") return a[1] === "";
      if (UNARY.has(a[0]!)) return unary(a[0]!, a[1]!, files);
      throw new TestError({ kind: "unary-expected", arg: a[0]! });
    case 3:
      if (BINARY.has(a[1]!)) return binary(a[0]!, a[1]!, a[2]!);
      if (a[1] === "-a") return a[0] !== "" && a[2] !== "";
      if (a[1] === "-o") return a[0] !== "" || a[2] !== "";
      if (a[0] === "!") return !evalPosix(a.slice(1), files);
      if (a[0] === "(" && a[2] === ")") return a[1] !== "";
      throw new TestError({ kind: "binary-expected", arg: a[1]! });
    case 4:
      if (a[0] === "!") return !evalPosix(a.slice(1), files);
      if (a[0] === "(" && a[3] === ")") return evalPosix(a.slice(1, 3), files);
      return new ExprParser(a, files).parse();
    default:
      return new ExprParser(a, files).parse();
  }
}

class ExprParser {
  i = 0;
  constructor(
    readonly a: string[],
    readonly files: TestFiles,
  ) {}

  parse(): boolean {
    const v = this.or();
    if (this.i < this.a.length) throw new TestError({ kind: "too-many" });
    return v;
  }

  or(): boolean {
    let v = this.and();
    while (this.a[this.i] === "-o") {
      this.i++;
      const r = this.and();
      v = v || r;
    }
    return v;
  }

  and(): boolean {
    let v = this.not();
    while (this.a[this.i] === "-a") {
      this.i++;
      const r = this.not();
      v = v && r;
    }
    return v;
  }

  not(): boolean {
    if (this.a[this.i] === "!") {
      this.i++;
      return !this.not();
    }
    return this.primary();
  }

  primary(): boolean {
    const t = this.a[this.i];
    if (t === undefined) throw new TestError({ kind: "argument-expected", arg: this.a[this.i - 1] ?? "" });
    if (t === "(") {
      this.i++;
      const v = this.or();
      if (this.a[this.i] !== ")") throw new TestError({ kind: "missing-bracket" });
      this.i++;
      return v;
    }
    const next = this.a[this.i + 1];
    if (next !== undefined && BINARY.has(next) && this.a[this.i + 2] !== undefined) {
      this.i += 3;
      return binary(t, next, this.a[this.i - 1]!);
    }
    if (UNARY.has(t) && next !== undefined) {
      this.i += 2;
      return unary(t, next, this.files);
    }
    this.i++;
    return t !== "";
  }
}

/** Whether `op` is a unary file or string test (`-f`, `-z`…). */
export function isUnaryTest(op: string): boolean {
  return UNARY.has(op);
}

/** Evaluates one unary test such as `-f PATH` or `-n STRING`. */
export function unary(op: string, x: string, files: TestFiles): boolean {
  switch (op) {
    case "-z":
      return x === "";
    case "-n":
      return x !== "";
    case "-e":
    case "-a":
      return files.stat(x) !== undefined;
    case "-f":
      return files.stat(x) === "file";
    case "-d":
      return files.stat(x) === "dir";
    case "-s":
      return files.stat(x) !== undefined && (files.stat(x) === "dir" || files.size(x) > 0);
    case "-r":
    case "-w":
      return files.stat(x) !== undefined;
    case "-x":
      return files.stat(x) === "dir";
    case "-t":
      return false;
    default:
      return false;
  }
}

function binary(l: string, op: string, r: string): boolean {
  switch (op) {
    case "=":
    case "==":
      return l === r;
    case "!=":
      return l !== r;
    case "<":
      return l < r;
    case ">":
      return l > r;
    case "-nt":
    case "-ot":
    case "-ef":
      return false;
  }
  const a = toInt(l);
  const b = toInt(r);
  switch (op) {
    case "-eq":
      return a === b;
    case "-ne":
      return a !== b;
    case "-lt":
      return a < b;
    case "-le":
      return a <= b;
    case "-gt":
      return a > b;
    default:
      return a >= b;
  }
}

function toInt(s: string): bigint {
  const t = s.trim();
  if (!/^[+-]?\d+$/.test(t)) throw new TestError({ kind: "integer", arg: s });
  return BigInt(t);
}
