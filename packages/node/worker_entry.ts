/**
 * Which script a host worker starts from: the entry's bundle (one module,
 * made by `tools/bundle.mjs` at build time) when there is one and the files
 * it was made from are unchanged — not newer on disk, or newer with the
 * same contents (as after a cache restore); otherwise the entry itself. A
 * bundle loads in a fraction of the time two hundred modules take, and the
 * check keeps a rebuild of one package with `tsc -b` from running old code.
 */
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const chosen = new Map<string, URL>();

/** The bundle of `entry` if fresh, else `entry`. Decided once per entry and process. */
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
  const bundle = path.replace(/\.js$/, ".bundle.js");
  try {
    const built = statSync(bundle).mtimeMs;
    const made = JSON.parse(readFileSync(bundle.replace(/\.js$/, ".inputs.json"), "utf8")) as { inputs: string[]; sha256: string };
    // Paths are relative to the bundle's folder.
    const inputs = made.inputs.map((p) => resolve(dirname(bundle), p));
    if (inputs.every((input) => statSync(input).mtimeMs <= built)) return pathToFileURL(bundle);
    // Newer files on disk (a rebuild, or a cache restore that wrote them after the bundle): same contents?
    const hash = createHash("sha256");
    for (const input of inputs) hash.update(readFileSync(input));
    return hash.digest("hex") === made.sha256 ? pathToFileURL(bundle) : undefined;
  } catch {
    return undefined;
  }
}
