import { mergePatch } from "../patch.ts";
/**
 * Writes: `kubectl apply` (client-side apply: create with the
 * last-applied-configuration annotation, or a three-way strategic merge
 * against it), `create -f`, `delete` (by file, name, selector or --all,
 * waiting until the objects are gone) and `scale`.
 */
import { ApiError, type KubeObject, type ResourceInfo } from "@kemu/api";
import { type Env, getObject, isNotFound, kindPrefix, listObjects, mustResource, namespaceFor, qualifiedResource, waitForChange } from "./_env.ts";
import { parseGoDuration } from "./age.ts";
import { AggregateError, CmdError, addSourceToErr, aggregate } from "./errors.ts";
import { type Request, resolveArgs } from "./get.ts";
import { type ManifestObject, readManifests } from "./manifest.ts";
import { toCompactJson } from "./yaml_out.ts";

/** The annotation kubectl apply keeps the applied configuration in. */
export const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

/** Reads `-f` manifests, placing namespaced objects in the namespace in effect (kubectl's SetNamespace visitor). */
async function objectsFromFiles(env: Env, verb: string): Promise<{ objects: ManifestObject[]; errors: Error[] }> {
  const filenames = env.flags.array("filename");
  if (filenames.length === 0) throw new CmdError("must specify one of -f and -k");
  const read = await readManifests(env.ctx, filenames, { recursive: env.flags.bool("recursive") });
  const objects: ManifestObject[] = [];
  const errors = [...read.errors];
  for (const m of read.objects) {
    const obj = structuredClone(m.object);
    obj.metadata ??= {};
    if (m.resource.namespaced) {
      const ns = obj.metadata.namespace ?? "";
      if (ns === "") obj.metadata.namespace = env.namespace;
      else if (env.explicitNamespace && ns !== env.namespace) {
        errors.push(
          new CmdError(
            `the namespace from the provided object "${ns}" does not match the namespace "${env.namespace}". You must pass '--namespace=${ns}' to perform this operation.`,
          ),
        );
        continue;
      }
    }
    objects.push({ ...m, object: obj });
  }
  if (objects.length === 0 && errors.length === 0) throw new CmdError(`no objects passed to ${verb}`);
  return { objects, errors };
}

function nsOf(m: ManifestObject): string {
  return m.resource.namespaced ? (m.object.metadata.namespace ?? "") : "";
}

/** `pods/nginx`: info.ObjectName(), as warnings name objects. */
function objectName(r: ResourceInfo, name: string): string {
  return `${qualifiedResource(r)}/${name}`;
}

/** Runs `kubectl apply -f …`. */
export async function runApply(env: Env): Promise<void> {
  if (env.flags.args.length > 0) throw new CmdError(`Unexpected args: [${env.flags.args.join(" ")}]\nSee 'kubectl apply -h' for help and examples`);
  const { objects, errors } = await objectsFromFiles(env, "apply");
  for (const m of objects) {
    try {
      await applyOne(env, m);
    } catch (err) {
      errors.push(err as Error);
    }
  }
  const e = errors.length === 1 ? errors[0] : aggregate(errors);
  if (e) throw e;
}

async function applyOne(env: Env, m: ManifestObject): Promise<void> {
  const name = m.object.metadata.name ?? "";
  if (name === "" && m.object.metadata.generateName) throw new CmdError(`from ${m.object.metadata.generateName}: cannot use generate name with apply`);
  const ns = nsOf(m);
  const { modified } = modifiedConfiguration(m.object);
  const out = (op: string) => (env.flags.string("output") === "name" ? `${kindPrefix(m.resource)}/${name}\n` : `${kindPrefix(m.resource)}/${name} ${op}\n`);
  let current: KubeObject;
  try {
    current = await env.api.get({ resource: m.resource.plural, namespace: ns, name });
  } catch (err) {
    if (!isNotFound(err)) {
      throw addSourceToErr(`retrieving current configuration of:\n${infoString(m.resource, name, ns)}\nfrom server for:`, m.source, err as Error);
    }
    try {
      await env.api.create(m.resource.plural, ns, modified, { fieldValidation: "Strict", fieldManager: "kubectl-client-side-apply" });
    } catch (e) {
      throw addSourceToErr("creating", m.source, e as Error);
    }
    env.out(out("created"));
    return;
  }
  if (current.metadata.annotations?.[LAST_APPLIED] === undefined) {
    env.err(
      `Warning: resource ${objectName(m.resource, name)} is missing the ${LAST_APPLIED} annotation which is required by kubectl apply. kubectl apply should only be used on resources created declaratively by either kubectl create --save-config or kubectl apply. The missing annotation will be patched automatically.\n`,
    );
  }
  for (let attempt = 0; ; attempt++) {
    const original = parseLastApplied(current.metadata.annotations?.[LAST_APPLIED]);
    const merged = merge3(original, modified, current, []);
    if (!merged.changed) {
      env.out(out("unchanged"));
      return;
    }
    try {
      await env.api.update(m.resource.plural, ns, merged.value as KubeObject, { fieldValidation: "Strict", fieldManager: "kubectl-client-side-apply" });
      break;
    } catch (err) {
      if (err instanceof ApiError && err.status.reason === "Conflict" && attempt < 5) {
        current = await env.api.get({ resource: m.resource.plural, namespace: ns, name });
        continue;
      }
      const patched = addSourceToErr("patching", m.source, err as Error);
      throw addSourceToErr(`applying patch:\n${toCompactJson(merged.patch)}\nto:\n${infoString(m.resource, name, ns)}\nfor:`, m.source, patched);
    }
  }
  env.out(out("configured"));
}

/** resource.Info's String(): the mapping, then name and namespace. */
function infoString(r: ResourceInfo, name: string, ns: string): string {
  const gv = r.group === "" ? `/${r.version}` : `${r.group}/${r.version}`;
  return `Resource: "${gv}, Resource=${r.plural}", GroupVersionKind: "${gv}, Kind=${r.kind}"\nName: "${name}", Namespace: "${ns}"`;
}

/**
 * util.GetModifiedConfiguration with annotate: the object as applied
 * (without its old last-applied annotation) serialized into the annotation,
 * and the object carrying it.
 */
export function modifiedConfiguration(obj: KubeObject): { modified: KubeObject; annotation: string } {
  const copy = structuredClone(obj);
  const annotations = { ...(copy.metadata.annotations ?? {}) };
  delete annotations[LAST_APPLIED];
  copy.metadata.annotations = annotations;
  const annotation = `${toCompactJson(copy)}\n`;
  const modified = structuredClone(copy);
  modified.metadata.annotations = { ...annotations, [LAST_APPLIED]: annotation };
  return { modified, annotation };
}

function parseLastApplied(text: string | undefined): unknown {
  if (text === undefined || text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function deepEqual(a: unknown, b: unknown): boolean {
  return toCompactJson(a) === toCompactJson(b);
}

/** The strategic-merge key of a list at `path` (containers by name, container ports by containerPort…), if it has one. */
function mergeKey(path: readonly string[], items: readonly unknown[]): string | undefined {
  const field = path.at(-1) ?? "";
  const keyed: Record<string, string> = {
    containers: "name",
    initContainers: "name",
    ephemeralContainers: "name",
    env: "name",
    volumes: "name",
    volumeMounts: "mountPath",
    imagePullSecrets: "name",
    tolerations: "key",
    hostAliases: "ip",
    ownerReferences: "uid",
    conditions: "type",
    topologySpreadConstraints: "topologyKey",
  };
  let key = keyed[field];
  if (field === "ports") key = items.some((i) => isMap(i) && "containerPort" in i) ? "containerPort" : "port";
  if (key === undefined) return undefined;
  if (!items.every((i) => isMap(i) && key in i)) return undefined;
  return key;
}

/** What merge3 found: the object to write, whether kubectl's patch is not `{}`, and that patch. */
export interface Merge {
  value: unknown;
  changed: boolean;
  patch: unknown;
}

/**
 * A three-way strategic merge of what was applied before (`original`),
 * what is applied now (`modified`) and what the server has (`current`):
 * the object to write, whether the patch kubectl would send is not `{}`,
 * and that patch (keyed lists with their `$setElementOrder` directive).
 */
export function merge3(original: unknown, modified: unknown, current: unknown, path: readonly string[]): Merge {
  if (isMap(modified)) {
    const result: Record<string, unknown> = isMap(current) ? { ...current } : {};
    const patch: Record<string, unknown> = {};
    let changed = !isMap(current);
    for (const [k, v] of Object.entries(modified)) {
      const r = merge3(isMap(original) ? original[k] : undefined, v, isMap(current) ? current[k] : undefined, [...path, k]);
      if (r.changed) {
        if (r.value === null) delete result[k];
        else result[k] = r.value;
        patch[k] = r.patch;
        const order = (r as { order?: unknown }).order;
        if (order !== undefined) patch[`$setElementOrder/${k}`] = order;
        changed = true;
      }
    }
    if (isMap(original)) {
      for (const k of Object.keys(original)) {
        if (!(k in modified)) {
          delete result[k];
          patch[k] = null;
          changed = true;
        }
      }
    }
    return { value: result, changed, patch: isMap(current) ? patch : modified };
  }
  if (Array.isArray(modified) && Array.isArray(current)) {
    const key = mergeKey(path, [...modified, ...current]);
    if (key !== undefined) {
      const orig = Array.isArray(original) ? original : [];
      const find = (list: readonly unknown[], v: unknown) => list.find((x) => isMap(x) && deepEqual(x[key], v));
      let changed = false;
      const out: unknown[] = [];
      const patch: unknown[] = [];
      for (const m of modified as Array<Record<string, unknown>>) {
        const c = find(current, m[key]);
        if (c === undefined) {
          out.push(m);
          patch.push(m);
          changed = true;
          continue;
        }
        const r = merge3(find(orig, m[key]), m, c, path);
        out.push(r.value);
        if (r.changed) {
          patch.push({ [key]: m[key], ...(r.patch as Record<string, unknown>) });
          changed = true;
        }
      }
      for (const c of current as Array<Record<string, unknown>>) {
        if (find(modified, c[key]) !== undefined) continue;
        if (find(orig, c[key]) !== undefined) {
          patch.push({ $patch: "delete", [key]: c[key] });
          changed = true;
        } else out.push(c);
      }
      for (const o of orig as Array<Record<string, unknown>>) {
        if (isMap(o) && find(modified, o[key]) === undefined && find(current, o[key]) === undefined) changed = true;
      }
      const order = (modified as Array<Record<string, unknown>>).map((m) => ({ [key]: m[key] }));
      return Object.assign({ value: out, changed, patch }, changed ? { order } : {});
    }
  }
  if (deepEqual(modified, current)) return { value: current, changed: false, patch: undefined };
  return { value: modified, changed: true, patch: modified };
}

/** Runs `kubectl create -f …`. */
export async function runCreate(env: Env): Promise<void> {
  const { objects, errors } = await objectsFromFiles(env, "create");
  for (const m of objects) {
    const name = m.object.metadata.name ?? "";
    let obj = m.object;
    if (env.flags.bool("save-config")) obj = modifiedConfiguration(obj).modified;
    try {
      const created = await env.api.create(m.resource.plural, nsOf(m), obj, { fieldValidation: "Strict" });
      const shown = created.metadata?.name ?? name;
      env.out(env.flags.string("output") === "name" ? `${kindPrefix(m.resource)}/${shown}\n` : `${kindPrefix(m.resource)}/${shown} created\n`);
    } catch (err) {
      errors.push(addSourceToErr("creating", m.source, err as Error));
    }
  }
  const e = aggregate(errors);
  if (e) throw e;
}

/** One object to delete. */
interface Target {
  resource: ResourceInfo;
  namespace: string;
  name: string;
  source: string;
}

/** Runs `kubectl delete`. */
export async function runDelete(env: Env): Promise<void> {
  const f = env.flags;
  const args = f.args;
  const filenames = f.array("filename");
  const selector = f.string("selector");
  const all = f.bool("all");
  const allNamespaces = f.bool("all-namespaces");
  const ignoreNotFound = f.bool("ignore-not-found") || ((all || selector !== "") && !f.has("ignore-not-found"));
  const errors: Error[] = [];
  const targets: Target[] = [];
  if (filenames.length > 0) {
    if (args.length > 0) throw new CmdError("when paths, URLs, or stdin is provided as input, you may not specify resource arguments as well");
    const read = await readManifests(env.ctx, filenames, { recursive: f.bool("recursive") });
    errors.push(...read.errors);
    for (const m of read.objects) {
      const ns = m.resource.namespaced ? m.object.metadata.namespace || env.namespace : "";
      targets.push({ resource: m.resource, namespace: ns, name: m.object.metadata.name ?? "", source: m.source });
    }
  } else {
    if (args.length === 0) {
      throw new CmdError(
        "You must provide one or more resources by argument or filename.\nExample resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n   '<resource> <name>'\n   '<resource>'",
      );
    }
    const requests: Request[] = resolveArgs(args);
    const named = requests.filter((r) => r.name !== undefined);
    if (named.length > 0 && (selector !== "" || all)) {
      throw new CmdError(selector !== "" ? "name cannot be provided when a selector is specified" : "setting 'all' parameter but found a non empty selector. ");
    }
    if (named.length === 0 && selector === "" && !all && !f.has("field-selector")) throw new CmdError("resource(s) were provided, but no name was specified");
    for (const r of requests) {
      const ns = namespaceFor(env, r.resource, allNamespaces);
      if (r.name !== undefined) {
        targets.push({ resource: r.resource, namespace: ns, name: r.name, source: "" });
        continue;
      }
      try {
        for (const o of await listObjects(env, r.resource, ns, { labelSelector: selector || undefined, fieldSelector: f.string("field-selector") || undefined })) {
          targets.push({ resource: r.resource, namespace: o.metadata.namespace ?? "", name: o.metadata.name ?? "", source: "" });
        }
      } catch (err) {
        errors.push(err as Error);
      }
    }
  }
  const grace = f.int("grace-period") ?? -1;
  const force = f.bool("force");
  const deleted: Array<{ t: Target; uid: string | undefined }> = [];
  let found = 0;
  for (const t of targets) {
    found++;
    try {
      const resp = await env.api.delete(
        { resource: t.resource.plural, namespace: t.namespace, name: t.name },
        { propagationPolicy: cascade(f.string("cascade", "background")), ...(grace >= 0 ? { gracePeriodSeconds: grace } : force ? { gracePeriodSeconds: 0 } : {}) },
      );
      const op = grace === 0 || (force && grace < 0) ? "force deleted" : "deleted";
      env.out(f.string("output") === "name" ? `${kindPrefix(t.resource)}/${t.name}\n` : `${kindPrefix(t.resource)} "${t.name}" ${op}\n`);
      deleted.push({ t, uid: (resp as KubeObject | undefined)?.metadata?.uid });
    } catch (err) {
      if (ignoreNotFound && isNotFound(err)) {
        found--;
        continue;
      }
      errors.push(addSourceToErr("deleting", t.source, err as Error));
    }
  }
  if (found === 0 && errors.length === 0) {
    env.out("No resources found\n");
    return;
  }
  if (errors.length === 0 && f.bool("wait", true)) {
    const timeout = parseGoDuration(f.string("timeout", "0s")) || 168 * 3_600_000;
    const deadline = env.now() + timeout;
    for (const { t, uid } of deleted) {
      if (!(await waitGone(env, t, uid, deadline))) {
        throw new CmdError(`timed out waiting for the condition on ${t.resource.plural}/${t.name}`);
      }
    }
  }
  const e = aggregate(errors);
  if (e) throw e.errors.length === 1 ? e.errors[0]! : e;
}

function cascade(v: string): "Background" | "Foreground" | "Orphan" {
  if (v === "orphan" || v === "false") return "Orphan";
  if (v === "foreground") return "Foreground";
  return "Background";
}

/** Waits until the object is gone (or replaced by one with another uid). */
async function waitGone(env: Env, t: Target, uid: string | undefined, deadline: number): Promise<boolean> {
  for (;;) {
    let rv: string | undefined;
    try {
      const o = await env.api.get({ resource: t.resource.plural, namespace: t.namespace, name: t.name });
      if (uid !== undefined && o.metadata.uid !== uid) return true;
      rv = o.metadata.resourceVersion;
    } catch (err) {
      if (isNotFound(err)) return true;
      throw err;
    }
    if (env.now() >= deadline) return false;
    if (!(await waitForChange(env, t.resource, t.namespace, t.name, Math.min(1000, deadline - env.now()), rv))) return false;
  }
}

/** Runs `kubectl scale`. */
export async function runScale(env: Env): Promise<void> {
  const f = env.flags;
  const replicas = f.int("replicas");
  if (replicas === undefined || replicas < 0) {
    throw new CmdError("The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0");
  }
  let targets: Array<{ resource: ResourceInfo; namespace: string; name: string; source: string }> = [];
  const errors: Error[] = [];
  if (f.array("filename").length > 0) {
    const read = await readManifests(env.ctx, f.array("filename"));
    errors.push(...read.errors);
    targets = read.objects.map((m) => ({ resource: m.resource, namespace: m.resource.namespaced ? m.object.metadata.namespace || env.namespace : "", name: m.object.metadata.name ?? "", source: m.source }));
  } else {
    const requests = resolveArgs(f.args);
    const selector = f.string("selector");
    for (const r of requests) {
      const ns = namespaceFor(env, r.resource, f.bool("all-namespaces"));
      if (r.name !== undefined) targets.push({ resource: r.resource, namespace: ns, name: r.name, source: "" });
      else if (selector !== "" || f.bool("all")) {
        for (const o of await listObjects(env, r.resource, ns, { labelSelector: selector || undefined })) {
          targets.push({ resource: r.resource, namespace: o.metadata.namespace ?? "", name: o.metadata.name ?? "", source: "" });
        }
      } else throw new CmdError("resource(s) were provided, but no name was specified");
    }
  }
  if (targets.length === 0 && errors.length === 0) throw new CmdError("no objects passed to scale");
  for (const t of targets) {
    if (!["Deployment", "ReplicaSet"].includes(t.resource.kind)) {
      errors.push(new ApiError({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", reason: "NotFound", code: 404, message: `the server could not find the requested resource` }));
      continue;
    }
    try {
      for (let attempt = 0; ; attempt++) {
        const o = await getObject(env, t.resource, t.namespace, t.name);
        const cur = f.int("current-replicas");
        const spec = (o.spec ?? {}) as { replicas?: number };
        if (cur !== undefined && cur !== -1 && (spec.replicas ?? 1) !== cur) {
          throw new CmdError(`Expected replicas to be ${cur}, was ${spec.replicas ?? 1}`);
        }
        try {
          await env.api.update(t.resource.plural, t.namespace, { ...o, spec: { ...spec, replicas } });
          break;
        } catch (err) {
          if (err instanceof ApiError && err.status.reason === "Conflict" && attempt < 5) continue;
          throw err;
        }
      }
      env.out(`${kindPrefix(t.resource)}/${t.name} scaled\n`);
    } catch (err) {
      errors.push(err as Error);
    }
  }
  const e = aggregate(errors);
  if (e) throw e instanceof AggregateError && e.errors.length === 1 ? e.errors[0]! : e;
}

/** Runs `kubectl label` / `kubectl annotate`: KEY=VAL to set, KEY- to remove. */
export async function runLabel(env: Env, field: "labels" | "annotations"): Promise<void> {
  const f = env.flags;
  const verb = field === "labels" ? "labeled" : "annotated";
  const changes: string[] = [];
  const resourceArgs: string[] = [];
  for (const a of f.args) {
    const pair = (a.includes("=") && !a.startsWith("=")) || (a.endsWith("-") && a !== "-");
    if (pair) changes.push(a);
    else if (changes.length > 0) throw new CmdError(`all resources must be specified before ${field === "labels" ? "label" : "annotation"} changes: ${a}`);
    else resourceArgs.push(a);
  }
  if (changes.length === 0) throw new CmdError(`at least one ${field === "labels" ? "label" : "annotation"} update is required`);
  const requests = resolveArgs(resourceArgs);
  if (requests.length === 0) throw new CmdError("one or more resources must be specified as <resource> <name> or <resource>/<name>");
  const targets: Array<{ r: ResourceInfo; o: KubeObject }> = [];
  for (const req of requests) {
    const ns = namespaceFor(env, req.resource, f.bool("all-namespaces"));
    if (req.name !== undefined) targets.push({ r: req.resource, o: await getObject(env, req.resource, ns, req.name) });
    else for (const o of await listObjects(env, req.resource, ns, { labelSelector: f.string("selector") || undefined })) targets.push({ r: req.resource, o });
  }
  for (const { r, o } of targets) {
    const map = { ...((o.metadata[field] as Record<string, string> | undefined) ?? {}) };
    let changed = false;
    for (const c of changes) {
      if (c.endsWith("-") && !c.includes("=")) {
        const k = c.slice(0, -1);
        if (k in map) {
          delete map[k];
          changed = true;
        }
        continue;
      }
      const i = c.indexOf("=");
      const k = c.slice(0, i);
      const v = c.slice(i + 1);
      if (k in map && map[k] !== v && !f.bool("overwrite")) {
        throw new CmdError(`'${k}' already has a value (${map[k]}), and --overwrite is false`);
      }
      if (map[k] !== v) changed = true;
      map[k] = v;
    }
    if (changed) await env.api.update(r.plural, o.metadata.namespace ?? "", { ...o, metadata: { ...o.metadata, [field]: map } });
    env.out(`${kindPrefix(r)}/${o.metadata.name ?? ""} ${changed ? verb : `not ${verb}`}\n`);
  }
}

/** Runs `kubectl run NAME --image=IMAGE [-- COMMAND…]`. */
export async function runRun(env: Env): Promise<void> {
  const f = env.flags;
  const name = f.args[0];
  if (name === undefined || (f.dashAt === 0)) throw new CmdError("NAME is required for run\nSee 'kubectl run -h' for help and examples");
  const image = f.string("image");
  if (image === "") throw new CmdError("--image is required");
  const rest = f.dashAt >= 0 ? f.args.slice(f.dashAt) : f.args.slice(1);
  const labels: Record<string, string> = { run: name };
  for (const kv of f.string("labels").split(",").filter((x) => x !== "")) {
    const [k, v] = kv.split("=") as [string, string | undefined];
    labels[k] = v ?? "";
  }
  if (f.string("labels") !== "") delete labels["run"];
  const container: Record<string, unknown> = { name, image, resources: {} };
  if (rest.length > 0) {
    if (f.bool("command")) container["command"] = rest;
    else container["args"] = rest;
  }
  if (f.int("port") !== undefined) container["ports"] = [{ containerPort: f.int("port") }];
  for (const e of f.array("env")) {
    const i = e.indexOf("=");
    ((container["env"] ??= []) as unknown[]).push({ name: e.slice(0, i), value: e.slice(i + 1) });
  }
  const pod: KubeObject = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels },
    spec: { containers: [container], dnsPolicy: "ClusterFirst", restartPolicy: f.string("restart", "Always") },
    status: {},
  };
  // --overrides: a JSON merge patch onto the generated pod (kubectl's default --override-type=merge).
  let obj: KubeObject = pod;
  const overrides = f.string("overrides");
  if (overrides !== "") {
    let patch: unknown;
    try {
      patch = JSON.parse(overrides);
    } catch (err) {
      throw new CmdError(`error: unable to parse "${overrides}": ${(err as Error).message}`);
    }
    obj = mergePatch(pod, patch) as KubeObject;
  }
  const r = mustResource("pods");
  await env.api.create(r.plural, env.namespace, obj, { fieldValidation: "Strict" });
  env.out(`pod/${name} created\n`);
}
