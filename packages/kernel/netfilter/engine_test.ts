import test from "ava";
import { buildIpv4, buildTcp, ipv4Defaults, TCP_ACK, TCP_RST, TCP_SYN, TcpPacket } from "@kemu/wire";
import { pingOnce } from "../_testing.ts";
import { RawSocket } from "../socket.ts";
import { netfilterOf } from "./engine.ts";
import { bytes, drain, ip, ipt, routed, settle, udpSocket } from "./_testing.ts";

test("a namespace where nothing was written passes packets untouched", async (t) => {
  const { clock, client, router } = routed();
  const nf = netfilterOf(router);
  t.false(nf.active);
  t.is(ipt(router, "-L -n"), [
    "Chain INPUT (policy ACCEPT)",
    "target     prot opt source               destination         ",
    "",
    "Chain FORWARD (policy ACCEPT)",
    "target     prot opt source               destination         ",
    "",
    "Chain OUTPUT (policy ACCEPT)",
    "target     prot opt source               destination         ",
    "",
  ].join("\n"));
  t.false(nf.active, "listing creates nothing");
  t.deepEqual(await pingOnce(clock, client, ip("10.0.2.2")), { kind: "echo-reply", from: "10.0.2.2", ttl: 63 });
  t.is(nf.conntrack.count, 0);
});

test("rule and policy counters move with packets and bytes", async (t) => {
  const { clock, client, router } = routed();
  ipt(router, "-A FORWARD -p icmp --icmp-type echo-request -j ACCEPT");
  ipt(router, "-A FORWARD -p udp");
  await pingOnce(clock, client, ip("10.0.2.2"));
  const out = ipt(router, "-L FORWARD -n -v -x");
  t.is(
    out,
    [
      "Chain FORWARD (policy ACCEPT 1 packets, 84 bytes)",
      "    pkts      bytes target     prot opt in     out     source               destination         ",
      "       1       84 ACCEPT     1    --  *      *       0.0.0.0/0            0.0.0.0/0            icmptype 8",
      "       0        0            17   --  *      *       0.0.0.0/0            0.0.0.0/0           ",
      "",
    ].join("\n"),
  );
  ipt(router, "-Z FORWARD");
  t.regex(ipt(router, "-L FORWARD -v"), /policy ACCEPT 0 packets, 0 bytes/);
});

test("counters in -L are abbreviated with K and M unless -x", (t) => {
  const { router } = routed();
  ipt(router, "-A INPUT -j ACCEPT");
  const rule = netfilterOf(router).table("filter")!.chain("INPUT")!.rules[0]!;
  rule.counters.packets = 123456;
  rule.counters.bytes = 98765432;
  t.regex(ipt(router, "-L INPUT -v -n"), /\n 123K {3}99M ACCEPT/);
  t.regex(ipt(router, "-L INPUT -v -n -x"), /\n {2}123456 98765432 ACCEPT/);
});

test("REJECT answers with the ICMP error asked for", async (t) => {
  const cases: Array<[string, string]> = [
    ["", "dest-unreachable/3"],
    ["--reject-with icmp-host-unreachable", "dest-unreachable/1"],
    ["--reject-with icmp-net-unreachable", "dest-unreachable/0"],
    ["--reject-with icmp-admin-prohibited", "dest-unreachable/13"],
  ];
  for (const [opt, kind] of cases) {
    const { clock, client, router } = routed();
    ipt(router, `-A FORWARD -p icmp -j REJECT ${opt}`);
    const answer = await pingOnce(clock, client, ip("10.0.2.2"));
    t.deepEqual(answer, { kind, from: "10.0.1.1", ttl: 64 }, opt);
  }
});

test("REJECT --reject-with tcp-reset answers a SYN with a RST|ACK", (t) => {
  const { clock, client, router } = routed();
  ipt(router, "-A FORWARD -p tcp --dport 80 -j REJECT --reject-with tcp-reset");
  const raw = new RawSocket(client, 6);
  const src = ip("10.0.1.2");
  const dst = ip("10.0.2.2");
  const syn = buildTcp({ srcPort: 40001, dstPort: 80, seq: 1000, ack: 0, flags: TCP_SYN, window: 64240, urgent: 0, options: {} }, new Uint8Array(0), src, dst);
  raw.send(dst, syn);
  settle(clock);
  const d = raw.mailbox.tryReceive()!;
  t.truthy(d);
  const rst = TcpPacket.checked(d.data);
  t.is(d.src, dst, "the RST comes from the address the SYN was for");
  t.is(rst.flags, TCP_RST | TCP_ACK);
  t.is(rst.ack, 1001);
  t.is(rst.srcPort, 80);
  t.is(rst.dstPort, 40001);
  t.true(rst.verifyChecksum(dst, src));
});

test("jumps, gotos and RETURN walk chains as iptables does", async (t) => {
  const { clock, client, router } = routed();
  ipt(router, "-N A");
  ipt(router, "-N B");
  ipt(router, "-A FORWARD -j A");
  ipt(router, "-A FORWARD -j DROP");
  ipt(router, "-A A -g B");
  ipt(router, "-A A -j DROP");
  ipt(router, "-A B -j RETURN");
  // B returns to FORWARD (A was left by the goto), whose next rule drops.
  t.is(await pingOnce(clock, client, ip("10.0.2.2"), { waitMs: 1000 }), undefined);
  const counts = netfilterOf(router).table("filter")!;
  t.deepEqual(
    ["FORWARD", "A", "B"].map((c) => counts.chain(c)!.rules.map((r) => r.counters.packets)),
    [[1, 1], [1, 0], [1]],
  );
});

test("the DROP policy drops what no rule accepts", async (t) => {
  const { clock, client, router } = routed();
  ipt(router, "-P FORWARD DROP");
  t.is(await pingOnce(clock, client, ip("10.0.2.2"), { waitMs: 1000 }), undefined);
  ipt(router, "-A FORWARD -j ACCEPT");
  t.is((await pingOnce(clock, client, ip("10.0.2.2")))?.kind, "echo-reply");
});

test("statistic --mode random draws from the seeded random source: same seed, same hits", async (t) => {
  const hits = async (seed: number): Promise<number> => {
    const { clock, client, router, server } = routed(seed);
    await pingOnce(clock, client, ip("10.0.2.2")); // resolve ARP on both hops first
    ipt(router, "-A FORWARD -p udp -m statistic --mode random --probability 0.25 -j DROP");
    const srv = udpSocket(server, 9);
    const cli = udpSocket(client, 0);
    for (let i = 0; i < 400; i++) cli.sendTo(ip("10.0.2.2"), 9, bytes("x"));
    settle(clock);
    return drain(srv).length;
  };
  const a = await hits(11);
  t.is(await hits(11), a);
  t.true(a > 400 * 0.65 && a < 400 * 0.85, `passed ${a} of 400 at p=0.25 drop`);
});

test("statistic --mode nth --every 3 --packet 1 matches the second of every three", (t) => {
  const { clock, client, router, server } = routed();
  ipt(router, "-A FORWARD -p udp -m statistic --mode nth --every 3 --packet 1 -j DROP");
  const srv = udpSocket(server, 9);
  const cli = udpSocket(client, 0);
  for (let i = 0; i < 6; i++) cli.sendTo(ip("10.0.2.2"), 9, bytes(String(i)));
  settle(clock);
  t.deepEqual(
    drain(srv).map((l) => l.split(" ")[1]),
    ["0", "2", "3", "5"],
  );
});

test("recent --rcheck --seconds counts on the emulated clock", (t) => {
  const { clock, client, router, server } = routed();
  ipt(router, "-A FORWARD -p udp -m recent --name seen --rcheck --seconds 10 -j DROP");
  ipt(router, "-A FORWARD -p udp -m recent --name seen --set");
  const srv = udpSocket(server, 9);
  const cli = udpSocket(client, 0);
  cli.sendTo(ip("10.0.2.2"), 9, bytes("first"));
  settle(clock, 100);
  cli.sendTo(ip("10.0.2.2"), 9, bytes("within"));
  settle(clock, 100);
  clock.runUntil(clock.now() + 11_000);
  cli.sendTo(ip("10.0.2.2"), 9, bytes("later"));
  settle(clock, 100);
  t.deepEqual(drain(srv).map((l) => l.split(" ")[1]), ["first", "later"]);
});

test("ctstate: NEW for the first packet, ESTABLISHED after the reply, INVALID for an unsolicited reply", (t) => {
  const { clock, client, router, server } = routed();
  ipt(router, "-A FORWARD -m conntrack --ctstate NEW -j ACCEPT");
  ipt(router, "-A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT");
  ipt(router, "-A FORWARD -m conntrack --ctstate INVALID -j DROP");
  const srv = udpSocket(server, 9);
  const cli = udpSocket(client, 30000);
  cli.sendTo(ip("10.0.2.2"), 9, bytes("q"));
  settle(clock);
  const d = srv.mailbox.tryReceive()!;
  srv.sendTo(d.src, d.srcPort, bytes("r"));
  settle(clock);
  t.deepEqual(drain(cli), ["10.0.2.2:9 r"]);
  // An echo reply nobody asked for is INVALID.
  const raw = new RawSocket(server, 1);
  raw.send(ip("10.0.1.2"), new Uint8Array([0, 0, 0xff, 0xfe, 0, 1, 0, 0]));
  settle(clock);
  const rules = netfilterOf(router).table("filter")!.chain("FORWARD")!.rules;
  t.deepEqual(
    rules.map((r) => r.counters.packets),
    [1, 1, 1],
  );
});

test("MARK sets the mark and -m mark tests it", (t) => {
  const { clock, client, router, server } = routed();
  ipt(router, "-t mangle -A PREROUTING -p udp --dport 9 -j MARK --set-mark 0x4000");
  ipt(router, "-A FORWARD -m mark --mark 0x4000/0x4000 -j DROP");
  const srv = udpSocket(server, 9);
  const cli = udpSocket(client, 0);
  cli.sendTo(ip("10.0.2.2"), 9, bytes("marked"));
  cli.sendTo(ip("10.0.2.2"), 10, bytes("not"));
  settle(clock);
  t.deepEqual(drain(srv), []);
  t.deepEqual(netfilterOf(router).table("filter")!.chain("FORWARD")!.rules[0]!.counters.packets, 1);
});

test("addrtype --dst-type LOCAL matches the namespace's own addresses", (t) => {
  const { clock, client, router } = routed();
  ipt(router, "-A INPUT -m addrtype --dst-type LOCAL -p udp -j DROP");
  ipt(router, "-A FORWARD -m addrtype --dst-type LOCAL -p udp -j DROP");
  const cli = udpSocket(client, 0);
  cli.sendTo(ip("10.0.2.1"), 9, bytes("to the router's other address"));
  cli.sendTo(ip("10.0.2.2"), 9, bytes("through"));
  settle(clock);
  const t0 = netfilterOf(router).table("filter")!;
  t.is(t0.chain("INPUT")!.rules[0]!.counters.packets, 1);
  t.is(t0.chain("FORWARD")!.rules[0]!.counters.packets, 0);
});

test("set --match-set tests packets against an ipset", (t) => {
  const { clock, client, router, server } = routed();
  const nf = netfilterOf(router);
  const set = nf.ipsets.create("blocked", "hash:ip,port", []);
  set.add("10.0.2.2,udp:9");
  ipt(router, "-A FORWARD -m set --match-set blocked dst,dst -j DROP");
  t.is(set.references, 1);
  const srv9 = udpSocket(server, 9);
  const srv10 = udpSocket(server, 10);
  const cli = udpSocket(client, 0);
  cli.sendTo(ip("10.0.2.2"), 9, bytes("a"));
  cli.sendTo(ip("10.0.2.2"), 10, bytes("b"));
  settle(clock);
  t.is(drain(srv9).length, 0);
  t.is(drain(srv10).length, 1);
});

test("LOG writes the kernel's line to the kernel log", (t) => {
  const { kernel, clock, client, router } = routed();
  ipt(router, "-A FORWARD -p udp -j LOG --log-prefix FWD:");
  udpSocket(client, 1234).sendTo(ip("10.0.2.2"), 9, bytes("hi"));
  settle(clock);
  const line = kernel.log.find((l) => l.text.startsWith("FWD:"))!.text;
  const cmac = client.deviceByName("eth0")!.mac;
  const rmac = router.deviceByName("eth0")!.mac;
  const hexmac = (m: number) => m.toString(16).padStart(12, "0").replace(/(..)(?!$)/g, "$1:");
  t.is(
    line,
    `FWD:IN=eth0 OUT=eth1 MAC=${hexmac(rmac)}:${hexmac(cmac)}:08:00 SRC=10.0.1.2 DST=10.0.2.2 LEN=30 TOS=0x00 PREC=0x00 TTL=63 ID=1 PROTO=UDP SPT=1234 DPT=9 LEN=10 `,
  );
});

test("TRACE logs every rule a packet meets, in every table, with return and policy", (t) => {
  const { kernel, clock, client, router } = routed();
  ipt(router, "-t raw -A PREROUTING -p udp -j TRACE");
  ipt(router, "-N CHK");
  ipt(router, "-A CHK -p udp --dport 9");
  ipt(router, "-A FORWARD -j CHK");
  udpSocket(client, 1234).sendTo(ip("10.0.2.2"), 9, bytes("hi"));
  settle(clock);
  const traces = kernel.log.filter((l) => l.text.startsWith("TRACE:")).map((l) => l.text.split(" IN=")[0]);
  t.deepEqual(traces, [
    "TRACE: raw:PREROUTING:policy:2",
    "TRACE: filter:FORWARD:rule:1",
    "TRACE: filter:CHK:rule:1",
    "TRACE: filter:CHK:return:2",
    "TRACE: filter:FORWARD:policy:2",
  ]);
  t.regex(kernel.log.find((l) => l.text.startsWith("TRACE:"))!.text, / SRC=10\.0\.1\.2 DST=10\.0\.2\.2 .* PROTO=UDP SPT=1234 DPT=9 LEN=10 $/);
});

test("a synthetic packet with a bad L4 header is not trackable and counts as INVALID", (t) => {
  const { clock, router } = routed();
  ipt(router, "-A INPUT -m conntrack --ctstate INVALID -j DROP");
  const raw = new RawSocket(router, 6);
  void raw;
  const pkt = buildIpv4(ipv4Defaults({ src: ip("10.0.1.2"), dst: ip("10.0.1.1"), protocol: 6 }), new Uint8Array(2));
  router.ipv4.ipInput(router.deviceByName("eth0")!, pkt);
  settle(clock);
  t.is(netfilterOf(router).table("filter")!.chain("INPUT")!.rules[0]!.counters.packets, 1);
});
