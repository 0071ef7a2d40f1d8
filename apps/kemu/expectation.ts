/**
 * What a `run` step expects of its command: an exit code, and patterns that
 * its stdout and stderr must hold. A pattern is a substring, or a regular
 * expression written `/source/flags`.
 */
import type { ExecResult } from "./driver.ts";

/** One pattern that an output stream must hold. */
export type Matcher =
  | { readonly kind: "substring"; readonly text: string }
  | { readonly kind: "regex"; readonly regex: RegExp };

/**
 * The checks of a `run` step. Without an `expect:` block, or without its
 * `exit:` key, a command must exit 0; every matcher must hold.
 */
export interface Expectation {
  readonly exit: number;
  readonly stdout: readonly Matcher[];
  readonly stderr: readonly Matcher[];
}

/** What a `run` step expects when it says nothing: exit code 0. */
export const DEFAULT_EXPECTATION: Expectation = { exit: 0, stdout: [], stderr: [] };

/** A parsed matcher, or why the text is not one. */
export type MatcherParse = { readonly matcher: Matcher } | { readonly error: string };

// Only flags that keep a match stateless: g and y would make `test` remember.
const REGEX_RE = /^\/([\s\S]+)\/([imsu]*)$/;

/**
 * Reads one pattern: `/source/flags` (flags among i, m, s, u) is a regular
 * expression, anything else a substring. The empty string is refused, since
 * it would hold for any output.
 */
export function parseMatcher(text: string): MatcherParse {
  if (text === "") return { error: `an empty string matches anything (to require no output, write "/^$/")` };
  const m = REGEX_RE.exec(text);
  if (!m) return { matcher: { kind: "substring", text } };
  try {
    return { matcher: { kind: "regex", regex: new RegExp(m[1]!, m[2]) } };
  } catch (err) {
    return { error: `${text} is not a valid regular expression: ${(err as Error).message}` };
  }
}

/** The matcher as a scenario writes it: a quoted substring or `/regex/flags`. */
export function describeMatcher(matcher: Matcher): string {
  return matcher.kind === "substring" ? JSON.stringify(matcher.text) : String(matcher.regex);
}

/** True when `output` holds the matcher. */
export function matches(matcher: Matcher, output: string): boolean {
  return matcher.kind === "substring" ? output.includes(matcher.text) : matcher.regex.test(output);
}

/**
 * The ways `result` misses `expect`, one sentence each, empty when it meets
 * every check. A missed pattern names the output line closest to it, when one
 * shares a good part of the text.
 */
export function checkExpectation(expect: Expectation, result: ExecResult): string[] {
  const failures: string[] = [];
  if (result.exit !== expect.exit) failures.push(`expected exit ${expect.exit}, got ${result.exit}`);
  for (const stream of ["stdout", "stderr"] as const) {
    const output = result[stream];
    for (const matcher of expect[stream]) {
      if (matches(matcher, output)) continue;
      const verb = matcher.kind === "substring" ? "contain" : "match";
      let failure = `expected ${stream} to ${verb} ${describeMatcher(matcher)}`;
      if (output.trim() === "") failure += `, but ${stream} was empty`;
      else if (matcher.kind === "substring") {
        const near = closestLine(matcher.text, output);
        if (near !== undefined) failure += `; closest line: ${JSON.stringify(near)}`;
      }
      failures.push(failure);
    }
  }
  return failures;
}

const MAX_LINES = 1000;
const MAX_LINE_LEN = 400;

/** The line of `output` sharing the longest run of characters with `wanted`, if that run is long. */
function closestLine(wanted: string, output: string): string | undefined {
  const needle = wanted.slice(0, MAX_LINE_LEN);
  const enough = Math.max(4, Math.ceil(needle.length / 2));
  let best: string | undefined;
  let bestRun = enough - 1;
  for (const line of output.split("\n").slice(0, MAX_LINES)) {
    const run = longestCommonRun(needle, line.slice(0, MAX_LINE_LEN));
    if (run > bestRun) {
      best = line;
      bestRun = run;
    }
  }
  return best;
}

function longestCommonRun(a: string, b: string): number {
  let prev = new Array<number>(b.length + 1).fill(0);
  let cur = new Array<number>(b.length + 1).fill(0);
  let best = 0;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const run = a[i - 1] === b[j - 1] ? prev[j - 1]! + 1 : 0;
      cur[j] = run;
      if (run > best) best = run;
    }
    [prev, cur] = [cur, prev];
  }
  return best;
}
