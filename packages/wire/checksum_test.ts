import test from "ava";
import { checksum, finishChecksum, sumWords } from "./checksum.ts";

// The definition, byte by byte: big-endian 16-bit words, an odd byte padded with zero.
function reference(buf: Uint8Array, start: number, end: number): number {
  let sum = 0;
  for (let i = start; i < end; i += 2) sum += (buf[i]! << 8) | (i + 1 < end ? buf[i + 1]! : 0);
  return finishChecksum(sum);
}

test("the checksum equals the byte-by-byte definition at every alignment and length", (t) => {
  let seed = 12345;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
  const backing = new Uint8Array(4096).map(() => next());
  let checked = 0;
  for (const offset of [0, 1, 2, 3, 4, 6, 7, 128]) {
    const view = new Uint8Array(backing.buffer, offset, 3000);
    for (const len of [0, 1, 2, 3, 20, 63, 64, 65, 66, 67, 1480, 1481, 2999]) {
      for (const start of [0, 1, 2, 4]) {
        t.is(finishChecksum(sumWords(view, start, start + len)), reference(view, start, start + len), `offset ${offset} start ${start} len ${len}`);
        checked++;
      }
    }
  }
  t.is(checked, 8 * 13 * 4);
});

test("all-ones words sum to the ones'-complement zero, whatever the length", (t) => {
  const ff = new Uint8Array(2048).fill(0xff);
  t.is(checksum(ff, 0, 2048), 0);
  t.is(checksum(ff, 0, 1500), 0);
});

test("a buffer carrying its own correct checksum sums to zero", (t) => {
  const pkt = new Uint8Array(1000).map((_, i) => (i * 31) & 255);
  pkt[10] = 0;
  pkt[11] = 0;
  const c = checksum(pkt);
  pkt[10] = c >> 8;
  pkt[11] = c & 255;
  t.is(checksum(pkt), 0);
});
