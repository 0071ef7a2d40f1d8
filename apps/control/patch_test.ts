import test from "ava";
import { jsonPatch, mergePatch, strategicMergePatch } from "./patch.ts";

test("merge patch: objects merge, null deletes, lists replace", (t) => {
  t.deepEqual(mergePatch({ a: 1, b: { c: 2, d: 3 }, l: [1, 2] }, { b: { c: null, e: 4 }, l: [3] }), { a: 1, b: { d: 3, e: 4 }, l: [3] });
});

test("JSON patch operations", (t) => {
  const doc = { a: [1, 2], b: { c: "x" } };
  t.deepEqual(
    jsonPatch(doc, [
      { op: "add", path: "/a/-", value: 3 },
      { op: "remove", path: "/a/0" },
      { op: "replace", path: "/b/c", value: "y" },
      { op: "copy", from: "/b/c", path: "/d" },
      { op: "test", path: "/d", value: "y" },
    ]),
    { a: [2, 3], b: { c: "y" }, d: "y" },
  );
  t.throws(() => jsonPatch(doc, [{ op: "test", path: "/b/c", value: "z" }]));
  t.throws(() => jsonPatch(doc, [{ op: "remove", path: "/nope" }]));
});

test("strategic merge: containers by name, ports by number, $patch delete, finalizers as a set", (t) => {
  const pod = {
    metadata: { finalizers: ["a"] },
    spec: {
      containers: [
        { name: "web", image: "nginx", ports: [{ containerPort: 80, name: "http" }] },
        { name: "side", image: "busybox" },
      ],
    },
  };
  const out = strategicMergePatch(pod, {
    metadata: { finalizers: ["b"] },
    spec: { containers: [{ name: "web", ports: [{ containerPort: 443, name: "https" }] }, { name: "side", $patch: "delete" }, { name: "new", image: "x" }] },
  });
  t.deepEqual(out, {
    metadata: { finalizers: ["a", "b"] },
    spec: {
      containers: [
        { name: "web", image: "nginx", ports: [{ containerPort: 80, name: "http" }, { containerPort: 443, name: "https" }] },
        { name: "new", image: "x" },
      ],
    },
  });
  t.deepEqual(strategicMergePatch({ spec: { a: 1, b: 2 } }, { spec: { $patch: "replace", c: 3 } }), { spec: { c: 3 } });
});
