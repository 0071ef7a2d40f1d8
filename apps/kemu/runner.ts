/**
 * Runs a scenario's steps in order against a cluster and checks each
 * command's result. A failed check does not stop the run, so that one report
 * shows everything; an error from the driver does.
 */
import type { ClusterDriver } from "./driver.ts";
import { checkExpectation } from "./expectation.ts";
import { applyFault } from "./fault.ts";
import type { Scenario, Step } from "./scenario.ts";

/** What one step did. */
export interface StepResult {
  /** Position of the step in the scenario, from 0. */
  readonly index: number;
  readonly step: Step;
  /** The location as the scenario wrote it (`node1`, `busybox-1`); null for a sleep. */
  readonly location: string | null;
  /** The command line, or `sleep 2s` for a sleep. */
  readonly command: string;
  readonly exit: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly passed: boolean;
  /** Why the step failed, one sentence per missed check; empty when it passed. */
  readonly failures: readonly string[];
  /** Emulated milliseconds the step took (when the driver tells time). */
  readonly elapsedMs?: number;
}

/** Why a run stopped before its last step: the driver threw. */
export interface RunAbort {
  /** The step that was running, from 0; null when the cluster did not even start. */
  readonly index: number | null;
  readonly message: string;
}

/** What a whole run did. */
export interface RunResult {
  /** True when every step ran and passed. */
  readonly passed: boolean;
  /** The steps that ran, in order (a step the driver failed on is not among them). */
  readonly steps: readonly StepResult[];
  /** How many steps the scenario has. */
  readonly total: number;
  /** Set when the driver threw and the run stopped. */
  readonly error?: RunAbort;
}

/** Hooks for showing progress while a run goes on. */
export interface RunOptions {
  /** Called as a step starts. */
  onStepStart?: (step: Step, index: number) => void;
  /** Called with each finished step's result. */
  onStepEnd?: (result: StepResult) => void;
}

/**
 * Runs every step of `scenario` on `driver`, in order. A `run` step passes
 * when its command meets its expectation (exit 0 unless `expect.exit` says
 * otherwise, and every stdout/stderr pattern); a `sleep` step advances the
 * emulated clock and always passes.
 */
export async function runScenario(scenario: Scenario, driver: ClusterDriver, options: RunOptions = {}): Promise<RunResult> {
  const steps: StepResult[] = [];
  const total = scenario.steps.length;
  for (const [index, step] of scenario.steps.entries()) {
    options.onStepStart?.(step, index);
    let result: StepResult;
    try {
      const startedAt = driver.clockMs?.();
      result = await runStep(step, index, driver);
      const endedAt = driver.clockMs?.();
      if (startedAt !== undefined && endedAt !== undefined) result = { ...result, elapsedMs: endedAt - startedAt };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return { passed: false, steps, total, error: { index, message } };
    }
    steps.push(result);
    options.onStepEnd?.(result);
  }
  return { passed: steps.every((s) => s.passed), steps, total };
}

async function runStep(step: Step, index: number, driver: ClusterDriver): Promise<StepResult> {
  switch (step.kind) {
    case "run": {
      const out = await driver.exec(step.location, step.command, step.stdin === undefined ? {} : { stdin: step.stdin });
      const failures = checkExpectation(step.expect, out);
      return {
        index,
        step,
        location: step.where,
        command: step.command,
        exit: out.exit,
        stdout: out.stdout,
        stderr: out.stderr,
        passed: failures.length === 0,
        failures,
      };
    }
    case "fault": {
      const out = await applyFault(driver, step);
      return { index, step, location: null, command: step.text, ...out, passed: out.exit === 0, failures: out.exit === 0 ? [] : [`the fault could not be made: exit ${out.exit}`] };
    }
    case "sleep":
      await driver.sleep(step.ms);
      return {
        index,
        step,
        location: null,
        command: `sleep ${step.duration}`,
        exit: 0,
        stdout: "",
        stderr: "",
        passed: true,
        failures: [],
      };
  }
}
