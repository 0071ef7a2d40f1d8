/**
 * Reading a parsed YAML document against a format while collecting every
 * fault with its position: the machinery under the scenario validator, kept
 * apart so that the format itself reads as a list of keys.
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node, type Scalar } from "yaml";
import type { ScenarioError } from "./scenario_error.ts";
import { didYouMean } from "./suggest.ts";

/** A node as the document holds it: absent (`key:` with no value) or a YAML node. */
export type Value = Node | null;

/** A mapping's entries by key, each with its key node (for positions) and value. */
export type Fields = ReadonlyMap<string, { readonly key: Scalar; readonly value: Value }>;

/** Collects faults found while reading one document. */
export class Checker {
  readonly errors: (ScenarioError & { offset: number })[] = [];

  constructor(
    readonly file: string,
    readonly doc: Document,
    readonly lines: LineCounter,
  ) {}

  /** Records a fault at the start of `at` (a node, or an offset into the text). */
  fail(at: Value | number, path: string, message: string): void {
    const offset = typeof at === "number" ? at : (at?.range?.[0] ?? 0);
    const { line, col } = this.lines.linePos(offset);
    this.errors.push({ file: this.file, line, col, path, message, offset });
  }

  /** Follows an alias (`*name`) to the node it names. */
  deref(value: Value): Value {
    if (value !== null && isAlias(value)) return (value.resolve(this.doc) as Node | undefined) ?? null;
    return value;
  }

  /**
   * The entries of a mapping, after recording every key not in `keys`
   * (with a suggestion when one is close). Undefined, and a fault recorded,
   * when `value` is not a mapping.
   */
  fields(value: Value, path: string, options: { keys: readonly string[]; what?: string }): Fields | undefined {
    const { keys: allowed, what = "a mapping" } = options;
    const node = this.deref(value);
    if (node === null || !isMap(node)) {
      this.fail(node ?? value, path, `expected ${what}, got ${describe(node)}`);
      return undefined;
    }
    const out = new Map<string, { key: Scalar; value: Value }>();
    for (const pair of node.items) {
      const key = pair.key as Value;
      if (key === null || !isScalar(key) || (typeof key.value !== "string" && typeof key.value !== "number")) {
        this.fail(key ?? node, path, "keys must be plain names");
        continue;
      }
      const name = String(key.value);
      const keyPath = join(path, name);
      if (!allowed.includes(name)) {
        const hint = didYouMean(name, allowed) || ` (expected one of: ${allowed.join(", ")})`;
        this.fail(key, keyPath, `unknown key${hint}`);
        continue;
      }
      out.set(name, { key, value: (pair.value as Value | undefined) ?? null });
    }
    return out;
  }

  /**
   * The text of a scalar. Plain scalars keep their source text, so that
   * `run: true` is the command `true` and `stdout: 1.10` is the text `1.10`.
   */
  string(value: Value, path: string): string | undefined {
    const node = this.deref(value);
    if (node !== null && isScalar(node)) {
      if (typeof node.value === "string") return node.value;
      if (node.value !== null && node.type === "PLAIN" && node.source !== undefined) return node.source;
      if (node.value !== null && node.value !== undefined) return String(node.value);
    }
    this.fail(node ?? value, path, `expected a string, got ${describe(node)}`);
    return undefined;
  }

  /** An integer in `min..max`. */
  integer(value: Value, path: string, range: { min: number; max: number }): number | undefined {
    const node = this.deref(value);
    if (node !== null && isScalar(node) && typeof node.value === "number" && Number.isInteger(node.value)) {
      if (node.value >= range.min && node.value <= range.max) return node.value;
      this.fail(node, path, `${node.value} is out of range (${range.min} to ${range.max})`);
      return undefined;
    }
    this.fail(node ?? value, path, `expected an integer, got ${describe(node)}`);
    return undefined;
  }

  /** The items of a list, or undefined (and a fault) when `value` is not one. */
  list(value: Value, path: string): Value[] | undefined {
    const node = this.deref(value);
    if (node !== null && isSeq(node)) return node.items.map((item) => this.deref((item as Value | undefined) ?? null));
    this.fail(node ?? value, path, `expected a list, got ${describe(node)}`);
    return undefined;
  }

  /** True when `value` is a list (after following aliases). */
  isList(value: Value): boolean {
    const node = this.deref(value);
    return node !== null && isSeq(node);
  }
}

/** `a.b`, or `b` at the root. */
export function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

/** What a node is, for "expected X, got Y" messages. */
export function describe(node: Value): string {
  if (node === null) return "nothing";
  if (isMap(node)) return "a mapping";
  if (isSeq(node)) return "a list";
  if (isScalar(node)) {
    const v = node.value;
    if (v === null || v === undefined) return "nothing";
    if (typeof v === "string") return `the string ${JSON.stringify(v)}`;
    if (typeof v === "number") return `the number ${node.source ?? v}`;
    if (typeof v === "boolean") return `${v}`;
  }
  return "something else";
}
