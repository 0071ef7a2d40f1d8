/**
 * Label and field selectors as the API server parses and matches them:
 * `app=web,tier!=db`, `env in (a,b)`, `!canary`, `status.phase=Running`.
 */
import type { KubeObject, LabelSelector } from "@kemu/api";

/** One requirement of a label selector. */
export interface Requirement {
  key: string;
  operator: "=" | "!=" | "in" | "notin" | "exists" | "!" | "gt" | "lt";
  values: string[];
}

/** A parsed label selector: every requirement must hold (an empty one matches everything). */
export type Selector = readonly Requirement[];

/** A selector's syntax error, with the API server's wording where known. */
export class SelectorError extends Error {
  override readonly name = "SelectorError";
}

const KEY_CHARS = /[A-Za-z0-9_.\-/]/;

/**
 * Parses a label selector string (`kubectl get -l`). Throws SelectorError.
 *
 * ```ts
 * const sel = parseLabelSelector("app=web,env in (prod,staging),!canary");
 * matches(sel, { app: "web", env: "prod" }); // true
 * ```
 */
export function parseLabelSelector(text: string): Selector {
  const out: Requirement[] = [];
  let i = 0;
  const s = text;
  const ws = (): void => {
    while (i < s.length && /\s/.test(s[i]!)) i++;
  };
  const ident = (): string => {
    ws();
    const start = i;
    while (i < s.length && KEY_CHARS.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  ws();
  if (i >= s.length) return out;
  for (;;) {
    ws();
    let neg = false;
    if (s[i] === "!") {
      neg = true;
      i++;
    }
    const key = ident();
    if (key === "") throw new SelectorError(`unable to parse requirement: found '${s[i] ?? ""}', expected: identifier`);
    checkLabelKey(key);
    ws();
    if (neg) {
      out.push({ key, operator: "!", values: [] });
    } else if (i >= s.length || s[i] === ",") {
      out.push({ key, operator: "exists", values: [] });
    } else if (s.startsWith("==", i) || s.startsWith("!=", i) || s[i] === "=") {
      const op = s.startsWith("!=", i) ? "!=" : "=";
      i += s.startsWith("==", i) || s.startsWith("!=", i) ? 2 : 1;
      const value = ident();
      checkLabelValue(value);
      out.push({ key, operator: op, values: [value] });
    } else if (s[i] === ">" || s[i] === "<") {
      const op = s[i] === ">" ? "gt" : "lt";
      i++;
      const value = ident();
      if (!/^-?\d+$/.test(value)) throw new SelectorError(`unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer`);
      out.push({ key, operator: op, values: [value] });
    } else {
      const word = ident();
      if (word !== "in" && word !== "notin") throw new SelectorError(`unable to parse requirement: found '${word || s[i] || ""}', expected: in, notin, =, ==, !=, gt, lt`);
      ws();
      if (s[i] !== "(") throw new SelectorError(`unable to parse requirement: found '${s[i] ?? ""}', expected: '('`);
      i++;
      const values: string[] = [];
      for (;;) {
        const v = ident();
        checkLabelValue(v);
        values.push(v);
        ws();
        if (s[i] === ",") {
          i++;
          continue;
        }
        if (s[i] === ")") {
          i++;
          break;
        }
        throw new SelectorError(`unable to parse requirement: found '${s[i] ?? ""}', expected: ',', ')' or identifier`);
      }
      out.push({ key, operator: word, values });
    }
    ws();
    if (i >= s.length) break;
    if (s[i] !== ",") throw new SelectorError(`unable to parse requirement: found '${s[i]!}', expected: ',' or 'end of string'`);
    i++;
  }
  return out;
}

function checkLabelKey(key: string): void {
  const err = validateQualifiedName(key);
  if (err !== undefined) throw new SelectorError(`unable to parse requirement: values[0][${key}]: Invalid value: "${key}": ${err}`);
}

function checkLabelValue(value: string): void {
  const err = validateLabelValue(value);
  if (err !== undefined) throw new SelectorError(`unable to parse requirement: values[0][${value}]: Invalid value: "${value}": ${err}`);
}

const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** The first problem with a label key (a qualified name, `prefix/name`), as the API server words it; undefined when valid. */
export function validateQualifiedName(key: string): string | undefined {
  const parts = key.split("/");
  let name = key;
  if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) return "prefix part must be non-empty";
    if (prefix.length > 253) return "prefix part must be no more than 253 characters";
    if (!DNS1123_SUBDOMAIN.test(prefix))
      return "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
  } else if (parts.length > 2) {
    return "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')";
  }
  if (name.length === 0) return "name part must be non-empty";
  if (name.length > 63) return "name part must be no more than 63 characters";
  if (!QUALIFIED_NAME.test(name))
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
  return undefined;
}

/** The first problem with a label value, as the API server words it; undefined when valid. */
export function validateLabelValue(value: string): string | undefined {
  if (value.length > 63) return "must be no more than 63 characters";
  if (!LABEL_VALUE.test(value))
    return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
  return undefined;
}

/** Whether labels satisfy every requirement of a selector. */
export function matches(selector: Selector, labels: Readonly<Record<string, string>> | undefined): boolean {
  const l = labels ?? {};
  for (const r of selector) {
    const has = Object.hasOwn(l, r.key);
    const v = l[r.key];
    switch (r.operator) {
      case "=":
        if (!has || v !== r.values[0]) return false;
        break;
      case "!=":
        if (has && v === r.values[0]) return false;
        break;
      case "in":
        if (!has || !r.values.includes(v!)) return false;
        break;
      case "notin":
        if (has && r.values.includes(v!)) return false;
        break;
      case "exists":
        if (!has) return false;
        break;
      case "!":
        if (has) return false;
        break;
      case "gt":
      case "lt": {
        if (!has || !/^-?\d+$/.test(v!)) return false;
        const n = Number(v);
        const m = Number(r.values[0]);
        if (r.operator === "gt" ? !(n > m) : !(n < m)) return false;
        break;
      }
    }
  }
  return true;
}

/**
 * The selector of an object's `spec.selector` (matchLabels and
 * matchExpressions). An empty LabelSelector matches everything; `undefined`
 * (a nil selector) matches nothing, as in `metav1.LabelSelectorAsSelector`.
 */
export function fromLabelSelector(sel: LabelSelector | undefined): Selector | undefined {
  if (sel === undefined) return undefined;
  const out: Requirement[] = [];
  for (const [key, value] of Object.entries(sel.matchLabels ?? {})) out.push({ key, operator: "=", values: [value] });
  for (const e of sel.matchExpressions ?? []) {
    const op = ({ In: "in", NotIn: "notin", Exists: "exists", DoesNotExist: "!" } as const)[e.operator];
    out.push({ key: e.key, operator: op, values: [...(e.values ?? [])] });
  }
  return out;
}

/** A selector matching exactly a map of labels (a Service's `spec.selector`). */
export function fromMap(labels: Readonly<Record<string, string>>): Selector {
  return Object.entries(labels).map(([key, value]) => ({ key, operator: "=" as const, values: [value] }));
}

/** One term of a field selector. */
export interface FieldRequirement {
  field: string;
  operator: "=" | "!=";
  value: string;
}

/** The fields each resource can be selected by, beyond metadata.name and metadata.namespace. */
const FIELD_LABELS: Readonly<Record<string, readonly string[]>> = {
  pods: [
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
  ],
  nodes: ["spec.unschedulable"],
  namespaces: ["status.phase"],
  events: [
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
  ],
  replicasets: ["status.replicas"],
};

/**
 * Parses a field selector (`spec.nodeName=node1,status.phase!=Running`) for
 * a resource, refusing fields the API server does not index, with its wording.
 */
export function parseFieldSelector(text: string, resource: string): FieldRequirement[] {
  const out: FieldRequirement[] = [];
  if (text.trim() === "") return out;
  for (const term of text.split(",")) {
    const m = /^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(term);
    if (m === null) throw new SelectorError(`invalid selector: '${text}'; can't understand '${term}'`);
    const field = m[1]!;
    const allowed = ["metadata.name", "metadata.namespace", ...(FIELD_LABELS[resource] ?? [])];
    if (!allowed.includes(field)) throw new SelectorError(`field label not supported: ${field}`);
    out.push({ field, operator: m[2] === "!=" ? "!=" : "=", value: m[3]! });
  }
  return out;
}

/** The value of a selectable field of an object, as the API server's field set gives it. */
export function fieldValue(obj: KubeObject, field: string): string {
  if (field === "source") return String((obj["source"] as { component?: string } | undefined)?.component ?? "");
  let cur: unknown = obj;
  for (const part of field.split(".")) {
    if (cur === null || typeof cur !== "object") return "";
    cur = (cur as Record<string, unknown>)[part];
  }
  if (cur === undefined || cur === null) return field === "spec.hostNetwork" || field === "spec.unschedulable" ? "false" : "";
  return String(cur);
}

/** Whether an object satisfies every term of a field selector. */
export function matchesFields(reqs: readonly FieldRequirement[], obj: KubeObject): boolean {
  return reqs.every((r) => (fieldValue(obj, r.field) === r.value) === (r.operator === "="));
}

/** A selector as text, in the API server's canonical form (`app=web,env in (a,b)`). */
export function formatSelector(selector: Selector): string {
  return selector
    .map((r) => {
      switch (r.operator) {
        case "=":
        case "!=":
          return `${r.key}${r.operator}${r.values[0]}`;
        case "in":
        case "notin":
          return `${r.key} ${r.operator} (${[...r.values].sort().join(",")})`;
        case "exists":
          return r.key;
        case "!":
          return `!${r.key}`;
        case "gt":
          return `${r.key}>${r.values[0]}`;
        case "lt":
          return `${r.key}<${r.values[0]}`;
      }
    })
    .join(",");
}
