/** What the API serves: each resource's kind, names, group/version and scope (discovery). */
export interface ResourceInfo {
  readonly kind: string;
  /** The plural resource name used in URLs and by kubectl (`pods`). */
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
  readonly group: string;
  readonly version: string;
  readonly namespaced: boolean;
}

/** The resources kemu serves, in discovery order. */
export const RESOURCES: readonly ResourceInfo[] = [
  { kind: "Namespace", plural: "namespaces", singular: "namespace", shortNames: ["ns"], group: "", version: "v1", namespaced: false },
  { kind: "Node", plural: "nodes", singular: "node", shortNames: ["no"], group: "", version: "v1", namespaced: false },
  { kind: "Pod", plural: "pods", singular: "pod", shortNames: ["po"], group: "", version: "v1", namespaced: true },
  { kind: "Service", plural: "services", singular: "service", shortNames: ["svc"], group: "", version: "v1", namespaced: true },
  { kind: "Endpoints", plural: "endpoints", singular: "endpoints", shortNames: ["ep"], group: "", version: "v1", namespaced: true },
  { kind: "ConfigMap", plural: "configmaps", singular: "configmap", shortNames: ["cm"], group: "", version: "v1", namespaced: true },
  { kind: "Event", plural: "events", singular: "event", shortNames: ["ev"], group: "", version: "v1", namespaced: true },
  { kind: "EndpointSlice", plural: "endpointslices", singular: "endpointslice", shortNames: [], group: "discovery.k8s.io", version: "v1", namespaced: true },
  { kind: "Deployment", plural: "deployments", singular: "deployment", shortNames: ["deploy"], group: "apps", version: "v1", namespaced: true },
  { kind: "ReplicaSet", plural: "replicasets", singular: "replicaset", shortNames: ["rs"], group: "apps", version: "v1", namespaced: true },
  { kind: "Ingress", plural: "ingresses", singular: "ingress", shortNames: ["ing"], group: "networking.k8s.io", version: "v1", namespaced: true },
  { kind: "IngressClass", plural: "ingressclasses", singular: "ingressclass", shortNames: [], group: "networking.k8s.io", version: "v1", namespaced: false },
];

/** `apiVersion` text of a resource: `v1` or `apps/v1`. */
export function apiVersionOf(r: ResourceInfo): string {
  return r.group === "" ? r.version : `${r.group}/${r.version}`;
}

/** The resource of a kind in an apiVersion, matched exactly as the API server does (kinds are case-sensitive). */
export function resourceForKind(apiVersion: string, kind: string): ResourceInfo | undefined {
  return RESOURCES.find((r) => r.kind === kind && apiVersionOf(r) === apiVersion);
}

/** The resource kubectl means by a name it was given: plural, singular, short name or kind, any case; `deployments.apps` too. */
export function resourceForName(name: string): ResourceInfo | undefined {
  const [base, group] = name.toLowerCase().split(/\.(.*)/s, 2) as [string, string | undefined];
  return RESOURCES.find(
    (r) =>
      (group === undefined || r.group === group) &&
      (r.plural === base || r.singular === base || r.shortNames.includes(base) || r.kind.toLowerCase() === base),
  );
}
