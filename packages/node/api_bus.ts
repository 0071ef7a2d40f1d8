import { ApiError, type ApiClient, type KubeObject, type ListOptions, type ObjectList, type ObjectRef, type PatchType, type Status, type WatchEvent, type WriteOptions } from "@kemu/api";
import type { Bus, BusMessage } from "./bus.ts";

/** How objects are put on the bus (protobuf between threads). */
export interface ObjectCodec {
  encode(obj: KubeObject): Uint8Array;
  decode(bytes: Uint8Array): KubeObject;
}

type Call =
  | { op: "get"; ref: ObjectRef }
  | { op: "list"; resource: string; namespace: string; options: ListOptions }
  | { op: "create" | "update"; resource: string; namespace: string; obj: Uint8Array; options: WriteOptions }
  | { op: "updateStatus"; resource: string; namespace: string; obj: Uint8Array }
  | { op: "patch"; ref: ObjectRef; type: PatchType; patch: string; options: WriteOptions }
  | { op: "delete"; ref: ObjectRef; options: Record<string, unknown> }
  | { op: "watch"; watch: number; resource: string; namespace: string; options: ListOptions }
  | { op: "unwatch"; watch: number };

/** The API over the host bus, for agents on nodes (kubelet, kube-proxy, flanneld). */
export class BusApiClient implements ApiClient {
  #nextId = 1;
  readonly #pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  readonly #watches = new Map<number, (ev: WatchEvent) => void>();

  constructor(
    private readonly bus: Bus,
    private readonly server: string,
    private readonly codec: ObjectCodec,
  ) {
    bus.handle("api-reply", (msg) => {
      const b = msg.body as { id: number; ok: boolean; value?: unknown; status?: Status };
      const p = this.#pending.get(b.id);
      this.#pending.delete(b.id);
      if (!p) return;
      if (b.ok) p.resolve(b.value);
      else p.reject(new ApiError(b.status!));
    });
    bus.handle("api-event", (msg) => {
      const b = msg.body as { watch: number; type: WatchEvent["type"]; object: Uint8Array };
      this.#watches.get(b.watch)?.({ type: b.type, object: this.codec.decode(b.object) });
    });
  }

  #call(call: Call): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.bus.send(this.server, "api", { id, call });
    });
  }

  async get<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T> {
    return this.codec.decode((await this.#call({ op: "get", ref })) as Uint8Array) as T;
  }
  async list<T extends KubeObject = KubeObject>(resource: string, namespace: string, options: ListOptions = {}): Promise<ObjectList<T>> {
    const v = (await this.#call({ op: "list", resource, namespace, options })) as { head: ObjectList<T>; items: Uint8Array[] };
    return { ...v.head, items: v.items.map((b) => this.codec.decode(b) as T) };
  }
  async create<T extends KubeObject = KubeObject>(resource: string, namespace: string, obj: KubeObject, options: WriteOptions = {}): Promise<T> {
    return this.codec.decode((await this.#call({ op: "create", resource, namespace, obj: this.codec.encode(obj), options })) as Uint8Array) as T;
  }
  async update<T extends KubeObject = KubeObject>(resource: string, namespace: string, obj: KubeObject, options: WriteOptions = {}): Promise<T> {
    return this.codec.decode((await this.#call({ op: "update", resource, namespace, obj: this.codec.encode(obj), options })) as Uint8Array) as T;
  }
  async updateStatus<T extends KubeObject = KubeObject>(resource: string, namespace: string, obj: KubeObject): Promise<T> {
    return this.codec.decode((await this.#call({ op: "updateStatus", resource, namespace, obj: this.codec.encode(obj) })) as Uint8Array) as T;
  }
  async patch<T extends KubeObject = KubeObject>(ref: ObjectRef, type: PatchType, patch: unknown, options: WriteOptions = {}): Promise<T> {
    return this.codec.decode((await this.#call({ op: "patch", ref, type, patch: JSON.stringify(patch), options })) as Uint8Array) as T;
  }
  async delete<T extends KubeObject = KubeObject>(ref: ObjectRef, options: Record<string, unknown> = {}): Promise<T> {
    return this.codec.decode((await this.#call({ op: "delete", ref, options })) as Uint8Array) as T;
  }
  watch<T extends KubeObject = KubeObject>(resource: string, namespace: string, options: ListOptions, onEvent: (event: WatchEvent<T>) => void): () => void {
    const watch = this.#nextId++;
    this.#watches.set(watch, onEvent as (ev: WatchEvent) => void);
    void this.#call({ op: "watch", watch, resource, namespace, options }).catch(() => this.#watches.delete(watch));
    return () => {
      this.#watches.delete(watch);
      void this.#call({ op: "unwatch", watch }).catch(() => undefined);
    };
  }
}

/** Serves the API on the bus for the agents of every other host. */
export function serveApiOnBus(bus: Bus, api: ApiClient, codec: ObjectCodec): void {
  const watches = new Map<string, () => void>();
  // One version of one object encodes to the same bytes for every watcher (flanneld on every node
  // watches every Node): the last few thousand encodings are kept by uid and resourceVersion.
  const encoded = new Map<string, Uint8Array>();
  const encodeEvent = (o: KubeObject): Uint8Array => {
    const uid = o.metadata.uid;
    const rv = o.metadata.resourceVersion;
    if (uid === undefined || rv === undefined) return codec.encode(o);
    const key = `${uid}/${rv}`;
    let bytes = encoded.get(key);
    if (bytes === undefined) {
      bytes = codec.encode(o);
      if (encoded.size >= 4096) encoded.delete(encoded.keys().next().value!);
      encoded.set(key, bytes);
    }
    return bytes;
  };
  bus.handle("api", (msg: BusMessage) => {
    const { id, call } = msg.body as { id: number; call: Call };
    const reply = (p: Promise<unknown>) =>
      p.then(
        (value) => bus.send(msg.from, "api-reply", { id, ok: true, value }),
        (err: unknown) => {
          const status: Status =
            err instanceof ApiError
              ? err.status
              : { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: String(err), reason: "InternalError", code: 500 };
          bus.send(msg.from, "api-reply", { id, ok: false, status });
        },
      );
    const enc = (o: KubeObject) => codec.encode(o);
    switch (call.op) {
      case "get":
        void reply(api.get(call.ref).then(enc));
        return;
      case "list":
        void reply(
          api.list(call.resource, call.namespace, call.options).then((l) => ({ head: { ...l, items: [] }, items: l.items.map(enc) })),
        );
        return;
      case "create":
        void reply(api.create(call.resource, call.namespace, codec.decode(call.obj), call.options).then(enc));
        return;
      case "update":
        void reply(api.update(call.resource, call.namespace, codec.decode(call.obj), call.options).then(enc));
        return;
      case "updateStatus":
        void reply(api.updateStatus(call.resource, call.namespace, codec.decode(call.obj)).then(enc));
        return;
      case "patch":
        void reply(api.patch(call.ref, call.type, JSON.parse(call.patch), call.options).then(enc));
        return;
      case "delete":
        void reply(api.delete(call.ref, call.options).then(enc));
        return;
      case "watch": {
        const stop = api.watch(call.resource, call.namespace, call.options, (ev) => {
          bus.send(msg.from, "api-event", { watch: call.watch, type: ev.type, object: encodeEvent(ev.object) });
        });
        watches.set(`${msg.from}/${call.watch}`, stop);
        void reply(Promise.resolve(true));
        return;
      }
      case "unwatch":
        watches.get(`${msg.from}/${call.watch}`)?.();
        watches.delete(`${msg.from}/${call.watch}`);
        void reply(Promise.resolve(true));
        return;
    }
  });
}
