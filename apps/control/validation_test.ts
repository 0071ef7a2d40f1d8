import test from "ava";
import type { KubeObject } from "@kemu/api";
import { formatFieldError } from "./errors.ts";
import { isValidPortName, validateCreate, validateUpdate } from "./validation.ts";

const lines = (o: KubeObject, namespaced = true): string[] => validateCreate(o, namespaced).map(formatFieldError);

function deploy(spec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "d", namespace: "default" },
    spec: { selector: { matchLabels: { a: "b" } }, template: { metadata: { labels: { a: "b" } }, spec: { containers: [{ name: "c", image: "i", terminationMessagePolicy: "File" }] } }, ...spec },
  };
}

test("Deployment strategy, replicas and template restart policy", (t) => {
  t.deepEqual(lines(deploy({ replicas: -1 })), ["spec.replicas: Invalid value: -1: must be greater than or equal to 0"]);
  t.deepEqual(lines(deploy({ strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } })), [
    'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:""}: may not be 0 when `maxSurge` is 0',
  ]);
  t.deepEqual(lines(deploy({ strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "150%" } } })), ['spec.strategy.rollingUpdate.maxSurge: Invalid value: "150%": must not be greater than 100%']);
  t.deepEqual(lines(deploy({ strategy: { type: "Recreate", rollingUpdate: {} } })), ["spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"]);
  const never = deploy({});
  (never.spec as { template: { spec: { restartPolicy: string } } }).template.spec.restartPolicy = "Never";
  t.deepEqual(lines(never), ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"']);
  t.deepEqual(lines(deploy({ selector: {} })), [
    "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment",
  ]);
  t.deepEqual(lines(deploy({ selector: undefined })), ["spec.selector: Required value"]);
});

test("a Deployment's selector is immutable", (t) => {
  const old = deploy({});
  const next = deploy({ selector: { matchLabels: { a: "b", c: "d" } }, template: { metadata: { labels: { a: "b", c: "d" } }, spec: { containers: [{ name: "c", image: "i" }] } } });
  t.deepEqual(validateUpdate(next, old, { namespaced: true }).map(formatFieldError), [
    'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"a":"b", "c":"d"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
  ]);
});

test("pod spec details: env names, volume mounts, probes, tolerations, protocols", (t) => {
  const pod = (spec: Record<string, unknown>): KubeObject => ({ apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "default" }, spec });
  t.deepEqual(
    lines(
      pod({
        containers: [
          {
            name: "c",
            image: "i",
            env: [{ name: "1BAD" }],
            volumeMounts: [{ name: "data", mountPath: "/d" }],
            livenessProbe: { periodSeconds: 5 },
            ports: [{ containerPort: 80, protocol: "tcp" }],
          },
        ],
        tolerations: [{ key: "k", operator: "Exists", value: "v" }],
      }),
    ),
    [
      'spec.containers[0].ports[0].protocol: Unsupported value: "tcp": supported values: "SCTP", "TCP", "UDP"',
      "spec.containers[0].env[0].name: Invalid value: \"1BAD\": a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')",
      'spec.containers[0].volumeMounts[0].name: Not found: "data"',
      "spec.containers[0].livenessProbe: Required value: must specify a handler type",
      "spec.tolerations[0].operator: Invalid value: \"v\": value must be empty when `operator` is 'Exists'",
    ],
  );
});

test("port names follow IANA service name rules", (t) => {
  t.deepEqual(isValidPortName("http"), []);
  t.deepEqual(isValidPortName("a-very-long-port-name"), ["must be no more than 15 characters"]);
  t.deepEqual(isValidPortName("80"), ["must contain at least one letter (a-z)"]);
  t.deepEqual(isValidPortName("a--b"), ["must not contain consecutive hyphens"]);
});

test("namespace and config map names and keys", (t) => {
  t.deepEqual(lines({ apiVersion: "v1", kind: "Namespace", metadata: { name: "a.b" } }, false), [
    `metadata.name: Invalid value: "a.b": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
  ]);
  t.deepEqual(lines({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "default" }, data: { "a b": "x" } }), [
    `data[a b]: Invalid value: "a b": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
  ]);
});
