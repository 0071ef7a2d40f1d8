/**
 * Shell arithmetic (`$((…))`, `let`): C operators on 64-bit-ish integers,
 * with shell variables read and assigned by name.
 */

/** Why an arithmetic expression failed, worded for bash and for busybox ash. */
export class ArithError extends Error {
  override readonly name = "ArithError";
  constructor(
    readonly bash: string,
    readonly busybox: string,
  ) {
    super(bash);
  }
}

/** How the evaluator reads and writes shell variables. */
export interface ArithVars {
  get(name: string): string | undefined;
  set(name: string, value: string): void;
}

type Tok = { k: "num"; v: bigint; text: string } | { k: "name"; v: string } | { k: "op"; v: string };

const OPS = [
  "<<=",
  ">>=",
  "**",
  "<<",
  ">>",
  "<=",
  ">=",
  "==",
  "!=",
  "&&",
  "||",
  "++",
  "--",
  "+=",
  "-=",
  "*=",
  "/=",
  "%=",
  "&=",
  "^=",
  "|=",
  "+",
  "-",
  "*",
  "/",
  "%",
  "<",
  ">",
  "=",
  "!",
  "~",
  "&",
  "^",
  "|",
  "?",
  ":",
  "(",
  ")",
  ",",
];

/**
 * Evaluates `expr` and returns its value as a decimal string.
 *
 * ```ts
 * evalArith("x += 2", vars); // "5" when x was 3, and x is now 5
 * ```
 */
export function evalArith(expr: string, vars: ArithVars, depth = 0): string {
  const toks = tokenize(expr);
  if (toks.length === 0) return "0";
  const ev = new Evaluator(expr, toks, vars, depth);
  const v = ev.comma(true);
  if (ev.i < toks.length) ev.syntax(toks[ev.i]!);
  return wrap(v).toString();
}

function wrap(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}

function tokenize(expr: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const num = /^(0[xX][0-9a-fA-F]+|\d+#[0-9a-zA-Z@_]+|\d+)/.exec(expr.slice(i));
    if (num) {
      const text = num[1]!;
      i += text.length;
      if (/[A-Za-z_]/.test(expr[i] ?? "")) {
        const rest = /^\w+/.exec(expr.slice(i))![0];
        throw new ArithError(
          `${text}${rest}: value too great for base (error token is "${text}${rest}")`,
          "arithmetic syntax error",
        );
      }
      out.push({ k: "num", v: parseNumber(text), text });
      continue;
    }
    const name = /^[A-Za-z_]\w*/.exec(expr.slice(i));
    if (name) {
      out.push({ k: "name", v: name[0] });
      i += name[0].length;
      continue;
    }
    const op = OPS.find((o) => expr.startsWith(o, i));
    if (op === undefined) {
      throw new ArithError(
        `${expr}: syntax error: invalid arithmetic operator (error token is "${expr.slice(i)}")`,
        "arithmetic syntax error",
      );
    }
    out.push({ k: "op", v: op });
    i += op.length;
  }
  return out;
}

function parseNumber(text: string): bigint {
  if (/^0[xX]/.test(text)) return BigInt(text);
  const based = /^(\d+)#(.+)$/.exec(text);
  if (based) {
    const base = Number(based[1]);
    let v = 0n;
    for (const ch of based[2]!) {
      const d = parseInt(ch, 36);
      if (Number.isNaN(d) || d >= base) throw new ArithError(`${text}: value too great for base`, "arithmetic syntax error");
      v = v * BigInt(base) + BigInt(d);
    }
    return v;
  }
  if (text.length > 1 && text.startsWith("0")) {
    if (/[89]/.test(text)) {
      throw new ArithError(`${text}: value too great for base (error token is "${text}")`, "arithmetic syntax error");
    }
    return BigInt(`0o${text.slice(1)}`);
  }
  return BigInt(text);
}

class Evaluator {
  i = 0;
  constructor(
    readonly expr: string,
    readonly toks: Tok[],
    readonly vars: ArithVars,
    readonly depth: number,
  ) {}

  syntax(at: Tok | undefined): never {
    const rest = at === undefined ? "" : this.#restFrom(at);
    if (at === undefined) {
      throw new ArithError(
        `${this.expr}: syntax error: operand expected (error token is "${rest}")`,
        "arithmetic syntax error",
      );
    }
    throw new ArithError(
      `${this.expr}: syntax error in expression (error token is "${rest}")`,
      "arithmetic syntax error",
    );
  }

  #restFrom(at: Tok): string {
    const idx = this.toks.indexOf(at);
    return this.toks
      .slice(idx)
      .map((t) => (t.k === "num" ? t.text : t.v))
      .join(" ");
  }

  #peekOp(): string | undefined {
    const t = this.toks[this.i];
    return t?.k === "op" ? t.v : undefined;
  }

  #eat(op: string): boolean {
    if (this.#peekOp() === op) {
      this.i++;
      return true;
    }
    return false;
  }

  comma(run: boolean): bigint {
    let v = this.assign(run);
    while (this.#eat(",")) v = this.assign(run);
    return v;
  }

  assign(run: boolean): bigint {
    const t = this.toks[this.i];
    const n = this.toks[this.i + 1];
    if (t?.k === "name" && n?.k === "op" && /^(=|\+=|-=|\*=|\/=|%=|<<=|>>=|&=|\^=|\|=)$/.test(n.v)) {
      this.i += 2;
      const rhs = this.assign(run);
      if (!run) return 0n;
      const op = n.v.slice(0, -1);
      const v = op === "" ? rhs : this.#binary(op, this.#var(t.v), rhs, n);
      this.vars.set(t.v, wrap(v).toString());
      return wrap(v);
    }
    return this.ternary(run);
  }

  ternary(run: boolean): bigint {
    const c = this.binary(0, run);
    if (!this.#eat("?")) return c;
    const a = this.assign(run && c !== 0n);
    if (!this.#eat(":")) this.syntax(this.toks[this.i]);
    const b = this.assign(run && c === 0n);
    return c !== 0n ? a : b;
  }

  static readonly LEVELS: string[][] = [
    ["||"],
    ["&&"],
    ["|"],
    ["^"],
    ["&"],
    ["==", "!="],
    ["<", "<=", ">", ">="],
    ["<<", ">>"],
    ["+", "-"],
    ["*", "/", "%"],
  ];

  binary(level: number, run: boolean): bigint {
    if (level >= Evaluator.LEVELS.length) return this.power(run);
    const ops = Evaluator.LEVELS[level]!;
    let left = this.binary(level + 1, run);
    for (;;) {
      const op = this.#peekOp();
      if (op === undefined || !ops.includes(op)) return left;
      const tok = this.toks[this.i]!;
      this.i++;
      if (op === "&&") {
        const right = this.binary(level + 1, run && left !== 0n);
        left = left !== 0n && right !== 0n ? 1n : 0n;
      } else if (op === "||") {
        const right = this.binary(level + 1, run && left === 0n);
        left = left !== 0n || right !== 0n ? 1n : 0n;
      } else {
        const right = this.binary(level + 1, run);
        left = run ? this.#binary(op, left, right, tok) : 0n;
      }
    }
  }

  power(run: boolean): bigint {
    const base = this.unary(run);
    if (this.#eat("**")) {
      const exp = this.power(run);
      if (!run) return 0n;
      if (exp < 0n) throw new ArithError(`${this.expr}: exponent less than 0`, "arithmetic syntax error");
      return wrap(base ** exp);
    }
    return base;
  }

  unary(run: boolean): bigint {
    const op = this.#peekOp();
    if (op === "++" || op === "--") {
      this.i++;
      const t = this.toks[this.i];
      if (t?.k !== "name") this.syntax(t);
      this.i++;
      const v = this.#var(t.v) + (op === "++" ? 1n : -1n);
      if (run) this.vars.set(t.v, wrap(v).toString());
      return wrap(v);
    }
    if (op === "-" || op === "+" || op === "!" || op === "~") {
      this.i++;
      const v = this.unary(run);
      if (op === "-") return wrap(-v);
      if (op === "+") return v;
      if (op === "!") return v === 0n ? 1n : 0n;
      return wrap(~v);
    }
    return this.postfix(run);
  }

  postfix(run: boolean): bigint {
    const t = this.toks[this.i];
    if (t === undefined) this.syntax(undefined);
    if (t.k === "num") {
      this.i++;
      return t.v;
    }
    if (t.k === "name") {
      this.i++;
      const v = this.#var(t.v);
      const op = this.#peekOp();
      if (op === "++" || op === "--") {
        this.i++;
        if (run) this.vars.set(t.v, wrap(v + (op === "++" ? 1n : -1n)).toString());
      }
      return v;
    }
    if (t.v === "(") {
      this.i++;
      const v = this.comma(run);
      if (!this.#eat(")")) this.syntax(this.toks[this.i]);
      return v;
    }
    this.syntax(t);
  }

  #var(name: string): bigint {
    const raw = (this.vars.get(name) ?? "").trim();
    if (raw === "") return 0n;
    if (/^-?\d+$/.test(raw)) return BigInt(raw);
    if (this.depth > 10) throw new ArithError(`${name}: expression recursion level exceeded`, "arithmetic syntax error");
    return BigInt(evalArith(raw, this.vars, this.depth + 1));
  }

  #binary(op: string, a: bigint, b: bigint, at: Tok): bigint {
    switch (op) {
      case "+":
        return wrap(a + b);
      case "-":
        return wrap(a - b);
      case "*":
        return wrap(a * b);
      case "/":
      case "%":
        if (b === 0n) {
          throw new ArithError(`${this.expr}: division by 0 (error token is "${this.#restAfter(at)}")`, "divide by zero");
        }
        return op === "/" ? a / b : a % b;
      case "<<":
        return wrap(a << (b & 63n));
      case ">>":
        return a >> (b & 63n);
      case "<":
        return a < b ? 1n : 0n;
      case "<=":
        return a <= b ? 1n : 0n;
      case ">":
        return a > b ? 1n : 0n;
      case ">=":
        return a >= b ? 1n : 0n;
      case "==":
        return a === b ? 1n : 0n;
      case "!=":
        return a !== b ? 1n : 0n;
      case "&":
        return a & b;
      case "^":
        return a ^ b;
      case "|":
        return a | b;
      default:
        return this.syntax(at);
    }
  }

  #restAfter(at: Tok): string {
    const idx = this.toks.indexOf(at);
    return this.toks
      .slice(idx + 1)
      .map((t) => (t.k === "num" ? t.text : t.v))
      .join(" ");
  }
}
