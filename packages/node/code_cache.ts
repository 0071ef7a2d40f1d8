/**
 * Runs a worker bundle (a CommonJS script made by tools/bundle.mjs) with
 * V8's code cache: the first worker to start a bundle compiles it and,
 * once its host has booted, writes the code V8 made for it (the functions
 * the boot ran included) beside the bundle; every later worker
 * deserializes that instead of compiling 2 MB of script again. A cache V8
 * rejects (another Node, other flags) is compiled past and written anew.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { Script } from "node:vm";
import { threadId } from "node:worker_threads";

/** How long after a worker starts it writes the cache it lacked: by then its host has booted. */
export const CACHE_AFTER_MS = 3000;

/** Where a worker that compiled its bundle keeps the function that writes its cache (one per thread). */
const WRITE_NOW = Symbol.for("kemu.writeCodeCache");

/** What became of the code cache of a bundle run: for tests and the bench. */
export type CacheUse = "used" | "missing" | "rejected";

/** Runs the bundle at `path` as a CommonJS module, with the code cache at `cachePath` when V8 takes it. */
export function runBundle(path: string, cachePath: string, writeAfterMs = CACHE_AFTER_MS): CacheUse {
  const source = readFileSync(path, "utf8");
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cachePath);
  } catch {
    cachedData = undefined;
  }
  // Node's own module wrapper, on the script's first line so that line numbers stay true.
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  const script = new Script(wrapped, { filename: path, ...(cachedData !== undefined ? { cachedData } : {}) });
  const use: CacheUse = cachedData === undefined ? "missing" : script.cachedDataRejected === true ? "rejected" : "used";
  if (use !== "used") {
    const write = () => writeCache(script, cachePath);
    (globalThis as Record<symbol, unknown>)[WRITE_NOW] = write;
    setTimeout(write, writeAfterMs).unref();
  }
  const module = { exports: {} };
  (script.runInThisContext() as (...args: unknown[]) => void).call(module.exports, module.exports, createRequire(path), module, path, dirname(path));
  return use;
}

/**
 * In a worker that compiled its bundle (no cache, or a rejected one): writes
 * the code cache now, with what has been compiled so far. Whether it did.
 * (The bundle's own copy of this module finds the writer runBundle left.)
 */
export function writeCodeCacheNow(): boolean {
  const write = (globalThis as Record<symbol, unknown>)[WRITE_NOW];
  return typeof write === "function" ? (write as () => boolean)() : false;
}

/** Writes the script's code cache in one step (a reader never sees half a file); a read-only folder goes without. */
function writeCache(script: Script, cachePath: string): boolean {
  const tmp = `${cachePath}.${process.pid}-${threadId}.tmp`;
  try {
    writeFileSync(tmp, script.createCachedData());
    renameSync(tmp, cachePath);
    return true;
  } catch {
    // No cache: later workers compile the bundle, as this one did.
    return false;
  }
}
