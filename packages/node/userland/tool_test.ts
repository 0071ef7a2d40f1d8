// Tests of _tool.ts (ava skips files whose names start with an underscore).
import test from "ava";
import { isOptError, linesOf, parseOpts } from "./_tool.ts";

test("getopt-like parsing: clusters, attached and separate values, long options, --", (t) => {
  const o = parseOpts(["-nr", "-k2", "-t", ":", "--unique", "file", "--", "-x"], { flags: "nru", withArg: "kt", long: { unique: "u" } });
  if (isOptError(o)) return t.fail();
  t.true(o.has("n") && o.has("r") && o.has("u"));
  t.is(o.last("k"), "2");
  t.is(o.last("t"), ":");
  t.deepEqual(o.args, ["file", "-x"]);
});

test("parse failures name the option", (t) => {
  t.deepEqual(parseOpts(["-z"], { flags: "n" }), { error: "invalid", option: "z" });
  t.deepEqual(parseOpts(["-n"], { withArg: "n" }), { error: "missing", option: "n" });
  t.deepEqual(parseOpts(["--bogus"], { long: { lines: "n" } }), { error: "unrecognized", option: "--bogus" });
});

test("stopAtOperand leaves the command's own options alone", (t) => {
  const o = parseOpts(["-n1", "echo", "-x"], { withArg: "n", stopAtOperand: true });
  if (isOptError(o)) return t.fail();
  t.deepEqual(o.args, ["echo", "-x"]);
});

test("linesOf keeps a last line without newline", (t) => {
  t.deepEqual(linesOf("a\nb\n"), ["a", "b"]);
  t.deepEqual(linesOf("a\nb"), ["a", "b"]);
  t.deepEqual(linesOf(""), []);
});
