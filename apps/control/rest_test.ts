import test from "ava";
import { randomBytes } from "node:crypto";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { connect } from "node:net";
import type { KubeObject, Pod } from "@kemu/api";
import { EventLoop, Rng } from "@kemu/kernel";
import { bootstrap } from "./bootstrap.ts";
import { MAX_BODY_BYTES, type RestServer, startRestServer } from "./rest.ts";
import type { ExecBackend } from "./rest_exec.ts";
import { FrameReader, OP, acceptKey, encodeFrame } from "./rest_ws.ts";
import { ApiServer } from "./server.ts";

const TOKEN = "test-token-0123456789";

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json: () => Record<string, unknown>;
}

async function call(rest: RestServer, method: string, path: string, options: { body?: string | Buffer | object; type?: string; token?: string | null; accept?: string } = {}): Promise<Reply> {
  const body = options.body === undefined ? undefined : typeof options.body === "string" || Buffer.isBuffer(options.body) ? options.body : JSON.stringify(options.body);
  const headers: Record<string, string | number> = {};
  if (options.token !== null) headers["Authorization"] = `Bearer ${options.token ?? TOKEN}`;
  if (body !== undefined) {
    headers["Content-Type"] = options.type ?? "application/json";
    headers["Content-Length"] = Buffer.byteLength(body);
  }
  if (options.accept !== undefined) headers["Accept"] = options.accept;
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port: rest.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) as Record<string, unknown> });
      });
    });
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function pod(name: string, extra: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: "v1", kind: "Pod", metadata: { name, labels: { app: "web" } }, spec: { containers: [{ name: "c", image: "busybox" }], ...extra } };
}

async function setup(exec?: ExecBackend): Promise<{ server: ApiServer; rest: RestServer }> {
  const server = new ApiServer(new EventLoop(), new Rng(3));
  bootstrap(server, { controlAddress: "192.168.56.10" });
  const options: Parameters<typeof startRestServer>[1] = { token: TOKEN, logs: async (p) => `log of ${p.metadata.name}\nline 2\n` };
  if (exec !== undefined) options.exec = exec;
  const rest = await startRestServer(server, options);
  return { server, rest };
}

test("requests without the bearer token get 401 Unauthorized", async (t) => {
  const { rest } = await setup();
  try {
    for (const token of [null, "wrong"]) {
      const r = await call(rest, "GET", "/api/v1/pods", { token });
      t.is(r.status, 401);
      t.like(r.json(), { kind: "Status", status: "Failure", reason: "Unauthorized", code: 401, message: "Unauthorized" });
    }
    const bad = await call(rest, "POST", "/api/v1/namespaces/default/pods", { token: null, body: pod("x") });
    t.is(bad.status, 401);
    t.is((await call(rest, "GET", "/api/v1/namespaces/default/pods/x")).status, 404);
  } finally {
    await rest.close();
  }
});

test("discovery: version, core and group resource lists", async (t) => {
  const { rest } = await setup();
  try {
    t.like((await call(rest, "GET", "/version")).json(), { major: "1", minor: "30" });
    const api = await call(rest, "GET", "/api", { accept: "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json" });
    t.is(api.headers["content-type"], "application/json");
    t.like(api.json(), { kind: "APIVersions", versions: ["v1"] });
    const apis = (await call(rest, "GET", "/apis")).json() as { groups: Array<{ name: string }> };
    t.deepEqual(
      apis.groups.map((g) => g.name),
      ["apps", "discovery.k8s.io", "networking.k8s.io"],
    );
    const v1 = (await call(rest, "GET", "/api/v1")).json() as { groupVersion: string; resources: Array<Record<string, unknown>> };
    t.is(v1.groupVersion, "v1");
    const pods = v1.resources.find((r) => r["name"] === "pods")!;
    t.like(pods, { singularName: "pod", namespaced: true, kind: "Pod", shortNames: ["po"] });
    t.true((pods["verbs"] as string[]).includes("watch"));
    const names = v1.resources.map((r) => r["name"]);
    for (const n of ["pods/status", "pods/log", "pods/exec", "namespaces", "nodes", "services"]) t.true(names.includes(n), n);
    const apps = (await call(rest, "GET", "/apis/apps/v1")).json() as { resources: Array<Record<string, unknown>> };
    t.like(
      apps.resources.find((r) => r["name"] === "deployments/scale"),
      { kind: "Scale", group: "autoscaling", version: "v1" },
    );
    const networking = (await call(rest, "GET", "/apis/networking.k8s.io/v1")).json() as { resources: Array<Record<string, unknown>> };
    t.deepEqual(
      networking.resources.map((r) => [r["name"], r["kind"], r["namespaced"], r["shortNames"]]),
      [
        ["ingresses", "Ingress", true, ["ing"]],
        ["ingresses/status", "Ingress", true, undefined],
        ["ingressclasses", "IngressClass", false, undefined],
      ],
    );
    const unknown = await call(rest, "GET", "/api/v1/namespaces/default/widgets");
    t.is(unknown.status, 404);
    t.like(unknown.json(), { reason: "NotFound", message: "the server could not find the requested resource" });
  } finally {
    await rest.close();
  }
});

test("create, get, list with selectors and limit, put, delete", async (t) => {
  const { server, rest } = await setup();
  try {
    const created = await call(rest, "POST", "/api/v1/namespaces/default/pods?fieldValidation=Strict", { body: pod("a") });
    t.is(created.status, 201);
    const a = created.json() as unknown as Pod;
    t.is(a.metadata.namespace, "default");
    t.truthy(a.metadata.resourceVersion);
    t.is((await call(rest, "POST", "/api/v1/namespaces/default/pods", { body: pod("b", {}) })).status, 201);
    const dup = await call(rest, "POST", "/api/v1/namespaces/default/pods", { body: pod("a") });
    t.is(dup.status, 409);
    t.like(dup.json(), { reason: "AlreadyExists", message: 'pods "a" already exists' });

    const got = await call(rest, "GET", "/api/v1/namespaces/default/pods/a");
    t.is(got.status, 200);
    t.is((got.json()["metadata"] as { uid: string }).uid, a.metadata.uid ?? "");
    const missing = await call(rest, "GET", "/api/v1/namespaces/default/pods/zz");
    t.is(missing.status, 404);
    t.like(missing.json(), { reason: "NotFound", message: 'pods "zz" not found', details: { name: "zz", kind: "pods" } });

    const page1 = (await call(rest, "GET", "/api/v1/namespaces/default/pods?limit=1")).json() as { items: Pod[]; metadata: { continue: string } };
    t.is(page1.items.length, 1);
    t.truthy(page1.metadata.continue);
    const page2 = (await call(rest, "GET", `/api/v1/namespaces/default/pods?limit=1&continue=${encodeURIComponent(page1.metadata.continue)}`)).json() as { items: Pod[] };
    t.deepEqual(page2.items.map((p) => p.metadata.name), ["b"]);
    const sel = (await call(rest, "GET", "/api/v1/pods?labelSelector=app%3Dweb&fieldSelector=metadata.name%3Db")).json() as { kind: string; items: Pod[] };
    t.is(sel.kind, "PodList");
    t.deepEqual(sel.items.map((p) => p.metadata.name), ["b"]);

    const upd = { ...a, metadata: { ...a.metadata, labels: { app: "web", v: "2" } } };
    const put = await call(rest, "PUT", "/api/v1/namespaces/default/pods/a", { body: upd });
    t.is(put.status, 200);
    const stale = await call(rest, "PUT", "/api/v1/namespaces/default/pods/a", { body: upd });
    t.is(stale.status, 409);
    t.like(stale.json(), { reason: "Conflict" });
    const wrongName = await call(rest, "PUT", "/api/v1/namespaces/default/pods/b", { body: upd });
    t.is(wrongName.status, 400);

    const del = await call(rest, "DELETE", "/api/v1/namespaces/default/pods/b", { body: { kind: "DeleteOptions", apiVersion: "v1", propagationPolicy: "Background" } });
    t.is(del.status, 200);
    t.is(server.store.get("pods", "default", "b"), undefined);
    const cm = await call(rest, "POST", "/api/v1/namespaces/default/configmaps", { body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, data: { k: "v" } } });
    t.is(cm.status, 201);
    const cmDel = await call(rest, "DELETE", "/api/v1/namespaces/default/configmaps/c?propagationPolicy=Background");
    t.is(cmDel.status, 200);
    t.like(cmDel.json(), { kind: "Status", status: "Success", details: { name: "c", kind: "configmaps" } });
  } finally {
    await rest.close();
  }
});

test("rejected requests store nothing: malformed, strict, too large, bad namespace", async (t) => {
  const { server, rest } = await setup();
  try {
    const rv = server.store.resourceVersion;
    const malformed = await call(rest, "POST", "/api/v1/namespaces/default/pods", { body: '{"apiVersion":"v1",' });
    t.is(malformed.status, 400);
    t.like(malformed.json(), { reason: "BadRequest" });
    const badYaml = await call(rest, "POST", "/api/v1/namespaces/default/pods", { body: "a: [1,\n", type: "application/yaml" });
    t.is(badYaml.status, 400);
    const strict = await call(rest, "POST", "/api/v1/namespaces/default/pods?fieldValidation=Strict", {
      body: { ...pod("s"), spec: { containers: [{ name: "c", image: "busybox", imagee: "x" }] } },
    });
    t.is(strict.status, 400);
    t.regex(strict.json()["message"] as string, /strict decoding error: unknown field "spec.containers\[0\].imagee"/);
    const warn = await call(rest, "POST", "/api/v1/namespaces/default/configmaps", { body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "w" }, dta: {} } });
    t.is(warn.status, 201);
    t.regex(String(warn.headers["warning"]), /unknown field \\"dta\\"/);
    const rv2 = server.store.resourceVersion;
    const big = await call(rest, "POST", "/api/v1/namespaces/default/configmaps", {
      body: JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "big" }, data: { k: "x".repeat(MAX_BODY_BYTES) } }),
    });
    t.is(big.status, 413);
    t.like(big.json(), { reason: "RequestEntityTooLarge", code: 413 });
    const invalid = await call(rest, "POST", "/api/v1/namespaces/default/pods", { body: { apiVersion: "v1", kind: "Pod", metadata: { name: "i" }, spec: { containers: [{ name: "c" }] } } });
    t.is(invalid.status, 422);
    t.like(invalid.json(), { reason: "Invalid", details: { kind: "Pod", causes: [{ field: "spec.containers[0].image" }] } });
    const noNs = await call(rest, "POST", "/api/v1/namespaces/nope/pods", { body: pod("n") });
    t.is(noNs.status, 404);
    t.is(server.store.resourceVersion, rv2);
    t.true(rv2 > rv);
    t.is(server.store.get("pods", "default", "s"), undefined);
    const method = await call(rest, "POST", "/api/v1/namespaces/default/pods/x", { body: pod("x") });
    t.is(method.status, 405);
    t.like(method.json(), { reason: "MethodNotAllowed" });
  } finally {
    await rest.close();
  }
});

test("patch: merge, json, strategic, apply with a field manager", async (t) => {
  const { rest } = await setup();
  try {
    await call(rest, "POST", "/api/v1/namespaces/default/pods", { body: pod("p") });
    const base = "/api/v1/namespaces/default/pods/p";
    const merge = await call(rest, "PATCH", base, { body: { metadata: { labels: { m: "1" } } }, type: "application/merge-patch+json" });
    t.is(merge.status, 200);
    t.like(merge.json(), { metadata: { labels: { app: "web", m: "1" } } });
    const json = await call(rest, "PATCH", base, { body: [{ op: "add", path: "/metadata/labels/j", value: "2" }], type: "application/json-patch+json" });
    t.like(json.json(), { metadata: { labels: { j: "2" } } });
    const smp = await call(rest, "PATCH", base, { body: { spec: { containers: [{ name: "c", image: "busybox:1.36" }] } }, type: "application/strategic-merge-patch+json" });
    t.is(smp.status, 200);
    t.is((smp.json() as unknown as Pod).spec.containers[0]!.image, "busybox:1.36");
    const bad = await call(rest, "PATCH", base, { body: { a: 1 }, type: "text/plain" });
    t.is(bad.status, 415);
    const cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  k: v\n";
    const noManager = await call(rest, "PATCH", "/api/v1/namespaces/default/configmaps/applied", { body: cm, type: "application/apply-patch+yaml" });
    t.is(noManager.status, 422);
    const applied = await call(rest, "PATCH", "/api/v1/namespaces/default/configmaps/applied?fieldManager=kubectl&force=true", { body: cm, type: "application/apply-patch+yaml" });
    t.is(applied.status, 201);
    t.like(applied.json(), { data: { k: "v" } });
    const again = await call(rest, "PATCH", "/api/v1/namespaces/default/configmaps/applied?fieldManager=kubectl", { body: cm.replace("k: v", "k: w"), type: "application/apply-patch+yaml" });
    t.is(again.status, 200);
    t.like(again.json(), { data: { k: "w" } });
  } finally {
    await rest.close();
  }
});

function deployment(name: string): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name },
    spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "c", image: "nginx" }] } } },
  };
}

test("status and scale subresources", async (t) => {
  const { rest } = await setup();
  try {
    t.is((await call(rest, "POST", "/apis/apps/v1/namespaces/default/deployments", { body: deployment("web") })).status, 201);
    const scale = await call(rest, "GET", "/apis/apps/v1/namespaces/default/deployments/web/scale");
    t.like(scale.json(), { kind: "Scale", apiVersion: "autoscaling/v1", spec: { replicas: 1 }, status: { selector: "app=web" } });
    const patched = await call(rest, "PATCH", "/apis/apps/v1/namespaces/default/deployments/web/scale", { body: { spec: { replicas: 3 } }, type: "application/merge-patch+json" });
    t.is(patched.status, 200);
    t.like(patched.json(), { spec: { replicas: 3 } });
    t.like((await call(rest, "GET", "/apis/apps/v1/namespaces/default/deployments/web")).json(), { spec: { replicas: 3 } });
    const negative = await call(rest, "PUT", "/apis/apps/v1/namespaces/default/deployments/web/scale", { body: { apiVersion: "autoscaling/v1", kind: "Scale", metadata: { name: "web" }, spec: { replicas: -1 } } });
    t.is(negative.status, 422);
    const status = await call(rest, "PATCH", "/apis/apps/v1/namespaces/default/deployments/web/status", { body: { status: { observedGeneration: 1, replicas: 2 } }, type: "application/merge-patch+json" });
    t.is(status.status, 200);
    t.like(status.json(), { status: { replicas: 2 }, spec: { replicas: 3 } });
    const table = await call(rest, "GET", "/apis/apps/v1/namespaces/default/deployments", { accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json" });
    const tbl = table.json() as { kind: string; columnDefinitions: Array<{ name: string }>; rows: Array<{ cells: unknown[] }> };
    t.is(tbl.kind, "Table");
    t.deepEqual(
      tbl.columnDefinitions.map((c) => c.name).slice(0, 5),
      ["Name", "Ready", "Up-to-date", "Available", "Age"],
    );
    t.deepEqual(tbl.rows[0]!.cells.slice(0, 2), ["web", "0/3"]);
  } finally {
    await rest.close();
  }
});

/** Opens a watch and collects its events until `count` arrived. */
function watch(rest: RestServer, path: string, count: number, onOpen: () => void): Promise<Array<{ type: string; object: KubeObject }>> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port: rest.port, path, headers: { Authorization: `Bearer ${TOKEN}` } }, (res) => {
      let buf = "";
      const events: Array<{ type: string; object: KubeObject }> = [];
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          events.push(JSON.parse(buf.slice(0, nl)) as { type: string; object: KubeObject });
          buf = buf.slice(nl + 1);
        }
        if (events.length >= count) {
          req.destroy();
          resolve(events);
        }
      });
      res.on("end", () => resolve(events));
      onOpen();
    });
    req.on("error", (e) => (e.message.includes("aborted") ? undefined : reject(e)));
    req.end();
  });
}

test("watch streams events from a resourceVersion; too old gives a 410 ERROR event", async (t) => {
  const { server, rest } = await setup();
  try {
    const list = (await call(rest, "GET", "/api/v1/namespaces/default/pods")).json() as { metadata: { resourceVersion: string } };
    const events = watch(rest, `/api/v1/namespaces/default/pods?watch=1&resourceVersion=${list.metadata.resourceVersion}`, 3, () => {
      void (async () => {
        await call(rest, "POST", "/api/v1/namespaces/default/pods", { body: pod("w") });
        await call(rest, "PATCH", "/api/v1/namespaces/default/pods/w", { body: { metadata: { labels: { x: "y" } } }, type: "application/merge-patch+json" });
        await call(rest, "DELETE", "/api/v1/namespaces/default/pods/w");
      })();
    });
    const got = await events;
    t.deepEqual(
      got.map((e) => `${e.type} ${e.object.metadata.name}`),
      ["ADDED w", "MODIFIED w", "DELETED w"],
    );
    t.true(Number(got[1]!.object.metadata.resourceVersion) > Number(got[0]!.object.metadata.resourceVersion));

    const small = new ApiServer(new EventLoop(), new Rng(1), { watchHistorySize: 2 });
    bootstrap(small, { controlAddress: "192.168.56.10" });
    for (let i = 0; i < 5; i++) small.direct.create("configmaps", "default", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: `c${i}` } });
    const rest2 = await startRestServer(small, { token: TOKEN });
    try {
      const gone = await watch(rest2, "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=1", 1, () => {});
      t.is(gone[0]!.type, "ERROR");
      t.like(gone[0]!.object, { kind: "Status", code: 410, reason: "Expired" });
    } finally {
      await rest2.close();
    }
    t.truthy(server);
  } finally {
    await rest.close();
  }
});

test("pods/log returns the container's log", async (t) => {
  const { rest } = await setup();
  try {
    await call(rest, "POST", "/api/v1/namespaces/default/pods", { body: pod("l") });
    const r = await call(rest, "GET", "/api/v1/namespaces/default/pods/l/log?container=c");
    t.is(r.status, 200);
    t.is(r.text, "log of l\nline 2\n");
    t.is((await call(rest, "GET", "/api/v1/namespaces/default/pods/l/log?tailLines=1")).text, "line 2\n");
    t.is((await call(rest, "GET", "/api/v1/namespaces/default/pods/l/log?container=nope")).status, 400);
  } finally {
    await rest.close();
  }
});

/** Sends a raw upgrade request; resolves with the response head and a reader of later bytes. */
function upgrade(rest: RestServer, path: string, protocols: string): Promise<{ head: string; frames: () => Promise<Array<{ opcode: number; data: Buffer }>>; write: (b: Buffer) => void }> {
  return new Promise((resolve, reject) => {
    const key = randomBytes(16).toString("base64");
    const sock = connect(rest.port, "127.0.0.1");
    let buf = Buffer.alloc(0);
    let resolved = false;
    const reader = new FrameReader();
    const messages: Array<{ opcode: number; data: Buffer }> = [];
    let ended = false;
    let wake: () => void = () => {};
    sock.on("data", (chunk: Buffer) => {
      if (!resolved) {
        buf = Buffer.concat([buf, chunk]);
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = buf.subarray(0, end).toString("latin1");
        const rest = buf.subarray(end + 4);
        resolved = true;
        if (head.includes(` 101 `)) t_check(head, key);
        if (rest.length > 0) messages.push(...reader.push(rest));
        resolve({
          head: head + (head.includes(" 101 ") ? "" : `\r\n\r\n${rest.toString("utf8")}`),
          frames: () =>
            new Promise((r) => {
              const check = (): void => {
                if (ended || messages.some((m) => m.opcode === OP.close)) r(messages);
                else wake = check;
              };
              check();
            }),
          write: (b) => sock.write(b),
        });
        return;
      }
      messages.push(...reader.push(chunk));
      wake();
    });
    sock.on("end", () => {
      ended = true;
      wake();
    });
    sock.on("error", reject);
    sock.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Protocol: ${protocols}\r\n\r\n`,
    );
  });
}

function t_check(head: string, key: string): void {
  if (!head.includes(`Sec-WebSocket-Accept: ${acceptKey(key)}`)) throw new Error(`bad accept in ${head}`);
}

async function runningPod(server: ApiServer, name: string): Promise<void> {
  server.direct.create("pods", "default", pod(name));
  server.direct.bind({ resource: "pods", namespace: "default", name }, "node1");
  const cur = server.direct.get<Pod>({ resource: "pods", namespace: "default", name });
  server.direct.updateStatus("pods", "default", { ...cur, status: { ...cur.status, phase: "Running" } });
}

test("pods/exec over WebSocket v5.channel.k8s.io: handshake, stdout frame, exit status", async (t) => {
  const calls: string[][] = [];
  const exec: ExecBackend = async (_pod, _container, argv, io) => {
    calls.push(argv);
    if (io.stdinOpen) {
      const line = await io.stdin.readLine();
      io.stdout.write(`got ${line}\n`);
      return 0;
    }
    io.stdout.write(`hello from ${argv.join(" ")}\n`);
    io.stderr.write("warn\n");
    return argv[0] === "false" ? 1 : 0;
  };
  const { server, rest } = await setup(exec);
  try {
    await runningPod(server, "e");
    const ok = await upgrade(rest, "/api/v1/namespaces/default/pods/e/exec?command=echo&command=hi&container=c&stdout=true&stderr=true", "v5.channel.k8s.io, v4.channel.k8s.io");
    t.regex(ok.head, /^HTTP\/1.1 101 /);
    t.regex(ok.head, /Sec-WebSocket-Protocol: v5.channel.k8s.io/);
    const frames = await ok.frames();
    const data = frames.filter((f) => f.opcode === OP.binary);
    t.deepEqual(
      data.map((f) => [f.data[0], f.data.subarray(1).toString("utf8")]),
      [
        [1, "hello from echo hi\n"],
        [2, "warn\n"],
        [3, JSON.stringify({ metadata: {}, status: "Success" })],
      ],
    );
    t.deepEqual(calls[0], ["echo", "hi"]);

    const fail = await upgrade(rest, "/api/v1/namespaces/default/pods/e/exec?command=false&stdout=true", "v5.channel.k8s.io");
    const err = (await fail.frames()).find((f) => f.data[0] === 3)!;
    t.like(JSON.parse(err.data.subarray(1).toString("utf8")), { status: "Failure", reason: "NonZeroExitCode", details: { causes: [{ reason: "ExitCode", message: "1" }] } });

    const interactive = await upgrade(rest, "/api/v1/namespaces/default/pods/e/exec?command=cat&stdin=true&stdout=true", "v5.channel.k8s.io");
    const mask = randomBytes(4);
    interactive.write(encodeFrame(OP.binary, Buffer.from("\u0000ping\n"), mask));
    interactive.write(encodeFrame(OP.binary, Buffer.from([255, 0]), mask));
    const got = (await interactive.frames()).filter((f) => f.data[0] === 1).map((f) => f.data.subarray(1).toString("utf8"));
    t.deepEqual(got, ["got ping\n"]);

    const noProto = await upgrade(rest, "/api/v1/namespaces/default/pods/e/exec?command=ls", "channel.k8s.io");
    t.regex(noProto.head, /^HTTP\/1.1 400 /);
    const missing = await upgrade(rest, "/api/v1/namespaces/default/pods/zz/exec?command=ls", "v5.channel.k8s.io");
    t.regex(missing.head, /^HTTP\/1.1 404 /);
  } finally {
    await rest.close();
  }
});

test("openapi: v3 documents and the v2 protobuf advertise fieldValidation on PATCH", async (t) => {
  const { rest } = await setup();
  try {
    const root = (await call(rest, "GET", "/openapi/v3")).json() as { paths: Record<string, { serverRelativeURL: string }> };
    t.truthy(root.paths["apis/apps/v1"]);
    const doc = (await call(rest, "GET", root.paths["apis/apps/v1"]!.serverRelativeURL)).json() as { paths: Record<string, { patch: Record<string, unknown> }> };
    const patch = doc.paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]!.patch;
    t.deepEqual(patch["x-kubernetes-group-version-kind"], { group: "apps", version: "v1", kind: "Deployment" });
    t.true((patch["parameters"] as Array<{ name: string; in: string }>).some((p) => p.name === "fieldValidation" && p.in === "query"));
    const v2 = await call(rest, "GET", "/openapi/v2");
    t.is(v2.status, 200);
    t.is(v2.headers["content-type"], "application/com.github.proto-openapi.spec.v2.v1.0+protobuf");
    t.true(v2.text.includes("x-kubernetes-group-version-kind") && v2.text.includes("fieldValidation"));
  } finally {
    await rest.close();
  }
});

test("TLS: serves HTTPS with the self-signed certificate as its own trust root", async (t) => {
  const { selfSignedCert } = await import("./rest_tls.ts");
  const { request } = await import("node:https");
  const server = new ApiServer(new EventLoop(), new Rng(3));
  bootstrap(server, { controlAddress: "192.168.56.10" });
  const tls = selfSignedCert();
  const rest = await startRestServer(server, { token: TOKEN, tls });
  try {
    const body = await new Promise<string>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port: rest.port, path: "/api/v1/namespaces", ca: tls.cert, headers: { Authorization: `Bearer ${TOKEN}` } }, (res) => {
        let s = "";
        res.on("data", (c: Buffer) => (s += c.toString()));
        res.on("end", () => resolve(s));
      });
      req.on("error", reject);
      req.end();
    });
    t.like(JSON.parse(body), { kind: "NamespaceList" });
  } finally {
    await rest.close();
  }
});

test("pods/log follow streams new output until the client goes", async (t) => {
  let text = "one\n";
  const server = new ApiServer(new EventLoop(), new Rng(3));
  bootstrap(server, { controlAddress: "192.168.56.10" });
  const rest = await startRestServer(server, { token: TOKEN, logs: async () => text, followIntervalMs: 20 });
  try {
    server.direct.create("pods", "default", pod("f"));
    const got = await new Promise<string>((resolve, reject) => {
      const req = httpRequest({ host: "127.0.0.1", port: rest.port, path: "/api/v1/namespaces/default/pods/f/log?follow=true", headers: { Authorization: `Bearer ${TOKEN}` } }, (res) => {
        let s = "";
        res.on("data", (c: Buffer) => {
          s += c.toString();
          if (s === "one\n") text = "one\ntwo\n";
          if (s.includes("two")) {
            req.destroy();
            resolve(s);
          }
        });
      });
      req.on("error", (e) => (e.message.includes("aborted") || e.message.includes("socket hang up") ? undefined : reject(e)));
      req.end();
    });
    t.is(got, "one\ntwo\n");
  } finally {
    await rest.close();
  }
});

test("watch: bookmarks when allowed, and a pod table row per event for kubectl get -w", async (t) => {
  const server = new ApiServer(new EventLoop(), new Rng(3));
  bootstrap(server, { controlAddress: "192.168.56.10" });
  const rest = await startRestServer(server, { token: TOKEN, bookmarkSeconds: 0.05 });
  try {
    const rv = String(server.store.resourceVersion);
    const marks = await watch(rest, `/api/v1/namespaces/default/pods?watch=1&allowWatchBookmarks=true&resourceVersion=${rv}`, 1, () => {});
    t.like(marks[0], { type: "BOOKMARK", object: { kind: "Pod", apiVersion: "v1", metadata: { resourceVersion: rv } } });
    const rows = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(
        {
          host: "127.0.0.1",
          port: rest.port,
          path: `/api/v1/namespaces/default/pods?watch=1&resourceVersion=${rv}`,
          headers: { Authorization: `Bearer ${TOKEN}`, Accept: "application/json;as=Table;v=v1;g=meta.k8s.io" },
        },
        (res) => {
          res.setEncoding("utf8");
          res.once("data", (d: string) => {
            req.destroy();
            resolve(d);
          });
          server.direct.create("pods", "default", pod("tw"));
        },
      );
      req.on("error", (e) => (e.message.includes("aborted") ? undefined : reject(e)));
      req.end();
    });
    const event = JSON.parse(rows.split("\n")[0]!) as { type: string; object: { kind: string; rows: Array<{ cells: unknown[] }> } };
    t.is(event.type, "ADDED");
    t.is(event.object.kind, "Table");
    t.deepEqual(event.object.rows[0]!.cells.slice(0, 4), ["tw", "0/1", "Pending", "0"]);
  } finally {
    await rest.close();
  }
});
