#!/usr/bin/env node
// Bundles worker entries into one file each, so that a host worker loads one
// script instead of two hundred modules (module loading was most of a node
// worker's start-up). A bundle is CommonJS so that workers can run it with
// V8's code cache (packages/node/code_cache.ts): compiling 2 MB of script in
// every one of a hundred workers was the largest share of a cluster's boot.
// Beside each `X.bundle.cjs` it writes `X.bundle.inputs.json`: the files the
// bundle was made from, so that a stale bundle is never used (see workerEntry
// in @kemu/node), and the bundle's own hash, which names its code cache.
//
//   node tools/bundle.mjs dist/worker.js [dist/other.js …]
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";

// Everything goes in but msgpackr's optional native addon (and what host workers never load).
const EXTERNAL = ["msgpackr-extract", "piscina", "esbuild"];

// protobufjs takes long.js when it finds it, for 64-bit integers; kemu reads them as Numbers
// anyway (longs: Number), and long.js compiles a WebAssembly module as it loads, a tenth of a
// worker's start. In a bundle it is null, as protobufjs allows: int64 fields decode to Numbers.
const WITHOUT_LONG = {
  name: "without-long",
  setup(b) {
    b.onResolve({ filter: /^long$/ }, () => ({ path: "long", namespace: "kemu-null" }));
    b.onLoad({ filter: /.*/, namespace: "kemu-null" }, () => ({ contents: "module.exports = null;", loader: "js" }));
  },
};

for (const entry of process.argv.slice(2)) {
  const file = resolve(entry);
  const out = join(dirname(file), basename(file, ".js") + ".bundle.cjs");
  const result = await build({
    entryPoints: [file],
    outfile: out,
    bundle: true,
    format: "cjs",
    platform: "node",
    target: "node20",
    external: EXTERNAL,
    plugins: [WITHOUT_LONG],
    // The ES modules' import.meta, as a CommonJS script has it.
    define: { "import.meta.url": "__kemu_import_meta_url", "import.meta.resolve": "__kemu_import_meta_resolve" },
    banner: {
      js: 'var __kemu_import_meta_url = require("node:url").pathToFileURL(__filename).href;\n' +
        'var __kemu_import_meta_resolve = (s) => require("node:url").pathToFileURL(require.resolve(s)).href;',
    },
    // No indentation or comments: a third less source for every worker to read and keep.
    minifyWhitespace: true,
    metafile: true,
    logLevel: "warning",
  });
  // Files only (a stand-in module of the plugin above is no file).
  const inputs = Object.keys(result.metafile.inputs).filter((p) => !p.startsWith("kemu-null:")).map((p) => resolve(p));
  // The inputs' contents too: a cache restore (nx) can leave the bundle older than its inputs on disk.
  const hash = createHash("sha256");
  for (const input of inputs) hash.update(readFileSync(input));
  // Paths relative to the bundle: a cache restored into another checkout still finds them.
  const rel = inputs.map((p) => relative(dirname(out), p));
  const bundle = createHash("sha256").update(readFileSync(out)).digest("hex");
  writeFileSync(out.replace(/\.cjs$/, ".inputs.json"), JSON.stringify({ inputs: rel, sha256: hash.digest("hex"), bundle }) + "\n");
  // Code caches of earlier bundles (named by their hash) are of no use now.
  for (const name of readdirSync(dirname(out))) {
    if (name.startsWith(basename(out) + ".") && name.endsWith(".v8cache")) rmSync(join(dirname(out), name), { force: true });
  }
  // The ES module bundles of earlier builds.
  rmSync(out.replace(/\.cjs$/, ".js"), { force: true });
}
