/**
 * Resource quantities for kubectl's describe: the control plane's
 * resource.Quantity (parse, canonical print), plus the sums describe shows.
 */
import { formatQuantity, parseQuantity as parseApiQuantity, type Quantity, quantityMilli } from "../quantity.ts";

export { formatQuantity, type Quantity };

/** Parses a quantity; undefined when absent or malformed. */
export function parseQuantity(text: string | number | undefined): Quantity | undefined {
  return text === undefined ? undefined : parseApiQuantity(text);
}

/** The sum of quantities, printed in the first one's format ("0" when there are none). */
export function addQuantities(qs: ReadonlyArray<Quantity | undefined>): Quantity {
  let nano = 0n;
  let format: Quantity["format"] | undefined;
  for (const q of qs) {
    if (q === undefined) continue;
    format ??= q.format;
    nano += q.nano;
  }
  return { nano, format: format ?? "DecimalSI" };
}

/** Milli-units of a quantity text (0 when absent or malformed), for percentages. */
export function milliOf(text: string | undefined): number {
  const q = parseQuantity(text);
  return q ? quantityMilli(q) : 0;
}
