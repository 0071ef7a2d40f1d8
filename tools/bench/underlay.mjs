// Figure 1: 1500-byte frames/s between two worker threads.
import { Worker } from "node:worker_threads";
import { createSegment } from "@kemu/underlay";

const WORKER = new URL("./underlay_worker.mjs", import.meta.url);

function runOnce(mode, frames, frameSize) {
  const layout = createSegment("bench", 2, { mtu: 1500 });
  const spsc = new SharedArrayBuffer(64 + 512 * 2048 + 512 * 4);
  const go = new SharedArrayBuffer(8);
  const goFlag = new Int32Array(go);
  const common = { mode, frames, frameSize, layout, spsc, go };
  const ws = ["rx", "tx"].map((role) => new Worker(WORKER, { workerData: { ...common, role } }));
  const results = ws.map(
    (w) =>
      new Promise((resolve, reject) => {
        w.once("message", resolve);
        w.once("error", reject);
      }),
  );
  // Start both sides at once, after both are loaded.
  const start = (async () => {
    while (Atomics.load(goFlag, 1) < 2) await new Promise((r) => setTimeout(r, 1));
    Atomics.store(goFlag, 0, 1);
  })();
  return Promise.all([start, ...results]).then(async ([, rx, tx]) => {
    await Promise.all(ws.map((w) => w.terminate()));
    if (rx.received !== frames) throw new Error(`${mode}: received ${rx.received} of ${frames}`);
    return frames / (Math.max(rx.ms, tx.ms) / 1000);
  });
}

export async function underlayFrames({ runs = 5, frames = 300_000, frameSize = 1514 } = {}) {
  const out = { segment: [], ring: [], spsc: [] };
  // Interleaved so that drift (thermal, noisy neighbours) hits every variant alike.
  for (let r = 0; r < runs; r++) {
    for (const mode of ["spsc", "ring", "segment"]) out[mode].push(await runOnce(mode, frames, frameSize));
  }
  return out;
}
