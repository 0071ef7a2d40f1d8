/**
 * Waiting commands: `kubectl wait --for=condition=Ready|delete|jsonpath=…`
 * with kubectl's timeout semantics and messages, and
 * `kubectl rollout status|restart`.
 */
import type { Deployment, KubeObject, ResourceInfo } from "@kemu/api";
import { type Env, getObject, isNotFound, kindPrefix, listObjects, namespaceFor, notFoundFor, waitForChange } from "./_env.ts";
import { parseGoDuration, timestampAt } from "./age.ts";
import { CmdError, aggregate } from "./errors.ts";
import { resolveArgs } from "./get.ts";
import { JsonPath, printValue } from "./jsonpath.ts";
import { readManifests } from "./manifest.ts";

const WEEK = 168 * 3_600_000;

/** A condition `wait` checks: true when met. */
type Check = (o: KubeObject) => boolean;

function conditionFor(spec: string): { check: Check; forDelete: boolean } {
  if (spec.toLowerCase() === "delete") return { check: () => false, forDelete: true };
  if (spec.startsWith("condition=")) {
    let name = spec.slice("condition=".length);
    let value = "true";
    const eq = name.indexOf("=");
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const check: Check = (o) => {
      const conditions = ((o.status as { conditions?: unknown[] } | undefined)?.conditions ?? []) as Array<Record<string, unknown>>;
      for (const c of conditions) {
        if (typeof c["type"] !== "string" || c["type"].toLowerCase() !== name.toLowerCase()) continue;
        if (typeof c["status"] !== "string") continue;
        const generation = o.metadata.generation;
        if (generation !== undefined) {
          const observed = (c["observedGeneration"] ?? (o.status as { observedGeneration?: number } | undefined)?.observedGeneration) as number | undefined;
          if (observed !== undefined && observed < generation) return false;
        }
        return c["status"].toLowerCase() === value.toLowerCase();
      }
      return false;
    };
    return { check, forDelete: false };
  }
  if (spec.startsWith("jsonpath=")) {
    const input = spec.slice("jsonpath=".length);
    const m = /^(\{.*\})(?:=(.*))?$/s.exec(input) ?? /^('?\{.*\}'?)(?:=(.*))?$/s.exec(input);
    if (!m) {
      throw new CmdError("jsonpath wait format must be --for=jsonpath='{.status.readyReplicas}'=3 or --for=jsonpath='{.status.readyReplicas}'");
    }
    const path = new JsonPath(m[1]!.replace(/^'|'$/g, ""));
    const want = m[2];
    const check: Check = (o) => {
      const results = path.findResults(o)[0] ?? [];
      if (results.length === 0) return false;
      if (want === undefined) return true;
      return results.length === 1 && printValue(results[0]) === want;
    };
    return { check, forDelete: false };
  }
  throw new CmdError(`unrecognized condition: "${spec}"`);
}

/** Runs `kubectl wait`. */
export async function runWait(env: Env): Promise<void> {
  const f = env.flags;
  const { check, forDelete } = conditionFor(f.string("for"));
  const timeoutFlag = f.string("timeout", "30s");
  let timeout = parseGoDuration(timeoutFlag.replace(/^-/, ""));
  if (timeout === undefined) throw new CmdError(`invalid argument "${timeoutFlag}" for "--timeout" flag: time: invalid duration "${timeoutFlag}"`);
  if (timeoutFlag.startsWith("-")) timeout = WEEK;
  const deadline = env.now() + timeout;
  const selector = f.string("selector");
  const targets: Array<{ r: ResourceInfo; ns: string; name: string }> = [];
  const errors: Error[] = [];
  if (f.array("filename").length > 0) {
    const read = await readManifests(env.ctx, f.array("filename"));
    errors.push(...read.errors);
    for (const m of read.objects) targets.push({ r: m.resource, ns: m.resource.namespaced ? m.object.metadata.namespace || env.namespace : "", name: m.object.metadata.name ?? "" });
  } else {
    if (f.args.length === 0) {
      throw new CmdError(
        "You must provide one or more resources by argument or filename.\nExample resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n   '<resource> <name>'\n   '<resource>'",
      );
    }
    for (const req of resolveArgs(f.args)) {
      const ns = namespaceFor(env, req.resource, f.bool("all-namespaces"));
      if (req.name !== undefined) targets.push({ r: req.resource, ns, name: req.name });
      else {
        for (const o of await listObjects(env, req.resource, ns, { labelSelector: selector || undefined, fieldSelector: f.string("field-selector") || undefined })) {
          targets.push({ r: req.resource, ns: o.metadata.namespace ?? "", name: o.metadata.name ?? "" });
        }
      }
    }
  }
  if (errors.length > 0) throw aggregate(errors)!;
  if (targets.length === 0) {
    if (forDelete) return;
    throw new CmdError("no matching resources found");
  }
  for (const t of targets) {
    const met = forDelete ? await waitDeleted(env, t, deadline, timeout) : await waitCondition(env, t, check, deadline, timeout);
    if (!met) throw new CmdError(`timed out waiting for the condition on ${t.r.plural}/${t.name}`);
    env.out(`${kindPrefix(t.r)}/${t.name} condition met\n`);
  }
}

async function waitCondition(env: Env, t: { r: ResourceInfo; ns: string; name: string }, check: Check, deadline: number, timeout: number): Promise<boolean> {
  for (;;) {
    let o: KubeObject;
    try {
      o = await getObject(env, t.r, t.ns, t.name);
    } catch (err) {
      if (isNotFound(err)) throw notFoundFor(t.r, t.name);
      throw err;
    }
    if (check(o)) return true;
    if (timeout === 0) throw new CmdError(`condition not met for ${t.r.plural}/${t.name}`);
    const left = deadline - env.now();
    if (left <= 0) return false;
    if (!(await waitForChange(env, t.r, t.ns, t.name, Math.min(left, 1000), o.metadata.resourceVersion))) return false;
  }
}

async function waitDeleted(env: Env, t: { r: ResourceInfo; ns: string; name: string }, deadline: number, timeout: number): Promise<boolean> {
  for (;;) {
    let o: KubeObject;
    try {
      o = await getObject(env, t.r, t.ns, t.name);
    } catch (err) {
      if (isNotFound(err)) return true;
      throw err;
    }
    if (timeout === 0) throw new CmdError(`condition not met for ${t.r.plural}/${t.name}`);
    const left = deadline - env.now();
    if (left <= 0) return false;
    if (!(await waitForChange(env, t.r, t.ns, t.name, Math.min(left, 1000), o.metadata.resourceVersion))) return false;
  }
}

/** The rollout status line of a deployment and whether it is done (DeploymentStatusViewer). */
export function deploymentStatus(d: Deployment): { text: string; done: boolean } {
  const name = d.metadata.name ?? "";
  const st = d.status ?? {};
  const generation = d.metadata.generation ?? 0;
  if (generation <= (st.observedGeneration ?? 0)) {
    const progressing = (st.conditions ?? []).find((c) => c.type === "Progressing");
    if (progressing?.reason === "ProgressDeadlineExceeded") throw new CmdError(`deployment "${name}" exceeded its progress deadline`);
    const replicas = d.spec?.replicas;
    const updated = st.updatedReplicas ?? 0;
    if (replicas !== undefined && updated < replicas) {
      return { text: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${replicas} new replicas have been updated...\n`, done: false };
    }
    if ((st.replicas ?? 0) > updated) {
      return { text: `Waiting for deployment "${name}" rollout to finish: ${(st.replicas ?? 0) - updated} old replicas are pending termination...\n`, done: false };
    }
    if ((st.availableReplicas ?? 0) < updated) {
      return { text: `Waiting for deployment "${name}" rollout to finish: ${st.availableReplicas ?? 0} of ${updated} updated replicas are available...\n`, done: false };
    }
    return { text: `deployment "${name}" successfully rolled out\n`, done: true };
  }
  return { text: "Waiting for deployment spec update to be observed...\n", done: false };
}

/** Runs `kubectl rollout SUBCOMMAND`. */
export async function runRollout(env: Env): Promise<void> {
  const [sub, ...rest] = env.flags.args;
  if (sub === "status") return rolloutStatus(env, rest);
  if (sub === "restart") return rolloutRestart(env, rest);
  if (sub === undefined) throw new CmdError("kemu: rollout needs a subcommand: status or restart");
  throw new CmdError(`kemu: "kubectl rollout ${sub}" is not supported; kemu has rollout status and rollout restart`);
}

async function rolloutTargets(env: Env, args: string[]): Promise<Array<{ r: ResourceInfo; o: KubeObject }>> {
  if (args.length === 0 && env.flags.array("filename").length === 0) {
    throw new CmdError(
      "required resource not specified\nSee 'kubectl rollout status -h' for help and examples",
    );
  }
  const out: Array<{ r: ResourceInfo; o: KubeObject }> = [];
  const errors: Error[] = [];
  for (const req of resolveArgs(args)) {
    const ns = namespaceFor(env, req.resource);
    try {
      if (req.name !== undefined) out.push({ r: req.resource, o: await getObject(env, req.resource, ns, req.name) });
      else for (const o of await listObjects(env, req.resource, ns, { labelSelector: env.flags.string("selector") || undefined })) out.push({ r: req.resource, o });
    } catch (err) {
      errors.push(err as Error);
    }
  }
  const e = aggregate(errors);
  if (e) throw e;
  return out;
}

async function rolloutStatus(env: Env, args: string[]): Promise<void> {
  const targets = await rolloutTargets(env, args);
  if (targets.length === 0) {
    env.err(`No resources found in ${env.namespace} namespace.\n`);
    return;
  }
  const timeoutFlag = env.flags.string("timeout", "0s");
  const timeout = parseGoDuration(timeoutFlag) ?? 0;
  const watch = env.flags.bool("watch", true);
  for (const { r, o: first } of targets) {
    if (r.kind !== "Deployment") throw new CmdError(`no status viewer has been implemented for ${r.kind}${r.group ? `.${r.group}` : ""}`);
    const deadline = timeout > 0 ? env.now() + timeout : Number.POSITIVE_INFINITY;
    let o = first;
    for (;;) {
      const s = deploymentStatus(o as Deployment);
      env.out(s.text);
      if (s.done || !watch) break;
      let changed = false;
      while (!changed) {
        const left = deadline - env.now();
        if (left <= 0) throw new CmdError("timed out waiting for the condition");
        const rv = o.metadata.resourceVersion;
        if (!(await waitForChange(env, r, o.metadata.namespace ?? "", o.metadata.name ?? "", Math.min(left, 1000), rv))) {
          if (env.ctx.signal.aborted) return;
        }
        try {
          const next = await getObject(env, r, o.metadata.namespace ?? "", o.metadata.name ?? "");
          changed = next.metadata.resourceVersion !== rv;
          o = next;
        } catch (err) {
          if (isNotFound(err)) throw new CmdError("object has been deleted");
          throw err;
        }
      }
    }
  }
}

async function rolloutRestart(env: Env, args: string[]): Promise<void> {
  for (const { r, o } of await rolloutTargets(env, args)) {
    if (r.kind !== "Deployment") throw new CmdError(`${kindPrefix(r)}/${o.metadata.name ?? ""} restarting is not supported`);
    const d = structuredClone(o) as Deployment;
    d.spec.template.metadata ??= {};
    d.spec.template.metadata.annotations = { ...(d.spec.template.metadata.annotations ?? {}), "kubectl.kubernetes.io/restartedAt": timestampAt(env.now()) };
    await env.api.update(r.plural, d.metadata.namespace ?? "", d);
    env.out(`${kindPrefix(r)}/${o.metadata.name ?? ""} restarted\n`);
  }
}
