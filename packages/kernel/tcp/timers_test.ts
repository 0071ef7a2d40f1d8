import test from "ava";
import { EventLoop } from "../clock.ts";
import { DeadlineTimer, RtoEstimator } from "./timers.ts";

test("the RTO starts at 1 s, and a LAN round trip gives Linux's 200 ms floor", (t) => {
  const e = new RtoEstimator();
  t.is(e.rto, 1000);
  e.sample(0.1);
  t.true(Math.abs(e.rto - 200.1) < 1e-9);
  e.sample(0.1);
  t.true(e.rto >= 200 && e.rto < 201);
});

test("RFC 6298: srtt and rttvar follow samples; a slow path's RTO is srtt + 4·rttvar", (t) => {
  const e = new RtoEstimator();
  e.sample(1000);
  t.is(e.srtt, 1000);
  t.is(e.rttvar, 500);
  t.is(e.rto, 3000);
  e.sample(1000);
  t.is(e.srtt, 1000);
  t.is(e.rttvar, 375);
  t.is(e.rto, 2500);
});

test("the RTO doubles per timeout up to 120 s and resets on new data", (t) => {
  const e = new RtoEstimator();
  const seen: number[] = [];
  for (let i = 0; i < 10; i++) {
    seen.push(e.rto);
    e.backoff();
  }
  t.deepEqual(seen, [1000, 2000, 4000, 8000, 16000, 32000, 64000, 120000, 120000, 120000]);
  e.resetBackoff();
  t.is(e.rto, 1000);
});

test("a deadline timer fires once, at its latest deadline, with one clock timer", (t) => {
  const clock = new EventLoop();
  let fired = 0;
  const timer = new DeadlineTimer(clock, () => fired++);
  timer.arm(100);
  for (let i = 1; i <= 50; i++) {
    clock.runUntil(i);
    timer.arm(100);
  }
  t.true(clock.pending <= 2);
  clock.runUntil(149);
  t.is(fired, 0);
  clock.runUntil(150);
  t.is(fired, 1);
  t.false(timer.armed);
  timer.arm(10);
  timer.cancel();
  clock.runUntil(1000);
  t.is(fired, 1);
  t.is(clock.nextAt(), undefined);
});

test("a deadline moved earlier fires early", (t) => {
  const clock = new EventLoop();
  const at: number[] = [];
  const timer = new DeadlineTimer(clock, () => at.push(clock.now()));
  timer.arm(500);
  timer.arm(20);
  clock.runUntil(1000);
  t.deepEqual(at, [20]);
});
