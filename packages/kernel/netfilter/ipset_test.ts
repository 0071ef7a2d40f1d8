import test from "ava";
import { testKernel } from "../_testing.ts";
import { IpSetError, IpSets } from "./ipset.ts";
import { ip } from "./_testing.ts";

function sets(): IpSets {
  const { kernel } = testKernel();
  return new IpSets(kernel.clock, kernel.rng);
}

const pkt = (src: string, dst: string, proto: number, sport: number, dport: number) => ({
  src: ip(src),
  dst: ip(dst),
  proto,
  srcPort: sport,
  dstPort: dport,
  icmpType: -1,
  icmpCode: -1,
});

test("hash:net matches addresses inside its prefixes; members print without /32", (t) => {
  const s = sets().create("nets", "hash:net", []);
  s.add("10.0.0.0/8");
  s.add("192.168.1.1");
  t.deepEqual(s.members().map((m) => m.text), ["10.0.0.0/8", "192.168.1.1"]);
  t.true(s.matchPacket(pkt("10.20.30.40", "1.1.1.1", 6, 1, 2), ["src"]));
  t.false(s.matchPacket(pkt("11.0.0.1", "1.1.1.1", 6, 1, 2), ["src"]));
  t.true(s.test("10.1.0.0/16"));
  t.false(s.test("192.168.1.0/24"));
});

test("hash:ip,port and hash:ip,port,net match per direction, with the packet's protocol", (t) => {
  const all = sets();
  const ipp = all.create("svc", "hash:ip,port", []);
  ipp.add("10.96.0.10,udp:53");
  t.true(ipp.matchPacket(pkt("10.244.0.5", "10.96.0.10", 17, 40000, 53), ["dst", "dst"]));
  t.false(ipp.matchPacket(pkt("10.244.0.5", "10.96.0.10", 6, 40000, 53), ["dst", "dst"]), "tcp is another member");
  t.false(ipp.matchPacket(pkt("10.244.0.5", "10.96.0.10", 17, 40000, 53), ["src", "dst"]));
  const ippn = all.create("lb", "hash:ip,port,net", []);
  ippn.add("10.0.0.1,tcp:80,10.0.1.0/24");
  t.true(ippn.matchPacket(pkt("10.0.1.77", "10.0.0.1", 6, 5000, 80), ["dst", "dst", "src"]));
  t.false(ippn.matchPacket(pkt("10.0.2.77", "10.0.0.1", 6, 5000, 80), ["dst", "dst", "src"]));
});

test("bitmap:port needs its range and holds ports of TCP and UDP packets", (t) => {
  const all = sets();
  t.throws(() => all.create("np", "bitmap:port", []), { instanceOf: IpSetError, message: 'Syntax error: Missing mandatory option "range"' });
  const s = all.create("np", "bitmap:port", ["range", "30000-32767"]);
  s.add("30080");
  t.throws(() => s.add("80"), { message: "Element is out of the range of the set" });
  t.true(s.matchPacket(pkt("1.1.1.1", "2.2.2.2", 6, 999, 30080), ["dst"]));
  t.false(s.matchPacket(pkt("1.1.1.1", "2.2.2.2", 1, 999, 30080), ["dst"]));
});

test("entries of a set with a timeout expire on the emulated clock", (t) => {
  const { kernel, clock } = testKernel();
  const s = new IpSets(kernel.clock, kernel.rng).create("t", "hash:ip", ["timeout", "300"]);
  s.add("1.1.1.1");
  t.is(s.memberLine(s.members()[0]!), "1.1.1.1 timeout 299");
  clock.runUntil(301_000);
  t.is(s.size, 0);
});

test("rename keeps a set's rules, swap trades them, as the kernel's set indexes do", (t) => {
  const all = sets();
  all.create("a", "hash:ip", []);
  all.create("b", "hash:ip", []);
  const slotA = all.slotOf("a");
  all.rename("a", "c");
  t.is(all.at(slotA)!.name, "c");
  all.swap("c", "b");
  t.is(all.at(slotA)!.name, "c", "the slot keeps its name; the set in it is the other one");
});
