/**
 * `kubectl describe`: kubectl's describers for pods, nodes, services,
 * deployments, replica sets, endpoints, namespaces and config maps, laid out
 * by the same tabwriter settings, with the objects' Events.
 */
import {
  type ConfigMap,
  type Container,
  type ContainerStatus,
  type Deployment,
  type Endpoints,
  type Event,
  type KubeObject,
  type Namespace,
  type Node,
  type Pod,
  type ReplicaSet,
  type ResourceInfo,
  type Service,
  resourceForName,
} from "@kemu/api";
import { age, parseTime, rfc1123z } from "./age.ts";
import { type Env, isNotFound, listObjects, mustResource, namespaceFor } from "./_env.ts";
import { DESCRIBE_TABS, TabBuffer } from "./_tabwriter.ts";
import { CmdError, aggregate } from "./errors.ts";
import { resolveArgs } from "./get.ts";
import { readManifests } from "./manifest.ts";
import { addQuantities, formatQuantity, milliOf, parseQuantity } from "./quantity.ts";
import { formatLabelSelector, formatLabels, matches, selectorRequirements } from "./selector.ts";
import { formatEndpoints, nodeRoles } from "./tables.ts";

const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";
const MAX_ANNOTATION_LEN = 140;

/** describe's PrefixWriter over a tabwriter (minwidth 0, padding 2). */
class Writer {
  readonly #tabs = new TabBuffer(DESCRIBE_TABS);
  write(level: number, text: string): void {
    this.#tabs.write("  ".repeat(level) + text);
  }
  line(text: string): void {
    this.#tabs.write(`${text}\n`);
  }
  flush(): void {
    this.#tabs.flush();
  }
  toString(): string {
    return this.#tabs.toString();
  }
}

/** Runs `kubectl describe`. */
export async function runDescribe(env: Env): Promise<void> {
  const f = env.flags;
  const args = f.args;
  const allNamespaces = f.bool("all-namespaces");
  const filenames = f.array("filename");
  const selector = f.string("selector") || undefined;
  if (args.length === 0 && filenames.length === 0) {
    throw new CmdError(
      `You must specify the type of resource to describe. Use "kubectl api-resources" for a complete list of supported resources.\n`,
    );
  }
  const errors: Error[] = [];
  const targets: Array<{ r: ResourceInfo; o: KubeObject }> = [];
  if (filenames.length > 0) {
    const m = await readManifests(env.ctx, filenames, { recursive: f.bool("recursive") });
    errors.push(...m.errors);
    for (const x of m.objects) {
      const ns = x.resource.namespaced ? x.object.metadata.namespace || env.namespace : "";
      try {
        targets.push({ r: x.resource, o: await env.api.get({ resource: x.resource.plural, namespace: ns, name: x.object.metadata.name ?? "" }) });
      } catch (err) {
        errors.push(err as Error);
      }
    }
  } else {
    const requests = resolveArgs(args);
    for (const req of requests) {
      const ns = namespaceFor(env, req.resource, allNamespaces);
      try {
        if (req.name !== undefined) {
          targets.push({ r: req.resource, o: await env.api.get({ resource: req.resource.plural, namespace: ns, name: req.name }) });
        } else {
          for (const o of await listObjects(env, req.resource, ns, { labelSelector: selector })) targets.push({ r: req.resource, o });
        }
      } catch (err) {
        if (isNotFound(err) && args.length === 2 && !args[0]!.includes("/")) {
          // kubectl describe TYPE PREFIX: every object whose name starts with PREFIX
          const r = mustResource(args[0]!);
          const all = await listObjects(env, r, namespaceFor(env, r));
          const matching = all.filter((o) => (o.metadata.name ?? "").startsWith(args[1]!));
          if (matching.length === 0) throw err;
          for (const o of matching) env.out(`${await describeObject(env, r, o)}\n`);
          return;
        }
        errors.push(err as Error);
      }
    }
  }
  let first = true;
  for (const { r, o } of targets) {
    const text = await describeObject(env, r, o);
    env.out(first ? text : `\n\n${text}`);
    first = false;
  }
  if (targets.length === 0 && errors.length === 0) {
    if (allNamespaces) env.err("No resources found\n");
    else env.err(`No resources found in ${env.namespace} namespace.\n`);
  }
  const e = aggregate(errors);
  if (e) throw e;
}

/** The describe text of one object. */
export async function describeObject(env: Env, r: ResourceInfo, o: KubeObject): Promise<string> {
  const now = env.now();
  const events = r.kind === "Namespace" ? undefined : await eventsFor(env, r, o);
  switch (r.kind) {
    case "Pod":
      return describePod(o as Pod, now, events);
    case "Node": {
      const pods = (await listObjects(env, mustResource("pods"), "")).filter(
        (p) => (p as Pod).spec?.nodeName === o.metadata.name && !["Succeeded", "Failed"].includes((p as Pod).status?.phase ?? ""),
      ) as Pod[];
      return describeNode(o as Node, pods, now, events);
    }
    case "Service": {
      let ep: Endpoints | undefined;
      try {
        ep = (await env.api.get({ resource: "endpoints", namespace: o.metadata.namespace ?? "", name: o.metadata.name ?? "" })) as Endpoints;
      } catch {
        ep = undefined;
      }
      return describeService(o as Service, ep, now, events);
    }
    case "Deployment": {
      const d = o as Deployment;
      const rss = (await listObjects(env, mustResource("replicasets"), d.metadata.namespace ?? "")) as ReplicaSet[];
      const owned = rss.filter((rs) => (rs.metadata.ownerReferences ?? []).some((ref) => ref.uid === d.metadata.uid && ref.controller));
      return describeDeployment(d, owned, now, events);
    }
    case "ReplicaSet": {
      const rs = o as ReplicaSet;
      const pods = (await listObjects(env, mustResource("pods"), rs.metadata.namespace ?? "")) as Pod[];
      const reqs = selectorRequirements(rs.spec?.selector);
      const owned = pods.filter(
        (p) => matches(reqs, p.metadata.labels) && (p.metadata.ownerReferences ?? []).some((ref) => ref.uid === rs.metadata.uid && ref.controller),
      );
      return describeReplicaSet(rs, owned, now, events);
    }
    case "Endpoints":
      return describeEndpoints(o as Endpoints, now, events);
    case "Namespace":
      return describeNamespace(o as Namespace);
    case "ConfigMap":
      return describeConfigMap(o as ConfigMap, now, events);
    default:
      return describeGeneric(o, now, events);
  }
}

function printLabels(w: Writer, title: string, labels: Record<string, string> | undefined, initialIndent = ""): void {
  w.write(0, `${initialIndent}${title}:\t`);
  const keys = Object.keys(labels ?? {}).sort();
  if (keys.length === 0) {
    w.line("<none>");
    return;
  }
  keys.forEach((k, i) => {
    if (i !== 0) w.write(0, `${initialIndent}\t`);
    w.write(0, `${k}=${labels![k]}\n`);
  });
}

function printAnnotations(w: Writer, title: string, annotations: Record<string, string> | undefined): void {
  w.write(0, `${title}:\t`);
  const keys = Object.keys(annotations ?? {})
    .filter((k) => k !== LAST_APPLIED)
    .sort();
  if (keys.length === 0) {
    w.line("<none>");
    return;
  }
  keys.forEach((k, i) => {
    if (i !== 0) w.write(0, "\t");
    const value = annotations![k]!.replace(/\n$/, "");
    if (value.length + k.length + 2 > MAX_ANNOTATION_LEN || value.includes("\n")) {
      w.write(0, `${k}:\n`);
      for (const s of value.split("\n")) {
        w.write(0, `\t  ${s.length > MAX_ANNOTATION_LEN - 2 ? `${s.slice(0, MAX_ANNOTATION_LEN - 2)}...` : s}\n`);
      }
    } else {
      w.write(0, `${k}: ${value}\n`);
    }
  });
}

type Toleration = { key?: string; operator?: string; value?: string; effect?: string; tolerationSeconds?: number };

function printTolerations(w: Writer, title: string, tolerations: Toleration[] | undefined, initialIndent = ""): void {
  w.write(0, `${initialIndent}${title}:\t`);
  const list = [...(tolerations ?? [])].sort((a, b) => ((a.key ?? "") < (b.key ?? "") ? -1 : (a.key ?? "") > (b.key ?? "") ? 1 : 0));
  if (list.length === 0) {
    w.line("<none>");
    return;
  }
  list.forEach((t, i) => {
    if (i !== 0) w.write(0, `${initialIndent}\t`);
    let s = t.key ?? "";
    if (t.value) s += `=${t.value}`;
    if (t.effect) s += `:${t.effect}`;
    if (t.operator === "Exists" && !t.value) s += t.key || t.effect ? " op=Exists" : "op=Exists";
    if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null) s += ` for ${t.tolerationSeconds}s`;
    w.write(0, `${s}\n`);
  });
}

function controllerOf(o: KubeObject): string {
  const ref = (o.metadata.ownerReferences ?? []).find((r) => r.controller);
  return ref ? `${ref.kind}/${ref.name}` : "";
}

/** DescribeEvents: sorted by last time, `<age> (xN over <age>)` for repeats. */
function describeEvents(w: Writer, events: readonly Event[] | undefined, now: number): void {
  if (events === undefined) return;
  if (events.length === 0) {
    w.write(0, "Events:\t<none>\n");
    return;
  }
  w.flush();
  const when = (e: Event) => parseTime(e.lastTimestamp) ?? parseTime(e.eventTime) ?? parseTime(e.firstTimestamp) ?? 0;
  const sorted = [...events].sort((x, y) => when(x) - when(y));
  w.write(0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n");
  w.write(1, "----\t------\t----\t----\t-------\n");
  for (const e of sorted) {
    const first = e.eventTime ? age(e.eventTime, now) : age(e.firstTimestamp, now);
    const series = e["series"] as { count?: number; lastObservedTime?: string } | undefined;
    let interval = first;
    if (series) interval = `${age(series.lastObservedTime, now)} (x${series.count ?? 0} over ${first})`;
    else if ((e.count ?? 0) > 1) interval = `${age(e.lastTimestamp, now)} (x${e.count} over ${first})`;
    const source = e.source?.component || (e["reportingController"] as string | undefined) || e.reportingComponent || "";
    w.write(1, `${e.type ?? ""}\t${e.reason ?? ""}\t${interval}\t${source}\t${(e.message ?? "").trim()}\n`);
  }
}

/** The events about an object (kubectl's searchEvents: by name, namespace, kind and uid); undefined when the API has no events. */
export async function eventsFor(env: Env, r: ResourceInfo, o: KubeObject): Promise<Event[] | undefined> {
  const er = resourceForName("events");
  if (er === undefined) return undefined;
  const isNode = r.kind === "Node";
  let list: KubeObject[];
  try {
    list = await listObjects(env, er, isNode ? "" : (o.metadata.namespace ?? ""));
  } catch {
    return [];
  }
  return (list as Event[]).filter((e) => {
    const ref = e.involvedObject ?? { name: "", kind: "" };
    if (ref.name !== o.metadata.name) return false;
    if (isNode) return ref.kind === "Node";
    if ((ref.namespace ?? "") !== (o.metadata.namespace ?? "")) return false;
    if (r.kind !== "Pod" && ref.kind !== r.kind) return false;
    return o.metadata.uid === undefined || ref.uid === undefined || ref.uid === o.metadata.uid;
  });
}

function qosClass(pod: Pod): string {
  if (pod.status?.qosClass) return pod.status.qosClass;
  const all = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of all) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    for (const k of ["cpu", "memory"]) {
      const r = parseQuantity(req[k]);
      const l = parseQuantity(lim[k]);
      if ((r?.nano ?? 0n) > 0n || (l?.nano ?? 0n) > 0n) any = true;
      if (l === undefined || l.nano === 0n) guaranteed = false;
      else if (r !== undefined && r.nano !== l.nano) guaranteed = false;
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

function describeContainers(w: Writer, label: string, containers: Container[], statuses: ContainerStatus[] | undefined, space: string): void {
  w.write(0, `${space}${label}:${containers.length === 0 ? " <none>" : ""}\n`);
  const byName = new Map((statuses ?? []).map((s) => [s.name, s]));
  for (const c of containers) {
    const st = byName.get(c.name);
    w.write(1, `${space ? " " : ""}${c.name}:\n`);
    if (st) w.write(2, `Container ID:\t${st.containerID ?? ""}\n`);
    w.write(2, `Image:\t${c.image}\n`);
    if (st) w.write(2, `Image ID:\t${st.imageID ?? ""}\n`);
    const ports = (c.ports ?? []).map((p) => `${p.containerPort}/${p.protocol ?? "TCP"}`).join(", ");
    w.write(2, ports.includes(",") ? `Ports:\t${ports}\n` : `Port:\t${ports || "<none>"}\n`);
    const hostPorts = (c.ports ?? []).map((p) => `${p.hostPort ?? 0}/${p.protocol ?? "TCP"}`).join(", ");
    w.write(2, hostPorts.includes(",") ? `Host Ports:\t${hostPorts}\n` : `Host Port:\t${hostPorts || "<none>"}\n`);
    if ((c.command ?? []).length > 0) {
      w.write(2, "Command:\n");
      for (const x of c.command ?? []) for (const s of x.split("\n")) w.write(3, `${s}\n`);
    }
    if ((c.args ?? []).length > 0) {
      w.write(2, "Args:\n");
      for (const x of c.args ?? []) for (const s of x.split("\n")) w.write(3, `${s}\n`);
    }
    if (st) {
      containerState(w, "State", st.state ?? {});
      if (st.lastState?.terminated) containerState(w, "Last State", st.lastState);
      w.write(2, `Ready:\t${st.ready ? "True" : "False"}\n`);
      w.write(2, `Restart Count:\t${st.restartCount ?? 0}\n`);
    }
    const limits = c.resources?.limits ?? {};
    const requests = c.resources?.requests ?? {};
    if (Object.keys(limits).length > 0) w.write(2, "Limits:\n");
    for (const k of sortedResourceNames(limits)) w.write(3, `${k}:\t${canonical(limits[k]!)}\n`);
    if (Object.keys(requests).length > 0) w.write(2, "Requests:\n");
    for (const k of sortedResourceNames(requests)) w.write(3, `${k}:\t${canonical(requests[k]!)}\n`);
    if (c.livenessProbe) w.write(2, `Liveness:\t${describeProbe(c.livenessProbe)}\n`);
    if (c.readinessProbe) w.write(2, `Readiness:\t${describeProbe(c.readinessProbe)}\n`);
    const env = c.env ?? [];
    w.write(2, `Environment:${env.length === 0 ? "\t<none>" : ""}\n`);
    for (const e of env) {
      if (e.value !== undefined || !("valueFrom" in e)) {
        (e.value ?? "").split("\n").forEach((s, i) => w.write(3, i === 0 ? `${e.name}:\t${s}\n` : `\t${s}\n`));
      } else {
        w.write(3, `${e.name}:\t\n`);
      }
    }
    const mounts = ((c["volumeMounts"] ?? []) as Array<{ name: string; mountPath: string; readOnly?: boolean; subPath?: string }>)
      .slice()
      .sort((a, b) => (a.mountPath < b.mountPath ? -1 : a.mountPath > b.mountPath ? 1 : 0));
    w.write(2, `Mounts:${mounts.length === 0 ? "\t<none>" : ""}\n`);
    for (const m of mounts) {
      const flags = [m.readOnly ? "ro" : "rw", ...(m.subPath ? [`path="${m.subPath}"`] : [])];
      w.write(3, `${m.mountPath} from ${m.name} (${flags.join(",")})\n`);
    }
  }
}

function sortedResourceNames(list: Record<string, string>): string[] {
  return Object.keys(list).sort();
}

function canonical(text: string): string {
  const q = parseQuantity(text);
  return q ? formatQuantity(q) : text;
}

function describeProbe(probe: unknown): string {
  const p = (probe ?? {}) as Record<string, unknown>;
  const attrs = `delay=${p["initialDelaySeconds"] ?? 0}s timeout=${p["timeoutSeconds"] ?? 1}s period=${p["periodSeconds"] ?? 10}s #success=${p["successThreshold"] ?? 1} #failure=${p["failureThreshold"] ?? 3}`;
  const exec = p["exec"] as { command?: string[] } | undefined;
  const http = p["httpGet"] as { scheme?: string; host?: string; port?: unknown; path?: string } | undefined;
  const tcp = p["tcpSocket"] as { host?: string; port?: unknown } | undefined;
  if (exec) return `exec [${(exec.command ?? []).join(" ")}] ${attrs}`;
  if (http) {
    const scheme = (http.scheme ?? "HTTP").toLowerCase();
    return `http-get ${scheme}://${http.host ?? ""}:${String(http.port ?? "")}${http.path ?? ""} ${attrs}`;
  }
  if (tcp) return `tcp-socket ${tcp.host ?? ""}:${String(tcp.port ?? "")} ${attrs}`;
  return `unknown ${attrs}`;
}

function containerState(w: Writer, name: string, state: ContainerStatus["state"]): void {
  if (state.running) {
    w.write(2, `${name}:\tRunning\n`);
    w.write(3, `Started:\t${rfc1123z(state.running.startedAt)}\n`);
  } else if (state.waiting) {
    w.write(2, `${name}:\tWaiting\n`);
    if (state.waiting.reason) w.write(3, `Reason:\t${state.waiting.reason}\n`);
  } else if (state.terminated) {
    const t = state.terminated as NonNullable<ContainerStatus["state"]["terminated"]> & { message?: string; signal?: number };
    w.write(2, `${name}:\tTerminated\n`);
    if (t.reason) w.write(3, `Reason:\t${t.reason}\n`);
    if (t.message) w.write(3, `Message:\t${t.message}\n`);
    w.write(3, `Exit Code:\t${t.exitCode}\n`);
    if ((t.signal ?? 0) > 0) w.write(3, `Signal:\t${t.signal}\n`);
    w.write(3, `Started:\t${rfc1123z(t.startedAt)}\n`);
    w.write(3, `Finished:\t${rfc1123z(t.finishedAt)}\n`);
  } else {
    w.write(2, `${name}:\tWaiting\n`);
  }
}

function describeVolumes(w: Writer, volumes: Array<Record<string, unknown>> | undefined, space: string): void {
  const list = volumes ?? [];
  if (list.length === 0) {
    w.write(0, `${space}Volumes:\t<none>\n`);
    return;
  }
  w.write(0, `${space}Volumes:\n`);
  for (const v of list) {
    w.write(1, `${space ? " " : ""}${String(v["name"])}:\n`);
    if (v["emptyDir"] !== undefined) {
      const e = (v["emptyDir"] ?? {}) as { medium?: string; sizeLimit?: string };
      w.write(2, "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n");
      w.write(2, `Medium:\t${e.medium ?? ""}\n`);
      w.write(2, `SizeLimit:\t${e.sizeLimit ?? "<unset>"}\n`);
    } else if (v["configMap"] !== undefined) {
      const c = v["configMap"] as { name?: string; optional?: boolean };
      w.write(2, "Type:\tConfigMap (a volume populated by a ConfigMap)\n");
      w.write(2, `Name:\t${c.name ?? ""}\n`);
      w.write(2, `Optional:\t${c.optional ? "true" : "false"}\n`);
    } else if (v["hostPath"] !== undefined) {
      const h = v["hostPath"] as { path?: string; type?: string };
      w.write(2, "Type:\tHostPath (bare host directory volume)\n");
      w.write(2, `Path:\t${h.path ?? ""}\n`);
      w.write(2, `HostPathType:\t${h.type ?? ""}\n`);
    } else {
      w.write(2, "<unknown>\n");
    }
  }
}

/** describe pod. */
export function describePod(pod: Pod, now: number, events?: Event[]): string {
  const w = new Writer();
  const spec = pod.spec ?? { containers: [] };
  const status = pod.status ?? {};
  w.write(0, `Name:\t${pod.metadata.name ?? ""}\n`);
  w.write(0, `Namespace:\t${pod.metadata.namespace ?? ""}\n`);
  if (spec["priority"] !== undefined) w.write(0, `Priority:\t${String(spec["priority"])}\n`);
  if (spec["priorityClassName"]) w.write(0, `Priority Class Name:\t${String(spec["priorityClassName"])}\n`);
  if (spec["serviceAccountName"]) w.write(0, `Service Account:\t${String(spec["serviceAccountName"])}\n`);
  w.write(0, spec.nodeName ? `Node:\t${spec.nodeName}/${status.hostIP ?? ""}\n` : "Node:\t<none>\n");
  if (status.startTime) w.write(0, `Start Time:\t${rfc1123z(status.startTime)}\n`);
  printLabels(w, "Labels", pod.metadata.labels);
  printAnnotations(w, "Annotations", pod.metadata.annotations);
  if (pod.metadata.deletionTimestamp) {
    w.write(0, `Status:\tTerminating (lasts ${age(pod.metadata.deletionTimestamp, now)})\n`);
    w.write(0, `Termination Grace Period:\t${String(pod.metadata["deletionGracePeriodSeconds"] ?? spec.terminationGracePeriodSeconds ?? 30)}s\n`);
  } else {
    w.write(0, `Status:\t${status.phase ?? ""}\n`);
  }
  if (status.reason) w.write(0, `Reason:\t${status.reason}\n`);
  if (status.message) w.write(0, `Message:\t${status.message}\n`);
  w.write(0, `IP:\t${status.podIP ?? ""}\n`);
  const ips = status.podIPs ?? [];
  if (ips.length === 0) w.write(0, "IPs:\t<none>\n");
  else {
    w.write(0, "IPs:\n");
    for (const ip of ips) w.write(1, `IP:\t${ip.ip}\n`);
  }
  const controller = controllerOf(pod);
  if (controller) w.write(0, `Controlled By:\t${controller}\n`);
  if (status["nominatedNodeName"]) w.write(0, `NominatedNodeName:\t${String(status["nominatedNodeName"])}\n`);
  if ((spec.initContainers ?? []).length > 0) {
    describeContainers(w, "Init Containers", spec.initContainers ?? [], status["initContainerStatuses"] as ContainerStatus[] | undefined, "");
  }
  describeContainers(w, "Containers", spec.containers ?? [], status.containerStatuses, "");
  const gates = (spec["readinessGates"] ?? []) as Array<{ conditionType: string }>;
  if (gates.length > 0) {
    w.write(0, "Readiness Gates:\n  Type\tStatus\n");
    for (const g of gates) {
      const c = (status.conditions ?? []).find((x) => x.type === (g.conditionType as string));
      w.write(1, `${g.conditionType} \t${c?.status ?? "<none>"} \n`);
    }
  }
  if ((status.conditions ?? []).length > 0) {
    w.write(0, "Conditions:\n  Type\tStatus\n");
    for (const c of status.conditions ?? []) w.write(1, `${c.type} \t${c.status} \n`);
  }
  describeVolumes(w, spec["volumes"] as Array<Record<string, unknown>> | undefined, "");
  w.write(0, `QoS Class:\t${qosClass(pod)}\n`);
  printLabels(w, "Node-Selectors", spec.nodeSelector);
  printTolerations(w, "Tolerations", spec["tolerations"] as Toleration[] | undefined);
  describeEvents(w, events, now);
  return w.toString();
}

/** describe node, with the pods that run on it. */
export function describeNode(node: Node, pods: Pod[], now: number, events?: Event[]): string {
  const w = new Writer();
  const st = node.status ?? {};
  w.write(0, `Name:\t${node.metadata.name ?? ""}\n`);
  const roles = nodeRoles(node);
  w.write(0, `Roles:\t${roles.length > 0 ? roles.join(",") : "<none>"}\n`);
  printLabels(w, "Labels", node.metadata.labels);
  printAnnotations(w, "Annotations", node.metadata.annotations);
  w.write(0, `CreationTimestamp:\t${rfc1123z(node.metadata.creationTimestamp)}\n`);
  const taints = [...(node.spec?.taints ?? [])].sort((a, b) => {
    const ka = `${a.effect},${a.key}`;
    const kb = `${b.effect},${b.key}`;
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
  w.write(0, "Taints:\t");
  if (taints.length === 0) w.line("<none>");
  taints.forEach((t, i) => {
    if (i !== 0) w.write(0, "\t");
    w.write(0, `${t.key}${t.value ? `=${t.value}` : ""}:${t.effect}\n`);
  });
  w.write(0, `Unschedulable:\t${node.spec?.unschedulable ? "true" : "false"}\n`);
  const ready = (st.conditions ?? []).find((c) => c.type === "Ready");
  w.write(0, "Lease:\n");
  w.write(1, `HolderIdentity:\t${node.metadata.name ?? ""}\n`);
  w.write(1, "AcquireTime:\t<unset>\n");
  w.write(1, `RenewTime:\t${ready?.lastHeartbeatTime ? rfc1123z(ready.lastHeartbeatTime) : "<unset>"}\n`);
  if ((st.conditions ?? []).length > 0) {
    w.write(0, "Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n");
    w.write(1, "----\t------\t-----------------\t------------------\t------\t-------\n");
    for (const c of st.conditions ?? []) {
      w.write(1, `${c.type} \t${c.status} \t${rfc1123z(c.lastHeartbeatTime)} \t${rfc1123z(c.lastTransitionTime)} \t${c.reason ?? ""} \t${c.message ?? ""}\n`);
    }
  }
  w.write(0, "Addresses:\n");
  for (const a of st.addresses ?? []) w.write(1, `${a.type}:\t${a.address}\n`);
  const printResources = (list: Record<string, string>) => {
    for (const k of Object.keys(list).sort()) w.write(0, `  ${k}:\t${canonical(list[k]!)}\n`);
  };
  if (Object.keys(st.capacity ?? {}).length > 0) {
    w.write(0, "Capacity:\n");
    printResources(st.capacity ?? {});
  }
  if (Object.keys(st.allocatable ?? {}).length > 0) {
    w.write(0, "Allocatable:\n");
    printResources(st.allocatable ?? {});
  }
  const info = st.nodeInfo ?? {};
  w.write(0, "System Info:\n");
  w.write(0, `  Machine ID:\t${info["machineID"] ?? ""}\n`);
  w.write(0, `  System UUID:\t${info["systemUUID"] ?? ""}\n`);
  w.write(0, `  Boot ID:\t${info["bootID"] ?? ""}\n`);
  w.write(0, `  Kernel Version:\t${info["kernelVersion"] ?? ""}\n`);
  w.write(0, `  OS Image:\t${info["osImage"] ?? ""}\n`);
  w.write(0, `  Operating System:\t${info["operatingSystem"] ?? ""}\n`);
  w.write(0, `  Architecture:\t${info["architecture"] ?? ""}\n`);
  w.write(0, `  Container Runtime Version:\t${info["containerRuntimeVersion"] ?? ""}\n`);
  w.write(0, `  Kubelet Version:\t${info["kubeletVersion"] ?? ""}\n`);
  w.write(0, `  Kube-Proxy Version:\t${info["kubeProxyVersion"] ?? ""}\n`);
  if (node.spec?.podCIDR) w.write(0, `PodCIDR:\t${node.spec.podCIDR}\n`);
  if ((node.spec?.podCIDRs ?? []).length > 0) w.write(0, `PodCIDRs:\t${(node.spec?.podCIDRs ?? []).join(",")}\n`);
  if (node.spec?.["providerID"]) w.write(0, `ProviderID:\t${String(node.spec["providerID"])}\n`);

  const allocatable = Object.keys(st.allocatable ?? {}).length > 0 ? st.allocatable! : (st.capacity ?? {});
  const cpuAlloc = milliOf(allocatable["cpu"]);
  const memAlloc = milliOf(allocatable["memory"]);
  const storAlloc = milliOf(allocatable["ephemeral-storage"]);
  const pct = (v: bigint, total: number) => (total === 0 ? 0 : Math.trunc((Number(v) / total) * 100));
  w.write(0, `Non-terminated Pods:\t(${pods.length} in total)\n`);
  w.write(1, "Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n");
  w.write(1, "---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n");
  const totals = { req: new Map<string, ReturnType<typeof addQuantities>[]>(), lim: new Map<string, ReturnType<typeof addQuantities>[]>() };
  for (const p of pods) {
    const { req, lim } = podRequestsAndLimits(p);
    for (const [k, v] of Object.entries(req)) totals.req.set(k, [...(totals.req.get(k) ?? []), v]);
    for (const [k, v] of Object.entries(lim)) totals.lim.set(k, [...(totals.lim.get(k) ?? []), v]);
    const q = (m: Record<string, ReturnType<typeof addQuantities>>, k: string) => m[k] ?? { nano: 0n, format: "DecimalSI" as const };
    const cpuR = q(req, "cpu");
    const cpuL = q(lim, "cpu");
    const memR = q(req, "memory");
    const memL = q(lim, "memory");
    w.write(
      1,
      `${p.metadata.namespace ?? ""}\t${p.metadata.name ?? ""}\t\t${formatQuantity(cpuR)} (${pct(cpuR.nano / 1_000_000n, cpuAlloc)}%)\t${formatQuantity(cpuL)} (${pct(cpuL.nano / 1_000_000n, cpuAlloc)}%)\t${formatQuantity(memR)} (${pct(memR.nano / 1_000_000n, memAlloc)}%)\t${formatQuantity(memL)} (${pct(memL.nano / 1_000_000n, memAlloc)}%)\t${age(p.metadata.creationTimestamp, now)}\n`,
    );
  }
  w.write(0, "Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n");
  w.write(1, "Resource\tRequests\tLimits\n");
  w.write(1, "--------\t--------\t------\n");
  const sum = (m: Map<string, ReturnType<typeof addQuantities>[]>, k: string) => addQuantities(m.get(k) ?? []);
  for (const [k, total] of [["cpu", cpuAlloc], ["memory", memAlloc], ["ephemeral-storage", storAlloc]] as const) {
    const r = sum(totals.req, k);
    const l = sum(totals.lim, k);
    w.write(1, `${k}\t${formatQuantity(r)} (${pct(r.nano / 1_000_000n, total)}%)\t${formatQuantity(l)} (${pct(l.nano / 1_000_000n, total)}%)\n`);
  }
  for (const k of Object.keys(allocatable).filter((x) => x.startsWith("hugepages-")).sort()) {
    const r = sum(totals.req, k);
    const l = sum(totals.lim, k);
    const t = milliOf(allocatable[k]);
    w.write(1, `${k}\t${formatQuantity(r)} (${pct(r.nano / 1_000_000n, t)}%)\t${formatQuantity(l)} (${pct(l.nano / 1_000_000n, t)}%)\n`);
  }
  describeEvents(w, events, now);
  return w.toString();
}

function podRequestsAndLimits(pod: Pod): { req: Record<string, ReturnType<typeof addQuantities>>; lim: Record<string, ReturnType<typeof addQuantities>> } {
  const req: Record<string, ReturnType<typeof addQuantities>> = {};
  const lim: Record<string, ReturnType<typeof addQuantities>> = {};
  for (const c of pod.spec?.containers ?? []) {
    for (const [k, v] of Object.entries(c.resources?.requests ?? {})) req[k] = addQuantities([req[k], parseQuantity(v)]);
    for (const [k, v] of Object.entries(c.resources?.limits ?? {})) lim[k] = addQuantities([lim[k], parseQuantity(v)]);
  }
  // init containers run one at a time: the pod needs the largest of them
  for (const c of pod.spec?.initContainers ?? []) {
    for (const [k, v] of Object.entries(c.resources?.requests ?? {})) {
      const q = parseQuantity(v);
      if (q && q.nano > (req[k]?.nano ?? 0n)) req[k] = q;
    }
    for (const [k, v] of Object.entries(c.resources?.limits ?? {})) {
      const q = parseQuantity(v);
      if (q && q.nano > (lim[k]?.nano ?? 0n)) lim[k] = q;
    }
  }
  return { req, lim };
}

/** describe service, with its endpoints. */
export function describeService(svc: Service, ep: Endpoints | undefined, now: number, events?: Event[]): string {
  const w = new Writer();
  const spec = svc.spec ?? {};
  w.write(0, `Name:\t${svc.metadata.name ?? ""}\n`);
  w.write(0, `Namespace:\t${svc.metadata.namespace ?? ""}\n`);
  printLabels(w, "Labels", svc.metadata.labels);
  printAnnotations(w, "Annotations", svc.metadata.annotations);
  w.write(0, `Selector:\t${formatLabels(spec.selector)}\n`);
  w.write(0, `Type:\t${spec.type ?? ""}\n`);
  if (spec["ipFamilyPolicy"]) w.write(0, `IP Family Policy:\t${String(spec["ipFamilyPolicy"])}\n`);
  const families = (spec["ipFamilies"] ?? []) as string[];
  w.write(0, `IP Families:\t${families.length > 0 ? families.join(",") : "<none>"}\n`);
  w.write(0, `IP:\t${spec.clusterIP ?? ""}\n`);
  const ips = spec.clusterIPs ?? [];
  w.write(0, `IPs:\t${ips.length > 0 ? ips.join(",") : "<none>"}\n`);
  const externalIPs = (spec["externalIPs"] ?? []) as string[];
  if (externalIPs.length > 0) w.write(0, `External IPs:\t${externalIPs.join(",")}\n`);
  if (spec.externalName) w.write(0, `External Name:\t${spec.externalName}\n`);
  for (const p of spec.ports ?? []) {
    const name = p.name || "<unset>";
    const proto = p.protocol ?? "TCP";
    w.write(0, `Port:\t${name}\t${p.port}/${proto}\n`);
    const target = p.targetPort ?? p.port;
    w.write(0, `TargetPort:\t${String(target)}/${proto}\n`);
    if (p.nodePort) w.write(0, `NodePort:\t${name}\t${p.nodePort}/${proto}\n`);
    w.write(0, `Endpoints:\t${formatEndpoints(ep ?? ({ subsets: [] } as unknown as Endpoints), new Set([p.name ?? ""]))}\n`);
  }
  w.write(0, `Session Affinity:\t${spec.sessionAffinity ?? ""}\n`);
  if (spec.externalTrafficPolicy) w.write(0, `External Traffic Policy:\t${spec.externalTrafficPolicy}\n`);
  describeEvents(w, events, now);
  return w.toString();
}

function describePodTemplate(w: Writer, template: Deployment["spec"]["template"] | undefined): void {
  w.write(0, "Pod Template:\n");
  if (template === undefined) {
    w.write(1, "<unset>");
    return;
  }
  printLabels(w, "Labels", template.metadata?.labels, "  ");
  if (Object.keys(template.metadata?.annotations ?? {}).length > 0) printAnnotations(w, "  Annotations", template.metadata?.annotations);
  const spec = template.spec ?? { containers: [] };
  if (spec["serviceAccountName"]) w.write(1, `Service Account:\t${String(spec["serviceAccountName"])}\n`);
  if ((spec.initContainers ?? []).length > 0) describeContainers(w, "Init Containers", spec.initContainers ?? [], undefined, "  ");
  describeContainers(w, "Containers", spec.containers ?? [], undefined, "  ");
  describeVolumes(w, spec["volumes"] as Array<Record<string, unknown>> | undefined, "  ");
  if (spec["priorityClassName"]) w.write(1, `Priority Class Name:\t${String(spec["priorityClassName"])}\n`);
  printLabels(w, "Node-Selectors", spec.nodeSelector, "  ");
  printTolerations(w, "Tolerations", spec["tolerations"] as Toleration[] | undefined, "  ");
}

/** describe deployment, with the replica sets it owns. */
export function describeDeployment(d: Deployment, owned: ReplicaSet[], now: number, events?: Event[]): string {
  const w = new Writer();
  const spec = d.spec ?? ({} as Deployment["spec"]);
  const st = d.status ?? {};
  w.write(0, `Name:\t${d.metadata.name ?? ""}\n`);
  w.write(0, `Namespace:\t${d.metadata.namespace ?? ""}\n`);
  w.write(0, `CreationTimestamp:\t${rfc1123z(d.metadata.creationTimestamp)}\n`);
  printLabels(w, "Labels", d.metadata.labels);
  printAnnotations(w, "Annotations", d.metadata.annotations);
  const sel = formatLabelSelector(spec.selector);
  w.write(0, `Selector:\t${sel === "<none>" ? "" : sel}\n`);
  w.write(
    0,
    `Replicas:\t${spec.replicas ?? 1} desired | ${st.updatedReplicas ?? 0} updated | ${st.replicas ?? 0} total | ${st.availableReplicas ?? 0} available | ${st.unavailableReplicas ?? 0} unavailable\n`,
  );
  const strategy = spec.strategy ?? {};
  w.write(0, `StrategyType:\t${strategy.type ?? "RollingUpdate"}\n`);
  w.write(0, `MinReadySeconds:\t${String(spec["minReadySeconds"] ?? 0)}\n`);
  if ((strategy.type ?? "RollingUpdate") === "RollingUpdate") {
    const ru = strategy.rollingUpdate ?? {};
    w.write(0, `RollingUpdateStrategy:\t${String(ru.maxUnavailable ?? "25%")} max unavailable, ${String(ru.maxSurge ?? "25%")} max surge\n`);
  }
  describePodTemplate(w, spec.template);
  if ((st.conditions ?? []).length > 0) {
    w.write(0, "Conditions:\n  Type\tStatus\tReason\n");
    w.write(1, "----\t------\t------\n");
    for (const c of st.conditions ?? []) w.write(1, `${c.type} \t${c.status}\t${c.reason ?? ""}\n`);
  }
  const newRS = newestReplicaSet(d, owned);
  const oldRSs = owned.filter((rs) => rs !== newRS && (rs.spec?.replicas ?? 0) > 0);
  if (owned.length > 0) {
    const fmt = (list: ReplicaSet[]) =>
      list.map((rs) => `${rs.metadata.name ?? ""} (${rs.status?.replicas ?? 0}/${rs.spec?.replicas ?? 0} replicas created)`).join(", ") || "<none>";
    w.write(0, `OldReplicaSets:\t${fmt(oldRSs)}\n`);
    w.write(0, `NewReplicaSet:\t${fmt(newRS ? [newRS] : [])}\n`);
  }
  describeEvents(w, events, now);
  return w.toString();
}

/** The replica set whose template matches the deployment's (ignoring the pod-template-hash label). */
function newestReplicaSet(d: Deployment, owned: ReplicaSet[]): ReplicaSet | undefined {
  const strip = (t: unknown) => {
    const c = JSON.parse(JSON.stringify(t ?? {})) as { metadata?: { labels?: Record<string, string> } };
    delete c.metadata?.labels?.["pod-template-hash"];
    return JSON.stringify(c.metadata?.labels ?? {}) + JSON.stringify((t as { spec?: unknown } | undefined)?.spec ?? {});
  };
  const want = strip(d.spec?.template);
  return owned.find((rs) => strip(rs.spec?.template) === want) ?? owned.at(-1);
}

/** describe replicaset, with the pods it owns. */
export function describeReplicaSet(rs: ReplicaSet, pods: Pod[], now: number, events?: Event[]): string {
  const w = new Writer();
  w.write(0, `Name:\t${rs.metadata.name ?? ""}\n`);
  w.write(0, `Namespace:\t${rs.metadata.namespace ?? ""}\n`);
  w.write(0, `Selector:\t${formatLabelSelector(rs.spec?.selector)}\n`);
  printLabels(w, "Labels", rs.metadata.labels);
  printAnnotations(w, "Annotations", rs.metadata.annotations);
  const controller = controllerOf(rs);
  if (controller) w.write(0, `Controlled By:\t${controller}\n`);
  w.write(0, `Replicas:\t${rs.status?.replicas ?? 0} current / ${rs.spec?.replicas ?? 1} desired\n`);
  const count = (phase: string) => pods.filter((p) => p.status?.phase === phase).length;
  w.write(0, "Pods Status:\t");
  w.write(0, `${count("Running")} Running / ${count("Pending")} Waiting / ${count("Succeeded")} Succeeded / ${count("Failed")} Failed\n`);
  describePodTemplate(w, rs.spec?.template);
  describeEvents(w, events, now);
  return w.toString();
}

/** describe endpoints. */
export function describeEndpoints(ep: Endpoints, now: number, events?: Event[]): string {
  const w = new Writer();
  w.write(0, `Name:\t${ep.metadata.name ?? ""}\n`);
  w.write(0, `Namespace:\t${ep.metadata.namespace ?? ""}\n`);
  printLabels(w, "Labels", ep.metadata.labels);
  printAnnotations(w, "Annotations", ep.metadata.annotations);
  w.write(0, "Subsets:\n");
  for (const s of ep.subsets ?? []) {
    w.write(1, `Addresses:\t${(s.addresses ?? []).map((a) => a.ip).join(",") || "<none>"}\n`);
    w.write(1, `NotReadyAddresses:\t${(s.notReadyAddresses ?? []).map((a) => a.ip).join(",") || "<none>"}\n`);
    if ((s.ports ?? []).length > 0) {
      w.write(1, "Ports:\n");
      w.write(2, "Name\tPort\tProtocol\n");
      w.write(2, "----\t----\t--------\n");
      for (const p of s.ports ?? []) w.write(2, `${p.name || "<unset>"}\t${p.port}\t${p.protocol ?? "TCP"}\n`);
    }
    w.write(0, "\n");
  }
  describeEvents(w, events, now);
  return w.toString();
}

/** describe namespace. */
export function describeNamespace(ns: Namespace): string {
  const w = new Writer();
  w.write(0, `Name:\t${ns.metadata.name ?? ""}\n`);
  printLabels(w, "Labels", ns.metadata.labels);
  printAnnotations(w, "Annotations", ns.metadata.annotations);
  w.write(0, `Status:\t${ns.status?.phase ?? ""}\n`);
  w.write(0, "\n");
  w.write(0, "No resource quota.\n");
  w.write(0, "\n");
  w.write(0, "No LimitRange resource.\n");
  return w.toString();
}

/** describe configmap. */
export function describeConfigMap(cm: ConfigMap, now: number, events?: Event[]): string {
  const w = new Writer();
  w.write(0, `Name:\t${cm.metadata.name ?? ""}\n`);
  w.write(0, `Namespace:\t${cm.metadata.namespace ?? ""}\n`);
  printLabels(w, "Labels", cm.metadata.labels);
  printAnnotations(w, "Annotations", cm.metadata.annotations);
  w.write(0, "\nData\n====\n");
  for (const [k, v] of Object.entries(cm.data ?? {})) {
    w.write(0, `${k}:\n----\n`);
    w.write(0, `${v}\n`);
  }
  w.write(0, "\nBinaryData\n====\n");
  for (const [k, v] of Object.entries((cm["binaryData"] ?? {}) as Record<string, string>)) {
    w.write(0, `${k}: ${Buffer.from(v, "base64").length} bytes\n`);
  }
  w.write(0, "\n");
  describeEvents(w, events, now);
  return w.toString();
}

/** The generic describer (kinds without their own): the object's fields as an indented tree. */
function describeGeneric(o: KubeObject, now: number, events?: Event[]): string {
  const w = new Writer();
  w.write(0, `Name:\t${o.metadata.name ?? ""}\n`);
  if (o.metadata.namespace) w.write(0, `Namespace:\t${o.metadata.namespace}\n`);
  printLabels(w, "Labels", o.metadata.labels);
  printAnnotations(w, "Annotations", o.metadata.annotations);
  w.write(0, `API Version:\t${o.apiVersion}\n`);
  w.write(0, `Kind:\t${o.kind}\n`);
  const rest: Record<string, unknown> = { ...o };
  delete rest["apiVersion"];
  delete rest["kind"];
  const title = (k: string) => k.replace(/([a-z])([A-Z])/g, "$1 $2").replace(/^./, (c) => c.toUpperCase());
  const walk = (v: unknown, level: number) => {
    if (Array.isArray(v)) {
      for (const item of v) {
        if (typeof item === "object" && item !== null) walk(item, level);
        else w.write(level, `${String(item)}\n`);
      }
      return;
    }
    if (typeof v !== "object" || v === null) return;
    for (const [k, x] of Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (typeof x === "object" && x !== null) {
        w.write(level, `${title(k)}:\n`);
        walk(x, level + 1);
      } else w.write(level, `${title(k)}:\t${String(x)}\n`);
    }
  };
  walk(rest, 0);
  describeEvents(w, events, now);
  return w.toString();
}
