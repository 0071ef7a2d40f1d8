import test from "ava";
import { threadId } from "node:worker_threads";
import { startCluster } from "./cluster.ts";
import { applyFault, parseFaultCommand, type ReadFault } from "./fault.ts";

test("a 3-node cluster: three Ready nodes, every host in a worker thread of its own", async (t) => {
  const driver = await startCluster({ nodes: 3, seed: 1, time: "virtual", capture: false });
  try {
    const nodes = await driver.exec({ kind: "host", host: "control" }, "kubectl get nodes");
    t.is(nodes.exit, 0, nodes.stderr);
    const ready = nodes.stdout.split("\n").filter((l) => /^node\d\s+Ready\s/.test(l));
    t.is(ready.length, 3, nodes.stdout);
    const ids = driver.threadIds!;
    t.deepEqual([...ids.keys()], ["node1", "node2", "node3", "control", "gateway", "outside"]);
    t.is(new Set(ids.values()).size, ids.size, "one thread per host");
    t.false([...ids.values()].includes(threadId), "no host runs on the caller's thread");
  } finally {
    await driver.shutdown();
  }
});

test("a command on a location that does not exist gets the tool's error, not a crash", async (t) => {
  const driver = await startCluster({ nodes: 1, seed: 1, time: "virtual", capture: false });
  try {
    const r = await driver.exec({ kind: "container", name: "ghost" }, "true");
    t.is(r.exit, 1);
    t.is(r.stderr, "Error response from daemon: No such container: ghost\n");
    const p = await driver.exec({ kind: "pod", namespace: "default", pod: "ghost" }, "true");
    t.is(p.stderr, 'Error from server (NotFound): pods "ghost" not found\n');
  } finally {
    await driver.shutdown();
  }
});

test("kemu up --nodes 3 with piped commands: kubectl on node1 lists three Ready nodes, ssh reaches node3", async (t) => {
  const { spawnSync } = await import("node:child_process");
  const { fileURLToPath } = await import("node:url");
  const main = fileURLToPath(new URL("./main.js", import.meta.url));
  const r = spawnSync(process.execPath, [main, "up", "--nodes", "3"], {
    input: "kubectl get nodes\nssh node3 hostname\nexit\n",
    encoding: "utf8",
    timeout: 60_000,
  });
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout.split("\n").filter((l) => /^node[123]\s+Ready\s/.test(l)).length, 3, r.stdout);
  t.regex(r.stdout, /^root@node1:~# ssh node3 hostname\nnode3$/m);
});

test("a flapping link drops traffic while down and carries it while up, on the emulated clock's schedule", async (t) => {
  const driver = await startCluster({ nodes: 2, seed: 1, time: "virtual", capture: false });
  try {
    const node1 = { kind: "host", host: "node1" } as const;
    // node2's MAC is learnt first, so that only the flap decides which pings cross.
    t.is((await driver.exec(node1, "ping -c 1 192.168.0.12")).exit, 0);
    await applyFault(driver, parseFaultCommand(["link node1-node2 flap down 2s up 3s for 10s"], { nodes: 2, spare: 0 }) as ReadFault);
    await driver.sleep(500);
    // Pings (icmp_seq 1…12) leave 0.5 s, 1.5 s, … 11.5 s after the fault: down over [0, 2) and [5, 7), up for good from 10 s.
    const r = await driver.exec(node1, "ping -c 12 -W 1 192.168.0.12");
    const seqs = [...r.stdout.matchAll(/seq=(\d+)/g)].map((m) => Number(m[1]));
    t.deepEqual(seqs, [3, 4, 5, 8, 9, 10, 11, 12], r.stdout);
    t.regex(r.stdout, /12 packets transmitted, 8 received, 33% packet loss/);
    // In a scenario's emulated time, faults are steps, not commands.
    const inScenario = await driver.exec(node1, "kemu fault node2 crash");
    t.deepEqual(inScenario, { exit: 1, stdout: "", stderr: "kemu: the cluster takes commands from its shells in kemu up; in a scenario, write a fault: step\n" });
  } finally {
    await driver.shutdown();
  }
});

test("kemu up: a fault typed in the shell takes effect at once and prints its event line; nonsense is refused; a spare node joins", async (t) => {
  const { spawnSync } = await import("node:child_process");
  const { fileURLToPath } = await import("node:url");
  const main = fileURLToPath(new URL("./main.js", import.meta.url));
  const ping = "ping -c 1 -W 1 192.168.0.12 | grep received";
  const r = spawnSync(process.execPath, [main, "up", "--nodes", "2", "--spare", "1"], {
    input: [
      ping,
      "kemu fault link 'node1->node2' down",
      ping,
      "kemu fault link node1-node5 loss 5%",
      "echo status=$?",
      ping,
      "kemu fault node3 join",
      "kubectl wait --for=condition=Ready node/node3 --timeout=30s",
      "exit",
    ].join("\n") + "\n",
    encoding: "utf8",
    timeout: 60_000,
  });
  t.is(r.status, 0, r.stderr);
  t.deepEqual([...r.stdout.matchAll(/(\d) received/g)].map((m) => m[1]), ["1", "0", "0"], r.stdout);
  t.regex(r.stdout, /^root@node1:~# kemu fault link 'node1->node2' down\n\[\d+\.\d{6}\] fault link node1->node2 down true\n/m);
  t.regex(r.stderr, /^kemu fault: link: "node5" is not a host of this cluster: it has 3 nodes \(node1 to node3\); set cluster.nodes to 5 or more to use it$/m);
  t.regex(r.stdout, /^status=2$/m);
  // A spare node joins the running cluster on the wall clock and turns Ready.
  t.regex(r.stdout, /^\[\d+\.\d{6}\] fault node3 join\n.*\nnode\/node3 condition met$/m);
});
