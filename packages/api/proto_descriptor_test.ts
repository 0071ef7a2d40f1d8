import test from "ava";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";
import { K8S_PROTO } from "./proto_descriptor.ts";

// From dist/ and from the sources alike: the package's own files.
const pkg = (rel: string) => fileURLToPath(new URL(`../${rel}`, import.meta.url));

/** JSON laid out for reading: what fits on a line stays on one. */
function layout(v: unknown, indent: string): string {
  const flat = JSON.stringify(v).replace(/":/g, '": ').replace(/,"/g, ', "');
  if (v === null || typeof v !== "object" || flat.length + indent.length <= 110) return flat;
  const inner = indent + "  ";
  const items = Array.isArray(v) ? v.map((x) => inner + layout(x, inner)) : Object.entries(v).map(([k, x]) => `${inner}${JSON.stringify(k)}: ${layout(x, inner)}`);
  return `${Array.isArray(v) ? "[" : "{"}\n${items.join(",\n")}\n${indent}${Array.isArray(v) ? "]" : "}"}`;
}

test("the descriptor codec.ts loads is proto/k8s.proto's", (t) => {
  const fromProto = protobuf.loadSync(pkg("proto/k8s.proto")).toJSON();
  if (process.env["KEMU_UPDATE_PROTO"]) {
    const source = readFileSync(pkg("proto_descriptor.ts"), "utf8");
    const head = source.slice(0, source.indexOf("const DESCRIPTOR"));
    // Through a name of its own: a map field's keyType is more than the literal type INamespace lets through.
    writeFileSync(pkg("proto_descriptor.ts"), `${head}const DESCRIPTOR = ${layout(fromProto, "")};\n\nexport const K8S_PROTO: INamespace = DESCRIPTOR;\n`);
  }
  t.deepEqual(JSON.parse(JSON.stringify(K8S_PROTO)), JSON.parse(JSON.stringify(fromProto)));
});
