/**
 * The object store behind the API server (what etcd is to kube-apiserver):
 * objects keyed by resource/namespace/name, one global resourceVersion
 * counter, uids and creation times from the run's Rng and Clock, generation
 * bumps on spec changes, generateName, finalizers with deletionTimestamp, and
 * a bounded history of changes to watch from.
 */
import type { KubeObject } from "@kemu/api";
import type { Clock, Rng } from "@kemu/kernel";
import { DEFAULT_EPOCH_MS, clone, deepFreeze, jsonEqual, randomSuffix, rfc3339, uuid } from "./_meta.ts";
import { alreadyExists, conflict, expired, notFound } from "./errors.ts";
import { resourceForName, type ResourceInfo } from "@kemu/api";

/** One committed change. Objects are frozen: copy before changing them. */
export interface StoreEvent {
  type: "ADDED" | "MODIFIED" | "DELETED";
  /** The plural resource name (`pods`). */
  resource: string;
  /** The object after the change (for DELETED: as it was, with the deletion's resourceVersion). */
  object: KubeObject;
  /** The object before the change (MODIFIED, DELETED). */
  old?: KubeObject;
  rv: number;
}

/** Options of a Store. */
export interface StoreOptions {
  /** How many changes the watch history keeps (older resourceVersions get 410 Expired). Default 10000. */
  historySize?: number;
  /** Wall-clock milliseconds of emulated time 0 (time stamps). Default 2026-01-01T00:00:00Z. */
  epochMs?: number;
}

/** Kinds whose metadata.generation counts spec changes. */
const GENERATION_KINDS = new Set(["Pod", "Deployment", "ReplicaSet"]);

/** Longest generateName prefix kept: names stay within 63 characters with the 5-character suffix. */
const MAX_GENERATE_PREFIX = 58;

type Watcher = { resource: string | undefined; namespace: string; cb: (e: StoreEvent) => void };

function key(resource: string, namespace: string, name: string): string {
  return `${resource}/${namespace}/${name}`;
}

/** The store: every write goes through it, every watcher hears of it. */
export class Store {
  readonly clock: Clock;
  readonly rng: Rng;
  readonly epochMs: number;
  readonly #historySize: number;
  /** Per resource: objects by `namespace/name`. */
  readonly #objects = new Map<string, Map<string, KubeObject>>();
  #rv = 0;
  #history: StoreEvent[] = [];
  #historyStart = 0;
  /** The highest resourceVersion no longer in the history. */
  #compacted = 0;
  #watchers: Watcher[] = [];

  constructor(clock: Clock, rng: Rng, options: StoreOptions = {}) {
    this.clock = clock;
    this.rng = rng;
    this.epochMs = options.epochMs ?? DEFAULT_EPOCH_MS;
    this.#historySize = Math.max(1, options.historySize ?? 10_000);
  }

  /** The current (latest committed) resourceVersion. */
  get resourceVersion(): number {
    return this.#rv;
  }

  /** The current emulated time as an RFC 3339 stamp. */
  timestamp(offsetMs = 0): string {
    return rfc3339(this.epochMs, this.clock.now() + offsetMs);
  }

  /** An object, frozen, or undefined. */
  get(resource: string, namespace: string, name: string): KubeObject | undefined {
    return this.#objects.get(resource)?.get(`${namespace}/${name}`);
  }

  /** Objects of a resource (in one namespace, or all when namespace is ""), frozen, in key order (namespace, then name). */
  list(resource: string, namespace = ""): KubeObject[] {
    const m = this.#objects.get(resource);
    if (m === undefined) return [];
    const out: KubeObject[] = [];
    for (const [k, v] of m) if (namespace === "" || k.startsWith(`${namespace}/`)) out.push(v);
    return out.sort((a, b) => cmpKey(a, b));
  }

  /**
   * Stores a new object: a name from generateName when it has none, a uid,
   * creationTimestamp, generation 1 (kinds that track it) and the next
   * resourceVersion. Throws AlreadyExists.
   */
  create(resource: string, obj: KubeObject): KubeObject {
    const info = infoOf(resource);
    const o = clone(obj);
    const meta = o.metadata;
    const ns = meta.namespace ?? "";
    let m = this.#objects.get(resource);
    if (m === undefined) this.#objects.set(resource, (m = new Map()));
    if ((meta.name === undefined || meta.name === "") && meta.generateName !== undefined) {
      const prefix = meta.generateName.slice(0, MAX_GENERATE_PREFIX);
      // Like the API server: a few tries when a generated name is taken.
      for (let i = 0; i < 8; i++) {
        meta.name = prefix + randomSuffix(this.rng);
        if (!m.has(`${ns}/${meta.name}`)) break;
      }
    }
    const name = meta.name ?? "";
    if (m.has(`${ns}/${name}`)) throw alreadyExists(info, name);
    meta.uid = uuid(this.rng);
    meta.creationTimestamp = this.timestamp();
    if (GENERATION_KINDS.has(o.kind)) meta.generation = 1;
    else delete meta.generation;
    delete meta.deletionTimestamp;
    const stored = this.#commit("ADDED", resource, o, undefined);
    m.set(`${ns}/${name}`, stored);
    return stored;
  }

  /**
   * Replaces an object. A resourceVersion in the new object must be the
   * current one (else Conflict); none means unconditional. System fields
   * (uid, creationTimestamp, deletionTimestamp) are kept; generation bumps
   * when the spec changed. A no-op update writes nothing. An object being
   * deleted whose last finalizer is removed is deleted.
   */
  update(resource: string, obj: KubeObject): KubeObject {
    const info = infoOf(resource);
    const ns = obj.metadata.namespace ?? "";
    const name = obj.metadata.name ?? "";
    const old = this.get(resource, ns, name);
    if (old === undefined) throw notFound(info, name);
    const rv = obj.metadata.resourceVersion;
    if (rv !== undefined && rv !== "" && rv !== old.metadata.resourceVersion) throw conflict(info, name);
    if (obj.metadata.uid !== undefined && obj.metadata.uid !== old.metadata.uid)
      throw conflict(info, name, `Precondition failed: UID in precondition: ${obj.metadata.uid}, UID in object meta: ${old.metadata.uid}`);
    const o = clone(obj);
    const meta = o.metadata;
    meta.uid = old.metadata.uid!;
    meta.creationTimestamp = old.metadata.creationTimestamp!;
    if (old.metadata.deletionTimestamp !== undefined) meta.deletionTimestamp = old.metadata.deletionTimestamp;
    else delete meta.deletionTimestamp;
    if (old.metadata["deletionGracePeriodSeconds"] !== undefined) meta["deletionGracePeriodSeconds"] = old.metadata["deletionGracePeriodSeconds"];
    if (old.metadata.generation !== undefined) meta.generation = old.metadata.generation;
    else delete meta.generation;
    meta.resourceVersion = old.metadata.resourceVersion!;
    if (jsonEqual(o, old)) return old;
    if (meta.generation !== undefined && !jsonEqual(specOf(o), specOf(old))) meta.generation++;
    // An object being deleted goes once nothing holds it any more.
    if (meta.deletionTimestamp !== undefined && !held(o)) return this.remove(resource, ns, name, o);
    const stored = this.#commit("MODIFIED", resource, o, old);
    this.#objects.get(resource)!.set(`${ns}/${name}`, stored);
    return stored;
  }

  /**
   * Marks an object for deletion: sets deletionTimestamp (now + grace),
   * deletionGracePeriodSeconds and extra finalizers. Deletes it at once
   * when nothing holds it (no finalizers and no grace period).
   */
  markDeleted(resource: string, namespace: string, name: string, options: { finalizers?: readonly string[]; graceSeconds?: number } = {}): KubeObject {
    const old = this.get(resource, namespace, name);
    if (old === undefined) throw notFound(infoOf(resource), name);
    const finalizers = [...(old.metadata.finalizers ?? [])];
    for (const f of options.finalizers ?? []) if (!finalizers.includes(f)) finalizers.push(f);
    const grace = options.graceSeconds ?? 0;
    if (finalizers.length === 0 && grace === 0 && !held(old)) return this.remove(resource, namespace, name);
    const o = clone(old);
    if (finalizers.length > 0) o.metadata.finalizers = finalizers;
    const prevGrace = old.metadata["deletionGracePeriodSeconds"] as number | undefined;
    if (old.metadata.deletionTimestamp === undefined || (grace > 0 && (prevGrace === undefined || grace < prevGrace))) {
      o.metadata.deletionTimestamp = this.timestamp(grace * 1000);
      if (grace > 0 || prevGrace !== undefined) o.metadata["deletionGracePeriodSeconds"] = grace;
      if (o.metadata.generation !== undefined) o.metadata.generation++;
    }
    if (jsonEqual(o, old)) return old;
    const stored = this.#commit("MODIFIED", resource, o, old);
    this.#objects.get(resource)!.set(`${namespace}/${name}`, stored);
    return stored;
  }

  /** Deletes an object now, whatever its finalizers. Returns it as deleted (with the deletion's resourceVersion). */
  remove(resource: string, namespace: string, name: string, last?: KubeObject): KubeObject {
    const old = this.get(resource, namespace, name);
    if (old === undefined) throw notFound(infoOf(resource), name);
    this.#objects.get(resource)!.delete(`${namespace}/${name}`);
    return this.#commit("DELETED", resource, clone(last ?? old), old);
  }

  /**
   * Calls `cb` synchronously for every change committed from now on to a
   * resource (all resources when undefined) in a namespace ("" for all).
   * With `fromRV`, first replays the history after that version; a version
   * older than the history throws 410 Expired. Callbacks must not write.
   */
  watch(resource: string | undefined, namespace: string, fromRV: number | undefined, cb: (e: StoreEvent) => void): () => void {
    if (fromRV !== undefined && fromRV < this.#compacted) throw expired(`too old resource version: ${fromRV} (${this.#compacted})`);
    const w: Watcher = { resource, namespace, cb };
    if (fromRV !== undefined) for (const e of this.#history.slice(this.#historyStart)) if (e.rv > fromRV && this.#wants(w, e)) cb(e);
    this.#watchers.push(w);
    return () => {
      this.#watchers = this.#watchers.filter((x) => x !== w);
    };
  }

  /** The changes after a resourceVersion still held by the history (throws 410 Expired when older). */
  since(fromRV: number): StoreEvent[] {
    if (fromRV < this.#compacted) throw expired(`too old resource version: ${fromRV} (${this.#compacted})`);
    return this.#history.slice(this.#historyStart).filter((e) => e.rv > fromRV);
  }

  #wants(w: Watcher, e: StoreEvent): boolean {
    return (w.resource === undefined || w.resource === e.resource) && (w.namespace === "" || w.namespace === (e.object.metadata.namespace ?? ""));
  }

  #commit(type: StoreEvent["type"], resource: string, o: KubeObject, old: KubeObject | undefined): KubeObject {
    o.metadata.resourceVersion = String(++this.#rv);
    const stored = deepFreeze(o);
    const e: StoreEvent = { type, resource, object: stored, rv: this.#rv };
    if (old !== undefined) e.old = old;
    deepFreeze(e);
    this.#history.push(e);
    if (this.#history.length - this.#historyStart > this.#historySize) {
      this.#compacted = this.#history[this.#historyStart]!.rv;
      this.#historyStart++;
      if (this.#historyStart > 1024 && this.#historyStart * 2 > this.#history.length) {
        this.#history = this.#history.slice(this.#historyStart);
        this.#historyStart = 0;
      }
    }
    for (const w of [...this.#watchers]) if (this.#wants(w, e) && this.#watchers.includes(w)) w.cb(e);
    return stored;
  }
}

/**
 * What keeps an object being deleted: finalizers, a grace period (a
 * terminating pod, until its kubelet deletes it with grace 0), or a
 * namespace's spec.finalizers (until the namespace controller empties it).
 */
function held(o: KubeObject): boolean {
  if ((o.metadata.finalizers ?? []).length > 0) return true;
  if (((o.metadata["deletionGracePeriodSeconds"] as number | undefined) ?? 0) > 0) return true;
  return o.kind === "Namespace" && (((o.spec as { finalizers?: string[] } | undefined)?.finalizers ?? []).length > 0);
}

function specOf(o: KubeObject): unknown {
  return o.spec;
}

function infoOf(resource: string): ResourceInfo | string {
  return resourceForName(resource) ?? resource;
}

function cmpKey(a: KubeObject, b: KubeObject): number {
  const na = a.metadata.namespace ?? "";
  const nb = b.metadata.namespace ?? "";
  if (na !== nb) return na < nb ? -1 : 1;
  const ma = a.metadata.name ?? "";
  const mb = b.metadata.name ?? "";
  return ma < mb ? -1 : ma > mb ? 1 : 0;
}
