import type { KubeObject, ObjectList, WatchEvent } from "./types.ts";

/** A Kubernetes Status, as the API returns it for errors. */
export interface Status {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Failure" | "Success";
  message: string;
  reason: "NotFound" | "AlreadyExists" | "Conflict" | "Invalid" | "BadRequest" | "Forbidden" | "Gone" | "Expired" | "MethodNotAllowed" | "RequestEntityTooLarge" | "Unauthorized" | "InternalError" | "";
  details?: { name?: string; group?: string; kind?: string; causes?: Array<{ reason: string; message: string; field?: string }> };
  code: number;
}

/** What an API call throws: the Status the server answered with. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(readonly status: Status) {
    super(status.message);
  }
  get code(): number {
    return this.status.code;
  }
  get reason(): Status["reason"] {
    return this.status.reason;
  }
}

/** Where an object lives: its resource (plural, e.g. "pods"), namespace ("" for cluster-scoped) and name. */
export interface ObjectRef {
  resource: string;
  namespace: string;
  name: string;
}

/** Options of LIST and WATCH. */
export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  /** For WATCH: events after this version ("" or absent: the current state as ADDED events first). */
  resourceVersion?: string;
}

/** Options of writes. */
export interface WriteOptions {
  /** How unknown fields are treated: Strict (the default of current kubectl) refuses them. */
  fieldValidation?: "Strict" | "Warn" | "Ignore";
  dryRun?: boolean;
  /** Server-side apply's field manager. */
  fieldManager?: string;
}

/** Options of DELETE. */
export interface DeleteOptions {
  /** What happens to dependents (ownerReferences): deleted after (Background, the default), before (Foreground), or kept (Orphan). */
  propagationPolicy?: "Foreground" | "Background" | "Orphan";
  /** Seconds a pod gets to stop (its terminationGracePeriodSeconds when absent; 0 deletes at once). */
  gracePeriodSeconds?: number;
  dryRun?: boolean;
}

/** Patch types. */
export type PatchType = "merge" | "json" | "strategic" | "apply";

/**
 * The Kubernetes API as kemu's agents and kubectl use it. Every method
 * rejects with ApiError carrying the Status the real API server would return.
 * `resource` is the plural name (`pods`, `deployments`).
 */
export interface ApiClient {
  get<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T>;
  list<T extends KubeObject = KubeObject>(resource: string, namespace: string, options?: ListOptions): Promise<ObjectList<T>>;
  create<T extends KubeObject = KubeObject>(resource: string, namespace: string, obj: KubeObject, options?: WriteOptions): Promise<T>;
  update<T extends KubeObject = KubeObject>(resource: string, namespace: string, obj: KubeObject, options?: WriteOptions): Promise<T>;
  /** Replaces only `.status` (the status subresource). */
  updateStatus<T extends KubeObject = KubeObject>(resource: string, namespace: string, obj: KubeObject): Promise<T>;
  patch<T extends KubeObject = KubeObject>(ref: ObjectRef, type: PatchType, patch: unknown, options?: WriteOptions): Promise<T>;
  delete<T extends KubeObject = KubeObject>(ref: ObjectRef, options?: DeleteOptions): Promise<T>;
  /** Streams events until the returned function is called. */
  watch<T extends KubeObject = KubeObject>(resource: string, namespace: string, options: ListOptions, onEvent: (event: WatchEvent<T>) => void): () => void;
}
