import test from "ava";
import { parseDuration } from "./duration.ts";

test("durations take ms, s, m and h units", (t) => {
  t.is(parseDuration("500ms"), 500);
  t.is(parseDuration("2s"), 2000);
  t.is(parseDuration("1.5s"), 1500);
  t.is(parseDuration("1m"), 60_000);
  t.is(parseDuration("1h"), 3_600_000);
});

test("a bare number is seconds", (t) => {
  t.is(parseDuration("2"), 2000);
  t.is(parseDuration("0.25"), 250);
});

test("units add up in a sum such as 1m30s", (t) => {
  t.is(parseDuration("1m30s"), 90_000);
  t.is(parseDuration("1h1ms"), 3_600_001);
});

test("anything else is not a duration", (t) => {
  for (const text of ["2 parsecs", "", "s", "-1s", "2sec", "1.s", "1m 30s", "1d", "ms5"]) {
    t.is(parseDuration(text), undefined, text);
  }
});
