import test from "ava";
import { ArithError, evalArith } from "./sh_arith.ts";

function vars(init: Record<string, string> = {}) {
  const m = new Map(Object.entries(init));
  return { m, get: (n: string) => m.get(n), set: (n: string, v: string) => void m.set(n, v) };
}

test("C precedence, powers, comparisons and the ternary", (t) => {
  const v = vars();
  t.is(evalArith("1 + 2 * 3", v), "7");
  t.is(evalArith("(1 + 2) * 3", v), "9");
  t.is(evalArith("2 ** 10", v), "1024");
  t.is(evalArith("7 % 3", v), "1");
  t.is(evalArith("-7 / 2", v), "-3");
  t.is(evalArith("1 < 2 && 3 > 4 || 5 == 5", v), "1");
  t.is(evalArith("0 ? 10 : 20", v), "20");
  t.is(evalArith("0x10 + 010", v), "24");
});

test("variables are read by name and assigned in place", (t) => {
  const v = vars({ x: "3", y: "x + 1" });
  t.is(evalArith("x += 2", v), "5");
  t.is(v.m.get("x"), "5");
  t.is(evalArith("y * 2", v), "12");
  t.is(evalArith("i++", v), "0");
  t.is(v.m.get("i"), "1");
  t.is(evalArith("++i", v), "2");
  t.is(evalArith("unset_var + 1", v), "1");
});

test("division by zero is an error worded as bash and busybox do", (t) => {
  const err = t.throws(() => evalArith("1/0", vars()), { instanceOf: ArithError });
  t.is(err?.bash, '1/0: division by 0 (error token is "0")');
  t.is(err?.busybox, "divide by zero");
});

test("a dangling operator is a syntax error", (t) => {
  const err = t.throws(() => evalArith("1 +", vars()), { instanceOf: ArithError });
  t.regex(err?.bash ?? "", /operand expected/);
});
