/**
 * The garbage collector: deletes objects whose owners (ownerReferences)
 * are all gone, drops references to owners that are gone while others
 * remain, and carries out the Foreground (delete dependents, then the owner)
 * and Orphan (release dependents, then delete the owner) propagation
 * policies through their finalizers. Like the pod GC controller, it also
 * force-deletes the pods of a Node object that was deleted.
 */
import type { KubeObject } from "@kemu/api";
import { resourceForKind } from "@kemu/api";
import { clone } from "../_meta.ts";
import type { ApiServer } from "../server.ts";
import { type Controller, WorkQueue } from "./_queue.ts";

/** The finalizer of Foreground deletion. */
export const FOREGROUND = "foregroundDeletion";
/** The finalizer of Orphan deletion. */
export const ORPHAN = "orphan";

type Where = { resource: string; namespace: string; name: string };

function keyOf(w: Where): string {
  return `${w.resource}|${w.namespace}|${w.name}`;
}

function parse(key: string): Where {
  const [resource = "", namespace = "", name = ""] = key.split("|");
  return { resource, namespace, name };
}

/** Starts the garbage collector. */
export function startGarbageCollector(server: ApiServer): Controller {
  const store = server.store;
  const api = server.direct;
  /** Live objects by uid. */
  const byUid = new Map<string, Where>();
  /** Dependents of each owner uid. */
  const dependents = new Map<string, Set<string>>();
  const queue = new WorkQueue(server.clock, sync);

  const index = (resource: string, o: KubeObject, old: KubeObject | undefined, deleted: boolean): void => {
    const w: Where = { resource, namespace: o.metadata.namespace ?? "", name: o.metadata.name ?? "" };
    const k = keyOf(w);
    for (const r of old?.metadata.ownerReferences ?? []) dependents.get(r.uid)?.delete(k);
    if (deleted) {
      byUid.delete(o.metadata.uid ?? "");
      for (const r of o.metadata.ownerReferences ?? []) dependents.get(r.uid)?.delete(k);
      // Its dependents may now be orphans.
      for (const d of dependents.get(o.metadata.uid ?? "") ?? []) queue.add(d);
      return;
    }
    byUid.set(o.metadata.uid ?? "", w);
    for (const r of o.metadata.ownerReferences ?? []) {
      let s = dependents.get(r.uid);
      if (s === undefined) dependents.set(r.uid, (s = new Set()));
      s.add(k);
    }
    if ((o.metadata.ownerReferences ?? []).length > 0) queue.add(k);
    if (o.metadata.deletionTimestamp !== undefined && (o.metadata.finalizers ?? []).some((f) => f === FOREGROUND || f === ORPHAN)) queue.add(k);
    // An owner being deleted in the foreground waits for this dependent.
    for (const r of o.metadata.ownerReferences ?? []) {
      const ow = byUid.get(r.uid);
      if (ow !== undefined) queue.add(keyOf(ow));
    }
  };

  for (const info of ["namespaces", "nodes", "pods", "services", "endpoints", "configmaps", "endpointslices", "deployments", "replicasets", "events", "ingresses", "ingressclasses"])
    for (const o of store.list(info)) index(info, o, undefined, false);
  const stop = store.watch(undefined, "", undefined, (e) => {
    index(e.resource, e.object, e.old, e.type === "DELETED");
    if (e.type === "DELETED" && e.resource === "nodes") queue.add(`node|${e.object.metadata.name ?? ""}`);
    if (e.type === "DELETED") for (const r of e.object.metadata.ownerReferences ?? []) {
      const ow = byUid.get(r.uid);
      if (ow !== undefined) queue.add(keyOf(ow));
    }
  });

  /** Pods bound to a node that no longer exists go at once (gcOrphaned). */
  function deletePodsOf(nodeName: string): void {
    if (store.get("nodes", "", nodeName) !== undefined) return;
    for (const p of store.list("pods")) {
      if ((p.spec as { nodeName?: string } | undefined)?.nodeName !== nodeName) continue;
      try {
        api.delete({ resource: "pods", namespace: p.metadata.namespace ?? "", name: p.metadata.name ?? "" }, { gracePeriodSeconds: 0 });
      } catch {
        // Gone already.
      }
    }
  }

  function removeFinalizer(w: Where, o: KubeObject, f: string): void {
    const c = clone(o);
    c.metadata.finalizers = (c.metadata.finalizers ?? []).filter((x) => x !== f);
    if (c.metadata.finalizers.length === 0) delete c.metadata.finalizers;
    api.update(w.resource, w.namespace, c);
  }

  function sync(key: string): void {
    if (key.startsWith("node|")) return deletePodsOf(key.slice(5));
    const w = parse(key);
    const o = store.get(w.resource, w.namespace, w.name);
    if (o === undefined) return;
    const uid = o.metadata.uid ?? "";
    const deps = [...(dependents.get(uid) ?? [])].map(parse).filter((d) => store.get(d.resource, d.namespace, d.name) !== undefined);
    if (o.metadata.deletionTimestamp !== undefined && o.metadata.finalizers?.includes(ORPHAN)) {
      for (const d of deps) {
        const dep = store.get(d.resource, d.namespace, d.name)!;
        const c = clone(dep);
        c.metadata.ownerReferences = (c.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
        if (c.metadata.ownerReferences.length === 0) delete c.metadata.ownerReferences;
        api.update(d.resource, d.namespace, c);
      }
      removeFinalizer(w, store.get(w.resource, w.namespace, w.name)!, ORPHAN);
      return;
    }
    if (o.metadata.deletionTimestamp !== undefined && o.metadata.finalizers?.includes(FOREGROUND)) {
      if (deps.length === 0) {
        removeFinalizer(w, o, FOREGROUND);
        return;
      }
      for (const d of deps) {
        const dep = store.get(d.resource, d.namespace, d.name)!;
        if (dep.metadata.deletionTimestamp !== undefined) continue;
        try {
          api.delete({ resource: d.resource, namespace: d.namespace, name: d.name }, { propagationPolicy: "Foreground" });
        } catch {
          // Gone already.
        }
      }
      return;
    }
    const refs = o.metadata.ownerReferences ?? [];
    if (refs.length === 0) return;
    const dangling: string[] = [];
    for (const r of refs) {
      const ow = byUid.get(r.uid);
      const info = resourceForKind(r.apiVersion, r.kind);
      const owner = ow === undefined ? undefined : store.get(ow.resource, ow.namespace, ow.name);
      const sameScope = info === undefined || !info.namespaced || ow?.namespace === w.namespace;
      if (owner === undefined || owner.metadata.uid !== r.uid || !sameScope) dangling.push(r.uid);
    }
    if (dangling.length === refs.length) {
      if (o.metadata.deletionTimestamp === undefined) api.delete({ resource: w.resource, namespace: w.namespace, name: w.name }, { propagationPolicy: "Background" });
      return;
    }
    if (dangling.length > 0) {
      const c = clone(o);
      c.metadata.ownerReferences = refs.filter((r) => !dangling.includes(r.uid));
      api.update(w.resource, w.namespace, c);
    }
  }

  return {
    stop() {
      stop();
      queue.stop();
    },
  };
}
