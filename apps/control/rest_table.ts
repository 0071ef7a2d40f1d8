/**
 * Server-side printing: the meta.k8s.io/v1 Table responses `kubectl get`
 * asks for (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`), with
 * the columns kube-apiserver's printers give (pkg/printers/internalversion)
 * for the kinds kemu stores, and Name/Created At for the rest.
 */
import { type Ingress, type IngressClass, ingressClassParameters, ingressRow, type KubeObject, type ResourceInfo } from "@kemu/api";
import type { ApiServer } from "./server.ts";

/** Whether an Accept header asks for a Table. */
export function wantsTable(accept: string | undefined): boolean {
  return accept !== undefined && /as=Table/.test(accept) && /g=meta\.k8s\.io/.test(accept);
}

interface Column {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

function col(name: string, priority = 0, type = "string", format = ""): Column {
  return { name, type, format, description: name === "Name" ? "Name must be unique within a namespace." : "", priority };
}

/** duration.HumanDuration of apimachinery: `5s`, `3m20s`, `2d4h`. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const days = Math.floor(hours / 24);
    return days % 365 === 0 ? `${Math.floor(days / 365)}y` : `${Math.floor(days / 365)}y${days % 365}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

type Obj = Record<string, unknown>;
type Printer = { columns: Column[]; cells: (o: KubeObject, age: string, since: (stamp: unknown) => string) => unknown[] };

function selectorText(sel: unknown): string {
  if (sel === null || typeof sel !== "object") return "<none>";
  const s = sel as { matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> };
  const parts = Object.keys(s.matchLabels ?? {})
    .sort()
    .map((k) => `${k}=${s.matchLabels![k]}`);
  for (const e of s.matchExpressions ?? []) parts.push(`${e.key} ${e.operator.toLowerCase()} (${(e.values ?? []).join(",")})`);
  return parts.length === 0 ? "<none>" : parts.join(",");
}

function mapText(m: unknown): string {
  if (m === null || typeof m !== "object" || Object.keys(m).length === 0) return "<none>";
  return Object.keys(m as Obj)
    .sort()
    .map((k) => `${k}=${String((m as Obj)[k])}`)
    .join(",");
}

function containersAndImages(o: KubeObject): [string, string] {
  const tpl = ((o.spec as Obj | undefined)?.["template"] as Obj | undefined)?.["spec"] as { containers?: Array<{ name: string; image: string }> } | undefined;
  const cs = tpl?.containers ?? [];
  return [cs.map((c) => c.name).join(","), cs.map((c) => c.image).join(",")];
}

function podStatus(o: KubeObject): { ready: string; reason: string; restarts: string } {
  const spec = (o.spec ?? {}) as { containers?: unknown[]; nodeName?: string };
  const status = (o.status ?? {}) as {
    phase?: string;
    reason?: string;
    containerStatuses?: Array<{ ready?: boolean; restartCount?: number; state?: { waiting?: { reason?: string }; terminated?: { reason?: string; exitCode?: number; signal?: number } } }>;
  };
  let reason = status.reason ?? status.phase ?? "";
  let ready = 0;
  let restarts = 0;
  const statuses = status.containerStatuses ?? [];
  let hasRunning = false;
  for (const c of [...statuses].reverse()) {
    restarts += c.restartCount ?? 0;
    if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
    else if (c.state?.terminated?.reason) reason = c.state.terminated.reason;
    else if (c.state?.terminated !== undefined) reason = c.state.terminated.signal ? `Signal:${c.state.terminated.signal}` : `ExitCode:${c.state.terminated.exitCode ?? 0}`;
    else if (c.ready) {
      hasRunning = true;
      ready++;
    }
  }
  if (reason === "Completed" && hasRunning) reason = "Running";
  if (o.metadata.deletionTimestamp !== undefined) reason = status.reason === "NodeLost" ? "Unknown" : "Terminating";
  return { ready: `${ready}/${(spec.containers ?? []).length}`, reason, restarts: String(restarts) };
}

function servicePorts(spec: Obj): string {
  const ports = (spec["ports"] as Array<{ port: number; nodePort?: number; protocol?: string }> | undefined) ?? [];
  if (ports.length === 0) return "<none>";
  return ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ""}/${p.protocol ?? "TCP"}`).join(",");
}

const PRINTERS: Record<string, Printer> = {
  Pod: {
    columns: [col("Name", 0, "string", "name"), col("Ready"), col("Status"), col("Restarts"), col("Age"), col("IP", 1), col("Node", 1), col("Nominated Node", 1), col("Readiness Gates", 1)],
    cells: (o, age) => {
      const s = podStatus(o);
      const status = (o.status ?? {}) as { podIP?: string; nominatedNodeName?: string };
      const spec = (o.spec ?? {}) as { nodeName?: string; readinessGates?: unknown[] };
      const gates = spec.readinessGates?.length ? `0/${spec.readinessGates.length}` : "<none>";
      return [o.metadata.name, s.ready, s.reason, s.restarts, age, status.podIP || "<none>", spec.nodeName || "<none>", status.nominatedNodeName || "<none>", gates];
    },
  },
  Deployment: {
    columns: [col("Name", 0, "string", "name"), col("Ready"), col("Up-to-date", 0, "integer"), col("Available", 0, "integer"), col("Age"), col("Containers", 1), col("Images", 1), col("Selector", 1)],
    cells: (o, age) => {
      const spec = (o.spec ?? {}) as { replicas?: number; selector?: unknown };
      const st = (o.status ?? {}) as { readyReplicas?: number; updatedReplicas?: number; availableReplicas?: number };
      const [c, i] = containersAndImages(o);
      return [o.metadata.name, `${st.readyReplicas ?? 0}/${spec.replicas ?? 0}`, st.updatedReplicas ?? 0, st.availableReplicas ?? 0, age, c, i, selectorText(spec.selector)];
    },
  },
  ReplicaSet: {
    columns: [col("Name", 0, "string", "name"), col("Desired", 0, "integer"), col("Current", 0, "integer"), col("Ready", 0, "integer"), col("Age"), col("Containers", 1), col("Images", 1), col("Selector", 1)],
    cells: (o, age) => {
      const spec = (o.spec ?? {}) as { replicas?: number; selector?: unknown };
      const st = (o.status ?? {}) as { replicas?: number; readyReplicas?: number };
      const [c, i] = containersAndImages(o);
      return [o.metadata.name, spec.replicas ?? 0, st.replicas ?? 0, st.readyReplicas ?? 0, age, c, i, selectorText(spec.selector)];
    },
  },
  Service: {
    columns: [col("Name", 0, "string", "name"), col("Type"), col("Cluster-IP"), col("External-IP"), col("Port(s)"), col("Age"), col("Selector", 1)],
    cells: (o, age) => {
      const spec = (o.spec ?? {}) as Obj;
      const type = (spec["type"] as string | undefined) ?? "ClusterIP";
      const ingress = (((o.status as Obj | undefined)?.["loadBalancer"] as Obj | undefined)?.["ingress"] as Array<{ ip?: string; hostname?: string }> | undefined) ?? [];
      const externalIPs = (spec["externalIPs"] as string[] | undefined) ?? [];
      let external = "<none>";
      if (type === "ExternalName") external = (spec["externalName"] as string | undefined) ?? "<none>";
      else if (type === "LoadBalancer") {
        const all = [...ingress.map((i) => i.ip ?? i.hostname ?? ""), ...externalIPs].filter((x) => x);
        external = all.length > 0 ? all.join(",") : "<pending>";
      } else if (externalIPs.length > 0) external = externalIPs.join(",");
      return [o.metadata.name, type, (spec["clusterIP"] as string | undefined) || "<none>", external, servicePorts(spec), age, mapText(spec["selector"])];
    },
  },
  Node: {
    columns: [col("Name", 0, "string", "name"), col("Status"), col("Roles"), col("Age"), col("Version"), col("Internal-IP", 1), col("External-IP", 1), col("OS-Image", 1), col("Kernel-Version", 1), col("Container-Runtime", 1)],
    cells: (o, age) => {
      const st = (o.status ?? {}) as { conditions?: Array<{ type: string; status: string }>; addresses?: Array<{ type: string; address: string }>; nodeInfo?: Record<string, string> };
      const ready = st.conditions?.find((c) => c.type === "Ready");
      const states = [ready === undefined ? "Unknown" : ready.status === "True" ? "Ready" : "NotReady"];
      if ((o.spec as { unschedulable?: boolean } | undefined)?.unschedulable) states.push("SchedulingDisabled");
      const roles = Object.keys(o.metadata.labels ?? {})
        .filter((k) => k.startsWith("node-role.kubernetes.io/"))
        .map((k) => k.slice("node-role.kubernetes.io/".length))
        .sort();
      const addr = (t: string): string => st.addresses?.find((a) => a.type === t)?.address ?? "<none>";
      const info = st.nodeInfo ?? {};
      return [o.metadata.name, states.join(","), roles.length > 0 ? roles.join(",") : "<none>", age, info["kubeletVersion"] ?? "", addr("InternalIP"), addr("ExternalIP"), info["osImage"] ?? "<unknown>", info["kernelVersion"] ?? "<unknown>", info["containerRuntimeVersion"] ?? "<unknown>"];
    },
  },
  Namespace: {
    columns: [col("Name", 0, "string", "name"), col("Status"), col("Age")],
    cells: (o, age) => [o.metadata.name, ((o.status ?? {}) as { phase?: string }).phase ?? "", age],
  },
  ConfigMap: {
    columns: [col("Name", 0, "string", "name"), col("Data", 0, "integer"), col("Age")],
    cells: (o, age) => [o.metadata.name, Object.keys((o["data"] as Obj | undefined) ?? {}).length + Object.keys((o["binaryData"] as Obj | undefined) ?? {}).length, age],
  },
  Endpoints: {
    columns: [col("Name", 0, "string", "name"), col("Endpoints"), col("Age")],
    cells: (o, age) => {
      const subsets = (o["subsets"] as Array<{ addresses?: Array<{ ip: string }>; ports?: Array<{ port: number }> }> | undefined) ?? [];
      const list: string[] = [];
      for (const s of subsets) for (const a of s.addresses ?? []) for (const p of s.ports?.length ? s.ports : [undefined]) list.push(p === undefined ? a.ip : `${a.ip}:${p.port}`);
      const shown = list.length === 0 ? "<none>" : list.length > 3 ? `${list.slice(0, 3).join(",")} + ${list.length - 3} more...` : list.join(",");
      return [o.metadata.name, shown, age];
    },
  },
};

PRINTERS["Event"] = {
  columns: [col("Last Seen"), col("Type"), col("Reason"), col("Object"), col("Subobject", 1), col("Source", 1), col("Message"), col("First Seen", 1), col("Count", 1), col("Name", 1)],
  cells: (o, _age, since) => {
    const e = o as KubeObject & {
      involvedObject?: { kind?: string; name?: string; fieldPath?: string };
      source?: { component?: string; host?: string };
      lastTimestamp?: string | null;
      firstTimestamp?: string | null;
      eventTime?: string | null;
      count?: number;
    };
    const last = e.lastTimestamp ?? e.eventTime ?? o.metadata.creationTimestamp;
    const first = e.firstTimestamp ?? e.eventTime ?? o.metadata.creationTimestamp;
    const src = [e.source?.component, e.source?.host].filter((x) => x).join(", ");
    return [
      since(last),
      o["type"] ?? "",
      o["reason"] ?? "",
      `${(e.involvedObject?.kind ?? "").toLowerCase()}/${e.involvedObject?.name ?? ""}`,
      e.involvedObject?.fieldPath ?? "",
      src,
      String(o["message"] ?? "").trim(),
      since(first),
      e.count ?? 1,
      o.metadata.name,
    ];
  },
};

PRINTERS["EndpointSlice"] = {
  columns: [col("Name", 0, "string", "name"), col("AddressType"), col("Ports"), col("Endpoints"), col("Age")],
  cells: (o, age) => {
    const ports = (o["ports"] as Array<{ port?: number }> | undefined) ?? [];
    const addrs = ((o["endpoints"] as Array<{ addresses?: string[] }> | undefined) ?? []).flatMap((e) => e.addresses ?? []);
    const shownPorts = ports.length === 0 ? "<unset>" : ports.map((p) => (p.port === undefined ? "<unset>" : String(p.port))).join(",");
    const shown = addrs.length === 0 ? "<unset>" : addrs.length > 3 ? `${addrs.slice(0, 3).join(",")} + ${addrs.length - 3} more...` : addrs.join(",");
    return [o.metadata.name, o["addressType"] ?? "", shownPorts, shown, age];
  },
};

PRINTERS["Ingress"] = {
  columns: [
    col("Name", 0, "string", "name"),
    { ...col("Class"), description: "The name of the IngressClass resource that should be used for additional configuration" },
    { ...col("Hosts"), description: "Hosts that incoming requests are matched against before the ingress rule" },
    { ...col("Address"), description: "Address is a list containing ingress points for the load-balancer" },
    { ...col("Ports"), description: "Ports of TLS configurations that open" },
    col("Age"),
  ],
  cells: (o, age) => {
    // The API server's TableConvertor always generates with Wide: true, so ADDRESS is never clipped.
    const row = ingressRow(o as Ingress, true);
    return [o.metadata.name, row.className, row.hosts, row.address, row.ports, age];
  },
};

PRINTERS["IngressClass"] = {
  columns: [
    col("Name", 0, "string", "name"),
    { ...col("Controller"), description: "Controller that is responsible for handling this class" },
    { ...col("Parameters"), description: "A reference to a resource with additional parameters" },
    col("Age"),
  ],
  cells: (o, age) => [o.metadata.name, (o as IngressClass).spec?.controller ?? "", ingressClassParameters(o as IngressClass), age],
};

const DEFAULT_PRINTER: Printer = {
  columns: [col("Name", 0, "string", "name"), { ...col("Created At", 0, "date"), description: "CreationTimestamp is a timestamp representing the server time when this object was created." }],
  cells: (o) => [o.metadata.name, o.metadata.creationTimestamp ?? ""],
};

/** The meta.k8s.io/v1 Table of objects, rows carrying PartialObjectMetadata as kube-apiserver's default `includeObject=Metadata`. */
export function toTable(info: ResourceInfo, items: readonly KubeObject[], server: ApiServer, listMeta: Obj): KubeObject {
  const printer = PRINTERS[info.kind] ?? DEFAULT_PRINTER;
  const now = Date.parse(server.timestamp());
  const rows = items.map((o) => {
    const created = o.metadata.creationTimestamp === undefined ? now : Date.parse(o.metadata.creationTimestamp);
    return {
      cells: printer.cells(o, humanDuration(now - created), (stamp) => (typeof stamp === "string" ? humanDuration(now - Date.parse(stamp)) : "<unknown>")),
      object: { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata },
    };
  });
  return { kind: "Table", apiVersion: "meta.k8s.io/v1", metadata: listMeta as KubeObject["metadata"], columnDefinitions: printer.columns, rows };
}
