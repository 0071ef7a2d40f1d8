/**
 * The protobuf encoding of API objects and of the API's request, response
 * and watch-event envelope, as kemu's threads exchange them. Messages come
 * from `proto/k8s.proto`, loaded with protobufjs at first use from its
 * reflection in `proto_descriptor.ts` (a worker reads and parses no file).
 *
 * ```ts
 * const bytes = encodeObject(pod);
 * const same = decodeObject(bytes);           // deepEqual to pod
 * const wire = encodeEnvelope({ type: "event", watchId: 3, event: { type: "ADDED", object: pod } });
 * ```
 */
import protobuf from "protobufjs";
import type { DeleteOptions, ListOptions, ObjectRef, PatchType, Status, WriteOptions } from "./client.ts";
import { K8S_PROTO } from "./proto_descriptor.ts";
import type { KubeObject, ObjectList, ObjectMeta, WatchEvent } from "./types.ts";

type Type = protobuf.Type;
type Plain = Record<string, unknown>;

let types: { object: Type; list: Type; status: Type; envelope: Type } | undefined;

function load(): NonNullable<typeof types> {
  if (types === undefined) {
    const root = protobuf.Root.fromJSON(K8S_PROTO);
    types = {
      object: root.lookupType("kemu.k8s.Object"),
      list: root.lookupType("kemu.k8s.ObjectList"),
      status: root.lookupType("kemu.k8s.Status"),
      envelope: root.lookupType("kemu.k8s.Envelope"),
    };
  }
  return types;
}

const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, enums: String, bytes: Uint8Array as unknown as Function, defaults: false, oneofs: true };

const enc = new TextEncoder();
const dec = new TextDecoder();

function json(v: unknown): Uint8Array {
  return v === undefined ? new Uint8Array(0) : enc.encode(JSON.stringify(v));
}

function unjson(b: unknown): unknown {
  if (!(b instanceof Uint8Array) || b.length === 0) return undefined;
  return JSON.parse(dec.decode(b));
}

const STRING_META = ["name", "generateName", "namespace", "uid", "resourceVersion", "creationTimestamp", "deletionTimestamp"] as const;
const INT_META = ["generation", "deletionGracePeriodSeconds"] as const;

function isStringMap(v: unknown): v is Record<string, string> {
  return v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length > 0 && Object.values(v).every((x) => typeof x === "string");
}

function isOwnerRefs(v: unknown): boolean {
  if (!Array.isArray(v) || v.length === 0) return false;
  return v.every((r: Plain) => {
    if (r === null || typeof r !== "object") return false;
    for (const k of ["apiVersion", "kind", "name", "uid"]) if (typeof r[k] !== "string") return false;
    for (const k of ["controller", "blockOwnerDeletion"]) if (r[k] !== undefined && typeof r[k] !== "boolean") return false;
    return Object.keys(r).every((k) => ["apiVersion", "kind", "name", "uid", "controller", "blockOwnerDeletion"].includes(k));
  });
}

function metaToProto(m: ObjectMeta): Plain {
  const out: Plain = {};
  const extra: Plain = {};
  for (const [k, v] of Object.entries(m)) {
    if (v === undefined) continue;
    if ((STRING_META as readonly string[]).includes(k) && typeof v === "string") out[k] = v;
    else if ((INT_META as readonly string[]).includes(k) && Number.isSafeInteger(v)) out[k] = v;
    else if ((k === "labels" || k === "annotations") && isStringMap(v)) out[k] = v;
    else if (k === "ownerReferences" && isOwnerRefs(v)) out[k] = v;
    else if (k === "finalizers" && Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "string")) out[k] = v;
    else extra[k] = v;
  }
  if (Object.keys(extra).length > 0) out["extra"] = json(extra);
  return out;
}

function metaFromProto(p: Plain): ObjectMeta {
  const m: ObjectMeta = {};
  for (const k of [...STRING_META, ...INT_META, "labels", "annotations", "ownerReferences", "finalizers"]) if (p[k] !== undefined) m[k] = p[k];
  const extra = unjson(p["extra"]) as Plain | undefined;
  if (extra !== undefined) Object.assign(m, extra);
  return m;
}

function objectToProto(o: KubeObject): Plain {
  const rest: Plain = {};
  for (const [k, v] of Object.entries(o)) if (!["apiVersion", "kind", "metadata", "spec", "status"].includes(k) && v !== undefined) rest[k] = v;
  const out: Plain = {};
  // apiVersion and kind are strings on every object; anything else rides in `rest`.
  if (typeof o.apiVersion === "string") out["apiVersion"] = o.apiVersion;
  else if (o.apiVersion !== undefined) rest["apiVersion"] = o.apiVersion;
  if (typeof o.kind === "string") out["kind"] = o.kind;
  else if (o.kind !== undefined) rest["kind"] = o.kind;
  if (o.metadata !== null && typeof o.metadata === "object" && !Array.isArray(o.metadata)) out["metadata"] = metaToProto(o.metadata);
  else if (o.metadata !== undefined) rest["metadata"] = o.metadata;
  if (o.spec !== undefined) out["spec"] = json(o.spec);
  if (o.status !== undefined) out["status"] = json(o.status);
  if (Object.keys(rest).length > 0) out["rest"] = json(rest);
  return out;
}

function objectFromProto(p: Plain): KubeObject {
  const o: Plain = {};
  if (p["apiVersion"] !== undefined) o["apiVersion"] = p["apiVersion"];
  if (p["kind"] !== undefined) o["kind"] = p["kind"];
  if (p["metadata"] !== undefined) o["metadata"] = metaFromProto(p["metadata"] as Plain);
  const spec = unjson(p["spec"]);
  if (spec !== undefined) o["spec"] = spec;
  const status = unjson(p["status"]);
  if (status !== undefined) o["status"] = status;
  const rest = unjson(p["rest"]) as Plain | undefined;
  if (rest !== undefined) Object.assign(o, rest);
  return o as KubeObject;
}

/**
 * The bytes protobufjs made, in a buffer of their own: below 4 KiB it hands
 * out slices of Node's shared 8 KiB pool, and one kept slice (a cached
 * watch event) would keep the whole pool alive.
 */
function own(bytes: Uint8Array): Uint8Array {
  return bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
}

/** Encodes an API object as a protobuf `kemu.k8s.Object`. */
export function encodeObject(obj: KubeObject): Uint8Array {
  const t = load().object;
  return own(t.encode(t.fromObject(objectToProto(obj))).finish());
}

/** Decodes a protobuf `kemu.k8s.Object`: the exact object that was encoded. */
export function decodeObject(bytes: Uint8Array): KubeObject {
  const t = load().object;
  return objectFromProto(t.toObject(t.decode(bytes), TO_OBJECT));
}

function listToProto(l: ObjectList): Plain {
  const out: Plain = { apiVersion: l.apiVersion, kind: l.kind, resourceVersion: l.metadata.resourceVersion, items: l.items.map(objectToProto) };
  if (l.metadata.continue !== undefined) out["continue"] = l.metadata.continue;
  const remaining = (l.metadata as Plain)["remainingItemCount"];
  if (typeof remaining === "number") out["remainingItemCount"] = remaining;
  return out;
}

function listFromProto(p: Plain): ObjectList {
  const metadata: ObjectList["metadata"] = { resourceVersion: (p["resourceVersion"] as string | undefined) ?? "" };
  if (p["continue"] !== undefined) metadata.continue = p["continue"] as string;
  if (p["remainingItemCount"] !== undefined) (metadata as Plain)["remainingItemCount"] = p["remainingItemCount"];
  return {
    apiVersion: (p["apiVersion"] as string | undefined) ?? "",
    kind: (p["kind"] as string | undefined) ?? "",
    metadata,
    items: ((p["items"] as Plain[] | undefined) ?? []).map(objectFromProto),
  };
}

function statusToProto(s: Status): Plain {
  const out: Plain = { status: s.status, message: s.message, reason: s.reason, code: s.code };
  if (s.details !== undefined) {
    const d: Plain = { ...s.details };
    if (s.details.causes !== undefined) d["hasCauses"] = true;
    out["details"] = d;
  }
  return out;
}

function statusFromProto(p: Plain): Status {
  const s: Status = {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: ((p["status"] as string | undefined) ?? "Failure") as Status["status"],
    message: (p["message"] as string | undefined) ?? "",
    reason: ((p["reason"] as string | undefined) ?? "") as Status["reason"],
    code: (p["code"] as number | undefined) ?? 0,
  };
  const d = p["details"] as Plain | undefined;
  if (d !== undefined) {
    const details: NonNullable<Status["details"]> = {};
    for (const k of ["name", "group", "kind"] as const) if (d[k] !== undefined) details[k] = d[k] as string;
    if (d["hasCauses"] === true) details.causes = ((d["causes"] as Plain[] | undefined) ?? []).map((c) => {
      const cause: { reason: string; message: string; field?: string } = { reason: (c["reason"] as string | undefined) ?? "", message: (c["message"] as string | undefined) ?? "" };
      if (c["field"] !== undefined) cause.field = c["field"] as string;
      return cause;
    });
    s.details = details;
  }
  return s;
}

/** The methods of a request. */
export type ApiMethod = "get" | "list" | "create" | "update" | "updateStatus" | "patch" | "delete" | "watch" | "cancelWatch";

const METHODS: Record<ApiMethod, string> = {
  get: "GET",
  list: "LIST",
  create: "CREATE",
  update: "UPDATE",
  updateStatus: "UPDATE_STATUS",
  patch: "PATCH",
  delete: "DELETE",
  watch: "WATCH",
  cancelWatch: "CANCEL_WATCH",
};

/** An API call: the method, where, and its arguments. */
export interface ApiRequest {
  type: "request";
  id: number;
  method: ApiMethod;
  resource: string;
  namespace: string;
  name?: string;
  object?: KubeObject;
  listOptions?: ListOptions;
  writeOptions?: WriteOptions;
  deleteOptions?: DeleteOptions;
  patchType?: PatchType;
  patch?: unknown;
}

/** The answer to a request: an object, a list, or the error Status. */
export interface ApiResponse {
  type: "response";
  id: number;
  object?: KubeObject;
  list?: ObjectList;
  error?: Status;
}

/** One event of a watch (ERROR events carry a Status as their object). */
export interface ApiWatchEvent {
  type: "event";
  watchId: number;
  event: WatchEvent;
}

/** What travels between threads. */
export type ApiMessage = ApiRequest | ApiResponse | ApiWatchEvent;

function opts(o: object | undefined): Plain | undefined {
  if (o === undefined) return undefined;
  const out: Plain = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out;
}

/** Encodes an envelope message. */
export function encodeEnvelope(msg: ApiMessage): Uint8Array {
  const t = load().envelope;
  let plain: Plain;
  switch (msg.type) {
    case "request": {
      const r: Plain = { id: msg.id, method: METHODS[msg.method], resource: msg.resource, namespace: msg.namespace, name: msg.name ?? "" };
      if (msg.object !== undefined) r["object"] = objectToProto(msg.object);
      if (msg.listOptions !== undefined) r["listOptions"] = opts(msg.listOptions);
      if (msg.writeOptions !== undefined) r["writeOptions"] = opts(msg.writeOptions);
      if (msg.deleteOptions !== undefined) r["deleteOptions"] = opts(msg.deleteOptions);
      if (msg.patchType !== undefined) r["patchType"] = msg.patchType;
      if (msg.patch !== undefined) r["patch"] = json(msg.patch);
      plain = { request: r };
      break;
    }
    case "response": {
      const r: Plain = { id: msg.id };
      if (msg.object !== undefined) r["object"] = objectToProto(msg.object);
      else if (msg.list !== undefined) r["list"] = listToProto(msg.list);
      else if (msg.error !== undefined) r["error"] = statusToProto(msg.error);
      plain = { response: r };
      break;
    }
    case "event": {
      const e: Plain = { watchId: msg.watchId, type: msg.event.type };
      const obj = msg.event.object as unknown as Plain;
      if (msg.event.type === "ERROR" && obj["kind"] === "Status") e["status"] = statusToProto(obj as unknown as Status);
      else e["object"] = objectToProto(msg.event.object);
      plain = { event: e };
      break;
    }
  }
  return own(t.encode(t.fromObject(plain)).finish());
}

/** Decodes an envelope message. */
export function decodeEnvelope(bytes: Uint8Array): ApiMessage {
  const t = load().envelope;
  const p = t.toObject(t.decode(bytes), TO_OBJECT) as Plain;
  if (p["request"] !== undefined) {
    const r = p["request"] as Plain;
    const method = (Object.entries(METHODS).find(([, v]) => v === (r["method"] ?? "GET"))?.[0] ?? "get") as ApiMethod;
    const msg: ApiRequest = { type: "request", id: (r["id"] as number | undefined) ?? 0, method, resource: (r["resource"] as string | undefined) ?? "", namespace: (r["namespace"] as string | undefined) ?? "" };
    if (r["name"]) msg.name = r["name"] as string;
    if (r["object"] !== undefined) msg.object = objectFromProto(r["object"] as Plain);
    if (r["listOptions"] !== undefined) msg.listOptions = r["listOptions"] as ListOptions;
    if (r["writeOptions"] !== undefined) msg.writeOptions = r["writeOptions"] as WriteOptions;
    if (r["deleteOptions"] !== undefined) msg.deleteOptions = r["deleteOptions"] as DeleteOptions;
    if (r["patchType"]) msg.patchType = r["patchType"] as PatchType;
    if (r["patch"] !== undefined) msg.patch = unjson(r["patch"]);
    return msg;
  }
  if (p["response"] !== undefined) {
    const r = p["response"] as Plain;
    const msg: ApiResponse = { type: "response", id: (r["id"] as number | undefined) ?? 0 };
    if (r["object"] !== undefined) msg.object = objectFromProto(r["object"] as Plain);
    if (r["list"] !== undefined) msg.list = listFromProto(r["list"] as Plain);
    if (r["error"] !== undefined) msg.error = statusFromProto(r["error"] as Plain);
    return msg;
  }
  const e = (p["event"] ?? {}) as Plain;
  const object = e["status"] !== undefined ? (statusFromProto(e["status"] as Plain) as unknown as KubeObject) : objectFromProto((e["object"] ?? {}) as Plain);
  return { type: "event", watchId: (e["watchId"] as number | undefined) ?? 0, event: { type: (e["type"] as WatchEvent["type"] | undefined) ?? "ADDED", object } };
}

/** A reference as a request carries it. */
export function requestRef(msg: ApiRequest): ObjectRef {
  return { resource: msg.resource, namespace: msg.namespace, name: msg.name ?? "" };
}
