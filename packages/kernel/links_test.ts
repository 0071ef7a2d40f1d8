import test from "ava";
import { testKernel } from "./_testing.ts";
import { Ether } from "./links.ts";

/** An Ether NIC, up, whose wire takes at most `room` frames until it is given more. */
function nic(room: number): { dev: Ether; sent: number[]; give(n: number): void; stalls: () => number } {
  const { kernel } = testKernel();
  const dev = new Ether("eth0", kernel.randomMac(), 1500);
  kernel.root.addDevice(dev);
  dev.adminUp = true;
  const sent: number[] = [];
  let stalls = 0;
  dev.wire = (frame) => {
    sent.push(frame[14]!);
    room--;
  };
  dev.wireRoom = () => room > 0;
  dev.onTxStall = () => stalls++;
  return {
    dev,
    sent,
    give(n) {
      room += n;
      dev.wakeQueue();
    },
    stalls: () => stalls,
  };
}

/** A 60-byte frame whose first payload byte is `n`. */
function frame(n: number): Uint8Array {
  const f = new Uint8Array(60);
  f.fill(0xff, 0, 6);
  f[14] = n;
  return f;
}

test("a full ring stops the NIC's queue: frames wait in it and all leave in order once there is room", (t) => {
  const { dev, sent, give, stalls } = nic(3);
  for (let i = 0; i < 10; i++) dev.transmit(frame(i));
  t.deepEqual(sent, [0, 1, 2]);
  t.is(dev.txQueued, 7);
  t.is(stalls(), 1, "the owner of the wire is told once that frames wait");
  t.is(dev.stats.txPackets, 3, "a waiting frame is not yet transmitted");
  give(4);
  t.deepEqual(sent, [0, 1, 2, 3, 4, 5, 6]);
  dev.transmit(frame(10)); // behind the three still waiting, though the ring has room for none
  give(10);
  t.deepEqual(sent, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  t.is(dev.txQueued, 0);
  t.is(dev.stats.txPackets, 11);
  t.is(dev.stats.txDropped, 0);
});

test("a full tx queue (txqueuelen) drops what comes next and counts it as a TX drop", (t) => {
  const { dev, sent, give } = nic(0);
  dev.txqlen = 5;
  for (let i = 0; i < 8; i++) dev.transmit(frame(i));
  t.is(dev.txQueued, 5);
  t.is(dev.stats.txDropped, 3);
  give(100);
  t.deepEqual(sent, [0, 1, 2, 3, 4]);
  t.is(dev.stats.txPackets, 5);
});
