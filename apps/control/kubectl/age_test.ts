import test from "ava";
import { age, humanDuration, parseGoDuration, rfc1123z, timestampAt } from "./age.ts";

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

test("humanDuration gives two significant figures as apimachinery's HumanDuration", (t) => {
  const cases: Array<[number, string]> = [
    [0, "0s"],
    [-1500, "0s"],
    [-3 * S, "<invalid>"],
    [45 * S, "45s"],
    [119 * S, "119s"],
    [2 * M, "2m"],
    [2 * M + 30 * S, "2m30s"],
    [9 * M + 59 * S, "9m59s"],
    [10 * M + 30 * S, "10m"],
    [179 * M, "179m"],
    [3 * H, "3h"],
    [3 * H + 2 * M, "3h2m"],
    [7 * H + 59 * M, "7h59m"],
    [8 * H + 30 * M, "8h"],
    [47 * H, "47h"],
    [2 * D, "2d"],
    [2 * D + 3 * H, "2d3h"],
    [7 * D + 23 * H, "7d23h"],
    [8 * D + 5 * H, "8d"],
    [729 * D, "729d"],
    [730 * D, "2y"],
    [730 * D + 100 * D, "2y100d"],
    [8 * 365 * D, "8y"],
    [20 * 365 * D, "20y"],
  ];
  for (const [ms, text] of cases) t.is(humanDuration(ms), text, `${ms} ms`);
});

test("age counts from a creation stamp to emulated now, time 0 being 2026-01-01", (t) => {
  t.is(age("2026-01-01T00:00:00Z", 45 * S), "45s");
  t.is(age("2026-01-01T00:00:10Z", 5 * M + 10 * S), "5m");
  t.is(age(undefined, 0), "<unknown>");
  t.is(timestampAt(65_500), "2026-01-01T00:01:05Z");
});

test("rfc1123z prints describe's time stamps", (t) => {
  t.is(rfc1123z("2026-01-01T00:00:05Z"), "Thu, 01 Jan 2026 00:00:05 +0000");
  t.is(rfc1123z("2026-03-15T13:04:59Z"), "Sun, 15 Mar 2026 13:04:59 +0000");
  t.is(rfc1123z(undefined), "Mon, 01 Jan 0001 00:00:00 +0000");
});

test("Go durations as --timeout takes them", (t) => {
  t.is(parseGoDuration("60s"), 60_000);
  t.is(parseGoDuration("1m30s"), 90_000);
  t.is(parseGoDuration("500ms"), 500);
  t.is(parseGoDuration("0"), 0);
  t.is(parseGoDuration("2h"), 7_200_000);
  t.is(parseGoDuration("60"), undefined);
});
