/**
 * The ingress-nginx controller (registry.k8s.io/ingress-nginx/controller
 * v1.10) as its pod runs it: it watches IngressClasses, Ingresses, Services,
 * EndpointSlices and its own pods through the API, serves HTTP on :80 in
 * its pod, routes each request by Host then path as the Ingress spec says,
 * and proxies it to a ready endpoint of the backend Service (pod IP and
 * target port, round-robin per upstream, as ingress-nginx's balancer does —
 * not through the ClusterIP). No matching rule: the controller's default
 * backend, a 404 page; a Service without ready endpoints: 503. It writes
 * each Ingress's status.loadBalancer with the InternalIPs of the nodes its
 * running pods are on (the bare-metal deployment has no publish Service).
 *
 * Its class: IngressClasses whose controller is `--controller-class`
 * (k8s.io/ingress-nginx); Ingresses naming one of them in
 * spec.ingressClassName, or with the old `kubernetes.io/ingress.class`
 * annotation equal to `--ingress-class` (nginx). The default-class
 * annotation is honoured by the API server's admission, which fills in
 * spec.ingressClassName.
 *
 * The API: the pod's process reaches its node's API client as the host
 * service "api", as CoreDNS does. Not modelled: TLS, annotations
 * (rewrite-target and the rest), the admission webhook, leader election,
 * upstream keep-alive, metrics and health ports.
 */
import type { ApiClient, EndpointSlice, Ingress, IngressBackend, IngressClass, KubeObject, Node, Pod, Service, WatchEvent } from "@kemu/api";
import { TcpConnection, type TcpConnection as Conn, TcpListener } from "@kemu/kernel";
import { formatIpv4Addr, parseIpv4Addr } from "@kemu/wire";
import type { Command, ProcessContext } from "../process.ts";
import {
  acceptEach,
  ByteReader,
  clfDate,
  errnoOf,
  headerValue,
  httpDate,
  type HttpRequestHead,
  isAbort,
  latin1Bytes,
  readBody,
  readRequestHead,
  readResponseHead,
  responseFraming,
  wallClock,
} from "./http.ts";

/** The controller's version banner. */
export const INGRESS_NGINX_VERSION = "v1.10.1";

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  404: "Not Found",
  502: "Bad Gateway",
  503: "Service Temporarily Unavailable",
  504: "Gateway Time-out",
};

/** nginx's error page with `server_tokens off` (no version in the footer), as ingress-nginx serves it. */
export function ingressErrorPage(status: number): string {
  const title = `${status} ${STATUS_TEXT[status] ?? ""}`;
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
}

/** Where a request goes: a Service port in a namespace, or the controller's own default backend (404). */
export type Upstream = { readonly namespace: string; readonly service: string; readonly port: number | string } | "default";

/** One path of one host, compiled from an Ingress. */
export interface IngressPath {
  readonly path: string;
  readonly pathType: "Exact" | "Prefix" | "ImplementationSpecific";
  readonly upstream: Upstream;
}

/** One nginx `server`: a host (`_` for the catch-all) with its paths and what `/` falls back to. */
export interface IngressServer {
  readonly host: string;
  readonly paths: IngressPath[];
  fallback: Upstream;
}

/** The routing table: servers by host name. */
export type IngressRouting = ReadonlyMap<string, IngressServer>;

function upstreamOf(namespace: string, b: IngressBackend | undefined): Upstream {
  const svc = b?.service;
  if (svc === undefined) return "default";
  return { namespace, service: svc.name, port: svc.port?.number ?? svc.port?.name ?? 80 };
}

const CATCH_ALL = "_";

/**
 * The servers ingress-nginx builds from `ingresses` (already filtered by
 * class), oldest first as it sorts them: one per host (rules without a host
 * go to the catch-all `_`), each with its paths (the first Ingress to claim
 * a host and path keeps it). A host's `/` falls back to the defaultBackend
 * of the first Ingress naming the host; the catch-all's to the
 * defaultBackend of an Ingress that has no rules, else the controller's 404.
 */
export function buildRouting(ingresses: readonly Ingress[]): IngressRouting {
  const sorted = [...ingresses].sort(
    (a, b) =>
      (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? "") ||
      `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`),
  );
  const servers = new Map<string, IngressServer>();
  servers.set(CATCH_ALL, { host: CATCH_ALL, paths: [], fallback: "default" });
  for (const ing of sorted) {
    const ns = ing.metadata.namespace ?? "default";
    const rules = ing.spec?.rules ?? [];
    const own = upstreamOf(ns, ing.spec?.defaultBackend);
    if (rules.length === 0 && own !== "default") {
      const all = servers.get(CATCH_ALL)!;
      if (all.fallback === "default") all.fallback = own;
    }
    for (const rule of rules) {
      const host = rule.host !== undefined && rule.host !== "" ? rule.host.toLowerCase() : CATCH_ALL;
      let server = servers.get(host);
      if (server === undefined) servers.set(host, (server = { host, paths: [], fallback: own }));
      for (const p of rule.http?.paths ?? []) {
        const path = p.path === undefined || p.path === "" ? "/" : p.path;
        if (server.paths.some((x) => x.path === path && x.pathType === p.pathType)) continue;
        server.paths.push({ path, pathType: p.pathType, upstream: upstreamOf(ns, p.backend) });
      }
    }
  }
  return servers;
}

/** The server for a Host header's name: exact, then a `*.` wildcard one label deep, then the catch-all. */
export function serverFor(routing: IngressRouting, hostHeader: string): IngressServer {
  const host = hostHeader.replace(/:\d*$/, "").replace(/\.$/, "").toLowerCase();
  const exact = routing.get(host);
  if (exact !== undefined && host !== CATCH_ALL) return exact;
  const dot = host.indexOf(".");
  if (dot > 0) {
    const wild = routing.get(`*${host.slice(dot)}`);
    if (wild !== undefined) return wild;
  }
  return routing.get(CATCH_ALL)!;
}

/** Whether a Prefix path matches: element-wise, a trailing `/` ignored (`/foo` takes `/foo/bar`, not `/foobar`). */
export function prefixMatches(prefix: string, path: string): boolean {
  const p = prefix.length > 1 ? prefix.replace(/\/+$/, "") : prefix;
  if (p === "/" || p === "") return true;
  return path === p || path.startsWith(`${p}/`);
}

/**
 * Where a request goes, by the Ingress spec: an Exact path equal to the
 * request's path wins; then the longest matching Prefix (ImplementationSpecific
 * is nginx's plain string prefix); then the server's fallback.
 */
export function routeRequest(routing: IngressRouting, hostHeader: string, target: string): Upstream {
  const server = serverFor(routing, hostHeader);
  const path = target.split("?")[0]!;
  const exact = server.paths.find((p) => p.pathType === "Exact" && p.path === path);
  if (exact !== undefined) return exact.upstream;
  let best: IngressPath | undefined;
  for (const p of server.paths) {
    if (p.pathType === "Exact") continue;
    const ok = p.pathType === "Prefix" ? prefixMatches(p.path, path) : path.startsWith(p.path);
    if (ok && (best === undefined || p.path.replace(/\/+$/, "").length > best.path.replace(/\/+$/, "").length)) best = p;
  }
  return best?.upstream ?? server.fallback;
}

/** The ready endpoints (`ip:port`) of a Service port, from its EndpointSlices. */
export function endpointsOf(service: Service | undefined, slices: Iterable<EndpointSlice>, port: number | string): string[] {
  if (service === undefined) return [];
  const sp = (service.spec.ports ?? []).find((p) => (typeof port === "number" ? p.port === port : p.name === port));
  if (sp === undefined) return [];
  const out: string[] = [];
  for (const s of slices) {
    if (s.metadata.namespace !== service.metadata.namespace || s.metadata.labels?.["kubernetes.io/service-name"] !== service.metadata.name) continue;
    const ep = (s.ports ?? []).find((p) => (p.name ?? "") === (sp.name ?? ""));
    if (ep?.port === undefined) continue;
    for (const e of s.endpoints) if (e.conditions?.ready !== false) for (const a of e.addresses) out.push(`${a}:${ep.port}`);
  }
  return out;
}

/** What the controller knows of the cluster, kept current by its watches. */
class ClusterCache {
  readonly ingresses = new Map<string, Ingress>();
  readonly classes = new Map<string, IngressClass>();
  readonly services = new Map<string, Service>();
  readonly slices = new Map<string, EndpointSlice>();
  readonly pods = new Map<string, Pod>();
  readonly nodes = new Map<string, Node>();
}

const keyOf = (o: KubeObject) => `${o.metadata.namespace ?? ""}/${o.metadata.name ?? ""}`;

interface Options {
  controllerClass: string;
  ingressClass: string;
  watchWithoutClass: boolean;
  httpPort: number;
}

function parseArgs(argv: readonly string[]): Options | "version" {
  const o: Options = { controllerClass: "k8s.io/ingress-nginx", ingressClass: "nginx", watchWithoutClass: false, httpPort: 80 };
  for (const raw of argv) {
    const a = raw.replace(/^--?/, "");
    const eq = a.indexOf("=");
    const [k, v] = eq < 0 ? [a, "true"] : [a.slice(0, eq), a.slice(eq + 1)];
    if (k === "controller-class") o.controllerClass = v;
    else if (k === "ingress-class") o.ingressClass = v;
    else if (k === "watch-ingress-without-class") o.watchWithoutClass = v !== "false";
    else if (k === "http-port") o.httpPort = Number(v);
    else if (k === "version") return "version";
  }
  return o;
}

/** Whether this controller serves `ing`: its class names one of ours, or the old annotation names our class. */
export function servesIngress(ing: Ingress, classes: Iterable<IngressClass>, options: { controllerClass: string; ingressClass: string; watchWithoutClass?: boolean }): boolean {
  const annotation = ing.metadata.annotations?.["kubernetes.io/ingress.class"];
  if (annotation !== undefined) return annotation === options.ingressClass;
  const name = ing.spec?.ingressClassName;
  if (name === undefined) return options.watchWithoutClass === true;
  for (const c of classes) if (c.metadata.name === name && c.spec?.controller === options.controllerClass) return true;
  return false;
}

const BANNER = (v: string) =>
  `-------------------------------------------------------------------------------\nNGINX Ingress controller\n  Release:       ${v}\n  Build:         4fb5aac1dd1669daa15e2e4e5e4ec1aa2e8a9c9c\n  Repository:    https://github.com/kubernetes/ingress-nginx\n  nginx version: nginx/1.25.3\n\n-------------------------------------------------------------------------------\n\n`;

/** `/nginx-ingress-controller [--controller-class=…] [--ingress-class=…] [--watch-ingress-without-class] [--http-port=N]` */
export const nginxIngressController: Command = async (ctx) => {
  const options = parseArgs(ctx.argv.slice(1));
  if (options === "version") {
    ctx.stdout.write(BANNER(INGRESS_NGINX_VERSION));
    return 0;
  }
  ctx.stdout.write(BANNER(INGRESS_NGINX_VERSION));
  const api = ctx.host.service<ApiClient>("api");
  if (api === undefined) {
    ctx.stderr.write("F0101 00:00:00.000000       7 main.go:64] Error while initiating a connection to the Kubernetes API server. This could mean the cluster is misconfigured (e.g. it has invalid API server certificates or Service Accounts configuration). Reason: invalid configuration: no configuration has been provided\n");
    return 255;
  }
  let listener: TcpListener;
  try {
    listener = TcpListener.listen(ctx.netns, 0, options.httpPort, { backlog: 511 });
  } catch {
    ctx.stderr.write(`F0101 00:00:00.000000       7 main.go:109] port ${options.httpPort} is already in use. Please check the flag --http-port\n`);
    return 255;
  }
  const cache = new ClusterCache();
  let routing: IngressRouting = buildRouting([]);
  const podNamespace = ctx.env.get("POD_NAMESPACE") ?? "ingress-nginx";
  const podName = ctx.env.get("POD_NAME") ?? ctx.env.get("HOSTNAME") ?? "";
  const ours = () => [...cache.ingresses.values()].filter((i) => servesIngress(i, cache.classes.values(), options));
  let statusQueued = false;
  const resync = () => {
    routing = buildRouting(ours());
    if (!statusQueued) {
      statusQueued = true;
      queueMicrotask(() => {
        statusQueued = false;
        void syncStatus(api, cache, ours(), podNamespace, podName).catch(() => {});
      });
    }
  };
  const track = <T extends KubeObject>(map: Map<string, T>, affectsRouting: boolean) => (ev: WatchEvent<T>) => {
    if (ev.type === "ADDED" || ev.type === "MODIFIED") map.set(keyOf(ev.object), ev.object);
    else if (ev.type === "DELETED") map.delete(keyOf(ev.object));
    else return;
    if (affectsRouting) resync();
  };
  const stops = [
    api.watch<IngressClass>("ingressclasses", "", {}, track(cache.classes, true)),
    api.watch<Ingress>("ingresses", "", {}, track(cache.ingresses, true)),
    api.watch<Service>("services", "", {}, track(cache.services, false)),
    api.watch<EndpointSlice>("endpointslices", "", {}, track(cache.slices, false)),
    api.watch<Pod>("pods", podNamespace, {}, track(cache.pods, true)),
    api.watch<Node>("nodes", "", {}, track(cache.nodes, true)),
  ];
  const next = new Map<string, number>();
  const pick = (u: Exclude<Upstream, "default">): string | undefined => {
    const eps = endpointsOf(cache.services.get(`${u.namespace}/${u.service}`), cache.slices.values(), u.port);
    if (eps.length === 0) return undefined;
    const key = `${u.namespace}-${u.service}-${u.port}`;
    const i = next.get(key) ?? 0;
    next.set(key, (i + 1) % eps.length);
    return eps[i % eps.length];
  };
  const onAbort = () => listener.close();
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  try {
    await acceptEach(listener, ctx.signal, (conn) => {
      void serveClient(ctx, conn, (req) => routeRequest(routing, headerValue(req, "host") ?? "", req.target), pick);
    });
  } finally {
    for (const s of stops) s();
    ctx.signal.removeEventListener("abort", onAbort);
    listener.close();
  }
  return ctx.signal.aborted ? 143 : 0;
};

/** Sets status.loadBalancer of our Ingresses to the InternalIPs of the nodes our running pods are on. */
async function syncStatus(api: ApiClient, cache: ClusterCache, ingresses: readonly Ingress[], namespace: string, podName: string): Promise<void> {
  const me = cache.pods.get(`${namespace}/${podName}`);
  const selector = me?.metadata.labels ?? {};
  const nodes = new Set<string>();
  for (const p of cache.pods.values()) {
    if (p.status?.phase !== "Running" || p.metadata.deletionTimestamp !== undefined || p.spec.nodeName === undefined) continue;
    if (Object.entries(selector).every(([k, v]) => k === "pod-template-hash" || p.metadata.labels?.[k] === v)) nodes.add(p.spec.nodeName);
  }
  const ips = [...nodes]
    .map((n) => cache.nodes.get(`/${n}`)?.status?.addresses?.find((a) => a.type === "InternalIP")?.address)
    .filter((a): a is string => a !== undefined)
    .sort();
  if (ips.length === 0) return;
  const want = ips.map((ip) => ({ ip }));
  for (const ing of ingresses) {
    if (JSON.stringify(ing.status?.loadBalancer?.ingress ?? []) === JSON.stringify(want)) continue;
    await api.updateStatus("ingresses", ing.metadata.namespace ?? "default", { ...ing, status: { loadBalancer: { ingress: want } } });
  }
}

interface Reply {
  status: number;
  reason: string;
  headers: Array<[string, string]>;
  body: Uint8Array;
}

/** Response headers nginx does not pass from the upstream (it sets its own or drops them). */
const HIDDEN = new Set(["server", "date", "content-type", "content-length", "last-modified", "connection", "keep-alive", "transfer-encoding", "x-pad", "x-accel-expires", "x-accel-redirect", "x-accel-limit-rate", "x-accel-buffering", "x-accel-charset"]);

async function serveClient(
  ctx: ProcessContext,
  conn: Conn,
  route: (req: HttpRequestHead) => Upstream,
  pick: (u: Exclude<Upstream, "default">) => string | undefined,
): Promise<void> {
  const client = formatIpv4Addr(conn.remoteAddr);
  const reader = new ByteReader(conn, () => ({ signal: ctx.signal, timeoutMs: 60_000 }));
  try {
    for (;;) {
      const req = await readRequestHead(reader);
      if (req === undefined) break;
      const connection = (headerValue(req, "connection") ?? "").toLowerCase();
      const keepAlive = req.version === "HTTP/1.1" ? connection !== "close" : connection === "keep-alive";
      const length = Number(headerValue(req, "content-length") ?? "0");
      const chunks: Uint8Array[] = [];
      for await (const c of readBody(reader, { kind: "length", length: Number.isFinite(length) ? length : 0 })) chunks.push(c);
      const body = concat(chunks);
      const upstream = route(req);
      let reply: Reply;
      let upstreamName = "upstream-default-backend";
      let upstreamAddr = "127.0.0.1:8181";
      if (upstream === "default") reply = errorReply(404);
      else {
        upstreamName = `${upstream.namespace}-${upstream.service}-${upstream.port}`;
        const ep = pick(upstream);
        upstreamAddr = ep ?? "-";
        reply = ep === undefined ? errorReply(503) : await proxy(ctx, ep, req, body, client);
      }
      // nginx's header filter order: Date, Content-Type, Content-Length, Last-Modified, Connection, then the upstream's others.
      const own = new Set(["Content-Type", "Content-Length", "Last-Modified"]);
      const finalHeaders: Array<[string, string]> = [
        ["Date", httpDate(wallClock(ctx.clock.now()))],
        ...reply.headers.filter(([k]) => own.has(k)),
        ["Connection", keepAlive ? "keep-alive" : "close"],
        ...reply.headers.filter(([k]) => !own.has(k)),
      ];
      const head = latin1Bytes(`HTTP/1.1 ${reply.status} ${reply.reason}\r\n${finalHeaders.map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`);
      const sendBody = req.method !== "HEAD";
      await conn.write(sendBody ? concat([head, reply.body]) : head, { signal: ctx.signal });
      const ua = headerValue(req, "user-agent") ?? "-";
      const referer = headerValue(req, "referer") ?? "-";
      ctx.stdout.write(
        `${client} - - [${clfDate(wallClock(ctx.clock.now()))}] "${req.startLine}" ${reply.status} ${sendBody ? reply.body.length : 0} "${referer}" "${ua}" ${reader.total} 0.000 [${upstreamName}] [] ${upstreamAddr} ${reply.body.length} 0.000 ${reply.status}\n`,
      );
      if (!keepAlive) break;
    }
  } catch (e) {
    if (isAbort(e)) {
      conn.abort();
      return;
    }
    if (errnoOf(e) === undefined) throw e;
  }
  conn.close();
}

function errorReply(status: number): Reply {
  const page = latin1Bytes(ingressErrorPage(status));
  return { status, reason: STATUS_TEXT[status] ?? "", headers: [["Content-Type", "text/html"], ["Content-Length", String(page.length)]], body: page };
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Sends the request to `endpoint` (`ip:port`) with ingress-nginx's proxy headers and reads the whole response. */
async function proxy(ctx: ProcessContext, endpoint: string, req: HttpRequestHead, body: Uint8Array, client: string): Promise<Reply> {
  const [ip, port] = endpoint.split(":") as [string, string];
  const host = headerValue(req, "host") ?? "";
  const hex = Array.from({ length: 16 }, () => ctx.host.kernel.rng.below(256).toString(16).padStart(2, "0")).join("");
  const set: Array<[string, string]> = [
    ["Host", host],
    ["X-Request-ID", hex],
    ["X-Real-IP", client],
    ["X-Forwarded-For", client],
    ["X-Forwarded-Host", host],
    ["X-Forwarded-Port", "80"],
    ["X-Forwarded-Proto", "http"],
    ["X-Forwarded-Scheme", "http"],
    ["X-Scheme", "http"],
    ["Connection", "close"],
  ];
  const skip = new Set(["host", "connection", "x-request-id", "x-real-ip", "x-forwarded-for", "x-forwarded-host", "x-forwarded-port", "x-forwarded-proto", "x-forwarded-scheme", "x-scheme", "proxy", "keep-alive"]);
  const headers = [...set, ...req.headers.filter(([k]) => !skip.has(k.toLowerCase()))];
  let conn: Conn;
  try {
    conn = await TcpConnection.connect(ctx.netns, parseIpv4Addr(ip)!, Number(port), { signal: ctx.signal, timeoutMs: 5_000 });
  } catch (e) {
    if (isAbort(e)) throw e;
    return errorReply(errnoOf(e) === "ETIMEDOUT" ? 504 : 502);
  }
  try {
    await conn.write(concat([latin1Bytes(`${req.method} ${req.target} HTTP/1.1\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`), body]), { signal: ctx.signal });
    const reader = new ByteReader(conn, () => ({ signal: ctx.signal, timeoutMs: 60_000 }));
    const head = await readResponseHead(reader);
    if (head === undefined) return errorReply(502);
    const chunks: Uint8Array[] = [];
    for await (const c of readBody(reader, responseFraming(head, req.method))) chunks.push(c);
    const data = concat(chunks);
    const out: Array<[string, string]> = [];
    const type = headerValue(head, "content-type");
    if (type !== undefined) out.push(["Content-Type", type]);
    out.push(["Content-Length", String(data.length)]);
    const lm = headerValue(head, "last-modified");
    if (lm !== undefined) out.push(["Last-Modified", lm]);
    for (const [k, v] of head.headers) if (!HIDDEN.has(k.toLowerCase())) out.push([k, v]);
    return { status: head.status, reason: head.reason, headers: out, body: data };
  } catch (e) {
    if (isAbort(e)) throw e;
    return errorReply(502);
  } finally {
    conn.close();
  }
}

/** The controller image's program. */
export const ingressNginxCommands: Record<string, Command> = { "nginx-ingress-controller": nginxIngressController };
