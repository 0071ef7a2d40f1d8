/**
 * The Endpoints and EndpointSlice controllers: for every Service with a
 * selector, the addresses of its pods — ready ones as `addresses` (slices:
 * `conditions.ready: true`), others as `notReadyAddresses` — with named
 * targetPorts resolved against each pod's container ports, as
 * `pkg/controller/endpoint` and `pkg/controller/endpointslice` do.
 */
import type { EndpointAddress, EndpointSlice, Endpoints, KubeObject, Pod, Service, ServicePort } from "@kemu/api";
import { clone, jsonEqual } from "../_meta.ts";
import { fromMap, matches } from "../selector.ts";
import type { ApiServer } from "../server.ts";
import { isPodReady, ownerRefTo } from "./_pods.ts";
import { type Controller, WorkQueue, keyOf, splitKey } from "./_queue.ts";

/** Label EndpointSlices carry naming their Service. */
export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";
/** Label naming what manages an EndpointSlice. */
export const MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by";
/** The EndpointSlice controller's name in that label. */
export const MANAGED_BY = "endpointslice-controller.k8s.io";
/** Most endpoints per slice (`--max-endpoints-per-slice`). */
const MAX_ENDPOINTS_PER_SLICE = 100;

/** The port a service port targets on a pod: a number, or a named container port with the same protocol; undefined when the pod has no such port. */
export function resolveTargetPort(pod: Pod, sp: ServicePort): number | undefined {
  const tp = sp.targetPort ?? sp.port;
  if (typeof tp === "number") return tp;
  const protocol = sp.protocol ?? "TCP";
  for (const c of pod.spec.containers ?? []) for (const p of c.ports ?? []) if (p.name === tp && (p.protocol ?? "TCP") === protocol) return p.containerPort;
  return undefined;
}

/** Whether a pod belongs in a Service's endpoints at all (`ShouldPodBeInEndpoints`). */
function podInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  const phase = pod.status?.phase;
  if (phase === "Succeeded" || phase === "Failed") return false;
  if (!pod.status?.podIP) return false;
  if (!includeTerminating && pod.metadata.deletionTimestamp !== undefined) return false;
  return true;
}

function ipKey(ip: string): number {
  return ip.split(".").reduce((a, p) => a * 256 + Number(p), 0);
}

function selectedPods(server: ApiServer, svc: Service): Pod[] {
  const sel = fromMap(svc.spec.selector ?? {});
  return (server.store.list("pods", svc.metadata.namespace ?? "") as Pod[]).filter((p) => matches(sel, p.metadata.labels));
}

function serviceKeysForPod(server: ApiServer, pod: KubeObject, old?: KubeObject): string[] {
  const out: string[] = [];
  for (const svc of server.store.list("services", pod.metadata.namespace ?? "") as Service[]) {
    const selector = svc.spec.selector;
    if (selector === undefined || Object.keys(selector).length === 0) continue;
    const sel = fromMap(selector);
    if (matches(sel, pod.metadata.labels) || (old !== undefined && matches(sel, old.metadata.labels))) out.push(keyOf(svc.metadata.namespace, svc.metadata.name));
  }
  return out;
}

function address(pod: Pod, svc: Service): EndpointAddress {
  const a: EndpointAddress = { ip: pod.status?.podIP ?? "" };
  const hostname = pod.spec["hostname"] as string | undefined;
  if (hostname !== undefined && pod.spec["subdomain"] === svc.metadata.name) a.hostname = hostname;
  if (pod.spec.nodeName) a.nodeName = pod.spec.nodeName;
  a.targetRef = { kind: "Pod", namespace: pod.metadata.namespace ?? "", name: pod.metadata.name ?? "" };
  if (pod.metadata.uid !== undefined) a.targetRef.uid = pod.metadata.uid;
  return a;
}

function startWatching(server: ApiServer, sync: (key: string) => void, ownKind: string): Controller {
  const store = server.store;
  const queue = new WorkQueue(server.clock, sync);
  const stops = [
    store.watch("services", "", undefined, (e) => queue.add(keyOf(e.object.metadata.namespace, e.object.metadata.name))),
    store.watch("pods", "", undefined, (e) => {
      for (const k of serviceKeysForPod(server, e.object, e.old)) queue.add(k);
    }),
    store.watch(ownKind, "", undefined, (e) => {
      // Someone else changed or removed what we manage: put it back.
      const name = ownKind === "endpoints" ? e.object.metadata.name : e.object.metadata.labels?.[SERVICE_NAME_LABEL];
      if (name !== undefined) queue.add(keyOf(e.object.metadata.namespace, name));
    }),
  ];
  for (const svc of store.list("services")) queue.add(keyOf(svc.metadata.namespace, svc.metadata.name));
  return {
    stop() {
      for (const s of stops) s();
      queue.stop();
    },
  };
}

/** Starts the Endpoints controller (`endpoints/<service>`). */
export function startEndpointsController(server: ApiServer): Controller {
  const store = server.store;
  const api = server.direct;
  return startWatching(
    server,
    (key) => {
      const [ns, name] = splitKey(key);
      const svc = store.get("services", ns, name) as Service | undefined;
      const cur = store.get("endpoints", ns, name) as Endpoints | undefined;
      if (svc === undefined) {
        if (cur !== undefined) api.delete({ resource: "endpoints", namespace: ns, name });
        return;
      }
      if (svc.spec.selector === undefined || Object.keys(svc.spec.selector).length === 0) return;
      const publishNotReady = svc.spec["publishNotReadyAddresses"] === true;
      // Subsets grouped by their port set, as RepackSubsets does.
      const groups = new Map<string, { ports: Array<{ name?: string; port: number; protocol: string }>; ready: EndpointAddress[]; notReady: EndpointAddress[] }>();
      for (const pod of selectedPods(server, svc)) {
        if (!podInEndpoints(pod, publishNotReady)) continue;
        const ports: Array<{ name?: string; port: number; protocol: string }> = [];
        for (const sp of svc.spec.ports ?? []) {
          const port = resolveTargetPort(pod, sp);
          if (port === undefined) continue;
          const p: { name?: string; port: number; protocol: string } = { port, protocol: sp.protocol ?? "TCP" };
          if (sp.name !== undefined && sp.name !== "") p.name = sp.name;
          ports.push(p);
        }
        if (ports.length === 0 && (svc.spec.ports ?? []).length > 0) continue;
        const k = JSON.stringify(ports);
        let g = groups.get(k);
        if (g === undefined) groups.set(k, (g = { ports, ready: [], notReady: [] }));
        if (isPodReady(pod) || publishNotReady) g.ready.push(address(pod, svc));
        else g.notReady.push(address(pod, svc));
      }
      const subsets: NonNullable<Endpoints["subsets"]> = [];
      for (const g of groups.values()) {
        const ss: NonNullable<Endpoints["subsets"]>[number] = {};
        const byIp = (a: EndpointAddress, b: EndpointAddress): number => ipKey(a.ip) - ipKey(b.ip);
        if (g.ready.length > 0) ss.addresses = g.ready.sort(byIp);
        if (g.notReady.length > 0) ss.notReadyAddresses = g.notReady.sort(byIp);
        if (g.ports.length > 0) ss.ports = g.ports;
        subsets.push(ss);
      }
      const labels: Record<string, string> = { ...(svc.metadata.labels ?? {}), "endpoints.kubernetes.io/managed-by": "endpoint-controller" };
      if (svc.spec.clusterIP === "None") labels["service.kubernetes.io/headless"] = "";
      const want: Endpoints = { apiVersion: "v1", kind: "Endpoints", metadata: { name, namespace: ns, labels } };
      if (subsets.length > 0) want.subsets = subsets;
      if (cur === undefined) {
        api.create("endpoints", ns, want);
        return;
      }
      if (jsonEqual(cur.subsets ?? [], want.subsets ?? []) && jsonEqual(cur.metadata.labels ?? {}, labels)) return;
      const o = clone(cur);
      o.metadata.labels = labels;
      if (want.subsets !== undefined) o.subsets = want.subsets;
      else delete o.subsets;
      o.metadata.annotations = { ...(o.metadata.annotations ?? {}), "endpoints.kubernetes.io/last-change-trigger-time": server.timestamp() };
      api.update("endpoints", ns, o);
    },
    "endpoints",
  );
}

type SliceEndpoint = EndpointSlice["endpoints"][number];
type SlicePort = NonNullable<EndpointSlice["ports"]>[number];

/** Starts the EndpointSlice controller (`endpointslices/<service>-<5 random>`). */
export function startEndpointSliceController(server: ApiServer): Controller {
  const store = server.store;
  const api = server.direct;
  return startWatching(
    server,
    (key) => {
      const [ns, name] = splitKey(key);
      const svc = store.get("services", ns, name) as Service | undefined;
      const existing = (store.list("endpointslices", ns) as EndpointSlice[]).filter(
        (s) => s.metadata.labels?.[SERVICE_NAME_LABEL] === name && s.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY,
      );
      if (svc === undefined || svc.spec.selector === undefined || Object.keys(svc.spec.selector).length === 0) {
        // Slices of a deleted Service go with it (they are owned by it); of a selector-less one, now.
        if (svc !== undefined) for (const s of existing) api.delete({ resource: "endpointslices", namespace: ns, name: s.metadata.name ?? "" });
        return;
      }
      // Endpoints grouped by the ports they resolve to; each group makes slices of at most 100.
      const groups = new Map<string, { ports: SlicePort[]; endpoints: SliceEndpoint[] }>();
      const publishNotReady = svc.spec["publishNotReadyAddresses"] === true;
      for (const pod of selectedPods(server, svc)) {
        if (!podInEndpoints(pod, true)) continue;
        const ports: SlicePort[] = [];
        for (const sp of svc.spec.ports ?? []) {
          const port = resolveTargetPort(pod, sp);
          if (port === undefined) continue;
          ports.push({ name: sp.name ?? "", port, protocol: sp.protocol ?? "TCP" });
        }
        const k = JSON.stringify(ports);
        let g = groups.get(k);
        if (g === undefined) groups.set(k, (g = { ports, endpoints: [] }));
        const terminating = pod.metadata.deletionTimestamp !== undefined;
        const serving = isPodReady(pod) || publishNotReady;
        const ep: SliceEndpoint = { addresses: [pod.status?.podIP ?? ""], conditions: { ready: serving && !terminating, serving, terminating } };
        const hostname = pod.spec["hostname"] as string | undefined;
        if (hostname !== undefined && pod.spec["subdomain"] === svc.metadata.name) ep.hostname = hostname;
        ep.targetRef = { kind: "Pod", namespace: ns, name: pod.metadata.name ?? "" };
        if (pod.metadata.uid !== undefined) ep.targetRef.uid = pod.metadata.uid;
        if (pod.spec.nodeName) ep.nodeName = pod.spec.nodeName;
        g.endpoints.push(ep);
      }
      const wanted: Array<{ ports: SlicePort[]; endpoints: SliceEndpoint[] }> = [];
      for (const g of groups.values()) {
        g.endpoints.sort((a, b) => ipKey(a.addresses[0]!) - ipKey(b.addresses[0]!));
        for (let i = 0; i < g.endpoints.length; i += MAX_ENDPOINTS_PER_SLICE) wanted.push({ ports: g.ports, endpoints: g.endpoints.slice(i, i + MAX_ENDPOINTS_PER_SLICE) });
      }
      // A Service without endpoints keeps one placeholder slice.
      if (wanted.length === 0) wanted.push({ ports: [], endpoints: [] });
      const labels: Record<string, string> = { ...(svc.metadata.labels ?? {}), [SERVICE_NAME_LABEL]: name, [MANAGED_BY_LABEL]: MANAGED_BY };
      if (svc.spec.clusterIP === "None") labels["service.kubernetes.io/headless"] = "";
      const reuse = [...existing];
      for (const w of wanted) {
        // Prefer a slice with the same ports, then any spare one.
        let idx = reuse.findIndex((s) => jsonEqual(s.ports ?? [], w.ports));
        if (idx < 0 && reuse.length > 0) idx = 0;
        const target = idx >= 0 ? reuse.splice(idx, 1)[0] : undefined;
        if (target === undefined) {
          const slice: EndpointSlice = {
            apiVersion: "discovery.k8s.io/v1",
            kind: "EndpointSlice",
            metadata: { generateName: `${name}-`, namespace: ns, labels, ownerReferences: [ownerRefTo(svc)] },
            addressType: "IPv4",
            endpoints: w.endpoints,
          };
          if (w.ports.length > 0) slice.ports = w.ports;
          api.create("endpointslices", ns, slice);
          continue;
        }
        if (jsonEqual(target.endpoints ?? [], w.endpoints) && jsonEqual(target.ports ?? [], w.ports) && jsonEqual(target.metadata.labels ?? {}, labels)) continue;
        const o = clone(target);
        o.metadata.labels = labels;
        o.endpoints = w.endpoints;
        if (w.ports.length > 0) o.ports = w.ports;
        else delete o.ports;
        api.update("endpointslices", ns, o);
      }
      for (const s of reuse) api.delete({ resource: "endpointslices", namespace: ns, name: s.metadata.name ?? "" });
    },
    "endpointslices",
  );
}
