/**
 * What every kubectl subcommand works with: the process, the API, the
 * namespace in effect, the parsed flags and the runtime hooks for exec/logs.
 */
import { ApiError, type ApiClient, type KubeObject, type ListOptions, type ObjectList, type Pod, type ResourceInfo, resourceForName } from "@kemu/api";
import { type Input, type Output, type ProcessContext, sleep } from "@kemu/node";
import { NoResourceMatchError, notFound } from "./errors.ts";
import type { Flags } from "./flags.ts";
import { matches, parseSelector } from "./selector.ts";

/** Runs a command in one of a pod's containers (wired by the runtime to the node that runs the pod); resolves with its exit status. */
export type PodExec = (
  pod: Pod,
  container: string,
  argv: string[],
  io: { stdin: Input; stdout: Output; stderr: Output; tty: boolean },
) => Promise<number>;

/** A container's log text (wired by the runtime to the node that runs the pod). */
export type PodLogs = (pod: Pod, container: string, options: { follow: boolean; tail?: number }) => Promise<string>;

/** The world of one kubectl invocation. */
export interface Env {
  readonly ctx: ProcessContext;
  readonly api: ApiClient;
  /** `-n`, or `default`. */
  readonly namespace: string;
  /** Whether `-n` was given (kubectl then refuses manifests naming another namespace). */
  readonly explicitNamespace: boolean;
  readonly flags: Flags;
  readonly exec: PodExec | undefined;
  readonly logs: PodLogs | undefined;
  /** The API server URL (cluster-info). */
  readonly server: string;
  /** Emulated milliseconds now. */
  now(): number;
  out(text: string): void;
  err(text: string): void;
}

/** The served resource kubectl means by `name`, or NoResourceMatchError. */
export function mustResource(name: string): ResourceInfo {
  const r = resourceForName(name);
  if (r === undefined) throw new NoResourceMatchError(name.toLowerCase());
  return r;
}

/** `pod`, `deployment.apps`: the kind as kubectl prefixes names with it. */
export function kindPrefix(r: ResourceInfo): string {
  return r.group === "" ? r.kind.toLowerCase() : `${r.kind.toLowerCase()}.${r.group}`;
}

/** `pods`, `deployments.apps`: the qualified resource as error messages name it. */
export function qualifiedResource(r: ResourceInfo): string {
  return r.group === "" ? r.plural : `${r.plural}.${r.group}`;
}

/** The namespace to use for `r`: "" for cluster-scoped resources. */
export function namespaceFor(env: Env, r: ResourceInfo, allNamespaces = false): string {
  if (!r.namespaced || allNamespaces) return "";
  return env.namespace;
}

/** Lists `r`, filtered by the selectors client-side as well, in etcd's key order (namespace, then name). */
export async function listObjects(
  env: Env,
  r: ResourceInfo,
  namespace: string,
  options: { labelSelector?: string | undefined; fieldSelector?: string | undefined } = {},
): Promise<KubeObject[]> {
  const lo: ListOptions = {};
  if (options.labelSelector) lo.labelSelector = options.labelSelector;
  if (options.fieldSelector) lo.fieldSelector = options.fieldSelector;
  const list: ObjectList = await env.api.list(r.plural, namespace, lo);
  let items = list.items.map((o) => withTypeMeta(o, r));
  if (options.labelSelector) {
    const reqs = parseSelector(options.labelSelector);
    items = items.filter((o) => matches(reqs, o.metadata.labels));
  }
  if (options.fieldSelector) items = items.filter((o) => matchesFields(options.fieldSelector!, o));
  return items.sort((a, b) => byteCompare(keyOf(a), keyOf(b)));
}

function keyOf(o: KubeObject): string {
  return `${o.metadata.namespace ?? ""}/${o.metadata.name ?? ""}`;
}

function byteCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Gets one object with its apiVersion and kind filled in. */
export async function getObject(env: Env, r: ResourceInfo, namespace: string, name: string): Promise<KubeObject> {
  const o = await env.api.get({ resource: r.plural, namespace, name });
  return withTypeMeta(o, r);
}

/** An object with apiVersion/kind set (lists may leave them out of their items). */
export function withTypeMeta<T extends KubeObject>(o: T, r: ResourceInfo): T {
  if (o.apiVersion && o.kind) return o;
  return { ...o, apiVersion: r.group === "" ? r.version : `${r.group}/${r.version}`, kind: r.kind };
}

/** Whether `o` passes a field selector (`metadata.name=x,status.phase!=Running`). */
export function matchesFields(selector: string, o: KubeObject): boolean {
  for (const term of selector.split(",")) {
    const t = term.trim();
    if (t === "") continue;
    const m = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/.exec(t);
    if (!m) continue;
    const path = m[1]!.split(".");
    let v: unknown = o;
    for (const p of path) v = typeof v === "object" && v !== null ? (v as Record<string, unknown>)[p] : undefined;
    const value = v === undefined || v === null ? "" : String(v);
    if (m[2] === "!=" ? value === m[3] : value !== m[3]) return false;
  }
  return true;
}

/** Whether an error is the API's NotFound. */
export function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.status.reason === "NotFound";
}

/**
 * Sleeps until the named object changes (a watch event after
 * `resourceVersion`) or `ms` of emulated time pass; false when the process
 * is killed.
 */
export function waitForChange(env: Env, r: ResourceInfo, namespace: string, name: string, ms: number, resourceVersion?: string): Promise<boolean> {
  return new Promise((resolve) => {
    let done = false;
    let stop: (() => void) | undefined;
    const timer = new AbortController();
    const onKill = () => timer.abort();
    env.ctx.signal.addEventListener("abort", onKill, { once: true });
    const finish = (v: boolean) => {
      if (done) return;
      done = true;
      stop?.();
      timer.abort();
      env.ctx.signal.removeEventListener("abort", onKill);
      resolve(v);
    };
    const options: ListOptions = { fieldSelector: `metadata.name=${name}`, ...(resourceVersion ? { resourceVersion } : {}) };
    stop = env.api.watch(r.plural, namespace, options, (ev) => {
      if (ev.type === "BOOKMARK" || ev.object?.metadata?.name !== name) return;
      // without a version the watch first replays the current state: that is no change
      if (resourceVersion === undefined && ev.type === "ADDED") return;
      finish(true);
    });
    if (done) stop();
    void sleep({ clock: env.ctx.clock, signal: timer.signal }, Math.max(0, ms)).then(() => finish(!env.ctx.signal.aborted));
  });
}

/** The NotFound error the API gives for `name` of `r`. */
export function notFoundFor(r: ResourceInfo, name: string): ApiError {
  return notFound(r.plural, name, r.group);
}

/** Waits `ms` of emulated time (the house sleep); resolves false early when the process is killed. */
export { sleep };
