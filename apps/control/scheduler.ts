/**
 * The scheduler: binds pending pods that have no node, in the order they
 * came, to a feasible node — not unschedulable, taints tolerated (NoSchedule,
 * NoExecute), nodeSelector and required node affinity matched, host ports
 * free, CPU, memory and pod count within allocatable minus what is already
 * bound — preferring the node with the fewest pods of the same owner, then
 * the fewest pods, then the name. Pods that fit nowhere stay Pending with
 * PodScheduled=False/Unschedulable and the scheduler's message
 * (`0/3 nodes are available: 3 Insufficient cpu. preemption: …`), and a
 * FailedScheduling event.
 */
import type { Node, Pod } from "@kemu/api";
import { clone, jsonEqual } from "./_meta.ts";
import { recordEvent } from "./controllers/_events.ts";
import { controllerRef, isPodActive } from "./controllers/_pods.ts";
import { type Controller, WorkQueue, keyOf, splitKey } from "./controllers/_queue.ts";
import { readyCondition, tolerates } from "./controllers/node_lifecycle.ts";
import { parseQuantity, quantityMilli, quantityValue } from "./quantity.ts";
import type { ApiServer } from "./server.ts";

/** Options of the scheduler. */
export interface SchedulerOptions {
  /** The name pods ask for in spec.schedulerName. Default "default-scheduler". */
  schedulerName?: string;
  /** Retry period of unschedulable pods when nothing else changes (podMaxInUnschedulablePodsDuration is 5 min; kemu retries sooner). Default 10 000 ms. */
  retryMs?: number;
}

type Taint = { key: string; value?: string; effect: string };
type Toleration = { key?: string; operator?: string; value?: string; effect?: string; tolerationSeconds?: number };

/** What a pod asks for: millicores, bytes, and host ports. */
export interface PodRequest {
  milliCPU: number;
  memory: number;
  hostPorts: string[];
}

function quantity(v: string | undefined, milli: boolean): number {
  if (v === undefined) return 0;
  const q = parseQuantity(v);
  if (q === undefined) return 0;
  return milli ? quantityMilli(q) : Math.ceil(quantityValue(q));
}

/** A pod's resource requests as the scheduler counts them: the sum over containers, or the largest init container if bigger. */
export function podRequest(pod: Pod): PodRequest {
  let cpu = 0;
  let mem = 0;
  const hostPorts: string[] = [];
  for (const c of pod.spec.containers ?? []) {
    cpu += quantity(c.resources?.requests?.["cpu"], true);
    mem += quantity(c.resources?.requests?.["memory"], false);
    for (const p of c.ports ?? []) if (p.hostPort) hostPorts.push(`${p.protocol ?? "TCP"}/${(p as { hostIP?: string }).hostIP ?? "0.0.0.0"}/${p.hostPort}`);
  }
  for (const c of pod.spec.initContainers ?? []) {
    cpu = Math.max(cpu, quantity(c.resources?.requests?.["cpu"], true));
    mem = Math.max(mem, quantity(c.resources?.requests?.["memory"], false));
  }
  return { milliCPU: cpu, memory: mem, hostPorts };
}

/** Why a node does not fit, and whether preemption could help (resources) or not (everything else). */
export interface Misfit {
  reasons: string[];
  resolvable: boolean;
}

function effectiveTaints(node: Node): Taint[] {
  const taints = [...((node.spec?.taints ?? []) as Taint[])];
  // A node that is not Ready carries the not-ready taint (TaintNodesByCondition), even before the lifecycle controller adds it.
  const ready = readyCondition(node);
  const key = ready?.status === "Unknown" ? "node.kubernetes.io/unreachable" : ready?.status !== "True" ? "node.kubernetes.io/not-ready" : undefined;
  if (key !== undefined && !taints.some((t) => t.key === key && t.effect === "NoSchedule")) taints.push({ key, effect: "NoSchedule" });
  return taints;
}

function nodeAffinityMatches(pod: Pod, node: Node): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(pod.spec.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const required = (pod.spec["affinity"] as { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: Array<{ matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>; matchFields?: Array<{ key: string; operator: string; values?: string[] }> }> } } } | undefined)?.nodeAffinity
    ?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required === undefined) return true;
  const terms = required.nodeSelectorTerms ?? [];
  return terms.some((t) =>
    [...(t.matchExpressions ?? []).map((e) => ({ e, v: labels[e.key], has: Object.hasOwn(labels, e.key) })), ...(t.matchFields ?? []).map((e) => ({ e, v: e.key === "metadata.name" ? node.metadata.name : undefined, has: e.key === "metadata.name" }))].every(
      ({ e, v, has }) => {
        switch (e.operator) {
          case "In":
            return has && (e.values ?? []).includes(v!);
          case "NotIn":
            return !has || !(e.values ?? []).includes(v!);
          case "Exists":
            return has;
          case "DoesNotExist":
            return !has;
          case "Gt":
            return has && Number(v) > Number(e.values?.[0]);
          case "Lt":
            return has && Number(v) < Number(e.values?.[0]);
          default:
            return false;
        }
      },
    ),
  );
}

/** Starts the scheduler. */
export function startScheduler(server: ApiServer, options: SchedulerOptions = {}): Controller {
  const store = server.store;
  const name = options.schedulerName ?? "default-scheduler";
  const retryMs = options.retryMs ?? 10_000;
  const queue = new WorkQueue(server.clock, schedule);
  /** Pods that did not fit, retried when the cluster changes. */
  const unschedulable = new Set<string>();

  const wants = (p: Pod): boolean => !p.spec?.nodeName && (p.spec?.schedulerName ?? "default-scheduler") === name && p.metadata.deletionTimestamp === undefined && isPodActive(p);
  const retryAll = (): void => {
    for (const k of unschedulable) queue.add(k);
  };
  const stops = [
    store.watch("pods", "", undefined, (e) => {
      const p = e.object as Pod;
      const k = keyOf(p.metadata.namespace, p.metadata.name);
      if (e.type === "DELETED") {
        unschedulable.delete(k);
        // Room freed on a node.
        if (p.spec?.nodeName) retryAll();
        return;
      }
      if (wants(p)) {
        if (e.type === "ADDED" || !unschedulable.has(k)) queue.add(k);
      } else {
        unschedulable.delete(k);
        if (e.type === "MODIFIED" && p.metadata.deletionTimestamp !== undefined && (e.old as Pod | undefined)?.metadata.deletionTimestamp === undefined) retryAll();
      }
    }),
    store.watch("nodes", "", undefined, (e) => {
      if (e.type === "DELETED") return;
      // Heartbeats alone change nothing the scheduler looks at.
      const n = e.object as Node;
      const o = e.old as Node | undefined;
      if (o !== undefined && jsonEqual(o.spec, n.spec) && jsonEqual(o.metadata.labels, n.metadata.labels) && readyCondition(o)?.status === readyCondition(n)?.status && jsonEqual(o.status?.allocatable, n.status?.allocatable)) return;
      retryAll();
    }),
  ];
  for (const p of store.list("pods") as Pod[]) if (wants(p)) queue.add(keyOf(p.metadata.namespace, p.metadata.name));

  function schedule(key: string): void {
    const [ns, podName] = splitKey(key);
    const pod = store.get("pods", ns, podName) as Pod | undefined;
    if (pod === undefined || !wants(pod)) {
      unschedulable.delete(key);
      return;
    }
    const nodes = (store.list("nodes") as Node[]).filter((n) => n.metadata.deletionTimestamp === undefined);
    const bound = (store.list("pods") as Pod[]).filter((p) => p.spec.nodeName && p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed");
    const req = podRequest(pod);
    const misfits = new Map<string, Misfit>();
    const feasible: Node[] = [];
    for (const node of nodes) {
      const m = filter(pod, node, req, bound);
      if (m === undefined) feasible.push(node);
      else misfits.set(node.metadata.name ?? "", m);
    }
    if (feasible.length === 0) {
      fail(pod, nodes.length, misfits);
      unschedulable.add(key);
      queue.addAfter(key, retryMs);
      return;
    }
    const owner = controllerRef(pod)?.uid;
    const score = (n: Node): [number, number, string] => {
      const on = bound.filter((p) => p.spec.nodeName === n.metadata.name);
      return [owner === undefined ? 0 : on.filter((p) => controllerRef(p)?.uid === owner).length, on.length, n.metadata.name ?? ""];
    };
    const best = feasible
      .map((n) => ({ n, s: score(n) }))
      .sort((a, b) => a.s[0] - b.s[0] || a.s[1] - b.s[1] || (a.s[2] < b.s[2] ? -1 : a.s[2] > b.s[2] ? 1 : 0))[0]!.n;
    const nodeName = best.metadata.name ?? "";
    server.direct.bind({ resource: "pods", namespace: ns, name: podName }, nodeName);
    unschedulable.delete(key);
    recordEvent(server, { involved: pod, type: "Normal", reason: "Scheduled", message: `Successfully assigned ${ns}/${podName} to ${nodeName}`, source: { component: name } });
  }

  /** The filter plugins in the default profile's order; undefined when the node fits. */
  function filter(pod: Pod, node: Node, req: PodRequest, bound: Pod[]): Misfit | undefined {
    if (node.spec?.unschedulable === true) {
      const tolerated = ((pod.spec["tolerations"] as Toleration[] | undefined) ?? []).some((t) => tolerates(t, { key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" }));
      if (!tolerated) return { reasons: ["node(s) were unschedulable"], resolvable: false };
    }
    const tolerations = (pod.spec["tolerations"] as Toleration[] | undefined) ?? [];
    for (const taint of effectiveTaints(node)) {
      if (taint.effect !== "NoSchedule" && taint.effect !== "NoExecute") continue;
      if (!tolerations.some((t) => tolerates(t, taint))) return { reasons: [`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ""}}`], resolvable: false };
    }
    if (!nodeAffinityMatches(pod, node)) return { reasons: ["node(s) didn't match Pod's node affinity/selector"], resolvable: false };
    const on = bound.filter((p) => p.spec.nodeName === node.metadata.name);
    if (req.hostPorts.length > 0) {
      const used = new Set(on.flatMap((p) => podRequest(p).hostPorts));
      if (req.hostPorts.some((hp) => used.has(hp))) return { reasons: ["node(s) didn't have free ports for the requested pod ports"], resolvable: true };
    }
    const alloc = node.status?.allocatable ?? node.status?.capacity ?? {};
    const reasons: string[] = [];
    const maxPods = quantity(alloc["pods"] ?? "110", false);
    if (on.length + 1 > maxPods) reasons.push("Too many pods");
    let cpu = 0;
    let mem = 0;
    for (const p of on) {
      const r = podRequest(p);
      cpu += r.milliCPU;
      mem += r.memory;
    }
    if (req.milliCPU > 0 && cpu + req.milliCPU > quantity(alloc["cpu"], true)) reasons.push("Insufficient cpu");
    if (req.memory > 0 && mem + req.memory > quantity(alloc["memory"], false)) reasons.push("Insufficient memory");
    return reasons.length > 0 ? { reasons, resolvable: true } : undefined;
  }

  function fail(pod: Pod, total: number, misfits: Map<string, Misfit>): void {
    const message = unschedulableMessage(total, [...misfits.values()]);
    const cur = store.get("pods", pod.metadata.namespace ?? "", pod.metadata.name ?? "") as Pod;
    const o = clone(cur);
    const status = (o.status ??= {});
    const prev = status.conditions?.find((c) => c.type === "PodScheduled");
    const cond = { type: "PodScheduled" as const, status: "False" as const, lastProbeTime: null, lastTransitionTime: server.timestamp(), reason: "Unschedulable", message };
    if (prev?.status === "False" && prev.lastTransitionTime !== undefined) cond.lastTransitionTime = prev.lastTransitionTime;
    status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== "PodScheduled"), cond];
    if (!jsonEqual(o.status, cur.status)) server.direct.updateStatus("pods", pod.metadata.namespace ?? "", o);
    recordEvent(server, { involved: cur, type: "Warning", reason: "FailedScheduling", message: message, source: { component: name } });
  }

  return {
    stop() {
      for (const s of stops) s();
      queue.stop();
    },
  };
}

/** The scheduler's FitError text: counts of each reason (sorted), then what preemption found. */
export function unschedulableMessage(total: number, misfits: readonly Misfit[]): string {
  if (total === 0) return "no nodes available to schedule pods";
  const counts = new Map<string, number>();
  for (const m of misfits) for (const r of m.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  const reasons = [...counts].map(([r, n]) => `${n} ${r}`).sort();
  let text = `0/${total} nodes are available: ${reasons.join(", ")}.`;
  const pre = new Map<string, number>();
  for (const m of misfits) {
    const r = m.resolvable ? "No preemption victims found for incoming pod" : "Preemption is not helpful for scheduling";
    pre.set(r, (pre.get(r) ?? 0) + 1);
  }
  const preReasons = [...pre].map(([r, n]) => `${n} ${r}`).sort();
  text += ` preemption: 0/${total} nodes are available: ${preReasons.join(", ")}.`;
  return text;
}
