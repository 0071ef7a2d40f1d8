import test from "ava";
import { copyFileSync, existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startHosts } from "./client.ts";
import type { WorkerInit } from "./protocol.ts";

const init = (name: string, index: number): WorkerInit => ({
  name,
  index,
  seed: index,
  role: "outside",
  time: "virtual",
  capture: false,
  links: [],
  hosts: [],
  busLatencyMs: 1,
  epochWall: 0,
});

test("hosts on a bundle without a code cache: one boots and writes it, the others run from it", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "kemu-hosts-"));
  // This package's own worker bundle (made by its build), copied where no cache is yet.
  const bundle = join(dir, "worker.bundle.cjs");
  copyFileSync(fileURLToPath(new URL("./worker.bundle.cjs", import.meta.url)), bundle);
  const cache = join(dir, "worker.bundle.cjs.v8cache");
  const entry = new URL("./bundle_loader.js", import.meta.url);
  entry.searchParams.set("bundle", bundle);
  entry.searchParams.set("cache", cache);
  const hosts = await startHosts([
    { init: init("a", 1), entry },
    { init: init("b", 2), entry },
    { init: init("c", 3), entry },
  ]);
  try {
    t.deepEqual(
      hosts.map((h) => h.name),
      ["a", "b", "c"],
    );
    t.true(existsSync(cache));
    // Every host answers; those started after the cache was written had nothing to compile, so nothing to write.
    t.deepEqual(await Promise.all(hosts.map((h) => h.request({ type: "now" }))), [0, 0, 0]);
    t.deepEqual(await Promise.all(hosts.map((h) => h.request({ type: "code-cache" }))), [true, false, false]);
  } finally {
    await Promise.all(hosts.map((h) => h.terminate()));
  }
});
