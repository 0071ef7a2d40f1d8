import test from "ava";
import { HEADROOM, prepend, withHeadroom } from "./headroom.ts";
import { buildEthernet, parseEthernet, EthernetFrame } from "./ethernet.ts";
import { buildIpv4, ipv4Defaults, Ipv4Packet } from "./ipv4.ts";
import { buildUdp, UdpPacket } from "./udp.ts";

test("a packet built with headroom grows into it: the layers below share its memory", (t) => {
  const udp = withHeadroom(12);
  udp.set([1, 2, 3, 4], 8);
  const ip = prepend(udp, 20);
  t.is(ip.buffer, udp.buffer);
  t.is(ip.byteOffset, udp.byteOffset - 20);
  t.is(ip.length, 32);
  t.deepEqual([...ip.subarray(28, 32)], [1, 2, 3, 4]);
  const eth = prepend(ip, 14);
  t.is(eth.byteOffset, ip.byteOffset - 14);
});

test("the room is used once: a second prepend to the same view, or to another view of it, copies", (t) => {
  const p = withHeadroom(4);
  p.set([9, 9, 9, 9]);
  const first = prepend(p, 14);
  const second = prepend(p, 14);
  t.not(second.buffer === first.buffer && second.byteOffset === first.byteOffset, true);
  t.deepEqual([...second.subarray(14)], [9, 9, 9, 9]);
  second.fill(7, 0, 14);
  t.deepEqual([...first.subarray(0, 14)], new Array(14).fill(0), "the first frame's header bytes are not touched");
  const sub = first.subarray(14);
  const third = prepend(sub, 14);
  t.not(third.buffer === first.buffer && third.byteOffset === first.byteOffset, true);
});

test("a view with no room recorded (a received frame's payload) is copied, with headroom of its own", (t) => {
  const received = new Uint8Array([0xde, 0xad, 0xbe, 0xef, 1, 2]);
  const out = prepend(received.subarray(4), 8);
  t.not(out.buffer, received.buffer);
  t.deepEqual([...out.subarray(8)], [1, 2]);
  t.is(prepend(out, HEADROOM - 1).buffer, out.buffer);
});

test("a frame built layer by layer in place is the same bytes as one built from copies", (t) => {
  const src = 0x0a000002;
  const dst = 0x0a000003;
  const data = new Uint8Array(64).map((_, i) => i);
  const inPlace = buildEthernet(
    { dst: 0x02_00_00_00_00_03, src: 0x02_00_00_00_00_02, ethertype: 0x0800 },
    buildIpv4(ipv4Defaults({ src, dst, protocol: 17 }), buildUdp({ srcPort: 1234, dstPort: 53 }, data, src, dst)),
  );
  // The same through plain copies: each layer gets a fresh array without room.
  const udp = Uint8Array.from(buildUdp({ srcPort: 1234, dstPort: 53 }, data, src, dst));
  const ip = Uint8Array.from(buildIpv4(ipv4Defaults({ src, dst, protocol: 17 }), udp));
  const copied = buildEthernet({ dst: 0x02_00_00_00_00_03, src: 0x02_00_00_00_00_02, ethertype: 0x0800 }, ip);
  t.deepEqual([...inPlace], [...copied]);
  const frame = EthernetFrame.checked(inPlace);
  t.is(parseEthernet(frame).ethertype, 0x0800);
  const pkt = Ipv4Packet.checked(frame.payload);
  t.true(pkt.verifyChecksum());
  t.true(UdpPacket.checked(pkt.payload).verifyChecksum(src, dst));
});
