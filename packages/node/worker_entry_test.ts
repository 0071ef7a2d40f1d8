import test from "ava";
import { createHash } from "node:crypto";
import { mkdtempSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { workerEntry } from "./worker_entry.ts";

function layout(): { dir: string; entry: URL } {
  const dir = mkdtempSync(join(tmpdir(), "kemu-entry-"));
  writeFileSync(join(dir, "w.js"), "export {};");
  writeFileSync(join(dir, "dep.js"), "export const x = 1;");
  writeFileSync(join(dir, "w.bundle.cjs"), "");
  const inputs = ["w.js", "dep.js"];
  const sha256 = createHash("sha256").update("export {};").update("export const x = 1;").digest("hex");
  writeFileSync(join(dir, "w.bundle.inputs.json"), JSON.stringify({ inputs, sha256, bundle: "ab".repeat(32) }));
  const old = new Date(Date.UTC(2026, 0, 1));
  utimesSync(join(dir, "w.js"), old, old);
  utimesSync(join(dir, "dep.js"), old, old);
  return { dir, entry: pathToFileURL(join(dir, "w.js")) };
}

/** The bundle a worker entry runs through the loader, if it does. */
function bundleOf(url: URL): string | null {
  return url.pathname.endsWith("/bundle_loader.js") ? url.searchParams.get("bundle") : null;
}

test("a bundle newer than every file it was made from is used, through the loader, with a code cache named by its hash", (t) => {
  const { dir, entry } = layout();
  const url = workerEntry(entry);
  t.is(bundleOf(url), join(dir, "w.bundle.cjs"));
  t.true(url.searchParams.get("cache")!.startsWith(join(dir, "w.bundle.cjs.abababababababab-v8-")));
});

test("a bundle older than one of its inputs is not, when that input changed: the entry itself runs", (t) => {
  const { dir, entry } = layout();
  writeFileSync(join(dir, "dep.js"), "export const x = 2;");
  const later = new Date(Date.now() + 60_000);
  utimesSync(join(dir, "dep.js"), later, later);
  t.is(workerEntry(entry).href, entry.href);
});

test("inputs newer on disk with the same contents (a cache restore) keep the bundle", (t) => {
  const { dir, entry } = layout();
  const later = new Date(Date.now() + 60_000);
  utimesSync(join(dir, "dep.js"), later, later);
  t.is(bundleOf(workerEntry(entry)), join(dir, "w.bundle.cjs"));
});

test("without a bundle, or its list of inputs, the entry runs", (t) => {
  const { entry } = layout();
  const bare = new URL("./none.js", entry);
  writeFileSync(new URL("./none.js", entry), "");
  t.is(workerEntry(bare).href, bare.href);
});
