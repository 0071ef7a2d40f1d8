/**
 * Durations as scenario files write them: `500ms`, `2s`, `1.5s`, `1m`, `1h`,
 * a sum of those (`1m30s`), or a bare number of seconds.
 */

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const WHOLE_RE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const PART_RE = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
const SECONDS_RE = /^\d+(?:\.\d+)?$/;

/**
 * The length of `text` in milliseconds, or undefined when it is not a
 * duration. A bare number (`2`, `0.5`) is seconds; negative durations are
 * not durations.
 *
 * ```ts
 * parseDuration("1m30s"); // 90000
 * parseDuration("2 parsecs"); // undefined
 * ```
 */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (SECONDS_RE.test(trimmed)) return Number(trimmed) * 1000;
  if (!WHOLE_RE.test(trimmed)) return undefined;
  let ms = 0;
  for (const [, amount, unit] of trimmed.matchAll(PART_RE)) ms += Number(amount) * UNIT_MS[unit!]!;
  return ms;
}
