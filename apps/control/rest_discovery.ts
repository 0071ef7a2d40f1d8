/**
 * The discovery documents of kube-apiserver 1.30 for what kemu serves:
 * `/version`, `/api`, `/apis`, and an APIResourceList per group version
 * (resources with their verbs, short names, scope and subresources).
 */
import { RESOURCES, apiVersionOf, type ResourceInfo } from "@kemu/api";

/** Verbs of a main resource. */
const ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

/** Kinds with a status subresource. */
export const STATUS_SUBRESOURCE = new Set(["Pod", "Node", "Service", "Deployment", "ReplicaSet", "Namespace", "Ingress"]);

/** Kinds with a scale subresource. */
export const SCALE_SUBRESOURCE = new Set(["Deployment", "ReplicaSet"]);

/** Kinds in the `all` category (`kubectl get all`). */
const ALL_CATEGORY = new Set(["Pod", "Service", "Deployment", "ReplicaSet"]);

/** Group versions served, in discovery order. */
export const GROUP_VERSIONS: readonly string[] = ["v1", "apps/v1", "discovery.k8s.io/v1", "networking.k8s.io/v1"];

/** `/version`. */
export function versionInfo(): Record<string, string> {
  return {
    major: "1",
    minor: "30",
    gitVersion: "v1.30.0",
    gitCommit: "7c48c2bd72b9bf5c44d21d7338cc7bea77d0ad2a",
    gitTreeState: "clean",
    buildDate: "2024-04-17T17:27:03Z",
    goVersion: "go1.22.2",
    compiler: "gc",
    platform: "linux/amd64",
  };
}

/** `/api`: the core group's versions. */
export function coreVersions(serverAddress: string): Record<string, unknown> {
  return { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }] };
}

/** `/apis`: the named groups that have resources (client-go's discovery counts an empty group as a failure). */
export function groupList(): Record<string, unknown> {
  const served = GROUP_VERSIONS.filter((gv) => gv.includes("/") && RESOURCES.some((r) => apiVersionOf(r) === gv));
  const groups = served.map((gv) => {
    const [name, version] = gv.split("/") as [string, string];
    const v = { groupVersion: gv, version };
    return { name, versions: [v], preferredVersion: v };
  });
  return { kind: "APIGroupList", apiVersion: "v1", groups };
}

/** `/apis/<group>`: one group. */
export function apiGroup(group: string): Record<string, unknown> | undefined {
  const gv = GROUP_VERSIONS.find((g) => g.startsWith(`${group}/`));
  if (gv === undefined) return undefined;
  const v = { groupVersion: gv, version: gv.split("/")[1]! };
  return { kind: "APIGroup", apiVersion: "v1", name: group, versions: [v], preferredVersion: v };
}

function entry(r: ResourceInfo): Record<string, unknown>[] {
  const main: Record<string, unknown> = {
    name: r.plural,
    singularName: r.singular,
    namespaced: r.namespaced,
    kind: r.kind,
    verbs: r.kind === "Namespace" || r.kind === "Node" ? ALL_VERBS.filter((v) => r.kind !== "Namespace" || v !== "deletecollection") : ALL_VERBS,
  };
  if (r.shortNames.length > 0) main["shortNames"] = [...r.shortNames];
  if (ALL_CATEGORY.has(r.kind)) main["categories"] = ["all"];
  const out = [main];
  const sub = (name: string, kind: string, verbs: string[], extra: Record<string, unknown> = {}): void => {
    out.push({ name: `${r.plural}/${name}`, singularName: "", namespaced: r.namespaced, ...extra, kind, verbs });
  };
  if (SCALE_SUBRESOURCE.has(r.kind)) sub("scale", "Scale", ["get", "patch", "update"], { group: "autoscaling", version: "v1" });
  if (STATUS_SUBRESOURCE.has(r.kind)) sub("status", r.kind, ["get", "patch", "update"]);
  if (r.kind === "Pod") {
    sub("exec", "PodExecOptions", ["create", "get"]);
    sub("log", "Pod", ["get"]);
  }
  return out;
}

/** `/api/v1`, `/apis/apps/v1`…: an APIResourceList, or undefined for a group version not served. */
export function resourceList(groupVersion: string): Record<string, unknown> | undefined {
  if (!GROUP_VERSIONS.includes(groupVersion)) return undefined;
  const resources = RESOURCES.filter((r) => apiVersionOf(r) === groupVersion).flatMap(entry);
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion, resources };
}

/** `/openapi/v3`: where each group version's document is. */
export function openapiV3Root(): Record<string, unknown> {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const gv of GROUP_VERSIONS) {
    const key = gv.includes("/") ? `apis/${gv}` : `api/${gv}`;
    paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=kemu-${gv.replace("/", "-")}` };
  }
  return { paths };
}

/**
 * `/openapi/v3/api/v1`…: a skeleton OpenAPI document with, per resource, the
 * PATCH operation tagged with its group/version/kind and the query
 * parameters it takes — what kubectl reads to learn that the server does
 * field validation (so it sends `fieldValidation=Strict` and validates
 * nothing itself). Schemas are not served (`kubectl explain` is refused).
 */
export function openapiV3Document(path: string): Record<string, unknown> | undefined {
  const gv = path.startsWith("apis/") ? path.slice(5) : path.startsWith("api/") ? path.slice(4) : "";
  if (!GROUP_VERSIONS.includes(gv)) return undefined;
  const paths: Record<string, unknown> = {};
  const param = (name: string, type = "string"): Record<string, unknown> => ({ name, in: "query", description: name, schema: { type, uniqueItems: true } });
  for (const r of RESOURCES.filter((x) => apiVersionOf(x) === gv)) {
    const prefix = r.group === "" ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
    const url = `${prefix}${r.namespaced ? "/namespaces/{namespace}" : ""}/${r.plural}/{name}`;
    paths[url] = {
      patch: {
        description: `partially update the specified ${r.kind}`,
        operationId: `patch${r.kind}`,
        parameters: [param("dryRun"), param("fieldManager"), param("fieldValidation"), param("force", "boolean")],
        "x-kubernetes-action": "patch",
        "x-kubernetes-group-version-kind": { group: r.group, version: r.version, kind: r.kind },
      },
    };
  }
  return { openapi: "3.0.0", info: { title: "Kubernetes", version: "v1.30.0" }, paths, components: { schemas: {} } };
}
