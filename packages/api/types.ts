/**
 * Kubernetes objects as their JSON form: the fields kemu uses, typed, and
 * everything else allowed (the store keeps what it is given).
 */

/** metadata of every object. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  [key: string]: unknown;
}

/** A link from a dependent to its owner (a Pod to its ReplicaSet). */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** Any API object. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: unknown;
  status?: unknown;
  [key: string]: unknown;
}

/** A label selector (matchLabels / matchExpressions). */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: "In" | "NotIn" | "Exists" | "DoesNotExist"; values?: string[] }>;
}

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: "TCP" | "UDP" | "SCTP";
  hostPort?: number;
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  ports?: ContainerPort[];
  env?: Array<{ name: string; value?: string }>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  readinessProbe?: unknown;
  livenessProbe?: unknown;
  [key: string]: unknown;
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  hostNetwork?: boolean;
  dnsPolicy?: "ClusterFirst" | "ClusterFirstWithHostNet" | "Default" | "None";
  restartPolicy?: "Always" | "OnFailure" | "Never";
  terminationGracePeriodSeconds?: number;
  schedulerName?: string;
  [key: string]: unknown;
}

export interface PodCondition {
  type: "PodScheduled" | "Initialized" | "ContainersReady" | "Ready" | "PodReadyToStartContainers";
  status: "True" | "False" | "Unknown";
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastProbeTime?: string | null;
}

export interface ContainerStatus {
  name: string;
  ready: boolean;
  restartCount: number;
  image: string;
  imageID?: string;
  containerID?: string;
  started?: boolean;
  state: {
    waiting?: { reason: string; message?: string };
    running?: { startedAt: string };
    terminated?: { exitCode: number; reason?: string; startedAt?: string; finishedAt?: string };
  };
  lastState?: ContainerStatus["state"];
}

export interface PodStatus {
  phase?: "Pending" | "Running" | "Succeeded" | "Failed" | "Unknown";
  conditions?: PodCondition[];
  hostIP?: string;
  podIP?: string;
  podIPs?: Array<{ ip: string }>;
  startTime?: string;
  containerStatuses?: ContainerStatus[];
  reason?: string;
  message?: string;
  qosClass?: string;
  [key: string]: unknown;
}

export interface Pod extends KubeObject {
  kind: "Pod";
  spec: PodSpec;
  status?: PodStatus;
}

export interface NodeStatus {
  capacity?: Record<string, string>;
  allocatable?: Record<string, string>;
  conditions?: Array<{ type: string; status: "True" | "False" | "Unknown"; reason?: string; message?: string; lastHeartbeatTime?: string; lastTransitionTime?: string }>;
  addresses?: Array<{ type: "InternalIP" | "Hostname" | "ExternalIP"; address: string }>;
  nodeInfo?: Record<string, string>;
  [key: string]: unknown;
}

export interface Node extends KubeObject {
  kind: "Node";
  spec: { podCIDR?: string; podCIDRs?: string[]; unschedulable?: boolean; taints?: Array<{ key: string; value?: string; effect: string; timeAdded?: string }>; [key: string]: unknown };
  status?: NodeStatus;
}

export interface ServicePort {
  name?: string;
  protocol?: "TCP" | "UDP" | "SCTP";
  port: number;
  targetPort?: number | string;
  nodePort?: number;
}

export interface Service extends KubeObject {
  kind: "Service";
  spec: {
    type?: "ClusterIP" | "NodePort" | "LoadBalancer" | "ExternalName";
    selector?: Record<string, string>;
    ports?: ServicePort[];
    clusterIP?: string;
    clusterIPs?: string[];
    sessionAffinity?: "None" | "ClientIP";
    externalTrafficPolicy?: "Cluster" | "Local";
    internalTrafficPolicy?: "Cluster" | "Local";
    externalName?: string;
    [key: string]: unknown;
  };
  status?: { loadBalancer?: unknown };
}

export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef?: { kind: string; name: string; namespace: string; uid?: string };
}

export interface Endpoints extends KubeObject {
  kind: "Endpoints";
  subsets?: Array<{
    addresses?: EndpointAddress[];
    notReadyAddresses?: EndpointAddress[];
    ports?: Array<{ name?: string; port: number; protocol?: string }>;
  }>;
}

export interface EndpointSlice extends KubeObject {
  kind: "EndpointSlice";
  addressType: "IPv4" | "IPv6" | "FQDN";
  endpoints: Array<{
    addresses: string[];
    conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
    nodeName?: string;
    hostname?: string;
    targetRef?: EndpointAddress["targetRef"];
  }>;
  ports?: Array<{ name?: string; port?: number; protocol?: string }>;
}

export interface PodTemplateSpec {
  metadata?: ObjectMeta;
  spec: PodSpec;
}

export interface ReplicaSet extends KubeObject {
  kind: "ReplicaSet";
  spec: { replicas?: number; selector: LabelSelector; template: PodTemplateSpec; [key: string]: unknown };
  status?: { replicas?: number; readyReplicas?: number; availableReplicas?: number; fullyLabeledReplicas?: number; observedGeneration?: number };
}

export interface Deployment extends KubeObject {
  kind: "Deployment";
  spec: {
    replicas?: number;
    selector: LabelSelector;
    template: PodTemplateSpec;
    strategy?: { type?: "RollingUpdate" | "Recreate"; rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string } };
    [key: string]: unknown;
  };
  status?: {
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    unavailableReplicas?: number;
    observedGeneration?: number;
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
  };
}

export interface ConfigMap extends KubeObject {
  kind: "ConfigMap";
  data?: Record<string, string>;
}

export interface Namespace extends KubeObject {
  kind: "Namespace";
  status?: { phase?: "Active" | "Terminating" };
}

/** An Ingress rule's backend: a Service port (by number or name) or a typed resource reference, never both. */
export interface IngressBackend {
  service?: { name: string; port?: { number?: number; name?: string } };
  resource?: { apiGroup?: string; kind: string; name: string };
}

/** One path of an HTTP rule: what requests it takes (path, pathType) and where they go. */
export interface HTTPIngressPath {
  path?: string;
  pathType: "Exact" | "Prefix" | "ImplementationSpecific";
  backend: IngressBackend;
}

/** A networking.k8s.io/v1 Ingress: HTTP routing rules by host and path to Services. */
export interface Ingress extends KubeObject {
  kind: "Ingress";
  spec?: {
    ingressClassName?: string;
    defaultBackend?: IngressBackend;
    tls?: Array<{ hosts?: string[]; secretName?: string }>;
    rules?: Array<{ host?: string; http?: { paths: HTTPIngressPath[] } }>;
    [key: string]: unknown;
  };
  status?: { loadBalancer?: { ingress?: Array<{ ip?: string; hostname?: string; ports?: unknown[] }> } };
}

/** A networking.k8s.io/v1 IngressClass: which controller serves Ingresses naming it. */
export interface IngressClass extends KubeObject {
  kind: "IngressClass";
  spec?: { controller?: string; parameters?: { apiGroup?: string; kind: string; name: string; scope?: string; namespace?: string } };
}

/** A core/v1 Event: what a controller, the scheduler or a kubelet reports about an object (`kubectl describe` shows them). */
export interface Event extends KubeObject {
  kind: "Event";
  involvedObject: { kind: string; namespace?: string; name: string; uid?: string; apiVersion?: string; resourceVersion?: string; fieldPath?: string };
  reason?: string;
  message?: string;
  source?: { component?: string; host?: string };
  firstTimestamp?: string;
  lastTimestamp?: string;
  count?: number;
  type?: "Normal" | "Warning";
  eventTime?: string | null;
  reportingComponent?: string;
  reportingInstance?: string;
}

/** A watch event, as the API streams it. */
export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: T;
}

/** A list, as LIST returns it. */
export interface ObjectList<T extends KubeObject = KubeObject> {
  apiVersion: string;
  kind: string;
  metadata: { resourceVersion: string; continue?: string };
  items: T[];
}
