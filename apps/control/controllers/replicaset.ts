/**
 * The ReplicaSet controller: keeps `spec.replicas` pods of a ReplicaSet
 * (named `<rs>-<5 random>`), adopting matching orphans and releasing pods
 * that no longer match, deleting the least valuable pods first on scale-down
 * (unscheduled, then pending, not ready, crowded on a node, ready the
 * shortest time, restarted most, newest), and reporting status.
 */
import type { KubeObject, Pod, ReplicaSet } from "@kemu/api";
import { clone, jsonEqual } from "../_meta.ts";
import { fromLabelSelector, matches } from "../selector.ts";
import type { ApiServer } from "../server.ts";
import { recordEvent } from "./_events.ts";
import { controllerRef, createdKey, isPodActive, isPodAvailable, isPodReady, ownerRefTo, readySince } from "./_pods.ts";
import { type Controller, WorkQueue, keyOf, splitKey } from "./_queue.ts";

/** Options of the ReplicaSet controller. */
export interface ReplicaSetControllerOptions {
  /** Most pods created or deleted per sync (`--concurrent-replicaset-syncs` burst). Default 500. */
  burstReplicas?: number;
}

const SOURCE = { component: "replicaset-controller" };

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/** Orders pods to delete first: the scale-down ranking of `controller.ActivePodsWithRanks`. */
export function podsToDeleteFirst(pods: readonly Pod[], epochMs: number): Pod[] {
  const perNode = new Map<string, number>();
  for (const p of pods) if (p.spec.nodeName) perNode.set(p.spec.nodeName, (perNode.get(p.spec.nodeName) ?? 0) + 1);
  const restarts = (p: Pod): number => (p.status?.containerStatuses ?? []).reduce((a, c) => a + c.restartCount, 0);
  return [...pods].sort((a, b) => {
    const ua = a.spec.nodeName ? 1 : 0;
    const ub = b.spec.nodeName ? 1 : 0;
    if (ua !== ub) return ua - ub;
    const pa = PHASE_RANK[a.status?.phase ?? "Pending"] ?? 0;
    const pb = PHASE_RANK[b.status?.phase ?? "Pending"] ?? 0;
    if (pa !== pb) return pa - pb;
    const ra = isPodReady(a) ? 1 : 0;
    const rb = isPodReady(b) ? 1 : 0;
    if (ra !== rb) return ra - rb;
    const na = a.spec.nodeName ? (perNode.get(a.spec.nodeName) ?? 0) : 0;
    const nb = b.spec.nodeName ? (perNode.get(b.spec.nodeName) ?? 0) : 0;
    if (na !== nb) return nb - na;
    if (ra === 1) {
      const sa = readySince(a, epochMs) ?? 0;
      const sb = readySince(b, epochMs) ?? 0;
      if (sa !== sb) return sb - sa;
    }
    const xa = restarts(a);
    const xb = restarts(b);
    if (xa !== xb) return xb - xa;
    const ca = createdKey(a);
    const cb = createdKey(b);
    return ca < cb ? 1 : ca > cb ? -1 : 0;
  });
}

/** Starts the ReplicaSet controller. */
export function startReplicaSetController(server: ApiServer, options: ReplicaSetControllerOptions = {}): Controller {
  const store = server.store;
  const api = server.direct;
  const burst = options.burstReplicas ?? 500;
  const queue = new WorkQueue(server.clock, sync);

  const enqueueForPod = (pod: KubeObject): void => {
    const ref = controllerRef(pod);
    if (ref !== undefined) {
      if (ref.kind === "ReplicaSet") queue.add(keyOf(pod.metadata.namespace, ref.name));
      return;
    }
    for (const rs of store.list("replicasets", pod.metadata.namespace ?? "")) {
      const sel = fromLabelSelector((rs as ReplicaSet).spec?.selector);
      if (sel !== undefined && sel.length > 0 && matches(sel, pod.metadata.labels)) queue.add(keyOf(rs.metadata.namespace, rs.metadata.name));
    }
  };

  const stops = [
    store.watch("replicasets", "", undefined, (e) => queue.add(keyOf(e.object.metadata.namespace, e.object.metadata.name))),
    store.watch("pods", "", undefined, (e) => {
      enqueueForPod(e.object);
      if (e.old !== undefined && !jsonEqual(e.old.metadata.labels, e.object.metadata.labels)) enqueueForPod(e.old);
    }),
  ];
  for (const rs of store.list("replicasets")) queue.add(keyOf(rs.metadata.namespace, rs.metadata.name));

  function sync(key: string): void {
    const [ns, name] = splitKey(key);
    const rs = store.get("replicasets", ns, name) as ReplicaSet | undefined;
    if (rs === undefined) return;
    const selector = fromLabelSelector(rs.spec.selector);
    const uid = rs.metadata.uid;
    const owned: Pod[] = [];
    for (const p of store.list("pods", ns) as Pod[]) {
      const ref = controllerRef(p);
      const selected = selector !== undefined && selector.length > 0 && matches(selector, p.metadata.labels);
      if (ref?.uid === uid) {
        if (selected || p.metadata.deletionTimestamp !== undefined) owned.push(p);
        else if (rs.metadata.deletionTimestamp === undefined) release(p);
      } else if (ref === undefined && selected && p.metadata.deletionTimestamp === undefined && rs.metadata.deletionTimestamp === undefined) {
        const adopted = adopt(p, rs);
        if (adopted !== undefined) owned.push(adopted);
      }
    }
    let active = owned.filter(isPodActive);
    const want = rs.spec.replicas ?? 1;
    if (rs.metadata.deletionTimestamp === undefined) {
      const diff = active.length - want;
      if (diff < 0) {
        for (let i = 0; i < Math.min(-diff, burst); i++) {
          const pod = createPod(rs);
          recordEvent(server, { involved: rs, type: "Normal", reason: "SuccessfulCreate", message: `Created pod: ${pod.metadata.name}`, source: SOURCE });
        }
      } else if (diff > 0) {
        for (const p of podsToDeleteFirst(active, store.epochMs).slice(0, Math.min(diff, burst))) {
          try {
            api.delete({ resource: "pods", namespace: ns, name: p.metadata.name ?? "" });
            recordEvent(server, { involved: rs, type: "Normal", reason: "SuccessfulDelete", message: `Deleted pod: ${p.metadata.name}`, source: SOURCE });
          } catch {
            // Already gone.
          }
        }
      }
      active = (store.list("pods", ns) as Pod[]).filter((p) => controllerRef(p)?.uid === uid && isPodActive(p));
    }
    updateStatus(rs, active);
  }

  function adopt(p: Pod, rs: ReplicaSet): Pod | undefined {
    const o = clone(p);
    o.metadata.ownerReferences = [...(o.metadata.ownerReferences ?? []), ownerRefTo(rs)];
    try {
      return api.update<Pod>("pods", p.metadata.namespace ?? "", o);
    } catch {
      return undefined;
    }
  }

  function release(p: Pod): void {
    const o = clone(p);
    o.metadata.ownerReferences = (o.metadata.ownerReferences ?? []).filter((r) => r.uid !== controllerRef(p)?.uid);
    if (o.metadata.ownerReferences.length === 0) delete o.metadata.ownerReferences;
    try {
      api.update("pods", p.metadata.namespace ?? "", o);
    } catch {
      // Retried on the next event.
    }
  }

  function createPod(rs: ReplicaSet): Pod {
    const t = rs.spec.template;
    const meta: Pod["metadata"] = { generateName: `${rs.metadata.name}-`, namespace: rs.metadata.namespace ?? "" };
    if (t.metadata?.labels !== undefined) meta.labels = clone(t.metadata.labels);
    if (t.metadata?.annotations !== undefined) meta.annotations = clone(t.metadata.annotations);
    if (t.metadata?.finalizers !== undefined) meta.finalizers = clone(t.metadata.finalizers);
    meta.ownerReferences = [ownerRefTo(rs)];
    return api.create<Pod>("pods", rs.metadata.namespace ?? "", { apiVersion: "v1", kind: "Pod", metadata: meta, spec: clone(t.spec) });
  }

  function updateStatus(rs: ReplicaSet, active: Pod[]): void {
    const templateLabels = rs.spec.template?.metadata?.labels ?? {};
    const minReady = (rs.spec["minReadySeconds"] as number | undefined) ?? 0;
    let ready = 0;
    let available = 0;
    let fully = 0;
    let wait: number | undefined;
    for (const p of active) {
      if (Object.entries(templateLabels).every(([k, v]) => p.metadata.labels?.[k] === v)) fully++;
      if (isPodReady(p)) ready++;
      const a = isPodAvailable(p, { minReadySeconds: minReady, nowMs: server.clock.now(), epochMs: store.epochMs });
      if (a.available) available++;
      else if (a.waitMs !== undefined) wait = Math.min(wait ?? Infinity, a.waitMs);
    }
    if (wait !== undefined) queue.addAfter(keyOf(rs.metadata.namespace, rs.metadata.name), wait);
    const status: NonNullable<ReplicaSet["status"]> = { replicas: active.length };
    if (fully > 0) status.fullyLabeledReplicas = fully;
    if (ready > 0) status.readyReplicas = ready;
    if (available > 0) status.availableReplicas = available;
    if (rs.metadata.generation !== undefined) status.observedGeneration = rs.metadata.generation;
    const cur = store.get("replicasets", rs.metadata.namespace ?? "", rs.metadata.name ?? "") as ReplicaSet | undefined;
    if (cur === undefined || jsonEqual(cur.status ?? {}, status)) return;
    const o = clone(cur);
    o.status = status;
    api.updateStatus("replicasets", rs.metadata.namespace ?? "", o);
  }

  return {
    stop() {
      for (const s of stops) s();
      queue.stop();
    },
  };
}
