/**
 * `echo` and `printf` formatting, shared by the shell's builtins and the
 * external commands of both userlands. Only text is computed here; callers
 * word the errors as their tool does.
 */

/**
 * What `echo ARGS…` prints (bash/busybox rules: options -n -e -E only while
 * every letter is one of them; escapes only with -e).
 */
export function echoText(args: readonly string[]): string {
  let newline = true;
  let escapes = false;
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (!/^-[neE]+$/.test(a)) break;
    for (const c of a.slice(1)) {
      if (c === "n") newline = false;
      else if (c === "e") escapes = true;
      else escapes = false;
    }
  }
  let out = args.slice(i).join(" ");
  if (escapes) {
    const r = expandEscapes(out, true);
    out = r.text;
    if (r.stop) return out;
  }
  return newline ? `${out}\n` : out;
}

/**
 * Expands backslash escapes as `echo -e` and printf's `%b` do (`\0NNN` octal);
 * with `echoStyle` false it is printf's format-string flavour (`\NNN` octal).
 * `stop` is true at `\c`: print nothing more.
 */
export function expandEscapes(s: string, echoStyle: boolean): { text: string; stop: boolean } {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== "\\" || i + 1 >= s.length) {
      out += c;
      continue;
    }
    const n = s[i + 1]!;
    const simple: Record<string, string> = {
      a: "\x07",
      b: "\b",
      e: "\x1b",
      E: "\x1b",
      f: "\f",
      n: "\n",
      r: "\r",
      t: "\t",
      v: "\v",
      "\\": "\\",
    };
    if (!echoStyle) {
      simple['"'] = '"';
      simple["'"] = "'";
    }
    if (simple[n] !== undefined) {
      out += simple[n];
      i++;
      continue;
    }
    if (n === "c") return { text: out, stop: true };
    if (n === "x") {
      const m = /^[0-9A-Fa-f]{1,2}/.exec(s.slice(i + 2));
      if (m) {
        out += String.fromCharCode(parseInt(m[0], 16));
        i += 1 + m[0].length;
        continue;
      }
    }
    if (echoStyle && n === "0") {
      const m = /^[0-7]{0,3}/.exec(s.slice(i + 2))!;
      out += String.fromCharCode(parseInt(m[0] || "0", 8));
      i += 1 + m[0].length;
      continue;
    }
    if (!echoStyle && /[0-7]/.test(n)) {
      const m = /^[0-7]{1,3}/.exec(s.slice(i + 1))!;
      out += String.fromCharCode(parseInt(m[0], 8));
      i += m[0].length;
      continue;
    }
    out += c;
  }
  return { text: out, stop: false };
}

/** A problem printf met; callers word it (`printf: abc: invalid number` in bash). */
export interface PrintfIssue {
  kind: "invalid-number" | "partial-number" | "missing-format" | "bad-conversion";
  arg: string;
}

/** The output of one printf call, and what went wrong on the way (exit 1 if anything). */
export interface PrintfResult {
  out: string;
  issues: PrintfIssue[];
}

/**
 * Formats like printf(1): `%s %d %i %u %x %X %o %c %e %f %g %b %%` with flags,
 * width and precision (`*` too); the format is reused while arguments remain.
 *
 * ```ts
 * formatPrintf("%s=%d\n", ["a", "1", "b", "2"]).out; // "a=1\nb=2\n"
 * ```
 */
export function formatPrintf(format: string, args: readonly string[]): PrintfResult {
  const issues: PrintfIssue[] = [];
  let out = "";
  let ai = 0;
  const nextArg = (): string | undefined => (ai < args.length ? args[ai++] : undefined);
  for (;;) {
    const startAi = ai;
    let consumed = false;
    let i = 0;
    while (i < format.length) {
      const c = format[i]!;
      if (c === "\\") {
        const { text, len, stop } = oneEscape(format, i);
        if (stop) return { out, issues };
        out += text;
        i += len;
        continue;
      }
      if (c !== "%") {
        out += c;
        i++;
        continue;
      }
      if (format[i + 1] === "%") {
        out += "%";
        i += 2;
        continue;
      }
      const m = /^%([-+ #0]*)(\*|\d+)?(?:\.(\*|\d*))?([diouxXcsbeEfFgG])/.exec(format.slice(i));
      if (m === null) {
        issues.push({ kind: "bad-conversion", arg: format.slice(i, i + 2) });
        out += format.slice(i);
        return { out, issues };
      }
      i += m[0].length;
      const flags = m[1]!;
      let width: number | undefined;
      let prec: number | undefined;
      if (m[2] === "*") {
        const a = nextArg();
        consumed = true;
        width = Number(toInt(a ?? "0", issues));
      } else if (m[2] !== undefined) width = Number(m[2]);
      if (m[3] === "*") {
        const a = nextArg();
        consumed = true;
        prec = Number(toInt(a ?? "0", issues));
      } else if (m[3] !== undefined) prec = Number(m[3] || "0");
      let leftAlign = flags.includes("-");
      if (width !== undefined && width < 0) {
        leftAlign = true;
        width = -width;
      }
      const conv = m[4]!;
      const raw = nextArg();
      if (raw !== undefined) consumed = true;
      let body: string;
      let numeric = false;
      switch (conv) {
        case "s":
          body = raw ?? "";
          if (prec !== undefined) body = body.slice(0, prec);
          break;
        case "b": {
          const r = expandEscapes(raw ?? "", true);
          body = r.text;
          if (prec !== undefined) body = body.slice(0, prec);
          if (r.stop) {
            out += pad(body, width, leftAlign, " ");
            return { out, issues };
          }
          break;
        }
        case "c":
          body = (raw ?? "").slice(0, 1);
          break;
        case "d":
        case "i":
        case "u":
        case "o":
        case "x":
        case "X": {
          numeric = true;
          let v = toInt(raw ?? "0", issues);
          if (conv === "u" && v < 0n) v = BigInt.asUintN(64, v);
          let digits: string;
          const neg = v < 0n && (conv === "d" || conv === "i");
          const abs = neg ? -v : conv === "d" || conv === "i" ? v : BigInt.asUintN(64, v);
          if (conv === "o") digits = abs.toString(8);
          else if (conv === "x") digits = abs.toString(16);
          else if (conv === "X") digits = abs.toString(16).toUpperCase();
          else digits = abs.toString();
          if (prec !== undefined) digits = digits.padStart(prec, "0");
          if (flags.includes("#") && abs !== 0n) {
            if (conv === "o" && !digits.startsWith("0")) digits = `0${digits}`;
            if (conv === "x") digits = `0x${digits}`;
            if (conv === "X") digits = `0X${digits}`;
          }
          const sign = neg ? "-" : flags.includes("+") ? "+" : flags.includes(" ") ? " " : "";
          body = signedPad(sign, digits, width, leftAlign, flags.includes("0") && prec === undefined);
          break;
        }
        default: {
          numeric = true;
          const v = toFloat(raw ?? "0", issues);
          const p = prec ?? 6;
          let digits: string;
          const abs = Math.abs(v);
          if (conv === "f" || conv === "F") digits = abs.toFixed(p);
          else if (conv === "e" || conv === "E") digits = expFormat(abs, p, conv === "E");
          else digits = gFormat(abs, p === 0 ? 1 : p, conv === "G", flags.includes("#"));
          const sign = v < 0 || Object.is(v, -0) ? "-" : flags.includes("+") ? "+" : flags.includes(" ") ? " " : "";
          body = signedPad(sign, digits, width, leftAlign, flags.includes("0"));
        }
      }
      out += numeric ? body : pad(body, width, leftAlign, " ");
    }
    if (!consumed || ai >= args.length || ai === startAi) break;
  }
  return { out, issues };
}

function oneEscape(s: string, i: number): { text: string; len: number; stop: boolean } {
  const n = s[i + 1];
  if (n === undefined) return { text: "\\", len: 1, stop: false };
  if (n === "c") return { text: "", len: 2, stop: true };
  if (/[0-7]/.test(n)) {
    const m = /^[0-7]{1,3}/.exec(s.slice(i + 1))!;
    return { text: String.fromCharCode(parseInt(m[0], 8)), len: 1 + m[0].length, stop: false };
  }
  if (n === "x") {
    const m = /^[0-9A-Fa-f]{1,2}/.exec(s.slice(i + 2));
    if (m) return { text: String.fromCharCode(parseInt(m[0], 16)), len: 2 + m[0].length, stop: false };
  }
  const r = expandEscapes(s.slice(i, i + 2), false);
  return { text: r.text, len: 2, stop: false };
}

function pad(s: string, width: number | undefined, left: boolean, fill: string): string {
  if (width === undefined || s.length >= width) return s;
  return left ? s.padEnd(width, " ") : s.padStart(width, fill);
}

function signedPad(sign: string, digits: string, width: number | undefined, left: boolean, zero: boolean): string {
  const s = sign + digits;
  if (width === undefined || s.length >= width) return s;
  if (left) return s.padEnd(width, " ");
  if (zero) return sign + digits.padStart(width - sign.length, "0");
  return s.padStart(width, " ");
}

/** Parses a printf numeric argument: decimal, 0x hex, 0 octal, or 'c for a character code. */
function toInt(raw: string, issues: PrintfIssue[]): bigint {
  const s = raw.trim();
  if (/^['"]/.test(s)) return BigInt(s.codePointAt(1) ?? 0);
  const m = /^[+-]?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)/.exec(s);
  if (m === null) {
    if (s !== "") issues.push({ kind: "invalid-number", arg: raw });
    return 0n;
  }
  if (m[0].length !== s.length) issues.push({ kind: "partial-number", arg: raw });
  const neg = m[0].startsWith("-");
  const body = m[1]!;
  let v: bigint;
  if (/^0[xX]/.test(body)) v = BigInt(body);
  else if (body.length > 1 && body.startsWith("0")) v = BigInt(`0o${body.slice(1)}`);
  else v = BigInt(body);
  return neg ? -v : v;
}

function toFloat(raw: string, issues: PrintfIssue[]): number {
  const s = raw.trim();
  if (/^['"]/.test(s)) return s.codePointAt(1) ?? 0;
  const m = /^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|inf|infinity|nan)/i.exec(s);
  if (m === null) {
    if (s !== "") issues.push({ kind: "invalid-number", arg: raw });
    return 0;
  }
  if (m[0].length !== s.length) issues.push({ kind: "partial-number", arg: raw });
  return Number(m[0].replace(/^([+-]?)inf(inity)?$/i, "$1Infinity"));
}

function expFormat(v: number, p: number, upper: boolean): string {
  const s = v.toExponential(p).replace(/e([+-])(\d)$/, "e$10$2");
  return upper ? s.toUpperCase() : s;
}

function gFormat(v: number, p: number, upper: boolean, alt: boolean): string {
  if (v === 0) return "0";
  const exp = Math.floor(Math.log10(v));
  let s: string;
  if (exp < -4 || exp >= p) {
    s = v.toExponential(p - 1);
    if (!alt) s = s.replace(/\.?0+e/, "e");
    s = s.replace(/e([+-])(\d)$/, "e$10$2");
  } else {
    s = v.toFixed(Math.max(0, p - 1 - exp));
    if (!alt && s.includes(".")) s = s.replace(/\.?0+$/, "");
  }
  return upper ? s.toUpperCase() : s;
}
