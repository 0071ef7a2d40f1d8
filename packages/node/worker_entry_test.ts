import test from "ava";
import { mkdtempSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { workerEntry } from "./worker_entry.ts";

function layout(): { dir: string; entry: URL } {
  const dir = mkdtempSync(join(tmpdir(), "kemu-entry-"));
  writeFileSync(join(dir, "w.js"), "");
  writeFileSync(join(dir, "dep.js"), "");
  writeFileSync(join(dir, "w.bundle.js"), "");
  writeFileSync(join(dir, "w.bundle.inputs.json"), JSON.stringify([join(dir, "w.js"), join(dir, "dep.js")]));
  const old = new Date(Date.UTC(2026, 0, 1));
  utimesSync(join(dir, "w.js"), old, old);
  utimesSync(join(dir, "dep.js"), old, old);
  return { dir, entry: pathToFileURL(join(dir, "w.js")) };
}

test("a bundle newer than every file it was made from is used", (t) => {
  const { dir, entry } = layout();
  t.is(workerEntry(entry).href, pathToFileURL(join(dir, "w.bundle.js")).href);
});

test("a bundle older than one of its inputs is not: the entry itself runs", (t) => {
  const { dir, entry } = layout();
  const later = new Date(Date.now() + 60_000);
  utimesSync(join(dir, "dep.js"), later, later);
  t.is(workerEntry(entry).href, entry.href);
});

test("without a bundle, or its list of inputs, the entry runs", (t) => {
  const { entry } = layout();
  const bare = new URL("./none.js", entry);
  writeFileSync(new URL("./none.js", entry), "");
  t.is(workerEntry(bare).href, bare.href);
});
