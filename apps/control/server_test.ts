import test from "ava";
import { ApiError, type KubeObject, type Pod, type Service, type WatchEvent } from "@kemu/api";
import { EventLoop, Rng } from "@kemu/kernel";
import { bootstrap } from "./bootstrap.ts";
import { ApiServer } from "./server.ts";

function server(options: ConstructorParameters<typeof ApiServer>[2] = {}): ApiServer {
  const s = new ApiServer(new EventLoop(), new Rng(7), options);
  bootstrap(s, { controlAddress: "192.168.56.10" });
  return s;
}

function pod(name: string, spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: "v1", kind: "Pod", metadata: { name, ...meta }, spec: { containers: [{ name: "c", image: "busybox" }], ...spec } };
}

function error(t: { fail(m: string): void }, f: () => unknown): ApiError {
  try {
    f();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  t.fail("no error");
  throw new Error("unreachable");
}

test("create defaults a pod as the API server does", (t) => {
  const s = server();
  const p = s.direct.create<Pod>("pods", "default", pod("p", { containers: [{ name: "c", image: "nginx:1.25", ports: [{ containerPort: 80 }] }, { name: "d", image: "busybox" }] }));
  t.is(p.metadata.namespace, "default");
  t.regex(p.metadata.uid ?? "", /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  t.is(p.metadata.creationTimestamp, "2026-01-01T00:00:00Z");
  t.like(p.spec, { dnsPolicy: "ClusterFirst", restartPolicy: "Always", terminationGracePeriodSeconds: 30, schedulerName: "default-scheduler" });
  t.is(p.spec.containers[0]!.imagePullPolicy, "IfNotPresent");
  t.is(p.spec.containers[1]!.imagePullPolicy, "Always");
  t.is(p.spec.containers[0]!.ports![0]!.protocol, "TCP");
  t.deepEqual(p.status, { phase: "Pending", qosClass: "BestEffort" });
  t.deepEqual(
    (p.spec["tolerations"] as Array<{ key: string; tolerationSeconds: number }>).map((x) => [x.key, x.tolerationSeconds]),
    [
      ["node.kubernetes.io/not-ready", 300],
      ["node.kubernetes.io/unreachable", 300],
    ],
  );
});

test("time stamps follow the emulated clock from 2026-01-01T00:00:00Z", (t) => {
  const clock = new EventLoop();
  const s = new ApiServer(clock, new Rng(1));
  clock.runUntil(65_400);
  const ns = s.direct.create("namespaces", "", { apiVersion: "v1", kind: "Namespace", metadata: { name: "x" } });
  t.is(ns.metadata.creationTimestamp, "2026-01-01T00:01:05Z");
});

test("invalid objects are refused with the API server's messages", (t) => {
  const s = server();
  const cases: Array<[KubeObject, string]> = [
    [pod("p", { containers: [{ name: "c" }] }), 'Pod "p" is invalid: spec.containers[0].image: Required value'],
    [
      pod("Bad_Name"),
      `Pod "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
    ],
    [pod("p", { containers: [{ name: "a", image: "x" }, { name: "a", image: "y" }] }), 'Pod "p" is invalid: spec.containers[1].name: Duplicate value: "a"'],
    [pod("p", { containers: [{ name: "a", image: "x", ports: [{ containerPort: 70000 }] }] }), 'Pod "p" is invalid: spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive'],
    [pod("p", { restartPolicy: "always" }), 'Pod "p" is invalid: spec.restartPolicy: Unsupported value: "always": supported values: "Always", "OnFailure", "Never"'],
    [pod("p", { containers: [] }), 'Pod "p" is invalid: spec.containers: Required value'],
    [{ apiVersion: "v1", kind: "Pod", metadata: {}, spec: { containers: [{ name: "c", image: "x" }] } }, 'Pod "" is invalid: metadata.name: Required value: name or generateName is required'],
    [
      pod("p", { containers: [{ name: "c", image: "x", resources: { requests: { cpu: "2" }, limits: { cpu: "1" } } }] }),
      'Pod "p" is invalid: spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1',
    ],
    [pod("p", {}, { labels: { app: "a b" } }), `Pod "p" is invalid: metadata.labels: Invalid value: "a b": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`],
  ];
  for (const [obj, message] of cases) {
    const e = error(t, () => s.direct.create("pods", "default", obj));
    t.is(e.message, message);
    t.is(e.code, 422);
    t.is(e.reason, "Invalid");
  }
  const e = error(t, () => s.direct.create("pods", "default", pod("p", { containers: [{ name: "c" }, { name: "c", image: "x" }] })));
  t.is(e.message, 'Pod "p" is invalid: [spec.containers[0].image: Required value, spec.containers[1].name: Duplicate value: "c"]');
  t.deepEqual(e.status.details, {
    name: "p",
    kind: "Pod",
    causes: [
      { reason: "FieldValueRequired", message: "Required value", field: "spec.containers[0].image" },
      { reason: "FieldValueDuplicate", message: 'Duplicate value: "c"', field: "spec.containers[1].name" },
    ],
  });
});

test("a Deployment whose selector does not match its template is invalid", (t) => {
  const s = server();
  const e = error(t, () =>
    s.direct.create("deployments", "default", {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "d" },
      spec: { selector: { matchLabels: { app: "y" } }, template: { metadata: { labels: { app: "x" } }, spec: { containers: [{ name: "c", image: "i" }] } } },
    }),
  );
  t.is(e.message, 'Deployment.apps "d" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"x"}: `selector` does not match template `labels`');
  t.deepEqual(e.status.details?.kind, "Deployment");
  t.deepEqual(e.status.details?.group, "apps");
});

test("Deployment defaults: replicas 1, RollingUpdate 25%/25%, history 10, deadline 600", (t) => {
  const s = server();
  const d = s.direct.create("deployments", "default", {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "d" },
    spec: { selector: { matchLabels: { app: "x" } }, template: { metadata: { labels: { app: "x" } }, spec: { containers: [{ name: "c", image: "i:latest" }] } } },
  });
  t.like(d.spec as object, { replicas: 1, strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } }, revisionHistoryLimit: 10, progressDeadlineSeconds: 600 });
  t.is(d.metadata.generation, 1);
  t.deepEqual(d.status, {});
});

test("strict field validation refuses unknown fields anywhere, naming them", (t) => {
  const s = server();
  const bad = pod("p", { containers: [{ name: "c", image: "nginx", ports: [{ continerPort: 80 }] }] });
  const e = error(t, () => s.direct.create("pods", "default", bad, { fieldValidation: "Strict" }));
  t.is(e.code, 400);
  t.is(e.reason, "BadRequest");
  t.is(e.message, 'Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.containers[0].ports[0].continerPort"');
  const e2 = error(t, () =>
    s.direct.create(
      "deployments",
      "default",
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "d", lables: {} },
        spec: { replica: 2, selector: { matchLabels: { a: "b" } }, template: { metadata: { labels: { a: "b" } }, spec: { containers: [{ name: "c", image: "i", imagePullPolicyy: "Always" }] } } },
      },
      { fieldValidation: "Strict" },
    ),
  );
  t.is(
    e2.message,
    'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "metadata.lables", unknown field "spec.replica", unknown field "spec.template.spec.containers[0].imagePullPolicyy"',
  );
  // Without Strict, unknown fields are dropped, as decoding into Go types does: here that leaves the port without a number.
  t.is(error(t, () => s.direct.create("pods", "default", bad)).message, 'Pod "p" is invalid: spec.containers[0].ports[0].containerPort: Required value');
  const p = s.direct.create<Pod>("pods", "default", pod("p", { containers: [{ name: "c", image: "nginx", colour: "blue" }] }));
  t.false("colour" in p.spec.containers[0]!);
});

test("real manifests with every common field pass strict validation", (t) => {
  const s = server();
  s.direct.create(
    "pods",
    "default",
    {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "full", labels: { app: "x" }, annotations: { note: "y" }, creationTimestamp: null as unknown as string },
      spec: {
        volumes: [{ name: "html", emptyDir: {} }, { name: "cfg", configMap: { name: "c", items: [{ key: "k", path: "p" }] } }],
        initContainers: [{ name: "init", image: "busybox", command: ["sh", "-c", "true"] }],
        containers: [
          {
            name: "web",
            image: "nginx",
            imagePullPolicy: "IfNotPresent",
            ports: [{ name: "http", containerPort: 80, protocol: "TCP" }],
            env: [{ name: "A", value: "1" }, { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } }],
            envFrom: [{ configMapRef: { name: "c" } }],
            resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "0.5", memory: "128Mi" } },
            volumeMounts: [{ name: "html", mountPath: "/usr/share/nginx/html" }],
            readinessProbe: { httpGet: { path: "/", port: "http" }, initialDelaySeconds: 1, periodSeconds: 5 },
            livenessProbe: { tcpSocket: { port: 80 } },
            securityContext: { runAsUser: 101, capabilities: { add: ["NET_ADMIN"] } },
            lifecycle: { preStop: { exec: { command: ["sleep", "1"] } } },
            stdin: true,
            tty: true,
          },
        ],
        nodeSelector: { "kubernetes.io/os": "linux" },
        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "a", operator: "Exists" }] }] } } },
        tolerations: [{ key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" }],
        hostname: "web",
        subdomain: "svc",
        dnsConfig: { options: [{ name: "ndots", value: "2" }] },
        terminationGracePeriodSeconds: 5,
      },
    },
    { fieldValidation: "Strict" },
  );
  const p = s.direct.get<Pod>({ resource: "pods", namespace: "default", name: "full" });
  t.deepEqual(p.spec.containers[0]!.resources, { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "500m", memory: "128Mi" } });
});

test("wrong JSON types are refused with encoding/json's words", (t) => {
  const s = server();
  const e = error(t, () => s.direct.create("pods", "default", pod("p", { containers: [{ name: "c", image: "x", ports: [{ containerPort: "80" }] }] })));
  t.is(e.message, 'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32');
  const e2 = error(t, () => s.direct.create("pods", "default", pod("p", { containers: [{ name: "c", image: "x", resources: { limits: { cpu: "lots" } } }] })));
  t.is(e2.message, "Pod in version \"v1\" cannot be handled as a Pod: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
});

test("kind and version must match the resource", (t) => {
  const s = server();
  const e = error(t, () => s.direct.create("pods", "default", { apiVersion: "v1", kind: "Service", metadata: { name: "x" }, spec: {} }));
  t.is(e.code, 400);
  t.is(e.message, 'Service in version "v1" cannot be handled as a Pod: converting (v1.Service) to (core.Pod): unknown conversion');
  const e2 = error(t, () => s.direct.create("deployments", "default", { apiVersion: "apps/v1beta9", kind: "Deployment", metadata: { name: "x" } }));
  t.is(e2.code, 400);
  t.regex(e2.message, /^Deployment in version "v1beta9" cannot be handled as a Deployment: no kind "Deployment" is registered for version "apps\/v1beta9"/);
  const e3 = error(t, () => s.direct.list("widgets", "default"));
  t.is(e3.code, 404);
  t.is(e3.message, "the server could not find the requested resource");
});

test("AlreadyExists, NotFound, Conflict and a missing namespace", (t) => {
  const s = server();
  s.direct.create("pods", "default", pod("x"));
  let e = error(t, () => s.direct.create("pods", "default", pod("x")));
  t.is(e.code, 409);
  t.is(e.reason, "AlreadyExists");
  t.is(e.message, 'pods "x" already exists');
  e = error(t, () => s.direct.get({ resource: "pods", namespace: "default", name: "nope" }));
  t.is(e.code, 404);
  t.is(e.message, 'pods "nope" not found');
  t.deepEqual(e.status.details, { name: "nope", kind: "pods" });
  e = error(t, () => s.direct.get({ resource: "deployments", namespace: "default", name: "nope" }));
  t.is(e.message, 'deployments.apps "nope" not found');
  const cur = s.direct.get<Pod>({ resource: "pods", namespace: "default", name: "x" });
  const stale = structuredClone(cur);
  cur.metadata.labels = { a: "1" };
  s.direct.update("pods", "default", cur);
  stale.metadata.labels = { a: "2" };
  e = error(t, () => s.direct.update("pods", "default", stale));
  t.is(e.code, 409);
  t.is(e.reason, "Conflict");
  t.is(e.message, 'Operation cannot be fulfilled on pods "x": the object has been modified; please apply your changes to the latest version and try again');
  e = error(t, () => s.direct.create("pods", "x", pod("y")));
  t.is(e.code, 404);
  t.is(e.message, 'namespaces "x" not found');
  e = error(t, () => s.direct.delete({ resource: "namespaces", namespace: "", name: "default" }));
  t.is(e.code, 403);
  t.is(e.message, 'namespaces "default" is forbidden: this namespace may not be deleted');
});

test("resourceVersions count every write; generation counts spec changes", (t) => {
  const s = server();
  const a = s.direct.create<Pod>("pods", "default", pod("a"));
  const b = s.direct.create<Pod>("pods", "default", pod("b"));
  t.is(Number(b.metadata.resourceVersion), Number(a.metadata.resourceVersion) + 1);
  const a2 = s.direct.patch<Pod>({ resource: "pods", namespace: "default", name: "a" }, "merge", { metadata: { labels: { x: "y" } } });
  t.is(Number(a2.metadata.resourceVersion), Number(b.metadata.resourceVersion) + 1);
  t.is(a2.metadata.generation, 1);
  const a3 = s.direct.patch<Pod>({ resource: "pods", namespace: "default", name: "a" }, "strategic", { spec: { containers: [{ name: "c", image: "busybox:2" }] } });
  t.is(a3.metadata.generation, 2);
  t.is(a3.spec.containers.length, 1);
  t.is(a3.spec.containers[0]!.image, "busybox:2");
  // A write that changes nothing is no write.
  const a4 = s.direct.update<Pod>("pods", "default", a3);
  t.is(a4.metadata.resourceVersion, a3.metadata.resourceVersion);
  const e = error(t, () => s.direct.patch({ resource: "pods", namespace: "default", name: "a" }, "merge", { spec: { nodeName: "n1" } }));
  t.is(e.code, 422);
  t.regex(e.message, /^Pod "a" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers\[\*\].image`/);
});

test("generateName adds five characters from kube's alphabet", (t) => {
  const s = server();
  const p = s.direct.create("pods", "default", { ...pod(""), metadata: { generateName: "web-" } });
  t.regex(p.metadata.name ?? "", /^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
});

test("runs repeat exactly from the seed", (t) => {
  const names = (): string[] => {
    const s = server();
    return [1, 2, 3].map(() => {
      const p = s.direct.create("pods", "default", { ...pod(""), metadata: { generateName: "x-" } });
      return `${p.metadata.name} ${p.metadata.uid}`;
    });
  };
  t.deepEqual(names(), names());
});

test("list filters by label and field selectors and pages with limit/continue", (t) => {
  const s = server();
  for (const [name, labels] of [
    ["a", { app: "web", tier: "front" }],
    ["b", { app: "web", tier: "back" }],
    ["c", { app: "db" }],
    ["d", {}],
  ] as const)
    s.direct.create("pods", "default", pod(name, {}, { labels }));
  const names = (sel: string, fieldSelector = ""): string[] => s.direct.list("pods", "default", { labelSelector: sel, fieldSelector }).items.map((p) => p.metadata.name ?? "");
  t.deepEqual(names("app=web"), ["a", "b"]);
  t.deepEqual(names("app==web,tier!=back"), ["a"]);
  t.deepEqual(names("app in (db, web)"), ["a", "b", "c"]);
  t.deepEqual(names("app notin (web)"), ["c", "d"]);
  t.deepEqual(names("tier"), ["a", "b"]);
  t.deepEqual(names("!tier"), ["c", "d"]);
  t.deepEqual(names("", "metadata.name=c"), ["c"]);
  t.deepEqual(names("", "status.phase=Pending,metadata.name!=a"), ["b", "c", "d"]);
  t.deepEqual(names("", "spec.nodeName="), ["a", "b", "c", "d"]);
  const e = error(t, () => s.direct.list("pods", "default", { fieldSelector: "spec.foo=x" }));
  t.is(e.code, 400);
  t.is(e.message, "field label not supported: spec.foo");
  const page1 = s.direct.list("pods", "default", { limit: 3 });
  t.deepEqual(page1.items.map((p) => p.metadata.name), ["a", "b", "c"]);
  t.truthy(page1.metadata.continue);
  t.is(page1.kind, "PodList");
  const page2 = s.direct.list("pods", "default", { limit: 3, continue: page1.metadata.continue! });
  t.deepEqual(page2.items.map((p) => p.metadata.name), ["d"]);
  t.is(page2.metadata.continue, undefined);
  t.is(s.direct.list("pods", "").items.length, 4);
});

test("watch from a resourceVersion replays what followed; too old gives 410 Expired", async (t) => {
  const s = server({ watchHistorySize: 5 });
  const start = s.store.resourceVersion;
  s.direct.create("pods", "default", pod("a"));
  const events: string[] = [];
  const stop = s.watch("pods", "default", { resourceVersion: String(start) }, (e) => events.push(`${e.type} ${e.object.metadata.name}`));
  s.direct.create("pods", "default", pod("b"));
  s.direct.delete({ resource: "pods", namespace: "default", name: "a" });
  t.deepEqual(events, [], "events come in a microtask, not inside the write");
  await Promise.resolve();
  t.deepEqual(events, ["ADDED a", "ADDED b", "DELETED a"]);
  stop();
  for (let i = 0; i < 10; i++) s.direct.create("configmaps", "default", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: `c${i}` } });
  const got: WatchEvent[] = [];
  s.watch("pods", "default", { resourceVersion: "5" }, (e) => got.push(e));
  await Promise.resolve();
  t.is(got.length, 1);
  t.is(got[0]!.type, "ERROR");
  const status = got[0]!.object as unknown as { code: number; reason: string; message: string };
  t.is(status.code, 410);
  t.is(status.reason, "Expired");
  t.is(status.message, `too old resource version: 5 (${s.store.resourceVersion - 5})`);
  const e = error(t, () => s.direct.watch("pods", "default", { resourceVersion: "5" }, () => {}));
  t.is(e.code, 410);
});

test("watch with a label selector sees objects enter and leave it", async (t) => {
  const s = server();
  const events: string[] = [];
  s.watch("pods", "default", { labelSelector: "app=web" }, (e) => events.push(`${e.type} ${e.object.metadata.name}`));
  s.direct.create("pods", "default", pod("a"));
  s.direct.patch({ resource: "pods", namespace: "default", name: "a" }, "merge", { metadata: { labels: { app: "web" } } });
  s.direct.patch({ resource: "pods", namespace: "default", name: "a" }, "merge", { metadata: { labels: { other: "x" } } });
  s.direct.patch({ resource: "pods", namespace: "default", name: "a" }, "merge", { metadata: { labels: { app: "db" } } });
  await Promise.resolve();
  t.deepEqual(events, ["ADDED a", "MODIFIED a", "DELETED a"]);
});

test("a pod bound to a node is deleted gracefully; its kubelet finishes the deletion", (t) => {
  const s = server();
  s.direct.create("pods", "default", pod("p", { nodeName: "node1", terminationGracePeriodSeconds: 20 }));
  const marked = s.direct.delete<Pod>({ resource: "pods", namespace: "default", name: "p" });
  t.is(marked.metadata.deletionTimestamp, "2026-01-01T00:00:20Z");
  t.is(marked.metadata["deletionGracePeriodSeconds"], 20);
  t.truthy(s.store.get("pods", "default", "p"));
  s.direct.delete({ resource: "pods", namespace: "default", name: "p" }, { gracePeriodSeconds: 0 });
  t.is(s.store.get("pods", "default", "p"), undefined);
  // Unbound pods, or with gracefulPodDeletion off, go at once.
  s.direct.create("pods", "default", pod("q"));
  s.direct.delete({ resource: "pods", namespace: "default", name: "q" });
  t.is(s.store.get("pods", "default", "q"), undefined);
  const s2 = server({ gracefulPodDeletion: false });
  s2.direct.create("pods", "default", pod("p", { nodeName: "node1" }));
  s2.direct.delete({ resource: "pods", namespace: "default", name: "p" });
  t.is(s2.store.get("pods", "default", "p"), undefined);
});

test("an update keeps the status; updateStatus changes only the status", (t) => {
  const s = server();
  const p = s.direct.create<Pod>("pods", "default", pod("p"));
  p.status = { phase: "Running" };
  const u = s.direct.update<Pod>("pods", "default", p);
  t.is(u.status?.phase, "Pending");
  u.status = { ...u.status, phase: "Running", podIP: "10.244.0.2" };
  u.metadata.labels = { ignored: "yes" };
  const v = s.direct.updateStatus<Pod>("pods", "default", u);
  t.is(v.status?.podIP, "10.244.0.2");
  t.is(v.metadata.labels, undefined);
});

test("patch types: merge, JSON patch, strategic merge, server-side apply", (t) => {
  const s = server();
  s.direct.create("pods", "default", pod("p", { containers: [{ name: "a", image: "x" }, { name: "b", image: "y", env: [{ name: "E", value: "1" }] }] }, { labels: { keep: "1", drop: "1" } }));
  const ref = { resource: "pods", namespace: "default", name: "p" };
  let p = s.direct.patch<Pod>(ref, "merge", { metadata: { labels: { drop: null, add: "1" } } });
  t.deepEqual(p.metadata.labels, { keep: "1", add: "1" });
  p = s.direct.patch<Pod>(ref, "json", [
    { op: "replace", path: "/spec/containers/0/image", value: "x:2" },
    { op: "add", path: "/metadata/annotations", value: { a: "b" } },
  ]);
  t.is(p.spec.containers[0]!.image, "x:2");
  t.deepEqual(p.metadata.annotations, { a: "b" });
  p = s.direct.patch<Pod>(ref, "strategic", { spec: { containers: [{ name: "b", image: "y:2" }] } });
  t.deepEqual(
    p.spec.containers.map((c) => [c.name, c.image, c.env?.length ?? 0]),
    [
      ["a", "x:2", 0],
      ["b", "y:2", 1],
    ],
  );
  const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cfg" }, data: { a: "1" } };
  s.direct.patch({ resource: "configmaps", namespace: "default", name: "cfg" }, "apply", cm, { fieldManager: "kubectl" });
  const c = s.direct.patch({ resource: "configmaps", namespace: "default", name: "cfg" }, "apply", { ...cm, data: { b: "2" } }, { fieldManager: "kubectl" });
  t.deepEqual(c["data"], { a: "1", b: "2" });
  const e = error(t, () => s.direct.patch({ resource: "pods", namespace: "default", name: "nope" }, "merge", {}));
  t.is(e.code, 404);
});

test("dryRun validates and answers without storing", (t) => {
  const s = server();
  const rv = s.store.resourceVersion;
  const p = s.direct.create("pods", "default", pod("p"), { dryRun: true });
  t.is(p.metadata.name, "p");
  t.is(s.store.get("pods", "default", "p"), undefined);
  t.is(s.store.resourceVersion, rv);
});

test("ApiClient methods are promises rejecting with ApiError", async (t) => {
  const s = server();
  await s.create("pods", "default", pod("p"));
  const e = await t.throwsAsync(s.create("pods", "default", pod("p")), { instanceOf: ApiError });
  t.is(e?.code, 409);
  t.is((await s.get<Pod>({ resource: "po", namespace: "default", name: "p" })).kind, "Pod");
});
