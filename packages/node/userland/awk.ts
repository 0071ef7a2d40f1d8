/**
 * A small awk: patterns (`/re/`, expressions, BEGIN/END, ranges), actions
 * with print/printf, variables and associative arrays, if/while/for,
 * fields (`$N`, NF, NR, FS, OFS), and the common string functions —
 * enough for the one-liners used in pipelines (`awk '{print $1}'`).
 */
import type { Command, ProcessContext } from "../process.ts";
import { VfsError } from "../vfs.ts";
import { formatPrintf } from "./echo_printf.ts";
import { badUsage, isOptError, killedStatus, linesOf, parseOpts, readLineAbortable, resolvePath } from "./_tool.ts";
import { posixToJs, RegexError } from "./grep.ts";

/** A syntax error in the program text. */
export class AwkSyntaxError extends Error {
  override readonly name = "AwkSyntaxError";
  constructor(
    message: string,
    readonly line: number,
    readonly near: string,
  ) {
    super(message);
  }
}

// ---- values ----

/** Text that came from input: compares as a number when it looks like one. */
class StrNum {
  constructor(readonly s: string) {}
}
type Val = number | string | StrNum;

const NUMERIC = /^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$/;

function toNum(v: Val): number {
  if (typeof v === "number") return v;
  const s = typeof v === "string" ? v : v.s;
  const m = /^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/.exec(s);
  return m === null ? 0 : Number(m[0]);
}

function numToStr(n: number, fmt: string): string {
  if (Number.isInteger(n)) return String(n);
  if (!Number.isFinite(n)) return n > 0 ? "inf" : n < 0 ? "-inf" : "nan";
  return formatPrintf(fmt, [String(n)]).out;
}

function toStr(v: Val, fmt = "%.6g"): string {
  if (typeof v === "number") return numToStr(v, fmt);
  return typeof v === "string" ? v : v.s;
}

function truthy(v: Val): boolean {
  if (typeof v === "number") return v !== 0;
  if (typeof v === "string") return v !== "";
  return NUMERIC.test(v.s) ? toNum(v) !== 0 : v.s !== "";
}

function compare(a: Val, b: Val): number {
  const numeric = (v: Val) => typeof v === "number" || (v instanceof StrNum && (NUMERIC.test(v.s) || v.s === ""));
  if (numeric(a) && numeric(b)) {
    const x = toNum(a);
    const y = toNum(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const x = toStr(a);
  const y = toStr(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

// ---- syntax ----

type Expr =
  | { k: "num"; v: number }
  | { k: "str"; v: string }
  | { k: "re"; src: string }
  | { k: "var"; name: string }
  | { k: "field"; index: Expr }
  | { k: "index"; name: string; subs: Expr[] }
  | { k: "assign"; op: string; target: Expr; value: Expr }
  | { k: "cond"; test: Expr; a: Expr; b: Expr }
  | { k: "bin"; op: string; a: Expr; b: Expr }
  | { k: "un"; op: string; a: Expr }
  | { k: "incdec"; op: "++" | "--"; prefix: boolean; target: Expr }
  | { k: "match"; negate: boolean; a: Expr; re: Expr }
  | { k: "in"; subs: Expr[]; name: string }
  | { k: "call"; name: string; args: Expr[] }
  | { k: "group"; e: Expr }
  | { k: "getline"; target: Expr | undefined };

type Stmt =
  | { k: "expr"; e: Expr }
  | { k: "print"; args: Expr[]; dest: { mode: ">" | ">>" | "|"; e: Expr } | undefined }
  | { k: "printf"; args: Expr[]; dest: { mode: ">" | ">>" | "|"; e: Expr } | undefined }
  | { k: "if"; test: Expr; then: Stmt; else: Stmt | undefined }
  | { k: "while"; test: Expr; body: Stmt }
  | { k: "do"; body: Stmt; test: Expr }
  | { k: "for"; init: Stmt | undefined; test: Expr | undefined; step: Stmt | undefined; body: Stmt }
  | { k: "forin"; name: string; array: string; body: Stmt }
  | { k: "block"; body: Stmt[] }
  | { k: "next" }
  | { k: "exit"; e: Expr | undefined }
  | { k: "return"; e: Expr | undefined }
  | { k: "break" }
  | { k: "continue" }
  | { k: "delete"; name: string; subs: Expr[] | undefined };

interface Item {
  kind: "begin" | "end" | "main";
  pattern: Expr | undefined;
  range: Expr | undefined;
  action: Stmt[] | undefined;
}

interface Func {
  params: string[];
  body: Stmt[];
}

type Tok = { t: "num"; v: number } | { t: "str"; v: string } | { t: "re"; v: string } | { t: "name"; v: string } | { t: "func"; v: string } | { t: "op"; v: string } | { t: "nl" } | { t: "eof" };

const BUILTIN_FUNCS = new Set(["length", "substr", "index", "split", "sub", "gsub", "match", "sprintf", "toupper", "tolower", "int", "sqrt", "exp", "log", "sin", "cos", "atan2", "rand", "srand", "system", "close", "fflush"]);
const KEYWORDS = new Set(["BEGIN", "END", "function", "func", "if", "else", "while", "for", "do", "break", "continue", "next", "exit", "return", "delete", "in", "getline", "print", "printf"]);

class Lexer {
  i = 0;
  line = 1;
  toks: Array<Tok & { line: number }> = [];
  constructor(readonly src: string) {}

  /** The tokens; a `/` starts a regex where an operand is expected. */
  run(): Array<Tok & { line: number }> {
    const s = this.src;
    const push = (t: Tok) => this.toks.push({ ...t, line: this.line });
    while (this.i < s.length) {
      const c = s[this.i]!;
      if (c === " " || c === "\t" || c === "\r") {
        this.i++;
        continue;
      }
      if (c === "\\" && s[this.i + 1] === "\n") {
        this.i += 2;
        this.line++;
        continue;
      }
      if (c === "#") {
        while (this.i < s.length && s[this.i] !== "\n") this.i++;
        continue;
      }
      if (c === "\n") {
        push({ t: "nl" });
        this.i++;
        this.line++;
        continue;
      }
      if (/[0-9.]/.test(c) && /^(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/.test(s.slice(this.i))) {
        const m = /^(0[xX][0-9a-fA-F]+|(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)/.exec(s.slice(this.i))!;
        push({ t: "num", v: Number(m[0]) });
        this.i += m[0].length;
        continue;
      }
      if (/[A-Za-z_]/.test(c)) {
        const m = /^[A-Za-z_]\w*/.exec(s.slice(this.i))!;
        this.i += m[0].length;
        const name = m[0];
        if (KEYWORDS.has(name)) push({ t: "op", v: name });
        else if (BUILTIN_FUNCS.has(name) || s[this.i] === "(") push({ t: "func", v: name });
        else push({ t: "name", v: name });
        continue;
      }
      if (c === '"') {
        let v = "";
        this.i++;
        for (;;) {
          if (this.i >= s.length || s[this.i] === "\n") throw new AwkSyntaxError("runaway string constant", this.line, `"${v}`);
          const ch = s[this.i]!;
          if (ch === '"') break;
          if (ch === "\\" && this.i + 1 < s.length) {
            const n = s[this.i + 1]!;
            const map: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\", '"': '"', "/": "/", a: "\x07", b: "\b", f: "\f", v: "\v" };
            if (/[0-7]/.test(n)) {
              const om = /^[0-7]{1,3}/.exec(s.slice(this.i + 1))!;
              v += String.fromCharCode(parseInt(om[0], 8));
              this.i += 1 + om[0].length;
              continue;
            }
            v += map[n] ?? `\\${n}`;
            this.i += 2;
            continue;
          }
          v += ch;
          this.i++;
        }
        this.i++;
        push({ t: "str", v });
        continue;
      }
      if (c === "/" && this.#operandExpected()) {
        let v = "";
        this.i++;
        let inBracket = false;
        for (;;) {
          if (this.i >= s.length || s[this.i] === "\n") throw new AwkSyntaxError("runaway regular expression", this.line, `/${v}`);
          const ch = s[this.i]!;
          if (ch === "/" && !inBracket) break;
          if (ch === "[") inBracket = true;
          else if (ch === "]") inBracket = false;
          if (ch === "\\" && s[this.i + 1] === "/") {
            v += "/";
            this.i += 2;
            continue;
          }
          if (ch === "\\" && this.i + 1 < s.length) {
            v += ch + s[this.i + 1]!;
            this.i += 2;
            continue;
          }
          v += ch;
          this.i++;
        }
        this.i++;
        push({ t: "re", v });
        continue;
      }
      const ops = ["+=", "-=", "*=", "/=", "%=", "^=", "**=", "==", "<=", ">=", "!=", "++", "--", "&&", "||", ">>", "!~", "**", "+", "-", "*", "/", "%", "^", "!", ">", "<", "|", "?", ":", "~", "$", "=", "(", ")", "{", "}", "[", "]", ",", ";"];
      const op = ops.find((o) => s.startsWith(o, this.i));
      if (op === undefined) throw new AwkSyntaxError("syntax error", this.line, c);
      this.i += op.length;
      push({ t: "op", v: op === "**" ? "^" : op === "**=" ? "^=" : op });
    }
    push({ t: "eof" });
    return this.toks;
  }

  #operandExpected(): boolean {
    const last = this.toks[this.toks.length - 1];
    if (last === undefined) return true;
    if (last.t === "num" || last.t === "str" || last.t === "name" || last.t === "re") return false;
    if (last.t === "op" && (last.v === ")" || last.v === "]" || last.v === "$" || last.v === "++" || last.v === "--")) return false;
    return true;
  }
}

class Parser {
  i = 0;
  funcs = new Map<string, Func>();
  constructor(readonly toks: Array<Tok & { line: number }>) {}

  #peek(o = 0): Tok & { line: number } {
    return this.toks[Math.min(this.i + o, this.toks.length - 1)]!;
  }
  #next(): Tok & { line: number } {
    return this.toks[this.i++] ?? this.toks[this.toks.length - 1]!;
  }
  #isOp(v: string, o = 0): boolean {
    const t = this.#peek(o);
    return t.t === "op" && t.v === v;
  }
  #eat(v: string): boolean {
    if (this.#isOp(v)) {
      this.i++;
      return true;
    }
    return false;
  }
  #expect(v: string): void {
    if (!this.#eat(v)) this.#fail();
  }
  #fail(): never {
    const t = this.#peek();
    if (t.t === "eof") throw new AwkSyntaxError("syntax error", t.line, "end of file");
    const near = t.t === "op" || t.t === "name" || t.t === "func" ? t.v : t.t === "num" ? String(t.v) : t.t === "str" ? `"${t.v}"` : t.t === "re" ? `/${t.v}/` : "end of line";
    throw new AwkSyntaxError("syntax error", t.line, near);
  }
  #skipNl(): void {
    while (this.#peek().t === "nl" || this.#isOp(";")) this.i++;
  }
  #optNl(): void {
    while (this.#peek().t === "nl") this.i++;
  }

  program(): Item[] {
    const items: Item[] = [];
    this.#skipNl();
    while (this.#peek().t !== "eof") {
      if (this.#eat("BEGIN")) {
        this.#optNl();
        items.push({ kind: "begin", pattern: undefined, range: undefined, action: this.#block() });
      } else if (this.#eat("END")) {
        this.#optNl();
        items.push({ kind: "end", pattern: undefined, range: undefined, action: this.#block() });
      } else if (this.#isOp("function") || this.#isOp("func")) {
        this.i++;
        const name = this.#next();
        if (name.t !== "func" && name.t !== "name") this.#fail();
        this.#expect("(");
        const params: string[] = [];
        while (!this.#eat(")")) {
          const p = this.#next();
          if (p.t !== "name") this.#fail();
          params.push(p.v);
          this.#eat(",");
          this.#optNl();
        }
        this.#optNl();
        this.funcs.set(name.v, { params, body: this.#block() });
      } else {
        let pattern: Expr | undefined;
        let range: Expr | undefined;
        if (!this.#isOp("{")) {
          pattern = this.expr();
          if (this.#eat(",")) {
            this.#optNl();
            range = this.expr();
          }
        }
        const action = this.#isOp("{") ? this.#block() : undefined;
        items.push({ kind: "main", pattern, range, action });
      }
      this.#skipNl();
    }
    return items;
  }

  #block(): Stmt[] {
    this.#expect("{");
    const body: Stmt[] = [];
    this.#skipNl();
    while (!this.#eat("}")) {
      if (this.#peek().t === "eof") throw new AwkSyntaxError("missing } near end of file", this.#peek().line + 1, "");
      body.push(this.#stmt());
      this.#skipNl();
    }
    return body;
  }

  #simpleEnd(): void {
    if (this.#eat(";") || this.#peek().t === "nl") return;
    if (this.#isOp("}") || this.#peek().t === "eof") return;
    this.#fail();
  }

  #stmt(): Stmt {
    const t = this.#peek();
    if (t.t === "op") {
      switch (t.v) {
        case "{":
          return { k: "block", body: this.#block() };
        case "if": {
          this.i++;
          this.#expect("(");
          const test = this.expr();
          this.#expect(")");
          this.#optNl();
          const then = this.#stmt();
          const save = this.i;
          this.#skipNl();
          if (this.#eat("else")) {
            this.#optNl();
            return { k: "if", test, then, else: this.#stmt() };
          }
          this.i = save;
          return { k: "if", test, then, else: undefined };
        }
        case "while": {
          this.i++;
          this.#expect("(");
          const test = this.expr();
          this.#expect(")");
          if (this.#eat(";")) return { k: "while", test, body: { k: "block", body: [] } };
          this.#optNl();
          return { k: "while", test, body: this.#stmt() };
        }
        case "do": {
          this.i++;
          this.#optNl();
          const body = this.#stmt();
          this.#skipNl();
          this.#expect("while");
          this.#expect("(");
          const test = this.expr();
          this.#expect(")");
          this.#simpleEnd();
          return { k: "do", body, test };
        }
        case "for": {
          this.i++;
          this.#expect("(");
          const a = this.#peek(0);
          const b = this.#peek(1);
          const c = this.#peek(2);
          const d = this.#peek(3);
          if (a.t === "name" && b.t === "op" && b.v === "in" && c.t === "name" && d.t === "op" && d.v === ")") {
            this.i += 4;
            this.#optNl();
            return { k: "forin", name: a.v, array: c.v, body: this.#stmt() };
          }
          const init = this.#isOp(";") ? undefined : { k: "expr" as const, e: this.expr() };
          this.#expect(";");
          this.#optNl();
          const test = this.#isOp(";") ? undefined : this.expr();
          this.#expect(";");
          this.#optNl();
          const step = this.#isOp(")") ? undefined : { k: "expr" as const, e: this.expr() };
          this.#expect(")");
          if (this.#eat(";")) return { k: "for", init, test, step, body: { k: "block", body: [] } };
          this.#optNl();
          return { k: "for", init, test, step, body: this.#stmt() };
        }
        case ";":
          this.i++;
          return { k: "block", body: [] };
        case "next":
          this.i++;
          this.#simpleEnd();
          return { k: "next" };
        case "break":
          this.i++;
          this.#simpleEnd();
          return { k: "break" };
        case "continue":
          this.i++;
          this.#simpleEnd();
          return { k: "continue" };
        case "exit":
        case "return": {
          this.i++;
          const e = this.#isOp(";") || this.#isOp("}") || this.#peek().t === "nl" || this.#peek().t === "eof" ? undefined : this.expr();
          this.#simpleEnd();
          return t.v === "exit" ? { k: "exit", e } : { k: "return", e };
        }
        case "delete": {
          this.i++;
          const n = this.#next();
          if (n.t !== "name") this.#fail();
          let subs: Expr[] | undefined;
          if (this.#eat("[")) {
            subs = this.#exprList("]");
          }
          this.#simpleEnd();
          return { k: "delete", name: n.v, subs };
        }
        case "print":
        case "printf": {
          this.i++;
          let args: Expr[] = [];
          if (this.#isOp("(")) {
            // `print (a, b)` or `print (a) b`: try a parenthesised list first.
            const save = this.i;
            this.i++;
            const list = this.#exprList(")");
            if (this.#isOp(";") || this.#isOp("}") || this.#isOp(">") || this.#isOp(">>") || this.#isOp("|") || this.#peek().t === "nl" || this.#peek().t === "eof") args = list;
            else {
              this.i = save;
              args = this.#printList();
            }
          } else if (!(this.#isOp(";") || this.#isOp("}") || this.#peek().t === "nl" || this.#peek().t === "eof" || this.#isOp(">") || this.#isOp(">>") || this.#isOp("|"))) {
            args = this.#printList();
          }
          let dest: { mode: ">" | ">>" | "|"; e: Expr } | undefined;
          if (this.#isOp(">") || this.#isOp(">>") || this.#isOp("|")) {
            const mode = (this.#next() as { v: string }).v as ">" | ">>" | "|";
            dest = { mode, e: this.#concat() };
          }
          this.#simpleEnd();
          return t.v === "print" ? { k: "print", args, dest } : { k: "printf", args, dest };
        }
      }
    }
    const e = this.expr();
    this.#simpleEnd();
    return { k: "expr", e };
  }

  #printList(): Expr[] {
    const out = [this.expr(true)];
    while (this.#eat(",")) {
      this.#optNl();
      out.push(this.expr(true));
    }
    return out;
  }

  #exprList(close: string): Expr[] {
    const out: Expr[] = [];
    this.#optNl();
    if (this.#eat(close)) return out;
    for (;;) {
      out.push(this.expr());
      this.#optNl();
      if (this.#eat(close)) return out;
      this.#expect(",");
      this.#optNl();
    }
  }

  expr(noGt = false): Expr {
    return this.#ternary(noGt);
  }

  #ternary(noGt: boolean): Expr {
    const test = this.#or(noGt);
    if (this.#eat("?")) {
      this.#optNl();
      const a = this.#ternary(noGt);
      this.#optNl();
      this.#expect(":");
      this.#optNl();
      const b = this.#ternary(noGt);
      return { k: "cond", test, a, b };
    }
    if (this.#peek().t === "op" && ["=", "+=", "-=", "*=", "/=", "%=", "^="].includes((this.#peek() as { v: string }).v) && isLvalue(test)) {
      const op = (this.#next() as { v: string }).v;
      this.#optNl();
      return { k: "assign", op, target: test, value: this.#ternary(noGt) };
    }
    return test;
  }

  #or(noGt: boolean): Expr {
    let a = this.#and(noGt);
    while (this.#eat("||")) {
      this.#optNl();
      a = { k: "bin", op: "||", a, b: this.#and(noGt) };
    }
    return a;
  }

  #and(noGt: boolean): Expr {
    let a = this.#in(noGt);
    while (this.#eat("&&")) {
      this.#optNl();
      a = { k: "bin", op: "&&", a, b: this.#in(noGt) };
    }
    return a;
  }

  #in(noGt: boolean): Expr {
    let a = this.#match(noGt);
    while (this.#isOp("in")) {
      this.i++;
      const n = this.#next();
      if (n.t !== "name") this.#fail();
      a = { k: "in", subs: [a], name: n.v };
    }
    return a;
  }

  #match(noGt: boolean): Expr {
    let a = this.#comparison(noGt);
    while (this.#isOp("~") || this.#isOp("!~")) {
      const negate = (this.#next() as { v: string }).v === "!~";
      a = { k: "match", negate, a, re: this.#comparison(noGt) };
    }
    return a;
  }

  #comparison(noGt: boolean): Expr {
    const a = this.#concat();
    const t = this.#peek();
    if (t.t === "op" && ["<", "<=", "==", "!=", ">=", ">"].includes(t.v) && !(noGt && t.v === ">")) {
      this.i++;
      return { k: "bin", op: t.v, a, b: this.#concat() };
    }
    return a;
  }

  #concat(): Expr {
    let a = this.#additive();
    for (;;) {
      const t = this.#peek();
      const starts =
        t.t === "num" || t.t === "str" || t.t === "re" || t.t === "name" || t.t === "func" || (t.t === "op" && (t.v === "$" || t.v === "(" || t.v === "++" || t.v === "--"));
      if (!starts) return a;
      a = { k: "bin", op: "concat", a, b: this.#additive() };
    }
  }

  #additive(): Expr {
    let a = this.#mul();
    while (this.#isOp("+") || this.#isOp("-")) {
      const op = (this.#next() as { v: string }).v;
      a = { k: "bin", op, a, b: this.#mul() };
    }
    return a;
  }

  #mul(): Expr {
    let a = this.#unary();
    while (this.#isOp("*") || this.#isOp("/") || this.#isOp("%")) {
      const op = (this.#next() as { v: string }).v;
      a = { k: "bin", op, a, b: this.#unary() };
    }
    return a;
  }

  #unary(): Expr {
    if (this.#isOp("!") || this.#isOp("-") || this.#isOp("+")) {
      const op = (this.#next() as { v: string }).v;
      return { k: "un", op, a: this.#unary() };
    }
    return this.#pow();
  }

  #pow(): Expr {
    const a = this.#postfix();
    if (this.#eat("^")) return { k: "bin", op: "^", a, b: this.#unary() };
    return a;
  }

  #postfix(): Expr {
    if (this.#isOp("++") || this.#isOp("--")) {
      const op = (this.#next() as { v: string }).v as "++" | "--";
      const target = this.#postfix();
      if (!isLvalue(target)) this.#fail();
      return { k: "incdec", op, prefix: true, target };
    }
    const e = this.#primary();
    if (isLvalue(e) && (this.#isOp("++") || this.#isOp("--"))) {
      const op = (this.#next() as { v: string }).v as "++" | "--";
      return { k: "incdec", op, prefix: false, target: e };
    }
    return e;
  }

  #primary(): Expr {
    const t = this.#next();
    switch (t.t) {
      case "num":
        return { k: "num", v: t.v };
      case "str":
        return { k: "str", v: t.v };
      case "re":
        return { k: "re", src: t.v };
      case "name":
        if (this.#eat("[")) return { k: "index", name: t.v, subs: this.#exprList("]") };
        return { k: "var", name: t.v };
      case "func": {
        if (!this.#eat("(")) {
          if (t.v === "length") return { k: "call", name: "length", args: [] };
          this.i--;
          this.#fail();
        }
        return { k: "call", name: t.v, args: this.#exprList(")") };
      }
      case "op":
        if (t.v === "$") return { k: "field", index: this.#postfixNoIncdec() };
        if (t.v === "(") {
          const list = this.#exprList(")");
          if (list.length === 1) return { k: "group", e: list[0]! };
          if (this.#isOp("in")) {
            this.i++;
            const n = this.#next();
            if (n.t !== "name") this.#fail();
            return { k: "in", subs: list, name: n.v };
          }
          this.i--;
          this.#fail();
        }
        if (t.v === "-" || t.v === "+" || t.v === "!") return { k: "un", op: t.v, a: this.#unary() };
        if (t.v === "getline") {
          const target = this.#peek().t === "name" ? this.#primary() : undefined;
          return { k: "getline", target };
        }
        this.i--;
        return this.#fail();
      default:
        this.i--;
        return this.#fail();
    }
  }

  #postfixNoIncdec(): Expr {
    if (this.#isOp("-") || this.#isOp("!")) {
      const op = (this.#next() as { v: string }).v;
      return { k: "un", op, a: this.#primary() };
    }
    return this.#primary();
  }
}

function isLvalue(e: Expr): boolean {
  return e.k === "var" || e.k === "field" || e.k === "index";
}

// ---- running ----

class NextSignal {}
class ExitAwk {
  constructor(readonly status: number) {}
}
class BreakSignal {}
class ContinueSignal {}
class ReturnAwk {
  constructor(readonly v: Val) {}
}

class Runtime {
  vars = new Map<string, Val>();
  arrays = new Map<string, Map<string, Val>>();
  fields: string[] = [""];
  nf = 0;
  frames: Array<Map<string, Val | Map<string, Val>>> = [];
  out = new Map<string, string>();
  reCache = new Map<string, RegExp>();
  rngState = 0;

  constructor(
    readonly ctx: ProcessContext,
    readonly funcs: Map<string, Func>,
  ) {
    this.vars.set("FS", " ");
    this.vars.set("OFS", " ");
    this.vars.set("ORS", "\n");
    this.vars.set("NR", 0);
    this.vars.set("FNR", 0);
    this.vars.set("SUBSEP", "\x1c");
    this.vars.set("CONVFMT", "%.6g");
    this.vars.set("OFMT", "%.6g");
    this.vars.set("RSTART", 0);
    this.vars.set("RLENGTH", -1);
    this.vars.set("FILENAME", "");
    const env = new Map<string, Val>();
    for (const [k, v] of ctx.env) env.set(k, new StrNum(v));
    this.arrays.set("ENVIRON", env);
  }

  regex(src: string): RegExp {
    let re = this.reCache.get(src);
    if (re === undefined) {
      re = new RegExp(posixToJs(src, true));
      this.reCache.set(src, re);
    }
    return re;
  }

  setRecord(text: string): void {
    this.fields = [text];
    const fs = toStr(this.getVar("FS"));
    let parts: string[];
    if (text === "") parts = [];
    else if (fs === " ") parts = text.split(/[ \t\n]+/).filter((p) => p !== "");
    else if (fs.length === 1 && fs !== "\\") parts = text.split(fs);
    else parts = text.split(this.regex(fs));
    this.fields.push(...parts);
    this.nf = parts.length;
  }

  #rebuild(): void {
    const ofs = toStr(this.getVar("OFS"));
    this.fields[0] = this.fields.slice(1, this.nf + 1).join(ofs);
  }

  getField(i: number): Val {
    if (i === 0) return new StrNum(this.fields[0] ?? "");
    return new StrNum(this.fields[i] ?? "");
  }

  setField(i: number, v: string): void {
    if (i === 0) {
      this.setRecord(v);
      return;
    }
    while (this.fields.length <= i) this.fields.push("");
    this.fields[i] = v;
    if (i > this.nf) this.nf = i;
    this.#rebuild();
  }

  #frameLookup(name: string): Map<string, Val | Map<string, Val>> | undefined {
    const f = this.frames[this.frames.length - 1];
    return f !== undefined && f.has(name) ? f : undefined;
  }

  getVar(name: string): Val {
    if (name === "NF") return this.nf;
    const f = this.#frameLookup(name);
    if (f !== undefined) {
      const v = f.get(name);
      return v instanceof Map ? "" : (v ?? new StrNum(""));
    }
    return this.vars.get(name) ?? new StrNum("");
  }

  setVar(name: string, v: Val): void {
    if (name === "NF") {
      this.nf = Math.max(0, Math.trunc(toNum(v)));
      this.fields.length = Math.max(this.fields.length, this.nf + 1);
      for (let i = 1; i <= this.nf; i++) this.fields[i] ??= "";
      this.fields.length = this.nf + 1;
      this.#rebuild();
      return;
    }
    const f = this.#frameLookup(name);
    if (f !== undefined) f.set(name, v);
    else this.vars.set(name, v);
  }

  array(name: string): Map<string, Val> {
    const f = this.#frameLookup(name);
    if (f !== undefined) {
      let a = f.get(name);
      if (!(a instanceof Map)) {
        a = new Map<string, Val>();
        f.set(name, a);
      }
      return a;
    }
    let a = this.arrays.get(name);
    if (a === undefined) {
      a = new Map();
      this.arrays.set(name, a);
    }
    return a;
  }

  subscript(subs: Expr[]): string {
    const sep = toStr(this.getVar("SUBSEP"));
    return subs.map((s) => this.str(this.eval(s))).join(sep);
  }

  str(v: Val): string {
    return toStr(v, toStr(this.getVar("CONVFMT")));
  }

  assign(target: Expr, v: Val): Val {
    if (target.k === "var") this.setVar(target.name, v);
    else if (target.k === "field") this.setField(Math.trunc(toNum(this.eval(target.index))), this.str(v));
    else if (target.k === "index") this.array(target.name).set(this.subscript(target.subs), v);
    return v;
  }

  matchRe(e: Expr, text: string): RegExpExecArray | null {
    const src = e.k === "re" ? e.src : this.str(this.eval(e));
    return this.regex(src).exec(text);
  }

  eval(e: Expr): Val {
    switch (e.k) {
      case "num":
        return e.v;
      case "str":
        return e.v;
      case "re":
        return this.regex(e.src).test(toStr(this.getField(0))) ? 1 : 0;
      case "var":
        return this.getVar(e.name);
      case "field":
        return this.getField(Math.trunc(toNum(this.eval(e.index))));
      case "index":
        return this.array(e.name).get(this.subscript(e.subs)) ?? new StrNum("");
      case "group":
        return this.eval(e.e);
      case "assign": {
        const v = this.eval(e.value);
        if (e.op === "=") return this.assign(e.target, v instanceof StrNum ? v : v);
        const cur = toNum(this.eval(e.target));
        const r = arith(e.op.slice(0, -1), cur, toNum(v));
        return this.assign(e.target, r);
      }
      case "cond":
        return truthy(this.eval(e.test)) ? this.eval(e.a) : this.eval(e.b);
      case "incdec": {
        const cur = toNum(this.eval(e.target));
        const next = e.op === "++" ? cur + 1 : cur - 1;
        this.assign(e.target, next);
        return e.prefix ? next : cur;
      }
      case "un": {
        const v = this.eval(e.a);
        if (e.op === "!") return truthy(v) ? 0 : 1;
        if (e.op === "-") return -toNum(v);
        return toNum(v);
      }
      case "match": {
        const m = this.matchRe(e.re, this.str(this.eval(e.a)));
        return (m !== null) !== e.negate ? 1 : 0;
      }
      case "in":
        return this.array(e.name).has(this.subscript(e.subs)) ? 1 : 0;
      case "bin": {
        if (e.op === "&&") return truthy(this.eval(e.a)) && truthy(this.eval(e.b)) ? 1 : 0;
        if (e.op === "||") return truthy(this.eval(e.a)) || truthy(this.eval(e.b)) ? 1 : 0;
        const a = this.eval(e.a);
        const b = this.eval(e.b);
        switch (e.op) {
          case "concat":
            return this.str(a) + this.str(b);
          case "<":
            return compare(a, b) < 0 ? 1 : 0;
          case "<=":
            return compare(a, b) <= 0 ? 1 : 0;
          case ">":
            return compare(a, b) > 0 ? 1 : 0;
          case ">=":
            return compare(a, b) >= 0 ? 1 : 0;
          case "==":
            return compare(a, b) === 0 ? 1 : 0;
          case "!=":
            return compare(a, b) !== 0 ? 1 : 0;
          default:
            return arith(e.op, toNum(a), toNum(b));
        }
      }
      case "getline":
        return 0;
      case "call":
        return this.call(e.name, e.args);
    }
  }

  call(name: string, args: Expr[]): Val {
    const arg = (i: number) => (args[i] === undefined ? "" : this.str(this.eval(args[i]!)));
    const num = (i: number) => (args[i] === undefined ? 0 : toNum(this.eval(args[i]!)));
    switch (name) {
      case "length": {
        const a = args[0];
        if (a === undefined) return [...toStr(this.getField(0))].length;
        if (a.k === "var" && (this.arrays.has(a.name) || this.#frameLookup(a.name)?.get(a.name) instanceof Map)) return this.array(a.name).size;
        return [...arg(0)].length;
      }
      case "substr": {
        const s = [...arg(0)];
        let m = Math.round(num(1));
        let n = args[2] === undefined ? Number.POSITIVE_INFINITY : Math.round(num(2));
        if (m < 1) {
          n += m - 1;
          m = 1;
        }
        if (n <= 0) return "";
        return s.slice(m - 1, m - 1 + n).join("");
      }
      case "index":
        return arg(0).indexOf(arg(1)) + 1;
      case "split": {
        const s = arg(0);
        const target = args[1];
        if (target === undefined || target.k !== "var") return 0;
        const arr = this.array(target.name);
        arr.clear();
        const fsExpr = args[2];
        const fs = fsExpr === undefined ? toStr(this.getVar("FS")) : fsExpr.k === "re" ? fsExpr.src : this.str(this.eval(fsExpr));
        let parts: string[];
        if (s === "") parts = [];
        else if (fs === " ") parts = s.split(/[ \t\n]+/).filter((p) => p !== "");
        else if (fs.length === 1 && (fsExpr === undefined || fsExpr.k !== "re")) parts = s.split(fs);
        else parts = s.split(this.regex(fs));
        parts.forEach((p, i) => arr.set(String(i + 1), new StrNum(p)));
        return parts.length;
      }
      case "sub":
      case "gsub": {
        const reExpr = args[0];
        if (reExpr === undefined) return 0;
        const src = reExpr.k === "re" ? reExpr.src : arg(0);
        const re = new RegExp(posixToJs(src, true), name === "gsub" ? "g" : "");
        const repl = arg(1);
        const target = args[2] ?? { k: "field", index: { k: "num", v: 0 } };
        const text = this.str(this.eval(target));
        let count = 0;
        const out = text.replace(re, (m) => {
          count++;
          return repl.replace(/\\\\&|\\&|&/g, (x) => (x === "&" ? m : x === "\\&" ? "&" : "\\&"));
        });
        if (count > 0) this.assign(target, out);
        return count;
      }
      case "match": {
        const s = arg(0);
        const m = args[1] === undefined ? null : this.matchRe(args[1], s);
        this.vars.set("RSTART", m === null ? 0 : m.index + 1);
        this.vars.set("RLENGTH", m === null ? -1 : m[0].length);
        return m === null ? 0 : m.index + 1;
      }
      case "sprintf":
        return this.sprintf(args.map((a) => this.eval(a)));
      case "toupper":
        return arg(0).toUpperCase();
      case "tolower":
        return arg(0).toLowerCase();
      case "int":
        return Math.trunc(num(0));
      case "sqrt":
        return Math.sqrt(num(0));
      case "exp":
        return Math.exp(num(0));
      case "log":
        return Math.log(num(0));
      case "sin":
        return Math.sin(num(0));
      case "cos":
        return Math.cos(num(0));
      case "atan2":
        return Math.atan2(num(0), num(1));
      case "rand": {
        // A fixed-seed generator: awk's rand() is deterministic unless srand() is called.
        this.rngState = (this.rngState * 1103515245 + 12345) % 2147483648;
        return this.rngState / 2147483648;
      }
      case "srand": {
        const prev = this.rngState;
        this.rngState = Math.trunc(num(0));
        return prev;
      }
      case "close":
      case "fflush":
      case "system":
        return 0;
    }
    const fn = this.funcs.get(name);
    if (fn === undefined) throw new Error(`function ${name} never defined`);
    const frame = new Map<string, Val | Map<string, Val>>();
    const arrayArgs: Array<[string, string]> = [];
    fn.params.forEach((p, i) => {
      const a = args[i];
      if (a === undefined) return;
      if (a.k === "var" && (this.arrays.has(a.name) || this.#frameLookup(a.name)?.get(a.name) instanceof Map)) {
        frame.set(p, this.array(a.name));
        arrayArgs.push([p, a.name]);
      } else frame.set(p, this.eval(a));
    });
    for (const p of fn.params) if (!frame.has(p)) frame.set(p, new StrNum(""));
    this.frames.push(frame);
    try {
      this.execAll(fn.body);
      return new StrNum("");
    } catch (err) {
      if (err instanceof ReturnAwk) return err.v;
      throw err;
    } finally {
      this.frames.pop();
    }
  }

  sprintf(vals: Val[]): string {
    if (vals.length === 0) return "";
    const fmt = this.str(vals[0]!);
    const convs = [...fmt.matchAll(/%[-+ #0]*(\*|\d+)?(?:\.(\*|\d*))?([a-zA-Z%])/g)];
    const args: string[] = [];
    let ai = 1;
    for (const m of convs) {
      if (m[3] === "%") continue;
      if (m[1] === "*") args.push(String(Math.trunc(toNum(vals[ai++] ?? 0))));
      if (m[2] === "*") args.push(String(Math.trunc(toNum(vals[ai++] ?? 0))));
      const v = vals[ai++] ?? "";
      const c = m[3]!;
      if ("diouxX".includes(c)) args.push(String(Math.trunc(toNum(v))));
      else if ("eEfFgG".includes(c)) args.push(String(toNum(v)));
      else if (c === "c") args.push(typeof v === "number" ? String.fromCharCode(v) : this.str(v).slice(0, 1));
      else args.push(this.str(v));
    }
    return formatPrintf(fmt.replaceAll("\\", "\\\\"), args).out;
  }

  write(text: string, dest: { mode: ">" | ">>" | "|"; e: Expr } | undefined): void {
    if (dest === undefined) {
      this.ctx.stdout.write(text);
      return;
    }
    const name = this.str(this.eval(dest.e));
    if (dest.mode === "|") {
      this.ctx.stdout.write(text);
      return;
    }
    if (name === "/dev/stdout" || name === "-") this.ctx.stdout.write(text);
    else if (name === "/dev/stderr") this.ctx.stderr.write(text);
    else {
      const path = resolvePath(this.ctx, name);
      if (!this.out.has(path) && dest.mode === ">") this.ctx.fs.writeFile(path, "", this.ctx.netns);
      this.out.set(path, "");
      this.ctx.fs.appendFile(path, text, this.ctx.netns);
    }
  }

  execAll(body: Stmt[]): void {
    for (const s of body) this.exec(s);
  }

  exec(s: Stmt): void {
    switch (s.k) {
      case "expr":
        this.eval(s.e);
        return;
      case "print": {
        const ofs = this.str(this.getVar("OFS"));
        const ors = this.str(this.getVar("ORS"));
        const ofmt = this.str(this.getVar("OFMT"));
        const text = s.args.length === 0 ? toStr(this.getField(0)) : s.args.map((a) => toStr(this.eval(a), ofmt)).join(ofs);
        this.write(text + ors, s.dest);
        return;
      }
      case "printf":
        this.write(this.sprintf(s.args.map((a) => this.eval(a))), s.dest);
        return;
      case "if":
        if (truthy(this.eval(s.test))) this.exec(s.then);
        else if (s.else !== undefined) this.exec(s.else);
        return;
      case "while":
        while (truthy(this.eval(s.test))) {
          if (this.#loopBody(s.body)) break;
        }
        return;
      case "do":
        do {
          if (this.#loopBody(s.body)) break;
        } while (truthy(this.eval(s.test)));
        return;
      case "for":
        if (s.init) this.exec(s.init);
        while (s.test === undefined || truthy(this.eval(s.test))) {
          if (this.#loopBody(s.body)) break;
          if (s.step) this.exec(s.step);
        }
        return;
      case "forin":
        for (const k of [...this.array(s.array).keys()]) {
          this.setVar(s.name, new StrNum(k));
          if (this.#loopBody(s.body)) break;
        }
        return;
      case "block":
        this.execAll(s.body);
        return;
      case "next":
        throw new NextSignal();
      case "exit":
        throw new ExitAwk(s.e === undefined ? 0 : Math.trunc(toNum(this.eval(s.e))));
      case "return":
        throw new ReturnAwk(s.e === undefined ? new StrNum("") : this.eval(s.e));
      case "break":
        throw new BreakSignal();
      case "continue":
        throw new ContinueSignal();
      case "delete":
        if (s.subs === undefined) this.array(s.name).clear();
        else this.array(s.name).delete(this.subscript(s.subs));
        return;
    }
  }

  /** Runs a loop body; true when it broke out. */
  #loopBody(body: Stmt): boolean {
    try {
      this.exec(body);
    } catch (err) {
      if (err instanceof BreakSignal) return true;
      if (err instanceof ContinueSignal) return false;
      throw err;
    }
    return false;
  }
}

function arith(op: string, a: number, b: number): number {
  switch (op) {
    case "+":
      return a + b;
    case "-":
      return a - b;
    case "*":
      return a * b;
    case "/":
      if (b === 0) throw new Error("division by zero");
      return a / b;
    case "%":
      if (b === 0) throw new Error("division by zero in %");
      return a % b;
    case "^":
      return a ** b;
    default:
      return 0;
  }
}

/** Parses an awk program; throws AwkSyntaxError. */
export function parseAwk(src: string): { items: Item[]; funcs: Map<string, Func> } {
  const toks = new Lexer(src).run();
  const p = new Parser(toks);
  const items = p.program();
  return { items, funcs: p.funcs };
}

const awk: Command = async (ctx) => {
  const gnu = ctx.flavour === "gnu";
  const o = parseOpts(ctx.argv.slice(1), { withArg: "Fvf", flags: "", long: { "field-separator=": "F", "assign=": "v", "file=": "f" }, stopAtOperand: true });
  if (isOptError(o)) return badUsage(ctx, "awk", o, 2);
  const args = [...o.args];
  let src: string;
  const progFiles = o.values.get("f");
  if (progFiles !== undefined) {
    try {
      src = progFiles.map((f) => ctx.fs.readFile(resolvePath(ctx, f), ctx.netns)).join("\n");
    } catch (err) {
      ctx.stderr.write(`awk: couldn't open file ${progFiles[0]}: ${err instanceof Error ? err.message : String(err)}\n`);
      return 2;
    }
  } else {
    const p = args.shift();
    if (p === undefined) {
      if (gnu) ctx.stderr.write("usage: awk [-F value] [-v var=value] [--] 'program text' [file ...]\nusage: awk [-F value] [-v var=value] [-f program-file] [--] [file ...]\n");
      else ctx.stderr.write("BusyBox v1.36.1 (2023-05-18 22:34:17 UTC) multi-call binary.\n\nUsage: awk [OPTIONS] [AWK_PROGRAM] [FILE]...\n");
      return 2;
    }
    src = p;
  }
  let program: { items: Item[]; funcs: Map<string, Func> };
  try {
    program = parseAwk(src);
  } catch (err) {
    if (err instanceof AwkSyntaxError) {
      if (!gnu) ctx.stderr.write(`awk: cmd. line:${Math.min(err.line, src.split("\n").length)}: Unexpected token\n`);
      else if (err.message.startsWith("missing }")) ctx.stderr.write(`awk: line ${err.line}: ${err.message}\n`);
      else ctx.stderr.write(`awk: line ${err.line}: ${err.message} at or near ${err.near}\n`);
      return 2;
    }
    if (err instanceof RegexError) {
      ctx.stderr.write(`awk: regular expression compile failed (${err.message})\n`);
      return 2;
    }
    throw err;
  }
  const rt = new Runtime(ctx, program.funcs);
  const fs = o.last("F");
  if (fs !== undefined) rt.setVar("FS", fs === "t" ? "\t" : fs.replace(/\\t/g, "\t"));
  for (const a of o.values.get("v") ?? []) {
    const eq = a.indexOf("=");
    if (eq > 0) rt.setVar(a.slice(0, eq), new StrNum(a.slice(eq + 1).replace(/\\n/g, "\n").replace(/\\t/g, "\t")));
  }
  const begins = program.items.filter((i) => i.kind === "begin");
  const mains = program.items.filter((i) => i.kind === "main");
  const ends = program.items.filter((i) => i.kind === "end");
  const inRange = new Map<Item, boolean>();
  let status = 0;
  const runErr = (err: unknown): number => {
    ctx.stderr.write(`awk: run time error: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  };
  let exiting = false;
  try {
    try {
      for (const b of begins) rt.execAll(b.action ?? []);
    } catch (err) {
      if (err instanceof ExitAwk) {
        status = err.status;
        exiting = true;
      } else throw err;
    }
    if (!exiting && (mains.length > 0 || ends.length > 0)) {
      const operands = args.length === 0 ? ["-"] : args;
      outer: for (const f of operands) {
        const assign = /^([A-Za-z_]\w*)=(.*)$/s.exec(f);
        if (assign !== null) {
          rt.setVar(assign[1]!, new StrNum(assign[2]!));
          if (args.every((a) => /^[A-Za-z_]\w*=/.test(a)) && f === operands[operands.length - 1]) {
            // Only assignments: read stdin after them.
          } else continue;
        }
        let next: () => Promise<string | undefined | null>;
        if (f === "-" || assign !== null) {
          next = async () => {
            const r = await readLineAbortable(ctx.stdin, ctx.signal);
            return r.aborted ? null : r.line;
          };
        } else {
          let lines: string[];
          try {
            lines = linesOf(ctx.fs.readFile(resolvePath(ctx, f), ctx.netns));
          } catch (err) {
            if (!(err instanceof VfsError)) throw err;
            ctx.stderr.write(gnu ? `awk: cannot open ${f} (${err.message})\n` : `awk: cannot open '${f}': ${err.message}\n`);
            status = 2;
            continue;
          }
          let idx = 0;
          next = async () => lines[idx++];
        }
        rt.setVar("FILENAME", f === "-" ? "" : f);
        rt.setVar("FNR", 0);
        for (;;) {
          const line = await next();
          if (line === null) return killedStatus(ctx.signal);
          if (line === undefined) break;
          rt.setVar("NR", toNum(rt.getVar("NR")) + 1);
          rt.setVar("FNR", toNum(rt.getVar("FNR")) + 1);
          rt.setRecord(line);
          try {
            for (const item of mains) {
              let selected: boolean;
              if (item.range !== undefined) {
                if (inRange.get(item)) {
                  selected = true;
                  if (truthy(rt.eval(item.range))) inRange.set(item, false);
                } else if (item.pattern !== undefined && truthy(rt.eval(item.pattern))) {
                  selected = true;
                  inRange.set(item, !truthy(rt.eval(item.range)));
                } else selected = false;
              } else selected = item.pattern === undefined || truthy(rt.eval(item.pattern));
              if (!selected) continue;
              if (item.action === undefined) ctx.stdout.write(toStr(rt.getField(0)) + rt.str(rt.getVar("ORS")));
              else rt.execAll(item.action);
            }
          } catch (err) {
            if (err instanceof NextSignal) continue;
            if (err instanceof ExitAwk) {
              status = err.status;
              break outer;
            }
            throw err;
          }
        }
      }
    }
    try {
      for (const e of ends) rt.execAll(e.action ?? []);
    } catch (err) {
      if (err instanceof ExitAwk) status = err.status;
      else throw err;
    }
  } catch (err) {
    if (err instanceof RegexError) return runErr(new Error(`regular expression compile failed (${err.message})`));
    return runErr(err);
  }
  return status;
};

/** awk (one implementation; error wording follows ctx.flavour: mawk-like on hosts, busybox in containers). */
export const awkCommands: Record<string, Command> = { awk };
