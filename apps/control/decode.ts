/**
 * Decoding a request body as the API server does: JSON types checked against
 * the kind's schema (with encoding/json's error wording), unknown fields
 * collected for strict field validation and dropped otherwise, nulls dropped,
 * quantities canonicalised.
 */
import type { KubeObject } from "@kemu/api";
import { STRUCTS } from "./schema.ts";
import { QUANTITY_REGEX_TEXT, formatQuantity, parseQuantity } from "./quantity.ts";

/** What decoding found wrong. */
export interface DecodeResult {
  object: KubeObject;
  /** Unknown fields, as paths (`spec.containers[0].ports[0].continerPort`), in document order. */
  unknown: string[];
  /** The first type error, worded as encoding/json words it; undefined when none. */
  typeError?: string;
}

function jsonType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "boolean") return "bool";
  return typeof v;
}

function goTypeName(t: string): string {
  if (t.startsWith("[]")) return `[]${goTypeName(t.slice(2))}`;
  if (t.startsWith("map[string]")) return `map[string]${goTypeName(t.slice(11))}`;
  if (t === "Quantity") return "resource.Quantity";
  if (t === "IntOrString") return "intstr.IntOrString";
  if (t === "Time" || t === "MicroTime") return `v1.${t}`;
  if (t === "bytes") return "[]uint8";
  if (t === "any") return "interface {}";
  if (/^[A-Z]/.test(t)) return `v1.${t}`;
  return t;
}

const INT_RANGE: Record<string, [number, number]> = {
  int32: [-2147483648, 2147483647],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

class Decoder {
  unknown: string[] = [];
  typeError: string | undefined;

  fail(v: unknown, t: string, structName: string, fieldPath: string, numberText = false): undefined {
    if (this.typeError !== undefined) return undefined;
    const what = numberText && typeof v === "number" ? `number ${v}` : jsonType(v);
    this.typeError =
      fieldPath === ""
        ? `json: cannot unmarshal ${what} into Go value of type ${goTypeName(t)}`
        : `json: cannot unmarshal ${what} into Go struct field ${structName}.${fieldPath} of type ${goTypeName(t)}`;
    return undefined;
  }

  /**
   * Decodes `v` as type `t`. `path` is the display path with indices (for
   * unknown fields); `structName`/`fieldPath` name the Go struct field for
   * type errors. Returns undefined to drop the value.
   */
  value(v: unknown, t: string, path: string, structName: string, fieldPath: string): unknown {
    if (v === null || v === undefined) return undefined;
    if (t === "any") return v;
    if (t.startsWith("[]")) {
      if (!Array.isArray(v)) return this.fail(v, t, structName, fieldPath);
      const et = t.slice(2);
      return v.map((x, i) => {
        const d = this.value(x, et, `${path}[${i}]`, structName, fieldPath);
        // A null element decodes to the zero value.
        return d === undefined ? zeroOf(et) : d;
      });
    }
    if (t.startsWith("map[string]")) {
      if (typeof v !== "object" || Array.isArray(v)) return this.fail(v, t, structName, fieldPath);
      const vt = t.slice(11);
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        const d = this.value(x, vt, `${path}.${k}`, structName, fieldPath);
        out[k] = d === undefined ? zeroOf(vt) : d;
      }
      return out;
    }
    switch (t) {
      case "string":
      case "bytes":
        return typeof v === "string" ? v : this.fail(v, t, structName, fieldPath);
      case "bool":
        return typeof v === "boolean" ? v : this.fail(v, t, structName, fieldPath);
      case "float64":
        return typeof v === "number" ? v : this.fail(v, t, structName, fieldPath);
      case "int32":
      case "int64": {
        if (typeof v !== "number") return this.fail(v, t, structName, fieldPath);
        const [lo, hi] = INT_RANGE[t]!;
        if (!Number.isInteger(v) || v < lo || v > hi) return this.fail(v, t, structName, fieldPath, true);
        return v;
      }
      case "IntOrString":
        if (typeof v === "number" && Number.isInteger(v)) return v;
        if (typeof v === "string") return v;
        return this.fail(v, "int32", structName, fieldPath);
      case "Quantity": {
        if (typeof v !== "string" && typeof v !== "number") return this.fail(v, "string", structName, fieldPath);
        const q = parseQuantity(v);
        if (q === undefined) {
          this.typeError ??= `quantities must match the regular expression '${QUANTITY_REGEX_TEXT}'`;
          return undefined;
        }
        return formatQuantity(q);
      }
      case "Time":
      case "MicroTime":
        return typeof v === "string" ? v : this.fail(v, "string", structName, fieldPath);
    }
    const fields = STRUCTS[t];
    if (fields === undefined) return v;
    if (typeof v !== "object" || Array.isArray(v)) return this.fail(v, t, structName, fieldPath);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      const ft = fields[k];
      const p = path === "" ? k : `${path}.${k}`;
      if (ft === undefined) {
        this.unknown.push(p);
        continue;
      }
      const d = this.value(x, ft, p, t, fieldPath === "" ? k : `${fieldPath}.${k}`);
      if (d !== undefined) out[k] = d;
    }
    return out;
  }
}

function zeroOf(t: string): unknown {
  if (t === "string" || t === "bytes" || t === "Time" || t === "MicroTime") return "";
  if (t === "int32" || t === "int64" || t === "float64") return 0;
  if (t === "bool") return false;
  if (t === "Quantity") return "0";
  if (t.startsWith("[]")) return [];
  return {};
}

/**
 * Decodes a body as a kind: unknown fields collected (and dropped), JSON
 * types checked, nulls dropped, quantities canonicalised. Kinds without a
 * schema are kept as given.
 */
export function decodeAs(kind: string, body: unknown): DecodeResult {
  const d = new Decoder();
  if (STRUCTS[kind] === undefined) return { object: body as KubeObject, unknown: [] };
  const object = (d.value(body, kind, "", kind, "") ?? {}) as KubeObject;
  const r: DecodeResult = { object, unknown: d.unknown };
  if (d.typeError !== undefined) r.typeError = d.typeError;
  return r;
}
