/**
 * What a fresh kubeadm cluster holds before anyone applies anything: the
 * namespaces default, kube-system, kube-public and kube-node-lease, and the
 * `kubernetes` Service (the first address of the service range, port https
 * 443 → the API server's 6443) with its Endpoints and EndpointSlice, and
 * on request kubeadm's CoreDNS addon (the kube-dns Service and the coredns
 * Deployment).
 */
import { numberToIp } from "./allocator.ts";
import type { ApiServer } from "./server.ts";
import { DEFAULT_COREFILE } from "@kemu/node";

/** Options of bootstrap. */
export interface BootstrapOptions {
  /** The API server's address (the control host): the `kubernetes` Endpoints point at it. */
  controlAddress: string;
  /** The API server's port. Default 6443. */
  apiServerPort?: number;
  /** kubeadm's CoreDNS addon: the kube-dns Service (10.96.0.10), the coredns ConfigMap and Deployment. Default false (the control host's worker turns it on). */
  coreDNS?: boolean;
}

/** kubeadm's Corefile, as the coredns ConfigMap holds it (NETWORKING-FACTS §G): the one the coredns command defaults to. */
export const KUBEADM_COREFILE = DEFAULT_COREFILE;

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
  if (options.coreDNS === true) bootstrapCoreDNS(server);
}

/**
 * kubeadm's CoreDNS addon in kube-system: the `kube-dns` Service at the
 * service range's 10th address (10.96.0.10) with ports dns 53/UDP, dns-tcp
 * 53/TCP and metrics 9153/TCP, the `coredns` ConfigMap and a 2-replica
 * `coredns` Deployment (dnsPolicy Default). Idempotent.
 */
export function bootstrapCoreDNS(server: ApiServer): void {
  const api = server.direct;
  const ns = "kube-system";
  if (server.store.get("configmaps", ns, "coredns") === undefined) {
    api.create("configmaps", ns, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "coredns", namespace: ns }, data: { Corefile: KUBEADM_COREFILE } });
  }
  if (server.store.get("services", ns, "kube-dns") === undefined) {
    api.create("services", ns, {
      apiVersion: "v1",
      kind: "Service",
      metadata: {
        name: "kube-dns",
        namespace: ns,
        labels: { "k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS" },
        annotations: { "prometheus.io/port": "9153", "prometheus.io/scrape": "true" },
      },
      spec: {
        clusterIP: numberToIp(server.clusterIPs.cidr.base + 10),
        ports: [
          { name: "dns", port: 53, protocol: "UDP", targetPort: 53 },
          { name: "dns-tcp", port: 53, protocol: "TCP", targetPort: 53 },
          { name: "metrics", port: 9153, protocol: "TCP", targetPort: 9153 },
        ],
        selector: { "k8s-app": "kube-dns" },
        sessionAffinity: "None",
        type: "ClusterIP",
      },
    });
  }
  if (server.store.get("deployments", ns, "coredns") === undefined) {
    api.create("deployments", ns, {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "coredns", namespace: ns, labels: { "k8s-app": "kube-dns" } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { "k8s-app": "kube-dns" } },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
        template: {
          metadata: { labels: { "k8s-app": "kube-dns" } },
          spec: {
            containers: [
              {
                name: "coredns",
                // The real manifest passes args [-conf /etc/coredns/Corefile] to the image's ENTRYPOINT; kemu's images have only a CMD, which is that.
                image: "registry.k8s.io/coredns/coredns:v1.11.1",
                ports: [
                  { containerPort: 53, name: "dns", protocol: "UDP" },
                  { containerPort: 53, name: "dns-tcp", protocol: "TCP" },
                  { containerPort: 9153, name: "metrics", protocol: "TCP" },
                ],
              },
            ],
            dnsPolicy: "Default",
            priorityClassName: "system-cluster-critical",
            tolerations: [{ key: "CriticalAddonsOnly", operator: "Exists" }, { effect: "NoSchedule", key: "node-role.kubernetes.io/control-plane" }],
          },
        },
      },
    });
  }
}
