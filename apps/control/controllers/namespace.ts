/**
 * The namespace controller: a namespace being deleted (Terminating) is
 * emptied — every object in it deleted — and then removed.
 */
import { RESOURCES } from "@kemu/api";
import type { ApiServer } from "../server.ts";
import { type Controller, WorkQueue } from "./_queue.ts";

/** Starts the namespace controller. */
export function startNamespaceController(server: ApiServer): Controller {
  const store = server.store;
  const queue = new WorkQueue(server.clock, sync);
  const stop = store.watch(undefined, "", undefined, (e) => {
    if (e.resource === "namespaces" && e.object.metadata.deletionTimestamp !== undefined && e.type !== "DELETED") queue.add(e.object.metadata.name ?? "");
    else if (e.type === "DELETED" && e.object.metadata.namespace) {
      const ns = store.get("namespaces", "", e.object.metadata.namespace);
      if (ns?.metadata.deletionTimestamp !== undefined) queue.add(e.object.metadata.namespace);
    }
  });
  for (const ns of store.list("namespaces")) if (ns.metadata.deletionTimestamp !== undefined) queue.add(ns.metadata.name ?? "");

  function sync(name: string): void {
    const ns = store.get("namespaces", "", name);
    if (ns === undefined || ns.metadata.deletionTimestamp === undefined) return;
    let left = 0;
    for (const r of RESOURCES) {
      if (!r.namespaced) continue;
      for (const o of store.list(r.plural, name)) {
        left++;
        if (o.metadata.deletionTimestamp !== undefined) continue;
        try {
          server.direct.delete({ resource: r.plural, namespace: name, name: o.metadata.name ?? "" }, { propagationPolicy: "Background" });
        } catch {
          // Gone already.
        }
      }
    }
    const remaining = RESOURCES.filter((r) => r.namespaced).reduce((a, r) => a + store.list(r.plural, name).length, 0);
    if (left > 0 && remaining > 0) return;
    // Empty: the "kubernetes" finalizer is done, and the namespace goes.
    if (store.get("namespaces", "", name) !== undefined) store.remove("namespaces", "", name);
  }

  return {
    stop() {
      stop();
      queue.stop();
    },
  };
}
