import test from "ava";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fillIn, gridPoints, progressLine } from "./experiment.ts";

const main = fileURLToPath(new URL("./main.js", import.meta.url));

test("the grid expands first parameter slowest, placeholders fill in, the bar shows an ETA", (t) => {
  t.deepEqual(gridPoints([{ name: "a", values: ["1", "2"] }, { name: "b", values: ["x", "y"] }]), [
    { a: "1", b: "x" },
    { a: "1", b: "y" },
    { a: "2", b: "x" },
    { a: "2", b: "y" },
  ]);
  t.is(fillIn("loss: ${loss}%, ${other}", { loss: "10" }), "loss: 10%, ${other}");
  t.is(progressLine(5, 10, 1, 5000), "[###############---------------] 5/10 runs, 1 failed, ETA 5s");
});

test("kemu experiment runs the grid × seeds in a pool and writes results.csv, results.json and plot.svg", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "kemu-exp-"));
  writeFileSync(
    join(dir, "ping.yaml"),
    "name: ping through a delay\ncluster: { nodes: 2 }\nsteps:\n  - fault: { link: node1-node2, delay: ${delay} }\n  - name: ping\n    on: node1\n    run: ping -c 2 -i 0.2 192.168.0.12\n",
  );
  writeFileSync(join(dir, "exp.yaml"), "name: ping vs delay\nscenario: ping.yaml\ngrid: { delay: [1ms, 50ms] }\nseeds: [1, 2]\nmeasure: ping\n");
  const r = spawnSync(process.execPath, [main, "experiment", join(dir, "exp.yaml"), "--out", join(dir, "out"), "--jobs", "2"], { encoding: "utf8", timeout: 120_000 });
  t.is(r.status, 0, r.stderr + r.stdout);
  t.regex(r.stderr, /4\/4 runs, ETA 0s/);
  t.regex(r.stdout, /4\/4 runs passed/);
  const csv = readFileSync(join(dir, "out", "results.csv"), "utf8").trim().split("\n");
  t.is(csv[0], "delay,seed,passed,measure_ms,failure");
  const ms = (delay: string) => csv.filter((l) => l.startsWith(`${delay},`)).map((l) => Number(l.split(",")[3]));
  t.is(ms("1ms").length, 2);
  // Two pings 200 ms apart; 50 ms each way is added to each round trip.
  t.true(Math.min(...ms("50ms")) > Math.max(...ms("1ms")) + 90, csv.join("\n"));
  const json = JSON.parse(readFileSync(join(dir, "out", "results.json"), "utf8")) as { runs: unknown[] };
  t.is(json.runs.length, 4);
  t.true(readFileSync(join(dir, "out", "plot.svg"), "utf8").startsWith("<svg"));
  t.true(existsSync(join(dir, "out", "plot.svg")));
});

test("an experiment whose grid names no placeholder of the scenario is refused before anything runs", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "kemu-exp-"));
  writeFileSync(join(dir, "s.yaml"), "name: s\nsteps:\n  - sleep: 1s\n");
  writeFileSync(join(dir, "exp.yaml"), "name: e\nscenario: s.yaml\ngrid: { loss: [1, 2] }\nmeasure: x\n");
  const r = spawnSync(process.execPath, [main, "experiment", join(dir, "exp.yaml")], { encoding: "utf8" });
  t.is(r.status, 2);
  t.regex(r.stderr, /grid\.loss: the scenario has no \$\{loss\} placeholder/);
});
