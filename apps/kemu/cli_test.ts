import test from "ava";
import { execFile } from "node:child_process";
import { mkdtemp, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { type FakeAnswer, FakeDriver } from "./_fake_driver.ts";
import { type CliOptions, runCli } from "./cli.ts";
import type { ClusterSpec } from "./driver.ts";

const MAIN = fileURLToPath(new URL("./main.js", import.meta.url));

/** Runs the real executable, as a user would. */
function kemu(args: string[], options: { cwd?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { cwd: options.cwd, env: { ...process.env, NO_COLOR: "1" } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

/** Runs the command line in-process on a fake cluster. */
async function cli(args: string[], options: { answers?: Record<string, FakeAnswer>; stdin?: string; startError?: Error; kubeconfig?: string } = {}) {
  const driver = new FakeDriver(options.answers);
  if (options.kubeconfig !== undefined) Object.assign(driver, { kubeconfig: options.kubeconfig });
  const specs: ClusterSpec[] = [];
  const stdin = new PassThrough();
  if (options.stdin !== undefined) stdin.end(options.stdin);
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (d: Buffer) => (out += d.toString()));
  stderr.on("data", (d: Buffer) => (err += d.toString()));
  const io: CliOptions = {
    stdin,
    stdout,
    stderr,
    env: {},
    startCluster: async (spec) => {
      specs.push(spec);
      if (options.startError) throw options.startError;
      return driver;
    },
  };
  const code = await runCli(args, io);
  return { code, stdout: out, stderr: err, specs, calls: driver.calls };
}

async function scenarioFile(text: string): Promise<{ dir: string; file: string }> {
  const dir = await mkdtemp(join(tmpdir(), "kemu-cli-"));
  const file = join(dir, "s.yaml");
  await writeFile(file, text);
  return { dir, file };
}

const PASSING = `name: hello
cluster: { nodes: 2 }
steps:
  - on: node2
    run: echo hi
    expect: { stdout: hi }
  - sleep: 500ms
`;

test("kemu run boots the scenario's cluster on virtual time, reports each step, exits 0 and shuts down", async (t) => {
  const { file } = await scenarioFile(PASSING);
  const r = await cli(["run", file], { answers: { "echo hi": { stdout: "hi\n" } } });
  t.is(r.code, 0, r.stderr);
  t.deepEqual(r.specs, [{ nodes: 2, seed: 1, time: "virtual", capture: false }]);
  t.is(r.stdout, `▶ hello (${file}: 2 steps, 2 nodes, seed 1)\n\nnode2 $ echo hi\n  hi\n✔\n\nsleep 500ms\n✔\n\nPASS 2/2 steps\n`);
  t.is(r.stderr, "");
  t.deepEqual(r.calls.at(-1), { op: "shutdown" });
});

test("kemu run --proxy-mode overrides the file's kube-proxy mode; a mode kube-proxy does not know is a usage error", async (t) => {
  const { file } = await scenarioFile(PASSING);
  const r = await cli(["run", file, "--proxy-mode", "ipvs"], { answers: { "echo hi": { stdout: "hi\n" } } });
  t.is(r.code, 0, r.stderr);
  t.deepEqual(r.specs, [{ nodes: 2, proxyMode: "ipvs", seed: 1, time: "virtual", capture: false }]);
  const bad = await cli(["run", file, "--proxy-mode", "userspace"]);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /--proxy-mode: invalid proxy mode "userspace": use iptables or ipvs/);
  t.deepEqual(bad.specs, []);
});

test("kemu run exits 1 when a step fails, after running the rest", async (t) => {
  const { file } = await scenarioFile(PASSING);
  const r = await cli(["run", file], { answers: { "echo hi": { stdout: "ho\n" } } });
  t.is(r.code, 1);
  t.true(r.stdout.includes(`✘ expected stdout to contain "hi"\n`));
  t.true(r.stdout.endsWith("\nFAIL 1 of 2 steps failed\n"));
  t.deepEqual(r.calls.map((c) => c.op), ["exec", "sleep", "shutdown"]);
});

test("kemu run --json prints exactly one JSON document, --pcap lists its files on stderr", async (t) => {
  const { dir, file } = await scenarioFile(PASSING);
  const pcap = join(dir, "out");
  const r = await cli(["run", "--json", "--seed", "42", "--pcap", pcap, file], { answers: { "echo hi": { stdout: "hi\n" } } });
  t.is(r.code, 0);
  t.deepEqual(r.specs, [{ nodes: 2, seed: 42, time: "virtual", capture: true }]);
  t.deepEqual(JSON.parse(r.stdout), {
    passed: true,
    steps: [
      { location: "node2", command: "echo hi", exit: 0, stdout: "hi\n", stderr: "", passed: true },
      { location: null, command: "sleep 500ms", exit: 0, stdout: "", stderr: "", passed: true },
    ],
  });
  t.is(r.stderr, `kemu: wrote 2 pcap files to ${pcap}:\n  ${pcap}/node1-root-docker0.pcap\n  ${pcap}/node1-root-eth0.pcap\n`);
  t.deepEqual(await readdir(dir), ["out", "s.yaml"]);
  t.deepEqual(r.calls.slice(-2), [{ op: "writePcaps", dir: pcap }, { op: "shutdown" }]);
});

test("kemu run stops at a driver error, reports it, exits 1 and still shuts down", async (t) => {
  const { file } = await scenarioFile(PASSING);
  const r = await cli(["run", file], { answers: { "echo hi": new Error("node2: worker exited with code 1") } });
  t.is(r.code, 1);
  t.true(r.stdout.includes("node2 $ echo hi\n✘ kemu: node2: worker exited with code 1 (the run stopped here)\n"));
  t.true(r.stdout.endsWith("\nFAIL 1 of 2 steps failed, 1 not run\n"));
  t.deepEqual(r.calls.at(-1), { op: "shutdown" });
});

test("kemu run reports a cluster that cannot start, exit 1", async (t) => {
  const { file } = await scenarioFile(PASSING);
  const r = await cli(["run", file], { startError: new Error("kemu: no workers") });
  t.is(r.code, 1);
  t.is(r.stderr, "kemu: cannot start the cluster: no workers\n");
});

test("an invalid scenario prints every error, starts nothing and exits 2", async (t) => {
  const { file } = await scenarioFile("name: x\nsteps:\n  - on: node9\n    run: ls\n  - sleep: soon\n");
  const r = await cli(["run", "--json", file]);
  t.is(r.code, 2);
  t.is(r.stdout, "");
  t.is(
    r.stderr,
    `${file}:3:9: steps[0].on: "node9" is not a host of this cluster: it has 1 node (node1 only); set cluster.nodes to 9 or more to use it\n` +
      `${file}:5:12: steps[1].sleep: "soon" is not a duration (use 500ms, 2s, 1m, 1h)\n` +
      `kemu: 2 errors in ${file}; nothing was run.\n`,
  );
  t.deepEqual(r.specs, []);
});

test("kemu up boots a real-time cluster and runs piped lines in a shell on node1", async (t) => {
  const r = await cli(["up", "--nodes", "3", "--seed", "9"], { stdin: "echo one\nexit 4\n" });
  t.is(r.code, 4);
  t.deepEqual(r.specs, [{ nodes: 3, seed: 9, time: "real", capture: false }]);
  t.is(r.stdout, "one\n");
  t.is(r.stderr, "");
  t.deepEqual(r.calls, [
    { op: "openShell", host: "node1", interactive: false },
    { op: "line", line: "echo one" },
    { op: "line", line: "exit 4" },
    { op: "end" },
    { op: "shutdown" },
  ]);
});

test("kemu up --backend and --proxy-mode reach the cluster; values kube-proxy and flannel do not know are usage errors", async (t) => {
  const r = await cli(["up", "--proxy-mode", "ipvs", "--backend", "host-gw"], { stdin: "exit\n" });
  t.is(r.code, 0);
  t.deepEqual(r.specs, [{ nodes: 1, seed: 1, time: "real", capture: false, backend: "host-gw", proxyMode: "ipvs" }]);
  const bad = await cli(["up", "--proxy-mode", "nftables"], { stdin: "exit\n" });
  t.is(bad.code, 2);
  t.regex(bad.stderr, /--proxy-mode: invalid proxy mode "nftables": use iptables or ipvs/);
  t.deepEqual(bad.specs, []);
  const badBackend = await cli(["up", "--backend", "wireguard"], { stdin: "exit\n" });
  t.is(badBackend.code, 2);
  t.regex(badBackend.stderr, /unknown backend type "wireguard"/);
});

test("kemu up prints the kubeconfig of the cluster's API as kind does", async (t) => {
  const r = await cli(["up"], { stdin: "exit\n", kubeconfig: "/tmp/kemu-x/kubeconfig" });
  t.is(r.code, 0);
  t.is(
    r.stderr,
    'Set kubectl context to "kemu"\nYou can now use your cluster with:\n\nexport KUBECONFIG=/tmp/kemu-x/kubeconfig\nkubectl cluster-info --context kemu\n\n',
  );
});

test("kemu: an unknown command is refused with a suggestion, exit 2", async (t) => {
  const r = await kemu(["rnu", "x.yaml"]);
  t.is(r.code, 2);
  t.is(r.stderr, `kemu: unknown command "rnu" (did you mean "run"?)\nRun "kemu --help" for usage.\n`);
  t.is(r.stdout, "");
});

test("kemu run: an unknown option is refused with a suggestion, exit 2", async (t) => {
  const r = await kemu(["run", "--sed", "3", "x.yaml"]);
  t.is(r.code, 2);
  t.is(r.stderr, `kemu run: unknown option '--sed' (did you mean '--seed'?)\nRun "kemu help run" for usage.\n`);
});

test("kemu run: bad option values and missing arguments are usage errors, exit 2", async (t) => {
  const cases: [string[], string][] = [
    [["run"], "kemu run: missing the scenario file (kemu run FILE.yaml)"],
    [["run", "a.yaml", "b.yaml"], `kemu run: unexpected argument "b.yaml"`],
    [["run", "a.yaml", "--seed"], "kemu run: option '--seed' needs a value"],
    [["run", "a.yaml", "--seed", "-1"], "kemu run: option '--seed' needs a value"],
    [["run", "a.yaml", "--seed", "x1"], `kemu run: --seed takes an integer from 0 to 4294967295, not "x1"`],
    [["up", "--nodes", "201"], `kemu up: --nodes takes an integer from 1 to 200, not "201"`],
    [["--verbose"], "kemu: unknown option '--verbose'"],
  ];
  for (const [args, first] of cases) {
    const r = await kemu(args);
    t.is(r.code, 2, args.join(" "));
    t.is(r.stderr.split("\n")[0], first, args.join(" "));
  }
});

test("kemu run: a missing file is named, exit 2", async (t) => {
  const r = await kemu(["run", "scenarios/nope.yaml"]);
  t.is(r.code, 2);
  t.is(r.stderr, "kemu: cannot read scenarios/nope.yaml: no such file\n");
});

test("kemu run: malformed YAML gives file:line:col and exit 2 before anything starts", async (t) => {
  const { dir } = await scenarioFile("name: x\nsteps:\n  - on: node1\n    run: ls\n   expect: {}\n");
  const r = await kemu(["run", "s.yaml"], { cwd: dir });
  t.is(r.code, 2);
  t.regex(r.stderr, /^s\.yaml:5:1: Sequence item without - indicator\n/);
  t.true(r.stderr.endsWith("kemu: 1 error in s.yaml; nothing was run.\n"), r.stderr);
  t.false(r.stderr.includes("cluster"));
  t.is(r.stdout, "");
});

test("kemu --help, help run and --version print to stdout and exit 0", async (t) => {
  const help = await kemu(["--help"]);
  t.is(help.code, 0);
  t.regex(help.stdout, /^kemu: a container and Kubernetes networking emulator\n\nUsage:\n  kemu run FILE\.yaml/);
  const run = await kemu(["help", "run"]);
  t.is(run.code, 0);
  t.regex(run.stdout, /^Usage: kemu run FILE\.yaml \[--seed N\] \[--pcap DIR\] \[--json\] \[--proxy-mode M\]\n/);
  const version = await kemu(["--version"]);
  t.is(version.code, 0);
  t.regex(version.stdout, /^kemu \d+\.\d+\.\d+\n$/);
});
