/**
 * The shell's interpreter: runs syntax trees from sh_parse.ts with shell
 * variables, pipelines of processes, redirections into the Vfs, subshells,
 * functions, background jobs and `set -e`, printing errors in bash's or
 * busybox ash's words.
 */
import { CommandNotFound } from "../host.ts";
import { BufferOutput, EMPTY_INPUT, type Input, type Output, Pipe, type ProcessContext, sleep, textInput } from "../process.ts";
import { normalize, VfsError } from "../vfs.ts";
import { FileOutput, killedStatus, pidOf, processTable } from "./_tool.ts";
import { BUILTINS } from "./sh_builtins.ts";
import { ExitSignal, KilledSignal, LoopSignal, ReturnSignal } from "./sh_control.ts";
import { type ExpandEnv, ExpansionError, expandFields, expandPattern, expandString, expandWords } from "./sh_expand.ts";
import { posixToJs } from "./grep.ts";
import { ArithError, evalArith } from "./sh_arith.ts";
import { type AndOr, type Cmd, type List, literalText, type Pipeline, type Redir, ShSyntaxError, type Word } from "./sh_parse.ts";
import { isUnaryTest, unary } from "./test_expr.ts";

/** The three streams a shell (or one command of it) works with. */
export interface ShellIo {
  stdin: Input;
  stdout: Output;
  stderr: Output;
}

/**
 * How the shell got its commands; it decides how errors are prefixed:
 * `-c` string, a script on stdin, a script file, or an interactive session.
 */
export type ShellMode = "c" | "stdin" | "script" | "interactive";

/** A background job (`cmd &`). */
export interface Job {
  readonly id: number;
  readonly text: string;
  readonly record: { pid: number | undefined };
  readonly promise: Promise<number>;
  status: number | undefined;
}

/** Options of a new shell. */
export interface ShellOptions {
  mode: ShellMode;
  /** `$0` */
  arg0: string;
  /** `$1`… */
  positional?: string[];
  /** The script's path, for `script` mode messages. */
  scriptName?: string;
}

/** Output that drops everything (`/dev/null`). */
const DISCARD: Output = { write: () => {} };

/** Commands run between two yields to the clock, so that a busy loop cannot starve the host. */
const YIELD_EVERY = 200;

/**
 * One shell's state and interpreter. A subshell (pipeline stage, `( … )`,
 * `$( … )`, background job) is a fork with copied state.
 */
export class Shell implements ExpandEnv {
  readonly ctx: ProcessContext;
  vars = new Map<string, string>();
  exported = new Set<string>();
  funcs = new Map<string, Cmd>();
  positionalArgs: string[];
  arg0: string;
  status = 0;
  opts = { errexit: false, nounset: false, xtrace: false, noglob: false, pipefail: false };
  mode: ShellMode;
  scriptName: string;
  /** Line of the command being run (for `line N:` in messages). */
  line = 1;
  io: ShellIo;
  jobs: Job[] = [];
  isSubshell = false;
  condDepth = 0;
  loopDepth = 0;
  funcDepth = 0;
  sourceDepth = 0;
  locals: Array<Map<string, string | undefined>> = [];
  /** `trap CMD EXIT`: run when the top-level shell ends. */
  exitTrap: string | undefined;
  lastSubStatus: number | undefined;
  lastBg: { pid: number | undefined } | undefined;
  /** Set in background jobs: receives the pid of the first process the job starts (`$!`). */
  spawnRecord: { pid: number | undefined } | undefined;
  #pid: number | undefined;
  #ticks = 0;

  constructor(ctx: ProcessContext, options: ShellOptions) {
    this.ctx = ctx;
    this.mode = options.mode;
    this.arg0 = options.arg0;
    this.positionalArgs = options.positional ?? [];
    this.scriptName = options.scriptName ?? options.arg0;
    this.io = { stdin: ctx.stdin, stdout: ctx.stdout, stderr: ctx.stderr };
    for (const [k, v] of ctx.env) {
      this.vars.set(k, v);
      this.exported.add(k);
    }
    this.vars.set("PWD", this.#initialCwd());
    this.exported.add("PWD");
  }

  #initialCwd(): string {
    const pwd = this.ctx.env.get("PWD");
    if (pwd !== undefined && pwd.startsWith("/") && this.#stat(normalize(pwd)) === "dir") return normalize(pwd);
    const home = this.ctx.env.get("HOME");
    if (this.ctx.flavour === "gnu" && home !== undefined && this.#stat(home) === "dir") return home;
    return "/";
  }

  // ---- naming and messages ----

  /** The name the shell uses in messages: `bash` on hosts, `sh` (argv[0]) in busybox. */
  get shName(): string {
    if (this.ctx.flavour === "gnu") return "bash";
    const a0 = this.ctx.argv[0] ?? "sh";
    return a0.slice(a0.lastIndexOf("/") + 1) || "sh";
  }

  get busybox(): boolean {
    return this.ctx.flavour === "busybox";
  }

  /** `bash: line 3: ` / `bash: ` / `sh: ` — what precedes a runtime error. */
  prefix(): string {
    if (this.busybox) return this.mode === "script" ? `${this.scriptName}: line ${this.line}: ` : `${this.shName}: `;
    if (this.mode === "interactive") return "bash: ";
    if (this.mode === "script") return `${this.scriptName}: line ${this.line}: `;
    return `bash: line ${this.line}: `;
  }

  /** busybox's `line N: ` inside some builtin errors of non-interactive shells. */
  bbLine(): string {
    if (this.mode === "interactive") return "";
    return `line ${this.mode === "c" ? this.line - 1 : this.line}: `;
  }

  /** Prints a runtime error with the shell's prefix. */
  error(message: string): void {
    this.io.stderr.write(`${this.prefix()}${message}\n`);
  }

  /** Prints the bash/busybox words for a syntax error of the text `src`. */
  reportSyntax(err: ShSyntaxError, src: string): void {
    const out = this.io.stderr;
    if (this.busybox) {
      const n = this.shName;
      if (err.kind === "subst") out.write(`${n}: syntax error: bad substitution\n`);
      else if (err.kind === "token") {
        out.write(`${n}: syntax error: unexpected ${err.what === "newline" ? "newline" : `"${err.what}"`}\n`);
      } else if (err.what === "'" || err.what === '"' || err.what === "`") out.write(`${n}: syntax error: unterminated quoted string\n`);
      else if (err.what === "}") out.write(`${n}: syntax error: missing '}'\n`);
      else if (err.what === "") out.write(`${n}: syntax error: unexpected end of file\n`);
      else out.write(`${n}: syntax error: unexpected end of file (expecting "${err.what}")\n`);
      return;
    }
    if (err.kind === "subst") {
      this.line = err.line;
      this.error(`${err.what}: bad substitution`);
      return;
    }
    const where =
      this.mode === "interactive" ? "bash: " : this.mode === "c" ? `bash: -c: line ${err.line}: ` : this.mode === "script" ? `${this.scriptName}: line ${err.line}: ` : `bash: line ${err.line}: `;
    if (err.kind === "token") {
      out.write(`${where}syntax error near unexpected token \`${err.what}'\n`);
      if (this.mode !== "interactive") out.write(`${where}\`${err.sourceLine}'\n`);
      return;
    }
    const eofWhere = this.mode === "c" || this.mode === "script" ? where : "bash: ";
    if (["'", '"', "`", ")", "}"].includes(err.what)) {
      out.write(`${eofWhere}unexpected EOF while looking for matching \`${err.what}'\n`);
      return;
    }
    const line = src.endsWith("\n") ? err.line : err.line + 1;
    const w = this.mode === "c" ? `bash: -c: line ${line}: ` : this.mode === "script" ? `${this.scriptName}: line ${line}: ` : "bash: ";
    out.write(`${w}syntax error: unexpected end of file\n`);
  }

  /** Prints a failed expansion and returns its status. */
  reportExpansion(err: ExpansionError): number {
    this.error(this.busybox ? err.busybox : err.bash);
    return this.busybox ? err.status.busybox : err.status.bash;
  }

  // ---- variables (ExpandEnv) ----

  get cwd(): string {
    return this.vars.get("PWD") ?? "/";
  }

  get nounset(): boolean {
    return this.opts.nounset;
  }

  get noglob(): boolean {
    return this.opts.noglob;
  }

  get braces(): boolean {
    return !this.busybox;
  }

  param(name: string): string | undefined {
    switch (name) {
      case "?":
        return String(this.status);
      case "$":
        return String(this.pid());
      case "#":
        return String(this.positionalArgs.length);
      case "0":
        return this.arg0;
      case "@":
      case "*":
        return this.positionalArgs.join(" ");
      case "!":
        return this.lastBg?.pid === undefined ? (this.lastBg ? "" : undefined) : String(this.lastBg.pid);
      case "-":
        return `${this.opts.errexit ? "e" : ""}${this.opts.noglob ? "f" : ""}${this.opts.nounset ? "u" : ""}${this.opts.xtrace ? "x" : ""}${this.mode === "interactive" ? "i" : ""}${this.busybox ? "" : "hB"}${this.mode === "c" ? "c" : ""}`;
      case "LINENO":
        return String(this.line);
    }
    if (/^\d+$/.test(name)) return this.positionalArgs[Number(name) - 1];
    return this.vars.get(name);
  }

  positional(): readonly string[] {
    return this.positionalArgs;
  }

  setVar(name: string, value: string): void {
    this.vars.set(name, value);
  }

  /** Whether `name` is a valid variable name. */
  static isName(name: string): boolean {
    return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
  }

  /** `$$`: the pid of the shell process (shared by its subshells). */
  pid(): number {
    if (this.#pid === undefined) this.#pid = pidOf(this.ctx) ?? 1;
    return this.#pid;
  }

  async commandSubst(body: List): Promise<string> {
    const out = new BufferOutput();
    const sub = this.fork({ stdin: this.io.stdin, stdout: out, stderr: this.io.stderr });
    const st = await sub.runSubshell(() => sub.runList(body));
    this.lastSubStatus = st;
    return out.text.replace(/\n+$/, "");
  }

  listDir(path: string): string[] | undefined {
    try {
      return this.ctx.fs.list(path, this.ctx.netns);
    } catch {
      return undefined;
    }
  }

  exists(path: string): boolean {
    return this.#stat(path) !== undefined;
  }

  #stat(path: string): "file" | "dir" | undefined {
    if (path === "/dev/null" || path === "/dev/stdin" || path === "/dev/stdout" || path === "/dev/stderr") return "file";
    if (path === "/dev") return "dir";
    return this.ctx.fs.stat(path, this.ctx.netns);
  }

  /** What is at `path` (relative to the working directory). */
  stat(path: string): "file" | "dir" | undefined {
    return this.#stat(normalize(path, this.cwd));
  }

  /** The environment a child process gets: exported variables plus `extra`. */
  childEnv(extra: ReadonlyArray<[string, string]> = []): Map<string, string> {
    const env = new Map<string, string>();
    for (const name of this.exported) {
      const v = this.vars.get(name);
      if (v !== undefined) env.set(name, v);
    }
    for (const [k, v] of extra) env.set(k, v);
    return env;
  }

  // ---- running ----

  /** A subshell: a copy of this shell's state with its own streams. */
  fork(io: ShellIo): Shell {
    const s = new Shell(this.ctx, { mode: this.mode, arg0: this.arg0, positional: [...this.positionalArgs], scriptName: this.scriptName });
    s.vars = new Map(this.vars);
    s.exported = new Set(this.exported);
    s.funcs = new Map(this.funcs);
    s.status = this.status;
    s.opts = { ...this.opts };
    s.line = this.line;
    s.io = io;
    s.isSubshell = true;
    s.loopDepth = this.loopDepth;
    s.funcDepth = this.funcDepth;
    s.#pid = this.pid();
    s.lastBg = this.lastBg;
    s.spawnRecord = this.spawnRecord;
    return s;
  }

  /** Runs `fn` as a subshell body: `exit`, `break` and expansion errors end it, not its parent. */
  async runSubshell(fn: () => Promise<number>): Promise<number> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ExitSignal) return err.status;
      if (err instanceof LoopSignal) return 0;
      if (err instanceof ReturnSignal) return err.status;
      if (err instanceof ExpansionError) return this.reportExpansion(err);
      throw err;
    }
  }

  /** Throws KilledSignal once the process is killed; now and then lets time run. */
  async tick(): Promise<void> {
    if (this.ctx.signal.aborted) throw new KilledSignal();
    if (++this.#ticks % YIELD_EVERY === 0) {
      await sleep(this.ctx, 0);
      if (this.ctx.signal.aborted) throw new KilledSignal();
    }
  }

  /** The exit status to return once killed. */
  killedStatus(): number {
    return killedStatus(this.ctx.signal);
  }

  async runList(list: List): Promise<number> {
    let st = 0;
    for (const ao of list) {
      await this.tick();
      if (ao.background) {
        await this.startBackground(ao);
        st = 0;
      } else st = await this.runAndOr(ao);
      this.status = st;
    }
    return st;
  }

  async runAndOr(ao: AndOr): Promise<number> {
    let st = await this.#pipelineChecked(ao.first, ao.rest.length > 0);
    for (let i = 0; i < ao.rest.length; i++) {
      const { op, pipeline } = ao.rest[i]!;
      if ((op === "&&" && st !== 0) || (op === "||" && st === 0)) continue;
      st = await this.#pipelineChecked(pipeline, i < ao.rest.length - 1);
    }
    return st;
  }

  async #pipelineChecked(p: Pipeline, inCond: boolean): Promise<number> {
    let st: number;
    if (inCond || p.negate) {
      this.condDepth++;
      try {
        st = await this.runPipeline(p);
      } finally {
        this.condDepth--;
      }
    } else st = await this.runPipeline(p);
    this.status = st;
    if (st !== 0 && this.opts.errexit && !inCond && !p.negate && this.condDepth === 0) throw new ExitSignal(st);
    return st;
  }

  async runPipeline(p: Pipeline): Promise<number> {
    let st: number;
    if (p.cmds.length === 1) st = await this.runCmd(p.cmds[0]!);
    else {
      const n = p.cmds.length;
      const pipes = Array.from({ length: n - 1 }, () => new Pipe());
      const runs = p.cmds.map((cmd, i) => {
        const io: ShellIo = {
          stdin: i === 0 ? this.io.stdin : pipes[i - 1]!,
          stdout: i === n - 1 ? this.io.stdout : pipes[i]!,
          stderr: this.io.stderr,
        };
        const sub = this.fork(io);
        return sub.runSubshell(() => sub.runCmd(cmd)).finally(() => {
          if (i < n - 1) pipes[i]!.close();
        });
      });
      const statuses = await Promise.all(runs);
      st = statuses[n - 1]!;
      if (this.opts.pipefail) st = [...statuses].reverse().find((s) => s !== 0) ?? 0;
    }
    if (p.negate) st = st === 0 ? 1 : 0;
    return st;
  }

  async runCmd(cmd: Cmd): Promise<number> {
    switch (cmd.kind) {
      case "simple":
        return this.runSimple(cmd);
      case "func":
        this.funcs.set(cmd.name, cmd.body);
        return 0;
      case "if":
        return this.#withRedirs(cmd.redirs, async () => {
          for (const c of cmd.clauses) {
            if ((await this.#cond(c.cond)) === 0) return this.runList(c.body);
          }
          return cmd.otherwise ? this.runList(cmd.otherwise) : 0;
        });
      case "while":
        return this.#withRedirs(cmd.redirs, async () => {
          let st = 0;
          this.loopDepth++;
          try {
            for (;;) {
              await this.tick();
              const c = await this.#cond(cmd.cond);
              if ((c === 0) === cmd.until) break;
              const r = await this.#loopBody(cmd.body);
              if (r === "break") break;
              if (typeof r === "number") st = r;
            }
          } finally {
            this.loopDepth--;
          }
          return st;
        });
      case "for":
        return this.#withRedirs(cmd.redirs, async () => {
          const items = cmd.items ? await expandWords(cmd.items, this) : [...this.positionalArgs];
          let st = 0;
          this.loopDepth++;
          try {
            for (const item of items) {
              await this.tick();
              this.setVar(cmd.name, item);
              const r = await this.#loopBody(cmd.body);
              if (r === "break") break;
              if (typeof r === "number") st = r;
            }
          } finally {
            this.loopDepth--;
          }
          return st;
        });
      case "case":
        return this.#withRedirs(cmd.redirs, async () => {
          const w = await expandString(cmd.word, this);
          for (const item of cmd.items) {
            for (const pat of item.patterns) {
              const re = new RegExp(`^(?:${await expandPattern(pat, this)})$`, "s");
              if (re.test(w)) return item.body.length > 0 ? this.runList(item.body) : 0;
            }
          }
          return 0;
        });
      case "group":
        return this.#withRedirs(cmd.redirs, () => this.runList(cmd.body));
      case "subshell":
        return this.#withRedirs(cmd.redirs, () => {
          const sub = this.fork(this.io);
          return sub.runSubshell(() => sub.runList(cmd.body));
        });
      case "arith":
        this.line = cmd.line;
        return this.#withRedirs(cmd.redirs, async () => {
          const text = await expandString(cmd.expr, this);
          try {
            return evalArith(text, { get: (n) => this.param(n), set: (n, v) => this.setVar(n, v) }) === "0" ? 1 : 0;
          } catch (err) {
            if (err instanceof ArithError) throw new ExpansionError(err.bash, err.busybox, { bash: 1, busybox: 2 });
            throw err;
          }
        });
      case "cond":
        this.line = cmd.line;
        return this.#withRedirs(cmd.redirs, () => this.#condExpr(cmd.words));
      case "arithfor":
        return this.#withRedirs(cmd.redirs, async () => {
          const run = async (w: Word): Promise<string> => {
            const text = await expandString(w, this);
            if (text.trim() === "") return "1";
            try {
              return evalArith(text, { get: (n) => this.param(n), set: (n, v) => this.setVar(n, v) });
            } catch (err) {
              if (err instanceof ArithError) throw new ExpansionError(err.bash, err.busybox, { bash: 1, busybox: 2 });
              throw err;
            }
          };
          let st = 0;
          this.loopDepth++;
          try {
            await run(cmd.init);
            while ((await run(cmd.cond)) !== "0") {
              await this.tick();
              const r = await this.#loopBody(cmd.body);
              if (r === "break") break;
              if (typeof r === "number") st = r;
              await run(cmd.step);
            }
          } finally {
            this.loopDepth--;
          }
          return st;
        });
    }
  }

  /** `[[ … ]]`: test's operators plus `&&`, `||`, `==` with patterns and `=~` with regular expressions. */
  async #condExpr(words: readonly Word[]): Promise<number> {
    let i = 0;
    const op = (w: Word | undefined) => (w !== undefined && w.parts.length === 1 && w.parts[0]!.kind === "lit" && !w.parts[0]!.quoted ? w.raw : undefined);
    const files = {
      stat: (p: string) => (p === "" ? undefined : this.stat(p)),
      size: (p: string) => {
        try {
          return this.ctx.fs.readFile(normalize(p, this.cwd), this.ctx.netns).length;
        } catch {
          return 0;
        }
      },
    };
    const arith = (t: string) => BigInt(evalArith(t, { get: (n) => this.param(n), set: (n, v) => this.setVar(n, v) }));
    const primary = async (): Promise<boolean> => {
      const w = words[i];
      if (w === undefined) throw new ExpansionError("syntax error in conditional expression", "syntax error: unexpected end of file", { bash: 2, busybox: 2 });
      if (op(w) === "(") {
        i++;
        const v = await or();
        if (op(words[i]) !== ")") throw new ExpansionError("syntax error in conditional expression", "syntax error", { bash: 2, busybox: 2 });
        i++;
        return v;
      }
      const next = words[i + 1];
      const bin = op(next) ?? (next !== undefined ? literalText(next) : undefined);
      if (next !== undefined && bin !== undefined && ["==", "=", "!=", "=~", "<", ">", "-eq", "-ne", "-lt", "-le", "-gt", "-ge", "-nt", "-ot"].includes(bin) && words[i + 2] !== undefined) {
        const left = await expandString(w, this);
        const rightWord = words[i + 2]!;
        i += 3;
        if (bin === "==" || bin === "=" || bin === "!=") {
          const re = new RegExp(`^(?:${await expandPattern(rightWord, this)})$`, "s");
          return re.test(left) === (bin !== "!=");
        }
        const right = await expandString(rightWord, this);
        if (bin === "=~") {
          try {
            return new RegExp(posixToJs(right, true)).test(left);
          } catch {
            return false;
          }
        }
        if (bin === "<") return left < right;
        if (bin === ">") return left > right;
        if (bin === "-nt" || bin === "-ot") return false;
        try {
          const a = arith(left);
          const b = arith(right);
          return bin === "-eq" ? a === b : bin === "-ne" ? a !== b : bin === "-lt" ? a < b : bin === "-le" ? a <= b : bin === "-gt" ? a > b : a >= b;
        } catch (err) {
          if (err instanceof ArithError) throw new ExpansionError(err.bash, err.busybox, { bash: 1, busybox: 2 });
          throw err;
        }
      }
      const u = op(w);
      if (u !== undefined && isUnaryTest(u) && next !== undefined) {
        i += 2;
        return unary(u, await expandString(next, this), files);
      }
      i++;
      return (await expandString(w, this)) !== "";
    };
    const not = async (): Promise<boolean> => {
      if (op(words[i]) === "!") {
        i++;
        return !(await not());
      }
      return primary();
    };
    const and = async (): Promise<boolean> => {
      let v = await not();
      while (op(words[i]) === "&&") {
        i++;
        const r = await not();
        v = v && r;
      }
      return v;
    };
    const or = async (): Promise<boolean> => {
      let v = await and();
      while (op(words[i]) === "||") {
        i++;
        const r = await and();
        v = v || r;
      }
      return v;
    };
    if (words.length === 0) return 1;
    try {
      const v = await or();
      if (i < words.length) {
        this.error(`syntax error in conditional expression: unexpected token \`${words[i]!.raw}'`);
        return 2;
      }
      return v ? 0 : 1;
    } catch (err) {
      if (err instanceof ExpansionError && err.status.bash === 2) {
        this.error(this.busybox ? err.busybox : err.bash);
        return 2;
      }
      throw err;
    }
  }

  async #cond(list: List): Promise<number> {
    this.condDepth++;
    try {
      return await this.runList(list);
    } finally {
      this.condDepth--;
    }
  }

  /** One pass of a loop body: its status, or how a break/continue ended it. */
  async #loopBody(body: List): Promise<number | "break" | "continue"> {
    try {
      return await this.runList(body);
    } catch (err) {
      if (!(err instanceof LoopSignal)) throw err;
      if (err.n > 1) throw new LoopSignal(err.kind, err.n - 1);
      return err.kind;
    }
  }

  async #withRedirs(redirs: Redir[], fn: () => Promise<number>): Promise<number> {
    if (redirs.length === 0) return fn();
    const opened = await this.openRedirs(redirs, this.io);
    if (opened === undefined) return 1;
    const saved = this.io;
    this.io = opened.io;
    try {
      return await fn();
    } finally {
      this.io = saved;
    }
  }

  async runSimple(cmd: Extract<Cmd, { kind: "simple" }>): Promise<number> {
    await this.tick();
    this.line = cmd.line;
    this.lastSubStatus = undefined;
    const argv = await expandWords(cmd.words, this);
    const assigns: Array<[string, string]> = [];
    for (const a of cmd.assigns) assigns.push([a.name, await expandString(a.value, this)]);
    if (this.opts.xtrace) this.#trace(assigns, argv);
    if (argv.length === 0) {
      for (const [k, v] of assigns) this.setVar(k, v);
      const st = this.lastSubStatus ?? 0;
      if (cmd.redirs.length > 0) {
        const opened = await this.openRedirs(cmd.redirs, this.io);
        if (opened === undefined) return 1;
      }
      return st;
    }
    const name = argv[0]!;
    const opened = await this.openRedirs(cmd.redirs, this.io);
    if (opened === undefined) return 1;
    if (name === "exec" && argv.length === 1) {
      this.io = opened.io;
      for (const [k, v] of assigns) this.setVar(k, v);
      return 0;
    }
    const fn = this.funcs.get(name);
    const builtin = Object.hasOwn(BUILTINS, name) ? BUILTINS[name] : undefined;
    let st: number;
    if (fn !== undefined) st = await this.#withTemp(assigns, opened.io, () => this.callFunction(fn, argv));
    else if (builtin !== undefined) st = await this.#withTemp(assigns, opened.io, () => builtin(this, argv));
    else st = await this.runExternal(argv, assigns, opened.io);
    const werr = opened.writeError();
    if (werr !== undefined) {
      if (fn === undefined && builtin === undefined) opened.io.stderr.write(`${name}: write error: ${werr.message}\n`);
      else if (this.busybox) opened.io.stderr.write(`${this.shName}: write error: ${werr.message}\n`);
      else opened.io.stderr.write(`${this.prefix()}${name}: write error: ${werr.message}\n`);
      return 1;
    }
    return st;
  }

  #trace(assigns: Array<[string, string]>, argv: string[]): void {
    const q = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`);
    for (const [k, v] of assigns) this.io.stderr.write(`+ ${k}=${q(v)}\n`);
    if (argv.length > 0) this.io.stderr.write(`+ ${argv.map(q).join(" ")}\n`);
  }

  async #withTemp(assigns: Array<[string, string]>, io: ShellIo, fn: () => Promise<number>): Promise<number> {
    const savedIo = this.io;
    const saved: Array<[string, string | undefined, boolean]> = [];
    for (const [k, v] of assigns) {
      saved.push([k, this.vars.get(k), this.exported.has(k)]);
      this.vars.set(k, v);
      this.exported.add(k);
    }
    this.io = io;
    try {
      return await fn();
    } finally {
      this.io = savedIo;
      for (const [k, v, exp] of saved.reverse()) {
        if (v === undefined) this.vars.delete(k);
        else this.vars.set(k, v);
        if (!exp) this.exported.delete(k);
      }
    }
  }

  /** Calls a shell function with `argv[1…]` as its positional parameters. */
  async callFunction(body: Cmd, argv: readonly string[]): Promise<number> {
    const savedPos = this.positionalArgs;
    this.positionalArgs = argv.slice(1);
    this.funcDepth++;
    const frame = new Map<string, string | undefined>();
    this.locals.push(frame);
    try {
      return await this.runCmd(body);
    } catch (err) {
      if (err instanceof ReturnSignal) return err.status;
      throw err;
    } finally {
      this.locals.pop();
      for (const [k, v] of frame) {
        if (v === undefined) this.vars.delete(k);
        else this.vars.set(k, v);
      }
      this.positionalArgs = savedPos;
      this.funcDepth--;
    }
  }

  /** Runs a program from the command table; prints the shell's "not found" when there is none. */
  async runExternal(argv: readonly string[], assigns: ReadonlyArray<[string, string]>, io: ShellIo): Promise<number> {
    const name = argv[0]!;
    const env = this.childEnv(assigns);
    const table = processTable(this.ctx);
    let before = 0;
    if (table !== undefined && this.spawnRecord !== undefined) for (const pid of table.keys()) before = Math.max(before, pid);
    let child: Promise<number>;
    try {
      child = this.ctx.spawn(argv, { stdin: io.stdin, stdout: io.stdout, stderr: io.stderr, env });
    } catch (err) {
      if (err instanceof CommandNotFound || (err instanceof Error && err.name === "CommandNotFound")) {
        this.notFound(name, io.stderr);
        return 127;
      }
      io.stderr.write(`${this.prefix()}${name}: ${err instanceof Error ? err.message : String(err)}\n`);
      return 126;
    }
    if (table !== undefined && this.spawnRecord !== undefined && this.spawnRecord.pid === undefined) {
      let pid: number | undefined;
      for (const p of table.keys()) if (p > before && (pid === undefined || p < pid)) pid = p;
      this.spawnRecord.pid = pid;
    }
    const st = await child;
    if (this.ctx.signal.aborted) throw new KilledSignal();
    return st;
  }

  /** `bash: line 1: foo: command not found` / `sh: foo: not found`. */
  notFound(name: string, stderr: Output): void {
    if (this.busybox) stderr.write(`${this.shName}: ${name}: not found\n`);
    else if (name.includes("/")) stderr.write(`${this.prefix()}${name}: No such file or directory\n`);
    else stderr.write(`${this.prefix()}${name}: command not found\n`);
  }

  async startBackground(ao: AndOr): Promise<void> {
    const io: ShellIo = { stdin: EMPTY_INPUT, stdout: this.io.stdout, stderr: this.io.stderr };
    const sub = this.fork(io);
    const record: { pid: number | undefined } = { pid: undefined };
    sub.spawnRecord = record;
    const running = this.jobs.filter((j) => j.status === undefined);
    const id = running.length === 0 ? 1 : Math.max(...running.map((j) => j.id)) + 1;
    const promise = sub
      .runSubshell(() => sub.runAndOr({ ...ao, background: false }))
      .catch(() => killedStatus(this.ctx.signal));
    const job: Job = { id, text: `${andOrText(ao)} &`, record, promise, status: undefined };
    void promise.then((st) => {
      job.status = st;
    });
    this.jobs.push(job);
    this.lastBg = record;
    // Let the job run until it blocks, so that its process exists for `$!` and `kill`.
    await Promise.race([promise, sleep(this.ctx, 0)]);
    if (this.mode === "interactive" && !this.isSubshell) this.io.stderr.write(`[${id}] ${record.pid ?? this.pid()}\n`);
  }

  /** Opens a command's redirections over `base`; undefined (after printing why) when one fails. */
  async openRedirs(redirs: readonly Redir[], base: ShellIo): Promise<Opened | undefined> {
    const ins = new Map<number, Input>([[0, base.stdin]]);
    const outs = new Map<number, Output>([
      [1, base.stdout],
      [2, base.stderr],
    ]);
    const files: FileOutput[] = [];
    const fail = (msg: string): undefined => {
      (outs.get(2) ?? base.stderr).write(msg);
      return undefined;
    };
    for (const r of redirs) {
      if (r.heredoc !== undefined) {
        ins.set(r.fd, textInput(await expandString(r.heredoc.body, this)));
        continue;
      }
      const fields = await expandFields(r.target, this);
      if (fields.length !== 1) return fail(`${this.prefix()}${r.target.raw}: ambiguous redirect\n`);
      const target = fields[0]!;
      switch (r.op) {
        case "<":
        case "<>": {
          const inp = this.#openInput(target, ins);
          if (typeof inp === "string") return fail(inp);
          ins.set(r.fd, inp);
          break;
        }
        case ">":
        case ">|":
        case ">>":
        case "&>":
        case "&>>": {
          const out = this.#openOutput(target, r.op.endsWith(">>"), outs);
          if (typeof out === "string") return fail(out);
          if (out instanceof FileOutput) files.push(out);
          if (r.op.startsWith("&")) {
            outs.set(1, out);
            outs.set(2, out);
          } else outs.set(r.fd, out);
          break;
        }
        case ">&": {
          if (/^\d+$/.test(target)) {
            const o = outs.get(Number(target));
            if (o === undefined) return fail(`${this.prefix()}${target}: Bad file descriptor\n`);
            outs.set(r.fd, o);
          } else if (target === "-") outs.set(r.fd, DISCARD);
          else {
            const out = this.#openOutput(target, false, outs);
            if (typeof out === "string") return fail(out);
            if (out instanceof FileOutput) files.push(out);
            outs.set(1, out);
            outs.set(2, out);
          }
          break;
        }
        case "<&": {
          if (target === "-") ins.set(r.fd, EMPTY_INPUT);
          else {
            const i = ins.get(Number(target));
            if (i === undefined) return fail(`${this.prefix()}${target}: Bad file descriptor\n`);
            ins.set(r.fd, i);
          }
          break;
        }
        case "<<<":
          ins.set(r.fd, textInput(`${target}\n`));
          break;
        case "<<":
        case "<<-":
          ins.set(r.fd, EMPTY_INPUT);
          break;
      }
    }
    return {
      io: { stdin: ins.get(0) ?? EMPTY_INPUT, stdout: outs.get(1) ?? DISCARD, stderr: outs.get(2) ?? DISCARD },
      writeError: () => files.find((f) => f.error !== undefined)?.error,
    };
  }

  #openInput(target: string, ins: Map<number, Input>): Input | string {
    if (target === "/dev/null") return EMPTY_INPUT;
    if (target === "/dev/stdin") return ins.get(0) ?? EMPTY_INPUT;
    const path = normalize(target, this.cwd);
    try {
      return textInput(this.ctx.fs.readFile(path, this.ctx.netns));
    } catch (err) {
      if (!(err instanceof VfsError)) throw err;
      if (this.busybox) return `${this.shName}: can't open ${target}: ${err.errno === "ENOENT" ? "no such file" : err.message}\n`;
      return `${this.prefix()}${target}: ${err.message}\n`;
    }
  }

  #openOutput(target: string, append: boolean, outs: Map<number, Output>): Output | string {
    if (target === "/dev/null") return DISCARD;
    if (target === "/dev/stdout") return outs.get(1) ?? DISCARD;
    if (target === "/dev/stderr") return outs.get(2) ?? DISCARD;
    if (target === "/dev/tty") return this.ctx.stdout;
    const path = normalize(target, this.cwd);
    const file = new FileOutput(this.ctx, path);
    try {
      file.open(append);
      return file;
    } catch (err) {
      if (!(err instanceof VfsError)) throw err;
      if (this.busybox) return `${this.shName}: can't create ${target}: ${err.errno === "ENOENT" ? "nonexistent directory" : err.message}\n`;
      return `${this.prefix()}${target}: ${err.message}\n`;
    }
  }
}

/** A command's opened redirections. */
export interface Opened {
  io: ShellIo;
  /** The first error a redirected write met (EINVAL writing a bad value to /proc/sys…). */
  writeError(): VfsError | undefined;
}


/** Approximate source text of an and-or list, for `jobs`. */
function andOrText(ao: AndOr): string {
  const cmdText = (c: Cmd): string =>
    c.kind === "simple" ? [...c.assigns.map((a) => `${a.name}=${a.value.raw}`), ...c.words.map((w) => w.raw)].join(" ") : c.kind === "subshell" ? "( … )" : c.kind === "group" ? "{ … }" : c.kind;
  const pipeText = (p: Pipeline) => `${p.negate ? "! " : ""}${p.cmds.map(cmdText).join(" | ")}`;
  return [pipeText(ao.first), ...ao.rest.map((r) => `${r.op} ${pipeText(r.pipeline)}`)].join(" ");
}
