import test from "ava";
import { Ipv4Packet, parseUdp, UdpPacket } from "@kemu/wire";
import { configure, pingOnce } from "../_testing.ts";
import { TcpConnection, TcpListener } from "../tcp/tcp_socket.ts";
import { netfilterOf } from "./engine.ts";
import { bytes, drain, ip, ipt, routed, settle, udpSocket, until } from "./_testing.ts";

test("DNAT of a UDP flow: the server sees the client, the client sees the reply from the address it used", (t) => {
  const { clock, client, router, server } = routed();
  ipt(router, "-t nat -A PREROUTING -d 10.0.1.1 -p udp --dport 5000 -j DNAT --to-destination 10.0.2.2:6000");
  const srv = udpSocket(server, 6000);
  const cli = udpSocket(client, 40000);
  t.is(cli.sendTo(ip("10.0.1.1"), 5000, bytes("hello")), undefined);
  settle(clock);
  const got = srv.mailbox.tryReceive()!;
  t.truthy(got);
  t.is(got.src, ip("10.0.1.2"));
  t.is(got.srcPort, 40000);
  srv.sendTo(got.src, got.srcPort, bytes("world"));
  settle(clock);
  t.deepEqual(drain(cli), ["10.0.1.1:5000 world"]);
  const conn = netfilterOf(router).conntrack;
  t.deepEqual(
    conn.entries().map((e) => conn.format(e)),
    ["udp      17 29 src=10.0.1.2 dst=10.0.1.1 sport=40000 dport=5000 src=10.0.2.2 dst=10.0.1.2 sport=6000 dport=40000 mark=0 use=1"],
  );
});

test("DNAT of ICMP echo: the reply comes back from the address pinged", async (t) => {
  const { clock, client, router } = routed();
  ipt(router, "-t nat -A PREROUTING -d 10.0.1.1 -p icmp -j DNAT --to-destination 10.0.2.2");
  const answer = await pingOnce(clock, client, ip("10.0.1.1"));
  t.deepEqual(answer, { kind: "echo-reply", from: "10.0.1.1", ttl: 63 });
  const conn = netfilterOf(router).conntrack;
  t.deepEqual(
    conn.entries().map((e) => conn.format(e)),
    ["icmp     1 29 src=10.0.1.2 dst=10.0.1.1 type=8 code=0 id=4660 src=10.0.2.2 dst=10.0.1.2 type=0 code=0 id=4660 mark=0 use=1"],
  );
});

test("MASQUERADE takes the out device's primary address, not a secondary one", (t) => {
  const { clock, client, router, server } = routed();
  const eth1 = router.deviceByName("eth1")!;
  router.addAddress(eth1, { addr: ip("10.0.2.9"), prefixLen: 24 });
  t.true(eth1.addrs[1]!.secondary);
  ipt(router, "-t nat -A POSTROUTING -s 10.0.1.0/24 -o eth1 -j MASQUERADE");
  const srv = udpSocket(server, 7);
  udpSocket(client, 33333).sendTo(ip("10.0.2.2"), 7, bytes("x"));
  settle(clock);
  const d = srv.mailbox.tryReceive()!;
  t.is(d.src, ip("10.0.2.1"));
  t.is(d.srcPort, 33333, "the source port is kept when free");
  // Checksums of the rewritten packet are good.
  const pkt = Ipv4Packet.checked(d.packet);
  t.true(pkt.verifyChecksum());
  t.notThrows(() => parseUdp(UdpPacket.checked(pkt.payload), pkt.src, pkt.dst));
});

test("SNAT keeps the source port unless another flow holds it, then picks another", (t) => {
  const { kernel, clock, client, router, server } = routed();
  // A second client on the router's LAN side.
  const client2 = kernel.createNetns();
  const [c2, r2] = kernel.createVeth(client2, "eth0", "eth2", { peerNs: router });
  configure(client2, c2, "10.0.3.2/24");
  configure(router, r2, "10.0.3.1/24");
  client2.addRoute({ dst: 0, dstLen: 0, gateway: ip("10.0.3.1") });
  ipt(router, "-t nat -A POSTROUTING -o eth1 -j SNAT --to-source 10.0.2.1");
  const srv = udpSocket(server, 9);
  udpSocket(client, 5555).sendTo(ip("10.0.2.2"), 9, bytes("a"));
  udpSocket(client2, 5555).sendTo(ip("10.0.2.2"), 9, bytes("b"));
  settle(clock);
  const first = srv.mailbox.tryReceive()!;
  const second = srv.mailbox.tryReceive()!;
  t.is(first.src, ip("10.0.2.1"));
  t.is(first.srcPort, 5555);
  t.is(second.src, ip("10.0.2.1"));
  t.not(second.srcPort, 5555);
  t.true(second.srcPort >= 1024);
  // Replies to both reach the right client.
  const a = udpSocket(client, 0);
  void a;
  srv.sendTo(second.src, second.srcPort, bytes("to-b"));
  settle(clock);
  const c2sock = [...client2.ipv4.udpSockets.get(5555)!][0]!;
  t.deepEqual(drain(c2sock), ["10.0.2.2:9 to-b"]);
});

test("MASQUERADE --random-fully picks ports from the seeded random source, the same on every run", (t) => {
  const run = (): number => {
    const { clock, client, router, server } = routed(7);
    ipt(router, "-t nat -A POSTROUTING -o eth1 -j MASQUERADE --random-fully");
    const srv = udpSocket(server, 9);
    udpSocket(client, 4444).sendTo(ip("10.0.2.2"), 9, bytes("x"));
    settle(clock);
    return srv.mailbox.tryReceive()!.srcPort;
  };
  const a = run();
  t.not(a, 4444);
  t.is(run(), a);
});

test("an ICMP error about a masqueraded flow is translated back to the client", (t) => {
  const { clock, client, router } = routed();
  ipt(router, "-t nat -A POSTROUTING -o eth1 -j MASQUERADE");
  const cli = udpSocket(client, 45000);
  cli.sendTo(ip("10.0.2.2"), 9999, bytes("nobody listens"));
  settle(clock);
  const err = cli.errors.tryReceive();
  t.is(err?.errno, "ECONNREFUSED");
  t.is(err?.from, ip("10.0.2.2"));
});

test("REDIRECT sends a forwarded flow to the router itself", (t) => {
  const { clock, client, router } = routed();
  ipt(router, "-t nat -A PREROUTING -i eth0 -p udp --dport 53 -j REDIRECT --to-ports 5353");
  const local = udpSocket(router, 5353);
  const cli = udpSocket(client, 41000);
  cli.sendTo(ip("8.8.8.8"), 53, bytes("q"));
  settle(clock);
  const d = local.mailbox.tryReceive()!;
  t.is(d.dst, ip("10.0.1.1"));
  local.sendTo(d.src, d.srcPort, bytes("a"), { src: d.dst });
  settle(clock);
  t.deepEqual(drain(cli), ["8.8.8.8:53 a"]);
});

test("TCP through a port mapping: DNAT in, un-DNAT out, whole data both ways, good checksums", async (t) => {
  const { clock, client, router, server } = routed();
  ipt(router, "-t nat -A PREROUTING -d 10.0.1.1 -p tcp --dport 1234 -j DNAT --to-destination 10.0.2.2:80");
  ipt(router, "-A FORWARD -m conntrack --ctstate INVALID -j DROP");
  const listener = TcpListener.listen(server, 0, 80);
  const conn = await until(clock, TcpConnection.connect(client, ip("10.0.1.1"), 1234));
  const peer = (await until(clock, listener.accept()))!;
  t.is(peer.remoteAddr, ip("10.0.1.2"));
  t.is(conn.remoteAddr, ip("10.0.1.1"));
  const big = new Uint8Array(200_000).map((_, i) => (i * 7) & 255);
  const sending = conn.write(big);
  const got: number[] = [];
  while (got.length < big.length) {
    const chunk = await until(clock, peer.read());
    if (chunk === undefined) break;
    got.push(...chunk);
  }
  await until(clock, sending);
  t.is(got.length, big.length);
  t.true(got.every((b, i) => b === big[i]));
  await until(clock, peer.write(bytes("HTTP/1.1 200 OK\r\n\r\n")));
  t.deepEqual(new TextDecoder().decode(await until(clock, conn.read())), "HTTP/1.1 200 OK\r\n\r\n");
  const ct = netfilterOf(router).conntrack;
  const lines = ct.entries().map((e) => ct.format(e));
  t.is(lines.length, 1);
  t.regex(lines[0]!, /^tcp {6}6 431999 ESTABLISHED src=10\.0\.1\.2 dst=10\.0\.1\.1 sport=\d+ dport=1234 src=10\.0\.2\.2 dst=10\.0\.1\.2 sport=80 dport=\d+ \[ASSURED\] mark=0 use=1$/);
  t.is(netfilterOf(router).table("filter")!.chain("FORWARD")!.rules[0]!.counters.packets, 0, "no packet was INVALID");
});

test("OUTPUT DNAT to a local address goes through lo and the reply comes back from the address used", (t) => {
  const { clock, client } = routed();
  ipt(client, "-t nat -A OUTPUT -d 10.96.0.10 -p udp --dport 53 -j DNAT --to-destination 127.0.0.1:5353");
  const local = udpSocket(client, 5353);
  const cli = udpSocket(client, 42000);
  cli.sendTo(ip("10.96.0.10"), 53, bytes("q"));
  settle(clock);
  const d = local.mailbox.tryReceive()!;
  t.truthy(d);
  t.is(d.dst, ip("127.0.0.1"));
  local.sendTo(d.src, d.srcPort, bytes("a"), { src: d.dst });
  settle(clock);
  t.deepEqual(drain(cli), ["10.96.0.10:53 a"]);
  t.is(netfilterOf(client).conntrack.count, 1);
});
