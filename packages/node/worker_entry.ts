/**
 * Which script a host worker starts from: the entry's bundle (one script,
 * made by `tools/bundle.mjs` at build time, run by bundle_loader.ts with
 * V8's code cache) when there is one and the files it was made from are
 * unchanged — not newer on disk, or newer with the same contents (as after a
 * cache restore); otherwise the entry itself. A bundle loads in a fraction of
 * the time two hundred modules take, and the check keeps a rebuild of one
 * package with `tsc -b` from running old code.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const chosen = new Map<string, URL>();

/** The loader of `entry`'s bundle if that is fresh, else `entry`. Decided once per entry and process. */
export function workerEntry(entry: URL): URL {
  const known = chosen.get(entry.href);
  if (known !== undefined) return known;
  const pick = freshBundle(entry) ?? entry;
  chosen.set(entry.href, pick);
  return pick;
}

function freshBundle(entry: URL): URL | undefined {
  if (entry.protocol !== "file:" || !entry.pathname.endsWith(".js") || process.env["KEMU_NO_BUNDLE"]) return undefined;
  const path = fileURLToPath(entry);
  const bundle = path.replace(/\.js$/, ".bundle.cjs");
  try {
    const built = statSync(bundle).mtimeMs;
    const made = JSON.parse(readFileSync(bundle.replace(/\.cjs$/, ".inputs.json"), "utf8")) as { inputs: string[]; sha256: string; bundle?: string };
    if (made.bundle === undefined) return undefined;
    // Paths are relative to the bundle's folder.
    const inputs = made.inputs.map((p) => resolve(dirname(bundle), p));
    if (!inputs.every((input) => statSync(input).mtimeMs <= built)) {
      // Newer files on disk (a rebuild, or a cache restore that wrote them after the bundle): same contents?
      const hash = createHash("sha256");
      for (const input of inputs) hash.update(readFileSync(input));
      if (hash.digest("hex") !== made.sha256) return undefined;
    }
    return loaderOf(bundle, made.bundle);
  } catch {
    return undefined;
  }
}

/**
 * How to start a worker on `entry` (as workerEntry chose it): a Worker
 * drops a URL's query, so the loader gets its bundle and cache as argv.
 */
export function workerScript(entry: URL): { script: URL; argv: string[] } {
  const bundle = entry.searchParams.get("bundle");
  const cache = entry.searchParams.get("cache");
  if (bundle === null || cache === null) return { script: entry, argv: [] };
  return { script: new URL(entry.pathname, entry), argv: [bundle, cache] };
}

/** Whether workers on `entry` (as workerEntry chose it) would compile their bundle: it has no code cache yet. */
export function lacksCodeCache(entry: URL): boolean {
  const cache = entry.searchParams.get("cache");
  return cache !== null && !existsSync(cache);
}

/**
 * The loader's URL for a bundle. Its code cache is named by the bundle's
 * hash and the V8 that made it: V8 itself checks only a source's length.
 */
function loaderOf(bundle: string, bundleHash: string): URL {
  const url = new URL("./bundle_loader.js", import.meta.url);
  url.searchParams.set("bundle", bundle);
  url.searchParams.set("cache", `${bundle}.${bundleHash.slice(0, 16)}-v8-${process.versions.v8}-${process.arch}.v8cache`);
  return url;
}
