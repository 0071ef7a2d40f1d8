/**
 * Faults: one vocabulary, one validator, two ways in. A scenario's
 * `fault:` step is a YAML mapping (`{ link: node1-node2, loss: 10% }`); in
 * `kemu up`'s shell the same fault is a command line
 * (`kemu fault link node1-node2 loss 10%`), which `parseFaultCommand` turns
 * into that mapping and reads with the same `readFault`, so both refuse
 * nonsense with the same words. `applyFault` makes a fault happen on a
 * cluster and returns its event-log line. SCENARIOS.md is the reference.
 */
import { LineCounter, parseDocument, stringify } from "yaml";
import { Checker, join, type Value } from "./_checker.ts";
import type { ClusterDriver, ExecResult, LinkEffect } from "./driver.ts";
import { parseDuration } from "./duration.ts";
import { parseHost } from "./location.ts";

/** Which hosts faults may name: `nodes` booted at the start, then `spare` more that can join later. */
export interface FaultHosts {
  readonly nodes: number;
  readonly spare: number;
}

/** A link that goes down and up again, over and over: down first, for `downMs`, then up for `upMs`. */
export interface Flap {
  readonly downMs: number;
  readonly upMs: number;
}

/** A validated fault. */
export type Fault =
  | { readonly kind: "crash"; readonly node: string }
  | { readonly kind: "restart"; readonly node: string }
  | { readonly kind: "join"; readonly node: string }
  | { readonly kind: "agent"; readonly node: string; readonly agent: string; readonly action: "stop" | "start" }
  | { readonly kind: "conntrack"; readonly node: string }
  | { readonly kind: "mtu"; readonly node: string; readonly dev: string; readonly mtu: number }
  | {
    readonly kind: "link";
    readonly from: string;
    readonly to: string;
    readonly bothWays: boolean;
    readonly effect: LinkEffect;
    readonly flap?: Flap;
    readonly forMs?: number;
  }
  | { readonly kind: "partition"; readonly groups: readonly (readonly string[])[]; readonly forMs?: number };

/** A fault and how it prints as a command line (`fault node2 crash`, `fault link node1-node2 loss 10% for 30s`). */
export interface ReadFault {
  readonly fault: Fault;
  readonly text: string;
}

/** The keys of a `fault:` block. */
export const FAULT_KEYS: readonly string[] = [
  "node",
  "crash",
  "restart",
  "join",
  "stop",
  "start",
  "conntrack",
  "dev",
  "mtu",
  "link",
  "partition",
  "for",
  "flap",
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

/** The keys of a link fault's `flap:` block. */
export const FLAP_KEYS: readonly string[] = ["down", "up"];

/** The agents a node runs that a fault can stop and start. */
export const AGENTS: readonly string[] = ["kubelet", "kube-proxy", "flanneld"];

/** What a node fault does, one key each; `dev` goes with `mtu`. */
const NODE_ACTIONS = ["crash", "restart", "join", "stop", "start", "conntrack", "mtu"];

/** Keys that are `true` or absent: on a command line the word alone says true. */
const FLAG_KEYS = ["crash", "restart", "join", "down"];

/** Netem's vocabulary, as a fault's keys take it. */
const EFFECT_KEYS = ["delay", "jitter", "loss", "gemodel", "duplicate", "corrupt", "reorder", "rate", "limit", "down"];

/** The largest MTU `ip link set … mtu` takes on kemu's devices. */
const MAX_MTU = 65535;

// Linux's interface names: up to 15 bytes, no '/', ':' or whitespace.
const IFNAME_RE = /^[^\s/:]{1,15}$/;

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

/** A scalar's value as text (`true`, `10%`, `1400`), or undefined for a mapping, list or nothing. */
function scalarText(c: Checker, value: Value): string | undefined {
  const node = c.deref(value) as { toJSON?: () => unknown } | null;
  const v = node?.toJSON?.();
  return v === undefined || v === null || typeof v === "object" ? undefined : String(v);
}

/**
 * Reads a `fault:` block at `path`, recording every fault of it in `c`.
 * `hosts` says which nodes exist (undefined when the cluster block was
 * invalid: host checks are then skipped).
 */
export function readFault(c: Checker, value: Value, path: string, hosts: FaultHosts | undefined): ReadFault | undefined {
  const block = c.fields(value, path, { keys: FAULT_KEYS, what: "fault" });
  if (block === undefined) return undefined;
  const total = hosts === undefined ? undefined : hosts.nodes + hosts.spare;
  const host = (v: Value, at: string): string | undefined => {
    const name = c.string(v, at);
    if (name === undefined || total === undefined) return name;
    const parsed = parseHost(name, total);
    if ("error" in parsed) {
      c.fail(v, at, parsed.error);
      return undefined;
    }
    return name;
  };
  const scalar = (key: string): string | undefined => {
    const e = block.get(key);
    return e ? scalarText(c, e.value) : undefined;
  };
  const duration = (v: Value, at: string): number | undefined => {
    const text = scalarText(c, v) ?? "";
    const ms = parseDuration(text);
    if (ms === undefined) c.fail(v, at, `${JSON.stringify(text)} is not a duration (use 500ms, 2s, 1m, 1h)`);
    return ms;
  };
  let forMs: number | undefined;
  const forText = scalar("for");
  if (block.has("for")) {
    forMs = duration(block.get("for")!.value, join(path, "for"));
    if (forMs === undefined) return undefined;
  }
  const forSuffix = forText !== undefined ? ` for ${forText}` : "";
  const kinds = ["node", "link", "partition"].filter((k) => block.has(k));
  if (kinds.length !== 1) {
    c.fail(value, path, `a fault needs exactly one of "node", "link" or "partition"`);
    return undefined;
  }

  if (kinds[0] === "node") {
    const node = host(block.get("node")!.value, join(path, "node"));
    if (node === undefined) return undefined;
    const actions = NODE_ACTIONS.filter((k) => block.has(k));
    const needs = `a node fault needs one of "crash: true", "restart: true", "join: true", "stop: AGENT", "start: AGENT", "conntrack: flush" or "mtu: BYTES" (with "dev: IFNAME")`;
    if (actions.length !== 1) {
      const second = actions[1] === undefined ? undefined : block.get(actions[1])!;
      c.fail(second?.key ?? value, join(path, actions[1] ?? "crash"), actions.length === 0 ? needs : `a node fault does one thing: ${actions.map((a) => `"${a}"`).join(" and ")} cannot go together`);
      return undefined;
    }
    const action = actions[0]!;
    const at = join(path, action);
    const entry = block.get(action)!;
    const text = scalar(action);
    if (block.has("dev") && action !== "mtu") {
      c.fail(block.get("dev")!.key, join(path, "dev"), `only an "mtu" fault takes "dev"`);
      return undefined;
    }
    for (const key of FAULT_KEYS.filter((k) => block.has(k) && !["node", "dev", action].includes(k))) {
      c.fail(block.get(key)!.key, join(path, key), `a node fault does not take "${key}"`);
      return undefined;
    }
    const done = (fault: Fault, words: string): ReadFault => ({ fault, text: `fault ${node} ${words}` });
    switch (action) {
      case "crash":
      case "restart":
      case "join":
        if (text !== "true") {
          c.fail(entry.value, at, needs);
          return undefined;
        }
        if (action === "join" && hosts !== undefined && Number(node.slice(4)) <= hosts.nodes) {
          const spares = hosts.spare === 0
            ? "this cluster has no spare nodes (set cluster.spare, or kemu up --spare)"
            : hosts.spare === 1
            ? `only node${hosts.nodes + 1} can`
            : `only node${hosts.nodes + 1} to node${hosts.nodes + hosts.spare} can`;
          c.fail(block.get("node")!.value, join(path, "node"), `${node} is in the cluster from the start, so it cannot join: ${spares}`);
          return undefined;
        }
        if (action === "join" && !/^node\d+$/.test(node)) {
          c.fail(block.get("node")!.value, join(path, "node"), `only a node can join, not ${node}`);
          return undefined;
        }
        return done({ kind: action, node }, action);
      case "stop":
      case "start":
        if (text === undefined || !AGENTS.includes(text)) {
          c.fail(entry.value, at, `${JSON.stringify(text ?? "")} is not an agent kemu runs: ${AGENTS.join(", ")}`);
          return undefined;
        }
        return done({ kind: "agent", node, agent: text, action }, `${action} ${text}`);
      case "conntrack":
        if (text !== "flush") {
          c.fail(entry.value, at, `${JSON.stringify(text ?? "")} is not something to do to the conntrack table: use flush`);
          return undefined;
        }
        return done({ kind: "conntrack", node }, "conntrack flush");
      default: {
        const mtu = Number(text);
        if (text === undefined || !/^\d+$/.test(text) || mtu < 68 || mtu > MAX_MTU) {
          c.fail(entry.value, at, `${JSON.stringify(text ?? "")} is not an MTU: use a number of bytes from 68 to ${MAX_MTU}`);
          return undefined;
        }
        const devEntry = block.get("dev");
        if (!devEntry) {
          c.fail(entry.key, path, `an "mtu" fault needs "dev: IFNAME", the interface to change (such as eth0)`);
          return undefined;
        }
        const dev = c.string(devEntry.value, join(path, "dev"));
        if (dev === undefined) return undefined;
        if (!IFNAME_RE.test(dev)) {
          c.fail(devEntry.value, join(path, "dev"), `${JSON.stringify(dev)} is not a valid name of an interface`);
          return undefined;
        }
        return done({ kind: "mtu", node, dev, mtu }, `dev ${dev} mtu ${mtu}`);
      }
    }
  }

  for (const key of ["flap", ...EFFECT_KEYS]) {
    if (kinds[0] === "partition" && block.has(key)) {
      c.fail(block.get(key)!.key, join(path, key), `a partition cuts every link between its groups; "${key}" goes with a "link" fault`);
      return undefined;
    }
  }
  for (const key of ["dev", ...NODE_ACTIONS]) {
    if (block.has(key)) {
      c.fail(block.get(key)!.key, join(path, key), `"${key}" goes with a "node" fault`);
      return undefined;
    }
  }

  if (kinds[0] === "partition") {
    const pEntry = block.get("partition")!;
    const groupsRaw = c.list(pEntry.value, join(path, "partition"));
    if (groupsRaw === undefined) return undefined;
    const groups: string[][] = [];
    groupsRaw.forEach((g, i) => {
      const members = c.list(g, join(path, `partition[${i}]`)) ?? [];
      groups.push(members.map((m, j) => host(m, join(path, `partition[${i}][${j}]`))).filter((h): h is string => h !== undefined));
    });
    if (groups.length < 2) {
      c.fail(pEntry.value, join(path, "partition"), "a partition needs at least two groups of hosts, such as [[node1], [node2, node3]]");
      return undefined;
    }
    const text = groups.map((g) => `[${g.join(",")}]`).join(" | ");
    return { fault: { kind: "partition", groups, ...(forMs !== undefined ? { forMs } : {}) }, text: `fault partition ${text}${forSuffix}` };
  }

  const linkText = scalar("link") ?? "";
  const m = /^\s*([\w.-]+?)\s*(->|-)\s*([\w.-]+)\s*$/.exec(linkText);
  if (!m) {
    c.fail(block.get("link")!.value, join(path, "link"), `${JSON.stringify(linkText)} is not a link: write HOST-HOST (both ways) or HOST->HOST (one way)`);
    return undefined;
  }
  const a = m[1]!;
  const b = m[3]!;
  for (const h of [a, b]) {
    const parsed = total === undefined ? undefined : parseHost(h, total);
    if (parsed && "error" in parsed) {
      c.fail(block.get("link")!.value, join(path, "link"), parsed.error);
      return undefined;
    }
  }
  const effect: LinkEffect = {};
  const words: string[] = [];
  for (const key of EFFECT_KEYS) {
    const text = scalar(key);
    if (!block.has(key)) continue;
    const at = join(path, key);
    const fail = (what: string) => {
      c.fail(block.get(key)!.value, at, `${JSON.stringify(text ?? "")} is not ${what}`);
      return undefined;
    };
    if (text === undefined) return fail(key === "down" ? "true" : "a value");
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
  let flap: Flap | undefined;
  const flapEntry = block.get("flap");
  if (flapEntry) {
    const fpath = join(path, "flap");
    const fields = c.fields(flapEntry.value, fpath, { keys: FLAP_KEYS, what: `a mapping "{ down: DURATION, up: DURATION }"` });
    if (fields === undefined) return undefined;
    const ms: Record<string, number> = {};
    for (const key of FLAP_KEYS) {
      const e = fields.get(key);
      if (!e) {
        c.fail(flapEntry.value, fpath, `a flapping link needs "down" and "up": how long it stays down, then up, each time round`);
        return undefined;
      }
      const v = duration(e.value, join(fpath, key));
      if (v === undefined) return undefined;
      if (v === 0) {
        c.fail(e.value, join(fpath, key), `a flap's "${key}" must be longer than 0`);
        return undefined;
      }
      ms[key] = v;
    }
    if (effect.lossPct === 100 && block.has("down")) {
      c.fail(flapEntry.key, fpath, `a link that is "down" for good cannot flap`);
      return undefined;
    }
    flap = { downMs: ms["down"]!, upMs: ms["up"]! };
    words.push(`flap down ${scalarText(c, fields.get("down")!.value)} up ${scalarText(c, fields.get("up")!.value)}`);
  }
  if (words.length === 0) {
    c.fail(value, path, `a link fault needs an effect: delay, jitter, loss, gemodel, duplicate, corrupt, reorder, rate, down or flap`);
    return undefined;
  }
  const bothWays = m[2] === "-";
  return {
    fault: { kind: "link", from: a, to: b, bothWays, effect, ...(flap ? { flap } : {}), ...(forMs !== undefined ? { forMs } : {}) },
    text: `fault link ${a}${m[2]}${b} ${words.join(" ")}${forSuffix}`,
  };
}

/**
 * Reads a fault written as a command line, the words after `kemu fault`:
 * the same words its event line shows (`node2 crash`, `node1 stop flanneld`,
 * `link node1->node2 loss 10% for 30s`, `link node1-node2 flap down 2s up 3s`,
 * `partition [node1] [node2,node3]`). Returns the fault, or the messages
 * `readFault` gives for the same mapping, each prefixed with its key.
 */
export function parseFaultCommand(args: readonly string[], hosts: FaultHosts): ReadFault | { readonly errors: readonly string[] } {
  const words = args.join(" ").split(/\s+/).filter((w) => w !== "");
  if (words.length === 0) return { errors: [`a fault needs exactly one of "node", "link" or "partition"`] };
  const fields: Record<string, unknown> = {};
  let i = 1;
  const head = words[0]!;
  if (head === "link") {
    fields["link"] = words[1] ?? "";
    i = 2;
  } else if (head === "partition") {
    const groupWords: string[] = [];
    while (i < words.length && !FAULT_KEYS.includes(words[i]!)) groupWords.push(words[i++]!);
    const text = groupWords.join(" ");
    const groups = [...text.matchAll(/\[([^\]]*)\]/g)].map((g) => g[1]!.split(/[\s,]+/).filter((h) => h !== ""));
    fields["partition"] = groups.length > 0 || text === "" ? groups : text;
  } else {
    fields["node"] = head;
  }
  while (i < words.length) {
    const key = words[i++]!;
    const next = words[i];
    if (key === "flap") {
      const flap: Record<string, string> = {};
      while (words[i] !== undefined && FLAP_KEYS.includes(words[i]!) && !(words[i]! in flap) && words[i + 1] !== undefined) {
        flap[words[i]!] = words[i + 1]!;
        i += 2;
      }
      fields[key] = flap;
    } else if (FLAG_KEYS.includes(key) && next !== "true" && next !== "false") {
      fields[key] = true;
    } else if (next === undefined || (FAULT_KEYS.includes(next) && !FAULT_KEYS.includes(key))) {
      fields[key] = null;
    } else {
      fields[key] = next;
      i++;
    }
  }
  const lines = new LineCounter();
  const doc = parseDocument(stringify(fields, { defaultStringType: "QUOTE_DOUBLE" }), { lineCounter: lines });
  const c = new Checker("", doc, lines);
  const read = readFault(c, (doc.contents as Value | undefined) ?? null, "", hosts);
  if (read && c.errors.length === 0) return read;
  return { errors: c.errors.sort((a, b) => a.offset - b.offset).map((e) => (e.path === "" ? e.message : `${e.path}: ${e.message}`)) };
}

/** The line a fault writes to the event log: its emulated time (s, as the kernel's log shows it) and its command line. */
export function eventLine(atMs: number, text: string): string {
  return `[${(atMs / 1000).toFixed(6)}] ${text}\n`;
}

/**
 * Makes `fault` happen on `driver` now. Resolves with what it prints: its
 * event-log line on stdout, or (exit 1) why the cluster could not do it.
 */
export async function applyFault(driver: ClusterDriver, read: ReadFault): Promise<ExecResult> {
  const f = read.fault;
  const unable = (what: string): never => {
    throw new Error(`this cluster cannot ${what}`);
  };
  switch (f.kind) {
    case "crash":
      await (driver.crash ?? unable("inject faults")).call(driver, f.node);
      break;
    case "agent":
      await (driver.agent ?? unable("stop agents")).call(driver, f.node, f.agent, f.action);
      break;
    case "restart":
      await (driver.restart ?? unable("restart hosts")).call(driver, f.node);
      break;
    case "join":
      await (driver.join ?? unable("let nodes join")).call(driver, f.node);
      break;
    case "conntrack":
    case "mtu": {
      const command = f.kind === "conntrack" ? "conntrack -F" : `ip link set dev ${f.dev} mtu ${f.mtu}`;
      const r = await driver.exec({ kind: "host", host: f.node }, command);
      if (r.exit !== 0) return { exit: r.exit, stdout: "", stderr: r.stderr };
      break;
    }
    case "link": {
      const shape = driver.shape ?? unable("inject faults");
      const options = { ...(f.forMs !== undefined ? { forMs: f.forMs } : {}), ...(f.flap ? { flap: f.flap } : {}) };
      await shape.call(driver, [f.from], [f.to], f.effect, options);
      if (f.bothWays) await shape.call(driver, [f.to], [f.from], f.effect, options);
      break;
    }
    case "partition": {
      const shape = driver.shape ?? unable("inject faults");
      for (const [i, group] of f.groups.entries()) {
        const others = f.groups.filter((_, j) => j !== i).flat();
        await shape.call(driver, group, others, { lossPct: 100 }, f.forMs !== undefined ? { forMs: f.forMs } : {});
      }
      break;
    }
  }
  const at = driver.clockMs?.();
  return { exit: 0, stdout: at === undefined ? "" : eventLine(at, read.text), stderr: "" };
}

/** The usage of the `kemu` command inside `kemu up`'s shells. */
export const HOST_KEMU_HELP = `Usage: kemu fault FAULT

Breaks something in the running cluster now, as a scenario's fault: step
does, in the same words as its event line:

  kemu fault node2 crash                      a power cut
  kemu fault node2 restart                    boot it again
  kemu fault node4 join                       boot a spare node (kemu up --spare N)
  kemu fault node1 stop flanneld              stop (or start) kubelet, kube-proxy, flanneld
  kemu fault node1 conntrack flush            empty the node's conntrack table
  kemu fault node2 dev eth0 mtu 1400          change an interface's MTU
  kemu fault link node1-node2 loss 10% for 30s
  kemu fault link 'node1->node3' delay 100ms    one way (quoted: > redirects)
  kemu fault link node1-node2 flap down 2s up 3s for 30s
  kemu fault partition [node1] [node2,node3] for 30s

Link effects: delay, jitter, loss, gemodel, duplicate, corrupt, reorder,
rate, limit, down, flap. Each fault prints its event-log line.
`;

/**
 * Runs the `kemu` command a host's shell sent (`kemu fault …`) against
 * `driver`: what it prints and its exit status (2 for a refused fault, as
 * `kemu run` refuses an invalid scenario; nothing is then done).
 */
export async function runHostKemuCommand(driver: ClusterDriver, args: readonly string[], hosts: FaultHosts): Promise<ExecResult> {
  const [command, ...rest] = args;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    return { exit: command === undefined ? 2 : 0, stdout: command === undefined ? "" : HOST_KEMU_HELP, stderr: command === undefined ? HOST_KEMU_HELP : "" };
  }
  if (command !== "fault") return { exit: 2, stdout: "", stderr: `kemu: unknown command "${command}" (use kemu fault …)\n` };
  if (rest.length === 1 && (rest[0] === "--help" || rest[0] === "-h")) return { exit: 0, stdout: HOST_KEMU_HELP, stderr: "" };
  const parsed = parseFaultCommand(rest, hosts);
  if ("errors" in parsed) return { exit: 2, stdout: "", stderr: parsed.errors.map((e) => `kemu fault: ${e}\n`).join("") };
  try {
    return await applyFault(driver, parsed);
  } catch (err) {
    return { exit: 1, stdout: "", stderr: `kemu fault: ${(err instanceof Error ? err.message : String(err)).replace(/^kemu: /, "")}\n` };
  }
}
