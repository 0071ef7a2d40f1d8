/**
 * The API server: the ApiClient contract over the store, with decoding
 * (strict field validation), defaulting, admission (namespaces, pod
 * defaults), validation, Service IP/NodePort allocation, graceful pod
 * deletion, propagation policies, patches, selectors, limit/continue and
 * watch. The same object serves kubectl (async) and the controllers (the
 * synchronous `direct` face, on the clock).
 */
import {
  type ApiClient,
  ApiError,
  type DeleteOptions,
  type KubeObject,
  type ListOptions,
  type ObjectList,
  type ObjectRef,
  type PatchType,
  type Pod,
  type PodSpec,
  type ResourceInfo,
  type Status,
  type WatchEvent,
  type WriteOptions,
  apiVersionOf,
  resourceForName,
} from "@kemu/api";
import type { Clock, Rng } from "@kemu/kernel";
import { clone, jsonEqual } from "./_meta.ts";
import { ClusterIpAllocator, NodePortAllocator } from "./allocator.ts";
import { decodeAs } from "./decode.ts";
import { admitIngress, admitPod, applyDefaults, qosClass } from "./defaults.ts";
import {
  type FieldError,
  badRequest,
  conflict,
  forbidden,
  goStrings,
  internalError,
  invalid,
  notFound,
  unknownResource,
} from "./errors.ts";
import { jsonPatch, mergePatch, strategicMergePatch } from "./patch.ts";
import { SelectorError, type FieldRequirement, type Selector, matches, matchesFields, parseFieldSelector, parseLabelSelector } from "./selector.ts";
import { Store, type StoreEvent } from "./store.ts";
import { validateCreate, validateUpdate } from "./validation.ts";

/** Options of an ApiServer. */
export interface ApiServerOptions {
  /** The Service ClusterIP range (kube-apiserver `--service-cluster-ip-range`). Default 10.96.0.0/12, as kubeadm. */
  serviceClusterIPRange?: string;
  /** The NodePort range (`--service-node-port-range`). Default [30000, 32767]. */
  serviceNodePortRange?: readonly [number, number];
  /** Changes the watch history keeps; a watch from an older resourceVersion gets 410 Expired. Default 10000. */
  watchHistorySize?: number;
  /** Wall-clock milliseconds of emulated time 0, for time stamps. Default 2026-01-01T00:00:00Z. */
  epochMs?: number;
  /**
   * Whether deleting a pod bound to a node only marks it (deletionTimestamp,
   * deletionGracePeriodSeconds) until its kubelet deletes it with grace 0, as
   * Kubernetes does. When false, pods go at once. Default true.
   */
  gracefulPodDeletion?: boolean;
  /** tolerationSeconds of the not-ready/unreachable NoExecute tolerations added to every pod: how long pods stay on a lost node. Default 300. */
  defaultTolerationSeconds?: number;
}

/**
 * The API synchronously, for code running beside the store (controllers,
 * the scheduler, tests): same methods and errors as ApiClient, but results
 * are returned (copies) and errors thrown at once; watch callbacks run
 * synchronously as changes commit and must not write (queue work instead).
 */
export interface DirectApi {
  get<T extends KubeObject = KubeObject>(ref: ObjectRef): T;
  list<T extends KubeObject = KubeObject>(resource: string, namespace: string, options?: ListOptions): ObjectList<T>;
  create<T extends KubeObject = KubeObject>(resource: string, namespace: string, obj: KubeObject, options?: WriteOptions): T;
  update<T extends KubeObject = KubeObject>(resource: string, namespace: string, obj: KubeObject, options?: WriteOptions): T;
  updateStatus<T extends KubeObject = KubeObject>(resource: string, namespace: string, obj: KubeObject): T;
  patch<T extends KubeObject = KubeObject>(ref: ObjectRef, type: PatchType, patch: unknown, options?: WriteOptions): T;
  delete<T extends KubeObject = KubeObject>(ref: ObjectRef, options?: DeleteOptions): T;
  watch<T extends KubeObject = KubeObject>(resource: string, namespace: string, options: ListOptions, onEvent: (event: WatchEvent<T>) => void): () => void;
  /** The pods/binding subresource: assigns a pending pod to a node (what the scheduler does). */
  bind(ref: ObjectRef, nodeName: string): Pod;
}

/** Kinds with a status subresource: a main-resource update keeps the old status. */
const STATUS_KINDS = new Set(["Pod", "Node", "Service", "Deployment", "ReplicaSet", "Namespace", "Ingress"]);

/** Namespaces that may not be deleted. */
const IMMORTAL_NAMESPACES = new Set(["default", "kube-system", "kube-public"]);

function strictError(kind: string, version: string, unknown: readonly string[]): ApiError {
  return badRequest(`${kind} in version "${version}" cannot be handled as a ${kind}: strict decoding error: ${unknown.map((u) => `unknown field "${u}"`).join(", ")}`);
}

type ContinueToken = { v: string; rv: number; start: string };

function encodeContinue(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: "meta.k8s.io/v1", rv, start } satisfies ContinueToken)).toString("base64");
}

function decodeContinue(token: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(token, "base64").toString("utf8")) as ContinueToken;
    if (t.v !== "meta.k8s.io/v1" || typeof t.start !== "string") throw new Error("bad");
    return t;
  } catch {
    throw badRequest(`continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)`);
  }
}

/**
 * kube-apiserver for kemu. Implements ApiClient exactly (every method
 * rejects with ApiError carrying the real server's Status); `direct` is the
 * same API synchronously for in-process controllers.
 *
 * ```ts
 * const server = new ApiServer(new EventLoop(), new Rng(1));
 * await server.create("namespaces", "", { apiVersion: "v1", kind: "Namespace", metadata: { name: "default" } });
 * const pod = await server.create("pods", "default", podManifest, { fieldValidation: "Strict" });
 * ```
 */
export class ApiServer implements ApiClient {
  readonly store: Store;
  readonly clock: Clock;
  readonly rng: Rng;
  readonly clusterIPs: ClusterIpAllocator;
  readonly nodePorts: NodePortAllocator;
  readonly direct: DirectApi;
  readonly #graceful: boolean;
  readonly #tolerationSeconds: number;

  constructor(clock: Clock, rng: Rng, options: ApiServerOptions = {}) {
    this.clock = clock;
    this.rng = rng;
    const storeOptions: { historySize?: number; epochMs?: number } = {};
    if (options.watchHistorySize !== undefined) storeOptions.historySize = options.watchHistorySize;
    if (options.epochMs !== undefined) storeOptions.epochMs = options.epochMs;
    this.store = new Store(clock, rng, storeOptions);
    this.clusterIPs = new ClusterIpAllocator(options.serviceClusterIPRange ?? "10.96.0.0/12", rng);
    this.nodePorts = new NodePortAllocator(options.serviceNodePortRange ?? [30000, 32767], rng);
    this.#graceful = options.gracefulPodDeletion ?? true;
    this.#tolerationSeconds = options.defaultTolerationSeconds ?? 300;
    this.direct = {
      get: <T extends KubeObject>(ref: ObjectRef) => clone(this.#get(ref)) as T,
      list: <T extends KubeObject>(resource: string, namespace: string, options?: ListOptions) => this.#list(resource, namespace, options ?? {}) as ObjectList<T>,
      create: <T extends KubeObject>(resource: string, namespace: string, obj: KubeObject, options?: WriteOptions) =>
        clone(this.#create(resource, namespace, obj, options ?? {})) as T,
      update: <T extends KubeObject>(resource: string, namespace: string, obj: KubeObject, options?: WriteOptions) =>
        clone(this.#update(resource, namespace, obj, options ?? {})) as T,
      updateStatus: <T extends KubeObject>(resource: string, namespace: string, obj: KubeObject) => clone(this.#updateStatus(resource, namespace, obj)) as T,
      patch: <T extends KubeObject>(ref: ObjectRef, type: PatchType, patch: unknown, options?: WriteOptions) => clone(this.#patch(ref, type, patch, options ?? {})) as T,
      delete: <T extends KubeObject>(ref: ObjectRef, options?: DeleteOptions) => clone(this.#delete(ref, options ?? {})) as T,
      watch: <T extends KubeObject>(resource: string, namespace: string, options: ListOptions, onEvent: (event: WatchEvent<T>) => void) => {
        const { initial, subscribe } = this.#watch(resource, namespace, options);
        for (const e of initial) onEvent(e as WatchEvent<T>);
        return subscribe((e) => onEvent(e as WatchEvent<T>));
      },
      bind: (ref: ObjectRef, nodeName: string) => clone(this.#bind(ref, nodeName)),
    };
  }

  // ApiClient: the synchronous core, as promises.

  async get<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T> {
    return this.direct.get<T>(ref);
  }

  async list<T extends KubeObject = KubeObject>(resource: string, namespace: string, options?: ListOptions): Promise<ObjectList<T>> {
    return this.direct.list<T>(resource, namespace, options);
  }

  async create<T extends KubeObject = KubeObject>(resource: string, namespace: string, obj: KubeObject, options?: WriteOptions): Promise<T> {
    return this.direct.create<T>(resource, namespace, obj, options);
  }

  async update<T extends KubeObject = KubeObject>(resource: string, namespace: string, obj: KubeObject, options?: WriteOptions): Promise<T> {
    return this.direct.update<T>(resource, namespace, obj, options);
  }

  async updateStatus<T extends KubeObject = KubeObject>(resource: string, namespace: string, obj: KubeObject): Promise<T> {
    return this.direct.updateStatus<T>(resource, namespace, obj);
  }

  async patch<T extends KubeObject = KubeObject>(ref: ObjectRef, type: PatchType, patch: unknown, options?: WriteOptions): Promise<T> {
    return this.direct.patch<T>(ref, type, patch, options);
  }

  async delete<T extends KubeObject = KubeObject>(ref: ObjectRef, options?: DeleteOptions): Promise<T> {
    return this.direct.delete<T>(ref, options);
  }

  /** Assigns a pending pod to a node (the pods/binding subresource). */
  async bind(ref: ObjectRef, nodeName: string): Promise<Pod> {
    return this.direct.bind(ref, nodeName);
  }

  /**
   * Streams events (in order, each in a microtask after the change commits)
   * until the returned function is called. Without a resourceVersion (or
   * "0"), the current objects come first as ADDED. A resourceVersion older
   * than the history gives one ERROR event carrying a 410 Expired Status.
   */
  watch<T extends KubeObject = KubeObject>(resource: string, namespace: string, options: ListOptions, onEvent: (event: WatchEvent<T>) => void): () => void {
    const queue: WatchEvent[] = [];
    let stopped = false;
    let scheduled = false;
    const push = (e: WatchEvent): void => {
      queue.push(e);
      if (scheduled) return;
      scheduled = true;
      queueMicrotask(() => {
        scheduled = false;
        while (queue.length > 0 && !stopped) onEvent(queue.shift() as WatchEvent<T>);
      });
    };
    let unsubscribe = (): void => {};
    try {
      const { initial, subscribe } = this.#watch(resource, namespace, options);
      for (const e of initial) push(e);
      unsubscribe = subscribe(push);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      push({ type: "ERROR", object: err.status as unknown as KubeObject });
    }
    return () => {
      stopped = true;
      unsubscribe();
    };
  }

  /** The current emulated time as an RFC 3339 stamp (`2026-01-01T00:00:05Z`). */
  timestamp(offsetMs = 0): string {
    return this.store.timestamp(offsetMs);
  }

  // The core.

  #info(resource: string): ResourceInfo {
    const info = resourceForName(resource);
    if (info === undefined) throw unknownResource();
    return info;
  }

  #ns(info: ResourceInfo, namespace: string, obj?: KubeObject): string {
    if (!info.namespaced) return "";
    const fromObj = obj?.metadata?.namespace;
    if (namespace !== "" && fromObj !== undefined && fromObj !== "" && fromObj !== namespace)
      throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
    return namespace || fromObj || "default";
  }

  #get(ref: ObjectRef): KubeObject {
    const info = this.#info(ref.resource);
    const ns = this.#ns(info, ref.namespace);
    const o = this.store.get(info.plural, ns, ref.name);
    if (o === undefined) throw notFound(info, ref.name);
    return o;
  }

  #selectors(info: ResourceInfo, options: ListOptions): { labels: Selector; fields: FieldRequirement[] } {
    try {
      return { labels: parseLabelSelector(options.labelSelector ?? ""), fields: parseFieldSelector(options.fieldSelector ?? "", info.plural) };
    } catch (e) {
      if (e instanceof SelectorError) throw badRequest(e.message);
      throw e;
    }
  }

  #list(resource: string, namespace: string, options: ListOptions): ObjectList {
    const info = this.#info(resource);
    const ns = info.namespaced ? namespace : "";
    const { labels, fields } = this.#selectors(info, options);
    let items = this.store.list(info.plural, ns).filter((o) => matches(labels, o.metadata.labels) && matchesFields(fields, o));
    const rv = this.store.resourceVersion;
    let listRV = rv;
    if (options.continue !== undefined && options.continue !== "") {
      const token = decodeContinue(options.continue);
      listRV = token.rv;
      items = items.filter((o) => `${o.metadata.namespace ?? ""}/${o.metadata.name ?? ""}` >= token.start);
    }
    const meta: ObjectList["metadata"] = { resourceVersion: String(listRV) };
    const limit = options.limit ?? 0;
    if (limit > 0 && items.length > limit) {
      const last = items[limit - 1]!;
      meta.continue = encodeContinue(listRV, `${last.metadata.namespace ?? ""}/${last.metadata.name ?? ""}\u0000`);
      (meta as Record<string, unknown>)["remainingItemCount"] = items.length - limit;
      items = items.slice(0, limit);
    }
    return { apiVersion: apiVersionOf(info), kind: `${info.kind}List`, metadata: meta, items: items.map((o) => clone(o)) };
  }

  #watch(resource: string, namespace: string, options: ListOptions): { initial: WatchEvent[]; subscribe: (cb: (e: WatchEvent) => void) => () => void } {
    const info = this.#info(resource);
    const ns = info.namespaced ? namespace : "";
    const { labels, fields } = this.#selectors(info, options);
    const sel = (o: KubeObject | undefined): boolean => o !== undefined && matches(labels, o.metadata.labels) && matchesFields(fields, o);
    const rvText = options.resourceVersion ?? "";
    const initial: WatchEvent[] = [];
    let fromRV: number | undefined;
    if (rvText === "" || rvText === "0") {
      for (const o of this.store.list(info.plural, ns)) if (sel(o)) initial.push({ type: "ADDED", object: clone(o) });
    } else {
      if (!/^\d+$/.test(rvText)) throw badRequest(`resourceVersion: Invalid value: "${rvText}": strconv.ParseUint: parsing "${rvText}": invalid syntax`);
      fromRV = Number(rvText);
      // Fails now (410) rather than at subscription.
      this.store.since(fromRV);
    }
    const translate = (e: StoreEvent): WatchEvent | undefined => {
      const now = sel(e.object);
      const before = e.type === "MODIFIED" ? sel(e.old) : now;
      if (e.type === "ADDED") return now ? { type: "ADDED", object: clone(e.object) } : undefined;
      if (e.type === "DELETED") return now ? { type: "DELETED", object: clone(e.object) } : undefined;
      if (now && before) return { type: "MODIFIED", object: clone(e.object) };
      if (now) return { type: "ADDED", object: clone(e.object) };
      if (before) return { type: "DELETED", object: clone(e.object) };
      return undefined;
    };
    return {
      initial,
      subscribe: (cb) =>
        this.store.watch(info.plural, ns, fromRV, (e) => {
          // A version from the future: nothing until the store gets there.
          if (fromRV !== undefined && e.rv <= fromRV) return;
          const w = translate(e);
          if (w !== undefined) cb(w);
        }),
    };
  }

  /** Checks apiVersion/kind, decodes against the schema (strict or pruning), and fills namespace. */
  #decode(info: ResourceInfo, namespace: string, body: KubeObject, fieldValidation: WriteOptions["fieldValidation"]): KubeObject {
    if (body === null || typeof body !== "object" || Array.isArray(body)) throw badRequest("the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf");
    const version = apiVersionOf(info);
    const apiVersion = typeof body.apiVersion === "string" && body.apiVersion !== "" ? body.apiVersion : version;
    const kind = typeof body.kind === "string" && body.kind !== "" ? body.kind : info.kind;
    if (kind !== info.kind) {
      const [g, v] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
      throw badRequest(`${kind} in version "${v}" cannot be handled as a ${info.kind}: converting (${v}.${kind}) to (${g === "" ? "core" : g}.${info.kind}): unknown conversion`);
    }
    if (apiVersion !== version) {
      const v = apiVersion.includes("/") ? apiVersion.split("/")[1]! : apiVersion;
      throw badRequest(`${kind} in version "${v}" cannot be handled as a ${kind}: no kind "${kind}" is registered for version "${apiVersion}" in scheme "pkg/api/legacyscheme/scheme.go:30"`);
    }
    const d = decodeAs(info.kind, { ...body, apiVersion, kind });
    if (d.typeError !== undefined) throw badRequest(`${kind} in version "${info.version}" cannot be handled as a ${kind}: ${d.typeError}`);
    if (d.unknown.length > 0 && fieldValidation === "Strict") throw strictError(kind, info.version, d.unknown);
    const o = d.object;
    o.metadata ??= {};
    const ns = this.#ns(info, namespace, o);
    if (info.namespaced) o.metadata.namespace = ns;
    else delete o.metadata.namespace;
    return o;
  }

  #checkNamespace(info: ResourceInfo, ns: string, name: string): void {
    if (!info.namespaced) return;
    const n = this.store.get("namespaces", "", ns);
    if (n === undefined) throw notFound("namespaces", ns);
    if (n.metadata.deletionTimestamp !== undefined)
      throw forbidden(info, name, `unable to create new content in namespace ${ns} because it is being terminated`);
  }

  #create(resource: string, namespace: string, body: KubeObject, options: WriteOptions): KubeObject {
    const info = this.#info(resource);
    const o = this.#decode(info, namespace, body, options.fieldValidation);
    const ns = o.metadata.namespace ?? "";
    const displayName = o.metadata.name ?? "";
    if (o.metadata.resourceVersion !== undefined && o.metadata.resourceVersion !== "") throw badRequest("resourceVersion should not be set on objects to be created");
    for (const k of ["uid", "resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"]) delete o.metadata[k];
    applyDefaults(o);
    if (info.kind === "Pod") admitPod(o, { defaultTolerationSeconds: this.#tolerationSeconds });
    if (info.kind === "Ingress") admitIngress(o, this.store.list("ingressclasses"));
    this.#checkNamespace(info, ns, displayName);
    const errs = validateCreate(o, info.namespaced);
    if (errs.length > 0) throw invalid(info, displayName || (o.metadata.generateName ?? ""), errs);
    this.#resetStatusOnCreate(o);
    const release = this.#allocate(info, o, undefined);
    try {
      if (options.dryRun === true) {
        release();
        return o;
      }
      return this.store.create(info.plural, o);
    } catch (e) {
      release();
      throw e;
    }
  }

  #resetStatusOnCreate(o: KubeObject): void {
    switch (o.kind) {
      case "Pod":
        o.status = { phase: "Pending", qosClass: qosClass(o.spec as PodSpec) };
        break;
      case "Deployment":
      case "ReplicaSet":
        o.status = {};
        break;
      case "Service":
      case "Ingress":
        o.status = { loadBalancer: {} };
        break;
      case "Namespace":
        o.status = { phase: "Active" };
        break;
    }
  }

  /**
   * Allocates a Service's ClusterIP and NodePorts (keeping those of `old`
   * that remain). Returns a function that undoes the allocation.
   */
  #allocate(info: ResourceInfo, o: KubeObject, old: KubeObject | undefined): () => void {
    if (info.kind !== "Service") return () => {};
    const spec = o.spec as Record<string, unknown>;
    const oldSpec = (old?.spec ?? {}) as Record<string, unknown>;
    const done: Array<() => void> = [];
    const undo = (): void => {
      for (const f of done.reverse()) f();
    };
    const errs: FieldError[] = [];
    const type = (spec["type"] as string | undefined) ?? "ClusterIP";
    try {
      const oldIP = (oldSpec["clusterIP"] as string | undefined) ?? "";
      let ip = (spec["clusterIP"] as string | undefined) ?? "";
      if (type === "ExternalName") {
        delete spec["clusterIPs"];
      } else {
        if (ip === "" && oldIP !== "" && oldIP !== "None") ip = oldIP;
        if (ip === "") {
          const next = this.clusterIPs.allocateNext();
          if (next === undefined) throw internalError("failed to allocate a serviceIP: range is full");
          ip = next;
          done.push(() => this.clusterIPs.release(next));
        } else if (ip !== "None" && ip !== oldIP) {
          const r = this.clusterIPs.allocate(ip);
          if (r === "ok") done.push(() => this.clusterIPs.release(ip));
          else
            errs.push({
              type: "Invalid",
              field: "spec.clusterIPs",
              value: goStrings([ip]),
              detail:
                r === "taken"
                  ? `failed to allocate IP ${ip}: provided IP is already allocated`
                  : `failed to allocate IP ${ip}: the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${this.clusterIPs.cidr.text}`,
            });
        }
        spec["clusterIP"] = ip;
        spec["clusterIPs"] = [ip];
      }
      const needsNodePorts = type === "NodePort" || (type === "LoadBalancer" && spec["allocateLoadBalancerNodePorts"] !== false);
      const oldPorts = ((oldSpec["ports"] as Array<Record<string, unknown>> | undefined) ?? []).filter((p) => typeof p["nodePort"] === "number");
      const kept = new Set<number>();
      const ports = (spec["ports"] as Array<Record<string, unknown>> | undefined) ?? [];
      if (needsNodePorts) {
        ports.forEach((p, i) => {
          let np = p["nodePort"] as number | undefined;
          if (np === undefined || np === 0) {
            const prev = oldPorts.find((q) => q["port"] === p["port"] && q["protocol"] === p["protocol"]) ?? oldPorts.find((q) => q["port"] === p["port"]);
            if (prev !== undefined && !kept.has(prev["nodePort"] as number)) np = prev["nodePort"] as number;
          }
          if (np !== undefined && np !== 0 && oldPorts.some((q) => q["nodePort"] === np)) {
            kept.add(np);
            p["nodePort"] = np;
            return;
          }
          if (np === undefined || np === 0) {
            const next = this.nodePorts.allocateNext();
            if (next === undefined) throw internalError("failed to allocate a nodePort: range is full");
            done.push(() => this.nodePorts.release(next));
            p["nodePort"] = next;
            return;
          }
          const r = this.nodePorts.allocate(np);
          if (r === "ok") {
            const taken = np;
            done.push(() => this.nodePorts.release(taken));
          } else
            errs.push({
              type: "Invalid",
              field: `spec.ports[${i}].nodePort`,
              value: np,
              detail: r === "taken" ? "provided port is already allocated" : `provided port is not in the valid range. The range of valid ports is ${this.nodePorts.text}`,
            });
        });
      } else {
        for (const p of ports) if (type !== "LoadBalancer") delete p["nodePort"];
      }
      if (errs.length > 0) throw invalid(info, o.metadata.name ?? "", errs);
    } catch (e) {
      undo();
      throw e;
    }
    // What `old` held and `o` no longer does is released when the write commits; the caller does that.
    return undo;
  }

  #releaseService(o: KubeObject, keep?: KubeObject): void {
    if (o.kind !== "Service") return;
    const spec = (o.spec ?? {}) as Record<string, unknown>;
    const keepSpec = (keep?.spec ?? {}) as Record<string, unknown>;
    const ip = spec["clusterIP"] as string | undefined;
    if (ip !== undefined && ip !== "" && ip !== "None" && keepSpec["clusterIP"] !== ip) this.clusterIPs.release(ip);
    const keptPorts = new Set(((keepSpec["ports"] as Array<Record<string, unknown>> | undefined) ?? []).map((p) => p["nodePort"]));
    for (const p of (spec["ports"] as Array<Record<string, unknown>> | undefined) ?? [])
      if (typeof p["nodePort"] === "number" && !keptPorts.has(p["nodePort"])) this.nodePorts.release(p["nodePort"]);
  }

  #update(resource: string, namespace: string, body: KubeObject, options: WriteOptions): KubeObject {
    const info = this.#info(resource);
    const o = this.#decode(info, namespace, body, options.fieldValidation);
    const ns = o.metadata.namespace ?? "";
    const name = o.metadata.name ?? "";
    if (name === "") throw badRequest("name is required");
    const old = this.store.get(info.plural, ns, name);
    if (old === undefined) throw notFound(info, name);
    const rv = o.metadata.resourceVersion;
    if (rv !== undefined && rv !== "" && rv !== old.metadata.resourceVersion) throw conflict(info, name);
    applyDefaults(o);
    if (info.kind === "Pod") {
      // What admission added on create stays (updates never remove it).
      const spec = o.spec as Record<string, unknown>;
      const oldSpec = old.spec as Record<string, unknown>;
      for (const k of ["serviceAccountName", "serviceAccount", "priority", "preemptionPolicy", "nodeName"]) if (spec[k] === undefined && oldSpec[k] !== undefined) spec[k] = oldSpec[k];
      if (spec["tolerations"] === undefined) spec["tolerations"] = oldSpec["tolerations"];
    }
    if (STATUS_KINDS.has(info.kind)) {
      if (old.status === undefined) delete o.status;
      else o.status = clone(old.status);
    }
    if (info.kind === "Service") patchAllocatedValues(o, old);
    const errs = validateUpdate(o, old, { namespaced: info.namespaced });
    if (errs.length > 0) throw invalid(info, name, errs);
    const undo = this.#allocate(info, o, old);
    try {
      if (options.dryRun === true) {
        undo();
        return o;
      }
      const stored = this.store.update(info.plural, o);
      this.#releaseService(old, stored);
      return stored;
    } catch (e) {
      undo();
      throw e;
    }
  }

  #updateStatus(resource: string, namespace: string, body: KubeObject): KubeObject {
    const info = this.#info(resource);
    const ns = this.#ns(info, namespace, body);
    const name = body.metadata?.name ?? "";
    const old = this.store.get(info.plural, ns, name);
    if (old === undefined) throw notFound(info, name);
    const rv = body.metadata?.resourceVersion;
    if (rv !== undefined && rv !== "" && rv !== old.metadata.resourceVersion) throw conflict(info, name);
    const d = decodeAs(info.kind, { ...clone(old), status: body.status });
    if (d.typeError !== undefined) throw badRequest(`${info.kind} in version "${info.version}" cannot be handled as a ${info.kind}: ${d.typeError}`);
    const o = clone(old);
    if (d.object.status === undefined) delete o.status;
    else o.status = d.object.status;
    return this.store.update(info.plural, o);
  }

  #patch(ref: ObjectRef, type: PatchType, patch: unknown, options: WriteOptions): KubeObject {
    const info = this.#info(ref.resource);
    const ns = this.#ns(info, ref.namespace);
    const cur = this.store.get(info.plural, ns, ref.name);
    if (type === "apply") {
      const fieldValidation = options.fieldValidation ?? "Strict";
      if (cur === undefined) {
        const body = clone(patch) as KubeObject;
        body.metadata ??= {};
        body.metadata.name ??= ref.name;
        return this.#create(info.plural, ns, body, { ...options, fieldValidation });
      }
      const merged = strategicMergePatch(clone(cur), patch) as KubeObject;
      return this.#update(info.plural, ns, merged, { ...options, fieldValidation });
    }
    if (cur === undefined) throw notFound(info, ref.name);
    let result: unknown;
    switch (type) {
      case "merge":
        result = mergePatch(clone(cur), patch);
        break;
      case "json":
        result = jsonPatch(clone(cur), patch);
        break;
      case "strategic":
        result = strategicMergePatch(clone(cur), patch);
        break;
    }
    const o = result as KubeObject;
    if (o === null || typeof o !== "object" || o.metadata?.name !== cur.metadata.name) throw badRequest("the name of the object (from the patch) does not match the name on the URL");
    if (jsonEqual(o, cur)) return cur;
    // Status changes made by a patch of the main resource are dropped, as for update.
    return this.#update(info.plural, ns, o, options);
  }

  #delete(ref: ObjectRef, options: DeleteOptions): KubeObject {
    const info = this.#info(ref.resource);
    const ns = this.#ns(info, ref.namespace);
    const cur = this.store.get(info.plural, ns, ref.name);
    if (cur === undefined) throw notFound(info, ref.name);
    if (info.kind === "Namespace" && IMMORTAL_NAMESPACES.has(ref.name)) throw forbidden(info, ref.name, "this namespace may not be deleted");
    if (options.dryRun === true) return cur;
    const finalizers: string[] = [];
    if (options.propagationPolicy === "Foreground") finalizers.push("foregroundDeletion");
    if (options.propagationPolicy === "Orphan") finalizers.push("orphan");
    if (info.kind === "Namespace") {
      // The namespace controller empties it, then removes it.
      const o = clone(cur);
      o.status = { ...(o.status as object), phase: "Terminating" };
      const stored = this.store.update(info.plural, o);
      return this.store.markDeleted(info.plural, ns, ref.name, { finalizers: [...(stored.metadata.finalizers ?? []), ...finalizers] });
    }
    let graceSeconds = 0;
    if (info.kind === "Pod" && this.#graceful) {
      const pod = cur as Pod;
      const phase = pod.status?.phase;
      const bound = pod.spec.nodeName !== undefined && pod.spec.nodeName !== "";
      if (bound && phase !== "Succeeded" && phase !== "Failed") graceSeconds = Math.max(0, options.gracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30);
    }
    if (cur.metadata.deletionTimestamp !== undefined && graceSeconds === 0 && info.kind === "Pod" && (cur.metadata.finalizers ?? []).length === 0) {
      // A pod being terminated, deleted again with no grace (the kubelet's final delete, or --force).
      return this.store.remove(info.plural, ns, ref.name);
    }
    const out = this.store.markDeleted(info.plural, ns, ref.name, { finalizers, graceSeconds });
    if (this.store.get(info.plural, ns, ref.name) === undefined) this.#releaseService(cur);
    return out;
  }

  #bind(ref: ObjectRef, nodeName: string): Pod {
    const info = this.#info("pods");
    const ns = this.#ns(info, ref.namespace);
    const cur = this.store.get("pods", ns, ref.name) as Pod | undefined;
    if (cur === undefined) throw notFound(info, ref.name);
    if (cur.spec.nodeName !== undefined && cur.spec.nodeName !== "")
      throw conflict("pods/binding", ref.name, `pod ${ref.name} is already assigned to node ${JSON.stringify(cur.spec.nodeName)}`);
    if (cur.metadata.deletionTimestamp !== undefined) throw conflict("pods/binding", ref.name, `pod ${ref.name} is being deleted, cannot be assigned to a host`);
    const o = clone(cur);
    o.spec.nodeName = nodeName;
    const status = (o.status ??= {});
    const conditions = (status.conditions ?? []).filter((c) => c.type !== "PodScheduled");
    conditions.unshift({ type: "PodScheduled", status: "True", lastProbeTime: null, lastTransitionTime: this.timestamp() });
    status.conditions = conditions;
    return this.store.update("pods", o) as Pod;
  }
}

/**
 * What an update of a Service leaves out but had allocated stays
 * (`patchAllocatedValues`): the ClusterIP while both want one, and the
 * NodePort of each port that keeps its port number and protocol.
 */
function patchAllocatedValues(o: KubeObject, old: KubeObject): void {
  const spec = o.spec as Record<string, unknown>;
  const oldSpec = old.spec as Record<string, unknown>;
  const needsIP = (t: unknown): boolean => t !== "ExternalName";
  if (needsIP(spec["type"]) && needsIP(oldSpec["type"]) && (spec["clusterIP"] === undefined || spec["clusterIP"] === "")) {
    if (oldSpec["clusterIP"] !== undefined) spec["clusterIP"] = oldSpec["clusterIP"];
    if (oldSpec["clusterIPs"] !== undefined && spec["clusterIPs"] === undefined) spec["clusterIPs"] = oldSpec["clusterIPs"];
  }
  const needsPorts = (t: unknown): boolean => t === "NodePort" || t === "LoadBalancer";
  if (needsPorts(spec["type"]) && needsPorts(oldSpec["type"])) {
    const oldPorts = (oldSpec["ports"] as Array<Record<string, unknown>> | undefined) ?? [];
    for (const p of (spec["ports"] as Array<Record<string, unknown>> | undefined) ?? []) {
      if (p["nodePort"] !== undefined && p["nodePort"] !== 0) continue;
      const prev = oldPorts.find((q) => q["port"] === p["port"] && (q["protocol"] ?? "TCP") === (p["protocol"] ?? "TCP"));
      if (prev?.["nodePort"] !== undefined) p["nodePort"] = prev["nodePort"];
    }
  }
}

/** Whether an error is an ApiError with a given HTTP code. */
export function isStatus(err: unknown, code: number): err is ApiError {
  return err instanceof ApiError && err.code === code;
}

/** A Status for a successful call without an object (what DELETE of a collection returns). */
export function successStatus(details?: Status["details"]): Status {
  const s: Status = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", message: "", reason: "", code: 200 };
  if (details !== undefined) s.details = details;
  return s;
}
