import test from "ava";
import { FakeDriver } from "./_fake_driver.ts";
import { runScenario } from "./runner.ts";
import { parseScenario, type Scenario } from "./scenario.ts";

function scenario(text: string): Scenario {
  const parsed = parseScenario(text, { file: "t.yaml" });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.scenario;
}

const PING = "PING 172.17.0.3 (172.17.0.3): 56 data bytes\n" +
  "64 bytes from 172.17.0.3: seq=0 ttl=64 time=0.101 ms\n64 bytes from 172.17.0.3: seq=1 ttl=64 time=0.087 ms\n\n" +
  "--- 172.17.0.3 ping statistics ---\n2 packets transmitted, 2 packets received, 0% packet loss\n";

test("run steps go to the driver with their location, command and stdin; sleeps advance the clock", async (t) => {
  const driver = new FakeDriver({ cat: (stdin) => ({ stdout: stdin ?? "" }), "ls /": { stdout: "bin\n" } });
  const result = await runScenario(
    scenario(`name: x
steps:
  - on: node1
    run: ls /
  - sleep: 1.5s
  - in: busybox-1
    run: cat
    stdin: hello
    expect: { stdout: hello }
`),
    driver,
  );
  t.deepEqual(driver.calls, [
    { op: "exec", location: { kind: "host", host: "node1" }, command: "ls /" },
    { op: "sleep", ms: 1500 },
    { op: "exec", location: { kind: "container", name: "busybox-1" }, command: "cat", stdin: "hello" },
  ]);
  t.true(result.passed);
  t.deepEqual(
    result.steps.map(({ location, command, exit, stdout, passed }) => ({ location, command, exit, stdout, passed })),
    [
      { location: "node1", command: "ls /", exit: 0, stdout: "bin\n", passed: true },
      { location: null, command: "sleep 1.5s", exit: 0, stdout: "", passed: true },
      { location: "busybox-1", command: "cat", exit: 0, stdout: "hello", passed: true },
    ],
  );
});

test("without expect a step passes only on exit 0", async (t) => {
  const driver = new FakeDriver({ "true": {}, "false": { exit: 1 } });
  const result = await runScenario(scenario("name: x\nsteps:\n  - on: node1\n    run: 'true'\n  - on: node1\n    run: 'false'\n"), driver);
  t.false(result.passed);
  t.deepEqual(result.steps.map((s) => [s.passed, s.failures]), [[true, []], [false, ["expected exit 0, got 1"]]]);
});

test("expect.exit replaces the default exit 0", async (t) => {
  const driver = new FakeDriver({ "ping -c 1 -W 1 10.9.9.9": { exit: 1, stdout: "1 packets transmitted, 0 packets received\n" } });
  const result = await runScenario(
    scenario("name: x\nsteps:\n  - on: node1\n    run: ping -c 1 -W 1 10.9.9.9\n    expect: { exit: 1, stdout: 0 packets received }\n"),
    driver,
  );
  t.true(result.passed);
});

test("stdout checks: substring, regex and a list that must all hold", async (t) => {
  const driver = new FakeDriver({ "ping -c 2 172.17.0.3": { stdout: PING } });
  const result = await runScenario(
    scenario(`name: x
steps:
  - in: busybox-1
    run: ping -c 2 172.17.0.3
    expect: { stdout: "2 packets received" }
  - in: busybox-1
    run: ping -c 2 172.17.0.3
    expect: { stdout: "/seq=1 ttl=\\\\d+/" }
  - in: busybox-1
    run: ping -c 2 172.17.0.3
    expect: { stdout: ["2 packets received", "/^64 bytes from 172\\\\.17\\\\.0\\\\.3/m", "3 packets received", "/TTL/"] }
`),
    driver,
  );
  t.deepEqual(result.steps.map((s) => s.failures), [
    [],
    [],
    [
      `expected stdout to contain "3 packets received"; closest line: "2 packets transmitted, 2 packets received, 0% packet loss"`,
      "expected stdout to match /TTL/",
    ],
  ]);
});

test("stderr has the same checks", async (t) => {
  const driver = new FakeDriver({ "ip link show nope": { exit: 1, stderr: `Device "nope" does not exist.\n` } });
  const result = await runScenario(
    scenario("name: x\nsteps:\n  - on: node1\n    run: ip link show nope\n    expect: { exit: 1, stderr: /does not exist/, stdout: x }\n"),
    driver,
  );
  t.deepEqual(result.steps[0]?.failures, ["expected stdout to contain \"x\", but stdout was empty"]);
});

test("a failed step does not stop the run", async (t) => {
  const driver = new FakeDriver({ a: { exit: 2 }, b: { stdout: "ok\n" } });
  const seen: number[] = [];
  const result = await runScenario(scenario("name: x\nsteps:\n  - on: node1\n    run: a\n  - on: node1\n    run: b\n"), driver, {
    onStepEnd: (r) => seen.push(r.index),
  });
  t.false(result.passed);
  t.deepEqual(seen, [0, 1]);
  t.deepEqual(result.steps.map((s) => s.passed), [false, true]);
  t.is(result.error, undefined);
});

test("an error from the driver stops the run and is reported with its step", async (t) => {
  const driver = new FakeDriver({ a: {}, b: new Error("node1: worker crashed") });
  const started: number[] = [];
  const result = await runScenario(
    scenario("name: x\nsteps:\n  - on: node1\n    run: a\n  - on: node1\n    run: b\n  - on: node1\n    run: a\n"),
    driver,
    { onStepStart: (_, i) => started.push(i) },
  );
  t.false(result.passed);
  t.deepEqual(started, [0, 1]);
  t.is(result.steps.length, 1);
  t.deepEqual(result.error, { index: 1, message: "node1: worker crashed" });
  t.is(driver.calls.length, 2);
});
