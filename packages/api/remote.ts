/**
 * The ApiClient across a thread boundary, as protobuf envelopes: a client
 * that sends requests and resolves their responses (and streams watch
 * events), and a server side that answers them from any ApiClient. The
 * transport is two functions: how bytes leave, and calling `receive` with
 * bytes that arrive (postMessage, a ring, a socket…).
 *
 * ```ts
 * // control thread
 * const serving = serveApi(apiServer, (bytes) => worker.postMessage(bytes));
 * worker.on("message", (bytes) => serving.receive(bytes));
 * // node thread
 * const api = new RemoteApiClient((bytes) => parentPort.postMessage(bytes));
 * parentPort.on("message", (bytes) => api.receive(bytes));
 * ```
 */
import { type ApiClient, ApiError, type DeleteOptions, type ListOptions, type ObjectRef, type PatchType, type WriteOptions } from "./client.ts";
import { type ApiMessage, type ApiRequest, decodeEnvelope, encodeEnvelope, requestRef } from "./codec.ts";
import type { KubeObject, ObjectList, WatchEvent } from "./types.ts";

/** An ApiClient whose calls travel as protobuf envelopes. */
export class RemoteApiClient implements ApiClient {
  readonly #send: (bytes: Uint8Array) => void;
  #nextId = 1;
  readonly #calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  readonly #watches = new Map<number, (e: WatchEvent) => void>();

  constructor(send: (bytes: Uint8Array) => void) {
    this.#send = send;
  }

  /** Feeds bytes that arrived from the serving side. */
  receive(bytes: Uint8Array): void {
    const msg = decodeEnvelope(bytes);
    if (msg.type === "event") {
      this.#watches.get(msg.watchId)?.(msg.event);
      return;
    }
    if (msg.type !== "response") return;
    const call = this.#calls.get(msg.id);
    if (call === undefined) return;
    this.#calls.delete(msg.id);
    if (msg.error !== undefined) call.reject(new ApiError(msg.error));
    else call.resolve(msg.object ?? msg.list);
  }

  #call<T>(req: Omit<ApiRequest, "type" | "id">): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#calls.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#send(encodeEnvelope({ type: "request", id, ...req } as ApiRequest));
    });
  }

  get<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T> {
    return this.#call({ method: "get", ...ref });
  }

  list<T extends KubeObject = KubeObject>(resource: string, namespace: string, options?: ListOptions): Promise<ObjectList<T>> {
    return this.#call({ method: "list", resource, namespace, ...(options ? { listOptions: options } : {}) });
  }

  create<T extends KubeObject = KubeObject>(resource: string, namespace: string, obj: KubeObject, options?: WriteOptions): Promise<T> {
    return this.#call({ method: "create", resource, namespace, object: obj, ...(options ? { writeOptions: options } : {}) });
  }

  update<T extends KubeObject = KubeObject>(resource: string, namespace: string, obj: KubeObject, options?: WriteOptions): Promise<T> {
    return this.#call({ method: "update", resource, namespace, object: obj, ...(options ? { writeOptions: options } : {}) });
  }

  updateStatus<T extends KubeObject = KubeObject>(resource: string, namespace: string, obj: KubeObject): Promise<T> {
    return this.#call({ method: "updateStatus", resource, namespace, object: obj });
  }

  patch<T extends KubeObject = KubeObject>(ref: ObjectRef, type: PatchType, patch: unknown, options?: WriteOptions): Promise<T> {
    return this.#call({ method: "patch", ...ref, patchType: type, patch, ...(options ? { writeOptions: options } : {}) });
  }

  delete<T extends KubeObject = KubeObject>(ref: ObjectRef, options?: DeleteOptions): Promise<T> {
    return this.#call({ method: "delete", ...ref, ...(options ? { deleteOptions: options } : {}) });
  }

  watch<T extends KubeObject = KubeObject>(resource: string, namespace: string, options: ListOptions, onEvent: (event: WatchEvent<T>) => void): () => void {
    const id = this.#nextId++;
    this.#watches.set(id, onEvent as (e: WatchEvent) => void);
    this.#send(encodeEnvelope({ type: "request", id, method: "watch", resource, namespace, listOptions: options }));
    return () => {
      if (!this.#watches.delete(id)) return;
      this.#send(encodeEnvelope({ type: "request", id, method: "cancelWatch", resource, namespace }));
    };
  }
}

/** The serving side of a RemoteApiClient. */
export interface ApiServing {
  /** Feeds bytes that arrived from the client side. */
  receive(bytes: Uint8Array): void;
  /** Stops every watch this side started. */
  close(): void;
}

/** Answers envelope requests from an ApiClient (in the thread that holds the API server). */
export function serveApi(api: ApiClient, send: (bytes: Uint8Array) => void): ApiServing {
  const watches = new Map<number, () => void>();
  const reply = (msg: ApiMessage): void => send(encodeEnvelope(msg));
  const run = async (req: ApiRequest): Promise<unknown> => {
    const ref = requestRef(req);
    switch (req.method) {
      case "get":
        return api.get(ref);
      case "list":
        return api.list(req.resource, req.namespace, req.listOptions);
      case "create":
        return api.create(req.resource, req.namespace, req.object!, req.writeOptions);
      case "update":
        return api.update(req.resource, req.namespace, req.object!, req.writeOptions);
      case "updateStatus":
        return api.updateStatus(req.resource, req.namespace, req.object!);
      case "patch":
        return api.patch(ref, req.patchType ?? "merge", req.patch, req.writeOptions);
      case "delete":
        return api.delete(ref, req.deleteOptions);
      default:
        return undefined;
    }
  };
  return {
    receive(bytes) {
      const msg = decodeEnvelope(bytes);
      if (msg.type !== "request") return;
      if (msg.method === "watch") {
        watches.get(msg.id)?.();
        watches.set(
          msg.id,
          api.watch(msg.resource, msg.namespace, msg.listOptions ?? {}, (event) => reply({ type: "event", watchId: msg.id, event })),
        );
        return;
      }
      if (msg.method === "cancelWatch") {
        watches.get(msg.id)?.();
        watches.delete(msg.id);
        return;
      }
      run(msg).then(
        (result) => {
          const r = result as (KubeObject & { items?: unknown }) | undefined;
          if (r !== undefined && Array.isArray(r.items) && typeof r.kind === "string" && r.kind.endsWith("List")) reply({ type: "response", id: msg.id, list: r as unknown as ObjectList });
          else reply({ type: "response", id: msg.id, ...(r !== undefined ? { object: r } : {}) });
        },
        (err: unknown) => {
          const status =
            err instanceof ApiError
              ? err.status
              : { kind: "Status" as const, apiVersion: "v1" as const, metadata: {}, status: "Failure" as const, message: `Internal error occurred: ${String(err)}`, reason: "InternalError" as const, code: 500 };
          reply({ type: "response", id: msg.id, error: status });
        },
      );
    },
    close() {
      for (const stop of watches.values()) stop();
      watches.clear();
    },
  };
}
