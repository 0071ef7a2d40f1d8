/**
 * Kubernetes JSONPath templates (k8s.io/client-go/util/jsonpath) for
 * `-o jsonpath=…` and `-o custom-columns=…`: text with `{…}` actions —
 * field paths (`.a.b`, `['a.b']`, `[0]`, `[-1]`, `[1:3]`, `[*]`, `..name`,
 * `[?(@.x=="y")]`), string literals, `range`/`end`. Missing keys print
 * nothing, as kubectl's default `--allow-missing-template-keys` has it.
 */
import { CmdError } from "./errors.ts";

type Node =
  | { t: "text"; text: string }
  | { t: "path"; steps: Step[] }
  | { t: "range"; steps: Step[]; body: Node[] };

type Step =
  | { t: "root" }
  | { t: "field"; name: string }
  | { t: "recursive"; name: string }
  | { t: "wildcard" }
  | { t: "index"; index: number }
  | { t: "slice"; start?: number; end?: number }
  | { t: "union"; keys: Array<string | number> }
  | { t: "filter"; left: Operand; op?: string; right?: Operand };

type Operand = { t: "path"; steps: Step[] } | { t: "literal"; value: unknown };

/** A parsed template. */
export class JsonPath {
  readonly #nodes: Node[];
  constructor(readonly template: string) {
    this.#nodes = parseTemplate(template);
  }

  /** Every `{path}` action's results in order: kubectl custom-columns uses the first action's. */
  findResults(data: unknown): unknown[][] {
    const out: unknown[][] = [];
    for (const n of this.#nodes) {
      if (n.t === "path") out.push(evalSteps(n.steps, [data], data));
    }
    return out;
  }

  /** The template's text for `data`. */
  execute(data: unknown): string {
    return run(this.#nodes, data, data);
  }
}

function run(nodes: Node[], current: unknown, root: unknown): string {
  let out = "";
  for (const n of nodes) {
    if (n.t === "text") out += n.text;
    else if (n.t === "path") out += evalSteps(n.steps, [current], root).map(printValue).join(" ");
    else for (const v of evalSteps(n.steps, [current], root)) out += run(n.body, v, root);
  }
  return out;
}

/** How jsonpath prints one result: maps and lists as compact JSON, the rest as Go's fmt would. */
export function printValue(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function evalSteps(steps: Step[], start: unknown[], root: unknown): unknown[] {
  let cur = start;
  for (const s of steps) {
    const next: unknown[] = [];
    for (const v of cur) applyStep(s, v, root, next);
    cur = next;
  }
  return cur;
}

function applyStep(s: Step, v: unknown, root: unknown, out: unknown[]): void {
  switch (s.t) {
    case "root":
      out.push(root);
      return;
    case "field":
      if (isMap(v) && Object.hasOwn(v, s.name)) out.push(v[s.name]);
      return;
    case "wildcard":
      if (Array.isArray(v)) out.push(...v);
      else if (isMap(v)) for (const k of Object.keys(v).sort()) out.push(v[k]);
      return;
    case "recursive":
      collect(v, s.name, out);
      return;
    case "index":
      if (Array.isArray(v)) {
        const i = s.index < 0 ? v.length + s.index : s.index;
        if (i >= 0 && i < v.length) out.push(v[i]);
      }
      return;
    case "slice":
      if (Array.isArray(v)) {
        const norm = (x: number) => (x < 0 ? Math.max(0, v.length + x) : Math.min(x, v.length));
        out.push(...v.slice(norm(s.start ?? 0), norm(s.end ?? v.length)));
      }
      return;
    case "union":
      for (const k of s.keys) {
        if (typeof k === "number") applyStep({ t: "index", index: k }, v, root, out);
        else applyStep({ t: "field", name: k }, v, root, out);
      }
      return;
    case "filter": {
      const items = Array.isArray(v) ? v : isMap(v) ? [v] : [];
      for (const item of items) if (filterMatches(s, item, root)) out.push(item);
      return;
    }
  }
}

function collect(v: unknown, name: string, out: unknown[]): void {
  if (isMap(v)) {
    if (name === "" ) out.push(v);
    else if (Object.hasOwn(v, name)) out.push(v[name]);
    for (const k of Object.keys(v).sort()) collect(v[k], name, out);
  } else if (Array.isArray(v)) {
    for (const x of v) collect(x, name, out);
  }
}

function filterMatches(s: Extract<Step, { t: "filter" }>, item: unknown, root: unknown): boolean {
  const left = operand(s.left, item, root);
  if (s.op === undefined) return left.length > 0 && left[0] !== false && left[0] !== null;
  const right = operand(s.right!, item, root);
  if (left.length === 0 || right.length === 0) return false;
  const a = left[0];
  const b = right[0];
  switch (s.op) {
    case "==":
      return a === b || String(a) === String(b);
    case "!=":
      return !(a === b || String(a) === String(b));
    case "<":
      return Number(a) < Number(b);
    case ">":
      return Number(a) > Number(b);
    case "<=":
      return Number(a) <= Number(b);
    case ">=":
      return Number(a) >= Number(b);
  }
  return false;
}

function operand(o: Operand, item: unknown, root: unknown): unknown[] {
  return o.t === "literal" ? [o.value] : evalSteps(o.steps, [item], root);
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function parseTemplate(template: string): Node[] {
  const stack: Node[][] = [[]];
  const ranges: Array<Extract<Node, { t: "range" }>> = [];
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf("{", i);
    if (open < 0) {
      stack.at(-1)!.push({ t: "text", text: template.slice(i) });
      break;
    }
    if (open > i) stack.at(-1)!.push({ t: "text", text: template.slice(i, open) });
    const close = findClose(template, open);
    if (close < 0) throw new CmdError(`unclosed action`);
    const action = template.slice(open + 1, close).trim();
    i = close + 1;
    if (action === "end") {
      const r = ranges.pop();
      if (r === undefined) throw new CmdError("not in range, nothing to end");
      stack.pop();
      continue;
    }
    if (action.startsWith("range ")) {
      const r: Extract<Node, { t: "range" }> = { t: "range", steps: parsePath(action.slice(6).trim()), body: [] };
      stack.at(-1)!.push(r);
      ranges.push(r);
      stack.push(r.body);
      continue;
    }
    for (const part of splitActionParts(action)) {
      if (part.startsWith('"') || part.startsWith("'")) {
        stack.at(-1)!.push({ t: "text", text: unquote(part) });
      } else {
        stack.at(-1)!.push({ t: "path", steps: parsePath(part) });
      }
    }
  }
  if (ranges.length > 0) throw new CmdError("unclosed range");
  return stack[0]!;
}

function findClose(s: string, open: number): number {
  let quote = "";
  for (let i = open + 1; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = "";
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "}") return i;
  }
  return -1;
}

/** An action can hold several parts: `{.a}{"\n"}` are separate actions, but `{.a "x"}` is allowed too. */
function splitActionParts(action: string): string[] {
  const parts: string[] = [];
  let cur = "";
  let quote = "";
  let depth = 0;
  for (let i = 0; i < action.length; i++) {
    const c = action[i]!;
    if (quote) {
      cur += c;
      if (c === "\\") cur += action[++i] ?? "";
      else if (c === quote) quote = "";
      continue;
    }
    if ((c === '"' || c === "'") && depth === 0 && cur.trim() === "") {
      quote = c;
      cur += c;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    if (c === "[" || c === "(") depth++;
    if (c === "]" || c === ")") depth--;
    if (c === " " && depth === 0) {
      if (cur !== "") parts.push(cur);
      cur = "";
      continue;
    }
    cur += c;
  }
  if (cur !== "") parts.push(cur);
  return parts;
}

function unquote(q: string): string {
  const body = q.slice(1, -1);
  return body.replace(/\\(.)/g, (_, c: string) => ({ n: "\n", t: "\t", r: "\r", "\\": "\\", '"': '"', "'": "'" })[c] ?? c);
}

/** Parses `.a.b[0]`, `$.a`, `@.x`, `..name`, `['k']`, `[?(…)]`. */
function parsePath(p: string): Step[] {
  const steps: Step[] = [];
  let i = 0;
  if (p.startsWith("$")) {
    steps.push({ t: "root" });
    i = 1;
  } else if (p.startsWith("@")) i = 1;
  while (i < p.length) {
    const c = p[i]!;
    if (p.startsWith("..", i)) {
      i += 2;
      const m = /^[A-Za-z0-9_\-/]*/.exec(p.slice(i))!;
      i += m[0].length;
      steps.push({ t: "recursive", name: m[0] });
    } else if (c === ".") {
      i++;
      if (p[i] === "*") {
        i++;
        steps.push({ t: "wildcard" });
        continue;
      }
      const m = /^[^.[\s]*/.exec(p.slice(i))!;
      i += m[0].length;
      if (m[0] !== "") steps.push({ t: "field", name: m[0] });
    } else if (c === "[") {
      const end = matchingBracket(p, i);
      const inner = p.slice(i + 1, end).trim();
      i = end + 1;
      steps.push(parseBracket(inner));
    } else {
      const m = /^[^.[\s]+/.exec(p.slice(i))!;
      i += m[0].length;
      steps.push({ t: "field", name: m[0] });
    }
  }
  return steps;
}

function matchingBracket(p: string, open: number): number {
  let depth = 0;
  let quote = "";
  for (let i = open; i < p.length; i++) {
    const c = p[i]!;
    if (quote) {
      if (c === quote) quote = "";
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if (c === "[") depth++;
    else if (c === "]" && --depth === 0) return i;
  }
  throw new CmdError(`unterminated array`);
}

function parseBracket(inner: string): Step {
  if (inner === "*") return { t: "wildcard" };
  if (inner.startsWith("?(") && inner.endsWith(")")) {
    const expr = inner.slice(2, -1).trim();
    const m = /^(.+?)\s*(==|!=|<=|>=|<|>)\s*(.+)$/.exec(expr);
    if (!m) return { t: "filter", left: parseOperand(expr) };
    return { t: "filter", left: parseOperand(m[1]!), op: m[2]!, right: parseOperand(m[3]!) };
  }
  if (/^-?\d*:-?\d*$/.test(inner)) {
    const [a, b] = inner.split(":") as [string, string];
    return { t: "slice", ...(a !== "" ? { start: Number(a) } : {}), ...(b !== "" ? { end: Number(b) } : {}) };
  }
  const parts = inner.split(",").map((s) => s.trim());
  const keys = parts.map((s) => (/^-?\d+$/.test(s) ? Number(s) : s.replace(/^['"]|['"]$/g, "")));
  if (keys.length === 1) {
    const k = keys[0]!;
    return typeof k === "number" ? { t: "index", index: k } : { t: "field", name: k };
  }
  return { t: "union", keys };
}

function parseOperand(s: string): Operand {
  const t = s.trim();
  if (t.startsWith("@") || t.startsWith("$")) return { t: "path", steps: parsePath(t) };
  if ((t.startsWith('"') && t.endsWith('"')) || (t.startsWith("'") && t.endsWith("'"))) return { t: "literal", value: t.slice(1, -1) };
  if (t === "true" || t === "false") return { t: "literal", value: t === "true" };
  if (/^-?\d+(\.\d+)?$/.test(t)) return { t: "literal", value: Number(t) };
  return { t: "literal", value: t };
}

/** custom-columns' RelaxedJSONPathExpression: `metadata.name`, `.metadata.name`, `{metadata.name}` all become `{.metadata.name}`. */
export function relaxedJsonPath(expr: string): string {
  if (expr === "") return expr;
  const m = /^\{\.?([^{}]+)\}$|^\.?([^{}]+)$/.exec(expr);
  if (!m) {
    throw new CmdError("unexpected path string, expected a 'name1.name2' or '.name1.name2' or '{name1.name2}' or '{.name1.name2}'");
  }
  return `{.${m[1] ?? m[2]}}`;
}
