import test from "ava";
import { evalTest } from "./test_expr.ts";

const files = {
  stat: (p: string) => (p === "/etc/hosts" ? ("file" as const) : p === "/tmp" ? ("dir" as const) : undefined),
  size: (p: string) => (p === "/etc/hosts" ? 10 : 0),
};

test("strings, integers and files", (t) => {
  t.is(evalTest(["a", "=", "a"], files).status, 0);
  t.is(evalTest(["a", "!=", "a"], files).status, 1);
  t.is(evalTest(["-z", ""], files).status, 0);
  t.is(evalTest(["-n", ""], files).status, 1);
  t.is(evalTest(["10", "-gt", "9"], files).status, 0);
  t.is(evalTest(["-f", "/etc/hosts"], files).status, 0);
  t.is(evalTest(["-d", "/etc/hosts"], files).status, 1);
  t.is(evalTest(["-e", "/nope"], files).status, 1);
  t.is(evalTest(["-s", "/etc/hosts"], files).status, 0);
  t.is(evalTest(["!", "-d", "/tmp"], files).status, 1);
  t.is(evalTest([], files).status, 1);
  t.is(evalTest(["x"], files).status, 0);
});

test("-a, -o and parentheses combine expressions", (t) => {
  t.is(evalTest(["-n", "x", "-a", "1", "-eq", "1"], files).status, 0);
  t.is(evalTest(["-z", "x", "-o", "(", "a", "=", "a", ")"], files).status, 0);
});

test("errors: missing ], bad integer, unknown operator (exit 2)", (t) => {
  t.deepEqual(evalTest(["1", "=", "1"], files, true), { status: 2, issue: { kind: "missing-bracket" } });
  t.deepEqual(evalTest(["abc", "-eq", "1"], files), { status: 2, issue: { kind: "integer", arg: "abc" } });
  t.deepEqual(evalTest(["a", "b", "c"], files), { status: 2, issue: { kind: "binary-expected", arg: "b" } });
  t.deepEqual(evalTest(["-q", "x"], files), { status: 2, issue: { kind: "unary-expected", arg: "-q" } });
  t.is(evalTest(["1", "=", "1", "]"], files, true).status, 0);
});
