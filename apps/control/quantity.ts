/**
 * resource.Quantity: parsing (`500m`, `1.5`, `128Mi`, `1G`, `1e3`) and the
 * API server's canonical form (`0.5` → `500m`, `1024Mi` → `1Gi`, `1000m` → `1`).
 */

/** The regular expression quantities must match, as the API server quotes it. */
export const QUANTITY_REGEX_TEXT = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";

const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };

/** A parsed quantity: its value in nano-units (exact) and the format it was written in. */
export interface Quantity {
  /** value × 10⁹, rounded up to a whole nano-unit as the API server does. */
  nano: bigint;
  format: "DecimalSI" | "BinarySI" | "DecimalExponent";
}

/** Parses a quantity; undefined when it is not one. */
export function parseQuantity(text: string | number): Quantity | undefined {
  const s = typeof text === "number" ? String(text) : text.trim();
  const m = /^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?[0-9]+))?$/.exec(s);
  if (m === null) return undefined;
  const neg = m[1] === "-";
  const [intPart = "", fracPart = ""] = m[2]!.split(".");
  const digits = BigInt((intPart || "0") + fracPart);
  // value = digits × 10^-fracLen × multiplier
  let num = digits;
  let den = 10n ** BigInt(fracPart.length);
  let format: Quantity["format"] = "DecimalSI";
  if (m[3] !== undefined && BINARY[m[3]] !== undefined) {
    num *= 1n << BigInt(BINARY[m[3]]!);
    format = "BinarySI";
  } else if (m[3] !== undefined) {
    const e = DECIMAL[m[3]]!;
    if (e >= 0) num *= 10n ** BigInt(e);
    else den *= 10n ** BigInt(-e);
  } else if (m[4] !== undefined) {
    const e = Number(m[4]);
    if (Math.abs(e) > 30) return undefined;
    if (e >= 0) num *= 10n ** BigInt(e);
    else den *= 10n ** BigInt(-e);
    format = "DecimalExponent";
  }
  const scaled = num * 1_000_000_000n;
  let nano = scaled / den;
  if (nano * den !== scaled) nano += 1n;
  return { nano: neg ? -nano : nano, format };
}

/** A quantity's value as a float (cores, bytes). */
export function quantityValue(q: Quantity): number {
  return Number(q.nano) / 1e9;
}

/** Milli-units of a quantity, rounded up (CPU in millicores). */
export function quantityMilli(q: Quantity): number {
  const n = q.nano;
  const m = n / 1_000_000n;
  return Number(m * 1_000_000n === n || n < 0n ? m : m + 1n);
}

/** The canonical text of a quantity, as the API server stores it. */
export function formatQuantity(q: Quantity): string {
  const neg = q.nano < 0n;
  const abs = neg ? -q.nano : q.nano;
  const sign = neg ? "-" : "";
  if (abs === 0n) return "0";
  let format = q.format;
  if (format === "BinarySI") {
    const whole = abs % 1_000_000_000n === 0n;
    if (!whole || abs < 1024n * 1_000_000_000n) format = "DecimalSI";
  }
  if (format === "BinarySI") {
    let v = abs / 1_000_000_000n;
    let i = 0;
    const suffixes = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
    while (i < suffixes.length - 1 && v % 1024n === 0n) {
      v /= 1024n;
      i++;
    }
    return `${sign}${v}${suffixes[i]}`;
  }
  // Decimal: the largest power of 1000 (from 10⁻⁹) that leaves an integer mantissa.
  let mant = abs;
  let exp = -9;
  while (exp < 18 && mant % 1000n === 0n) {
    mant /= 1000n;
    exp += 3;
  }
  if (format === "DecimalExponent") return exp === 0 ? `${sign}${mant}` : `${sign}${mant}e${exp}`;
  const suffix = Object.entries(DECIMAL).find(([, e]) => e === exp)![0];
  return `${sign}${mant}${suffix}`;
}
