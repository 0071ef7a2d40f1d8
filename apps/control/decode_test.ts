import test from "ava";
import { RESOURCES } from "@kemu/api";
import { decodeAs } from "./decode.ts";
import { STRUCTS } from "./schema.ts";

test("every kind served has a schema, and every type it names exists", (t) => {
  for (const r of RESOURCES) t.truthy(STRUCTS[r.kind], r.kind);
  const prim = new Set(["string", "int32", "int64", "bool", "float64", "Quantity", "IntOrString", "Time", "MicroTime", "bytes", "any"]);
  for (const [name, fields] of Object.entries(STRUCTS))
    for (const [f, ty] of Object.entries(fields)) {
      const base = ty.replace(/^\[\]/, "").replace(/^map\[string\]/, "");
      t.true(prim.has(base) || STRUCTS[base] !== undefined, `${name}.${f}: ${ty}`);
    }
});

test("decoding drops nulls and unknown fields, in document order", (t) => {
  const d = decodeAs("Pod", { apiVersion: "v1", kind: "Pod", metadata: { name: "p", creationTimestamp: null, zzz: 1 }, spec: { containers: [{ name: "c", image: "i", xx: 1 }], aa: 2 } });
  t.deepEqual(d.unknown, ["metadata.zzz", "spec.containers[0].xx", "spec.aa"]);
  t.deepEqual(d.object, { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "i" }] } });
  t.is(d.typeError, undefined);
});

test("type errors name the Go struct field", (t) => {
  t.is(decodeAs("Pod", { spec: "x" }).typeError, "json: cannot unmarshal string into Go struct field Pod.spec of type v1.PodSpec");
  t.is(decodeAs("Pod", { spec: { containers: {} } }).typeError, "json: cannot unmarshal object into Go struct field PodSpec.spec.containers of type []v1.Container");
  t.is(decodeAs("Deployment", { spec: { replicas: 1.5 } }).typeError, "json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type int32");
  t.is(decodeAs("Service", { spec: { ports: [{ targetPort: true }] } }).typeError, "json: cannot unmarshal bool into Go struct field ServicePort.spec.ports.targetPort of type int32");
});
