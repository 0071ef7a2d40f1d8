/**
 * Recording core/v1 Events as controllers, the scheduler and kubelets do:
 * named `<object>.<hex nanoseconds>`, and repeats of the same reason and
 * message for an object counted on one Event (what `kubectl describe` shows
 * as `(x3 over 2m)`).
 */
import type { Event, KubeObject } from "@kemu/api";
import type { ApiServer } from "../server.ts";

/** Who reports an event: a component (`default-scheduler`, `replicaset-controller`), optionally on a host. */
export interface EventSource {
  component: string;
  host?: string;
}

/** What an event says: about which object, Normal or Warning, its reason and message, and who says it. */
export interface EventRecord {
  involved: KubeObject;
  type: "Normal" | "Warning";
  reason: string;
  message: string;
  source: EventSource;
}

/**
 * Records an Event about an object. Events are best effort: failures
 * (e.g. the namespace is being deleted) are ignored, as client-go's
 * broadcaster drops them.
 */
export function recordEvent(server: ApiServer, record: EventRecord): void {
  const { involved, type, reason, message, source } = record;
  const store = server.store;
  const ns = involved.metadata.namespace || "default";
  const name = involved.metadata.name ?? "";
  const now = server.timestamp();
  const existing = store
    .list("events", ns)
    .find(
      (e) =>
        (e as Event).involvedObject?.uid === involved.metadata.uid &&
        (e as Event).reason === reason &&
        (e as Event).message === message &&
        (e as Event).source?.component === source.component &&
        (e as Event).type === type,
    ) as Event | undefined;
  try {
    if (existing !== undefined) {
      const e = structuredClone(existing) as Event;
      e.count = (e.count ?? 1) + 1;
      e.lastTimestamp = now;
      server.direct.update("events", ns, e);
      return;
    }
    const nanos = (BigInt(store.epochMs) + BigInt(Math.floor(server.clock.now()))) * 1_000_000n + BigInt(Math.round((server.clock.now() % 1) * 1e6));
    let eventName = `${name}.${nanos.toString(16)}`;
    for (let n = nanos + 1n; store.get("events", ns, eventName) !== undefined; n++) eventName = `${name}.${n.toString(16)}`;
    const ref: Event["involvedObject"] = { kind: involved.kind, name, apiVersion: involved.apiVersion };
    if (involved.metadata.namespace !== undefined && involved.metadata.namespace !== "") ref.namespace = involved.metadata.namespace;
    if (involved.metadata.uid !== undefined) ref.uid = involved.metadata.uid;
    if (involved.metadata.resourceVersion !== undefined) ref.resourceVersion = involved.metadata.resourceVersion;
    const src: NonNullable<Event["source"]> = { component: source.component };
    if (source.host !== undefined) src.host = source.host;
    const ev: Event = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: eventName, namespace: ns },
      involvedObject: ref,
      reason,
      message,
      source: src,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      type,
      eventTime: null,
      reportingComponent: source.component,
      reportingInstance: source.host ?? "",
    };
    server.direct.create("events", ns, ev);
  } catch {
    // Events are best effort.
  }
}
