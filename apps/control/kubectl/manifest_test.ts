import test from "ava";
import { type ManifestResult, decodeStream, splitYamlDocuments } from "./manifest.ts";

function decode(text: string, source = "pod.yaml"): ManifestResult {
  const r: ManifestResult = { objects: [], errors: [] };
  decodeStream(source, text, r);
  return r;
}

const POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  containers:\n  - name: c\n    image: busybox\n";

test("a YAML stream splits on --- lines and skips empty documents", (t) => {
  t.deepEqual(splitYamlDocuments("---\na: 1\n---\n# only a comment\n--- # sep\nb: 2\n"), ["a: 1\n", "# only a comment\n", "b: 2\n"]);
  const r = decode(`${POD}---\n# nothing\n---\n${POD.replace("name: a", "name: b")}`);
  t.deepEqual(r.errors, []);
  t.deepEqual(
    r.objects.map((o) => [o.object.metadata.name, o.resource.plural, o.source]),
    [
      ["a", "pods", "pod.yaml"],
      ["b", "pods", "pod.yaml"],
    ],
  );
});

test("kind: List is flattened into its items", (t) => {
  const r = decode(`apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: x}\n- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: z}\n`);
  t.deepEqual(
    r.objects.map((o) => `${o.resource.kind}/${o.object.metadata.name}`),
    ["ConfigMap/x", "Deployment/z"],
  );
});

test("JSON documents are read as a stream", (t) => {
  const r = decode('{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a"}}\n{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"b"}}', "ns.json");
  t.deepEqual(
    r.objects.map((o) => o.object.metadata.name),
    ["a", "b"],
  );
});

test("YAML 1.1 scalars read as go-yaml v2 reads them", (t) => {
  const r = decode("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  a: yes\n  b: 0777\n  c: 2026-01-01\n  d: 1:20\n");
  t.deepEqual(r.objects[0]?.object["data"], { a: true, b: 511, c: "2026-01-01", d: "1:20" });
});

test("an unknown kind is refused with kubectl's mapping error and the other documents still read", (t) => {
  const r = decode(`${POD.replace("kind: Pod", "kind: pod")}---\n${POD.replace("name: a", "name: b")}`);
  t.is(r.objects.length, 1);
  t.is(
    r.errors[0]?.message,
    'resource mapping not found for name: "a" namespace: "" from "pod.yaml": no matches for kind "pod" in version "v1"\nensure CRDs are installed first',
  );
});

test("documents without kind or apiVersion cannot be decoded", (t) => {
  t.is(decode("apiVersion: v1\nmetadata:\n  name: x\n").errors[0]?.message, `unable to decode "pod.yaml": Object 'Kind' is missing in '{"apiVersion":"v1","metadata":{"name":"x"}}'`);
  t.is(decode("kind: Pod\nmetadata:\n  name: x\n").errors[0]?.message, `unable to decode "pod.yaml": Object 'apiVersion' is missing in '{"kind":"Pod","metadata":{"name":"x"}}'`);
});

test("syntax errors read in go-yaml's words, counting lines within the document", (t) => {
  const msg = (text: string) => decode(text).errors[0]?.message;
  t.is(msg("apiVersion: v1\nkind: Pod\nmetadata: name: x\n"), "error parsing pod.yaml: error converting YAML to JSON: yaml: line 3: mapping values are not allowed in this context");
  t.is(msg("apiVersion: v1\nkind: Pod\nmetadata:\n\tname: x\n"), "error parsing pod.yaml: error converting YAML to JSON: yaml: line 4: found character that cannot start any token");
  t.is(msg("apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n labels: y\n"), "error parsing pod.yaml: error converting YAML to JSON: yaml: line 4: did not find expected key");
  t.is(msg("apiVersion: v1\nkind Pod\nmetadata:\n  name: x\n"), "error parsing pod.yaml: error converting YAML to JSON: yaml: line 3: could not find expected ':'");
  t.is(
    msg(`${POD}---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n    labels: y\n`),
    "error parsing pod.yaml: error converting YAML to JSON: yaml: line 5: mapping values are not allowed in this context",
  );
});

test("a syntax error stops its stream; the documents before it are kept", (t) => {
  const r = decode(`${POD}---\nkind: Pod\nmetadata: name: x\n---\n${POD.replace("name: a", "name: c")}`);
  t.deepEqual(
    r.objects.map((o) => o.object.metadata.name),
    ["a"],
  );
  t.is(r.errors.length, 1);
});
