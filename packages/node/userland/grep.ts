/**
 * grep, and the translation of POSIX regular expressions (basic and
 * extended) into JavaScript ones that awk shares.
 */
import type { Command, ProcessContext } from "../process.ts";
import { VfsError } from "../vfs.ts";
import { badUsage, busyboxUsage, isOptError, killedStatus, linesOf, parseOpts, readLineAbortable, resolvePath } from "./_tool.ts";

const CLASS: Record<string, string> = {
  alpha: "A-Za-z",
  digit: "0-9",
  alnum: "A-Za-z0-9",
  upper: "A-Z",
  lower: "a-z",
  space: " \\t\\n\\r\\f\\v",
  blank: " \\t",
  xdigit: "0-9A-Fa-f",
  punct: "!-\\/:-@\\[-`{-~",
  print: " -~",
  graph: "!-~",
  cntrl: "\\x00-\\x1f\\x7f",
  word: "A-Za-z0-9_",
};

/** A pattern that is not a valid regular expression, with grep's wording of why. */
export class RegexError extends Error {
  override readonly name = "RegexError";
}

/**
 * Translates a POSIX regular expression (BRE, or ERE when `extended`) into
 * JavaScript RegExp source. GNU extensions `\+ \? \| \< \> \b \w \s` work
 * in both.
 *
 * ```ts
 * posixToJs("a\\(b\\)*", false); // "a(b)*"
 * ```
 */
export function posixToJs(pattern: string, extended: boolean): string {
  let out = "";
  let depth = 0;
  let i = 0;
  const atStart = () => out === "" || out.endsWith("(") || out.endsWith("|") || out === "^";
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === "\\") {
      const n = pattern[i + 1];
      i += 2;
      if (n === undefined) throw new RegexError("Trailing backslash");
      if (!extended && (n === "(" || n === ")")) {
        if (n === "(") depth++;
        else if (--depth < 0) throw new RegexError("Unmatched ) or \\)");
        out += n;
      } else if (!extended && (n === "{" || n === "}" || n === "|" || n === "+" || n === "?")) out += n;
      else if (n === "<") out += "\\b(?=\\w)";
      else if (n === ">") out += "\\b(?<=\\w)";
      else if ("bBwWsS".includes(n)) out += `\\${n}`;
      else if (/[1-9]/.test(n)) out += `\\${n}`;
      else out += escapeChar(n);
      continue;
    }
    if (c === "[") {
      const r = bracket(pattern, i);
      out += r.re;
      i = r.end;
      continue;
    }
    if (c === "*") {
      out += atStart() ? "\\*" : "*";
      i++;
      continue;
    }
    if (c === "^") {
      out += extended || atStart() ? "^" : "\\^";
      i++;
      continue;
    }
    if (c === "$") {
      const rest = pattern.slice(i + 1);
      const end = rest === "" || (!extended && (rest.startsWith("\\)") || rest.startsWith("\\|"))) || (extended && (rest.startsWith(")") || rest.startsWith("|")));
      out += extended || end ? "$" : "\\$";
      i++;
      continue;
    }
    if (extended) {
      if (c === "(") {
        depth++;
        out += "(";
      } else if (c === ")") {
        if (--depth < 0) throw new RegexError("Unmatched ) or \\)");
        out += ")";
      } else if (c === "{") {
        const m = /^\{(\d*)(,?)(\d*)\}/.exec(pattern.slice(i));
        if (m === null || (m[1] === "" && m[3] === "")) out += "\\{";
        else {
          out += m[0];
          i += m[0].length;
          continue;
        }
      } else if (c === "}") out += "\\}";
      else if ((c === "+" || c === "?") && atStart()) out += `\\${c}`;
      else out += c;
      i++;
      continue;
    }
    out += "(){}|+?".includes(c) ? `\\${c}` : c === "/" ? "\\/" : c;
    i++;
  }
  if (depth > 0) throw new RegexError("Unmatched ( or \\(");
  return out;
}

function escapeChar(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}

function bracket(p: string, start: number): { re: string; end: number } {
  let i = start + 1;
  let negate = false;
  if (p[i] === "^") {
    negate = true;
    i++;
  }
  let body = "";
  let first = true;
  for (;;) {
    if (i >= p.length) throw new RegexError("Unmatched [, [^, [:, [., or [=");
    const c = p[i]!;
    if (c === "]" && !first) break;
    first = false;
    if (c === "[" && p[i + 1] === ":") {
      const end = p.indexOf(":]", i + 2);
      if (end < 0) throw new RegexError("Unmatched [, [^, [:, [., or [=");
      const name = p.slice(i + 2, end);
      const cls = CLASS[name];
      if (cls === undefined) throw new RegexError("Invalid character class name");
      body += cls;
      i = end + 2;
      continue;
    }
    if (c === "\\" || c === "]" || c === "[" || c === "^") body += `\\${c}`;
    else body += c;
    i++;
  }
  return { re: `[${negate ? "^" : ""}${body}]`, end: i + 1 };
}

function escapeLiteral(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

interface Match {
  index: number;
  text: string;
}

const grep: Command = async (ctx) => {
  const gnu = ctx.flavour === "gnu";
  const o = parseOpts(ctx.argv.slice(1), {
    flags: "ivcEFGoqnwxlLhHsrRzaU",
    withArg: "efmABCd",
    long: {
      "ignore-case": "i",
      "invert-match": "v",
      count: "c",
      "extended-regexp": "E",
      "fixed-strings": "F",
      "only-matching": "o",
      quiet: "q",
      silent: "q",
      "line-number": "n",
      "word-regexp": "w",
      "line-regexp": "x",
      "files-with-matches": "l",
      "files-without-match": "L",
      "no-filename": "h",
      "with-filename": "H",
      "no-messages": "s",
      recursive: "r",
      "regexp=": "e",
      "file=": "f",
      "max-count=": "m",
      "after-context=": "A",
      "before-context=": "B",
      "context=": "C",
      "color=": "color",
      "colour=": "color",
      color: "color",
    },
  });
  if (isOptError(o)) return badUsage(ctx, "grep", o, 2);
  const patterns: string[] = [...(o.values.get("e") ?? [])];
  for (const f of o.values.get("f") ?? []) {
    try {
      patterns.push(...linesOf(ctx.fs.readFile(resolvePath(ctx, f), ctx.netns)));
    } catch (err) {
      ctx.stderr.write(`grep: ${f}: ${err instanceof Error ? err.message : String(err)}\n`);
      return 2;
    }
  }
  const args = [...o.args];
  if (patterns.length === 0) {
    const p = args.shift();
    if (p === undefined) {
      if (gnu) ctx.stderr.write("Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n");
      else ctx.stderr.write(busyboxUsage("grep"));
      return 2;
    }
    patterns.push(...p.split("\n"));
  }
  const extended = o.has("E");
  let sources: string[];
  try {
    sources = patterns.map((p) => (o.has("F") ? escapeLiteral(p) : posixToJs(p, extended)));
  } catch (err) {
    if (!(err instanceof RegexError)) throw err;
    const raw = patterns.join("\n");
    ctx.stderr.write(gnu ? `grep: ${err.message}\n` : `grep: bad regex '${raw}'\n`);
    return 2;
  }
  let src = sources.map((s) => `(?:${s})`).join("|");
  if (o.has("w")) src = `(?<![A-Za-z0-9_])(?:${src})(?![A-Za-z0-9_])`;
  if (o.has("x")) src = `^(?:${src})$`;
  let re: RegExp;
  try {
    re = new RegExp(src, o.has("i") ? "gi" : "g");
  } catch {
    ctx.stderr.write(gnu ? "grep: Invalid regular expression\n" : `grep: bad regex '${patterns.join("\n")}'\n`);
    return 2;
  }
  const matchesOf = (line: string): Match[] => {
    const out: Match[] = [];
    re.lastIndex = 0;
    for (;;) {
      const m = re.exec(line);
      if (m === null) break;
      out.push({ index: m.index, text: m[0] });
      if (m[0] === "") re.lastIndex++;
      if (re.lastIndex > line.length) break;
    }
    return out;
  };
  const isMatch = (line: string): boolean => {
    re.lastIndex = 0;
    return re.test(line) !== o.has("v");
  };

  let files = args;
  if (o.has("r") || o.has("R")) {
    const expanded: string[] = [];
    const walk = (shown: string, abs: string) => {
      const kind = ctx.fs.stat(abs, ctx.netns);
      if (kind === "dir") {
        for (const n of ctx.fs.list(abs, ctx.netns)) walk(shown === "." && files.length === 0 ? n : `${shown.replace(/\/$/, "")}/${n}`, `${abs === "/" ? "" : abs}/${n}`);
      } else expanded.push(shown);
    };
    for (const f of files.length === 0 ? ["."] : files) walk(f, resolvePath(ctx, f));
    files = expanded;
  }
  const inputs = files.length === 0 ? ["-"] : files;
  const showName = o.has("H") || ((inputs.length > 1 || o.has("r")) && !o.has("h"));
  const after = Number(o.last("A") ?? o.last("C") ?? "0");
  const before = Number(o.last("B") ?? o.last("C") ?? "0");
  const maxCount = o.last("m") === undefined ? Number.POSITIVE_INFINITY : Number(o.last("m"));
  const quiet = o.has("q");
  let anySelected = false;
  let error = false;
  let printedGroup = false;

  for (const f of inputs) {
    const label = f === "-" ? "(standard input)" : f;
    let nextLine: () => Promise<string | undefined | null>;
    if (f === "-") {
      nextLine = async () => {
        const r = await readLineAbortable(ctx.stdin, ctx.signal);
        return r.aborted ? null : r.line;
      };
    } else {
      let lines: string[];
      try {
        lines = linesOf(ctx.fs.readFile(resolvePath(ctx, f), ctx.netns));
      } catch (err) {
        if (!(err instanceof VfsError)) throw err;
        if (err.errno === "EISDIR" && !gnu) continue;
        if (!o.has("s")) ctx.stderr.write(`grep: ${f}: ${err.message}\n`);
        error = true;
        continue;
      }
      let idx = 0;
      nextLine = async () => lines[idx++];
    }
    let n = 0;
    let selected = 0;
    let lastPrinted = 0;
    let afterLeft = 0;
    const pending: Array<{ n: number; line: string }> = [];
    const prefix = (lineNo: number, sep: string) => `${showName ? `${label}${sep}` : ""}${o.has("n") ? `${lineNo}${sep}` : ""}`;
    const emit = (lineNo: number, line: string, sep: string) => {
      if ((before > 0 || after > 0) && printedGroup && lastPrinted !== 0 && lineNo > lastPrinted + 1) ctx.stdout.write("--\n");
      if ((before > 0 || after > 0) && printedGroup && lastPrinted === 0) ctx.stdout.write("--\n");
      ctx.stdout.write(`${prefix(lineNo, sep)}${line}\n`);
      lastPrinted = lineNo;
      printedGroup = true;
    };
    const listing = o.has("c") || o.has("l") || o.has("L") || quiet;
    for (;;) {
      if (selected >= maxCount && afterLeft === 0) break;
      const line = await nextLine();
      if (line === null) return killedStatus(ctx.signal);
      if (line === undefined) break;
      n++;
      const hit = selected < maxCount && isMatch(line);
      if (!hit) {
        if (afterLeft > 0 && !listing) {
          emit(n, line, "-");
          afterLeft--;
        } else if (before > 0) {
          pending.push({ n, line });
          if (pending.length > before) pending.shift();
        }
        continue;
      }
      selected++;
      anySelected = true;
      if (quiet) return 0;
      if (o.has("l") || o.has("L")) break;
      if (o.has("c")) continue;
      for (const p of pending.splice(0)) emit(p.n, p.line, "-");
      if (o.has("o") && !o.has("v")) {
        for (const m of matchesOf(line)) if (m.text !== "") ctx.stdout.write(`${prefix(n, ":")}${m.text}\n`);
        lastPrinted = n;
      } else emit(n, line, ":");
      afterLeft = after;
    }
    if (o.has("c")) ctx.stdout.write(`${showName ? `${label}:` : ""}${selected}\n`);
    if (o.has("l") && selected > 0) ctx.stdout.write(`${label}\n`);
    if (o.has("L") && selected === 0) ctx.stdout.write(`${label}\n`);
  }
  if (error && !(quiet && anySelected)) return 2;
  return anySelected ? 0 : 1;
};

/** grep and its old names (egrep, fgrep). */
export const grepCommands: Record<string, Command> = {
  grep,
  egrep: (ctx: ProcessContext) => grep({ ...ctx, argv: [ctx.argv[0] ?? "egrep", "-E", ...ctx.argv.slice(1)] }),
  fgrep: (ctx: ProcessContext) => grep({ ...ctx, argv: [ctx.argv[0] ?? "fgrep", "-F", ...ctx.argv.slice(1)] }),
};
