import test from "ava";
import { FakeDriver } from "./_fake_driver.ts";
import { type Fault, parseFaultCommand, runHostKemuCommand } from "./fault.ts";
import { parseScenario } from "./scenario.ts";

const HOSTS = { nodes: 3, spare: 1 };

/** Reads one fault: block in a scenario of three nodes and a spare; its fault and text, or its messages. */
function yaml(block: string): { fault: Fault; text: string } | string[] {
  const parsed = parseScenario(`name: f\ncluster: { nodes: 3, spare: 1 }\nsteps:\n  - fault: ${block}\n`, { file: "f.yaml" });
  if (!parsed.ok) return parsed.errors.map((e) => `${e.path.replace(/^steps\[0\]\.fault\.?/, "")}: ${e.message}`.replace(/^: /, ""));
  const step = parsed.scenario.steps[0]!;
  if (step.kind !== "fault") throw new Error("not a fault step");
  return { fault: step.fault, text: step.text };
}

function command(line: string): { fault: Fault; text: string } | string[] {
  const parsed = parseFaultCommand(line.split(" "), HOSTS);
  return "errors" in parsed ? [...parsed.errors] : { fault: parsed.fault, text: parsed.text };
}

test("each new fault reads the same from a scenario's mapping and from a command line, and prints as that line", (t) => {
  const cases: Array<[string, string, Fault]> = [
    ["{ node: node4, join: true }", "node4 join", { kind: "join", node: "node4" }],
    ["{ node: node1, conntrack: flush }", "node1 conntrack flush", { kind: "conntrack", node: "node1" }],
    ["{ node: node2, dev: eth0, mtu: 1400 }", "node2 dev eth0 mtu 1400", { kind: "mtu", node: "node2", dev: "eth0", mtu: 1400 }],
    [
      "{ link: node1-node2, flap: { down: 2s, up: 3s }, for: 30s }",
      "link node1-node2 flap down 2s up 3s for 30s",
      { kind: "link", from: "node1", to: "node2", bothWays: true, effect: {}, flap: { downMs: 2000, upMs: 3000 }, forMs: 30_000 },
    ],
    [
      "{ link: node1->node3, delay: 100ms, flap: { down: 500ms, up: 1s } }",
      "link node1->node3 delay 100ms flap down 500ms up 1s",
      { kind: "link", from: "node1", to: "node3", bothWays: false, effect: { delayMs: 100 }, flap: { downMs: 500, upMs: 1000 } },
    ],
    ["{ node: node2, crash: true }", "node2 crash", { kind: "crash", node: "node2" }],
    ["{ node: node2, restart: true }", "node2 restart", { kind: "restart", node: "node2" }],
    ["{ node: node1, stop: flanneld }", "node1 stop flanneld", { kind: "agent", node: "node1", agent: "flanneld", action: "stop" }],
    [
      "{ link: node1-node2, loss: 10%, for: 30s }",
      "link node1-node2 loss 10% for 30s",
      { kind: "link", from: "node1", to: "node2", bothWays: true, effect: { lossPct: 10 }, forMs: 30_000 },
    ],
    ["{ partition: [[node1], [node2, node3]], for: 30s }", "partition [node1] [node2,node3] for 30s", { kind: "partition", groups: [["node1"], ["node2", "node3"]], forMs: 30_000 }],
  ];
  for (const [block, line, fault] of cases) {
    const a = yaml(block);
    const b = command(line);
    t.deepEqual(a, b, line);
    t.deepEqual((a as { fault: Fault }).fault, fault, block);
  }
  // The text a fault prints is itself a command line that reads back to the same fault.
  const partition = command("partition [node1] | [node2,node3] for 30s") as { fault: Fault; text: string };
  t.is(partition.text, "fault partition [node1] | [node2,node3] for 30s");
  t.deepEqual(command(partition.text.replace(/^fault /, "")), partition);
  t.deepEqual(command("link node1-node2 down"), command("link node1-node2 down true"));
});

test("nonsense is refused with the same words from a scenario and from a command line", (t) => {
  const cases: Array<[string, string, string]> = [
    ["{ node: node2, join: true }", "node2 join", `node: node2 is in the cluster from the start, so it cannot join: only node4 can`],
    ["{ node: control, join: true }", "control join", `node: only a node can join, not control`],
    ["{ node: node9, crash: true }", "node9 crash", `node: "node9" is not a host of this cluster: it has 4 nodes (node1 to node4); set cluster.nodes to 9 or more to use it`],
    ["{ node: node1, conntrack: drop }", "node1 conntrack drop", `conntrack: "drop" is not something to do to the conntrack table: use flush`],
    ["{ node: node1, dev: eth0, mtu: 12 }", "node1 dev eth0 mtu 12", `mtu: "12" is not an MTU: use a number of bytes from 68 to 65535`],
    ["{ node: node1, mtu: 1400 }", "node1 mtu 1400", `an "mtu" fault needs "dev: IFNAME", the interface to change (such as eth0)`],
    ["{ node: node1, dev: eth0, crash: true }", "node1 dev eth0 crash", `dev: only an "mtu" fault takes "dev"`],
    ["{ node: node1, crash: true, stop: kubelet }", "node1 crash stop kubelet", `stop: a node fault does one thing: "crash" and "stop" cannot go together`],
    ["{ node: node1, stop: etcd }", "node1 stop etcd", `stop: "etcd" is not an agent kemu runs: kubelet, kube-proxy, flanneld`],
    ["{ node: node1, loss: 5% }", "node1 loss 5%", `crash: a node fault needs one of "crash: true", "restart: true", "join: true", "stop: AGENT", "start: AGENT", "conntrack: flush" or "mtu: BYTES" (with "dev: IFNAME")`],
    ["{ link: node1-node2, flap: { down: 2s } }", "link node1-node2 flap down 2s", `flap: a flapping link needs "down" and "up": how long it stays down, then up, each time round`],
    ["{ link: node1-node2, flap: { down: 0s, up: 1s } }", "link node1-node2 flap down 0s up 1s", `flap.down: a flap's "down" must be longer than 0`],
    ["{ link: node1-node2, flap: { down: soon, up: 1s } }", "link node1-node2 flap down soon up 1s", `flap.down: "soon" is not a duration (use 500ms, 2s, 1m, 1h)`],
    ["{ link: node1-node2, down: true, flap: { down: 1s, up: 1s } }", "link node1-node2 down flap down 1s up 1s", `flap: a link that is "down" for good cannot flap`],
    ["{ link: node1-node2 }", "link node1-node2", `a link fault needs an effect: delay, jitter, loss, gemodel, duplicate, corrupt, reorder, rate, down or flap`],
    ["{ link: node1-node2, loss: lots }", "link node1-node2 loss lots", `loss: "lots" is not a percentage (use 10%)`],
    ["{ partition: [[node1]] }", "partition [node1]", `partition: a partition needs at least two groups of hosts, such as [[node1], [node2, node3]]`],
    ["{ partition: [[node1], [node2]], loss: 5% }", "partition [node1] [node2] loss 5%", `loss: a partition cuts every link between its groups; "loss" goes with a "link" fault`],
    ["{ link: node1-node2, loss: 5%, for: soon }", "link node1-node2 loss 5% for soon", `for: "soon" is not a duration (use 500ms, 2s, 1m, 1h)`],
  ];
  for (const [block, line, message] of cases) {
    t.deepEqual(yaml(block), [message], block);
    t.deepEqual(command(line), [message], line);
  }
  const misspelt = [`a link fault needs an effect: delay, jitter, loss, gemodel, duplicate, corrupt, reorder, rate, down or flap`, `lose: unknown key (did you mean "loss"?)`];
  t.deepEqual(yaml("{ link: node1-node2, lose: 5% }"), misspelt);
  t.deepEqual(command("link node1-node2 lose 5%"), misspelt);
  t.deepEqual(command(""), [`a fault needs exactly one of "node", "link" or "partition"`]);
});

test("the kemu command of a host's shell applies a fault and prints its event line, or refuses it and does nothing", async (t) => {
  const driver = new FakeDriver({ "conntrack -F": { stdout: "" } });
  driver.now = 12_500;
  const ok = await runHostKemuCommand(driver, ["fault", "node1", "conntrack", "flush"], { nodes: 1, spare: 0 });
  t.deepEqual(ok, { exit: 0, stdout: "[12.500000] fault node1 conntrack flush\n", stderr: "" });
  t.like(driver.calls.at(-1), { op: "exec", location: { kind: "host", host: "node1" }, command: "conntrack -F" });
  const calls = driver.calls.length;
  const bad = await runHostKemuCommand(driver, ["fault", "link", "node1-node2", "loss", "5%"], { nodes: 1, spare: 0 });
  t.is(bad.exit, 2);
  t.is(bad.stderr, `kemu fault: link: "node2" is not a host of this cluster: it has 1 node (node1 only); set cluster.nodes to 2 or more to use it\n`);
  t.is(driver.calls.length, calls, "a refused fault does nothing");
  const unknown = await runHostKemuCommand(driver, ["break"], { nodes: 1, spare: 0 });
  t.deepEqual(unknown, { exit: 2, stdout: "", stderr: `kemu: unknown command "break" (use kemu fault …)\n` });
  const missing = await runHostKemuCommand(driver, ["fault", "node1", "dev", "eth9", "mtu", "1400"], { nodes: 1, spare: 0 });
  t.is(missing.exit, 127, "the tool's failure is passed on, with no event line");
  t.is(missing.stdout, "");
});
