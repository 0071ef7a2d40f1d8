/**
 * The node lifecycle controller: a node whose kubelet stops posting its
 * Ready heartbeat for the grace period (40 s) gets Ready=Unknown
 * ("Kubelet stopped posting node status.") and the unreachable taints; its
 * pods are marked not ready, and evicted once their toleration of the
 * NoExecute taint runs out (300 s by default, from DefaultTolerationSeconds).
 * Nodes also get the taints of their conditions (not-ready, unreachable,
 * unschedulable), as TaintNodesByCondition does.
 */
import type { Node, Pod } from "@kemu/api";
import type { Timer } from "@kemu/kernel";
import { clone, jsonEqual, parseTime } from "../_meta.ts";
import type { ApiServer } from "../server.ts";
import { recordEvent } from "./_events.ts";
import { type Controller, WorkQueue } from "./_queue.ts";

/** Options of the node lifecycle controller. */
export interface NodeLifecycleOptions {
  /** How long a node may go without a heartbeat before it is Unknown (`--node-monitor-grace-period`). Default 40 000 ms. */
  gracePeriodMs?: number;
  /** How long a new node has to post its first status (`--node-startup-grace-period`). Default 60 000 ms. */
  startupGracePeriodMs?: number;
  /** How often heartbeats are checked (`--node-monitor-period`). Default 5 000 ms. */
  monitorPeriodMs?: number;
  /**
   * How long pods stay on a lost node when they do not say (no toleration
   * seconds for the taint). Pods created through the API server carry the
   * default tolerations (ApiServerOptions.defaultTolerationSeconds, 300 s),
   * which decide instead. Default 300 000 ms.
   */
  podEvictionTimeoutMs?: number;
}

type Taint = { key: string; value?: string; effect: string; timeAdded?: string };
type Toleration = { key?: string; operator?: string; value?: string; effect?: string; tolerationSeconds?: number };
type NodeCondition = NonNullable<NonNullable<Node["status"]>["conditions"]>[number];

const NOT_READY = "node.kubernetes.io/not-ready";
const UNREACHABLE = "node.kubernetes.io/unreachable";
const UNSCHEDULABLE = "node.kubernetes.io/unschedulable";
const CONDITION_TAINTS = [NOT_READY, UNREACHABLE, UNSCHEDULABLE];
const SOURCE = { component: "node-controller" };

/** Whether a toleration tolerates a taint (`Toleration.ToleratesTaint`). */
export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect !== undefined && t.effect !== "" && t.effect !== taint.effect) return false;
  if (t.key !== undefined && t.key !== "" && t.key !== taint.key) return false;
  const op = t.operator ?? "Equal";
  if (op === "Exists") return true;
  return (t.value ?? "") === (taint.value ?? "");
}

/** The node's Ready condition. */
export function readyCondition(node: Node): NodeCondition | undefined {
  return node.status?.conditions?.find((c) => c.type === "Ready");
}

/** Starts the node lifecycle controller. */
export function startNodeLifecycleController(server: ApiServer, options: NodeLifecycleOptions = {}): Controller {
  const store = server.store;
  const api = server.direct;
  const grace = options.gracePeriodMs ?? 40_000;
  const startupGrace = options.startupGracePeriodMs ?? 60_000;
  const period = options.monitorPeriodMs ?? 5_000;
  const evictDefault = options.podEvictionTimeoutMs ?? 300_000;
  const now = (): number => server.clock.now();
  const queue = new WorkQueue(server.clock, syncNode);
  /** Evictions already done, by pod uid (one TaintManagerEviction per pod). */
  const evicted = new Set<string>();

  const stops = [
    store.watch("nodes", "", undefined, (e) => {
      if (e.type !== "DELETED") queue.add(e.object.metadata.name ?? "");
    }),
    store.watch("pods", "", undefined, (e) => {
      // A pod landing on a tainted node is checked against its taints.
      const node = (e.object as Pod).spec?.nodeName;
      if (e.type === "ADDED" || (e.type === "MODIFIED" && (e.old as Pod | undefined)?.spec?.nodeName !== node)) if (node) queue.add(node);
    }),
  ];
  let tick: Timer | undefined;
  const monitor = (): void => {
    for (const n of store.list("nodes")) queue.add(n.metadata.name ?? "");
    tick = server.clock.setTimer(period, monitor);
  };
  monitor();

  function syncNode(name: string): void {
    let node = store.get("nodes", "", name) as Node | undefined;
    if (node === undefined) return;
    node = checkHeartbeat(node);
    node = syncTaints(node);
    evict(node);
  }

  function checkHeartbeat(node: Node): Node {
    const ready = readyCondition(node);
    const t = server.timestamp();
    const name = node.metadata.name ?? "";
    if (ready === undefined) {
      const created = parseTime(store.epochMs, node.metadata.creationTimestamp) ?? 0;
      if (now() - created < startupGrace) return node;
      const o = clone(node);
      const status = (o.status ??= {});
      status.conditions = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"].map((type) => ({
        type,
        status: "Unknown" as const,
        reason: "NodeStatusNeverUpdated",
        message: "Kubelet never posted node status.",
        lastHeartbeatTime: node.metadata.creationTimestamp ?? t,
        lastTransitionTime: t,
      }));
      recordEvent(server, { involved: node, type: "Normal", reason: "NodeNotReady", message: `Node ${name} status is now: NodeNotReady`, source: SOURCE });
      return api.updateStatus<Node>("nodes", "", o);
    }
    const beat = parseTime(store.epochMs, ready.lastHeartbeatTime ?? ready.lastTransitionTime) ?? 0;
    const late = now() - beat;
    if (late <= grace) {
      // Check again just after this node's grace runs out.
      queue.addAfter(name, grace - late + 1);
      return node;
    }
    if (ready.status === "Unknown") return node;
    const o = clone(node);
    for (const c of o.status?.conditions ?? []) {
      if (!["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"].includes(c.type)) continue;
      c.status = "Unknown";
      c.reason = "NodeStatusUnknown";
      c.message = "Kubelet stopped posting node status.";
      c.lastTransitionTime = t;
    }
    const updated = api.updateStatus<Node>("nodes", "", o);
    recordEvent(server, { involved: node, type: "Normal", reason: "NodeNotReady", message: `Node ${name} status is now: NodeNotReady`, source: SOURCE });
    markPodsNotReady(name);
    return updated;
  }

  function markPodsNotReady(nodeName: string): void {
    for (const p of store.list("pods") as Pod[]) {
      if (p.spec.nodeName !== nodeName) continue;
      const ready = p.status?.conditions?.find((c) => c.type === "Ready");
      if (ready === undefined || ready.status === "False") continue;
      const o = clone(p);
      const c = o.status!.conditions!.find((x) => x.type === "Ready")!;
      c.status = "False";
      c.lastTransitionTime = server.timestamp();
      try {
        api.updateStatus("pods", p.metadata.namespace ?? "", o);
        recordEvent(server, { involved: p, type: "Warning", reason: "NodeNotReady", message: "Node is not ready", source: SOURCE });
      } catch {
        // The pod went meanwhile.
      }
    }
  }

  function wantedTaints(node: Node): Taint[] {
    const out: Taint[] = [];
    const ready = readyCondition(node);
    const t = server.timestamp();
    if (ready?.status === "False") out.push({ key: NOT_READY, effect: "NoSchedule" }, { key: NOT_READY, effect: "NoExecute", timeAdded: t });
    if (ready?.status === "Unknown") out.push({ key: UNREACHABLE, effect: "NoSchedule" }, { key: UNREACHABLE, effect: "NoExecute", timeAdded: t });
    if (node.spec?.unschedulable === true) out.push({ key: UNSCHEDULABLE, effect: "NoSchedule" });
    return out;
  }

  function syncTaints(node: Node): Node {
    const current = (node.spec?.taints ?? []) as Taint[];
    const wanted = wantedTaints(node);
    const kept = current.filter((c) => !CONDITION_TAINTS.includes(c.key) || wanted.some((w) => w.key === c.key && w.effect === c.effect));
    const added = wanted.filter((w) => !current.some((c) => c.key === w.key && c.effect === w.effect));
    const next = [...kept, ...added];
    if (jsonEqual(next, current)) return node;
    const o = clone(node);
    if (next.length > 0) o.spec.taints = next;
    else delete o.spec.taints;
    return api.update<Node>("nodes", "", o);
  }

  function evict(node: Node): void {
    const name = node.metadata.name ?? "";
    const noExecute = ((node.spec?.taints ?? []) as Taint[]).filter((t) => t.effect === "NoExecute");
    if (noExecute.length === 0) return;
    for (const p of store.list("pods") as Pod[]) {
      if (p.spec.nodeName !== name || p.metadata.deletionTimestamp !== undefined || evicted.has(p.metadata.uid ?? "")) continue;
      const tolerations = (p.spec["tolerations"] as Toleration[] | undefined) ?? [];
      const dueMs = evictionTime(tolerations, noExecute);
      if (dueMs === undefined) continue;
      if (dueMs > now()) {
        queue.addAfter(name, dueMs - now());
        continue;
      }
      evicted.add(p.metadata.uid ?? "");
      recordEvent(server, { involved: p, type: "Normal", reason: "TaintManagerEviction", message: `Marking for deletion Pod ${p.metadata.namespace}/${p.metadata.name}`, source: { component: "taint-eviction-controller" } });
      try {
        api.delete({ resource: "pods", namespace: p.metadata.namespace ?? "", name: p.metadata.name ?? "" });
      } catch {
        // Gone already.
      }
    }
  }

  /**
   * When a pod on a node with NoExecute taints goes: at once when a taint is
   * not tolerated, after the shortest tolerationSeconds of the tolerations
   * that match (counted from the taint's timeAdded), never when they set no
   * limit. A pod without any toleration waits podEvictionTimeoutMs, as
   * before taint-based eviction.
   */
  function evictionTime(tolerations: readonly Toleration[], taints: readonly Taint[]): number | undefined {
    const since = Math.min(...taints.map((t) => parseTime(store.epochMs, t.timeAdded) ?? now()));
    if (tolerations.length === 0) return since + evictDefault;
    const secs: number[] = [];
    for (const taint of taints) {
      const matching = tolerations.filter((t) => tolerates(t, taint));
      if (matching.length === 0) return now();
      for (const t of matching) if (t.tolerationSeconds !== undefined) secs.push(Math.max(0, t.tolerationSeconds));
    }
    return secs.length === 0 ? undefined : since + Math.min(...secs) * 1000;
  }

  return {
    stop() {
      tick?.cancel();
      for (const s of stops) s();
      queue.stop();
    },
  };
}
