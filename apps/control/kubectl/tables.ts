/**
 * The table rows the API server's printers make for `kubectl get`
 * (pkg/printers/internalversion): columns and cells per kind, the pod
 * STATUS column as kubectl computes it, ENDPOINTS lists cut after three.
 */
import {
  type ConfigMap,
  type Deployment,
  type EndpointSlice,
  type Endpoints,
  type Event,
  type Ingress,
  type IngressClass,
  ingressClassParameters,
  ingressRow,
  type KubeObject,
  type Namespace,
  type Node,
  type Pod,
  type ReplicaSet,
  type ResourceInfo,
  type Service,
} from "@kemu/api";
import { age } from "./age.ts";
import { formatLabelSelector, formatLabels } from "./selector.ts";

/** A table column; priority 1 columns show with `-o wide` only. */
export interface Column {
  name: string;
  priority: 0 | 1;
}

/** The rows of one resource type and their columns. */
export interface Table {
  columns: Column[];
  rows: Array<{ cells: string[]; object: KubeObject }>;
}

const c = (name: string, priority: 0 | 1 = 0): Column => ({ name, priority });

const COLUMNS: Record<string, Column[]> = {
  Pod: [c("Name"), c("Ready"), c("Status"), c("Restarts"), c("Age"), c("IP", 1), c("Node", 1), c("Nominated Node", 1), c("Readiness Gates", 1)],
  Node: [c("Name"), c("Status"), c("Roles"), c("Age"), c("Version"), c("Internal-IP", 1), c("External-IP", 1), c("OS-Image", 1), c("Kernel-Version", 1), c("Container-Runtime", 1)],
  Service: [c("Name"), c("Type"), c("Cluster-IP"), c("External-IP"), c("Port(s)"), c("Age"), c("Selector", 1)],
  Endpoints: [c("Name"), c("Endpoints"), c("Age")],
  EndpointSlice: [c("Name"), c("AddressType"), c("Ports"), c("Endpoints"), c("Age")],
  Deployment: [c("Name"), c("Ready"), c("Up-to-date"), c("Available"), c("Age"), c("Containers", 1), c("Images", 1), c("Selector", 1)],
  ReplicaSet: [c("Name"), c("Desired"), c("Current"), c("Ready"), c("Age"), c("Containers", 1), c("Images", 1), c("Selector", 1)],
  Namespace: [c("Name"), c("Status"), c("Age")],
  ConfigMap: [c("Name"), c("Data"), c("Age")],
  Ingress: [c("Name"), c("Class"), c("Hosts"), c("Address"), c("Ports"), c("Age")],
  IngressClass: [c("Name"), c("Controller"), c("Parameters"), c("Age")],
  Event: [c("Last Seen"), c("Type"), c("Reason"), c("Object"), c("Subobject", 1), c("Source", 1), c("Message"), c("First Seen", 1), c("Count", 1), c("Name", 1)],
};

/** The table of `objects` (all of `resource`'s kind) at emulated time `nowMs`. */
export function tableFor(resource: ResourceInfo, objects: readonly KubeObject[], nowMs: number): Table {
  const columns = COLUMNS[resource.kind] ?? [c("Name"), c("Age")];
  const rows = objects.map((o) => ({ cells: cellsFor(resource.kind, o, nowMs), object: o }));
  return { columns, rows };
}

function cellsFor(kind: string, o: KubeObject, now: number): string[] {
  const name = o.metadata.name ?? "";
  const created = age(o.metadata.creationTimestamp, now);
  switch (kind) {
    case "Pod":
      return podCells(o as Pod, now);
    case "Node":
      return nodeCells(o as Node, now);
    case "Service":
      return serviceCells(o as Service, now);
    case "Endpoints":
      return [name, formatEndpoints(o as Endpoints), created];
    case "EndpointSlice": {
      const es = o as EndpointSlice;
      return [name, es.addressType ?? "", formatDiscoveryPorts(es.ports ?? []), formatDiscoveryEndpoints(es.endpoints ?? []), created];
    }
    case "Deployment": {
      const d = o as Deployment;
      const [names, images] = containerCells(d.spec?.template?.spec?.containers ?? []);
      return [
        name,
        `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 1}`,
        String(d.status?.updatedReplicas ?? 0),
        String(d.status?.availableReplicas ?? 0),
        created,
        names,
        images,
        selectorText(d.spec?.selector),
      ];
    }
    case "ReplicaSet": {
      const rs = o as ReplicaSet;
      const [names, images] = containerCells(rs.spec?.template?.spec?.containers ?? []);
      return [
        name,
        String(rs.spec?.replicas ?? 1),
        String(rs.status?.replicas ?? 0),
        String(rs.status?.readyReplicas ?? 0),
        created,
        names,
        images,
        formatLabelSelector(rs.spec?.selector),
      ];
    }
    case "Namespace":
      return [name, (o as Namespace).status?.phase ?? "", created];
    case "ConfigMap": {
      const cm = o as ConfigMap;
      const binary = (cm["binaryData"] ?? {}) as Record<string, unknown>;
      return [name, String(Object.keys(cm.data ?? {}).length + Object.keys(binary).length), created];
    }
    case "Event":
      return eventCells(o as Event, now);
    case "Ingress": {
      // As the API server prints it (always wide: ADDRESS is not clipped).
      const row = ingressRow(o as Ingress, true);
      return [name, row.className, row.hosts, row.address, row.ports, created];
    }
    case "IngressClass":
      return [name, (o as IngressClass).spec?.controller ?? "", ingressClassParameters(o as IngressClass), created];
    default:
      return [name, created];
  }
}

function eventCells(e: Event, now: number): string[] {
  const first = e.firstTimestamp ? age(e.firstTimestamp, now) : age(e.eventTime, now);
  const series = e["series"] as { count?: number; lastObservedTime?: string } | undefined;
  let last = e.lastTimestamp ? age(e.lastTimestamp, now) : first;
  let count = e.count ?? 0;
  if (series) {
    last = age(series.lastObservedTime, now);
    count = series.count ?? 0;
  } else if (count === 0) count = 1;
  const ref = e.involvedObject ?? { kind: "", name: "" };
  const target = ref.name ? `${ref.kind.toLowerCase()}/${ref.name}` : ref.kind.toLowerCase();
  const component = e.source?.component || ((e["reportingController"] as string | undefined) ?? "");
  const instance = e.source?.host || (e.reportingInstance ?? "");
  const source = instance ? `${component}, ${instance}` : component;
  return [last, e.type ?? "", e.reason ?? "", target, ref.fieldPath ?? "", source, (e.message ?? "").trim(), first, String(count), e.metadata.name ?? ""];
}

function selectorText(sel: Deployment["spec"]["selector"] | undefined): string {
  const s = formatLabelSelector(sel);
  return s === "<none>" ? "" : s;
}

function containerCells(containers: ReadonlyArray<{ name: string; image: string }>): [string, string] {
  return [containers.map((x) => x.name).join(","), containers.map((x) => x.image).join(",")];
}

/** The pod's READY, STATUS and RESTARTS as printPod computes them. */
export function podSummary(pod: Pod, now: number): { ready: string; status: string; restarts: string } {
  const spec = pod.spec ?? { containers: [] };
  const status = pod.status ?? {};
  let restarts = 0;
  let restartableInitRestarts = 0;
  let totalContainers = (spec.containers ?? []).length;
  let readyContainers = 0;
  let lastRestart: number | undefined;
  let lastRestartableInitRestart: number | undefined;
  const later = (a: number | undefined, t: string | undefined) => {
    const v = t ? Date.parse(t) : Number.NaN;
    return Number.isNaN(v) ? a : a === undefined || v > a ? v : a;
  };

  const phase = status.phase ?? "";
  let reason: string = status.reason ? status.reason : phase;
  for (const cond of status.conditions ?? []) {
    if (cond.type === "PodScheduled" && cond.reason === "SchedulingGated") reason = "SchedulingGated";
  }

  const initContainers = new Map<string, unknown>();
  for (const ic of spec.initContainers ?? []) {
    initContainers.set(ic.name, ic["restartPolicy"]);
    if (ic["restartPolicy"] === "Always") totalContainers++;
  }
  const restartable = (name: string) => initContainers.get(name) === "Always";

  let initializing = false;
  const initStatuses = (status["initContainerStatuses"] ?? []) as NonNullable<typeof status.containerStatuses>;
  for (let i = 0; i < initStatuses.length; i++) {
    const cs = initStatuses[i]!;
    restarts += cs.restartCount ?? 0;
    lastRestart = later(lastRestart, cs.lastState?.terminated?.finishedAt);
    if (restartable(cs.name)) {
      restartableInitRestarts += cs.restartCount ?? 0;
      lastRestartableInitRestart = later(lastRestartableInitRestart, cs.lastState?.terminated?.finishedAt);
    }
    const term = cs.state?.terminated;
    const wait = cs.state?.waiting;
    if (term !== undefined && term.exitCode === 0) continue;
    if (restartable(cs.name) && cs.started === true) {
      if (cs.ready) readyContainers++;
      continue;
    }
    if (term !== undefined) {
      const signal = (term as { signal?: number }).signal ?? 0;
      reason = term.reason ? `Init:${term.reason}` : signal !== 0 ? `Init:Signal:${signal}` : `Init:ExitCode:${term.exitCode}`;
    } else if (wait !== undefined && wait.reason !== "" && wait.reason !== "PodInitializing") {
      reason = `Init:${wait.reason}`;
    } else {
      reason = `Init:${i}/${(spec.initContainers ?? []).length}`;
    }
    initializing = true;
    break;
  }

  const initialized = (status.conditions ?? []).some((x) => x.type === "Initialized" && x.status === "True");
  if (!initializing || initialized) {
    restarts = restartableInitRestarts;
    lastRestart = lastRestartableInitRestart;
    let hasRunning = false;
    const statuses = status.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i]!;
      restarts += cs.restartCount ?? 0;
      lastRestart = later(lastRestart, cs.lastState?.terminated?.finishedAt);
      const term = cs.state?.terminated;
      if (cs.state?.waiting !== undefined && cs.state.waiting.reason) reason = cs.state.waiting.reason;
      else if (term !== undefined && term.reason) reason = term.reason;
      else if (term !== undefined) {
        const signal = (term as { signal?: number }).signal ?? 0;
        reason = signal !== 0 ? `Signal:${signal}` : `ExitCode:${term.exitCode}`;
      } else if (cs.ready && cs.state?.running !== undefined) {
        hasRunning = true;
        readyContainers++;
      }
    }
    if (reason === "Completed" && hasRunning) {
      const podReady = (status.conditions ?? []).some((x) => x.type === "Ready" && x.status === "True");
      reason = podReady ? "Running" : "NotReady";
    }
  }

  if (pod.metadata.deletionTimestamp && status.reason === "NodeLost") reason = "Unknown";
  else if (pod.metadata.deletionTimestamp && phase !== "Failed" && phase !== "Succeeded") reason = "Terminating";

  let restartsText = String(restarts);
  if (restarts !== 0 && lastRestart !== undefined) {
    restartsText = `${restarts} (${age(new Date(lastRestart).toISOString(), now)} ago)`;
  }
  return { ready: `${readyContainers}/${totalContainers}`, status: reason, restarts: restartsText };
}

function podCells(pod: Pod, now: number): string[] {
  const s = podSummary(pod, now);
  const ips = pod.status?.podIPs ?? [];
  // Go reads podIPs only; podIP is the fallback for a status that has not filled podIPs in
  const podIP = ips[0]?.ip || pod.status?.podIP || "<none>";
  const nodeName = pod.spec?.nodeName || "<none>";
  const nominated = (pod.status?.["nominatedNodeName"] as string | undefined) || "<none>";
  let gates = "<none>";
  const readinessGates = (pod.spec?.["readinessGates"] ?? []) as Array<{ conditionType: string }>;
  if (readinessGates.length > 0) {
    let ok = 0;
    for (const g of readinessGates) {
      const cond = (pod.status?.conditions ?? []).find((x) => x.type === (g.conditionType as string));
      if (cond?.status === "True") ok++;
    }
    gates = `${ok}/${readinessGates.length}`;
  }
  return [pod.metadata.name ?? "", s.ready, s.status, s.restarts, age(pod.metadata.creationTimestamp, now), podIP, nodeName, nominated, gates];
}

/** The node's STATUS column: Ready / NotReady / Unknown, plus SchedulingDisabled. */
export function nodeStatus(node: Node): string {
  const status: string[] = [];
  const ready = (node.status?.conditions ?? []).filter((x) => x.type === "Ready").at(-1);
  if (ready !== undefined) status.push(ready.status === "True" ? "Ready" : "NotReady");
  if (status.length === 0) status.push("Unknown");
  if (node.spec?.unschedulable) status.push("SchedulingDisabled");
  return status.join(",");
}

/** The node's roles from `node-role.kubernetes.io/<role>` and `kubernetes.io/role` labels. */
export function nodeRoles(node: Node): string[] {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata.labels ?? {})) {
    if (k.startsWith("node-role.kubernetes.io/")) {
      const role = k.slice("node-role.kubernetes.io/".length);
      if (role !== "") roles.add(role);
    } else if (k === "kubernetes.io/role" && v !== "") roles.add(v);
  }
  return [...roles].sort();
}

function nodeCells(node: Node, now: number): string[] {
  const info = node.status?.nodeInfo ?? {};
  const roles = nodeRoles(node).join(",") || "<none>";
  const addr = (type: string) => (node.status?.addresses ?? []).find((a) => a.type === type)?.address ?? "<none>";
  return [
    node.metadata.name ?? "",
    nodeStatus(node),
    roles,
    age(node.metadata.creationTimestamp, now),
    info["kubeletVersion"] ?? "",
    addr("InternalIP"),
    addr("ExternalIP"),
    info["osImage"] || "<unknown>",
    info["kernelVersion"] || "<unknown>",
    info["containerRuntimeVersion"] || "<unknown>",
  ];
}

function serviceCells(svc: Service, now: number): string[] {
  const spec = svc.spec ?? {};
  const type = spec.type ?? "";
  const clusterIP = spec.clusterIPs?.[0] ?? (spec.clusterIP || "<none>");
  const externalIPs = (spec["externalIPs"] ?? []) as string[];
  let external: string;
  switch (type) {
    case "ClusterIP":
    case "NodePort":
      external = externalIPs.length > 0 ? externalIPs.join(",") : "<none>";
      break;
    case "LoadBalancer": {
      const ingress = ((svc.status?.loadBalancer as { ingress?: Array<{ ip?: string; hostname?: string }> } | undefined)?.ingress ?? [])
        .map((i) => i.ip || i.hostname || "")
        .filter((x) => x !== "");
      const lb = [...new Set(ingress)].sort().join(",");
      if (externalIPs.length > 0) external = [...(lb ? lb.split(",") : []), ...externalIPs].join(",");
      else external = lb !== "" ? (lb.length > 16 ? `${lb.slice(0, 13)}...` : lb) : "<pending>";
      break;
    }
    case "ExternalName":
      external = spec.externalName ?? "";
      break;
    default:
      external = "<unknown>";
  }
  const ports = (spec.ports ?? [])
    .map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? "TCP"}` : `${p.port}/${p.protocol ?? "TCP"}`))
    .join(",");
  return [svc.metadata.name ?? "", type, clusterIP, external, ports || "<none>", age(svc.metadata.creationTimestamp, now), formatLabels(spec.selector)];
}

/** formatEndpoints: `ip:port` pairs, cut to three with ` + N more...`; `ports` limits to the named ports. */
export function formatEndpoints(ep: Endpoints, ports?: ReadonlySet<string>): string {
  const subsets = ep.subsets ?? [];
  if (subsets.length === 0) return "<none>";
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  for (const ss of subsets) {
    const addresses = ss.addresses ?? [];
    if ((ss.ports ?? []).length === 0) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(a.ip);
      }
      continue;
    }
    for (const port of ss.ports ?? []) {
      if (ports === undefined || ports.has(port.name ?? "")) {
        count += addresses.length;
        for (const a of addresses) {
          if (list.length === max) {
            more = true;
            break;
          }
          list.push(a.ip.includes(":") ? `[${a.ip}]:${port.port}` : `${a.ip}:${port.port}`);
        }
      }
    }
  }
  const ret = list.join(",");
  return more ? `${ret} + ${count - max} more...` : ret;
}

function formatDiscoveryPorts(ports: NonNullable<EndpointSlice["ports"]>): string {
  const list: string[] = [];
  let more = false;
  let count = 0;
  for (const p of ports) {
    if (list.length < 3) list.push(p.port !== undefined ? String(p.port) : p.name !== undefined ? p.name : "*");
    else if (list.length === 3) more = true;
    count++;
  }
  return listWithMore(list, more, count);
}

function formatDiscoveryEndpoints(endpoints: EndpointSlice["endpoints"]): string {
  const list: string[] = [];
  let more = false;
  let count = 0;
  for (const e of endpoints) {
    for (const a of e.addresses ?? []) {
      if (list.length < 3) list.push(a);
      else if (list.length === 3) more = true;
      count++;
    }
  }
  return listWithMore(list, more, count);
}

function listWithMore(list: string[], more: boolean, count: number): string {
  const ret = list.join(",");
  if (more) return `${ret} + ${count - 3} more...`;
  return ret === "" ? "<unset>" : ret;
}
