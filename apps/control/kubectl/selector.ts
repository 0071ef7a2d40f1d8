/**
 * Label selectors as kubectl reads (`-l app=web,tier!=db,env in (a,b),!x`)
 * and prints them (labels.FormatLabels, metav1.FormatLabelSelector).
 */
import type { LabelSelector } from "@kemu/api";
import { CmdError } from "./errors.ts";

/** One requirement of a selector. */
export interface Requirement {
  key: string;
  op: "=" | "!=" | "in" | "notin" | "exists" | "!";
  values: string[];
}

/** Parses a `-l` selector; throws CmdError in kubectl's words when malformed. */
export function parseSelector(text: string): Requirement[] {
  const reqs: Requirement[] = [];
  const s = text.trim();
  if (s === "") return reqs;
  let i = 0;
  const fail = (): never => {
    throw new CmdError(`unable to parse requirement: found '${s.slice(i) || s}', expected: identifier`);
  };
  const skip = () => {
    while (s[i] === " ") i++;
  };
  const ident = (): string => {
    skip();
    const m = /^[A-Za-z0-9_./-]+/.exec(s.slice(i));
    if (!m) return fail();
    i += m[0].length;
    return m[0];
  };
  const value = (): string => {
    skip();
    const m = /^[A-Za-z0-9_.-]*/.exec(s.slice(i))!;
    i += m[0].length;
    return m[0];
  };
  while (i < s.length) {
    skip();
    if (s[i] === "!") {
      i++;
      reqs.push({ key: ident(), op: "!", values: [] });
    } else {
      const key = ident();
      skip();
      const rest = s.slice(i);
      if (rest.startsWith("!=")) {
        i += 2;
        reqs.push({ key, op: "!=", values: [value()] });
      } else if (rest.startsWith("==")) {
        i += 2;
        reqs.push({ key, op: "=", values: [value()] });
      } else if (rest.startsWith("=")) {
        i += 1;
        reqs.push({ key, op: "=", values: [value()] });
      } else if (/^(in|notin)\s*\(/.test(rest)) {
        const op = rest.startsWith("in") ? "in" : "notin";
        i += rest.indexOf("(") + 1;
        const end = s.indexOf(")", i);
        if (end < 0) fail();
        const values = s
          .slice(i, end)
          .split(",")
          .map((v) => v.trim())
          .filter((v) => v !== "");
        i = end + 1;
        reqs.push({ key, op, values });
      } else {
        reqs.push({ key, op: "exists", values: [] });
      }
    }
    skip();
    if (i < s.length) {
      if (s[i] !== ",") fail();
      i++;
    }
  }
  return reqs;
}

/** Whether `labels` satisfy every requirement. */
export function matches(reqs: readonly Requirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.hasOwn(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case "=":
        return has && v === r.values[0];
      case "!=":
        return !has || v !== r.values[0];
      case "in":
        return has && r.values.includes(v!);
      case "notin":
        return !has || !r.values.includes(v!);
      case "exists":
        return has;
      case "!":
        return !has;
    }
  });
}

/** labels.FormatLabels: `a=1,b=2` sorted by key, or `<none>`. */
export function formatLabels(labels: Record<string, string> | undefined): string {
  const keys = Object.keys(labels ?? {}).sort();
  if (keys.length === 0) return "<none>";
  return keys.map((k) => `${k}=${labels![k]}`).join(",");
}

/** The requirements a LabelSelector object stands for. */
export function selectorRequirements(sel: LabelSelector | undefined): Requirement[] {
  const reqs: Requirement[] = [];
  for (const [k, v] of Object.entries(sel?.matchLabels ?? {})) reqs.push({ key: k, op: "=", values: [v] });
  for (const e of sel?.matchExpressions ?? []) {
    const op = e.operator === "In" ? "in" : e.operator === "NotIn" ? "notin" : e.operator === "Exists" ? "exists" : "!";
    reqs.push({ key: e.key, op, values: [...(e.values ?? [])].sort() });
  }
  return reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** labels.Selector.String(): requirements sorted by key, `""` for none. */
export function selectorString(reqs: readonly Requirement[]): string {
  return reqs
    .map((r) => {
      switch (r.op) {
        case "=":
          return `${r.key}=${r.values[0]}`;
        case "!=":
          return `${r.key}!=${r.values[0]}`;
        case "in":
          return `${r.key} in (${r.values.join(",")})`;
        case "notin":
          return `${r.key} notin (${r.values.join(",")})`;
        case "exists":
          return r.key;
        case "!":
          return `!${r.key}`;
      }
    })
    .join(",");
}

/** metav1.FormatLabelSelector: the selector's text, or `<none>` when it selects everything. */
export function formatLabelSelector(sel: LabelSelector | undefined): string {
  const s = selectorString(selectorRequirements(sel));
  return s === "" ? "<none>" : s;
}
