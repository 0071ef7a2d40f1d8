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
import type { Location } from "./driver.ts";
import { type Fault, readFault } from "./fault.ts";
import { parseDuration } from "./duration.ts";
import { DEFAULT_EXPECTATION, type Expectation, type Matcher, parseMatcher } from "./expectation.ts";
import { MAX_NODES, parseHost, parseTarget } from "./location.ts";
import type { ScenarioError } from "./scenario_error.ts";

/** The `cluster:` block with its defaults filled in. */
export interface ClusterConfig {
  /** How many nodes, named `node1`…`nodeN`; 1 by default. */
  readonly nodes: number;
  /** Spare nodes, named after the others, wired but powered off until a `join` fault boots them; 0 by default. */
  readonly spare?: number;
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
  readonly fault: Fault;
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
  spare: (c, value, path) => {
    const spare = c.integer(value, path, { min: 0, max: MAX_NODES - 1 });
    return spare === undefined ? undefined : { spare };
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
  /** Spare nodes after them, that may join during the run. */
  readonly spare: number;
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
  read(fields, { checker: c, path, base, nodes, spare }) {
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
        const parsed = key === "on" ? (nodes === undefined ? undefined : parseHost(where, nodes + spare)) : parseTarget(where);
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

const FAULT: StepKind = {
  key: "fault",
  keys: [],
  read(fields, { checker: c, path, base, nodes, spare }) {
    const read = readFault(c, fields.get("fault")!.value, join(path, "fault"), nodes === undefined ? undefined : { nodes, spare });
    return read && { ...base, kind: "fault", ...read };
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
  if (cluster && cluster.nodes + (cluster.spare ?? 0) > MAX_NODES) {
    c.fail(clusterEntry!.value, "cluster", `cluster.nodes and cluster.spare together make ${cluster.nodes + (cluster.spare ?? 0)} nodes; at most ${MAX_NODES}`);
  }
  const steps = stepsEntry && readSteps(c, stepsEntry.value, cluster?.nodes, cluster?.spare ?? 0);
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

function readSteps(c: Checker, value: Value, nodes: number | undefined, spare: number): Step[] | undefined {
  const items = c.list(value, "steps");
  if (!items) return undefined;
  if (items.length === 0) {
    c.fail(value, "steps", "a scenario needs at least one step");
    return undefined;
  }
  const steps: Step[] = [];
  let ok = true;
  items.forEach((item, i) => {
    const step = readStep(c, item, `steps[${i}]`, nodes, spare);
    if (step) steps.push(step);
    else ok = false;
  });
  return ok ? steps : undefined;
}

function readStep(c: Checker, value: Value, path: string, nodes: number | undefined, spare: number): Step | undefined {
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
  const step = kind.read(fields, { checker: c, path, base, nodes, spare });
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
