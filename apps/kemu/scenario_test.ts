import test from "ava";
import { readFileSync } from "node:fs";
import { parseScenario, type Scenario } from "./scenario.ts";
import { formatScenarioError } from "./scenario_error.ts";

const FILE = "scenarios/x.yaml";

function parse(text: string): Scenario {
  const parsed = parseScenario(text, { file: FILE });
  if (!parsed.ok) throw new Error(parsed.errors.map(formatScenarioError).join("\n"));
  return parsed.scenario;
}

/** The printed errors of a scenario that must be refused. */
function errors(text: string): string[] {
  const parsed = parseScenario(text, { file: FILE });
  if (parsed.ok) throw new Error("the scenario was accepted");
  return parsed.errors.map(formatScenarioError);
}

const GOOD = `name: two containers on docker0
description: the seed experiment
cluster: { nodes: 2 }
steps:
  - on: node1
    run: docker run -d --name busybox-1 busybox sleep 3600
  - in: busybox-1
    name: ping the other one
    run: ping -c 2 172.17.0.3
    expect:
      exit: 0
      stdout: "2 packets received"
  - on: node2
    run: cat
    stdin: "text fed to the command"
    expect: { stdout: [text, "/^TEXT/i"], stderr: /^$/ }
  - sleep: 1m30s
  - sleep: 2
  - in: kube-system/coredns:dns
    run: true
    expect: { exit: 1 }
`;

test("a good scenario reads into steps with locations, expectations and durations", (t) => {
  const s = parse(GOOD);
  t.is(s.file, FILE);
  t.is(s.name, "two containers on docker0");
  t.is(s.description, "the seed experiment");
  t.deepEqual(s.cluster, { nodes: 2 });
  t.is(s.steps.length, 6);
  t.deepEqual(s.steps[0], {
    line: 5,
    kind: "run",
    where: "node1",
    location: { kind: "host", host: "node1" },
    command: "docker run -d --name busybox-1 busybox sleep 3600",
    expect: { exit: 0, stdout: [], stderr: [] },
  });
  t.like(s.steps[1], { name: "ping the other one", where: "busybox-1", location: { kind: "container", name: "busybox-1" } });
  t.deepEqual(s.steps[1]!.kind === "run" && s.steps[1]!.expect.stdout, [{ kind: "substring", text: "2 packets received" }]);
  const cat = s.steps[2]!;
  t.true(cat.kind === "run" && cat.stdin === "text fed to the command");
  t.deepEqual(cat.kind === "run" && cat.expect.stdout.map((m) => (m.kind === "regex" ? String(m.regex) : m.text)), [
    "text",
    "/^TEXT/i",
  ]);
  t.like(s.steps[3], { kind: "sleep", ms: 90_000, duration: "1m30s" });
  t.like(s.steps[4], { kind: "sleep", ms: 2000, duration: "2s" });
  t.like(s.steps[5], {
    command: "true",
    location: { kind: "pod", namespace: "kube-system", pod: "coredns", container: "dns" },
    expect: { exit: 1, stdout: [], stderr: [] },
  });
});

test("cluster defaults to one node", (t) => {
  t.deepEqual(parse("name: x\nsteps:\n  - sleep: 1s\n").cluster, { nodes: 1 });
});

test("plain scalars keep their text: run: true is the command true, stdout: 1.10 the text 1.10", (t) => {
  const s = parse("name: x\nsteps:\n  - on: node1\n    run: true\n    expect: { stdout: 1.10 }\n");
  t.like(s.steps[0], { command: "true", expect: { stdout: [{ kind: "substring", text: "1.10" }] } });
});

test("a block scalar command loses its trailing newline, stdin keeps it", (t) => {
  const s = parse("name: x\nsteps:\n  - on: node1\n    run: |\n      cat\n    stdin: |\n      a\n      b\n");
  t.like(s.steps[0], { command: "cat", stdin: "a\nb\n" });
});

test("anchors and aliases may share an expectation between steps", (t) => {
  const s = parse(
    "name: x\nsteps:\n  - on: node1\n    run: a\n    expect: &ok { stdout: done }\n  - on: node1\n    run: b\n    expect: *ok\n",
  );
  t.like(s.steps[1], { expect: { stdout: [{ kind: "substring", text: "done" }] } });
});

test("unknown keys are named with their path and a suggestion", (t) => {
  t.deepEqual(
    errors(`name: x
descripton: y
cluster: { nodez: 2 }
steps:
  - on: node1
    rnu: ls
    run: ls
    expect:
      stdot: x
      extra: 1
`),
    [
      `${FILE}:2:1: descripton: unknown key (did you mean "description"?)`,
      `${FILE}:3:12: cluster.nodez: unknown key (did you mean "nodes"?)`,
      `${FILE}:6:5: steps[0].rnu: unknown key (did you mean "run"?)`,
      `${FILE}:9:7: steps[0].expect.stdot: unknown key (did you mean "stdout"?)`,
      `${FILE}:10:7: steps[0].expect.extra: unknown key (expected one of: exit, stdout, stderr)`,
    ],
  );
});

test("the shape of a step is checked: its kind, on or in, and keys of the other kind", (t) => {
  t.deepEqual(
    errors(`name: x
steps:
  - {}
  - on: node1
  - run: ls
  - on: node1
    in: busybox-1
    run: ls
  - sleep: 1s
    run: ls
  - sleep: 1s
    stdin: x
  - run ls
`),
    [
      `${FILE}:3:5: steps[0]: a step needs one of "run", "sleep" or "fault"`,
      `${FILE}:4:5: steps[1]: a step needs one of "run", "sleep" or "fault"`,
      `${FILE}:5:5: steps[2]: a "run" step needs "on: HOST" or "in: CONTAINER"`,
      `${FILE}:7:5: steps[3]: a step runs either "on" a host or "in" a container or pod, not both`,
      `${FILE}:10:5: steps[4]: a step has only one of "run", "sleep" or "fault", not "sleep" and "run"`,
      `${FILE}:12:5: steps[5].stdin: only a "run" step takes "stdin"`,
      `${FILE}:13:5: steps[6]: expected a step (a mapping such as "on: node1" and "run: …"), got the string "run ls"`,
    ],
  );
});

test("values are checked: types, ranges, hosts, targets, patterns and durations", (t) => {
  t.deepEqual(
    errors(`name: [x]
cluster: { nodes: 201 }
steps:
  - on: node1
    run: ""
    expect: { exit: "0", stdout: [], stderr: ["/a(/"] }
  - in: a/b/c
    run: ls
  - sleep: 2 parsecs
  - sleep: -1s
`),
    [
      `${FILE}:1:7: name: expected a string, got a list`,
      `${FILE}:2:19: cluster.nodes: 201 is out of range (1 to 200)`,
      `${FILE}:5:10: steps[0].run: the command is empty`,
      `${FILE}:6:21: steps[0].expect.exit: expected an integer, got the string "0"`,
      `${FILE}:6:34: steps[0].expect.stdout: an empty list checks nothing (give a string, a /regex/, or a list of them)`,
      `${FILE}:6:47: steps[0].expect.stderr[0]: /a(/ is not a valid regular expression: Invalid regular expression: /a(/: Unterminated group`,
      `${FILE}:7:9: steps[1].in: "a/b/c" is not a pod (use NAME for a container, or NAMESPACE/POD[:CONTAINER] or POD:CONTAINER for a pod)`,
      `${FILE}:9:12: steps[2].sleep: "2 parsecs" is not a duration (use 500ms, 2s, 1m, 1h)`,
      `${FILE}:10:12: steps[3].sleep: "-1s" is not a duration (use 500ms, 2s, 1m, 1h)`,
    ],
  );
});

test("cluster.proxyMode is iptables or ipvs, in kube-proxy's words otherwise", (t) => {
  t.deepEqual(
    errors(`name: x
cluster: { nodes: 1, proxyMode: nftables }
steps:
  - sleep: 1s
`),
    [`${FILE}:2:33: cluster.proxyMode: invalid proxy mode "nftables": use iptables or ipvs`],
  );
  const ok = parseScenario("name: x\ncluster: { proxyMode: ipvs }\nsteps:\n  - sleep: 1s\n", { file: FILE });
  t.true(ok.ok);
  if (ok.ok) t.is(ok.scenario.cluster.proxyMode, "ipvs");
});

test("hosts in on: must exist in the cluster", (t) => {
  t.deepEqual(
    errors(`name: x
cluster: { nodes: 2 }
steps:
  - on: node3
    run: ls
  - on: nod1
    run: ls
  - on: control
    run: kubectl get nodes
`),
    [
      `${FILE}:4:9: steps[0].on: "node3" is not a host of this cluster: it has 2 nodes (node1 to node2); set cluster.nodes to 3 or more to use it`,
      `${FILE}:6:9: steps[1].on: "nod1" is not a host (use node1, node2, control or outside) (did you mean "node1"?)`,
    ],
  );
});

test("the top level needs a name and at least one step", (t) => {
  t.deepEqual(errors("steps: []\n"), [
    `${FILE}:1:1: missing required key "name"`,
    `${FILE}:1:8: steps: a scenario needs at least one step`,
  ]);
  t.deepEqual(errors("name: x\n"), [`${FILE}:1:1: missing required key "steps"`]);
  t.deepEqual(errors("# nothing\n"), [`${FILE}:1:1: the file is empty (a scenario needs "name" and "steps")`]);
  t.deepEqual(errors("- on: node1\n"), [`${FILE}:1:1: expected a mapping with "name" and "steps", got a list`]);
});

test("malformed YAML is reported at the parser's position, with the lines around it", (t) => {
  t.deepEqual(errors("name: x\nsteps:\n  - on: node1\n   run: ls\n"), [
    `${FILE}:4:1: Sequence item without - indicator\n      - on: node1\n       run: ls\n    ^`,
  ]);
  t.deepEqual(errors("name: x\nname: y\nsteps:\n  - sleep: 1s\n")[0]?.split("\n")[0], `${FILE}:2:1: Map keys must be unique`);
});

test("a file with two documents is refused", (t) => {
  t.regex(errors("name: x\nsteps:\n  - sleep: 1s\n---\nname: y\n")[0]!, /^scenarios\/x\.yaml:4:1: Source contains multiple documents/);
});

test("the example at the top of SCENARIOS.md is a valid scenario", (t) => {
  const doc = readFileSync(new URL("../SCENARIOS.md", import.meta.url), "utf8");
  const example = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
  t.truthy(example);
  const s = parse(example!);
  t.is(s.steps.length, 6);
  t.like(s.steps[3], { name: "both veths are on docker0" });
});

test("a fault step names the node and needs crash: true", (t) => {
  const ok = parseScenario("name: f\ncluster: { nodes: 2 }\nsteps:\n  - fault: { node: node2, crash: true }\n", { file: "f.yaml" });
  t.true(ok.ok);
  if (ok.ok) t.deepEqual(ok.scenario.steps[0], { kind: "fault", fault: { kind: "crash", node: "node2" }, text: "fault node2 crash", line: 4 });
  const bad = parseScenario("name: f\nsteps:\n  - fault: { node: node7, crash: true }\n  - fault: { node: node1 }\n  - fault: { node: node1, crash: true, lose: 5 }\n", { file: "f.yaml" });
  t.false(bad.ok);
  if (!bad.ok) {
    const text = bad.errors.map((e) => `${e.line}: ${e.path}: ${e.message}`).join("\n");
    t.regex(text, /3: steps\[0\]\.fault\.node: "node7" is not a host of this cluster/);
    t.regex(text, /4: steps\[1\]\.fault\.crash: a node fault needs one of "crash: true", "restart: true", "join: true", "stop: AGENT", "start: AGENT", "conntrack: flush" or "mtu: BYTES" \(with "dev: IFNAME"\)/);
    t.regex(text, /5: steps\[2\]\.fault\.lose: unknown key/);
  }
});

test("link and partition faults read netem's vocabulary and refuse what is not", (t) => {
  const ok = parseScenario(
    "name: f\ncluster: { nodes: 3 }\nsteps:\n  - fault: { link: node1-node2, loss: 10%, delay: 100ms, jitter: 10ms, rate: 1mbit, for: 30s }\n  - fault: { partition: [[node1], [node2, node3]] }\n  - fault: { link: node1->outside, down: true }\n",
    { file: "f.yaml" },
  );
  t.true(ok.ok);
  if (ok.ok) {
    const [a, b, c] = ok.scenario.steps as unknown as Array<{ fault: unknown; text: string }>;
    t.deepEqual(a!.fault, { kind: "link", from: "node1", to: "node2", bothWays: true, effect: { lossPct: 10, delayMs: 100, jitterMs: 10, rateBps: 1e6 }, forMs: 30_000 });
    t.is(a!.text, "fault link node1-node2 delay 100ms jitter 10ms loss 10% rate 1mbit for 30s");
    t.deepEqual(b!.fault, { kind: "partition", groups: [["node1"], ["node2", "node3"]] });
    t.deepEqual(c!.fault, { kind: "link", from: "node1", to: "outside", bothWays: false, effect: { lossPct: 100 } });
  }
  const bad = parseScenario(
    "name: f\ncluster: { nodes: 2 }\nsteps:\n  - fault: { link: node1-node2 }\n  - fault: { link: node1-node2, loss: lots }\n  - fault: { link: node1 node2, loss: 1% }\n  - fault: { partition: [[node1]] }\n  - fault: { link: node1-node2, loss: 1%, for: soon }\n",
    { file: "f.yaml" },
  );
  t.false(bad.ok);
  if (!bad.ok) {
    const text = bad.errors.map((e) => `${e.line}: ${e.path}: ${e.message}`).join("\n");
    t.regex(text, /4: steps\[0\]\.fault: a link fault needs an effect/);
    t.regex(text, /5: steps\[1\]\.fault\.loss: "lots" is not a percentage/);
    t.regex(text, /6: steps\[2\]\.fault\.link: "node1 node2" is not a link/);
    t.regex(text, /7: steps\[3\]\.fault\.partition: a partition needs at least two groups/);
    t.regex(text, /8: steps\[4\]\.fault\.for: "soon" is not a duration/);
  }
});

test("cluster.network is flannel's net-conf.json, refused in flannel's words", (t) => {
  const ok = parseScenario("name: n\ncluster: { network: { Network: 10.200.0.0/16, SubnetLen: 25 } }\nsteps:\n  - sleep: 1s\n", { file: "n.yaml" });
  t.true(ok.ok);
  if (ok.ok) t.deepEqual(ok.scenario.cluster.network, { network: "10.200.0.0/16", subnetLen: 25, subnetMin: "10.200.0.128", subnetMax: "10.200.255.128", backend: "udp" });
  for (const [conf, message] of [
    ["{ Network: 10.244.0.0/16, SubnetLen: 31 }", "SubnetLen must be less than /31"],
    ["{ Network: 10.244.0.0/24, SubnetLen: 25 }", "network must be able to accommodate at least four subnets"],
    ["{ Network: 10.244.0.0/16, Backend: { Type: aws-vpc } }", "Error fetching backend: unknown backend type: aws-vpc"],
    ["{ Network: 10.96.0.0/16 }", "Network 10.96.0.0/16 overlaps the service network 10.96.0.0/12"],
  ] as const) {
    const bad = parseScenario(`name: n\ncluster: { network: ${conf} }\nsteps:\n  - sleep: 1s\n`, { file: "n.yaml" });
    t.false(bad.ok);
    if (!bad.ok) t.is(bad.errors[0]!.message, `flannel refuses this network config: ${message}`, conf);
  }
});
