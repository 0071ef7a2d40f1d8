/**
 * YAML and JSON text of API objects exactly as kubectl prints them: YAML as
 * sigs.k8s.io/yaml + go-yaml v2 emit it (keys in go-yaml's order, sequences
 * not indented under their key, strings quoted when they would read back as
 * another type, long strings folded past column 80, multi-line strings as
 * literal blocks), JSON as Go's json.MarshalIndent with four spaces.
 */

const BEST_WIDTH = 80;

/** The YAML text of a JSON-like value, ending in a newline. */
export function toYaml(value: unknown): string {
  const w = new Emitter();
  const v = plain(value);
  if (isMap(v)) {
    if (Object.keys(v).length === 0) w.write("{}");
    else w.mapping(v, 0, false);
  } else if (Array.isArray(v)) {
    if (v.length === 0) w.write("[]");
    else w.sequence(v, 0, false);
  } else {
    w.scalar(v, 0, false);
  }
  return `${w.text}\n`;
}

/** The JSON text of a value as kubectl -o json prints it (4-space indent, sorted keys, HTML-safe escapes), ending in a newline. */
export function toJson(value: unknown): string {
  return `${goJson(value, "    ")}\n`;
}

/** Compact JSON as Go's json.Marshal writes a map[string]interface{}: sorted keys, HTML characters escaped. */
export function toCompactJson(value: unknown): string {
  return goJson(value, "");
}

function goJson(value: unknown, indent: string): string {
  const text = JSON.stringify(sortKeys(plain(value)), null, indent === "" ? undefined : indent) ?? "null";
  return text.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isMap(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort(byteOrder)) out[k] = sortKeys(v[k]);
    return out;
  }
  return v;
}

function byteOrder(a: string, b: string): number {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return Buffer.compare(ab, bb);
}

/** A deep copy with only JSON values (undefined fields dropped). */
export function plain<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** go-yaml v2's key order: letters after other characters, runs of digits compared as numbers. */
export function goYamlKeyLess(a: string, b: string): boolean {
  const ar = [...a];
  const br = [...b];
  for (let i = 0; i < ar.length && i < br.length; i++) {
    if (ar[i] === br[i]) continue;
    const al = isLetter(ar[i]!);
    const bl = isLetter(br[i]!);
    if (al && bl) return ar[i]!.codePointAt(0)! < br[i]!.codePointAt(0)!;
    if (al || bl) return bl;
    let an = 0;
    let bn = 0;
    if (ar[i] === "0" || br[i] === "0") {
      for (let j = i - 1; j >= 0 && isDigit(ar[j]!); j--) {
        if (ar[j] !== "0") {
          an = 1;
          bn = 1;
          break;
        }
      }
    }
    let ai = i;
    let bi = i;
    for (; ai < ar.length && isDigit(ar[ai]!); ai++) an = an * 10 + Number(ar[ai]);
    for (; bi < br.length && isDigit(br[bi]!); bi++) bn = bn * 10 + Number(br[bi]);
    if (an !== bn) return an < bn;
    if (ai !== bi) return ai < bi;
    return ar[i]!.codePointAt(0)! < br[i]!.codePointAt(0)!;
  }
  return ar.length < br.length;
}

function isLetter(c: string): boolean {
  return /\p{L}/u.test(c);
}
function isDigit(c: string): boolean {
  return /\p{Nd}/u.test(c);
}

class Emitter {
  text = "";
  column = 0;

  write(s: string): void {
    const nl = s.lastIndexOf("\n");
    if (nl >= 0) this.column = width(s.slice(nl + 1));
    else this.column += width(s);
    this.text += s;
  }

  newline(indent: number): void {
    this.write(`\n${" ".repeat(indent)}`);
  }

  /** A block mapping whose keys sit at column `indent`; `inline`: the first key follows on the current line. */
  mapping(m: Record<string, unknown>, indent: number, inline: boolean): void {
    const keys = Object.keys(m).sort((a, b) => (goYamlKeyLess(a, b) ? -1 : goYamlKeyLess(b, a) ? 1 : 0));
    keys.forEach((k, i) => {
      if (i > 0 || !inline) {
        if (this.text !== "" || i > 0) this.newline(indent);
        else this.write(" ".repeat(indent));
      }
      this.key(k);
      this.write(":");
      this.value(m[k], indent);
    });
  }

  /** A block sequence whose dashes sit at column `indent`. */
  sequence(s: unknown[], indent: number, inline: boolean): void {
    s.forEach((item, i) => {
      if (i > 0 || !inline) {
        if (this.text !== "" || i > 0) this.newline(indent);
        else this.write(" ".repeat(indent));
      }
      this.write("-");
      if (isMap(item) && Object.keys(item).length > 0) {
        this.write(" ");
        this.mapping(item, indent + 2, true);
      } else if (Array.isArray(item) && item.length > 0) {
        this.write(" ");
        this.sequence(item, indent + 2, true);
      } else {
        this.value(item, indent);
      }
    });
  }

  /** What follows `key:` or `-` of an entry at column `indent`. */
  value(v: unknown, indent: number): void {
    if (isMap(v)) {
      if (Object.keys(v).length === 0) this.write(" {}");
      else this.mapping(v, indent + 2, false);
    } else if (Array.isArray(v)) {
      if (v.length === 0) this.write(" []");
      // go-yaml writes a sequence in a mapping without indenting it
      else this.sequence(v, indent, false);
    } else {
      this.write(" ");
      this.scalar(v, indent + 2, true);
    }
  }

  key(k: string): void {
    const style = stringStyle(k, true);
    this.write(style === "plain" ? k : style === "single" ? singleQuoted(k) : doubleQuotedPlain(k));
  }

  /** A scalar; continuation lines (folding, block scalars) are indented to `indent`. */
  scalar(v: unknown, indent: number, allowBreaks: boolean): void {
    if (v === null || v === undefined) return this.write("null");
    if (typeof v === "boolean") return this.write(v ? "true" : "false");
    if (typeof v === "number") return this.write(formatNumber(v));
    const s = String(v);
    const style = stringStyle(s, false);
    if (style === "plain") this.plainScalar(s, indent, allowBreaks);
    else if (style === "single") this.singleScalar(s, indent, allowBreaks);
    else if (style === "literal") this.literalScalar(s, indent);
    else this.doubleScalar(s, indent, allowBreaks);
  }

  plainScalar(s: string, indent: number, allowBreaks: boolean): void {
    const chars = [...s];
    let spaces = false;
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i]!;
      if (c === " ") {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && chars[i + 1] !== " ") this.newline(indent);
        else this.write(c);
        spaces = true;
      } else {
        this.write(c);
        spaces = false;
      }
    }
  }

  singleScalar(s: string, indent: number, allowBreaks: boolean): void {
    this.write("'");
    const chars = [...s];
    let spaces = false;
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i]!;
      if (c === " ") {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && i > 0 && i < chars.length - 1 && chars[i + 1] !== " ") {
          this.newline(indent);
        } else this.write(c);
        spaces = true;
      } else {
        this.write(c === "'" ? "''" : c);
        spaces = false;
      }
    }
    this.write("'");
  }

  doubleScalar(s: string, indent: number, allowBreaks: boolean): void {
    this.write('"');
    const chars = [...s];
    let spaces = false;
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i]!;
      if (c === " ") {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && i !== 0 && i !== chars.length - 1) {
          this.newline(indent);
          if (chars[i + 1] === " ") this.write("\\");
        } else this.write(c);
        spaces = true;
      } else {
        this.write(escapeDouble(c));
        spaces = false;
      }
    }
    this.write('"');
  }

  literalScalar(s: string, indent: number): void {
    let hints = "";
    if (s.startsWith(" ") || isBreak(s[0] ?? "")) hints += "2";
    if (!s.endsWith("\n")) hints += "-";
    else if (s.length === 1 || isBreak(s[s.length - 2]!)) hints += "+";
    this.write(`|${hints}`);
    const body = s.endsWith("\n") ? s.slice(0, -1) : s;
    for (const line of body.split("\n")) {
      if (line === "") this.write("\n");
      else this.newline(indent), this.write(line);
    }
  }
}

function width(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return ".nan";
  if (n === Infinity) return ".inf";
  if (n === -Infinity) return "-.inf";
  return String(n);
}

function isBreak(c: string): boolean {
  return c === "\n" || c === "\r" || c === "\u0085" || c === "\u2028" || c === "\u2029";
}

function isPrintable(c: string): boolean {
  const cp = c.codePointAt(0)!;
  return (
    cp === 0x0a ||
    (cp >= 0x20 && cp <= 0x7e) ||
    cp === 0x85 ||
    (cp >= 0xa0 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd && cp !== 0xfeff) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

type Style = "plain" | "single" | "double" | "literal";

/** The style go-yaml v2 picks for a string (as a key, or as a value in block context). */
function stringStyle(s: string, isKey: boolean): Style {
  const canUsePlain = resolvesToString(s) && !isBase60Float(s);
  const a = analyze(s);
  let style: Style = s.includes("\n") ? "literal" : canUsePlain ? "plain" : "double";
  if (isKey && a.multiline) return "double";
  if (style === "plain") {
    if (!a.blockPlainAllowed) style = "single";
    if (s === "" && isKey) style = "single";
  }
  if (style === "single" && !a.singleQuotedAllowed) style = "double";
  if (style === "literal" && (!a.blockAllowed || isKey)) style = "double";
  return style;
}

function analyze(value: string): { multiline: boolean; blockPlainAllowed: boolean; singleQuotedAllowed: boolean; blockAllowed: boolean } {
  let blockIndicators = false;
  let special = false;
  let lineBreaks = false;
  let leadingSpace = false;
  let leadingBreak = false;
  let trailingSpace = false;
  let trailingBreak = false;
  let breakSpace = false;
  let spaceBreak = false;
  let previousSpace = false;
  let previousBreak = false;
  if (value === "") return { multiline: false, blockPlainAllowed: false, singleQuotedAllowed: true, blockAllowed: false };
  if (value.startsWith("---") || value.startsWith("...")) blockIndicators = true;
  const chars = [...value];
  let precededByWhitespace = true;
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    const next = chars[i + 1];
    const followedByWhitespace = next === undefined || next === " " || next === "\t";
    if (i === 0) {
      if ("#,[]{}&*!|>'\"%@`".includes(c)) blockIndicators = true;
      else if ((c === "?" || c === ":") && followedByWhitespace) blockIndicators = true;
      else if (c === "-" && followedByWhitespace) blockIndicators = true;
    } else if (c === ":" && followedByWhitespace) blockIndicators = true;
    else if (c === "#" && precededByWhitespace) blockIndicators = true;
    if (!isPrintable(c)) special = true;
    if (c === " ") {
      if (i === 0) leadingSpace = true;
      if (i === chars.length - 1) trailingSpace = true;
      if (previousBreak) breakSpace = true;
      previousSpace = true;
      previousBreak = false;
    } else if (isBreak(c)) {
      lineBreaks = true;
      if (i === 0) leadingBreak = true;
      if (i === chars.length - 1) trailingBreak = true;
      if (previousSpace) spaceBreak = true;
      previousSpace = false;
      previousBreak = true;
    } else {
      previousSpace = false;
      previousBreak = false;
    }
    precededByWhitespace = c === " " || c === "\t" || isBreak(c) || c === "\0";
  }
  let blockPlainAllowed = true;
  let singleQuotedAllowed = true;
  let blockAllowed = true;
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) blockPlainAllowed = false;
  if (trailingSpace) blockAllowed = false;
  if (breakSpace) {
    blockPlainAllowed = false;
    singleQuotedAllowed = false;
  }
  if (spaceBreak || special) {
    blockPlainAllowed = false;
    singleQuotedAllowed = false;
    blockAllowed = false;
  }
  if (lineBreaks) blockPlainAllowed = false;
  if (blockIndicators) blockPlainAllowed = false;
  return { multiline: lineBreaks, blockPlainAllowed, singleQuotedAllowed, blockAllowed };
}

const RESOLVE_MAP = new Set([
  "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
  "true", "True", "TRUE", "false", "False", "FALSE",
  "on", "On", "ON", "off", "Off", "OFF",
  "", "~", "null", "Null", "NULL",
  ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
  "<<",
]);

/** Whether go-yaml v2 would read the plain text `s` back as a string (not a bool, number, null or timestamp). */
function resolvesToString(s: string): boolean {
  if (RESOLVE_MAP.has(s)) return false;
  const c = s[0]!;
  if (c === ".") return !isGoFloat(s);
  if (!/[0-9+-]/.test(c)) return true;
  if (/[0-9]/.test(c) && isTimestamp(s)) return false;
  const p = s.replaceAll("_", "");
  if (isGoInt(p)) return false;
  if (/^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(p)) return false;
  if (/^-?0b[01]+$/.test(p)) return false;
  return true;
}

function isGoInt(p: string): boolean {
  return /^[-+]?(0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|[1-9][0-9]*|0)$/.test(p);
}

function isGoFloat(s: string): boolean {
  return /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(s) || /^[-+]?(inf|infinity|nan)$/i.test(s);
}

function isTimestamp(s: string): boolean {
  return /^\d{4}-\d{1,2}-\d{1,2}(?:(?:[Tt]|[ \t]+)\d{1,2}:\d{1,2}:\d{1,2}(?:\.\d+)?(?:[ \t]*(?:Z|[-+]\d{1,2}(?::\d{2})?))?)?$/.test(s);
}

function isBase60Float(s: string): boolean {
  return /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/.test(s);
}

function singleQuoted(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

function doubleQuotedPlain(s: string): string {
  return `"${[...s].map(escapeDouble).join("")}"`;
}

function escapeDouble(c: string): string {
  switch (c) {
    case "\0": return "\\0";
    case "\x07": return "\\a";
    case "\b": return "\\b";
    case "\t": return "\\t";
    case "\n": return "\\n";
    case "\v": return "\\v";
    case "\f": return "\\f";
    case "\r": return "\\r";
    case "\x1b": return "\\e";
    case '"': return '\\"';
    case "\\": return "\\\\";
    case "\u0085": return "\\N";
    case "\u00a0": return "\\_";
    case "\u2028": return "\\L";
    case "\u2029": return "\\P";
  }
  if (isPrintable(c) && c !== "\ufeff") return c;
  const cp = c.codePointAt(0)!;
  if (cp <= 0xff) return `\\x${cp.toString(16).toUpperCase().padStart(2, "0")}`;
  if (cp <= 0xffff) return `\\u${cp.toString(16).toUpperCase().padStart(4, "0")}`;
  return `\\U${cp.toString(16).toUpperCase().padStart(8, "0")}`;
}
