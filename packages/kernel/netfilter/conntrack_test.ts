import test from "ava";
import { buildTcp, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from "@kemu/wire";
import { RawSocket } from "../socket.ts";
import { netfilterOf } from "./engine.ts";
import { bytes, ip, ipt, routed, settle, udpSocket } from "./_testing.ts";

/** Sends a bare TCP segment with raw sockets (no TCP stack involved). */
function segment(raw: RawSocket, from: string, to: string, sport: number, dport: number, flags: number, seq: number, ack = 0): void {
  const src = ip(from);
  const dst = ip(to);
  raw.send(dst, buildTcp({ srcPort: sport, dstPort: dport, seq, ack, flags, window: 64240, urgent: 0, options: {} }, new Uint8Array(0), src, dst));
}

test("TCP is tracked through its states from the flags seen both ways", (t) => {
  const { clock, client, router, server } = routed();
  ipt(router, "-A FORWARD -m conntrack --ctstate INVALID -j DROP");
  // Keep the ends' own TCP stacks out of it: they would answer with RSTs.
  ipt(client, "-A INPUT -p tcp -j DROP");
  ipt(server, "-A INPUT -p tcp -j DROP");
  const ct = netfilterOf(router).conntrack;
  const c = new RawSocket(client, 6);
  const s = new RawSocket(server, 6);
  const state = (): string => ct.entries().map((e) => ct.format(e).split(" src=")[0]!.split(" ").pop()!).join(",");
  const C = "10.0.1.2";
  const S = "10.0.2.2";
  segment(c, C, S, 40000, 80, TCP_SYN, 100);
  settle(clock);
  t.is(state(), "SYN_SENT");
  t.regex(ct.format(ct.entries()[0]!), /^tcp {6}6 119 SYN_SENT src=10\.0\.1\.2 dst=10\.0\.2\.2 sport=40000 dport=80 \[UNREPLIED\] src=10\.0\.2\.2/);
  segment(s, S, C, 80, 40000, TCP_SYN | TCP_ACK, 500, 101);
  settle(clock);
  t.is(state(), "SYN_RECV");
  segment(c, C, S, 40000, 80, TCP_ACK, 101, 501);
  settle(clock);
  t.is(state(), "ESTABLISHED");
  t.regex(ct.format(ct.entries()[0]!), /^tcp {6}6 431999 ESTABLISHED .* \[ASSURED\] mark=0 use=1$/);
  segment(c, C, S, 40000, 80, TCP_FIN | TCP_ACK, 101, 501);
  settle(clock);
  t.is(state(), "FIN_WAIT");
  segment(s, S, C, 80, 40000, TCP_ACK, 501, 102);
  settle(clock);
  t.is(state(), "CLOSE_WAIT");
  segment(s, S, C, 80, 40000, TCP_FIN | TCP_ACK, 501, 102);
  settle(clock);
  t.is(state(), "LAST_ACK");
  segment(c, C, S, 40000, 80, TCP_ACK, 102, 502);
  settle(clock);
  t.is(state(), "TIME_WAIT");
  clock.runUntil(clock.now() + 121_000);
  t.is(ct.count, 0, "TIME_WAIT lasts 120 s");
});

test("a RST closes the flow for 10 s; a stray ACK of no flow starts one in the middle (tcp_loose)", (t) => {
  const { clock, client, router, server } = routed();
  ipt(router, "-A FORWARD -j ACCEPT");
  ipt(server, "-A INPUT -p tcp -j DROP");
  const ct = netfilterOf(router).conntrack;
  const c = new RawSocket(client, 6);
  segment(c, "10.0.1.2", "10.0.2.2", 40001, 22, TCP_ACK, 1, 1);
  settle(clock);
  t.is(ct.entries()[0]?.tcpStateName, "ESTABLISHED");
  segment(c, "10.0.1.2", "10.0.2.2", 40001, 22, TCP_RST, 1);
  settle(clock);
  t.is(ct.entries()[0]?.tcpStateName, "CLOSE");
  clock.runUntil(clock.now() + 11_000);
  t.is(ct.count, 0);
});

test("UDP: UNREPLIED for 30 s, then ASSURED with the stream timeout once replies keep coming", (t) => {
  const { clock, client, router, server } = routed();
  ipt(router, "-A FORWARD -j ACCEPT");
  const ct = netfilterOf(router).conntrack;
  const srv = udpSocket(server, 53);
  const cli = udpSocket(client, 50000);
  cli.sendTo(ip("10.0.2.2"), 53, bytes("q"));
  settle(clock, 100);
  t.regex(ct.format(ct.entries()[0]!), /^udp {6}17 29 src=10\.0\.1\.2 dst=10\.0\.2\.2 sport=50000 dport=53 \[UNREPLIED\] src=10\.0\.2\.2 dst=10\.0\.1\.2 sport=53 dport=50000 mark=0 use=1$/);
  const d = srv.mailbox.tryReceive()!;
  srv.sendTo(d.src, d.srcPort, bytes("a"));
  settle(clock, 100);
  t.regex(ct.format(ct.entries()[0]!), /^udp {6}17 29 src=.* dport=50000 mark=0 use=1$/, "replied, not yet a stream");
  clock.runUntil(clock.now() + 3000);
  cli.sendTo(ip("10.0.2.2"), 53, bytes("q2"));
  settle(clock, 100);
  t.regex(ct.format(ct.entries()[0]!), /^udp {6}17 119 .* \[ASSURED\] mark=0 use=1$/);
  clock.runUntil(clock.now() + 121_000);
  t.is(ct.count, 0);
});

test("a full table (nf_conntrack_max) drops new flows and says so in the kernel log, rate-limited", (t) => {
  const { kernel, clock, client, router, server } = routed();
  ipt(router, "-A FORWARD -j ACCEPT");
  router.sysctl.set("net.netfilter.nf_conntrack_max", "2");
  const ct = netfilterOf(router).conntrack;
  const srv = udpSocket(server, 9);
  // Two assured flows fill the table (early drop spares assured ones).
  for (const port of [1001, 1002]) {
    const s = udpSocket(client, port);
    s.sendTo(ip("10.0.2.2"), 9, bytes("a"));
    settle(clock, 100);
    const d = srv.mailbox.tryReceive()!;
    clock.runUntil(clock.now() + 2100);
    srv.sendTo(d.src, d.srcPort, bytes("b"));
    settle(clock, 100);
    s.sendTo(ip("10.0.2.2"), 9, bytes("c"));
    settle(clock, 100);
    srv.mailbox.tryReceive();
  }
  t.is(ct.count, 2);
  t.is(router.sysctl.get("net.netfilter.nf_conntrack_count"), "2");
  const late = udpSocket(client, 2000);
  for (let i = 0; i < 12; i++) late.sendTo(ip("10.0.2.2"), 9, bytes("dropped"));
  settle(clock, 100);
  t.is(srv.mailbox.tryReceive(), undefined, "new flows get nowhere");
  const lines = kernel.log.map((l) => l.text).filter((l) => l.includes("conntrack") || l.includes("ratelimit"));
  t.is(lines.filter((l) => l === "nf_conntrack: table full, dropping packet").length, 10);
  clock.runUntil(clock.now() + 6000);
  late.sendTo(ip("10.0.2.2"), 9, bytes("again"));
  settle(clock, 100);
  const after = kernel.log.map((l) => l.text);
  t.is(after[after.length - 2], "net_ratelimit: 2 callbacks suppressed");
  t.is(after[after.length - 1], "nf_conntrack: table full, dropping packet");
  t.throws(() => router.sysctl.set("net.netfilter.nf_conntrack_count", "0"));
});

test("RELATED: an ICMP error quoting a tracked flow matches --ctstate RELATED", (t) => {
  const { clock, client, router } = routed();
  ipt(router, "-A FORWARD -m conntrack --ctstate RELATED -j ACCEPT");
  ipt(router, "-A FORWARD -m conntrack --ctstate NEW -j ACCEPT");
  ipt(router, "-A FORWARD -j DROP");
  const cli = udpSocket(client, 44000);
  cli.sendTo(ip("10.0.2.2"), 7777, bytes("closed port"));
  settle(clock);
  t.is(cli.errors.tryReceive()?.errno, "ECONNREFUSED");
  const rules = netfilterOf(router).table("filter")!.chain("FORWARD")!.rules;
  t.deepEqual(rules.map((r) => r.counters.packets), [1, 1, 0]);
});

test("conntrack flush empties the table", (t) => {
  const { clock, client, router } = routed();
  ipt(router, "-A FORWARD -j ACCEPT");
  udpSocket(client, 1).sendTo(ip("10.0.2.2"), 9, bytes("x"));
  settle(clock);
  const ct = netfilterOf(router).conntrack;
  t.is(ct.count, 1);
  t.is(ct.flush(), 1);
  t.is(ct.count, 0);
});
