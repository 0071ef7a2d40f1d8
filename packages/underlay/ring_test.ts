import test from "ava";
import { Worker } from "node:worker_threads";
import { allocateRing, Ring } from "./ring.ts";

test("frames come out in order, byte for byte, with source and time", (t) => {
  const ring = new Ring(allocateRing({ slots: 8, slotSize: 256 }), { slots: 8, slotSize: 256 });
  for (let i = 0; i < 20; i++) {
    const f = Uint8Array.from({ length: 60 + i }, (_, j) => (i * 7 + j) & 255);
    t.true(ring.push(f, i % 3, i * 0.5));
    const out = ring.shift()!;
    t.deepEqual(out.data, f);
    t.is(out.source, i % 3);
    t.is(out.sentAt, i * 0.5);
  }
  t.is(ring.shift(), undefined);
});

test("a full ring refuses and counts; an oversized frame is refused", (t) => {
  const shape = { slots: 4, slotSize: 128 };
  const ring = new Ring(allocateRing(shape), shape);
  for (let i = 0; i < 4; i++) t.true(ring.push(new Uint8Array(10), 0, 0));
  t.false(ring.push(new Uint8Array(10), 0, 0));
  t.false(ring.push(new Uint8Array(200), 0, 0));
  t.is(ring.dropped, 2);
  ring.shift();
  t.true(ring.push(new Uint8Array(10), 0, 0));
});

test("two producer threads and one consumer: every frame arrives once and intact", async (t) => {
  const shape = { slots: 64, slotSize: 2048 };
  const sab = allocateRing(shape);
  const perProducer = 20_000;
  const producer = `
    const { workerData } = require("node:worker_threads");
    const { sab, id, n } = workerData;
    const ints = new Int32Array(sab);
    import(${JSON.stringify(new URL("./ring.js", import.meta.url).href)}).then(({ Ring }) => {
      const ring = new Ring(sab, { slots: 64, slotSize: 2048 });
      const f = new Uint8Array(1500);
      let i = 0;
      while (i < n) {
        new DataView(f.buffer).setUint32(0, i);
        f[4] = id;
        f[1499] = (i * 31 + id) & 255;
        if (ring.push(f, id, i)) i++;
      }
    });`;
  const workers = [1, 2].map(
    (id) => new Worker(producer, { eval: true, workerData: { sab, id, n: perProducer } }),
  );
  const ring = new Ring(sab, shape);
  const next = new Map([[1, 0], [2, 0]]);
  let got = 0;
  let bad = 0;
  while (got < 2 * perProducer) {
    const f = ring.shift();
    if (!f) {
      await ring.wait(50);
      continue;
    }
    const i = new DataView(f.data.buffer, f.data.byteOffset, f.data.byteLength).getUint32(0);
    const id = f.data[4]!;
    if (i !== next.get(id) || f.data[1499] !== ((i * 31 + id) & 255) || f.source !== id || f.data.length !== 1500) bad++;
    next.set(id, i + 1);
    got++;
  }
  await Promise.all(workers.map((w) => w.terminate()));
  t.is(bad, 0);
  t.is(got, 2 * perProducer);
});
