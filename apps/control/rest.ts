/**
 * The Kubernetes REST API over HTTP on loopback, in front of an ApiServer,
 * so a user's own kubectl (and client libraries) drive the emulated
 * cluster: discovery, GET/LIST/WATCH/POST/PUT/PATCH/DELETE of every
 * resource kemu stores, the status and scale subresources, `pods/log` and
 * `pods/exec` over WebSocket (`v5.channel.k8s.io`). Requests need the
 * bearer token; errors are Status objects as kube-apiserver sends them.
 */
import { timingSafeEqual } from "node:crypto";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Duplex } from "node:stream";
import {
  ApiError,
  type DeleteOptions,
  type KubeObject,
  type ListOptions,
  type PatchType,
  type Pod,
  RESOURCES,
  type ResourceInfo,
  type Status,
  type WriteOptions,
  apiVersionOf,
} from "@kemu/api";
import { parse as parseYaml } from "yaml";
import { clone } from "./_meta.ts";
import { decodeAs } from "./decode.ts";
import { badRequest, internalError, methodNotAllowed } from "./errors.ts";
import { type ExecBackend, execProblem, serveExec } from "./rest_exec.ts";
import {
  SCALE_SUBRESOURCE,
  STATUS_SUBRESOURCE,
  apiGroup,
  coreVersions,
  groupList,
  openapiV3Document,
  openapiV3Root,
  resourceList,
  versionInfo,
} from "./rest_discovery.ts";
import { OPENAPI_V2_PROTOBUF, openapiV2Protobuf } from "./rest_openapi.ts";
import { wantsTable, toTable } from "./rest_table.ts";
import { mergePatch, jsonPatch, strategicMergePatch } from "./patch.ts";
import type { ApiServer } from "./server.ts";

export type { ExecBackend } from "./rest_exec.ts";

/** The largest request body accepted (kube-apiserver's 3 MiB), larger ones get 413. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** Options of startRestServer. */
export interface RestServerOptions {
  /** TCP port; 0 or absent: one the system chooses. */
  port?: number;
  /** The bearer token every request must carry. */
  token: string;
  /** The address to listen on: loopback only. */
  host?: "127.0.0.1";
  /** Runs commands in pods (`pods/exec`); without it exec answers 501-ish errors. */
  exec?: ExecBackend;
  /** A container's log so far (`pods/log`); without it logs are empty. */
  logs?: (pod: Pod, container: string | undefined) => Promise<string>;
  /** How often `logs -f` looks for new output, ms. Default 500. */
  followIntervalMs?: number;
  /** Seconds between watch BOOKMARK events when a client allows them. Default 60. */
  bookmarkSeconds?: number;
  /** Serve HTTPS with this key and certificate (PEM); plain HTTP without. kubectl sends bearer tokens over HTTPS only. */
  tls?: { key: string; cert: string };
}

/** A started REST server. */
export interface RestServer {
  /** The port it listens on (127.0.0.1). */
  readonly port: number;
  /** Stops listening and ends open watches and streams. */
  close(): Promise<void>;
}

type AnyStatus = Omit<Status, "reason"> & { reason: string };

function statusOf(code: number, reason: string, message: string, details?: Status["details"]): AnyStatus {
  const s: AnyStatus = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code };
  if (details !== undefined) s.details = details;
  return s;
}

class HttpError extends Error {
  constructor(readonly status: AnyStatus) {
    super(status.message);
  }
}

function httpError(code: number, reason: string, message: string): HttpError {
  return new HttpError(statusOf(code, reason, message));
}

/** A parsed API path. */
interface Route {
  info: ResourceInfo;
  namespace: string;
  name?: string;
  subresource?: string;
}

/** Resolves `/api/v1/...` and `/apis/<g>/<v>/...` to a resource, or a discovery document path. */
function route(segs: readonly string[], groupVersion: string): Route | undefined {
  const served = RESOURCES.filter((r) => apiVersionOf(r) === groupVersion);
  const byPlural = (p: string | undefined): ResourceInfo | undefined => served.find((r) => r.plural === p);
  let namespace = "";
  let rest = segs;
  if (segs[0] === "namespaces" && segs.length >= 3) {
    const inner = byPlural(segs[2]);
    if (inner !== undefined && inner.namespaced) {
      namespace = segs[1]!;
      rest = segs.slice(2);
    }
  }
  const info = byPlural(rest[0]);
  if (info === undefined || rest.length > 3) return undefined;
  if (!info.namespaced && namespace !== "") return undefined;
  const r: Route = { info, namespace };
  if (rest[1] !== undefined) r.name = rest[1];
  if (rest[2] !== undefined) r.subresource = rest[2];
  return r;
}

function send(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { "Content-Type": "application/json", "Cache-Control": "no-cache, private", ...headers, "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

function sendStatus(res: ServerResponse, s: AnyStatus | Status): void {
  send(res, s.code, s);
}

function errorStatus(err: unknown): AnyStatus {
  if (err instanceof ApiError) return err.status;
  if (err instanceof HttpError) return err.status;
  return internalError(err instanceof Error ? err.message : String(err)).status;
}

/** Reads a body up to MAX_BODY_BYTES; 413 beyond. */
async function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? "0");
  const tooLarge = (): HttpError => httpError(413, "RequestEntityTooLarge", `Request entity too large: limit is ${MAX_BODY_BYTES}`);
  if (declared > MAX_BODY_BYTES) {
    req.resume();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      req.resume();
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function mediaType(req: IncomingMessage): string {
  return (req.headers["content-type"] ?? "application/json").split(";")[0]!.trim().toLowerCase();
}

/** Parses a JSON or YAML body as the API server's decoders would, 400 on malformed input. */
function parseBody(raw: Buffer, type: string): unknown {
  const text = raw.toString("utf8");
  if (text.trim() === "") throw badRequest("the body of the request was empty");
  if (type === "application/yaml" || type === "application/apply-patch+yaml") {
    try {
      return parseYaml(text, { strict: true, uniqueKeys: true });
    } catch (e) {
      throw badRequest(`error converting YAML to JSON: yaml: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`);
    }
  }
  if (type !== "application/json" && !type.endsWith("+json")) {
    throw httpError(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw badRequest(`couldn't get version/kind; json parse error: ${why}`);
  }
}

function q(url: URL, name: string): string | undefined {
  const v = url.searchParams.get(name);
  return v === null ? undefined : v;
}

function flag(url: URL, name: string): boolean {
  const v = q(url, name);
  return v === "1" || v === "true";
}

function listOptions(url: URL): ListOptions {
  const o: ListOptions = {};
  const ls = q(url, "labelSelector");
  if (ls !== undefined) o.labelSelector = ls;
  const fs = q(url, "fieldSelector");
  if (fs !== undefined) o.fieldSelector = fs;
  const limit = q(url, "limit");
  if (limit !== undefined && limit !== "") {
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 0) throw badRequest(`limit: Invalid value: "${limit}": must be a non-negative integer`);
    o.limit = n;
  }
  const c = q(url, "continue");
  if (c !== undefined && c !== "") o.continue = c;
  const rv = q(url, "resourceVersion");
  if (rv !== undefined) o.resourceVersion = rv;
  return o;
}

function writeOptions(url: URL): WriteOptions {
  const o: WriteOptions = {};
  const fv = q(url, "fieldValidation");
  if (fv !== undefined && fv !== "") {
    if (fv !== "Strict" && fv !== "Warn" && fv !== "Ignore")
      throw badRequest(`fieldValidation: Unsupported value: "${fv}": supported values: "Ignore", "Strict", "Warn"`);
    o.fieldValidation = fv;
  }
  const dry = url.searchParams.getAll("dryRun");
  if (dry.length > 0) {
    if (dry.some((d) => d !== "All")) throw badRequest(`dryRun: Unsupported value: ${JSON.stringify(dry)}: supported values: "All"`);
    o.dryRun = true;
  }
  const fm = q(url, "fieldManager");
  if (fm !== undefined) o.fieldManager = fm;
  return o;
}

/** Warning headers for unknown fields when validation is Warn (kubectl prints them). */
function unknownFieldWarnings(info: ResourceInfo, body: unknown, options: WriteOptions): Record<string, string> {
  if ((options.fieldValidation ?? "Warn") !== "Warn" || body === null || typeof body !== "object") return {};
  const { unknown } = decodeAs(info.kind, body);
  if (unknown.length === 0) return {};
  return { Warning: unknown.map((u) => `299 - ${JSON.stringify(`unknown field "${u}"`)}`).join(", ") };
}

function labelSelectorText(sel: unknown): string {
  if (sel === null || typeof sel !== "object") return "";
  const s = sel as { matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> };
  const parts: string[] = [];
  for (const k of Object.keys(s.matchLabels ?? {}).sort()) parts.push(`${k}=${s.matchLabels![k]}`);
  for (const e of s.matchExpressions ?? []) {
    const vals = [...(e.values ?? [])].sort().join(",");
    if (e.operator === "In") parts.push(`${e.key} in (${vals})`);
    else if (e.operator === "NotIn") parts.push(`${e.key} notin (${vals})`);
    else if (e.operator === "Exists") parts.push(e.key);
    else if (e.operator === "DoesNotExist") parts.push(`!${e.key}`);
  }
  return parts.join(",");
}

/** The autoscaling/v1 Scale of a Deployment or ReplicaSet. */
function scaleOf(o: KubeObject): KubeObject {
  const spec = (o.spec ?? {}) as { replicas?: number; selector?: unknown };
  const status = (o.status ?? {}) as { replicas?: number };
  const m = o.metadata;
  const metadata: KubeObject["metadata"] = { name: m.name ?? "" };
  if (m.namespace !== undefined) metadata.namespace = m.namespace;
  for (const k of ["uid", "resourceVersion", "creationTimestamp"] as const) if (m[k] !== undefined) metadata[k] = m[k];
  return {
    kind: "Scale",
    apiVersion: "autoscaling/v1",
    metadata,
    spec: { replicas: spec.replicas ?? 1 },
    status: { replicas: status.replicas ?? 0, selector: labelSelectorText(spec.selector) },
  };
}

function deleteOptions(url: URL, body: unknown): DeleteOptions {
  const o: DeleteOptions = {};
  const b = (body ?? {}) as { propagationPolicy?: unknown; gracePeriodSeconds?: unknown; orphanDependents?: unknown; dryRun?: unknown };
  const pp = q(url, "propagationPolicy") ?? (typeof b.propagationPolicy === "string" ? b.propagationPolicy : undefined);
  if (pp !== undefined) {
    if (pp !== "Foreground" && pp !== "Background" && pp !== "Orphan")
      throw badRequest(`propagationPolicy: Unsupported value: "${pp}": supported values: "Foreground", "Background", "Orphan"`);
    o.propagationPolicy = pp;
  } else if (b.orphanDependents === true || q(url, "orphanDependents") === "true") o.propagationPolicy = "Orphan";
  const gp = q(url, "gracePeriodSeconds") ?? (typeof b.gracePeriodSeconds === "number" ? String(b.gracePeriodSeconds) : undefined);
  if (gp !== undefined) {
    const n = Number(gp);
    if (!Number.isInteger(n)) throw badRequest(`gracePeriodSeconds: Invalid value: "${gp}"`);
    o.gracePeriodSeconds = Math.max(0, n);
  }
  if (url.searchParams.getAll("dryRun").includes("All") || (Array.isArray(b.dryRun) && b.dryRun.includes("All"))) o.dryRun = true;
  return o;
}

const PATCH_TYPES: Readonly<Record<string, PatchType>> = {
  "application/json-patch+json": "json",
  "application/merge-patch+json": "merge",
  "application/strategic-merge-patch+json": "strategic",
  "application/apply-patch+yaml": "apply",
};

/** Serves one ApiServer over HTTP. */
class RestHandler {
  readonly #open = new Set<() => void>();
  port = 0;

  constructor(
    readonly server: ApiServer,
    readonly options: RestServerOptions,
  ) {}

  authorized(req: IncomingMessage): boolean {
    const h = req.headers.authorization ?? "";
    const m = /^Bearer\s+(.+)$/i.exec(h);
    if (!m) return false;
    const got = Buffer.from(m[1]!.trim());
    const want = Buffer.from(this.options.token);
    return got.length === want.length && timingSafeEqual(got, want);
  }

  /** Ends open watches and streams. */
  closeAll(): void {
    for (const f of [...this.#open]) f();
  }

  track(stop: () => void): () => void {
    this.#open.add(stop);
    return () => this.#open.delete(stop);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (!this.authorized(req)) {
        req.resume();
        sendStatus(res, statusOf(401, "Unauthorized", "Unauthorized"));
        return;
      }
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      await this.#dispatch(req, res, url);
    } catch (err) {
      if (res.headersSent) {
        res.end();
        return;
      }
      sendStatus(res, errorStatus(err));
    }
  }

  async #dispatch(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname.replace(/\/+$/, "") || "/";
    const method = req.method ?? "GET";
    const segs = path.split("/").slice(1);
    const discovery = (doc: unknown): void => {
      if (method !== "GET") throw methodNotAllowed("the server does not allow this method on the requested resource");
      // Plain JSON: kubectl, asking for aggregated discovery (apidiscovery.k8s.io/v2) first, falls back to these documents.
      send(res, 200, doc);
    };
    if (path === "/version") return discovery(versionInfo());
    if (path === "/healthz" || path === "/livez" || path === "/readyz") {
      res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" });
      res.end("ok");
      return;
    }
    if (path === "/api") return discovery(coreVersions(`127.0.0.1:${this.port}`));
    if (path === "/apis") return discovery(groupList());
    if (path === "/openapi/v2" && method === "GET") {
      const doc = openapiV2Protobuf();
      res.writeHead(200, { "Content-Type": OPENAPI_V2_PROTOBUF, "Content-Length": doc.length });
      res.end(doc);
      return;
    }
    if (path === "/openapi/v3") return discovery(openapiV3Root());
    if (path.startsWith("/openapi/v3/")) {
      const doc = openapiV3Document(path.slice("/openapi/v3/".length));
      if (doc !== undefined) return discovery(doc);
    }
    if (segs[0] === "apis" && segs.length === 2) {
      const g = apiGroup(segs[1]!);
      if (g !== undefined) return discovery(g);
    }
    let groupVersion: string | undefined;
    let rest: string[] = [];
    if (segs[0] === "api" && segs[1] === "v1") {
      groupVersion = "v1";
      rest = segs.slice(2);
    } else if (segs[0] === "apis" && segs.length >= 3) {
      groupVersion = `${segs[1]}/${segs[2]}`;
      rest = segs.slice(3);
    }
    if (groupVersion !== undefined && rest.length === 0) {
      const list = resourceList(groupVersion);
      if (list !== undefined) return discovery(list);
    }
    const r = groupVersion === undefined ? undefined : route(rest, groupVersion);
    if (r === undefined) {
      if (segs[0] === "api" || segs[0] === "apis") throw new ApiError(statusOf(404, "NotFound", "the server could not find the requested resource", {}) as Status);
      req.resume();
      res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" });
      res.end("404 page not found\n");
      return;
    }
    if (r.name === undefined) return this.#collection(req, res, url, r, method);
    if (r.subresource === undefined) return this.#item(req, res, url, r, r.name, method);
    return this.#subresource(req, res, url, r, r.name, r.subresource, method);
  }

  async #collection(req: IncomingMessage, res: ServerResponse, url: URL, r: Route, method: string): Promise<void> {
    const { info } = r;
    const api = this.server.direct;
    switch (method) {
      case "GET": {
        const options = listOptions(url);
        if (flag(url, "watch")) return this.#watch(req, res, url, r, options);
        const list = api.list(info.plural, r.namespace, options);
        const out = wantsTable(req.headers.accept) ? toTable(info, list.items, this.server, list.metadata) : list;
        return send(res, 200, out);
      }
      case "POST": {
        const body = parseBody(await readBody(req), mediaType(req));
        const options = writeOptions(url);
        const warnings = unknownFieldWarnings(info, body, options);
        const created = api.create(info.plural, r.namespace, body as KubeObject, options);
        return send(res, 201, created, warnings);
      }
      case "DELETE": {
        const raw = await readBody(req);
        const body = raw.length > 0 ? parseBody(raw, mediaType(req)) : undefined;
        const options = deleteOptions(url, body);
        const list = api.list(info.plural, r.namespace, listOptions(url));
        const items: KubeObject[] = [];
        for (const o of list.items) {
          try {
            items.push(api.delete({ resource: info.plural, namespace: o.metadata.namespace ?? "", name: o.metadata.name ?? "" }, options));
          } catch (e) {
            if (!(e instanceof ApiError && e.code === 404)) throw e;
          }
        }
        return send(res, 200, { ...list, items });
      }
      default:
        req.resume();
        throw methodNotAllowed("the server does not allow this method on the requested resource");
    }
  }

  #watch(req: IncomingMessage, res: ServerResponse, url: URL, r: Route, options: ListOptions): void {
    const { info } = r;
    const table = wantsTable(req.headers.accept);
    res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-cache, private", "Transfer-Encoding": "chunked" });
    res.flushHeaders();
    const write = (type: string, object: unknown): void => {
      res.write(`${JSON.stringify({ type, object })}\n`);
    };
    const unwatch = this.server.watch(info.plural, r.namespace, options, (e) => {
      if (e.type === "ERROR") {
        write("ERROR", e.object);
        stop();
        return;
      }
      write(e.type, table ? toTable(info, [e.object], this.server, { resourceVersion: e.object.metadata.resourceVersion ?? "" }) : e.object);
    });
    const timers: NodeJS.Timeout[] = [];
    if (flag(url, "allowWatchBookmarks")) {
      const every = (this.options.bookmarkSeconds ?? 60) * 1000;
      const t = setInterval(() => {
        write("BOOKMARK", { kind: info.kind, apiVersion: apiVersionOf(info), metadata: { resourceVersion: String(this.server.store.resourceVersion) } });
      }, every);
      timers.push(t);
    }
    const timeout = Number(q(url, "timeoutSeconds") ?? "0");
    if (timeout > 0) timers.push(setTimeout(() => stop(), timeout * 1000));
    let stopped = false;
    const untrack = this.track(() => stop());
    function stop(): void {
      if (stopped) return;
      stopped = true;
      unwatch();
      for (const t of timers) clearTimeout(t);
      untrack();
      res.end();
    }
    req.on("close", stop);
    res.on("close", stop);
  }

  async #item(req: IncomingMessage, res: ServerResponse, url: URL, r: Route, name: string, method: string): Promise<void> {
    const { info } = r;
    const api = this.server.direct;
    const ref = { resource: info.plural, namespace: r.namespace, name };
    switch (method) {
      case "GET": {
        if (flag(url, "watch")) {
          const options = listOptions(url);
          options.fieldSelector = [`metadata.name=${name}`, options.fieldSelector].filter((x) => x).join(",");
          return this.#watch(req, res, url, r, options);
        }
        const o = api.get(ref);
        return send(res, 200, wantsTable(req.headers.accept) ? toTable(info, [o], this.server, { resourceVersion: o.metadata.resourceVersion ?? "" }) : o);
      }
      case "PUT": {
        const body = parseBody(await readBody(req), mediaType(req)) as KubeObject;
        this.#checkName(body, name);
        const options = writeOptions(url);
        const warnings = unknownFieldWarnings(info, body, options);
        return send(res, 200, api.update(info.plural, r.namespace, body, options), warnings);
      }
      case "PATCH": {
        const type = PATCH_TYPES[mediaType(req)];
        if (type === undefined) {
          req.resume();
          throw httpError(
            415,
            "UnsupportedMediaType",
            `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
          );
        }
        const patch = parseBody(await readBody(req), mediaType(req));
        const options = writeOptions(url);
        if (type === "apply" && (options.fieldManager === undefined || options.fieldManager === "")) {
          throw new ApiError(
            statusOf(422, "Invalid", `PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch`, {
              group: "meta.k8s.io",
              kind: "PatchOptions",
              causes: [{ reason: "FieldValueRequired", message: "Required value: is required for apply patch", field: "fieldManager" }],
            }) as Status,
          );
        }
        const existed = this.server.store.get(info.plural, info.namespaced ? r.namespace || "default" : "", name) !== undefined;
        const out = api.patch(ref, type, patch, options);
        return send(res, type === "apply" && !existed ? 201 : 200, out);
      }
      case "DELETE": {
        const raw = await readBody(req);
        const body = raw.length > 0 ? parseBody(raw, mediaType(req)) : undefined;
        const out = api.delete(ref, deleteOptions(url, body));
        const ns = info.namespaced ? r.namespace || "default" : "";
        if (this.server.store.get(info.plural, ns, name) !== undefined || info.kind === "Pod" || info.kind === "Service") return send(res, 200, out);
        const details: Status["details"] = { name };
        if (info.group !== "") details.group = info.group;
        details.kind = info.plural;
        (details as Record<string, unknown>)["uid"] = out.metadata.uid;
        return send(res, 200, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details });
      }
      default:
        req.resume();
        throw methodNotAllowed("the server does not allow this method on the requested resource");
    }
  }

  #checkName(body: KubeObject, name: string): void {
    if (body === null || typeof body !== "object" || Array.isArray(body)) return;
    const bodyName = body.metadata?.name;
    if (bodyName === undefined || bodyName === "") {
      body.metadata = { ...(body.metadata ?? {}), name };
      return;
    }
    if (bodyName !== name) throw badRequest(`the name of the object (${bodyName}) does not match the name on the URL (${name})`);
  }

  async #subresource(req: IncomingMessage, res: ServerResponse, url: URL, r: Route, name: string, sub: string, method: string): Promise<void> {
    const { info } = r;
    const api = this.server.direct;
    const ref = { resource: info.plural, namespace: r.namespace, name };
    const notServed = (): never => {
      req.resume();
      throw new ApiError(statusOf(404, "NotFound", "the server could not find the requested resource", {}) as Status);
    };
    if (sub === "status" && STATUS_SUBRESOURCE.has(info.kind)) {
      switch (method) {
        case "GET":
          return send(res, 200, api.get(ref));
        case "PUT": {
          const body = parseBody(await readBody(req), mediaType(req)) as KubeObject;
          this.#checkName(body, name);
          return send(res, 200, api.updateStatus(info.plural, r.namespace, body));
        }
        case "PATCH": {
          const type = PATCH_TYPES[mediaType(req)];
          if (type === undefined) throw httpError(415, "UnsupportedMediaType", "the body of the request was in an unknown format");
          const patch = parseBody(await readBody(req), mediaType(req));
          const cur = api.get(ref);
          const next = applyPatch(type, cur, patch);
          return send(res, 200, api.updateStatus(info.plural, r.namespace, next));
        }
        default:
          req.resume();
          throw methodNotAllowed("the server does not allow this method on the requested resource");
      }
    }
    if (sub === "scale" && SCALE_SUBRESOURCE.has(info.kind)) {
      const cur = api.get(ref);
      let wanted: KubeObject;
      switch (method) {
        case "GET":
          return send(res, 200, scaleOf(cur));
        case "PUT":
          wanted = parseBody(await readBody(req), mediaType(req)) as KubeObject;
          break;
        case "PATCH": {
          const type = PATCH_TYPES[mediaType(req)];
          if (type === undefined) throw httpError(415, "UnsupportedMediaType", "the body of the request was in an unknown format");
          wanted = applyPatch(type, scaleOf(cur), parseBody(await readBody(req), mediaType(req)));
          break;
        }
        default:
          req.resume();
          throw methodNotAllowed("the server does not allow this method on the requested resource");
      }
      const replicas = (wanted?.spec as { replicas?: unknown } | undefined)?.replicas;
      if (typeof replicas !== "number" || !Number.isInteger(replicas)) throw badRequest(`Scale in version "v1" cannot be handled as a Scale: spec.replicas must be an integer`);
      if (replicas < 0)
        throw new ApiError(
          statusOf(422, "Invalid", `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${replicas}: must be greater than or equal to 0`, {
            name,
            group: "autoscaling",
            kind: "Scale",
            causes: [{ reason: "FieldValueInvalid", message: `Invalid value: ${replicas}: must be greater than or equal to 0`, field: "spec.replicas" }],
          }) as Status,
        );
      const next = clone(cur);
      const rv = wanted.metadata?.resourceVersion;
      if (rv !== undefined && rv !== "") next.metadata.resourceVersion = rv;
      (next.spec as { replicas?: number }).replicas = replicas;
      return send(res, 200, scaleOf(api.update(info.plural, r.namespace, next, writeOptions(url))));
    }
    if (info.kind === "Pod" && sub === "log") {
      if (method !== "GET") throw methodNotAllowed("the server does not allow this method on the requested resource");
      return this.#logs(req, res, url, r, name);
    }
    if (info.kind === "Pod" && sub === "exec") {
      req.resume();
      api.get(ref);
      throw badRequest("Upgrade request required");
    }
    return notServed();
  }

  async #logs(req: IncomingMessage, res: ServerResponse, url: URL, r: Route, name: string): Promise<void> {
    const api = this.server.direct;
    const pod = api.get<Pod>({ resource: "pods", namespace: r.namespace, name });
    const containers = pod.spec.containers.map((c) => c.name);
    let container = q(url, "container");
    if (container === undefined || container === "") {
      if (containers.length !== 1)
        throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${containers.join(" ")}]`);
      container = containers[0]!;
    } else if (!containers.includes(container)) {
      throw badRequest(`container ${container} is not valid for pod ${name}`);
    }
    const logs = this.options.logs;
    const read = async (): Promise<string> => (logs === undefined ? "" : await logs(pod, container));
    let text = await read();
    const tail = Number(q(url, "tailLines") ?? "-1");
    let shown = text;
    if (tail >= 0) {
      const lines = text.split("\n");
      const trailing = lines[lines.length - 1] === "" ? lines.pop() : undefined;
      shown = lines.slice(Math.max(0, lines.length - tail)).join("\n") + (trailing !== undefined && lines.length > 0 && tail > 0 ? "\n" : "");
    }
    if (!flag(url, "follow")) {
      res.writeHead(200, { "Content-Type": "text/plain", "Cache-Control": "no-cache, private" });
      res.end(shown);
      return;
    }
    res.writeHead(200, { "Content-Type": "text/plain", "Cache-Control": "no-cache, private", "Transfer-Encoding": "chunked" });
    res.write(shown);
    let stopped = false;
    const untrack = this.track(() => stop());
    const timer = setInterval(() => {
      void (async () => {
        const current = this.server.store.get("pods", pod.metadata.namespace ?? "default", name);
        if (current === undefined || current.metadata.uid !== pod.metadata.uid) return stop();
        let next: string;
        try {
          next = await read();
        } catch {
          return stop();
        }
        if (stopped) return;
        if (next.startsWith(text)) res.write(next.slice(text.length));
        else res.write(next);
        text = next;
      })();
    }, this.options.followIntervalMs ?? 500);
    function stop(): void {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      untrack();
      res.end();
    }
    req.on("close", stop);
  }

  /** An upgrade request: `pods/exec` over WebSocket. */
  upgrade(req: IncomingMessage, socket: Duplex): void {
    const fail = (s: AnyStatus): void => {
      const text = JSON.stringify(s);
      socket.end(
        `HTTP/1.1 ${s.code} ${s.reason || "Error"}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
      );
    };
    try {
      if (!this.authorized(req)) return fail(statusOf(401, "Unauthorized", "Unauthorized"));
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const segs = url.pathname.replace(/\/+$/, "").split("/").slice(1);
      const r = segs[0] === "api" && segs[1] === "v1" ? route(segs.slice(2), "v1") : undefined;
      if (r === undefined || r.info.kind !== "Pod" || r.name === undefined || (r.subresource !== "exec" && r.subresource !== "attach"))
        return fail(statusOf(404, "NotFound", "the server could not find the requested resource", {}));
      if (r.subresource === "attach") return fail(statusOf(400, "BadRequest", "kemu does not serve pods/attach"));
      const pod = this.server.direct.get<Pod>({ resource: "pods", namespace: r.namespace, name: r.name });
      const problem = execProblem(pod, url);
      if (problem !== undefined) return fail(statusOf(400, "BadRequest", problem));
      if ((req.headers.upgrade ?? "").toLowerCase() !== "websocket")
        return fail(statusOf(400, "BadRequest", "kemu serves pods/exec over WebSocket only (v5.channel.k8s.io); SPDY is not supported: use kubectl 1.30 or later (1.29: KUBECTL_REMOTE_COMMAND_WEBSOCKETS=true)"));
      serveExec(req, socket, url, pod, this.options.exec, (stop) => this.track(stop));
    } catch (err) {
      fail(errorStatus(err));
    }
  }
}

/** Applies a patch of any type to an object (for subresources). */
function applyPatch(type: PatchType, cur: KubeObject, patch: unknown): KubeObject {
  switch (type) {
    case "merge":
      return mergePatch(clone(cur), patch) as KubeObject;
    case "json":
      return jsonPatch(clone(cur), patch) as KubeObject;
    default:
      return strategicMergePatch(clone(cur), patch) as KubeObject;
  }
}

/**
 * Serves `server` as the Kubernetes REST API on 127.0.0.1. Every request
 * needs `Authorization: Bearer <token>`.
 *
 * ```ts
 * const rest = await startRestServer(server, { token: "s3cret" });
 * // kubectl --server http://127.0.0.1:${rest.port} --token s3cret get pods
 * await rest.close();
 * ```
 */
export async function startRestServer(server: ApiServer, options: RestServerOptions): Promise<RestServer> {
  if (options.token === "") throw new Error("startRestServer: a token is required");
  const handler = new RestHandler(server, options);
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => void handler.handle(req, res);
  const http: Server = options.tls === undefined ? createServer(onRequest) : createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, onRequest);
  http.on("upgrade", (req: IncomingMessage, socket: Duplex) => handler.upgrade(req, socket));
  http.on("clientError", (_err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
  });
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen({ port: options.port ?? 0, host: options.host ?? "127.0.0.1" }, () => {
      http.off("error", reject);
      resolve();
    });
  });
  const address = http.address();
  handler.port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    port: handler.port,
    close: () =>
      new Promise<void>((resolve) => {
        handler.closeAll();
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}
