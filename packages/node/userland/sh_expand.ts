/**
 * Word expansion, in POSIX order: tilde, parameters, command substitution
 * and arithmetic; then field splitting on IFS and pathname expansion over
 * the process's files; quote removal throughout.
 */
import { ArithError, evalArith } from "./sh_arith.ts";
import { type List, parseExpandable, type Word, type WordPart } from "./sh_parse.ts";

/** An expansion failed (`${x:?}`, `$((1/0))`, `set -u`); worded for bash and busybox. */
export class ExpansionError {
  constructor(
    readonly bash: string,
    readonly busybox: string,
    /** Exit status in bash / busybox. */
    readonly status: { bash: number; busybox: number },
  ) {}
}

/** What expansion needs from the shell. */
export interface ExpandEnv {
  /** A variable or special parameter (`?`, `$`, `#`, `0`, `1`…, `!`, `-`). */
  param(name: string): string | undefined;
  positional(): readonly string[];
  setVar(name: string, value: string): void;
  /** Runs `$(…)` and returns its output without trailing newlines. */
  commandSubst(body: List): Promise<string>;
  /** `set -u` */
  readonly nounset: boolean;
  /** `set -f` */
  readonly noglob: boolean;
  /** Whether `{a,b}` and `{1..3}` expand (bash yes, busybox ash no). */
  readonly braces: boolean;
  /** Working directory for relative globs. */
  readonly cwd: string;
  /** Names in a directory (absolute path), or undefined if it is not one. */
  listDir(path: string): string[] | undefined;
  /** Whether anything exists at an absolute path. */
  exists(path: string): boolean;
}

/** A run of expanded text: `quoted` text is neither split nor globbed; `split` text came from an unquoted expansion. */
interface Seg {
  text: string;
  quoted: boolean;
  split: boolean;
}
type Piece = Seg | "BREAK";

const DEFAULT_IFS = " \t\n";

/** Expands words into fields (arguments), with splitting and globbing. */
export async function expandWords(words: readonly Word[], env: ExpandEnv): Promise<string[]> {
  const out: string[] = [];
  for (const w of words) {
    for (const b of env.braces ? braceExpand(w) : [w]) out.push(...(await expandFields(b, env)));
  }
  return out;
}

/**
 * Brace expansion (bash): `a{b,c}d` → `abd acd`, `{1..3}` → `1 2 3`, within
 * the unquoted literal text of a word.
 */
export function braceExpand(word: Word): Word[] {
  for (let pi = 0; pi < word.parts.length; pi++) {
    const part = word.parts[pi]!;
    if (part.kind !== "lit" || part.quoted) continue;
    const t = part.text;
    for (let open = t.indexOf("{"); open >= 0; open = t.indexOf("{", open + 1)) {
      let depth = 0;
      let close = -1;
      const commas: number[] = [];
      for (let i = open; i < t.length; i++) {
        if (t[i] === "{") depth++;
        else if (t[i] === "}") {
          depth--;
          if (depth === 0) {
            close = i;
            break;
          }
        } else if (t[i] === "," && depth === 1) commas.push(i);
      }
      if (close < 0) break;
      const inner = t.slice(open + 1, close);
      let alts: string[] | undefined;
      if (commas.length > 0) {
        alts = [];
        let from = open + 1;
        for (const c of [...commas, close]) {
          alts.push(t.slice(from, c));
          from = c + 1;
        }
      } else {
        const m = /^(-?\d+)\.\.(-?\d+)(?:\.\.(-?\d+))?$/.exec(inner) ?? /^([A-Za-z])\.\.([A-Za-z])()$/.exec(inner);
        if (m !== null) {
          const numeric = /\d/.test(m[1]!);
          const a = numeric ? Number(m[1]) : m[1]!.charCodeAt(0);
          const b = numeric ? Number(m[2]) : m[2]!.charCodeAt(0);
          const step = Math.abs(Number(m[3] || "1")) || 1;
          alts = [];
          for (let v = a; a <= b ? v <= b : v >= b; v += a <= b ? step : -step) alts.push(numeric ? String(v) : String.fromCharCode(v));
        }
      }
      if (alts === undefined) continue;
      const out: Word[] = [];
      for (const alt of alts) {
        const text = t.slice(0, open) + alt + t.slice(close + 1);
        const parts: WordPart[] = [...word.parts.slice(0, pi), { kind: "lit", text, quoted: false }, ...word.parts.slice(pi + 1)];
        out.push(...braceExpand({ parts, raw: word.raw }));
      }
      return out;
    }
  }
  return [word];
}

/** Expands one word into zero or more fields. */
export async function expandFields(word: Word, env: ExpandEnv): Promise<string[]> {
  const pieces: Piece[] = [];
  await collect(withTilde(word.parts, env), false, env, pieces);
  const fields = split(pieces, ifsOf(env));
  const out: string[] = [];
  for (const f of fields) {
    if (!env.noglob && f.some((s) => !s.quoted && /[*?[]/.test(s.text))) {
      const matches = glob(f, env);
      if (matches.length > 0) {
        out.push(...matches);
        continue;
      }
    }
    out.push(f.map((s) => s.text).join(""));
  }
  return out;
}

/** Expands one word to a single string: no field splitting or globbing (assignments, redirection targets, `case`). */
export async function expandString(word: Word, env: ExpandEnv): Promise<string> {
  const pieces: Piece[] = [];
  await collect(withTilde(word.parts, env), false, env, pieces);
  return pieces.map((p) => (p === "BREAK" ? " " : p.text)).join("");
}

/** Expands a word used as a pattern (`case`, `${x#pat}`) into a regular-expression source matching the whole text. */
export async function expandPattern(word: Word, env: ExpandEnv, lazy = false): Promise<string> {
  const pieces: Piece[] = [];
  await collect(word.parts, false, env, pieces);
  let re = "";
  for (const p of pieces) {
    if (p === "BREAK") re += " ";
    else re += p.quoted ? escapeRe(p.text) : globToRe(p.text, lazy);
  }
  return re;
}

function ifsOf(env: ExpandEnv): string {
  return env.param("IFS") ?? DEFAULT_IFS;
}

function withTilde(parts: WordPart[], env: ExpandEnv): WordPart[] {
  const first = parts[0];
  if (first?.kind !== "lit" || first.quoted || !first.text.startsWith("~")) return parts;
  const m = /^~([^/]*)(.*)$/s.exec(first.text)!;
  if (m[1] !== "" && m[1] !== "root") return parts;
  if (m[2] === "" && parts.length > 1) return parts;
  const home = env.param("HOME") ?? "/root";
  return [{ kind: "lit", text: home, quoted: true }, { kind: "lit", text: m[2]!, quoted: false }, ...parts.slice(1)];
}

async function collect(parts: readonly WordPart[], inDq: boolean, env: ExpandEnv, out: Piece[]): Promise<void> {
  for (const p of parts) {
    switch (p.kind) {
      case "lit":
        out.push({ text: p.text, quoted: p.quoted || inDq, split: false });
        break;
      case "dq": {
        const onlyAt = p.parts.length === 1 && p.parts[0]!.kind === "param" && p.parts[0]!.name === "@" && p.parts[0]!.op === undefined;
        if (!onlyAt) out.push({ text: "", quoted: true, split: false });
        await collect(p.parts, true, env, out);
        break;
      }
      case "param": {
        if ((p.name === "@" || p.name === "*") && p.op === undefined) {
          const pos = env.positional();
          if (inDq && p.name === "@") {
            pos.forEach((v, i) => {
              if (i > 0) out.push("BREAK");
              out.push({ text: v, quoted: true, split: false });
            });
          } else if (inDq) {
            const ifs = ifsOf(env);
            out.push({ text: pos.join(ifs.slice(0, 1)), quoted: true, split: false });
          } else {
            pos.forEach((v, i) => {
              if (i > 0) out.push("BREAK");
              out.push({ text: v, quoted: false, split: true });
            });
          }
          break;
        }
        const v = await paramValue(p, env);
        out.push({ text: v, quoted: inDq, split: !inDq });
        break;
      }
      case "cmdsub": {
        const text = await env.commandSubst(p.body);
        out.push({ text, quoted: inDq, split: !inDq });
        break;
      }
      case "arith": {
        const expr = await expandString(p.expr, env);
        let v: string;
        try {
          v = evalArith(expr, { get: (n) => env.param(n), set: (n, val) => env.setVar(n, val) });
        } catch (err) {
          if (err instanceof ArithError) throw new ExpansionError(err.bash, err.busybox, { bash: 1, busybox: 2 });
          throw err;
        }
        out.push({ text: v, quoted: inDq, split: !inDq });
        break;
      }
    }
  }
}

async function paramValue(p: Extract<WordPart, { kind: "param" }>, env: ExpandEnv): Promise<string> {
  const value = env.param(p.name);
  const arg = async () => (p.arg === undefined ? "" : expandString(p.arg, env));
  const unset = value === undefined;
  const nullish = unset || value === "";
  switch (p.op) {
    case undefined:
      if (unset && env.nounset && !/^[@*]$/.test(p.name)) {
        throw new ExpansionError(`${p.name}: unbound variable`, `${p.name}: parameter not set`, { bash: 1, busybox: 2 });
      }
      return value ?? "";
    case "len":
      return String([...(value ?? "")].length);
    case ":-":
      return nullish ? arg() : value;
    case "-":
      return unset ? arg() : value;
    case ":=":
    case "=": {
      if (p.op === ":=" ? nullish : unset) {
        const v = await arg();
        env.setVar(p.name, v);
        return v;
      }
      return value ?? "";
    }
    case ":+":
      return nullish ? "" : arg();
    case "+":
      return unset ? "" : arg();
    case ":?":
    case "?":
      if (p.op === ":?" ? nullish : unset) {
        const msg = (await arg()) || (p.op === ":?" ? "parameter null or not set" : "parameter not set");
        throw new ExpansionError(`${p.name}: ${msg}`, `${p.name}: ${msg}`, { bash: 127, busybox: 2 });
      }
      return value ?? "";
    case "#":
    case "##":
    case "%":
    case "%%": {
      const v = value ?? "";
      if (p.arg === undefined) return v;
      const re = new RegExp(`^(?:${await expandPattern(p.arg, env)})$`, "s");
      const chars = [...v];
      if (p.op === "#" || p.op === "##") {
        const order = p.op === "#" ? range(0, chars.length) : range(0, chars.length).reverse();
        for (const i of order) if (re.test(chars.slice(0, i).join(""))) return chars.slice(i).join("");
      } else {
        const order = p.op === "%" ? range(0, chars.length).reverse() : range(0, chars.length);
        for (const i of order) if (re.test(chars.slice(i).join(""))) return chars.slice(0, i).join("");
      }
      return v;
    }
    case ":": {
      const v = [...(value ?? "")];
      const spec = await arg();
      const [offText, lenText] = splitOnce(spec, ":");
      const vars = { get: (n: string) => env.param(n), set: (n: string, val: string) => env.setVar(n, val) };
      let off = Number(evalArith(offText, vars));
      if (off < 0) off = Math.max(0, v.length + off);
      let end = v.length;
      if (lenText !== undefined) {
        const len = Number(evalArith(lenText, vars));
        end = len < 0 ? v.length + len : off + len;
      }
      return v.slice(off, Math.max(off, end)).join("");
    }
    case "/":
    case "//": {
      const v = value ?? "";
      if (p.arg === undefined) return v;
      // The argument is PATTERN/REPLACEMENT; split the source text at the first unescaped slash.
      const raw = p.arg.raw;
      const slash = findUnescaped(raw, "/");
      const patRaw = slash < 0 ? raw : raw.slice(0, slash);
      const repRaw = slash < 0 ? "" : raw.slice(slash + 1);
      let anchor = "";
      let pat = patRaw;
      if (pat.startsWith("#") || pat.startsWith("%")) {
        anchor = pat[0]!;
        pat = pat.slice(1);
      }
      const patRe = globToRe(await expandString(parseExpandable(pat), env), false);
      const rep = await expandString(parseExpandable(repRaw), env);
      if (patRe === "") return v;
      const re = new RegExp(anchor === "#" ? `^(?:${patRe})` : anchor === "%" ? `(?:${patRe})$` : patRe, p.op === "//" && anchor === "" ? "gs" : "s");
      return v.replace(re, () => rep);
    }
  }
}

function range(a: number, b: number): number[] {
  const out: number[] = [];
  for (let i = a; i <= b; i++) out.push(i);
  return out;
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

function findUnescaped(s: string, ch: string): number {
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "\\") i++;
    else if (s[i] === ch) return i;
  }
  return -1;
}

/** Field splitting: unquoted expansion results are cut at IFS characters. */
function split(pieces: Piece[], ifs: string): Seg[][] {
  const white = new Set<string>([...ifs].filter((c) => c === " " || c === "\t" || c === "\n"));
  const other = new Set([...ifs].filter((c) => !white.has(c)));
  const fields: Seg[][] = [];
  let cur: Seg[] = [];
  let has = false;
  let pendingBreak = false;
  const finish = (force: boolean) => {
    if (has || force) fields.push(cur);
    cur = [];
    has = false;
  };
  for (const p of pieces) {
    if (p === "BREAK") {
      finish(true);
      pendingBreak = false;
      continue;
    }
    if (!p.split || ifs === "") {
      if (pendingBreak && has) finish(false);
      pendingBreak = false;
      cur.push({ text: p.text, quoted: p.quoted, split: false });
      if (p.quoted || p.text !== "") has = true;
      continue;
    }
    let text = "";
    const flushText = () => {
      if (text !== "") {
        cur.push({ text, quoted: false, split: true });
        has = true;
      }
      text = "";
    };
    for (const c of p.text) {
      if (white.has(c)) {
        flushText();
        pendingBreak = true;
      } else if (other.has(c)) {
        flushText();
        finish(true);
        pendingBreak = false;
      } else {
        if (pendingBreak && has) {
          flushText();
          finish(false);
        }
        pendingBreak = false;
        text += c;
      }
    }
    flushText();
  }
  finish(false);
  return fields;
}

/** Pathname expansion of one field over the Vfs; sorted matches, or none. */
function glob(field: Seg[], env: ExpandEnv): string[] {
  // Characters with their quotedness, split into path components.
  const chars: Array<{ c: string; q: boolean }> = [];
  for (const s of field) for (const c of s.text) chars.push({ c, q: s.quoted });
  const comps: Array<Array<{ c: string; q: boolean }>> = [[]];
  for (const ch of chars) {
    if (ch.c === "/") comps.push([]);
    else comps[comps.length - 1]!.push(ch);
  }
  const absolute = chars[0]?.c === "/";
  let results: Array<{ shown: string; abs: string }> = [{ shown: absolute ? "/" : "", abs: absolute ? "/" : env.cwd }];
  const parts = absolute ? comps.slice(1) : comps;
  for (let ci = 0; ci < parts.length; ci++) {
    const comp = parts[ci]!;
    const last = ci === parts.length - 1;
    const magic = comp.some((ch) => !ch.q && /[*?[]/.test(ch.c));
    const next: Array<{ shown: string; abs: string }> = [];
    for (const r of results) {
      const join = (name: string) => ({
        shown: r.shown === "" ? name : r.shown.endsWith("/") ? r.shown + name : `${r.shown}/${name}`,
        abs: r.abs.endsWith("/") ? r.abs + name : `${r.abs}/${name}`,
      });
      if (!magic) {
        const name = comp.map((ch) => ch.c).join("");
        if (name === "" && last) {
          next.push({ shown: r.shown.endsWith("/") ? r.shown : `${r.shown}/`, abs: r.abs });
          continue;
        }
        const j = join(name);
        if (env.exists(j.abs)) next.push(j);
        continue;
      }
      const names = env.listDir(r.abs);
      if (names === undefined) continue;
      let src = "";
      for (const ch of comp) src += ch.q ? escapeRe(ch.c) : ch.c;
      const re = new RegExp(`^(?:${globToRe(src, false, true)})$`, "s");
      const dotOk = comp[0]?.c === ".";
      for (const n of names) if ((dotOk || !n.startsWith(".")) && re.test(n)) next.push(join(n));
    }
    results = next;
    if (results.length === 0) return [];
  }
  return results.map((r) => r.shown).sort();
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/**
 * A shell pattern as a regular expression: `*`, `?`, `[…]` (with `!` or `^`),
 * backslash escapes. With `preEscaped`, quoted characters arrive already
 * escaped as regular-expression text.
 */
export function globToRe(pat: string, lazy: boolean, preEscaped = false): string {
  let re = "";
  for (let i = 0; i < pat.length; i++) {
    const c = pat[i]!;
    if (c === "\\" && i + 1 < pat.length) {
      re += preEscaped ? `\\${pat[i + 1]}` : escapeRe(pat[i + 1]!);
      i++;
    } else if (c === "*") re += lazy ? ".*?" : ".*";
    else if (c === "?") re += ".";
    else if (c === "[") {
      const end = bracketEnd(pat, i);
      if (end < 0) {
        re += "\\[";
        continue;
      }
      let body = pat.slice(i + 1, end);
      if (body.startsWith("!") || body.startsWith("^")) body = `^${body.slice(1)}`;
      body = body.replace(/\[:(\w+):\]/g, (_m, cls: string) => CLASSES[cls] ?? "");
      re += `[${body.replace(/\\(?![\]\-^\\])/g, "\\\\")}]`;
      i = end;
    } else re += escapeRe(c);
  }
  return re;
}

/** Index of the `]` that closes the bracket expression opening at `start`, or -1. */
function bracketEnd(pat: string, start: number): number {
  let i = start + 1;
  if (pat[i] === "!" || pat[i] === "^") i++;
  if (pat[i] === "]") i++;
  for (; i < pat.length; i++) {
    if (pat.startsWith("[:", i)) {
      const close = pat.indexOf(":]", i + 2);
      if (close < 0) return -1;
      i = close + 1;
    } else if (pat[i] === "]") return i;
  }
  return -1;
}

const CLASSES: Record<string, string> = {
  alpha: "A-Za-z",
  digit: "0-9",
  alnum: "A-Za-z0-9",
  upper: "A-Z",
  lower: "a-z",
  space: " \\t\\n\\r\\f\\v",
  xdigit: "0-9A-Fa-f",
  punct: "!-/:-@\\[-`{-~",
};
