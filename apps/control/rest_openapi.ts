/**
 * `/openapi/v2` as the protobuf (gnostic `openapi_v2.Document`) kubectl
 * 1.27–1.28 read to learn which PATCH operations take `fieldValidation`:
 * a skeleton with one PATCH per resource, tagged with its
 * `x-kubernetes-group-version-kind` and its query parameters, no schemas.
 * The protobuf is encoded by hand (a few message types).
 */
import { RESOURCES } from "@kemu/api";

/** The media type of the protobuf OpenAPI v2 document. */
export const OPENAPI_V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

/** A length-delimited field (strings, bytes, messages). */
function field(num: number, value: string | Buffer): Buffer {
  const body = typeof value === "string" ? Buffer.from(value, "utf8") : value;
  return Buffer.concat([varint((num << 3) | 2), varint(body.length), body]);
}

function queryParameter(name: string, type: string): Buffer {
  // QueryParameterSubSchema { in = 2, description = 3, name = 4, type = 6 }
  const sub = Buffer.concat([field(2, "query"), field(3, name), field(4, name), field(6, type)]);
  // ParametersItem { parameter = 1 } > Parameter { non_body_parameter = 2 } > NonBodyParameter { query_parameter_sub_schema = 3 }
  return field(1, field(2, field(3, sub)));
}

/** The protobuf OpenAPI v2 document. */
export function openapiV2Protobuf(): Buffer {
  const paths: Buffer[] = [];
  for (const r of RESOURCES) {
    const prefix = r.group === "" ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
    const url = `${prefix}${r.namespaced ? "/namespaces/{namespace}" : ""}/${r.plural}/{name}`;
    const gvk = `group: "${r.group}"\nkind: ${r.kind}\nversion: ${r.version}\n`;
    const operation = Buffer.concat([
      field(3, `partially update the specified ${r.kind}`),
      field(5, `patch${r.kind}`),
      ...[
        ["dryRun", "string"],
        ["fieldManager", "string"],
        ["fieldValidation", "string"],
        ["force", "boolean"],
      ].map(([n, t]) => field(8, queryParameter(n!, t!))),
      // vendor_extension = 13: NamedAny { name = 1, value = 2: Any { yaml = 2 } }
      field(13, Buffer.concat([field(1, "x-kubernetes-action"), field(2, field(2, "patch\n"))])),
      field(13, Buffer.concat([field(1, "x-kubernetes-group-version-kind"), field(2, field(2, gvk))])),
    ]);
    // NamedPathItem { name = 1, value = 2: PathItem { patch = 8 } }
    paths.push(field(2, Buffer.concat([field(1, url), field(2, field(8, operation))])));
  }
  // Document { swagger = 1, info = 2 { title = 1, version = 2 }, paths = 8 }
  return Buffer.concat([field(1, "2.0"), field(2, Buffer.concat([field(1, "Kubernetes"), field(2, "v1.30.0")])), field(8, Buffer.concat(paths))]);
}
