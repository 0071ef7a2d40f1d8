/**
 * The scenario file: a YAML document naming a cluster and a list of steps to
 * run in it. `parseScenario` reads and validates one in full, so that a
 * malformed file is refused, with every fault and its position, before
 * anything runs. SCENARIOS.md is the reference of the format.
 *
 * The format is tables of keys: to add a cluster setting, add it to
 * `CLUSTER_KEYS`; to add a kind of step, add a `StepKind` to `STEP_KINDS`.
 */
import { LineCounter, parseDocument } from "yaml";
import { Checker, type Fields, join, type Value } from "./_checker.ts";
import { checkFlannelConfig, type FlannelNetwork } from "@kemu/node";
import type { LinkEffect, Location } from "./driver.ts";
import { parseDuration } from "./duration.ts";
import { DEFAULT_EXPECTATION, type Expectation, type Matcher, parseMatcher } from "./expectation.ts";
import { MAX_NODES, parseHost, parseTarget } from "./location.ts";
import type { ScenarioError } from "./scenario_error.ts";

/** The `cluster:` block with its defaults filled in. */
export interface ClusterConfig {
  /** How many nodes, named `node1`…`nodeN`; 1 by default. */
  readonly nodes: number;
  /** flannel's backend (`vxlan`, `udp` or `host-gw`); vxlan when not given. */
  readonly backend?: "vxlan" | "udp" | "host-gw";
  /** `flat` (one underlay segment) or `routed` (even nodes on 192.168.1.0/24 behind the gateway); flat when not given. */
  readonly topology?: "flat" | "routed";
  /** flannel's network config (net-conf.json), checked as flanneld checks it. */
  readonly network?: FlannelNetwork;
  /** kube-proxy's `--proxy-mode`: iptables (the default) or ipvs. */
  readonly proxyMode?: "iptables" | "ipvs";
}

/** What every step has. */
interface StepBase {
  /** The step's label (`name:`), printed instead of its command. */
  readonly name?: string;
  /** Position of the step in the file (1-based), for messages. */
  readonly line: number;
}

/** Runs a command at a location and checks what it left behind. */
export interface RunStep extends StepBase {
  readonly kind: "run";
  /** The location as written (`node1`, `busybox-1`, `kube-system/coredns`). */
  readonly where: string;
  readonly location: Location;
  readonly command: string;
  readonly stdin?: string;
  readonly expect: Expectation;
}

/** Advances the emulated clock. */
export interface SleepStep extends StepBase {
  readonly kind: "sleep";
  readonly ms: number;
  /** The duration as a command line shows it: `2s`, `500ms` (a bare number gains `s`). */
  readonly duration: string;
}

/** Breaks something on purpose: a node's crash, a faulty link, a partition. */
export interface FaultStep extends StepBase {
  readonly kind: "fault";
  readonly fault:
    | { readonly kind: "crash"; readonly node: string }
    | { readonly kind: "restart"; readonly node: string }
    | { readonly kind: "agent"; readonly node: string; readonly agent: string; readonly action: "stop" | "start" }
    | { readonly kind: "link"; readonly from: string; readonly to: string; readonly bothWays: boolean; readonly effect: LinkEffect; readonly forMs?: number }
    | { readonly kind: "partition"; readonly groups: readonly (readonly string[])[]; readonly forMs?: number };
  /** How the step prints as a command line: `fault node2 crash`, `fault link node1-node2 loss 10% for 30s`. */
  readonly text: string;
}

/** One step of a scenario. */
export type Step = RunStep | SleepStep | FaultStep;

/** A validated scenario, ready to run. */
export interface Scenario {
  /** The file as the user named it. */
  readonly file: string;
  readonly name: string;
  readonly description?: string;
  readonly cluster: ClusterConfig;
  readonly steps: readonly Step[];
}

/** Either a scenario or every fault that kept the file from being one. */
export type ScenarioParse =
  | { readonly ok: true; readonly scenario: Scenario }
  | { readonly ok: false; readonly errors: readonly ScenarioError[] };

/** The keys of a scenario file's top level. */
export const SCENARIO_KEYS: readonly string[] = ["name", "description", "cluster", "steps"];

type ClusterKey = (c: Checker, value: Value, path: string) => Partial<ClusterConfig> | undefined;

/** The keys of the `cluster:` block, each with its reader. */
export const CLUSTER_KEYS: Readonly<Record<string, ClusterKey>> = {
  nodes: (c, value, path) => {
    const nodes = c.integer(value, path, { min: 1, max: MAX_NODES });
    return nodes === undefined ? undefined : { nodes };
  },
  backend: (c, value, path) => {
    const backend = c.string(value, path);
    if (backend === undefined) return undefined;
    if (backend !== "vxlan" && backend !== "udp" && backend !== "host-gw") {
      c.fail(value, path, `unknown backend type "${backend}": use vxlan, udp or host-gw`);
      return undefined;
    }
    return { backend };
  },
  proxyMode: (c, value, path) => {
    const mode = c.string(value, path);
    if (mode === undefined) return undefined;
    if (mode !== "iptables" && mode !== "ipvs") {
      // kube-proxy's own words for a mode it does not know.
      c.fail(value, path, `invalid proxy mode "${mode}": use iptables or ipvs`);
      return undefined;
    }
    return { proxyMode: mode };
  },
  network: (c, value, path) => {
    const node = c.deref(value);
    const doc = node === null ? null : (node as { toJSON(): unknown }).toJSON();
    const checked = checkFlannelConfig(doc);
    if (typeof checked === "string") {
      c.fail(value, path, `flannel refuses this network config: ${checked}`);
      return undefined;
    }
    return { network: checked };
  },
  topology: (c, value, path) => {
    const topology = c.string(value, path);
    if (topology === undefined) return undefined;
    if (topology !== "flat" && topology !== "routed") {
      c.fail(value, path, `unknown topology "${topology}": use flat or routed`);
      return undefined;
    }
    return { topology };
  },
};

const DEFAULT_CLUSTER: ClusterConfig = { nodes: 1 };

/** What the reader of a step kind gets besides the step's own fields. */
interface StepContext {
  readonly checker: Checker;
  readonly path: string;
  readonly base: StepBase;
  /** Nodes in the cluster, or undefined when the cluster block was invalid (host checks are then skipped). */
  readonly nodes: number | undefined;
}

/** A kind of step: the key that makes a step of this kind, the other keys it takes, and its reader. */
interface StepKind {
  readonly key: string;
  readonly keys: readonly string[];
  read(fields: Fields, context: StepContext): Step | undefined;
}

/** Keys that any step may have. */
const COMMON_STEP_KEYS: readonly string[] = ["name"];

const RUN: StepKind = {
  key: "run",
  keys: ["on", "in", "stdin", "expect"],
  read(fields, { checker: c, path, base, nodes }) {
    let ok = true;
    const run = fields.get("run")!;
    const command = c.string(run.value, join(path, "run"))?.replace(/\s+$/, "");
    if (command === "") {
      c.fail(run.value, join(path, "run"), "the command is empty");
      ok = false;
    }
    const on = fields.get("on");
    const inside = fields.get("in");
    let where: string | undefined;
    let location: Location | undefined;
    if (on && inside) {
      c.fail(inside.key, path, `a step runs either "on" a host or "in" a container or pod, not both`);
      ok = false;
    } else if (!on && !inside) {
      c.fail(run.key, path, `a "run" step needs "on: HOST" or "in: CONTAINER"`);
      ok = false;
    } else {
      const [key, entry] = on ? (["on", on] as const) : (["in", inside!] as const);
      where = c.string(entry.value, join(path, key));
      if (where !== undefined) {
        const parsed = key === "on" ? (nodes === undefined ? undefined : parseHost(where, nodes)) : parseTarget(where);
        if (parsed && "error" in parsed) c.fail(entry.value, join(path, key), parsed.error);
        else if (parsed) location = parsed.location;
        else location = { kind: "host", host: where };
      }
    }
    let stdin: string | undefined;
    const stdinEntry = fields.get("stdin");
    if (stdinEntry) {
      stdin = c.string(stdinEntry.value, join(path, "stdin"));
      if (stdin === undefined) ok = false;
    }
    const expectEntry = fields.get("expect");
    const expect = expectEntry ? readExpectation(c, expectEntry.value, join(path, "expect")) : DEFAULT_EXPECTATION;
    if (!ok || command === undefined || where === undefined || location === undefined || expect === undefined) {
      return undefined;
    }
    return { ...base, kind: "run", where, location, command, ...(stdin === undefined ? {} : { stdin }), expect };
  },
};

const SLEEP: StepKind = {
  key: "sleep",
  keys: [],
  read(fields, { checker: c, path, base }) {
    const entry = fields.get("sleep")!;
    const text = c.string(entry.value, join(path, "sleep"));
    if (text === undefined) return undefined;
    const ms = parseDuration(text);
    if (ms === undefined) {
      c.fail(entry.value, join(path, "sleep"), `${JSON.stringify(text)} is not a duration (use 500ms, 2s, 1m, 1h)`);
      return undefined;
    }
    const duration = /^[\d.]+$/.test(text.trim()) ? `${text.trim()}s` : text.trim();
    return { ...base, kind: "sleep", ms, duration };
  },
};

/** The keys of a `fault:` block. */
export const FAULT_KEYS: readonly string[] = [
  "node",
  "crash",
  "restart",
  "stop",
  "start",
  "link",
  "partition",
  "for",
  "delay",
  "jitter",
  "loss",
  "gemodel",
  "duplicate",
  "corrupt",
  "reorder",
  "rate",
  "limit",
  "down",
];

/** The agents a node runs that a fault can stop and start. */
const AGENTS = ["kubelet", "kube-proxy", "flanneld"];

/** Netem's vocabulary, as a fault's keys take it. */
const EFFECT_KEYS = ["delay", "jitter", "loss", "gemodel", "duplicate", "corrupt", "reorder", "rate", "limit", "down"];

function percent(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(text);
  const v = m ? Number(m[1]) : undefined;
  return v !== undefined && v <= 100 ? v : undefined;
}

function rate(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?)(bit|bps)\s*$/i.exec(text);
  if (!m) return undefined;
  const mult = { "": 1, k: 1e3, m: 1e6, g: 1e9 }[m[2]!.toLowerCase() as "" | "k" | "m" | "g"];
  return Number(m[1]) * mult * (m[3]!.toLowerCase() === "bit" ? 1 : 8);
}

const FAULT: StepKind = {
  key: "fault",
  keys: [],
  read(fields, { checker: c, path, base, nodes }) {
    const entry = fields.get("fault")!;
    const fpath = join(path, "fault");
    const block = c.fields(entry.value, fpath, { keys: FAULT_KEYS, what: "fault" });
    if (block === undefined) return undefined;
    const host = (value: Value, at: string): string | undefined => {
      const name = c.string(value, at);
      if (name === undefined || nodes === undefined) return name;
      const parsed = parseHost(name, nodes);
      if ("error" in parsed) {
        c.fail(value, at, parsed.error);
        return undefined;
      }
      return name;
    };
    const scalar = (key: string): string | undefined => {
      const e = block.get(key);
      if (!e) return undefined;
      const v = (e.value as { toJSON?: () => unknown } | null)?.toJSON?.();
      return v === undefined || v === null ? undefined : String(v);
    };
    let forMs: number | undefined;
    const forText = scalar("for");
    if (forText !== undefined) {
      forMs = parseDuration(forText);
      if (forMs === undefined) {
        c.fail(block.get("for")!.value, join(fpath, "for"), `${JSON.stringify(forText)} is not a duration (use 500ms, 2s, 1m, 1h)`);
        return undefined;
      }
    }
    const forSuffix = forText !== undefined ? ` for ${forText}` : "";
    const kinds = ["node", "link", "partition"].filter((k) => block.has(k));
    if (kinds.length !== 1) {
      c.fail(entry.value, fpath, `a fault needs exactly one of "node", "link" or "partition"`);
      return undefined;
    }
    if (kinds[0] === "node") {
      const node = host(block.get("node")!.value, join(fpath, "node"));
      if (node === undefined) return undefined;
      const isTrue = (key: string) => (block.get(key)?.value as { toJSON?: () => unknown } | null)?.toJSON?.() === true;
      for (const action of ["stop", "start"] as const) {
        if (!block.has(action)) continue;
        const agent = scalar(action);
        if (agent === undefined || !AGENTS.includes(agent)) {
          c.fail(block.get(action)!.value, join(fpath, action), `${JSON.stringify(agent ?? "")} is not an agent kemu runs: ${AGENTS.join(", ")}`);
          return undefined;
        }
        return { ...base, kind: "fault", fault: { kind: "agent", node, agent, action }, text: `fault ${node} ${action} ${agent}` };
      }
      if (isTrue("restart") && !block.has("crash")) {
        return { ...base, kind: "fault", fault: { kind: "restart", node }, text: `fault ${node} restart` };
      }
      const crashEntry = block.get("crash");
      if (!crashEntry || !isTrue("crash") || block.has("restart")) {
        c.fail(crashEntry?.value ?? entry.value, join(fpath, "crash"), `a node fault needs "crash: true", "restart: true", "stop: AGENT" or "start: AGENT"`);
        return undefined;
      }
      return { ...base, kind: "fault", fault: { kind: "crash", node }, text: `fault ${node} crash` };
    }
    if (kinds[0] === "partition") {
      const pEntry = block.get("partition")!;
      const groupsRaw = c.list(pEntry.value, join(fpath, "partition"));
      if (groupsRaw === undefined) return undefined;
      const groups: string[][] = [];
      groupsRaw.forEach((g, i) => {
        const members = c.list(g, join(fpath, `partition[${i}]`)) ?? [];
        groups.push(members.map((m, j) => host(m, join(fpath, `partition[${i}][${j}]`))).filter((h): h is string => h !== undefined));
      });
      if (groups.length < 2) {
        c.fail(pEntry.value, join(fpath, "partition"), "a partition needs at least two groups of hosts, such as [[node1], [node2, node3]]");
        return undefined;
      }
      const text = groups.map((g) => `[${g.join(",")}]`).join(" | ");
      return { ...base, kind: "fault", fault: { kind: "partition", groups, ...(forMs !== undefined ? { forMs } : {}) }, text: `fault partition ${text}${forSuffix}` };
    }
    const linkText = scalar("link") ?? "";
    const m = /^\s*([\w.-]+?)\s*(->|-)\s*([\w.-]+)\s*$/.exec(linkText);
    if (!m) {
      c.fail(block.get("link")!.value, join(fpath, "link"), `${JSON.stringify(linkText)} is not a link: write HOST-HOST (both ways) or HOST->HOST (one way)`);
      return undefined;
    }
    const a = m[1]!;
    const b = m[3]!;
    for (const h of [a, b]) {
      if (nodes !== undefined && "error" in parseHost(h, nodes)) {
        c.fail(block.get("link")!.value, join(fpath, "link"), (parseHost(h, nodes) as { error: string }).error);
        return undefined;
      }
    }
    const effect: LinkEffect = {};
    const words: string[] = [];
    for (const key of EFFECT_KEYS) {
      const text = scalar(key);
      if (text === undefined) continue;
      const at = join(fpath, key);
      const fail = (what: string) => {
        c.fail(block.get(key)!.value, at, `${JSON.stringify(text)} is not ${what}`);
        return undefined;
      };
      if (key === "delay" || key === "jitter") {
        const ms = parseDuration(text);
        if (ms === undefined) return fail("a duration (use 100ms, 1s)");
        if (key === "delay") effect.delayMs = ms;
        else effect.jitterMs = ms;
      } else if (key === "rate") {
        const r = rate(text);
        if (r === undefined) return fail("a rate (use 1mbit, 100kbit, 10mbps)");
        effect.rateBps = r;
      } else if (key === "limit") {
        const n = Number(text);
        if (!Number.isInteger(n) || n < 1) return fail("a packet count");
        effect.limit = n;
      } else if (key === "down") {
        if (text !== "true") return fail("true");
        effect.lossPct = 100;
      } else if (key === "gemodel") {
        const parts = text.split(/[\s,]+/).map(percent);
        if (parts.length !== 4 || parts.some((p) => p === undefined)) return fail("four percentages: p r 1-h 1-k (Gilbert–Elliott)");
        effect.gemodel = { p: parts[0]!, r: parts[1]!, lossBad: parts[2]!, lossGood: parts[3]! };
      } else {
        const p = percent(text);
        if (p === undefined) return fail("a percentage (use 10%)");
        if (key === "loss") effect.lossPct = p;
        else if (key === "duplicate") effect.duplicatePct = p;
        else if (key === "corrupt") effect.corruptPct = p;
        else effect.reorderPct = p;
      }
      words.push(`${key} ${text}`);
    }
    if (words.length === 0) {
      c.fail(entry.value, fpath, `a link fault needs an effect: delay, jitter, loss, gemodel, duplicate, corrupt, reorder, rate or down`);
      return undefined;
    }
    const bothWays = m[2] === "-";
    return {
      ...base,
      kind: "fault",
      fault: { kind: "link", from: a, to: b, bothWays, effect, ...(forMs !== undefined ? { forMs } : {}) },
      text: `fault link ${a}${m[2]}${b} ${words.join(" ")}${forSuffix}`,
    };
  },
};

/** Every kind of step, in the order messages list them. */
const STEP_KINDS: readonly StepKind[] = [RUN, SLEEP, FAULT];

/** Every key a step may have, whatever its kind. */
export const STEP_KEYS: readonly string[] = [
  ...COMMON_STEP_KEYS,
  ...new Set(STEP_KINDS.flatMap((k) => [k.key, ...k.keys])),
];

/** The keys of a `run` step's `expect:` block. */
export const EXPECT_KEYS: readonly string[] = ["exit", "stdout", "stderr"];

/**
 * Reads and validates a scenario from its YAML text. `file` is the name that
 * messages give (as the user typed it). Returns the scenario, or every fault
 * found, in file order, each with its line, column and key path.
 *
 * ```ts
 * const parsed = parseScenario(text, { file: "scenarios/ping.yaml" });
 * if (!parsed.ok) for (const e of parsed.errors) console.error(formatScenarioError(e));
 * ```
 */
export function parseScenario(text: string, options: { file: string }): ScenarioParse {
  const { file } = options;
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true });
  const yamlErrors = [...doc.errors, ...doc.warnings];
  if (yamlErrors.length > 0) {
    return {
      ok: false,
      errors: yamlErrors.map((e) => {
        const { line, col } = e.linePos?.[0] ?? lines.linePos(e.pos[0]);
        const [message = e.message, context] = e.message.split(/ at line \d+, column \d+:\n\n/);
        return { file, line, col, path: "", message, ...(context ? { context } : {}) };
      }),
    };
  }
  const c = new Checker(file, doc, lines);
  const scenario = readScenario(c, (doc.contents as Value | undefined) ?? null);
  if (c.errors.length > 0 || scenario === undefined) {
    const errors = c.errors.sort((a, b) => a.offset - b.offset).map(({ offset: _, ...e }) => e);
    return { ok: false, errors };
  }
  return { ok: true, scenario };
}

function readScenario(c: Checker, root: Value): Scenario | undefined {
  if (root === null) {
    c.fail(0, "", `the file is empty (a scenario needs "name" and "steps")`);
    return undefined;
  }
  const fields = c.fields(root, "", { keys: SCENARIO_KEYS, what: `a mapping with "name" and "steps"` });
  if (!fields) return undefined;
  for (const key of ["name", "steps"]) {
    if (!fields.has(key)) c.fail(root, "", `missing required key "${key}"`);
  }
  const nameEntry = fields.get("name");
  const name = nameEntry && c.string(nameEntry.value, "name");
  const descriptionEntry = fields.get("description");
  const description = descriptionEntry && c.string(descriptionEntry.value, "description");
  const clusterEntry = fields.get("cluster");
  const cluster = clusterEntry ? readCluster(c, clusterEntry.value) : DEFAULT_CLUSTER;
  const stepsEntry = fields.get("steps");
  const steps = stepsEntry && readSteps(c, stepsEntry.value, cluster?.nodes);
  if (name === undefined || cluster === undefined || steps === undefined) return undefined;
  return { file: c.file, name, ...(description === undefined ? {} : { description }), cluster, steps };
}

function readCluster(c: Checker, value: Value): ClusterConfig | undefined {
  const fields = c.fields(value, "cluster", { keys: Object.keys(CLUSTER_KEYS) });
  if (!fields) return undefined;
  let cluster: ClusterConfig | undefined = DEFAULT_CLUSTER;
  for (const [key, entry] of fields) {
    const part = CLUSTER_KEYS[key]!(c, entry.value, join("cluster", key));
    cluster = part === undefined || cluster === undefined ? undefined : { ...cluster, ...part };
  }
  return cluster;
}

function readSteps(c: Checker, value: Value, nodes: number | undefined): Step[] | undefined {
  const items = c.list(value, "steps");
  if (!items) return undefined;
  if (items.length === 0) {
    c.fail(value, "steps", "a scenario needs at least one step");
    return undefined;
  }
  const steps: Step[] = [];
  let ok = true;
  items.forEach((item, i) => {
    const step = readStep(c, item, `steps[${i}]`, nodes);
    if (step) steps.push(step);
    else ok = false;
  });
  return ok ? steps : undefined;
}

function readStep(c: Checker, value: Value, path: string, nodes: number | undefined): Step | undefined {
  const fields = c.fields(value, path, { keys: STEP_KEYS, what: `a step (a mapping such as "on: node1" and "run: …")` });
  if (!fields) return undefined;
  const quoted = STEP_KINDS.map((k) => `"${k.key}"`);
  const kindNames = quoted.length > 1 ? `${quoted.slice(0, -1).join(", ")} or ${quoted.at(-1)}` : (quoted[0] ?? "");
  const kinds = STEP_KINDS.filter((k) => fields.has(k.key));
  if (kinds.length === 0) {
    c.fail(value, path, `a step needs one of ${kindNames}`);
    return undefined;
  }
  if (kinds.length > 1) {
    // In file order, pointing at the key that came second.
    const keys = kinds.map((k) => fields.get(k.key)!.key).sort((a, b) => (a.range?.[0] ?? 0) - (b.range?.[0] ?? 0));
    const names = keys.map((k) => `"${String(k.value)}"`).join(" and ");
    c.fail(keys[1]!, path, `a step has only one of ${kindNames}, not ${names}`);
    return undefined;
  }
  const kind = kinds[0]!;
  let ok = true;
  for (const [key, entry] of fields) {
    if (key === kind.key || kind.keys.includes(key) || COMMON_STEP_KEYS.includes(key)) continue;
    const owner = STEP_KINDS.find((k) => k.keys.includes(key));
    c.fail(entry.key, join(path, key), `only a${owner ? ` "${owner.key}"` : "nother kind of"} step takes "${key}"`);
    ok = false;
  }
  const nameEntry = fields.get("name");
  const name = nameEntry && c.string(nameEntry.value, join(path, "name"));
  if (nameEntry && name === undefined) ok = false;
  const line = c.lines.linePos(value?.range?.[0] ?? 0).line;
  const base: StepBase = name === undefined ? { line } : { name, line };
  const step = kind.read(fields, { checker: c, path, base, nodes });
  return ok ? step : undefined;
}

function readExpectation(c: Checker, value: Value, path: string): Expectation | undefined {
  const fields = c.fields(value, path, { keys: EXPECT_KEYS });
  if (!fields) return undefined;
  let ok = true;
  let exit = DEFAULT_EXPECTATION.exit;
  const exitEntry = fields.get("exit");
  if (exitEntry) {
    const code = c.integer(exitEntry.value, join(path, "exit"), { min: 0, max: 255 });
    if (code === undefined) ok = false;
    else exit = code;
  }
  const streams: Record<"stdout" | "stderr", Matcher[]> = { stdout: [], stderr: [] };
  for (const stream of ["stdout", "stderr"] as const) {
    const entry = fields.get(stream);
    if (!entry) continue;
    const matchers = readMatchers(c, entry.value, join(path, stream));
    if (matchers === undefined) ok = false;
    else streams[stream] = matchers;
  }
  return ok ? { exit, ...streams } : undefined;
}

function readMatchers(c: Checker, value: Value, path: string): Matcher[] | undefined {
  const list = c.isList(value);
  const items = list ? c.list(value, path)! : [value];
  if (list && items.length === 0) {
    c.fail(value, path, "an empty list checks nothing (give a string, a /regex/, or a list of them)");
    return undefined;
  }
  const matchers: Matcher[] = [];
  let ok = true;
  items.forEach((item, i) => {
    const itemPath = list ? `${path}[${i}]` : path;
    const text = c.string(item, itemPath);
    if (text === undefined) {
      ok = false;
      return;
    }
    const parsed = parseMatcher(text);
    if ("error" in parsed) {
      c.fail(item, itemPath, parsed.error);
      ok = false;
    } else matchers.push(parsed.matcher);
  });
  return ok ? matchers : undefined;
}
