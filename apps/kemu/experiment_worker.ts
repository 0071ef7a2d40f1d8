/**
 * A piscina task: one run of an experiment — a scenario text (placeholders
 * already filled in) and a seed, on a cluster of its own.
 */
import { startCluster } from "./cluster.ts";
import { runScenario } from "./runner.ts";
import { parseScenario } from "./scenario.ts";

/** What one run is asked to do. */
export interface RunTask {
  readonly text: string;
  readonly file: string;
  readonly seed: number;
}

/** What one run reports. */
export interface RunOutcome {
  readonly passed: boolean;
  readonly steps: Array<{ name: string; passed: boolean; elapsedMs: number | null }>;
  /** The first failed step, or why the run stopped. */
  readonly failure: string | null;
}

/** Runs one scenario on a fresh cluster and reports each step's verdict and emulated duration. */
export async function runOne(task: RunTask): Promise<RunOutcome> {
  const parsed = parseScenario(task.text, { file: task.file });
  if (!parsed.ok) return { passed: false, steps: [], failure: parsed.errors.map((e) => `${e.path}: ${e.message}`).join("; ") };
  const scenario = parsed.scenario;
  const driver = await startCluster({ ...scenario.cluster, seed: task.seed, time: "virtual", capture: false });
  try {
    const result = await runScenario(scenario, driver);
    const failed = result.steps.find((s) => !s.passed);
    return {
      passed: result.passed,
      steps: result.steps.map((s) => ({ name: s.step.name ?? s.command, passed: s.passed, elapsedMs: s.elapsedMs ?? null })),
      failure: result.error ? result.error.message : failed ? `${failed.step.name ?? failed.command}: ${failed.failures.join("; ")}` : null,
    };
  } finally {
    await driver.shutdown();
  }
}
