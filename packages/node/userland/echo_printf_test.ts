import test from "ava";
import { echoText, formatPrintf } from "./echo_printf.ts";

test("echo: -n drops the newline, -e expands escapes, other dashes are text", (t) => {
  t.is(echoText(["a", "b"]), "a b\n");
  t.is(echoText(["-n", "a"]), "a");
  t.is(echoText(["-e", "a\\tb\\n"]), "a\tb\n\n");
  t.is(echoText(["a\\tb"]), "a\\tb\n");
  t.is(echoText(["-x", "a"]), "-x a\n");
  t.is(echoText(["-e", "stop\\chere"]), "stop");
});

test("printf reuses the format while arguments remain (recorded from bash 5.2)", (t) => {
  t.is(formatPrintf("%5s|%-5d|%03d|%x|%s\\n", ["a", "3", "7", "255", "b", "c"]).out, "    a|3    |007|ff|b\n    c|0    |000|0|\n");
  t.is(formatPrintf("%s=%d\\n", ["a", "1", "b", "2"]).out, "a=1\nb=2\n");
});

test("printf conversions: %c %o %X %e %f %g %b %% and precision", (t) => {
  t.is(formatPrintf("%c%o%X%%", ["xyz", "8", "255"]).out, "x10FF%");
  t.is(formatPrintf("%.2f %e %g %g", ["3.14159", "12345.678", "0.0001", "100000"]).out, "3.14 1.234568e+04 0.0001 100000");
  t.is(formatPrintf("%b|%.3s", ["a\\nb", "abcdef"]).out, "a\nb|abc");
  t.is(formatPrintf("%d", ["'A"]).out, "65");
});

test("printf reports arguments that are not numbers", (t) => {
  const r = formatPrintf("%d\\n", ["abc"]);
  t.is(r.out, "0\n");
  t.deepEqual(r.issues, [{ kind: "invalid-number", arg: "abc" }]);
  t.deepEqual(formatPrintf("%d\\n", ["12abc"]).issues, [{ kind: "partial-number", arg: "12abc" }]);
});
