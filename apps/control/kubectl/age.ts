/**
 * Durations and times as kubectl prints them: k8s.io/apimachinery's
 * HumanDuration for the AGE column, RFC 1123 times for describe.
 */

/** Emulated time 0 is this wall-clock instant. */
export const EPOCH_MS = Date.UTC(2026, 0, 1);

/** RFC 3339 text (second precision, as the API writes metav1.Time) of emulated time `ms`. */
export function timestampAt(ms: number): string {
  return new Date(EPOCH_MS + Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * k8s.io/apimachinery/pkg/util/duration.HumanDuration: about two significant
 * figures (`45s`, `2m30s`, `5m`, `3h2m`, `2d3h`, `5d`, `2y`).
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(seconds / 3600);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.trunc(hours / 24) % 365;
    const y = Math.trunc(hours / 24 / 365);
    return dy === 0 ? `${y}y` : `${y}y${dy}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/** The AGE of something stamped `timestamp` (RFC 3339) at emulated time `nowMs`; `<unknown>` without a stamp. */
export function age(timestamp: string | undefined | null, nowMs: number): string {
  const t = parseTime(timestamp);
  if (t === undefined) return "<unknown>";
  return humanDuration(EPOCH_MS + nowMs - t);
}

/** Milliseconds since the Unix epoch of an RFC 3339 text, or undefined. */
export function parseTime(timestamp: string | undefined | null): number | undefined {
  if (timestamp === undefined || timestamp === null || timestamp === "") return undefined;
  const t = Date.parse(timestamp);
  return Number.isNaN(t) ? undefined : t;
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Go's time.RFC1123Z in UTC: `Thu, 01 Jan 2026 00:00:05 +0000`; Go's zero time when unset. */
export function rfc1123z(timestamp: string | undefined | null): string {
  const t = parseTime(timestamp);
  if (t === undefined) return "Mon, 01 Jan 0001 00:00:00 +0000";
  const d = new Date(t);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${DAYS[d.getUTCDay()]}, ${p(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** A Go duration as kubectl flags take it (`60s`, `1m30s`, `500ms`, `2h`); undefined when malformed. */
export function parseGoDuration(text: string): number | undefined {
  if (text === "0") return 0;
  const m = /^([0-9]*\.?[0-9]+(?:ns|us|µs|ms|s|m|h))+$/.exec(text);
  if (!m) return undefined;
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const part of text.matchAll(/([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)/g)) total += Number(part[1]) * units[part[2]!]!;
  return total;
}
