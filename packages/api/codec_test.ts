import test from "ava";
import { ApiError, type ApiClient, type Status } from "./client.ts";
import { decodeEnvelope, decodeObject, encodeEnvelope, encodeObject, type ApiMessage } from "./codec.ts";
import { RemoteApiClient, serveApi } from "./remote.ts";
import { RESOURCES } from "./resources.ts";
import type { KubeObject, ObjectList, WatchEvent } from "./types.ts";

const meta = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  namespace: "default",
  uid: "0b9b1c5e-3f1e-4c6a-9d3c-1a2b3c4d5e6f",
  resourceVersion: "42",
  creationTimestamp: "2026-01-01T00:00:05Z",
  labels: { app: "web" },
  ...extra,
});

/** One object of every kind kemu serves, with the awkward corners of each. */
const SAMPLES: Record<string, KubeObject> = {
  Namespace: { apiVersion: "v1", kind: "Namespace", metadata: { name: "team", uid: "u1", resourceVersion: "3", labels: { "kubernetes.io/metadata.name": "team" } }, spec: { finalizers: ["kubernetes"] }, status: { phase: "Active" } },
  Node: {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name: "node1", labels: {}, annotations: { "node.alpha.kubernetes.io/ttl": "0" } },
    spec: { podCIDR: "10.244.0.0/24", podCIDRs: ["10.244.0.0/24"], taints: [{ key: "node.kubernetes.io/unreachable", effect: "NoExecute", timeAdded: "2026-01-01T00:01:00Z" }] },
    status: { capacity: { cpu: "2", memory: "4Gi", pods: "110" }, conditions: [{ type: "Ready", status: "Unknown", lastHeartbeatTime: "2026-01-01T00:00:10Z" }], addresses: [{ type: "InternalIP", address: "192.168.56.11" }] },
  },
  Pod: {
    apiVersion: "v1",
    kind: "Pod",
    metadata: meta("web-7c5ddbdf54-x2b4q", {
      generateName: "web-7c5ddbdf54-",
      generation: 1,
      deletionTimestamp: "2026-01-01T00:01:00Z",
      deletionGracePeriodSeconds: 30,
      ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-7c5ddbdf54", uid: "u2", controller: true, blockOwnerDeletion: true }],
      finalizers: [],
      managedFields: [{ manager: "kubectl", operation: "Update", time: "2026-01-01T00:00:05Z", fieldsV1: { "f:spec": {} } }],
    }),
    spec: { containers: [{ name: "nginx", image: "nginx:1.25", ports: [{ containerPort: 80, protocol: "TCP" }], resources: {} }], nodeName: "node1", tolerations: [{ key: "k", operator: "Exists", tolerationSeconds: 300 }] },
    status: { phase: "Running", podIP: "10.244.0.2", conditions: [{ type: "PodScheduled", status: "True", lastProbeTime: null }], startTime: "2026-01-01T00:00:06Z" },
  },
  Service: {
    apiVersion: "v1",
    kind: "Service",
    metadata: meta("web", { annotations: {} }),
    spec: { type: "NodePort", selector: { app: "web" }, ports: [{ port: 80, targetPort: "http", nodePort: 30080, protocol: "TCP" }], clusterIP: "10.96.12.34", clusterIPs: ["10.96.12.34"] },
    status: { loadBalancer: {} },
  },
  Endpoints: {
    apiVersion: "v1",
    kind: "Endpoints",
    metadata: meta("web"),
    subsets: [{ addresses: [{ ip: "10.244.0.2", nodeName: "node1", targetRef: { kind: "Pod", namespace: "default", name: "web-1", uid: "u3" } }], notReadyAddresses: [{ ip: "10.244.1.2" }], ports: [{ port: 80, protocol: "TCP" }] }],
  },
  ConfigMap: { apiVersion: "v1", kind: "ConfigMap", metadata: meta("cfg"), data: { "index.html": "<h1>hi</h1>\n", empty: "" }, immutable: true },
  Event: {
    apiVersion: "v1",
    kind: "Event",
    metadata: meta("web-1.188a6d0c3f2e4b00"),
    involvedObject: { kind: "Pod", namespace: "default", name: "web-1", uid: "u3" },
    reason: "FailedScheduling",
    message: "0/3 nodes are available: 3 Insufficient cpu.",
    source: { component: "default-scheduler" },
    count: 3,
    type: "Warning",
  },
  EndpointSlice: {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: meta("web-abcde", { labels: { "kubernetes.io/service-name": "web", "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io" } }),
    addressType: "IPv4",
    endpoints: [{ addresses: ["10.244.0.2"], conditions: { ready: true, serving: true, terminating: false }, nodeName: "node1" }],
    ports: [{ name: "", port: 80, protocol: "TCP" }],
  },
  Deployment: {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: meta("web", { generation: 2, annotations: { "deployment.kubernetes.io/revision": "2" } }),
    spec: { replicas: 6, selector: { matchLabels: { app: "web" } }, template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "nginx", image: "nginx" }] } }, strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: 1 } } },
    status: { replicas: 6, conditions: [{ type: "Available", status: "True" }] },
  },
  ReplicaSet: {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: meta("web-7c5ddbdf54", { ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "u4", controller: true, blockOwnerDeletion: true }] }),
    spec: { replicas: 0, selector: { matchLabels: { app: "web", "pod-template-hash": "7c5ddbdf54" } }, template: { spec: { containers: [] } } },
    status: { replicas: 0 },
  },
  Ingress: {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: meta("two-hosts"),
    spec: {
      ingressClassName: "nginx",
      rules: [{ host: "a.example.com", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "app-a", port: { number: 80 } } } }] } }],
    },
    status: { loadBalancer: { ingress: [{ ip: "192.168.0.11" }] } },
  },
  IngressClass: {
    apiVersion: "networking.k8s.io/v1",
    kind: "IngressClass",
    metadata: { name: "nginx", uid: "u5", resourceVersion: "7", annotations: { "ingressclass.kubernetes.io/is-default-class": "true" } },
    spec: { controller: "k8s.io/ingress-nginx" },
  },
};

test("every kind served has a sample", (t) => {
  t.deepEqual(Object.keys(SAMPLES).sort(), RESOURCES.map((r) => r.kind).sort());
});

for (const [kind, obj] of Object.entries(SAMPLES)) {
  test(`${kind} round-trips through protobuf exactly`, (t) => {
    const bytes = encodeObject(obj);
    t.true(bytes instanceof Uint8Array);
    t.deepEqual(decodeObject(bytes), obj);
  });
}

test("metadata is typed on the wire: a name and labels cost no JSON", (t) => {
  const bytes = encodeObject({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", labels: { x: "y" } } });
  t.false(Buffer.from(bytes).toString("latin1").includes("{"));
  // Field 1 (apiVersion, length-delimited) comes first: tag 0x0a, length 2, "v1".
  t.deepEqual([...bytes.slice(0, 4)], [0x0a, 2, 0x76, 0x31]);
});

test("objects missing fields or with odd metadata still round-trip", (t) => {
  for (const o of [
    { apiVersion: "v1", kind: "Pod", metadata: {} },
    { apiVersion: "v1", kind: "Pod", metadata: { name: "", labels: { a: "" }, creationTimestamp: null, ownerReferences: [] } },
    { apiVersion: "v1", kind: "Pod", metadata: { name: "x", generation: 0, resourceVersion: "" }, spec: null, status: {} },
  ] as unknown as KubeObject[])
    t.deepEqual(decodeObject(encodeObject(o)), o);
});

const status: Status = {
  kind: "Status",
  apiVersion: "v1",
  metadata: {},
  status: "Failure",
  message: 'Pod "x" is invalid: spec.containers[0].image: Required value',
  reason: "Invalid",
  details: { name: "x", kind: "Pod", causes: [{ reason: "FieldValueRequired", message: "Required value", field: "spec.containers[0].image" }] },
  code: 422,
};

test("envelope messages round-trip: requests, responses, lists, errors, watch events", (t) => {
  const list: ObjectList = { apiVersion: "v1", kind: "PodList", metadata: { resourceVersion: "9", continue: "abc" }, items: [SAMPLES["Pod"]!] };
  const messages: ApiMessage[] = [
    { type: "request", id: 1, method: "create", resource: "pods", namespace: "default", object: SAMPLES["Pod"]!, writeOptions: { fieldValidation: "Strict" } },
    { type: "request", id: 2, method: "list", resource: "pods", namespace: "", listOptions: { labelSelector: "app=web", limit: 5 } },
    { type: "request", id: 3, method: "patch", resource: "deployments", namespace: "default", name: "web", patchType: "merge", patch: { spec: { replicas: 3 } } },
    { type: "request", id: 4, method: "delete", resource: "pods", namespace: "default", name: "x", deleteOptions: { propagationPolicy: "Foreground", gracePeriodSeconds: 0 } },
    { type: "request", id: 5, method: "cancelWatch", resource: "pods", namespace: "default" },
    { type: "response", id: 1, object: SAMPLES["Pod"]! },
    { type: "response", id: 2, list },
    { type: "response", id: 3, error: status },
    { type: "response", id: 6 },
    { type: "event", watchId: 7, event: { type: "MODIFIED", object: SAMPLES["Node"]! } },
    { type: "event", watchId: 7, event: { type: "ERROR", object: { ...status, code: 410, reason: "Expired", message: "too old resource version: 5 (10)", details: undefined } as unknown as KubeObject } },
  ];
  for (const m of messages) {
    const back = decodeEnvelope(encodeEnvelope(m));
    t.deepEqual(JSON.parse(JSON.stringify(back)), JSON.parse(JSON.stringify(m)));
  }
});

/** A small ApiClient for the remote test: one map, watch by polling nothing. */
function memoryApi(): ApiClient {
  const objs = new Map<string, KubeObject>();
  const watchers: Array<(e: WatchEvent) => void> = [];
  return {
    async get(ref) {
      const o = objs.get(ref.name);
      if (o === undefined) throw new ApiError({ ...status, code: 404, reason: "NotFound", message: `pods "${ref.name}" not found`, details: { name: ref.name, kind: "pods" } });
      return o as never;
    },
    async list() {
      return { apiVersion: "v1", kind: "PodList", metadata: { resourceVersion: "1" }, items: [...objs.values()] } as never;
    },
    async create(_r, _n, obj) {
      objs.set(obj.metadata.name ?? "", obj);
      for (const w of watchers) w({ type: "ADDED", object: obj });
      return obj as never;
    },
    async update(_r, _n, obj) {
      return obj as never;
    },
    async updateStatus(_r, _n, obj) {
      return obj as never;
    },
    async patch(ref) {
      return objs.get(ref.name) as never;
    },
    async delete(ref) {
      return objs.get(ref.name) as never;
    },
    watch(_r, _n, _o, onEvent) {
      watchers.push(onEvent as (e: WatchEvent) => void);
      return () => watchers.splice(watchers.indexOf(onEvent as (e: WatchEvent) => void), 1);
    },
  };
}

test("RemoteApiClient carries calls, errors and watches over bytes", async (t) => {
  let client: RemoteApiClient;
  const serving = serveApi(memoryApi(), (b) => queueMicrotask(() => client.receive(b)));
  client = new RemoteApiClient((b) => queueMicrotask(() => serving.receive(b)));
  const events: string[] = [];
  const stop = client.watch("pods", "default", {}, (e) => events.push(`${e.type} ${e.object.metadata.name}`));
  await client.create("pods", "default", SAMPLES["Pod"]!);
  t.deepEqual(await client.get({ resource: "pods", namespace: "default", name: SAMPLES["Pod"]!.metadata.name! }), SAMPLES["Pod"]);
  t.is((await client.list("pods", "default")).items.length, 1);
  const err = await t.throwsAsync(client.get({ resource: "pods", namespace: "default", name: "nope" }), { instanceOf: ApiError });
  t.is(err?.code, 404);
  t.is(err?.message, 'pods "nope" not found');
  await new Promise((r) => setTimeout(r, 5));
  t.deepEqual(events, [`ADDED ${SAMPLES["Pod"]!.metadata.name}`]);
  stop();
  serving.close();
});
