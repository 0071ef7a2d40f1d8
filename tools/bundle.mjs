#!/usr/bin/env node
// Bundles worker entries into one file each, so that a host worker loads one
// module instead of two hundred (module loading was most of a node worker's
// start-up). Beside each `X.bundle.js` it writes `X.bundle.inputs.json`, the
// files the bundle was made from, so that a stale bundle is never used (see
// workerEntry in @kemu/node).
//
//   node tools/bundle.mjs dist/worker.js [dist/other.js …]
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";

// Everything goes in but msgpackr's optional native addon (and what host workers never load).
const EXTERNAL = ["msgpackr-extract", "piscina", "esbuild"];

for (const entry of process.argv.slice(2)) {
  const file = resolve(entry);
  const out = join(dirname(file), basename(file, ".js") + ".bundle.js");
  const result = await build({
    entryPoints: [file],
    outfile: out,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    external: EXTERNAL,
    // CommonJS packages inside an ES module bundle still call require() for Node's built-ins.
    banner: { js: 'import { createRequire as kemuCreateRequire } from "node:module"; const require = kemuCreateRequire(import.meta.url);' },
    metafile: true,
    logLevel: "warning",
  });
  const inputs = Object.keys(result.metafile.inputs).map((p) => resolve(p));
  // The inputs' contents too: a cache restore (nx) can leave the bundle older than its inputs on disk.
  const hash = createHash("sha256");
  for (const input of inputs) hash.update(readFileSync(input));
  // Paths relative to the bundle: a cache restored into another checkout still finds them.
  const rel = inputs.map((p) => relative(dirname(out), p));
  writeFileSync(out.replace(/\.js$/, ".inputs.json"), JSON.stringify({ inputs: rel, sha256: hash.digest("hex") }) + "\n");
}
