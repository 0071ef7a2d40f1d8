import test from "ava";
import { humanDuration } from "./rest_table.ts";

test("humanDuration words ages as apimachinery's HumanDuration", (t) => {
  const s = 1000;
  t.is(humanDuration(-5 * s), "<invalid>");
  t.is(humanDuration(-500), "0s");
  t.is(humanDuration(0), "0s");
  t.is(humanDuration(119 * s), "119s");
  t.is(humanDuration(125 * s), "2m5s");
  t.is(humanDuration(180 * s), "3m");
  t.is(humanDuration(45 * 60 * s), "45m");
  t.is(humanDuration(3.5 * 3600 * s), "3h30m");
  t.is(humanDuration(30 * 3600 * s), "30h");
  t.is(humanDuration(3 * 86400 * s + 3600 * s), "3d1h");
  t.is(humanDuration(30 * 86400 * s), "30d");
  t.is(humanDuration(3 * 365 * 86400 * s + 86400 * s), "3y1d");
  t.is(humanDuration(9 * 365 * 86400 * s), "9y");
});
