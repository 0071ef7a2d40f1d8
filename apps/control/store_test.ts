import test from "ava";
import { ApiError, type KubeObject } from "@kemu/api";
import { EventLoop, Rng } from "@kemu/kernel";
import { Store, type StoreEvent } from "./store.ts";

const cm = (name: string, data: Record<string, string> = {}): KubeObject => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "default" }, data });

test("one resourceVersion counter across all resources", (t) => {
  const s = new Store(new EventLoop(), new Rng(1));
  t.is(s.create("configmaps", cm("a")).metadata.resourceVersion, "1");
  t.is(s.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "x" } }).metadata.resourceVersion, "2");
  t.is(s.update("configmaps", cm("a", { k: "v" })).metadata.resourceVersion, "3");
  t.is(s.remove("configmaps", "default", "a").metadata.resourceVersion, "4");
  t.is(s.resourceVersion, 4);
});

test("stored objects are frozen", (t) => {
  const s = new Store(new EventLoop(), new Rng(1));
  const o = s.create("configmaps", cm("a"));
  t.throws(() => {
    (o.metadata as { name: string }).name = "b";
  });
});

test("objects holding finalizers stay until the last is removed", (t) => {
  const s = new Store(new EventLoop(), new Rng(1));
  s.create("configmaps", { ...cm("a"), metadata: { name: "a", namespace: "default", finalizers: ["x/y"] } });
  const marked = s.markDeleted("configmaps", "default", "a");
  t.is(marked.metadata.deletionTimestamp, "2026-01-01T00:00:00Z");
  const o = structuredClone(marked);
  o.metadata.finalizers = [];
  s.update("configmaps", o);
  t.is(s.get("configmaps", "default", "a"), undefined);
});

test("watch replays history after a version and then follows; older than the window is 410 Expired", (t) => {
  const s = new Store(new EventLoop(), new Rng(1), { historySize: 5 });
  for (let i = 0; i < 12; i++) s.create("configmaps", cm(`c${i}`));
  const seen: StoreEvent[] = [];
  s.watch("configmaps", "", 9, (e) => seen.push(e));
  t.deepEqual(seen.map((e) => e.rv), [10, 11, 12]);
  s.create("configmaps", cm("x"));
  t.deepEqual(seen.map((e) => e.rv), [10, 11, 12, 13]);
  const err = t.throws(() => s.watch("configmaps", "", 5, () => {}), { instanceOf: ApiError });
  t.is(err?.code, 410);
  t.is(err?.reason, "Expired");
  t.is(err?.message, "too old resource version: 5 (8)");
});
