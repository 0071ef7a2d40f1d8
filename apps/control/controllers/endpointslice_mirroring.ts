/**
 * The EndpointSlice mirroring controller: for a Service without a selector
 * whose Endpoints someone wrote by hand, EndpointSlices that mirror them
 * (`pkg/controller/endpointslicemirroring`) — ready `addresses` as
 * `conditions.ready: true`, `notReadyAddresses` as false, one slice per
 * subset — so kube-proxy and CoreDNS, which read only EndpointSlices, see
 * them. Endpoints labelled `endpointslice.kubernetes.io/skip-mirror: "true"`
 * are left alone.
 */
import type { EndpointSlice, Endpoints, Service } from "@kemu/api";
import { clone, jsonEqual } from "../_meta.ts";
import type { ApiServer } from "../server.ts";
import { MANAGED_BY_LABEL, SERVICE_NAME_LABEL } from "./endpoints.ts";
import { type Controller, WorkQueue, keyOf, splitKey } from "./_queue.ts";

/** The mirroring controller's name in the managed-by label. */
export const MIRRORING_MANAGED_BY = "endpointslicemirroring-controller.k8s.io";
/** The label that keeps an Endpoints object from being mirrored. */
export const SKIP_MIRROR_LABEL = "endpointslice.kubernetes.io/skip-mirror";

type Want = Pick<EndpointSlice, "endpoints" | "ports">;

/** Starts the EndpointSlice mirroring controller. */
export function startEndpointSliceMirroringController(server: ApiServer): Controller {
  const store = server.store;
  const api = server.direct;
  const sync = (key: string): void => {
    const [ns, name] = splitKey(key);
    const svc = store.get("services", ns, name) as Service | undefined;
    const ep = store.get("endpoints", ns, name) as Endpoints | undefined;
    const existing = (store.list("endpointslices", ns) as EndpointSlice[]).filter(
      (s) => s.metadata.labels?.[SERVICE_NAME_LABEL] === name && s.metadata.labels?.[MANAGED_BY_LABEL] === MIRRORING_MANAGED_BY,
    );
    const mirror = svc !== undefined && (svc.spec.selector === undefined || Object.keys(svc.spec.selector).length === 0) && ep !== undefined && ep.metadata.labels?.[SKIP_MIRROR_LABEL] !== "true";
    const wanted: Want[] = [];
    if (mirror) {
      for (const subset of ep.subsets ?? []) {
        const endpoints: EndpointSlice["endpoints"] = [];
        for (const [list, ready] of [[subset.addresses ?? [], true], [subset.notReadyAddresses ?? [], false]] as const) {
          for (const a of list) {
            const e: EndpointSlice["endpoints"][number] = { addresses: [a.ip], conditions: { ready } };
            if (a.hostname !== undefined) e.hostname = a.hostname;
            if (a.nodeName !== undefined) e.nodeName = a.nodeName;
            if (a.targetRef !== undefined) e.targetRef = a.targetRef;
            endpoints.push(e);
          }
        }
        if (endpoints.length === 0) continue;
        wanted.push({ endpoints, ports: (subset.ports ?? []).map((p) => ({ name: p.name ?? "", port: p.port, protocol: p.protocol ?? "TCP" })) });
      }
    }
    const labels: Record<string, string> = { ...(ep?.metadata.labels ?? {}), [SERVICE_NAME_LABEL]: name, [MANAGED_BY_LABEL]: MIRRORING_MANAGED_BY };
    const reuse = [...existing];
    for (const w of wanted) {
      const target = reuse.shift();
      if (target === undefined) {
        api.create("endpointslices", ns, {
          apiVersion: "discovery.k8s.io/v1",
          kind: "EndpointSlice",
          metadata: { generateName: `${name}-`, namespace: ns, labels },
          addressType: "IPv4",
          endpoints: w.endpoints,
          ports: w.ports ?? [],
        });
        continue;
      }
      if (jsonEqual(target.endpoints ?? [], w.endpoints) && jsonEqual(target.ports ?? [], w.ports ?? []) && jsonEqual(target.metadata.labels ?? {}, labels)) continue;
      const o = clone(target);
      o.metadata.labels = labels;
      o.endpoints = w.endpoints;
      o.ports = w.ports ?? [];
      api.update("endpointslices", ns, o);
    }
    for (const s of reuse) api.delete({ resource: "endpointslices", namespace: ns, name: s.metadata.name ?? "" });
  };
  const queue = new WorkQueue(server.clock, sync);
  const enqueue = (o: { metadata: { namespace?: string; name?: string; labels?: Record<string, string> } }, byLabel = false) => {
    const name = byLabel ? o.metadata.labels?.[SERVICE_NAME_LABEL] : o.metadata.name;
    if (name !== undefined) queue.add(keyOf(o.metadata.namespace, name));
  };
  const stops = [
    store.watch("services", "", undefined, (e) => enqueue(e.object)),
    store.watch("endpoints", "", undefined, (e) => enqueue(e.object)),
    store.watch("endpointslices", "", undefined, (e) => {
      if (e.object.metadata.labels?.[MANAGED_BY_LABEL] === MIRRORING_MANAGED_BY) enqueue(e.object, true);
    }),
  ];
  for (const ep of store.list("endpoints")) enqueue(ep);
  return {
    stop() {
      for (const s of stops) s();
      queue.stop();
    },
  };
}
