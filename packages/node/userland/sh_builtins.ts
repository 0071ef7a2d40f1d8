/**
 * The shell's builtin commands (cd, export, read, test, printf…), run inside
 * the shell process with the shell's state and current streams.
 */
import { normalize } from "../vfs.ts";
import { commandPath, commandTable, readLineAbortable } from "./_tool.ts";
import { echoText, formatPrintf } from "./echo_printf.ts";
import { ArithError, evalArith } from "./sh_arith.ts";
import { ExitSignal, KilledSignal, LoopSignal, ReturnSignal } from "./sh_control.ts";
import { parseAll, ShSyntaxError } from "./sh_parse.ts";
import type { Shell } from "./sh_exec.ts";
import { killProcesses } from "./sys_tools.ts";
import { evalTest, type TestIssue } from "./test_expr.ts";

/** A builtin: runs with the shell and its argv (argv[0] is the builtin's name). */
export type Builtin = (sh: Shell, argv: string[]) => Promise<number>;

/** Words the shell treats as keywords (`type if`). */
export const KEYWORDS = new Set(["if", "then", "else", "elif", "fi", "case", "esac", "for", "while", "until", "do", "done", "in", "{", "}", "!", "[[", "]]", "function", "select", "time"]);

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Single-quotes a value for `set` / `export -p` listings when it needs it. */
function shQuote(v: string): string {
  return /^[\w@%+=:,./-]*$/.test(v) && v !== "" ? v : `'${v.replaceAll("'", "'\\''")}'`;
}

/** `builtin: message` with the shell's prefix (bash) or `sh: builtin: message` (busybox). */
function berr(sh: Shell, name: string, message: string): void {
  if (sh.busybox) sh.io.stderr.write(`${sh.shName}: ${name}: ${message}\n`);
  else sh.error(`${name}: ${message}`);
}

function testWording(sh: Shell, name: string, issue: TestIssue): void {
  if (sh.busybox) {
    const n = sh.shName;
    switch (issue.kind) {
      case "missing-bracket":
        sh.io.stderr.write(`${n}: missing ]\n`);
        return;
      case "integer":
        sh.io.stderr.write(`${n}: ${issue.arg}: bad number\n`);
        return;
      case "too-many":
        sh.io.stderr.write(`${n}: too many arguments\n`);
        return;
      default:
        sh.io.stderr.write(`${n}: ${"arg" in issue ? issue.arg : ""}: unknown operand\n`);
        return;
    }
  }
  switch (issue.kind) {
    case "missing-bracket":
      sh.error(`${name}: missing \`]'`);
      return;
    case "integer":
      sh.error(`${name}: ${issue.arg}: integer expression expected`);
      return;
    case "too-many":
      sh.error(`${name}: too many arguments`);
      return;
    case "unary-expected":
      sh.error(`${name}: ${issue.arg}: unary operator expected`);
      return;
    case "binary-expected":
      sh.error(`${name}: ${issue.arg}: binary operator expected`);
      return;
    case "argument-expected":
      sh.error(`${name}: ${issue.arg}: argument expected`);
      return;
    case "extra":
      sh.error(`${name}: ${issue.arg}: unexpected argument`);
  }
}

async function runText(sh: Shell, text: string, what: string): Promise<number> {
  let list;
  try {
    list = parseAll(text, { bash: !sh.busybox });
  } catch (err) {
    if (err instanceof ShSyntaxError) {
      if (sh.busybox) sh.reportSyntax(err, text);
      else sh.error(`${what}: syntax error near unexpected token \`${err.what}'`);
      return 2;
    }
    throw err;
  }
  return sh.runList(list);
}

const test: Builtin = async (sh, argv) => {
  const name = argv[0]!;
  const files = {
    stat: (p: string) => (p === "" ? undefined : sh.stat(p)),
    size: (p: string) => {
      try {
        return sh.ctx.fs.readFile(normalize(p, sh.cwd), sh.ctx.netns).length;
      } catch {
        return 0;
      }
    },
  };
  const r = evalTest(argv.slice(1), files, name === "[");
  if (r.issue !== undefined) testWording(sh, name, r.issue);
  return r.status;
};

const cd: Builtin = async (sh, argv) => {
  const args = argv.slice(1).filter((a, i) => !(i === 0 && (a === "-L" || a === "-P")));
  if (args.length > 1 && !sh.busybox) {
    sh.error("cd: too many arguments");
    return 1;
  }
  let target = args[0];
  let print = false;
  if (target === undefined || target === "") {
    target = sh.vars.get("HOME");
    if (target === undefined) {
      sh.error("cd: HOME not set");
      return 1;
    }
  } else if (target === "-") {
    target = sh.vars.get("OLDPWD");
    if (target === undefined) {
      berr(sh, "cd", "OLDPWD not set");
      return 1;
    }
    print = true;
  }
  const path = normalize(target, sh.cwd);
  const kind = sh.stat(path);
  if (kind !== "dir") {
    const why = kind === undefined ? "No such file or directory" : "Not a directory";
    if (sh.busybox) {
      sh.io.stderr.write(`${sh.shName}: cd: ${sh.bbLine()}can't cd to ${target}: ${why}\n`);
      return 2;
    }
    sh.error(`cd: ${target}: ${why}`);
    return 1;
  }
  sh.vars.set("OLDPWD", sh.cwd);
  sh.exported.add("OLDPWD");
  sh.vars.set("PWD", path);
  sh.exported.add("PWD");
  if (print) sh.io.stdout.write(`${path}\n`);
  return 0;
};

const exit: Builtin = async (sh, argv) => {
  const interactiveTop = sh.mode === "interactive" && !sh.isSubshell;
  if (argv.length > 2 && !sh.busybox) {
    if (interactiveTop) sh.ctx.stdout.write("exit\n");
    sh.error("exit: too many arguments");
    return 1;
  }
  if (interactiveTop && !sh.busybox) sh.ctx.stdout.write("exit\n");
  const a = argv[1];
  if (a === undefined) throw new ExitSignal(sh.status);
  if (!/^\s*[+-]?\d+\s*$/.test(a)) {
    if (sh.busybox) sh.io.stderr.write(`${sh.shName}: exit: ${sh.bbLine()}Illegal number: ${a}\n`);
    else sh.error(`exit: ${a}: numeric argument required`);
    throw new ExitSignal(2);
  }
  throw new ExitSignal(Number(BigInt.asUintN(8, BigInt(a.trim()))));
};

const exportLike =
  (mode: "export" | "readonly" | "declare"): Builtin =>
  async (sh, argv) => {
    let args = argv.slice(1);
    let unexport = false;
    let doExport = mode === "export";
    while (args[0]?.startsWith("-") && args[0] !== "-") {
      const flags = args[0]!.slice(1);
      if (flags.includes("n")) unexport = true;
      if (flags.includes("x")) doExport = true;
      args = args.slice(1);
    }
    if (args.length === 0) {
      const names = [...(doExport ? sh.exported : sh.vars.keys())].filter((n) => sh.vars.has(n)).sort();
      for (const n of names) {
        const v = sh.vars.get(n)!;
        if (sh.busybox) sh.io.stdout.write(`export ${n}='${v.replaceAll("'", "'\\''")}'\n`);
        else sh.io.stdout.write(`declare -x ${n}="${v.replace(/(["\\$`])/g, "\\$1")}"\n`);
      }
      return 0;
    }
    let st = 0;
    for (const a of args) {
      const eq = a.indexOf("=");
      const name = eq < 0 ? a : a.slice(0, eq);
      if (!NAME.test(name)) {
        if (sh.busybox) {
          sh.io.stderr.write(`${sh.shName}: ${mode}: ${sh.bbLine()}${name}: bad variable name\n`);
          return 2;
        }
        sh.error(`${mode}: \`${a}': not a valid identifier`);
        st = 1;
        continue;
      }
      if (eq >= 0) sh.vars.set(name, a.slice(eq + 1));
      if (unexport) sh.exported.delete(name);
      else if (doExport) sh.exported.add(name);
    }
    return st;
  };

const set: Builtin = async (sh, argv) => {
  const args = argv.slice(1);
  if (args.length === 0) {
    for (const n of [...sh.vars.keys()].sort()) sh.io.stdout.write(`${n}=${shQuote(sh.vars.get(n)!)}\n`);
    return 0;
  }
  const letters: Record<string, keyof Shell["opts"]> = { e: "errexit", u: "nounset", x: "xtrace", f: "noglob" };
  const names: Record<string, keyof Shell["opts"]> = { errexit: "errexit", nounset: "nounset", xtrace: "xtrace", noglob: "noglob", pipefail: "pipefail" };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") {
      sh.positionalArgs = args.slice(i + 1);
      return 0;
    }
    if ((a === "-o" || a === "+o") && i + 1 < args.length) {
      const opt = names[args[i + 1]!];
      i++;
      if (opt === undefined) {
        if (!["monitor", "emacs", "vi", "notify", "posix", "verbose", "noclobber", "allexport", "ignoreeof", "history"].includes(args[i]!)) {
          berr(sh, "set", `${args[i]}: invalid option name`);
          return 1;
        }
        continue;
      }
      sh.opts[opt] = a === "-o";
      continue;
    }
    if ((a.startsWith("-") || a.startsWith("+")) && a.length > 1) {
      for (const c of a.slice(1)) {
        const opt = letters[c];
        if (opt !== undefined) sh.opts[opt] = a[0] === "-";
        else if (!"vmhBCHabknpPtT".includes(c)) {
          if (sh.busybox) sh.io.stderr.write(`${sh.shName}: set: ${sh.bbLine()}illegal option -${c}\n`);
          else sh.error(`set: ${a[0]}${c}: invalid option`);
          return 2;
        }
      }
      continue;
    }
    sh.positionalArgs = args.slice(i);
    return 0;
  }
  return 0;
};

const read: Builtin = async (sh, argv) => {
  let raw = false;
  const names: string[] = [];
  let prompt: string | undefined;
  const args = argv.slice(1);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (names.length === 0 && a.startsWith("-") && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        if (c === "r") raw = true;
        else if (c === "p" || c === "t" || c === "n" || c === "d" || c === "u") {
          const v = a.slice(j + 1) || args[++i];
          if (c === "p") prompt = v;
          break;
        } else if (c !== "s" && c !== "e") {
          berr(sh, "read", `-${c}: invalid option`);
          return 2;
        }
      }
      continue;
    }
    if (!NAME.test(a)) {
      berr(sh, "read", `\`${a}': not a valid identifier`);
      return 1;
    }
    names.push(a);
  }
  if (prompt !== undefined) sh.io.stderr.write(prompt);
  let line = "";
  let eof = false;
  for (;;) {
    const r = await readLineAbortable(sh.io.stdin, sh.ctx.signal);
    if (r.aborted) throw new KilledSignal();
    if (r.line === undefined) {
      eof = true;
      break;
    }
    if (!raw && r.line.endsWith("\\") && !r.line.endsWith("\\\\")) {
      line += `${r.line.slice(0, -1)}`;
      continue;
    }
    line += r.line;
    break;
  }
  if (!raw) line = line.replace(/\\(.)/g, "$1");
  if (names.length === 0) {
    sh.vars.set("REPLY", line);
    return eof && line === "" ? 1 : eof ? 1 : 0;
  }
  const ifs = sh.vars.get("IFS") ?? " \t\n";
  const white = [...ifs].filter((c) => " \t\n".includes(c)).join("");
  const isIfs = (c: string) => ifs.includes(c);
  let rest = line;
  const trimWhite = (s: string) => {
    let a = 0;
    let b = s.length;
    while (a < b && white.includes(s[a]!)) a++;
    while (b > a && white.includes(s[b - 1]!)) b--;
    return s.slice(a, b);
  };
  rest = trimWhite(rest);
  for (let i = 0; i < names.length; i++) {
    if (i === names.length - 1) {
      sh.vars.set(names[i]!, rest);
      break;
    }
    let j = 0;
    while (j < rest.length && !isIfs(rest[j]!)) j++;
    sh.vars.set(names[i]!, rest.slice(0, j));
    rest = rest.slice(j);
    // Skip one delimiter with the whitespace around it.
    let k = 0;
    while (k < rest.length && white.includes(rest[k]!)) k++;
    if (k < rest.length && isIfs(rest[k]!) && !white.includes(rest[k]!)) k++;
    while (k < rest.length && white.includes(rest[k]!)) k++;
    rest = rest.slice(k);
  }
  return eof ? 1 : 0;
};

async function describe(sh: Shell, name: string): Promise<{ kind: "keyword" | "function" | "builtin" | "file"; path?: string } | undefined> {
  if (KEYWORDS.has(name)) return { kind: "keyword" };
  if (sh.funcs.has(name)) return { kind: "function" };
  if (Object.hasOwn(BUILTINS, name)) return { kind: "builtin" };
  const base = name.includes("/") ? name.slice(name.lastIndexOf("/") + 1) : name;
  if ((await commandTable(sh.ctx)).has(base)) return { kind: "file", path: name.includes("/") ? name : commandPath(sh.ctx, name) };
  return undefined;
}

const type: Builtin = async (sh, argv) => {
  let st = 0;
  for (const name of argv.slice(1).filter((a) => !a.startsWith("-"))) {
    const d = await describe(sh, name);
    if (d === undefined) {
      if (sh.busybox) {
        sh.io.stdout.write(`${name}: not found\n`);
        st = 127;
      } else {
        sh.error(`type: ${name}: not found`);
        st = 1;
      }
      continue;
    }
    const what = d.kind === "keyword" ? "a shell keyword" : d.kind === "function" ? "a function" : d.kind === "builtin" ? "a shell builtin" : d.path!;
    sh.io.stdout.write(`${name} is ${what}\n`);
  }
  return st;
};

const command: Builtin = async (sh, argv) => {
  let i = 1;
  let mode: "run" | "v" | "V" = "run";
  for (; i < argv.length && argv[i]!.startsWith("-") && argv[i] !== "-"; i++) {
    const a = argv[i]!;
    if (a === "--") {
      i++;
      break;
    }
    if (a.includes("v")) mode = "v";
    if (a.includes("V")) mode = "V";
  }
  const rest = argv.slice(i);
  if (rest.length === 0) return 0;
  if (mode === "run") {
    const b = Object.hasOwn(BUILTINS, rest[0]!) ? BUILTINS[rest[0]!] : undefined;
    if (b !== undefined) return b(sh, rest);
    return sh.runExternal(rest, [], sh.io);
  }
  let st = 0;
  for (const name of rest) {
    const d = await describe(sh, name);
    if (d === undefined) {
      st = 1;
      if (mode === "V") berr(sh, "command", `${name}: not found`);
      if (sh.busybox) break;
      continue;
    }
    if (mode === "v") sh.io.stdout.write(`${d.kind === "file" ? d.path : name}\n`);
    else {
      const what = d.kind === "keyword" ? "a shell keyword" : d.kind === "function" ? "a function" : d.kind === "builtin" ? "a shell builtin" : d.path!;
      sh.io.stdout.write(`${name} is ${what}\n`);
    }
  }
  return st;
};

const loopControl =
  (kind: "break" | "continue"): Builtin =>
  async (sh, argv) => {
    const n = argv[1] === undefined ? 1 : Number(argv[1]);
    if (!Number.isInteger(n) || n < 1) {
      berr(sh, kind, `${argv[1]}: loop count out of range`);
      return 1;
    }
    if (sh.loopDepth === 0) {
      if (!sh.busybox) sh.error(`${kind}: only meaningful in a \`for', \`while', or \`until' loop`);
      return 0;
    }
    throw new LoopSignal(kind, Math.min(n, sh.loopDepth));
  };

const printf: Builtin = async (sh, argv) => {
  let args = argv.slice(1);
  let target: string | undefined;
  if (args[0] === "-v" && !sh.busybox) {
    target = args[1];
    args = args.slice(2);
  }
  if (args[0] === "--") args = args.slice(1);
  if (args.length === 0) {
    if (sh.busybox) sh.io.stderr.write(`${sh.shName}: usage: printf FORMAT [ARGUMENT...]\n`);
    else sh.error("printf: usage: printf [-v var] format [arguments]");
    return 2;
  }
  const r = formatPrintf(args[0]!, args.slice(1));
  if (target !== undefined) sh.vars.set(target, r.out);
  else sh.io.stdout.write(r.out);
  for (const issue of r.issues) {
    if (issue.kind === "bad-conversion") berr(sh, "printf", `${issue.arg}: invalid format character`);
    else if (sh.busybox) sh.io.stderr.write(`${sh.shName}: invalid number '${issue.arg}'\n`);
    else sh.error(`printf: ${issue.arg}: invalid number`);
  }
  return r.issues.length > 0 ? 1 : 0;
};

const source: Builtin = async (sh, argv) => {
  const file = argv[1];
  if (file === undefined) {
    if (sh.busybox) return 0;
    sh.error(`${argv[0]}: filename argument required`);
    return 2;
  }
  let text: string;
  try {
    text = sh.ctx.fs.readFile(normalize(file, sh.cwd), sh.ctx.netns);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    if (sh.busybox) sh.io.stderr.write(`${sh.shName}: .: ${sh.bbLine()}can't open '${file}': ${why}\n`);
    else sh.error(`${file}: ${why}`);
    return sh.busybox ? 2 : 1;
  }
  const savedPos = sh.positionalArgs;
  if (argv.length > 2) sh.positionalArgs = argv.slice(2);
  sh.sourceDepth++;
  try {
    return await runText(sh, text, argv[0]!);
  } catch (err) {
    if (err instanceof ReturnSignal) return err.status;
    throw err;
  } finally {
    sh.sourceDepth--;
    if (argv.length > 2) sh.positionalArgs = savedPos;
  }
};

/** The builtins by name. */
export const BUILTINS: Record<string, Builtin> = {
  ":": async () => 0,
  true: async () => 0,
  false: async () => 1,
  echo: async (sh, argv) => {
    sh.io.stdout.write(echoText(argv.slice(1)));
    return 0;
  },
  printf,
  test,
  "[": test,
  cd,
  pwd: async (sh) => {
    sh.io.stdout.write(`${sh.cwd}\n`);
    return 0;
  },
  exit,
  export: exportLike("export"),
  readonly: exportLike("readonly"),
  declare: exportLike("declare"),
  typeset: exportLike("declare"),
  unset: async (sh, argv) => {
    let funcs = false;
    let st = 0;
    for (const a of argv.slice(1)) {
      if (a === "-f") funcs = true;
      else if (a === "-v") funcs = false;
      else if (funcs) sh.funcs.delete(a);
      else if (!NAME.test(a)) {
        if (sh.busybox) {
          sh.io.stderr.write(`${sh.shName}: unset: ${sh.bbLine()}${a}: bad variable name\n`);
          return 2;
        }
        sh.error(`unset: \`${a}': not a valid identifier`);
        st = 1;
      } else {
        sh.vars.delete(a);
        sh.exported.delete(a);
      }
    }
    return st;
  },
  set,
  shift: async (sh, argv) => {
    const n = argv[1] === undefined ? 1 : Number(argv[1]);
    if (!Number.isInteger(n) || n < 0) {
      berr(sh, "shift", `${argv[1]}: numeric argument required`);
      return 1;
    }
    if (n > sh.positionalArgs.length) return 1;
    sh.positionalArgs = sh.positionalArgs.slice(n);
    return 0;
  },
  read,
  type,
  command,
  break: loopControl("break"),
  continue: loopControl("continue"),
  return: async (sh, argv) => {
    const st = argv[1] === undefined ? sh.status : Number(argv[1]) & 255;
    if (sh.funcDepth === 0 && sh.sourceDepth === 0) {
      if (sh.busybox) throw new ExitSignal(st);
      sh.error("return: can only `return' from a function or sourced script");
      return 1;
    }
    throw new ReturnSignal(st);
  },
  local: async (sh, argv) => {
    const frame = sh.locals[sh.locals.length - 1];
    if (frame === undefined || sh.funcDepth === 0) {
      berr(sh, "local", "can only be used in a function");
      return 1;
    }
    for (const a of argv.slice(1)) {
      const eq = a.indexOf("=");
      const name = eq < 0 ? a : a.slice(0, eq);
      if (!NAME.test(name)) continue;
      if (!frame.has(name)) frame.set(name, sh.vars.get(name));
      if (eq >= 0) sh.vars.set(name, a.slice(eq + 1));
      else if (!sh.vars.has(name)) sh.vars.set(name, "");
    }
    return 0;
  },
  wait: async (sh, argv) => {
    const pids = argv.slice(1).map(Number);
    let st = 0;
    for (const job of sh.jobs) {
      if (pids.length > 0 && !pids.includes(job.record.pid ?? -1)) continue;
      st = await job.promise;
    }
    if (pids.length === 0) {
      sh.jobs = [];
      return 0;
    }
    return st;
  },
  jobs: async (sh) => {
    const live = sh.jobs.filter((j) => j.status === undefined);
    live.forEach((j, i) => {
      const mark = i === live.length - 1 ? "+" : i === live.length - 2 ? "-" : " ";
      sh.io.stdout.write(`[${j.id}]${mark}  ${"Running".padEnd(24)}${j.text}\n`);
    });
    return 0;
  },
  eval: async (sh, argv) => runText(sh, argv.slice(1).join(" "), "eval"),
  source,
  ".": source,
  exec: async (sh, argv) => {
    const rest = argv.slice(1);
    const b = rest[0] !== undefined && Object.hasOwn(BUILTINS, rest[0]) ? BUILTINS[rest[0]] : undefined;
    const st = b !== undefined ? await b(sh, rest) : await sh.runExternal(rest, [], sh.io);
    throw new ExitSignal(st);
  },
  let: async (sh, argv) => {
    let v = "0";
    for (const expr of argv.slice(1)) {
      try {
        v = evalArith(expr, { get: (n) => sh.param(n), set: (n, val) => sh.setVar(n, val) });
      } catch (err) {
        if (!(err instanceof ArithError)) throw err;
        if (sh.busybox) sh.io.stderr.write(`${sh.shName}: let: ${err.busybox}\n`);
        else sh.error(`let: ${err.bash}`);
        return 1;
      }
    }
    return v === "0" ? 1 : 0;
  },
  kill: async (sh, argv) =>
    killProcesses(sh.ctx, argv.slice(1), sh.io, { prefix: sh.busybox ? `${sh.shName}: ` : sh.prefix(), busybox: sh.busybox }),
  trap: async (sh, argv) => {
    const args = argv.slice(1).filter((a) => a !== "--");
    if (args.length === 0) {
      if (sh.exitTrap !== undefined) sh.io.stdout.write(`trap -- '${sh.exitTrap.replaceAll("'", "'\\''")}' EXIT\n`);
      return 0;
    }
    const [action, ...sigs] = args.length === 1 ? ["-", ...args] : args;
    for (const s of sigs) {
      if (s === "EXIT" || s === "0") sh.exitTrap = action === "-" || action === "" ? undefined : action;
    }
    return 0;
  },
  umask: async (sh, argv) => {
    if (argv.length === 1) sh.io.stdout.write("0022\n");
    return 0;
  },
  ulimit: async (sh, argv) => {
    if (argv.length === 1) sh.io.stdout.write("unlimited\n");
    return 0;
  },
  hash: async () => 0,
  alias: async () => 0,
  unalias: async () => 0,
};
