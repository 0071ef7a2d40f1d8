import test from "ava";
import { buildEthernet, ETHERTYPE_IPV4, formatMacAddr, MAC_BROADCAST, parseIpv4Addr } from "@kemu/wire";
import { configure, pingOnce, testKernel } from "./_testing.ts";
import type { NetDevice } from "./device.ts";

const ip = (s: string) => parseIpv4Addr(s)!;

/** A bridge in the root namespace with `n` containers on it, 172.17.0.2… */
function dockerLike(n: number) {
  const { kernel, clock } = testKernel();
  const root = kernel.root;
  const br = kernel.createBridge(root, "docker0");
  configure(root, br, "172.17.0.1/16");
  const hosts: NetDevice[] = [];
  const nss = [];
  for (let i = 0; i < n; i++) {
    const [h, c] = kernel.createVeth(root, `veth${i}`, "eth0", { peerNs: kernel.createNetns() });
    br.addPort(h);
    root.setUp(h, true);
    configure(c.netns, c, `172.17.0.${i + 2}/16`);
    c.netns.addRoute({ dst: 0, dstLen: 0, gateway: ip("172.17.0.1") });
    hosts.push(h);
    nss.push(c.netns);
  }
  return { kernel, clock, br, hosts, nss };
}

test("containers on one bridge ping each other, with TTL untouched", async (t) => {
  const { clock, nss } = dockerLike(2);
  const answer = await pingOnce(clock, nss[0]!, ip("172.17.0.3"));
  t.deepEqual(answer, { kind: "echo-reply", from: "172.17.0.3", ttl: 64 });
});

test("the bridge learns source MACs on their ports", async (t) => {
  const { clock, br, hosts, nss } = dockerLike(2);
  await pingOnce(clock, nss[0]!, ip("172.17.0.3"));
  const learned = br.entries().filter((e) => !e.local);
  const c0 = nss[0]!.deviceByName("eth0")!;
  const c1 = nss[1]!.deviceByName("eth0")!;
  t.is(learned.find((e) => e.mac === c0.mac)?.port, hosts[0]);
  t.is(learned.find((e) => e.mac === c1.mac)?.port, hosts[1]);
});

test("bridge floods unknown unicast to every other port and not back out the ingress", (t) => {
  const { kernel, clock, br, hosts } = dockerLike(3);
  const seen = new Map<string, number>();
  for (const h of hosts) h.taps.add((dev, _f, dir) => dir === "out" && seen.set(dev.name, (seen.get(dev.name) ?? 0) + 1));
  const frame = buildEthernet({ dst: 0x02_00_00_00_00_99, src: 0x02_00_00_00_00_01, ethertype: ETHERTYPE_IPV4 }, new Uint8Array(20));
  br.portInput(hosts[0]!, frame);
  clock.runUntil(1);
  t.deepEqual([...seen.entries()].sort(), [["veth1", 1], ["veth2", 1]]);
  void kernel;
});

test("a frame to a MAC learned on the ingress port is dropped unless hairpin is on", (t) => {
  const { clock, br, hosts } = dockerLike(2);
  const out: string[] = [];
  for (const h of hosts) h.taps.add((dev, _f, dir) => dir === "out" && out.push(dev.name));
  const mac = 0x02_00_00_00_00_07;
  br.portInput(hosts[0]!, buildEthernet({ dst: MAC_BROADCAST, src: mac, ethertype: ETHERTYPE_IPV4 }, new Uint8Array(20)));
  out.length = 0;
  br.portInput(hosts[0]!, buildEthernet({ dst: mac, src: 0x02_00_00_00_00_08, ethertype: ETHERTYPE_IPV4 }, new Uint8Array(20)));
  t.deepEqual(out, []);
  br.ports.get(hosts[0]!)!.hairpin = true;
  br.portInput(hosts[0]!, buildEthernet({ dst: mac, src: 0x02_00_00_00_00_08, ethertype: ETHERTYPE_IPV4 }, new Uint8Array(20)));
  t.deepEqual(out, ["veth0"]);
  clock.runUntil(1);
});

test("learned FDB entries age out after 300 s", async (t) => {
  const { clock, br, nss } = dockerLike(2);
  await pingOnce(clock, nss[0]!, ip("172.17.0.3"));
  t.true(br.entries().some((e) => !e.local));
  // The last frames are the DELAY→PROBE unicast ARP 5 s after the ping.
  clock.runUntil(clock.now() + 306_000);
  t.false(br.entries().some((e) => !e.local));
});

test("a truncated frame on a port is dropped and counted, not thrown", (t) => {
  const { br, hosts } = dockerLike(1);
  t.notThrows(() => br.portInput(hosts[0]!, new Uint8Array([1, 2, 3])));
  t.is(br.malformed, 1);
  t.is(formatMacAddr(0x0242ac110002), "02:42:ac:11:00:02");
});
