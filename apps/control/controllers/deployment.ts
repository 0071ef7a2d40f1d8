/**
 * The Deployment controller: one ReplicaSet per pod template, named
 * `<deployment>-<pod-template-hash>`; rolling updates within maxSurge and
 * maxUnavailable (or Recreate), proportional scaling, revision history
 * cleanup, and status with the Available and Progressing conditions, as
 * `pkg/controller/deployment` does them.
 */
import type { Deployment, KubeObject, Pod, PodTemplateSpec, ReplicaSet } from "@kemu/api";
import { SAFE_ALPHABET, canonicalJson, clone, jsonEqual, parseTime } from "../_meta.ts";
import { fromLabelSelector, matches } from "../selector.ts";
import type { ApiServer } from "../server.ts";
import { recordEvent } from "./_events.ts";
import { controllerRef, createdKey, ownerRefTo } from "./_pods.ts";
import { type Controller, WorkQueue, keyOf, splitKey } from "./_queue.ts";

const SOURCE = { component: "deployment-controller" };
const HASH_LABEL = "pod-template-hash";
const REVISION = "deployment.kubernetes.io/revision";
const DESIRED = "deployment.kubernetes.io/desired-replicas";
const MAX = "deployment.kubernetes.io/max-replicas";

/** 32-bit FNV-1a of a string's UTF-8 bytes. */
export function fnv32a(text: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(text)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** `rand.SafeEncodeString`: each byte mapped onto the vowel-free alphabet. */
export function safeEncode(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) out += SAFE_ALPHABET[s.charCodeAt(i) % SAFE_ALPHABET.length];
  return out;
}

/**
 * The pod-template-hash of a template: FNV-32a, safe-encoded from its
 * decimal text, as `controller.ComputeHash`. The hashed bytes are the
 * template's canonical JSON (Kubernetes hashes a Go dump of the struct), so
 * the value has the real form but not the real digits.
 */
export function podTemplateHash(template: PodTemplateSpec, collisionCount?: number): string {
  let text = canonicalJson(template);
  if (collisionCount !== undefined && collisionCount > 0) text += String(collisionCount);
  return safeEncode(String(fnv32a(text)));
}

function withoutHash(t: PodTemplateSpec): PodTemplateSpec {
  const c = clone(t);
  if (c.metadata?.labels !== undefined) {
    delete c.metadata.labels[HASH_LABEL];
    if (Object.keys(c.metadata.labels).length === 0) delete c.metadata.labels;
  }
  return c;
}

/** `intstr.GetScaledValueFromIntOrPercent`. */
function scaled(v: number | string | undefined, total: number, roundUp: boolean): number {
  if (v === undefined) return 0;
  if (typeof v === "number") return v;
  const pct = Number(v.replace(/%$/, ""));
  const x = (pct * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

/** maxSurge and maxUnavailable of a rolling Deployment, resolved against its replicas (`ResolveFenceposts`). */
export function resolveFenceposts(d: Deployment): { surge: number; unavailable: number } {
  const replicas = d.spec.replicas ?? 1;
  if (d.spec.strategy?.type === "Recreate") return { surge: 0, unavailable: replicas };
  const ru = d.spec.strategy?.rollingUpdate ?? {};
  const surge = scaled(ru.maxSurge ?? "25%", replicas, true);
  let unavailable = scaled(ru.maxUnavailable ?? "25%", replicas, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable: Math.min(unavailable, replicas) };
}

function replicasOf(rs: ReplicaSet | undefined): number {
  return rs?.spec.replicas ?? 0;
}

function revisionOf(o: KubeObject): number {
  const r = Number(o.metadata.annotations?.[REVISION] ?? "0");
  return Number.isFinite(r) ? r : 0;
}

type Condition = NonNullable<NonNullable<Deployment["status"]>["conditions"]>[number] & { lastUpdateTime?: string; lastTransitionTime?: string };

/** Starts the Deployment controller. */
export function startDeploymentController(server: ApiServer): Controller {
  const store = server.store;
  const api = server.direct;
  const queue = new WorkQueue(server.clock, sync);

  const enqueueOwner = (o: KubeObject): void => {
    const ref = controllerRef(o);
    if (ref?.kind === "Deployment") queue.add(keyOf(o.metadata.namespace, ref.name));
  };
  const stops = [
    store.watch("deployments", "", undefined, (e) => queue.add(keyOf(e.object.metadata.namespace, e.object.metadata.name))),
    store.watch("replicasets", "", undefined, (e) => {
      enqueueOwner(e.object);
      if (controllerRef(e.object) === undefined) for (const d of store.list("deployments", e.object.metadata.namespace ?? "")) queue.add(keyOf(d.metadata.namespace, d.metadata.name));
    }),
    store.watch("pods", "", undefined, (e) => {
      // Recreate waits for old pods to go.
      if (e.type !== "DELETED") return;
      const rsRef = controllerRef(e.object);
      if (rsRef?.kind !== "ReplicaSet") return;
      const rs = store.get("replicasets", e.object.metadata.namespace ?? "", rsRef.name);
      if (rs !== undefined) enqueueOwner(rs);
    }),
  ];
  for (const d of store.list("deployments")) queue.add(keyOf(d.metadata.namespace, d.metadata.name));

  function now(): string {
    return server.timestamp();
  }

  function ownedReplicaSets(d: Deployment): ReplicaSet[] {
    const ns = d.metadata.namespace ?? "";
    const sel = fromLabelSelector(d.spec.selector);
    const out: ReplicaSet[] = [];
    for (const rs of store.list("replicasets", ns) as ReplicaSet[]) {
      const ref = controllerRef(rs);
      if (ref?.uid === d.metadata.uid) out.push(rs);
      else if (ref === undefined && sel !== undefined && sel.length > 0 && matches(sel, rs.metadata.labels) && d.metadata.deletionTimestamp === undefined) {
        const o = clone(rs);
        o.metadata.ownerReferences = [...(o.metadata.ownerReferences ?? []), ownerRefTo(d)];
        out.push(api.update<ReplicaSet>("replicasets", ns, o));
      }
    }
    return out.sort((a, b) => (createdKey(a) < createdKey(b) ? -1 : createdKey(a) > createdKey(b) ? 1 : 0));
  }

  function scaleRS(d: Deployment, rs: ReplicaSet, replicas: number, verb?: "up" | "down"): ReplicaSet {
    const { surge } = resolveFenceposts(d);
    const desired = String(d.spec.replicas ?? 1);
    const max = String((d.spec.replicas ?? 1) + surge);
    const cur = replicasOf(rs);
    const ann = rs.metadata.annotations ?? {};
    if (cur === replicas && ann[DESIRED] === desired && ann[MAX] === max) return rs;
    const o = clone(rs);
    o.spec.replicas = replicas;
    o.metadata.annotations = { ...ann, [DESIRED]: desired, [MAX]: max };
    const updated = api.update<ReplicaSet>("replicasets", rs.metadata.namespace ?? "", o);
    if (cur !== replicas) {
      const dir = verb ?? (replicas > cur ? "up" : "down");
      recordEvent(server, { involved: d, type: "Normal", reason: "ScalingReplicaSet", message: `Scaled ${dir} replica set ${rs.metadata.name} from ${cur} to ${replicas}`, source: SOURCE });
    }
    return updated;
  }

  /** The ReplicaSet for the current template, created when `create` (with its first size). */
  function newReplicaSet(d: Deployment, all: ReplicaSet[], create: boolean): { rs: ReplicaSet | undefined; created: boolean } {
    const template = withoutHash(d.spec.template);
    const existing = all.find((rs) => jsonEqual(withoutHash(rs.spec.template), template));
    const maxOldRevision = Math.max(0, ...all.filter((r) => r !== existing).map(revisionOf));
    const revision = String(maxOldRevision + 1);
    if (existing !== undefined) {
      // Keep the revision annotation current (an old template coming back gets the next revision).
      if (revisionOf(existing) <= maxOldRevision && all.length > 1) {
        const o = clone(existing);
        o.metadata.annotations = { ...(o.metadata.annotations ?? {}), [REVISION]: revision };
        return { rs: api.update<ReplicaSet>("replicasets", existing.metadata.namespace ?? "", o), created: false };
      }
      return { rs: existing, created: false };
    }
    if (!create) return { rs: undefined, created: false };
    let collisions = (d.status as { collisionCount?: number } | undefined)?.collisionCount ?? 0;
    for (let attempt = 0; attempt < 10; attempt++) {
      const hash = podTemplateHash(d.spec.template, collisions);
      const t = clone(d.spec.template);
      t.metadata ??= {};
      t.metadata.labels = { ...(t.metadata.labels ?? {}), [HASH_LABEL]: hash };
      const selector = clone(d.spec.selector);
      selector.matchLabels = { ...(selector.matchLabels ?? {}), [HASH_LABEL]: hash };
      const { surge } = resolveFenceposts(d);
      const replicas = newRSReplicas(d, all, undefined);
      const rs: ReplicaSet = {
        apiVersion: "apps/v1",
        kind: "ReplicaSet",
        metadata: {
          name: `${d.metadata.name}-${hash}`,
          namespace: d.metadata.namespace ?? "",
          labels: clone(t.metadata.labels),
          annotations: { [DESIRED]: String(d.spec.replicas ?? 1), [MAX]: String((d.spec.replicas ?? 1) + surge), [REVISION]: revision },
          ownerReferences: [ownerRefTo(d)],
        },
        spec: { replicas, selector, template: t },
      };
      if (d.spec["minReadySeconds"] !== undefined) rs.spec["minReadySeconds"] = d.spec["minReadySeconds"];
      const clash = store.get("replicasets", d.metadata.namespace ?? "", rs.metadata.name ?? "");
      if (clash !== undefined) {
        collisions++;
        continue;
      }
      const created = api.create<ReplicaSet>("replicasets", d.metadata.namespace ?? "", rs);
      if (replicas > 0) recordEvent(server, { involved: d, type: "Normal", reason: "ScalingReplicaSet", message: `Scaled up replica set ${created.metadata.name} from 0 to ${replicas}`, source: SOURCE });
      if (collisions > 0) setCollisionCount(d, collisions);
      return { rs: created, created: true };
    }
    return { rs: undefined, created: false };
  }

  function setCollisionCount(d: Deployment, n: number): void {
    const cur = store.get("deployments", d.metadata.namespace ?? "", d.metadata.name ?? "") as Deployment | undefined;
    if (cur === undefined) return;
    const o = clone(cur);
    o.status = { ...(o.status ?? {}), collisionCount: n } as NonNullable<Deployment["status"]>;
    api.updateStatus("deployments", d.metadata.namespace ?? "", o);
  }

  /** `NewRSNewReplicas` for RollingUpdate; Recreate wants all replicas at once. */
  function newRSReplicas(d: Deployment, all: ReplicaSet[], newRS: ReplicaSet | undefined): number {
    const replicas = d.spec.replicas ?? 1;
    if (d.spec.strategy?.type === "Recreate") return replicas;
    const { surge } = resolveFenceposts(d);
    const current = all.reduce((a, rs) => a + replicasOf(rs), 0);
    const maxTotal = replicas + surge;
    if (current >= maxTotal) return replicasOf(newRS);
    const up = Math.min(maxTotal - current, replicas - replicasOf(newRS));
    return replicasOf(newRS) + Math.max(0, up);
  }

  function sync(key: string): void {
    const [ns, name] = splitKey(key);
    let d = store.get("deployments", ns, name) as Deployment | undefined;
    if (d === undefined) return;
    const all = ownedReplicaSets(d);
    if (d.metadata.deletionTimestamp !== undefined) {
      syncStatus(d, all, undefined, false);
      return;
    }
    const paused = d.spec["paused"] === true;
    let { rs: newRS, created } = newReplicaSet(d, all, !paused && d.spec.strategy?.type !== "Recreate");
    let rsList = ownedReplicaSets(d);
    const oldRSs = (): ReplicaSet[] => rsList.filter((rs) => rs.metadata.uid !== newRS?.metadata.uid);
    // Mirror the new ReplicaSet's revision on the Deployment.
    if (newRS !== undefined && d.metadata.annotations?.[REVISION] !== newRS.metadata.annotations?.[REVISION]) {
      const o = clone(d);
      o.metadata.annotations = { ...(o.metadata.annotations ?? {}), [REVISION]: newRS.metadata.annotations?.[REVISION] ?? "1" };
      d = api.update<Deployment>("deployments", ns, o);
    }
    if (isScalingEvent(d, rsList) || paused) {
      scale(d, newRS, oldRSs());
      syncStatus(d, ownedReplicaSets(d), newRS, created);
      return;
    }
    if (d.spec.strategy?.type === "Recreate") {
      let changed = false;
      for (const rs of oldRSs()) if (replicasOf(rs) > 0) {
        scaleRS(d, rs, 0);
        changed = true;
      }
      if (!changed) {
        const oldRunning = oldRSs().some((rs) =>
          (store.list("pods", ns) as Pod[]).some((p) => controllerRef(p)?.uid === rs.metadata.uid && p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed"),
        );
        if (!oldRunning) {
          if (newRS === undefined) {
            ({ rs: newRS, created } = newReplicaSet(d, rsList, true));
            rsList = ownedReplicaSets(d);
          } else if (replicasOf(newRS) !== (d.spec.replicas ?? 1)) scaleRS(d, newRS, d.spec.replicas ?? 1);
        }
      }
    } else if (newRS !== undefined) {
      rollRolling(d, newRS, oldRSs());
    }
    rsList = ownedReplicaSets(d);
    newRS = rsList.find((rs) => rs.metadata.uid === newRS?.metadata.uid);
    const complete = syncStatus(d, rsList, newRS, created);
    if (complete) cleanup(d, oldRSs());
  }

  function rollRolling(d: Deployment, newRS: ReplicaSet, olds: ReplicaSet[]): void {
    const replicas = d.spec.replicas ?? 1;
    const all = [...olds, newRS];
    // reconcileNewReplicaSet
    if (replicasOf(newRS) > replicas) {
      scaleRS(d, newRS, replicas);
      return;
    }
    if (replicasOf(newRS) < replicas) {
      const want = newRSReplicas(d, all, newRS);
      if (want !== replicasOf(newRS)) {
        scaleRS(d, newRS, want);
        return;
      }
    }
    // reconcileOldReplicaSets
    const oldCount = olds.reduce((a, rs) => a + replicasOf(rs), 0);
    if (oldCount === 0) return;
    const allCount = all.reduce((a, rs) => a + replicasOf(rs), 0);
    const { unavailable } = resolveFenceposts(d);
    const minAvailable = replicas - unavailable;
    const newUnavailable = replicasOf(newRS) - (newRS.status?.availableReplicas ?? 0);
    const maxScaledDown = allCount - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return;
    // cleanupUnhealthyReplicas: old pods that are not available go first.
    let cleaned = 0;
    const current = new Map(olds.map((rs) => [rs.metadata.uid, rs]));
    for (const rs of olds) {
      if (cleaned >= maxScaledDown) break;
      const avail = rs.status?.availableReplicas ?? 0;
      if (replicasOf(rs) === avail) continue;
      const down = Math.min(maxScaledDown - cleaned, replicasOf(rs) - avail);
      if (down <= 0) continue;
      current.set(rs.metadata.uid, scaleRS(d, rs, replicasOf(rs) - down));
      cleaned += down;
    }
    // scaleDownOldReplicaSetsForRollingUpdate
    const oldNow = olds.map((rs) => current.get(rs.metadata.uid) ?? rs);
    const availableAll = [...oldNow, newRS].reduce((a, rs) => a + (rs.status?.availableReplicas ?? 0), 0);
    if (availableAll <= minAvailable) return;
    let total = availableAll - minAvailable;
    for (const rs of oldNow) {
      if (total <= 0) break;
      if (replicasOf(rs) === 0) continue;
      const down = Math.min(replicasOf(rs), total);
      scaleRS(d, rs, replicasOf(rs) - down);
      total -= down;
    }
  }

  function isScalingEvent(d: Deployment, rsList: ReplicaSet[]): boolean {
    const desired = String(d.spec.replicas ?? 1);
    return rsList.some((rs) => replicasOf(rs) > 0 && rs.metadata.annotations?.[DESIRED] !== undefined && rs.metadata.annotations[DESIRED] !== desired);
  }

  /** Proportional scaling (`dc.scale`). */
  function scale(d: Deployment, newRS: ReplicaSet | undefined, olds: ReplicaSet[]): void {
    const replicas = d.spec.replicas ?? 1;
    const active = [...olds, ...(newRS ? [newRS] : [])].filter((rs) => replicasOf(rs) > 0);
    if (active.length <= 1) {
      const target = active[0] ?? newRS ?? [...olds].sort((a, b) => revisionOf(b) - revisionOf(a))[0];
      if (target !== undefined) scaleRS(d, target, replicas);
      return;
    }
    if (newRS !== undefined && replicasOf(newRS) === replicas && (newRS.status?.availableReplicas ?? 0) === replicas) {
      for (const rs of olds) if (replicasOf(rs) > 0) scaleRS(d, rs, 0);
      return;
    }
    const { surge } = resolveFenceposts(d);
    const allowed = replicas > 0 ? replicas + surge : 0;
    const current = active.reduce((a, rs) => a + replicasOf(rs), 0);
    let toAdd = allowed - current;
    if (toAdd === 0) {
      for (const rs of active) scaleRS(d, rs, replicasOf(rs));
      return;
    }
    // Bigger (and on scale-up newer) ReplicaSets first, each its share of the change.
    const order = [...active].sort((a, b) => replicasOf(b) - replicasOf(a) || (toAdd > 0 ? revisionOf(b) - revisionOf(a) : revisionOf(a) - revisionOf(b)));
    const sizes = new Map<string | undefined, number>();
    let given = 0;
    for (const rs of order) {
      const share = current > 0 ? Math.trunc((replicasOf(rs) * toAdd) / current) : 0;
      const add = toAdd > 0 ? Math.min(share, toAdd - given) : Math.max(share, toAdd - given);
      sizes.set(rs.metadata.uid, replicasOf(rs) + add);
      given += add;
    }
    const first = order[0]!;
    sizes.set(first.metadata.uid, Math.max(0, (sizes.get(first.metadata.uid) ?? 0) + (toAdd - given)));
    toAdd = 0;
    for (const rs of order) scaleRS(d, rs, sizes.get(rs.metadata.uid) ?? replicasOf(rs));
  }

  function cleanup(d: Deployment, olds: ReplicaSet[]): void {
    const limit = (d.spec["revisionHistoryLimit"] as number | undefined) ?? 10;
    const idle = olds
      .filter((rs) => replicasOf(rs) === 0 && (rs.status?.replicas ?? 0) === 0 && rs.metadata.deletionTimestamp === undefined)
      .sort((a, b) => revisionOf(a) - revisionOf(b));
    for (const rs of idle.slice(0, Math.max(0, idle.length - limit))) {
      try {
        api.delete({ resource: "replicasets", namespace: rs.metadata.namespace ?? "", name: rs.metadata.name ?? "" });
      } catch {
        // Gone already.
      }
    }
  }

  function setCondition(conds: Condition[], c: Condition): Condition[] {
    const prev = conds.find((x) => x.type === c.type);
    if (prev !== undefined && prev.status === c.status && prev.reason === c.reason) return conds;
    const next: Condition = { ...c };
    if (prev !== undefined && prev.status === c.status && prev.lastTransitionTime !== undefined) next.lastTransitionTime = prev.lastTransitionTime;
    return [...conds.filter((x) => x.type !== c.type), next];
  }

  /** Writes status and conditions; true when the rollout is complete. */
  function syncStatus(d: Deployment, rsList: ReplicaSet[], newRS: ReplicaSet | undefined, created: boolean): boolean {
    const replicas = d.spec.replicas ?? 1;
    const sum = (f: (rs: ReplicaSet) => number): number => rsList.reduce((a, rs) => a + f(rs), 0);
    const available = sum((rs) => rs.status?.availableReplicas ?? 0);
    const total = sum(replicasOf);
    const status: Record<string, unknown> = {};
    if (d.metadata.generation !== undefined) status["observedGeneration"] = d.metadata.generation;
    const put = (k: string, v: number): void => {
      if (v !== 0) status[k] = v;
    };
    put("replicas", sum((rs) => rs.status?.replicas ?? 0));
    put("updatedReplicas", newRS?.status?.replicas ?? 0);
    put("readyReplicas", sum((rs) => rs.status?.readyReplicas ?? 0));
    put("availableReplicas", available);
    put("unavailableReplicas", Math.max(0, total - available));
    const old = (d.status ?? {}) as Record<string, unknown>;
    if (old["collisionCount"] !== undefined) status["collisionCount"] = old["collisionCount"];
    const t = now();
    let conds = ((old["conditions"] as Condition[] | undefined) ?? []).map((c) => ({ ...c }));
    const { unavailable } = resolveFenceposts(d);
    conds = setCondition(
      conds,
      available >= replicas - unavailable
        ? { type: "Available", status: "True", reason: "MinimumReplicasAvailable", message: "Deployment has minimum availability.", lastUpdateTime: t, lastTransitionTime: t }
        : { type: "Available", status: "False", reason: "MinimumReplicasUnavailable", message: "Deployment does not have minimum availability.", lastUpdateTime: t, lastTransitionTime: t },
    );
    const rsName = newRS?.metadata.name ?? "";
    const complete =
      newRS !== undefined &&
      (newRS.status?.replicas ?? 0) === replicas &&
      (status["replicas"] ?? 0) === replicas &&
      available === replicas &&
      (newRS.status?.availableReplicas ?? 0) === replicas &&
      (d.metadata.generation ?? 0) <= (status["observedGeneration"] as number);
    const deadline = d.spec["progressDeadlineSeconds"] as number | undefined;
    if (deadline !== undefined && newRS !== undefined) {
      const prog = conds.find((c) => c.type === "Progressing");
      const progressed =
        ((status["updatedReplicas"] as number | undefined) ?? 0) > ((old["updatedReplicas"] as number | undefined) ?? 0) ||
        ((status["replicas"] as number | undefined) ?? 0) < ((old["replicas"] as number | undefined) ?? 0) ||
        ((status["readyReplicas"] as number | undefined) ?? 0) > ((old["readyReplicas"] as number | undefined) ?? 0) ||
        available > ((old["availableReplicas"] as number | undefined) ?? 0);
      if (complete) {
        conds = setCondition(conds, { type: "Progressing", status: "True", reason: "NewReplicaSetAvailable", message: `ReplicaSet "${rsName}" has successfully progressed.`, lastUpdateTime: t, lastTransitionTime: t });
      } else if (created) {
        conds = setCondition(conds, { type: "Progressing", status: "True", reason: "NewReplicaSetCreated", message: `Created new replica set "${rsName}"`, lastUpdateTime: t, lastTransitionTime: t });
      } else if (prog === undefined) {
        conds = setCondition(conds, { type: "Progressing", status: "True", reason: "FoundNewReplicaSet", message: `Found new replica set "${rsName}"`, lastUpdateTime: t, lastTransitionTime: t });
      } else if (progressed || prog.reason === "NewReplicaSetAvailable") {
        const c: Condition = { type: "Progressing", status: "True", reason: "ReplicaSetUpdated", message: `ReplicaSet "${rsName}" is progressing.`, lastUpdateTime: t, lastTransitionTime: t };
        if (prog.status === "True" && prog.lastTransitionTime !== undefined) c.lastTransitionTime = prog.lastTransitionTime;
        conds = [...conds.filter((x) => x.type !== "Progressing"), c];
      } else if (prog.status === "True") {
        const since = parseTime(store.epochMs, prog.lastUpdateTime) ?? server.clock.now();
        const left = since + deadline * 1000 - server.clock.now();
        if (left <= 0)
          conds = setCondition(conds, { type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded", message: `ReplicaSet "${rsName}" has timed out progressing.`, lastUpdateTime: t, lastTransitionTime: t });
        else queue.addAfter(keyOf(d.metadata.namespace, d.metadata.name), left + 1);
      }
    }
    status["conditions"] = conds;
    const cur = store.get("deployments", d.metadata.namespace ?? "", d.metadata.name ?? "") as Deployment | undefined;
    if (cur !== undefined && !jsonEqual(cur.status ?? {}, status)) {
      const o = clone(cur);
      o.status = status as NonNullable<Deployment["status"]>;
      api.updateStatus("deployments", d.metadata.namespace ?? "", o);
    }
    return complete;
  }

  return {
    stop() {
      for (const s of stops) s();
      queue.stop();
    },
  };
}
