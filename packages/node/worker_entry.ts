/**
 * Which script a host worker starts from: the entry's bundle (one module,
 * made by `tools/bundle.mjs` at build time) when there is one and it is not
 * older than any file it was made from; otherwise the entry itself. A
 * bundle loads in a fraction of the time two hundred modules take, and the
 * check keeps a rebuild of one package with `tsc -b` from running old code.
 */
import { readFileSync, statSync } from "node:fs";
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
    const inputs = JSON.parse(readFileSync(bundle.replace(/\.js$/, ".inputs.json"), "utf8")) as string[];
    for (const input of inputs) if (statSync(input).mtimeMs > built) return undefined;
    return pathToFileURL(bundle);
  } catch {
    return undefined;
  }
}
