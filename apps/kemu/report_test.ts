import test from "ava";
import { FakeDriver } from "./_fake_driver.ts";
import { colorEnabled, formatJson, formatRunStart, formatStep, formatSummary } from "./report.ts";
import { runScenario } from "./runner.ts";
import { parseScenario, type Scenario } from "./scenario.ts";

function scenario(text: string): Scenario {
  const parsed = parseScenario(text, { file: "scenarios/t.yaml" });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.scenario;
}

const PLAIN = { color: false };

const SCENARIO = `name: two containers
steps:
  - on: node1
    run: docker run -d --name busybox-1 busybox sleep 3600
  - in: busybox-1
    run: ping -c 2 172.17.0.3
    expect: { stdout: "2 packets received" }
  - sleep: 2
  - on: node1
    name: no such link
    run: |
      ip link show nope
      echo done
`;

const ANSWERS = {
  "docker run -d --name busybox-1 busybox sleep 3600": { stdout: "3f4e5d6c7b8a\n" },
  "ping -c 2 172.17.0.3": { exit: 1, stdout: "2 packets transmitted, 0 packets received, 100% packet loss\n" },
  "ip link show nope\necho done": { exit: 1, stderr: `Device "nope" does not exist.\n` },
};

test("each step prints as a prompt, its output indented, stderr marked, and a verdict", async (t) => {
  const result = await runScenario(scenario(SCENARIO), new FakeDriver(ANSWERS));
  t.is(
    result.steps.map((r) => formatStep(r, PLAIN)).join("") + formatSummary(result, PLAIN),
    `
node1 $ docker run -d --name busybox-1 busybox sleep 3600
  3f4e5d6c7b8a
✔

busybox-1 # ping -c 2 172.17.0.3
  2 packets transmitted, 0 packets received, 100% packet loss
✘ expected exit 0, got 1
✘ expected stdout to contain "2 packets received"; closest line: "2 packets transmitted, 0 packets received, 100% packet loss"

sleep 2s
✔

node1: no such link
  ! Device "nope" does not exist.
✘ expected exit 0, got 1

FAIL 2 of 4 steps failed
`,
  );
});

test("a multi-line command shows continuation lines, a passing run says PASS n/n", async (t) => {
  const s = scenario("name: x\nsteps:\n  - on: node2\n    run: |\n      echo a\n      echo b\ncluster: { nodes: 2 }\n");
  const result = await runScenario(s, new FakeDriver({ "echo a\necho b": { stdout: "a\nb\n" } }));
  t.is(formatRunStart(s, { color: false, seed: 7 }), "▶ x (scenarios/t.yaml: 1 step, 2 nodes, seed 7)\n");
  t.is(formatStep(result.steps[0]!, PLAIN) + formatSummary(result, PLAIN), "\nnode2 $ echo a\n> echo b\n  a\n  b\n✔\n\nPASS 1/1 step\n");
});

test("a stopped run counts the step that broke and the steps not run", async (t) => {
  const s = scenario("name: x\nsteps:\n  - on: node1\n    run: a\n  - on: node1\n    run: b\n  - sleep: 1s\n");
  const result = await runScenario(s, new FakeDriver({ a: {}, b: new Error("boom") }));
  t.is(formatSummary(result, PLAIN), "\nFAIL 1 of 3 steps failed, 1 not run\n");
});

test("colour is used only on a terminal without NO_COLOR", async (t) => {
  t.true(colorEnabled({ isTTY: true }, {}));
  t.true(colorEnabled({ isTTY: true }, { NO_COLOR: "" }));
  t.false(colorEnabled({ isTTY: true }, { NO_COLOR: "1" }));
  t.false(colorEnabled({}, {}));
  const result = await runScenario(scenario(SCENARIO), new FakeDriver(ANSWERS));
  t.false(formatStep(result.steps[1]!, PLAIN).includes("\x1b["));
  t.true(formatStep(result.steps[1]!, { color: true }).includes("\x1b[31m✘ expected exit 0, got 1\x1b[0m"));
});

test("--json is one document with exactly the documented keys", async (t) => {
  const result = await runScenario(scenario(SCENARIO), new FakeDriver(ANSWERS));
  const doc = JSON.parse(formatJson(result));
  t.deepEqual(doc, {
    passed: false,
    steps: [
      {
        location: "node1",
        command: "docker run -d --name busybox-1 busybox sleep 3600",
        exit: 0,
        stdout: "3f4e5d6c7b8a\n",
        stderr: "",
        passed: true,
      },
      {
        location: "busybox-1",
        command: "ping -c 2 172.17.0.3",
        exit: 1,
        stdout: "2 packets transmitted, 0 packets received, 100% packet loss\n",
        stderr: "",
        passed: false,
      },
      { location: null, command: "sleep 2s", exit: 0, stdout: "", stderr: "", passed: true },
      {
        location: "node1",
        command: "ip link show nope\necho done",
        exit: 1,
        stdout: "",
        stderr: `Device "nope" does not exist.\n`,
        passed: false,
      },
    ],
  });
});

test("--json of a stopped run carries the error and its step", async (t) => {
  const s = scenario("name: x\nsteps:\n  - on: node1\n    run: b\n");
  const doc = JSON.parse(formatJson(await runScenario(s, new FakeDriver({ b: new Error("boom") }))));
  t.deepEqual(doc, { passed: false, steps: [], error: { step: 0, message: "boom" } });
});
