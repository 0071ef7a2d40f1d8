/** Pod and owner helpers shared by the controllers (`k8s.io/kubernetes/pkg/api/v1/pod`, `controller_utils.go`). */
import type { KubeObject, OwnerReference, Pod } from "@kemu/api";
import { parseTime } from "../_meta.ts";

/** The owner reference marked controller, if any. */
export function controllerRef(o: KubeObject): OwnerReference | undefined {
  return o.metadata.ownerReferences?.find((r) => r.controller === true);
}

/** An owner reference to `owner`, as controllers set it on what they create (controller and blockOwnerDeletion true). */
export function ownerRefTo(owner: KubeObject): OwnerReference {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name ?? "", uid: owner.metadata.uid ?? "", controller: true, blockOwnerDeletion: true };
}

/** Whether a pod's Ready condition is True. */
export function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

/** Whether a pod still counts (not being deleted, not finished). */
export function isPodActive(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return pod.metadata.deletionTimestamp === undefined && phase !== "Succeeded" && phase !== "Failed";
}

/** Emulated milliseconds since which a pod has been Ready, or undefined. */
export function readySince(pod: Pod, epochMs: number): number | undefined {
  const c = pod.status?.conditions?.find((x) => x.type === "Ready" && x.status === "True");
  if (c === undefined) return undefined;
  return parseTime(epochMs, c.lastTransitionTime) ?? 0;
}

/**
 * Whether a pod is available: Ready for at least minReadySeconds. When it
 * will become so later, `wait` gets the milliseconds left.
 */
export function isPodAvailable(pod: Pod, at: { minReadySeconds: number; nowMs: number; epochMs: number }): { available: boolean; waitMs?: number } {
  const { minReadySeconds, nowMs, epochMs } = at;
  const since = readySince(pod, epochMs);
  if (since === undefined) return { available: false };
  if (minReadySeconds <= 0) return { available: true };
  const left = since + minReadySeconds * 1000 - nowMs;
  return left <= 0 ? { available: true } : { available: false, waitMs: left };
}

/** Creation time ordering key of an object (seconds precision, then name). */
export function createdKey(o: KubeObject): string {
  return `${o.metadata.creationTimestamp ?? ""}/${o.metadata.name ?? ""}`;
}
