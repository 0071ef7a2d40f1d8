// One side of the underlay figure: runs in a worker thread.
// mode: "segment" (SegmentPort.send / drain), "ring" (Ring.push / shift raw),
// "spsc" (a minimal single-producer single-consumer ring: the channel's ceiling).
import { workerData, parentPort } from "node:worker_threads";
import { Ring, SegmentPort } from "@kemu/underlay";

const { mode, role, frames, frameSize, layout, spsc, go } = workerData;
const goFlag = new Int32Array(go);
const frame = new Uint8Array(frameSize);
// Ethernet header: broadcast-free unicast dst (unknown: floods to the one other member), src, IPv4.
frame.set([0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00]);
for (let i = 14; i < frameSize; i++) frame[i] = i & 255;

function waitGo() {
  Atomics.add(goFlag, 1, 1);
  while (Atomics.load(goFlag, 0) === 0) {}
}

// Minimal SPSC ring: head/tail counters, fixed slots of [len u32 | bytes].
const SP_SLOTS = 512;
const SP_SLOT = 2048;
function spscViews() {
  const ints = new Int32Array(spsc, 0, 16);
  const bytes = new Uint8Array(spsc, 64);
  const lens = new Int32Array(spsc, 64 + SP_SLOTS * SP_SLOT, SP_SLOTS);
  return { ints, bytes, lens };
}

let received = 0;
let checksum = 0;
let t0 = 0;
if (role === "tx") {
  waitGo();
  t0 = performance.now();
  if (mode === "segment") {
    const port = new SegmentPort(layout, 0);
    for (let i = 0; i < frames; i++) {
      for (;;) {
        const before = port.stats.ringFull;
        port.send(frame, i);
        if (port.stats.ringFull === before) break;
      }
    }
  } else if (mode === "ring") {
    const ring = new Ring(layout.rings[1], layout.shape);
    for (let i = 0; i < frames; i++) while (!ring.push(frame, 0, i)) {}
  } else {
    const { ints, bytes, lens } = spscViews();
    for (let i = 0; i < frames; i++) {
      while (((i - Atomics.load(ints, 1)) | 0) >= SP_SLOTS) {}
      const slot = i & (SP_SLOTS - 1);
      bytes.set(frame, slot * SP_SLOT);
      lens[slot] = frame.length;
      Atomics.store(ints, 0, (i + 1) | 0);
    }
  }
} else {
  waitGo();
  t0 = performance.now();
  if (mode === "segment") {
    const port = new SegmentPort(layout, 1);
    while (received < frames) {
      const arr = port.drain();
      for (let k = 0; k < arr.length; k++) checksum += arr[k].frame[20];
      received += arr.length;
    }
  } else if (mode === "ring") {
    const ring = new Ring(layout.rings[1], layout.shape);
    while (received < frames) {
      const f = ring.shift();
      if (f !== undefined) {
        checksum += f.data[20];
        received++;
      }
    }
  } else {
    const { ints, bytes, lens } = spscViews();
    let head = 0;
    // The consumer copies each frame out into slabs of its own, as kemu's ring does.
    let slab = new Uint8Array(0);
    let used = 0;
    while (head < frames) {
      const tail = Atomics.load(ints, 0);
      while (head !== tail) {
        const slot = head & (SP_SLOTS - 1);
        const off = slot * SP_SLOT;
        const len = lens[slot];
        if (slab.length - used < len) {
          slab = new Uint8Array(16384);
          used = 0;
        }
        const data = slab.subarray(used, used + len);
        data.set(bytes.subarray(off, off + len));
        used += (len + 7) & ~7;
        checksum += data[20];
        head = (head + 1) | 0;
      }
      Atomics.store(ints, 1, head);
    }
    received = head;
  }
}
parentPort.postMessage({ role, ms: performance.now() - t0, received, checksum });
