import test from "ava";
import { buildEthernet, ETHERTYPE_IPV4, MAC_BROADCAST } from "@kemu/wire";
import { createSegment, SegmentPort } from "./segment.ts";

const mac = (n: number) => 0x5254_0000_0000 + n;

test("broadcast floods to every other member; unicast follows learned MACs", (t) => {
  const seg = createSegment("u", 3, { latencyMs: 0.05 });
  const ports = [0, 1, 2].map((i) => new SegmentPort(seg, i));
  const bcast = buildEthernet({ dst: MAC_BROADCAST, src: mac(1), ethertype: ETHERTYPE_IPV4 }, new Uint8Array(46));
  ports[0]!.send(bcast, 1);
  t.is(ports[0]!.drain().length, 0, "never back to the sender");
  const at1 = ports[1]!.drain();
  t.is(at1.length, 1);
  t.deepEqual(at1[0]!.frame, bcast, "the same bytes that left the sender");
  t.is(at1[0]!.arriveAt, 1.05);
  t.is(ports[2]!.drain().length, 1);
  // Member 1 has learned mac(1) is member 0: its reply goes only there.
  const reply = buildEthernet({ dst: mac(1), src: mac(2), ethertype: ETHERTYPE_IPV4 }, new Uint8Array(46));
  ports[1]!.send(reply, 2);
  t.is(ports[2]!.drain().length, 0);
  t.deepEqual(ports[0]!.drain().map((a) => a.frame), [reply]);
});

test("frames larger than the segment's MTU are dropped and counted", (t) => {
  const seg = createSegment("u", 2, { mtu: 1500 });
  const a = new SegmentPort(seg, 0);
  a.send(buildEthernet({ dst: MAC_BROADCAST, src: mac(1), ethertype: ETHERTYPE_IPV4 }, new Uint8Array(1501)), 0);
  t.is(a.stats.oversize, 1);
  t.is(new SegmentPort(seg, 1).drain().length, 0);
});

test("drain orders frames by send time, then sender, whatever order they were queued in", (t) => {
  const seg = createSegment("u", 3);
  const [a, b, c] = [0, 1, 2].map((i) => new SegmentPort(seg, i));
  const f = (src: number) => buildEthernet({ dst: MAC_BROADCAST, src: mac(src), ethertype: ETHERTYPE_IPV4 }, new Uint8Array(46));
  b!.send(f(2), 5);
  a!.send(f(1), 5);
  b!.send(f(2), 3);
  t.deepEqual(c!.drain().map((x) => [x.sentAt, x.source]), [[3, 1], [5, 0], [5, 1]]);
});

test("a port has room while the ring it sends to has a free slot", (t) => {
  const seg = createSegment("u", 2, { shape: { slots: 4, slotSize: 2048 } });
  const [a, b] = [0, 1].map((i) => new SegmentPort(seg, i));
  const f = buildEthernet({ dst: MAC_BROADCAST, src: mac(1), ethertype: ETHERTYPE_IPV4 }, new Uint8Array(46));
  for (let i = 0; i < 4; i++) {
    t.true(a!.hasRoom(f));
    a!.send(f, i);
  }
  t.false(a!.hasRoom(f), "the ring is full");
  t.is(b!.drain().length, 4);
  t.true(a!.hasRoom(f), "the consumer freed its slots");
  t.is(a!.stats.ringFull, 0);
});

test("on lockstep time a port's room is a per-round credit that can never fill the ring", (t) => {
  const seg = createSegment("u", 3, { shape: { slots: 8, slotSize: 2048 } });
  const [a, b, c] = [0, 1, 2].map((i) => new SegmentPort(seg, i, { lockstep: true }));
  const f = (src: number) => buildEthernet({ dst: MAC_BROADCAST, src: mac(src), ethertype: ETHERTYPE_IPV4 }, new Uint8Array(46));
  // 8 slots, two other members, two rounds in a ring at most: 2 frames a round each.
  let sent = 0;
  for (; a!.hasRoom(f(1)); sent++) a!.send(f(1), 0);
  t.is(sent, 2);
  for (; b!.hasRoom(f(2)); sent++) b!.send(f(2), 0);
  t.is(sent, 4);
  for (const p of [a, b]) p!.newRound();
  for (let i = 0; i < 2; i++) a!.send(f(1), 1), b!.send(f(2), 1);
  t.false(a!.hasRoom(f(1)));
  t.is(c!.drain().length, 8, "two rounds of both other members, none refused");
  t.is(a!.stats.ringFull + b!.stats.ringFull, 0);
});
