import test from "ava";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBundle } from "./code_cache.ts";

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
};

test("a bundle runs as a CommonJS module; the first run writes its code cache, the next runs from it", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "kemu-cache-"));
  const bundle = join(dir, "w.bundle.cjs");
  // What a bundle's script sees: module, exports, require, __filename, this === exports.
  writeFileSync(
    bundle,
    `const { basename } = require("node:path");
globalThis.kemuCacheTest = (globalThis.kemuCacheTest ?? 0) + 1;
globalThis.kemuCacheFile = basename(__filename);
globalThis.kemuCacheThis = this === exports && module.exports === exports;
function later() { return 41 + 1; }
globalThis.kemuCacheLater = later();`,
  );
  const cache = join(dir, "w.bundle.cjs.v8cache");
  t.is(runBundle(bundle, cache, 0), "missing");
  const g = globalThis as Record<string, unknown>;
  t.is(g["kemuCacheTest"], 1);
  t.is(g["kemuCacheFile"], "w.bundle.cjs");
  t.is(g["kemuCacheThis"], true);
  await until(() => existsSync(cache));
  t.true(existsSync(cache));
  t.is(runBundle(bundle, cache, 0), "used");
  t.is(g["kemuCacheTest"], 2);
  t.is(g["kemuCacheLater"], 42);
});

test("a cache V8 does not take is compiled past and written anew", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "kemu-cache-"));
  const bundle = join(dir, "w.bundle.cjs");
  writeFileSync(bundle, "globalThis.kemuCacheBad = 7;");
  const cache = join(dir, "w.bundle.cjs.v8cache");
  writeFileSync(cache, "not a code cache");
  t.is(runBundle(bundle, cache, 0), "rejected");
  t.is((globalThis as Record<string, unknown>)["kemuCacheBad"], 7);
  await until(() => !readFileSync(cache, "latin1").startsWith("not a"));
  t.is(runBundle(bundle, cache, 0), "used");
});
