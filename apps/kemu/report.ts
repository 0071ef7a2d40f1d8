/**
 * What `kemu run` prints: for people, each step as a prompt line, its output
 * indented and a verdict, then a one-line summary; for programs, one JSON
 * document. Every function returns text; the caller writes it.
 */
import { promptOf } from "./location.ts";
import type { RunAbort, RunResult, StepResult } from "./runner.ts";
import type { Scenario, Step } from "./scenario.ts";

/** How to print. */
export interface ReportOptions {
  /** Use ANSI colours. */
  readonly color: boolean;
}

/**
 * True when output to `stream` should be coloured: it is a terminal and
 * NO_COLOR is unset or empty (https://no-color.org).
 */
export function colorEnabled(stream: { readonly isTTY?: boolean }, env: Readonly<Record<string, string | undefined>>): boolean {
  return stream.isTTY === true && !env["NO_COLOR"];
}

type Style = "bold" | "dim" | "red" | "green" | "cyan";
const SGR: Readonly<Record<Style, string>> = { bold: "1", dim: "2", red: "31", green: "32", cyan: "36" };

function paint(options: ReportOptions, style: Style, text: string): string {
  return options.color && text !== "" ? `\x1b[${SGR[style]}m${text}\x1b[0m` : text;
}

/** The line that opens a run: the scenario's name, its size and the seed. */
export function formatRunStart(scenario: Scenario, options: ReportOptions & { readonly seed: number }): string {
  const { nodes } = scenario.cluster;
  const steps = scenario.steps.length;
  const details = `${scenario.file}: ${steps} step${steps === 1 ? "" : "s"}, ${nodes} node${nodes === 1 ? "" : "s"}, seed ${options.seed}`;
  return `${paint(options, "bold", `▶ ${scenario.name}`)} ${paint(options, "dim", `(${details})`)}\n`;
}

/**
 * The header of a step, printed as it starts: the location and the command as
 * a prompt (`node1 $ ip addr`, `busybox-1 # ping …`; continuation lines of a
 * multi-line command start with `> `), or the step's name in place of the
 * command. A sleep shows as `sleep 2s`.
 */
export function formatStepStart(step: Step, options: ReportOptions): string {
  if (step.kind === "sleep") return `\n${paint(options, "bold", step.name ?? `sleep ${step.duration}`)}\n`;
  if (step.kind === "fault") return `\n${paint(options, "bold", step.name ?? step.text)}\n`;
  const where = paint(options, "cyan", step.where);
  if (step.name !== undefined) return `\n${where}: ${paint(options, "bold", step.name)}\n`;
  const [first = "", ...rest] = step.command.split("\n");
  const lines = [`${where} ${promptOf(step.location)} ${paint(options, "bold", first)}`];
  for (const line of rest) lines.push(`> ${paint(options, "bold", line)}`);
  return `\n${lines.join("\n")}\n`;
}

/**
 * What a finished step printed, indented two spaces (stderr lines marked
 * `! ` and, in colour, red), then its verdict: `✔`, or one `✘ …` line per
 * missed check.
 */
export function formatStepEnd(result: StepResult, options: ReportOptions): string {
  const lines: string[] = [];
  for (const line of outputLines(result.stdout)) lines.push(`  ${line}`);
  for (const line of outputLines(result.stderr)) lines.push(paint(options, "red", `  ! ${line}`));
  if (result.passed) lines.push(paint(options, "green", "✔"));
  for (const failure of result.failures) lines.push(paint(options, "red", `✘ ${failure}`));
  return lines.join("\n") + "\n";
}

/** A step as a whole: its header, output and verdict. */
export function formatStep(result: StepResult, options: ReportOptions): string {
  return formatStepStart(result.step, options) + formatStepEnd(result, options);
}

/** The verdict of a step the driver failed on. */
export function formatAbort(error: RunAbort, options: ReportOptions): string {
  return paint(options, "red", `✘ kemu: ${error.message} (the run stopped here)`) + "\n";
}

/** The last line: `PASS n/n steps`, or `FAIL k of n steps failed` (and how many did not run). */
export function formatSummary(result: RunResult, options: ReportOptions): string {
  const n = result.total;
  if (result.passed) return `\n${paint(options, "green", `PASS ${n}/${n} step${n === 1 ? "" : "s"}`)}\n`;
  const aborted = result.error === undefined ? 0 : 1;
  const failed = result.steps.filter((s) => !s.passed).length + aborted;
  const notRun = n - result.steps.length - aborted;
  const tail = notRun > 0 ? `, ${notRun} not run` : "";
  return `\n${paint(options, "red", `FAIL ${failed} of ${n} step${n === 1 ? "" : "s"} failed${tail}`)}\n`;
}

/**
 * The run as one JSON document (with a final newline):
 * `{ "passed", "steps": [{ "location", "command", "exit", "stdout", "stderr", "passed" }] }`,
 * plus `"error": { "step", "message" }` when the driver failed and the run
 * stopped. A sleep step has location null and command `sleep 2s`.
 */
export function formatJson(result: RunResult): string {
  const doc = {
    passed: result.passed,
    steps: result.steps.map(({ location, command, exit, stdout, stderr, passed }) => ({
      location,
      command,
      exit,
      stdout,
      stderr,
      passed,
    })),
    ...(result.error === undefined ? {} : { error: { step: result.error.index, message: result.error.message } }),
  };
  return JSON.stringify(doc, null, 2) + "\n";
}

function outputLines(text: string): string[] {
  if (text === "") return [];
  return text.replace(/\n$/, "").split("\n");
}
