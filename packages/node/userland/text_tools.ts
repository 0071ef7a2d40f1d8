/**
 * Text filters: head, tail, wc, sort, uniq, cut, tr, tee, seq — GNU
 * coreutils' output and wording on hosts, busybox's in containers.
 */
import { sleep, type Command, type ProcessContext } from "../process.ts";
import { VfsError } from "../vfs.ts";
import {
  badUsage,
  busyboxUsage,
  FileOutput,
  isOptError,
  killedStatus,
  linesOf,
  parseOpts,
  readAllAbortable,
  readLineAbortable,
  resolvePath,
} from "./_tool.ts";

function gnu(ctx: ProcessContext): boolean {
  return ctx.flavour === "gnu";
}

/** Rewrites `-5` / `+5` (old-style counts) into `-n 5` / `-n +5` for head and tail. */
function legacyCount(args: readonly string[]): string[] {
  const a = [...args];
  const first = a[0];
  if (first !== undefined && /^-\d+[cl]?$/.test(first)) {
    const n = first.slice(1).replace(/[l]$/, "");
    if (n.endsWith("c")) return ["-c", n.slice(0, -1), ...a.slice(1)];
    return ["-n", n, ...a.slice(1)];
  }
  if (first !== undefined && /^\+\d+$/.test(first)) return ["-n", first, ...a.slice(1)];
  return a;
}

/** Reads a file operand for a text tool; prints the tool's error (worded per flavour) and returns undefined on failure. */
async function readOperand(
  ctx: ProcessContext,
  name: string,
  words: { gnu: (f: string, why: string) => string; busybox: (f: string, why: string) => string },
): Promise<string | undefined> {
  if (name === "-" || name === "/dev/stdin") {
    const t = await readAllAbortable(ctx.stdin, ctx.signal);
    return t ?? "";
  }
  if (name === "/dev/null") return "";
  try {
    return ctx.fs.readFile(resolvePath(ctx, name), ctx.netns);
  } catch (err) {
    if (!(err instanceof VfsError)) throw err;
    ctx.stderr.write(`${gnu(ctx) ? words.gnu(name, err.message) : words.busybox(name, err.message)}\n`);
    return undefined;
  }
}

function parseCount(s: string): { n: number; plus: boolean; minus: boolean } | undefined {
  const m = /^([+-]?)(\d+)([bkKMG]?)$/.exec(s);
  if (m === null) return undefined;
  const mult: Record<string, number> = { "": 1, b: 512, k: 1024, K: 1024, M: 1024 * 1024, G: 1024 * 1024 * 1024 };
  return { n: Number(m[2]) * mult[m[3]!]!, plus: m[1] === "+", minus: m[1] === "-" };
}

const head: Command = async (ctx) => {
  const o = parseOpts(legacyCount(ctx.argv.slice(1)), {
    flags: "qv",
    withArg: "nc",
    long: { "lines=": "n", "bytes=": "c", quiet: "q", silent: "q", verbose: "v" },
  });
  if (isOptError(o)) return badUsage(ctx, "head", o);
  const byBytes = o.has("c");
  const raw = o.last(byBytes ? "c" : "n") ?? "10";
  const count = parseCount(raw);
  if (count === undefined || count.plus) {
    if (gnu(ctx)) ctx.stderr.write(`head: invalid number of ${byBytes ? "bytes" : "lines"}: ‘${raw}’\n`);
    else ctx.stderr.write(`head: invalid number '${raw}'\n`);
    return 1;
  }
  const files = o.args.length === 0 ? ["-"] : o.args;
  const headers = (files.length > 1 && !o.has("q")) || o.has("v");
  let st = 0;
  let first = true;
  for (const f of files) {
    let text: string;
    if ((f === "-" || f === "/dev/stdin") && !byBytes && !count.minus) {
      // Stream: stop reading once enough lines came, as head does.
      const lines: string[] = [];
      while (lines.length < count.n) {
        const r = await readLineAbortable(ctx.stdin, ctx.signal);
        if (r.aborted) return killedStatus(ctx.signal);
        if (r.line === undefined) break;
        lines.push(r.line);
      }
      if (headers) ctx.stdout.write(`${first ? "" : "\n"}==> standard input <==\n`);
      first = false;
      ctx.stdout.write(lines.map((l) => `${l}\n`).join(""));
      continue;
    }
    const t = await readOperand(ctx, f, {
      gnu: (n, why) => (why === "Is a directory" ? `head: error reading '${n}': ${why}` : `head: cannot open '${n}' for reading: ${why}`),
      busybox: (n, why) => `head: ${n}: ${why}`,
    });
    if (t === undefined) {
      st = 1;
      continue;
    }
    text = t;
    if (headers) ctx.stdout.write(`${first ? "" : "\n"}==> ${f === "-" ? "standard input" : f} <==\n`);
    first = false;
    if (byBytes) {
      const bytes = new TextEncoder().encode(text);
      const slice = count.minus ? bytes.slice(0, Math.max(0, bytes.length - count.n)) : bytes.slice(0, count.n);
      ctx.stdout.write(new TextDecoder().decode(slice));
      continue;
    }
    const parts = text.split(/(?<=\n)/);
    const keep = count.minus ? parts.slice(0, Math.max(0, parts.length - count.n)) : parts.slice(0, count.n);
    ctx.stdout.write(keep.join(""));
  }
  return st;
};

const tail: Command = async (ctx) => {
  const o = parseOpts(legacyCount(ctx.argv.slice(1)), {
    flags: "qvfF",
    withArg: "ncs",
    long: { "lines=": "n", "bytes=": "c", quiet: "q", verbose: "v", follow: "f", "sleep-interval=": "s" },
  });
  if (isOptError(o)) return badUsage(ctx, "tail", o);
  const byBytes = o.has("c");
  const raw = o.last(byBytes ? "c" : "n") ?? "10";
  const count = parseCount(raw);
  if (count === undefined) {
    if (gnu(ctx)) ctx.stderr.write(`tail: invalid number of ${byBytes ? "bytes" : "lines"}: ‘${raw}’\n`);
    else ctx.stderr.write(`tail: invalid number '${raw}'\n`);
    return 1;
  }
  const files = o.args.length === 0 ? ["-"] : o.args;
  const headers = (files.length > 1 && !o.has("q")) || o.has("v");
  let st = 0;
  let first = true;
  let opened = 0;
  const follow: Array<{ name: string; path: string; size: number }> = [];
  for (const f of files) {
    const t = await readOperand(ctx, f, {
      gnu: (n, why) => (why === "Is a directory" ? `tail: error reading '${n}': ${why}` : `tail: cannot open '${n}' for reading: ${why}`),
      busybox: (n, why) => `tail: can't open '${n}': ${why}`,
    });
    if (t === undefined) {
      st = 1;
      continue;
    }
    opened++;
    if (headers) ctx.stdout.write(`${first ? "" : "\n"}==> ${f === "-" ? "standard input" : f} <==\n`);
    first = false;
    if (byBytes) {
      const bytes = new TextEncoder().encode(t);
      const slice = count.plus ? bytes.slice(Math.max(0, count.n - 1)) : bytes.slice(Math.max(0, bytes.length - count.n));
      ctx.stdout.write(new TextDecoder().decode(slice));
    } else {
      const parts = t.split(/(?<=\n)/).filter((p) => p !== "");
      const keep = count.plus ? parts.slice(Math.max(0, count.n - 1)) : count.n === 0 ? [] : parts.slice(-count.n);
      ctx.stdout.write(keep.join(""));
    }
    if (f !== "-") follow.push({ name: f, path: resolvePath(ctx, f), size: t.length });
  }
  if (opened === 0 && !gnu(ctx)) ctx.stderr.write("tail: no files\n");
  if ((o.has("f") || o.has("F")) && follow.length > 0) {
    const interval = Number(o.last("s") ?? "1") * 1000;
    for (;;) {
      if (!(await sleep(ctx, interval))) return killedStatus(ctx.signal);
      for (const w of follow) {
        let text: string;
        try {
          text = ctx.fs.readFile(w.path, ctx.netns);
        } catch {
          continue;
        }
        if (text.length > w.size) ctx.stdout.write(text.slice(w.size));
        w.size = text.length;
      }
    }
  }
  return st;
};

interface Counts {
  lines: number;
  words: number;
  bytes: number;
  chars: number;
  maxLine: number;
}

function count(text: string): Counts {
  const bytes = new TextEncoder().encode(text).length;
  let lines = 0;
  for (const c of text) if (c === "\n") lines++;
  const words = text.split(/[ \t\n\r\f\v]+/).filter((w) => w !== "").length;
  let maxLine = 0;
  for (const l of text.split("\n")) maxLine = Math.max(maxLine, [...l.replaceAll("\t", "        ")].length);
  return { lines, words, bytes, chars: [...text].length, maxLine };
}

const wc: Command = async (ctx) => {
  const o = parseOpts(ctx.argv.slice(1), {
    flags: "lwcmL",
    long: { lines: "l", words: "w", bytes: "c", chars: "m", "max-line-length": "L" },
  });
  if (isOptError(o)) return badUsage(ctx, "wc", o);
  let which = (["l", "w", "m", "c", "L"] as const).filter((k) => o.has(k));
  if (which.length === 0) which = ["l", "w", "c"];
  const operands = o.args.length === 0 ? [] : o.args;
  const inputs = operands.length === 0 ? ["-"] : operands;
  const results: Array<{ name: string | undefined; c: Counts; regular: boolean }> = [];
  let st = 0;
  for (const f of inputs) {
    const t = await readOperand(ctx, f, { gnu: (n, why) => `wc: ${n}: ${why}`, busybox: (n, why) => `wc: ${n}: ${why}` });
    if (t === undefined) {
      st = 1;
      continue;
    }
    results.push({ name: operands.length === 0 ? undefined : f, c: count(t), regular: f !== "-" && f !== "/dev/stdin" });
  }
  const total: Counts = { lines: 0, words: 0, bytes: 0, chars: 0, maxLine: 0 };
  for (const r of results) {
    total.lines += r.c.lines;
    total.words += r.c.words;
    total.bytes += r.c.bytes;
    total.chars += r.c.chars;
    total.maxLine = Math.max(total.maxLine, r.c.maxLine);
  }
  const pick = (c: Counts, k: (typeof which)[number]) =>
    k === "l" ? c.lines : k === "w" ? c.words : k === "c" ? c.bytes : k === "m" ? c.chars : c.maxLine;
  let width: number;
  if (gnu(ctx)) {
    if (inputs.length === 1 && which.length === 1) width = 1;
    else {
      const anyStdin = inputs.some((f) => f === "-" || f === "/dev/stdin");
      const regularTotal = results.filter((r) => r.regular).reduce((s, r) => s + r.c.bytes, 0);
      width = Math.max(String(regularTotal).length, anyStdin ? 7 : 1);
    }
  } else width = inputs.length <= 1 && which.length === 1 ? 1 : 9;
  const line = (c: Counts, name: string | undefined) =>
    `${which.map((k) => String(pick(c, k)).padStart(width)).join(" ")}${name === undefined ? "" : ` ${name}`}\n`;
  for (const r of results) ctx.stdout.write(line(r.c, r.name));
  if (inputs.length > 1) ctx.stdout.write(line(total, "total"));
  return st;
};

interface SortKey {
  startField: number;
  startChar: number;
  endField: number | undefined;
  endChar: number;
  numeric: boolean;
  reverse: boolean;
  fold: boolean;
  blanks: boolean;
  human: boolean;
}

function parseKey(spec: string, global: Omit<SortKey, "startField" | "startChar" | "endField" | "endChar">): SortKey | undefined {
  const m = /^(\d+)(?:\.(\d+))?([bdfghinrMRV]*)(?:,(\d+)(?:\.(\d+))?([bdfghinrMRV]*))?$/.exec(spec);
  if (m === null) return undefined;
  const opts = `${m[3] ?? ""}${m[6] ?? ""}`;
  const own = opts !== "";
  return {
    startField: Number(m[1]),
    startChar: m[2] !== undefined ? Number(m[2]) : 1,
    endField: m[4] !== undefined ? Number(m[4]) : undefined,
    endChar: m[5] !== undefined ? Number(m[5]) : 0,
    numeric: own ? opts.includes("n") : global.numeric,
    reverse: own ? opts.includes("r") : global.reverse,
    fold: own ? opts.includes("f") : global.fold,
    blanks: own ? opts.includes("b") : global.blanks,
    human: own ? opts.includes("h") : global.human,
  };
}

/** Fields as sort sees them: each starts where the previous ends (leading blanks kept) unless a separator is given. */
function sortFields(line: string, sep: string | undefined): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  if (sep !== undefined) {
    let start = 0;
    for (;;) {
      const i = line.indexOf(sep, start);
      if (i < 0) {
        out.push([start, line.length]);
        return out;
      }
      out.push([start, i]);
      start = i + 1;
    }
  }
  let i = 0;
  while (i < line.length) {
    const start = i;
    while (i < line.length && (line[i] === " " || line[i] === "\t")) i++;
    while (i < line.length && line[i] !== " " && line[i] !== "\t") i++;
    out.push([start, i]);
  }
  return out;
}

function keyText(line: string, k: SortKey, sep: string | undefined): string {
  const fields = sortFields(line, sep);
  const sf = fields[k.startField - 1];
  if (sf === undefined) return "";
  let start = sf[0];
  if (k.blanks) while (start < sf[1] && (line[start] === " " || line[start] === "\t")) start++;
  start += k.startChar - 1;
  let end = line.length;
  if (k.endField !== undefined) {
    const ef = fields[k.endField - 1];
    if (ef !== undefined) end = k.endChar === 0 ? ef[1] : Math.min(ef[1], ef[0] + k.endChar);
  }
  return line.slice(Math.min(start, line.length), Math.max(start, end));
}

function numericValue(s: string, human: boolean): number {
  const m = /^\s*(-?\d*\.?\d+)([KMGTPE]?)/.exec(s);
  if (m === null) return 0;
  const v = Number(m[1]);
  if (!human || m[2] === "") return v;
  return v * 1024 ** ("KMGTPE".indexOf(m[2]!) + 1);
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const sort: Command = async (ctx) => {
  const o = parseOpts(ctx.argv.slice(1), {
    flags: "nrufbhsVcCdgiMRz",
    withArg: "kto",
    long: {
      numeric: "n",
      "numeric-sort": "n",
      reverse: "r",
      unique: "u",
      "ignore-case": "f",
      "key=": "k",
      "field-separator=": "t",
      "output=": "o",
      "human-numeric-sort": "h",
      stable: "s",
      check: "c",
    },
  });
  if (isOptError(o)) return badUsage(ctx, "sort", o, 2);
  const global = { numeric: o.has("n") || o.has("g"), reverse: o.has("r"), fold: o.has("f"), blanks: o.has("b"), human: o.has("h") };
  const sep = o.last("t");
  if (sep !== undefined && sep.length !== 1) {
    ctx.stderr.write(gnu(ctx) ? `sort: multi-character tab ‘${sep}’\n` : busyboxUsage("sort"));
    return 2;
  }
  const keys: SortKey[] = [];
  for (const spec of o.values.get("k") ?? []) {
    const k = parseKey(spec, global);
    if (k === undefined) {
      ctx.stderr.write(gnu(ctx) ? `sort: invalid number at field start: invalid count at start of ‘${spec}’\n` : `sort: bad field specification '${spec}'\n`);
      return 2;
    }
    keys.push(k);
  }
  const files = o.args.length === 0 ? ["-"] : o.args;
  const lines: string[] = [];
  for (const f of files) {
    const t = await readOperand(ctx, f, { gnu: (n, why) => `sort: cannot read: ${n}: ${why}`, busybox: (n, why) => `sort: ${n}: ${why}` });
    if (t === undefined) return 2;
    lines.push(...linesOf(t));
  }
  const cmpKey = (a: string, b: string, k: Omit<SortKey, "startField" | "startChar" | "endField" | "endChar">) => {
    let r: number;
    if (k.numeric || k.human) r = numericValue(a, k.human) - numericValue(b, k.human);
    else if (k.fold) r = compareStrings(a.toUpperCase(), b.toUpperCase());
    else r = compareStrings(k.blanks ? a.trimStart() : a, k.blanks ? b.trimStart() : b);
    r = Math.sign(r);
    return k.reverse ? -r : r;
  };
  const compareKeys = (a: string, b: string): number => {
    if (keys.length === 0) return cmpKey(a, b, global);
    for (const k of keys) {
      const r = cmpKey(keyText(a, k, sep), keyText(b, k, sep), k);
      if (r !== 0) return r;
    }
    return 0;
  };
  const full = (a: string, b: string): number => {
    const r = compareKeys(a, b);
    if (r !== 0 || o.has("s") || o.has("u")) return r;
    const last = compareStrings(a, b);
    return global.reverse ? -last : last;
  };
  const sorted = lines.map((l, i) => ({ l, i })).sort((x, y) => full(x.l, y.l) || x.i - y.i).map((x) => x.l);
  let out = sorted;
  if (o.has("u")) out = sorted.filter((l, i) => i === 0 || compareKeys(sorted[i - 1]!, l) !== 0);
  const text = out.map((l) => `${l}\n`).join("");
  const dest = o.last("o");
  if (dest !== undefined) {
    try {
      ctx.fs.writeFile(resolvePath(ctx, dest), text, ctx.netns);
    } catch (err) {
      ctx.stderr.write(`sort: open failed: ${dest}: ${err instanceof Error ? err.message : String(err)}\n`);
      return 2;
    }
  } else ctx.stdout.write(text);
  return 0;
};

const uniq: Command = async (ctx) => {
  const o = parseOpts(ctx.argv.slice(1), {
    flags: "cdui",
    withArg: "fsw",
    long: { count: "c", repeated: "d", unique: "u", "ignore-case": "i", "skip-fields=": "f", "skip-chars=": "s", "check-chars=": "w" },
  });
  if (isOptError(o)) return badUsage(ctx, "uniq", o);
  const input = o.args[0] ?? "-";
  const t = await readOperand(ctx, input, { gnu: (n, why) => `uniq: ${n}: ${why}`, busybox: (n, why) => `uniq: can't open '${n}': ${why}` });
  if (t === undefined) return 1;
  const skipFields = Number(o.last("f") ?? "0");
  const skipChars = Number(o.last("s") ?? "0");
  const checkChars = o.last("w") === undefined ? undefined : Number(o.last("w"));
  const keyOf = (l: string) => {
    let s = l;
    for (let i = 0; i < skipFields; i++) s = s.replace(/^[ \t]*[^ \t]*/, "");
    s = s.slice(skipChars);
    if (checkChars !== undefined) s = s.slice(0, checkChars);
    return o.has("i") ? s.toLowerCase() : s;
  };
  const groups: Array<{ line: string; n: number }> = [];
  for (const l of linesOf(t)) {
    const g = groups[groups.length - 1];
    if (g !== undefined && keyOf(g.line) === keyOf(l)) g.n++;
    else groups.push({ line: l, n: 1 });
  }
  let out = "";
  for (const g of groups) {
    if (o.has("d") && g.n < 2) continue;
    if (o.has("u") && g.n > 1) continue;
    out += o.has("c") ? `${String(g.n).padStart(7)} ${g.line}\n` : `${g.line}\n`;
  }
  const dest = o.args[1];
  if (dest !== undefined) ctx.fs.writeFile(resolvePath(ctx, dest), out, ctx.netns);
  else ctx.stdout.write(out);
  return 0;
};

/** Parses a cut list such as `1,3-5,7-`; undefined if malformed. */
function parseList(spec: string): Array<[number, number]> | undefined {
  const out: Array<[number, number]> = [];
  for (const part of spec.split(",")) {
    const m = /^(\d*)(-?)(\d*)$/.exec(part);
    if (m === null || (m[1] === "" && m[3] === "")) return undefined;
    const a = m[1] === "" ? 1 : Number(m[1]);
    const b = m[2] === "" ? a : m[3] === "" ? Number.POSITIVE_INFINITY : Number(m[3]);
    if (a < 1) return undefined;
    out.push([a, b]);
  }
  return out;
}

const cut: Command = async (ctx) => {
  const o = parseOpts(ctx.argv.slice(1), {
    flags: "snz",
    withArg: "bcfd",
    long: { "bytes=": "b", "characters=": "c", "fields=": "f", "delimiter=": "d", "only-delimited": "s", "output-delimiter=": "O", complement: "C" },
  });
  if (isOptError(o)) return badUsage(ctx, "cut", o);
  const mode = o.has("f") ? "f" : o.has("c") ? "c" : o.has("b") ? "b" : undefined;
  if (mode === undefined) {
    if (gnu(ctx)) ctx.stderr.write("cut: you must specify a list of bytes, characters, or fields\nTry 'cut --help' for more information.\n");
    else ctx.stderr.write("cut: expected a list of bytes, characters, or fields\n");
    return 1;
  }
  const spec = o.last(mode)!;
  const list = parseList(spec);
  if (list === undefined) {
    if (gnu(ctx)) ctx.stderr.write(`cut: invalid ${mode === "f" ? "field" : "byte/character position"} value ‘${spec}’\nTry 'cut --help' for more information.\n`);
    else ctx.stderr.write(`cut: invalid range '${spec}'\n`);
    return 1;
  }
  const delim = o.last("d") ?? "\t";
  if (delim.length !== 1) {
    ctx.stderr.write(gnu(ctx) ? "cut: the delimiter must be a single character\nTry 'cut --help' for more information.\n" : "cut: delimiter must be one character\n");
    return 1;
  }
  const outDelim = o.last("O") ?? delim;
  const complement = o.has("C");
  const wanted = (i: number) => list.some(([a, b]) => i >= a && i <= b) !== complement;
  const apply = (line: string): string | undefined => {
    if (mode === "f") {
      if (!line.includes(delim)) return o.has("s") ? undefined : line;
      const fields = line.split(delim);
      return fields.filter((_f, i) => wanted(i + 1)).join(outDelim);
    }
    const chars = mode === "c" ? [...line] : [...line];
    return chars.filter((_c, i) => wanted(i + 1)).join("");
  };
  const files = o.args.length === 0 ? ["-"] : o.args;
  let st = 0;
  for (const f of files) {
    if (f === "-") {
      for (;;) {
        const r = await readLineAbortable(ctx.stdin, ctx.signal);
        if (r.aborted) return killedStatus(ctx.signal);
        if (r.line === undefined) break;
        const out = apply(r.line);
        if (out !== undefined) ctx.stdout.write(`${out}\n`);
      }
      continue;
    }
    const t = await readOperand(ctx, f, { gnu: (n, why) => `cut: ${n}: ${why}`, busybox: (n, why) => `cut: ${n}: ${why}` });
    if (t === undefined) {
      st = 1;
      continue;
    }
    for (const l of linesOf(t)) {
      const out = apply(l);
      if (out !== undefined) ctx.stdout.write(`${out}\n`);
    }
  }
  return st;
};

const TR_CLASSES: Record<string, string> = {
  upper: "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
  lower: "abcdefghijklmnopqrstuvwxyz",
  digit: "0123456789",
  space: " \t\n\r\f\v",
  blank: " \t",
  punct: "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
};
TR_CLASSES.alpha = TR_CLASSES.upper! + TR_CLASSES.lower!;
TR_CLASSES.alnum = TR_CLASSES.alpha + TR_CLASSES.digit!;
TR_CLASSES.xdigit = "0123456789ABCDEFabcdef";

/** Expands a tr set (`a-z`, `[:upper:]`, `\n`, `[x*n]`) into its characters. */
function trSet(spec: string): string[] {
  const chars: string[] = [];
  let i = 0;
  const esc = (): string => {
    const c = spec[i]!;
    if (c === "\\" && i + 1 < spec.length) {
      const n = spec[i + 1]!;
      const map: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\", a: "\x07", b: "\b", f: "\f", v: "\v" };
      if (/[0-7]/.test(n)) {
        const m = /^[0-7]{1,3}/.exec(spec.slice(i + 1))!;
        i += 1 + m[0].length;
        return String.fromCharCode(parseInt(m[0], 8));
      }
      i += 2;
      return map[n] ?? n;
    }
    i++;
    return c;
  };
  while (i < spec.length) {
    const cls = /^\[:(\w+):\]/.exec(spec.slice(i));
    if (cls !== null && TR_CLASSES[cls[1]!] !== undefined) {
      chars.push(...TR_CLASSES[cls[1]!]!);
      i += cls[0].length;
      continue;
    }
    const a = esc();
    if (spec[i] === "-" && i + 1 < spec.length) {
      i++;
      const b = esc();
      for (let c = a.charCodeAt(0); c <= b.charCodeAt(0); c++) chars.push(String.fromCharCode(c));
      continue;
    }
    chars.push(a);
  }
  return chars;
}

const tr: Command = async (ctx) => {
  const o = parseOpts(ctx.argv.slice(1), { flags: "cdsCt", long: { delete: "d", "squeeze-repeats": "s", complement: "c", truncate: "t" } });
  if (isOptError(o)) return badUsage(ctx, "tr", o);
  const del = o.has("d");
  const squeeze = o.has("s");
  const [s1, s2] = o.args;
  if (s1 === undefined || (!del && !squeeze && s2 === undefined)) {
    if (!gnu(ctx)) {
      ctx.stderr.write(busyboxUsage("tr"));
      return 1;
    }
    if (s1 === undefined) ctx.stderr.write("tr: missing operand\nTry 'tr --help' for more information.\n");
    else ctx.stderr.write(`tr: missing operand after ‘${s1}’\nTwo strings must be given when translating.\nTry 'tr --help' for more information.\n`);
    return 1;
  }
  const text = await readAllAbortable(ctx.stdin, ctx.signal);
  if (text === undefined) return killedStatus(ctx.signal);
  const set1 = trSet(s1);
  const complement = o.has("c") || o.has("C");
  const in1 = (c: string) => set1.includes(c) !== complement;
  let out = "";
  if (del) {
    const sq = s2 !== undefined ? new Set(trSet(s2)) : undefined;
    for (const c of text) {
      if (in1(c)) continue;
      if (squeeze && sq?.has(c) && out.endsWith(c)) continue;
      out += c;
    }
  } else {
    const set2 = s2 !== undefined ? trSet(s2) : [];
    const map = new Map<string, string>();
    if (s2 !== undefined && !complement) set1.forEach((c, i) => map.set(c, set2[Math.min(i, set2.length - 1)] ?? c));
    const sqSet = new Set(s2 !== undefined ? set2 : set1);
    for (const c of text) {
      let d = c;
      if (s2 !== undefined) {
        if (complement) {
          if (in1(c)) d = set2[set2.length - 1] ?? c;
        } else d = map.get(c) ?? c;
      }
      if (squeeze && sqSet.has(d) && out.endsWith(d) && (s2 !== undefined || in1(c))) continue;
      out += d;
    }
  }
  ctx.stdout.write(out);
  return 0;
};

const tee: Command = async (ctx) => {
  const o = parseOpts(ctx.argv.slice(1), { flags: "ai", long: { append: "a", "ignore-interrupts": "i" } });
  if (isOptError(o)) return badUsage(ctx, "tee", o);
  const outs: FileOutput[] = [];
  let st = 0;
  for (const f of o.args) {
    const file = new FileOutput(ctx, resolvePath(ctx, f));
    try {
      file.open(o.has("a"));
      outs.push(file);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      ctx.stderr.write(gnu(ctx) ? `tee: ${f}: ${why}\n` : `tee: can't open '${f}': ${why}\n`);
      st = 1;
    }
  }
  for (;;) {
    const r = await readLineAbortable(ctx.stdin, ctx.signal);
    if (r.aborted) return killedStatus(ctx.signal);
    if (r.line === undefined) break;
    const chunk = `${r.line}\n`;
    ctx.stdout.write(chunk);
    for (const f of outs) f.write(chunk);
  }
  for (const [i, f] of outs.entries()) {
    if (f.error !== undefined) {
      ctx.stderr.write(`tee: ${o.args[i] ?? f.path}: ${f.error.message}\n`);
      st = 1;
    }
  }
  return st;
};

const seq: Command = async (ctx) => {
  const args = ctx.argv.slice(1);
  let sep = "\n";
  let width = false;
  const nums: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (/^-?(\d+\.?\d*|\.\d+)$/.test(a) || /^\+\d/.test(a)) nums.push(a);
    else if (a === "-s") sep = args[++i] ?? "\n";
    else if (a.startsWith("-s")) sep = a.slice(2);
    else if (a === "-w") width = true;
    else if (a.startsWith("-")) {
      return badUsage(ctx, "seq", { error: "invalid", option: a.slice(1, 2) });
    } else {
      if (gnu(ctx)) ctx.stderr.write(`seq: invalid floating point argument: ‘${a}’\nTry 'seq --help' for more information.\n`);
      else ctx.stderr.write(`seq: invalid number '${a}'\n`);
      return 1;
    }
  }
  if (nums.length === 0 || nums.length > 3) {
    if (gnu(ctx)) ctx.stderr.write(nums.length === 0 ? "seq: missing operand\nTry 'seq --help' for more information.\n" : `seq: extra operand ‘${nums[3]}’\nTry 'seq --help' for more information.\n`);
    else ctx.stderr.write(busyboxUsage("seq"));
    return 1;
  }
  const [first, inc, last] = nums.length === 1 ? ["1", "1", nums[0]!] : nums.length === 2 ? [nums[0]!, "1", nums[1]!] : [nums[0]!, nums[1]!, nums[2]!];
  const decimals = Math.max(...[first, inc].map((s) => (s.includes(".") ? s.length - s.indexOf(".") - 1 : 0)));
  const a = Number(first);
  const step = Number(inc);
  const b = Number(last);
  if (step === 0) {
    if (gnu(ctx)) ctx.stderr.write(`seq: invalid Zero increment value: ‘${inc}’\nTry 'seq --help' for more information.\n`);
    return 1;
  }
  const out: string[] = [];
  for (let i = 0; ; i++) {
    const v = a + i * step;
    if (step > 0 ? v > b + 1e-9 : v < b - 1e-9) break;
    out.push(v.toFixed(decimals));
    if (out.length > 1_000_000) break;
    if (i % 10000 === 9999 && ctx.signal.aborted) return killedStatus(ctx.signal);
  }
  if (width) {
    const w = Math.max(...out.map((s) => s.length));
    for (let i = 0; i < out.length; i++) {
      const s = out[i]!;
      out[i] = s.startsWith("-") ? `-${s.slice(1).padStart(w - 1, "0")}` : s.padStart(w, "0");
    }
  }
  if (out.length > 0) ctx.stdout.write(`${out.join(sep)}\n`);
  return 0;
};

/** The text filters, by name (wording follows ctx.flavour). */
export const textTools: Record<string, Command> = { head, tail, wc, sort, uniq, cut, tr, tee, seq };
