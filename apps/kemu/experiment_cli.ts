import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Piscina } from "piscina";
import { type Experiment, fillIn, gridPoints, loadExperiment, progressLine, type RunRow, toCsv, toSvg } from "./experiment.ts";
import type { RunOutcome, RunTask } from "./experiment_worker.ts";

/** `kemu help experiment`. */
export const EXPERIMENT_HELP = `Usage: kemu experiment FILE.yaml [--out DIR] [--jobs N]

Runs a scenario over a grid of parameters and several seeds, each run on a
cluster of its own on emulated time, N runs at a time in a pool of worker
threads, with a progress bar. Writes DIR/results.csv, DIR/results.json and
DIR/plot.svg (the measured step's emulated duration against the first
parameter, one line per value of the second, mean over seeds with min–max
bars). Failed runs are listed with their parameters and seed, to replay alone.

The experiment file:
  name: download time vs loss
  scenario: lossy-download.yaml      # with \${loss}, \${backend}… placeholders
  grid: { loss: [0, 10, 20], backend: [vxlan, udp] }
  seeds: 3                           # or a list: [1, 7, 42]
  measure: the download              # the name of the step to time

Options:
  --out DIR    where the results go; default experiment-results
  --jobs N     runs at a time; default 2
  -h, --help   show this help

Exit status: 0 when every run passed, 1 when one failed, 2 for a usage error.
`;

/** Where the command prints. */
export interface ExperimentIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown; isTTY?: boolean };
}

/** Runs `kemu experiment`; resolves with the exit status. */
export async function experimentCommand(args: string[], io: ExperimentIo): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      options: { out: { type: "string" }, jobs: { type: "string" }, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
    }));
  } catch (err) {
    io.stderr.write(`kemu experiment: ${(err as Error).message}\n`);
    return 2;
  }
  if (values["help"]) {
    io.stdout.write(EXPERIMENT_HELP);
    return 0;
  }
  const [file] = positionals;
  if (file === undefined || positionals.length > 1) {
    io.stderr.write("kemu experiment: one experiment file is needed (kemu experiment FILE.yaml)\n");
    return 2;
  }
  const jobs = Number(values["jobs"] ?? 2);
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 16) {
    io.stderr.write(`kemu experiment: --jobs takes a whole number from 1 to 16, not "${values["jobs"]}"\n`);
    return 2;
  }
  let exp: Experiment;
  try {
    exp = loadExperiment(file);
  } catch (err) {
    io.stderr.write(`kemu experiment: ${(err as Error).message}\n`);
    return 2;
  }
  const out = (values["out"] as string | undefined) ?? "experiment-results";
  const runs = gridPoints(exp.grid).flatMap((point) => exp.seeds.map((seed) => ({ point, seed })));
  io.stderr.write(`▶ ${exp.name}: ${runs.length} runs (${gridPoints(exp.grid).length} points × ${exp.seeds.length} seeds), ${jobs} at a time\n`);
  const pool = new Piscina({ filename: new URL("./experiment_worker.js", import.meta.url).href, maxThreads: jobs, minThreads: 1 });
  const started = performance.now();
  let done = 0;
  let failed = 0;
  const draw = () => {
    const line = progressLine(done, runs.length, failed, performance.now() - started);
    io.stderr.write(io.stderr.isTTY ? `\r${line}` : `${line}\n`);
  };
  draw();
  const rows: RunRow[] = await Promise.all(
    runs.map(async ({ point, seed }) => {
      const task: RunTask = { text: fillIn(exp.scenarioText, point), file: exp.scenarioFile, seed };
      let outcome: RunOutcome;
      try {
        outcome = (await pool.run(task, { name: "runOne" })) as RunOutcome;
      } catch (err) {
        outcome = { passed: false, steps: [], failure: (err as Error).message };
      }
      const measured = outcome.steps.find((s) => s.name === exp.measure);
      done++;
      if (!outcome.passed) failed++;
      draw();
      return {
        point,
        seed,
        passed: outcome.passed,
        valueMs: measured && measured.passed ? measured.elapsedMs : null,
        failure: outcome.failure ?? (measured ? null : `no step named "${exp.measure}" ran`),
      };
    }),
  );
  await pool.destroy();
  if (io.stderr.isTTY) io.stderr.write("\n");
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "results.csv"), toCsv(exp, rows));
  writeFileSync(join(out, "results.json"), `${JSON.stringify({ name: exp.name, measure: exp.measure, grid: exp.grid, seeds: exp.seeds, runs: rows }, null, 2)}\n`);
  writeFileSync(join(out, "plot.svg"), toSvg(exp, rows));
  io.stdout.write(`wrote ${join(out, "results.csv")}, ${join(out, "results.json")} and ${join(out, "plot.svg")}\n`);
  for (const r of rows.filter((x) => !x.passed)) {
    const params = Object.entries(r.point).map(([k, v]) => `${k}=${v}`).join(" ");
    io.stdout.write(`FAILED ${params} seed ${r.seed}: ${r.failure ?? ""}\n  replay alone with the scenario filled in and: kemu run FILE --seed ${r.seed}\n`);
  }
  io.stdout.write(`${rows.length - failed}/${rows.length} runs passed\n`);
  return failed === 0 ? 0 : 1;
}
