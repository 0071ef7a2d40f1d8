import test from "ava";
import { ByteQueue, Reassembly } from "./segment_queue.ts";

const b = (...xs: number[]) => Uint8Array.from(xs);
const range = (from: number, n: number) => Uint8Array.from({ length: n }, (_, i) => (from + i) & 255);

test("a byte queue reads across chunks and hands out views when it can", (t) => {
  const q = new ByteQueue();
  q.push(b(1, 2, 3));
  q.push(b(4, 5));
  q.push(b(6));
  t.is(q.length, 6);
  const first = q.shift(2);
  t.deepEqual(first, b(1, 2));
  t.deepEqual(q.shift(3), b(3, 4, 5));
  t.deepEqual(q.shift(), b(6));
  t.is(q.length, 0);
  t.is(q.shift().length, 0);
});

test("copyOut reads at any offset, sequentially or after a rewind", (t) => {
  const q = new ByteQueue();
  for (let i = 0; i < 10; i++) q.push(range(i * 10, 10));
  const out = new Uint8Array(100);
  for (let off = 0; off < 100; off += 7) q.copyOut(off, Math.min(7, 100 - off), out, off);
  t.deepEqual(out, range(0, 100));
  const back = new Uint8Array(15);
  q.copyOut(42, 15, back, 0);
  t.deepEqual(back, range(42, 15));
  q.copyOut(3, 15, back, 0);
  t.deepEqual(back, range(3, 15));
  q.drop(25);
  q.copyOut(0, 15, back, 0);
  t.deepEqual(back, range(25, 15));
  q.copyOut(60, 15, back, 0);
  t.deepEqual(back, range(85, 15));
  t.throws(() => q.copyOut(70, 10, back, 0), { instanceOf: RangeError });
});

test("a byte queue stays correct over many small pushes and drops", (t) => {
  const q = new ByteQueue();
  let next = 0;
  let head = 0;
  for (let round = 0; round < 500; round++) {
    q.push(range(next, 13));
    next += 13;
    const n = round % 3 === 0 ? 20 : 5;
    const got = q.shift(n);
    t.deepEqual(got, range(head, got.length));
    head += got.length;
  }
  t.is(q.length, next - head);
});

test("reassembly keeps pieces sorted without overlaps and hands back the contiguous run", (t) => {
  const r = new Reassembly();
  const base = 0xfffffff0; // across the 2^32 wrap
  const at = (off: number) => (base + off) >>> 0;
  r.insert(at(20), range(20, 10));
  r.insert(at(10), range(10, 5));
  r.insert(at(12), range(12, 12)); // overlaps both: only 15..20 is new
  r.insert(at(20), range(20, 10)); // a duplicate
  t.is(r.bytes, 20);
  t.deepEqual(r.take(at(0)), [], "a gap at RCV.NXT");
  const run = r.take(at(10));
  t.deepEqual(Buffer.concat(run), Buffer.from(range(10, 20)));
  t.true(r.empty);
});

test("reassembly trims what RCV.NXT already covers", (t) => {
  const r = new Reassembly();
  r.insert(100, range(0, 10));
  t.deepEqual(Buffer.concat(r.take(105)), Buffer.from(range(5, 5)));
});

test("SACK blocks list the most recent run first", (t) => {
  const r = new Reassembly();
  r.insert(2000, range(0, 100));
  r.insert(3000, range(0, 100));
  r.insert(2100, range(0, 100));
  r.insert(5000, range(0, 100));
  r.insert(4000, range(0, 50));
  t.deepEqual(r.sackBlocks(3), [
    [4000, 4050],
    [5000, 5100],
    [3000, 3100],
  ]);
});
