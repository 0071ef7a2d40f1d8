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
  writeFileSync(join(dir, "w.bundle.js"), "");
  const inputs = ["w.js", "dep.js"];
  const sha256 = createHash("sha256").update("export {};").update("export const x = 1;").digest("hex");
  writeFileSync(join(dir, "w.bundle.inputs.json"), JSON.stringify({ inputs, sha256 }));
  const old = new Date(Date.UTC(2026, 0, 1));
  utimesSync(join(dir, "w.js"), old, old);
  utimesSync(join(dir, "dep.js"), old, old);
  return { dir, entry: pathToFileURL(join(dir, "w.js")) };
}

test("a bundle newer than every file it was made from is used", (t) => {
  const { dir, entry } = layout();
  t.is(workerEntry(entry).href, pathToFileURL(join(dir, "w.bundle.js")).href);
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
  t.is(workerEntry(entry).href, pathToFileURL(join(dir, "w.bundle.js")).href);
});

test("without a bundle, or its list of inputs, the entry runs", (t) => {
  const { entry } = layout();
  const bare = new URL("./none.js", entry);
  writeFileSync(new URL("./none.js", entry), "");
  t.is(workerEntry(bare).href, bare.href);
});
