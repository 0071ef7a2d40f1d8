/**
 * What a fresh kubeadm cluster holds before anyone applies anything: the
 * namespaces default, kube-system, kube-public and kube-node-lease, and the
 * `kubernetes` Service (the first address of the service range, port https
 * 443 → the API server's 6443) with its Endpoints and EndpointSlice.
 */
import { numberToIp } from "./allocator.ts";
import type { ApiServer } from "./server.ts";

/** Options of bootstrap. */
export interface BootstrapOptions {
  /** The API server's address (the control host): the `kubernetes` Endpoints point at it. */
  controlAddress: string;
  /** The API server's port. Default 6443. */
  apiServerPort?: number;
}

/** The namespaces every cluster starts with. */
export const DEFAULT_NAMESPACES = ["default", "kube-node-lease", "kube-public", "kube-system"] as const;

/** Creates the default namespaces and the `kubernetes` Service, Endpoints and EndpointSlice. Idempotent. */
export function bootstrap(server: ApiServer, options: BootstrapOptions): void {
  const api = server.direct;
  const port = options.apiServerPort ?? 6443;
  for (const name of DEFAULT_NAMESPACES) {
    if (server.store.get("namespaces", "", name) !== undefined) continue;
    api.create("namespaces", "", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name, labels: { "kubernetes.io/metadata.name": name } },
    });
  }
  if (server.store.get("services", "default", "kubernetes") === undefined) {
    api.create("services", "default", {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "kubernetes", namespace: "default", labels: { component: "apiserver", provider: "kubernetes" } },
      spec: {
        clusterIP: numberToIp(server.clusterIPs.cidr.base + 1),
        ports: [{ name: "https", port: 443, protocol: "TCP", targetPort: port }],
        sessionAffinity: "None",
        type: "ClusterIP",
      },
    });
  }
  if (server.store.get("endpoints", "default", "kubernetes") === undefined) {
    api.create("endpoints", "default", {
      apiVersion: "v1",
      kind: "Endpoints",
      metadata: { name: "kubernetes", namespace: "default", labels: { "endpointslice.kubernetes.io/skip-mirror": "true" } },
      subsets: [{ addresses: [{ ip: options.controlAddress }], ports: [{ name: "https", port, protocol: "TCP" }] }],
    });
  }
  if (server.store.get("endpointslices", "default", "kubernetes") === undefined) {
    api.create("endpointslices", "default", {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: { name: "kubernetes", namespace: "default", labels: { "kubernetes.io/service-name": "kubernetes" } },
      addressType: "IPv4",
      endpoints: [{ addresses: [options.controlAddress], conditions: { ready: true } }],
      ports: [{ name: "https", port, protocol: "TCP" }],
    });
  }
}
