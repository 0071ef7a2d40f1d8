/**
 * Resource quantities (`100m`, `1`, `128Mi`, `1.5Gi`) as
 * k8s.io/apimachinery's resource.Quantity parses, adds and prints them in
 * canonical form.
 */

/** A quantity: its value in thousandths, and the suffix family it prints with. */
export interface Quantity {
  milli: bigint;
  format: "DecimalSI" | "BinarySI";
}

const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };

/** Parses a quantity; undefined when malformed. */
export function parseQuantity(text: string | number | undefined): Quantity | undefined {
  if (text === undefined) return undefined;
  const s = String(text).trim();
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])|[eE]([+-]?\d+))?$/.exec(s);
  if (!m || (m[2] === "" && (m[3] ?? "") === "")) return undefined;
  const sign = m[1] === "-" ? -1n : 1n;
  const whole = m[2] || "0";
  const frac = m[3] ?? "";
  const digits = BigInt(whole + frac);
  const suffix = m[4];
  let milli: bigint;
  let format: Quantity["format"] = "DecimalSI";
  if (suffix !== undefined && suffix in BINARY) {
    format = "BinarySI";
    milli = (digits * 1000n * (1n << BigInt(BINARY[suffix]!))) / 10n ** BigInt(frac.length);
  } else {
    const exp = suffix !== undefined ? DECIMAL[suffix]! : m[5] !== undefined ? Number(m[5]) : 0;
    const e = exp + 3 - frac.length;
    milli = e >= 0 ? digits * 10n ** BigInt(e) : ceilDiv(digits, 10n ** BigInt(-e));
  }
  return { milli: sign * milli, format };
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}

/** The sum of quantities, printed in the first one's format ("0" when there are none). */
export function addQuantities(qs: ReadonlyArray<Quantity | undefined>): Quantity {
  let milli = 0n;
  let format: Quantity["format"] | undefined;
  for (const q of qs) {
    if (q === undefined) continue;
    format ??= q.format;
    milli += q.milli;
  }
  return { milli, format: format ?? "DecimalSI" };
}

/** Canonical text: `0`, `100m`, `2`, `1500m`, `128Mi`, `1k`. */
export function formatQuantity(q: Quantity): string {
  const { milli } = q;
  if (milli === 0n) return "0";
  const neg = milli < 0n;
  const abs = neg ? -milli : milli;
  const sign = neg ? "-" : "";
  if (q.format === "BinarySI" && abs % 1000n === 0n && abs >= 1024n * 1000n) {
    let n = abs / 1000n;
    let i = 0;
    const suffixes = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
    while (i < suffixes.length - 1 && n % 1024n === 0n) {
      n /= 1024n;
      i++;
    }
    return `${sign}${n}${suffixes[i]}`;
  }
  // DecimalSI: the largest power of 1000 that keeps the mantissa whole
  const suffixes = ["m", "", "k", "M", "G", "T", "P", "E"];
  let n = abs;
  let i = 0;
  while (i < suffixes.length - 1 && n % 1000n === 0n) {
    n /= 1000n;
    i++;
  }
  return `${sign}${n}${suffixes[i]}`;
}

/** Milli-units of a quantity text (0 when absent or malformed), for percentages. */
export function milliOf(text: string | undefined): number {
  return Number(parseQuantity(text)?.milli ?? 0n);
}
