import test from "ava";
import { goYamlKeyLess, toCompactJson, toJson, toYaml } from "./yaml_out.ts";

const LAST_APPLIED =
  '{"apiVersion":"v1","kind":"Pod","metadata":{"annotations":{},"name":"nginx","namespace":"default"},"spec":{"containers":[{"image":"nginx","name":"nginx","ports":[{"containerPort":80}]}]}}\n';

test("a pod prints as kubectl get -o yaml prints it", (t) => {
  const pod = {
    kind: "Pod",
    apiVersion: "v1",
    metadata: {
      name: "nginx",
      namespace: "default",
      labels: { version: "1.0", app: "web" },
      annotations: { "kubectl.kubernetes.io/last-applied-configuration": LAST_APPLIED },
      creationTimestamp: "2026-01-01T00:00:05Z",
      resourceVersion: "12",
    },
    spec: {
      nodeName: "node1",
      containers: [{ name: "nginx", image: "nginx", imagePullPolicy: "Always", ports: [{ containerPort: 80, protocol: "TCP" }], resources: {} }],
    },
    status: {
      phase: "Running",
      conditions: [{ type: "Ready", status: "True", lastProbeTime: null, lastTransitionTime: "2026-01-01T00:00:06Z" }],
    },
  };
  t.is(
    toYaml(pod),
    `apiVersion: v1
kind: Pod
metadata:
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: |
      ${LAST_APPLIED.trim()}
  creationTimestamp: "2026-01-01T00:00:05Z"
  labels:
    app: web
    version: "1.0"
  name: nginx
  namespace: default
  resourceVersion: "12"
spec:
  containers:
  - image: nginx
    imagePullPolicy: Always
    name: nginx
    ports:
    - containerPort: 80
      protocol: TCP
    resources: {}
  nodeName: node1
status:
  conditions:
  - lastProbeTime: null
    lastTransitionTime: "2026-01-01T00:00:06Z"
    status: "True"
    type: Ready
  phase: Running
`,
  );
});

test("an empty list prints with items: [] and an empty resourceVersion", (t) => {
  t.is(toYaml({ apiVersion: "v1", items: [], kind: "List", metadata: { resourceVersion: "" } }), 'apiVersion: v1\nitems: []\nkind: List\nmetadata:\n  resourceVersion: ""\n');
});

test("strings that would read back as something else are quoted as go-yaml quotes them", (t) => {
  const cases: Array<[string, string]> = [
    ["yes", '"yes"'],
    ["", '""'],
    ["80", '"80"'],
    ["1.5", '"1.5"'],
    ["0x1F", '"0x1F"'],
    ["2026-01-01", '"2026-01-01"'],
    ["null", '"null"'],
    ["*", "'*'"],
    ["a: b", "'a: b'"],
    ["- x", "'- x'"],
    [" lead", "' lead'"],
    ["it's", "it's"],
    ["tab\there", '"tab\\there"'],
    ["hello world", "hello world"],
    ["nginx:1.25", "nginx:1.25"],
    ["10.244.1.2", "10.244.1.2"],
    ["a\nb", "|-\n  a\n  b"],
  ];
  for (const [s, want] of cases) t.is(toYaml({ k: s }), `k: ${want}\n`, JSON.stringify(s));
  t.is(toYaml({ "80": "x", true: "y" }), '"80": x\n"true": "y"\n');
});

test("long strings fold at the first space past column 80", (t) => {
  const message = "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.";
  t.is(
    toYaml({ status: { conditions: [{ message, type: "PodScheduled" }] } }),
    `status:
  conditions:
  - message: '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are
      available: 3 No preemption victims found for incoming pod.'
    type: PodScheduled
`,
  );
});

test("go-yaml orders keys with digit runs compared as numbers", (t) => {
  t.true(goYamlKeyLess("item9", "item10"));
  t.true(goYamlKeyLess("a", "b"));
  t.true(goYamlKeyLess("app", "app.kubernetes.io/name"));
  t.true(goYamlKeyLess("Z", "a"));
});

test("JSON prints with four spaces, sorted keys and Go's HTML-safe escapes", (t) => {
  t.is(toJson({ b: 1, a: "<x>&", c: [], d: {} }), '{\n    "a": "\\u003cx\\u003e\\u0026",\n    "b": 1,\n    "c": [],\n    "d": {}\n}\n');
  t.is(toCompactJson({ spec: { b: 2, a: 1 }, apiVersion: "v1" }), '{"apiVersion":"v1","spec":{"a":1,"b":2}}');
});
