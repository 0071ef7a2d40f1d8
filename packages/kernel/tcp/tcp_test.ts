import test from "ava";
import { TCP_ACK, TCP_RST, TCP_SYN } from "@kemu/wire";
import { configure, testKernel } from "../_testing.ts";
import { KernelError } from "../errno.ts";
import { advance, flagText, ip, settle, tcpPair, watchTcp } from "./_testing.ts";
import { tcpOf } from "./tcp.ts";
import { TcpConnection, TcpListener } from "./tcp_socket.ts";

const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));
const bytes = (s: string) => new TextEncoder().encode(s);

function statesOf(ns: Parameters<typeof tcpOf>[0]): string[] {
  return tcpOf(ns)
    .sockets()
    .filter((s) => s.state !== "LISTEN")
    .map((s) => s.state);
}

test("the three-way handshake carries Linux's SYN options and windows", async (t) => {
  const { clock, a, b, ea } = tcpPair();
  const seen = watchTcp(ea);
  const listener = TcpListener.listen(b, 0, 80);
  const client = await settle(clock, TcpConnection.connect(a, ip("10.0.0.2"), 80));
  const server = await settle(clock, listener.accept());
  t.truthy(server);
  t.is(client.state, "ESTAB");
  t.is(server!.state, "ESTAB");
  const [syn, synAck, ack] = seen;
  t.is(flagText(syn!.repr.flags), "S");
  t.is(syn!.repr.window, 64240);
  t.is(syn!.repr.options.mss, 1460);
  t.true(syn!.repr.options.sackPermitted);
  t.is(syn!.repr.options.windowScale, 7);
  t.is(syn!.repr.options.timestamp?.tsecr, 0);
  t.is(flagText(synAck!.repr.flags), "S.");
  t.is(synAck!.repr.window, 65160);
  t.is(synAck!.repr.ack, (syn!.repr.seq + 1) >>> 0);
  t.is(synAck!.repr.options.timestamp?.tsecr, syn!.repr.options.timestamp?.tsval);
  t.is(flagText(ack!.repr.flags), ".");
  t.is(ack!.repr.window, 502, "64240 rounded up to the 128-byte scale unit, as Linux");
  t.is(client.tcb.mss, 1448, "1460 less the timestamps option");
  t.true(client.localPort >= 32768 && client.localPort <= 60999);
  t.is(server!.remotePort, client.localPort);
});

test("ISNs and ephemeral ports come from the seeded rng: a run repeats exactly", async (t) => {
  const run = async () => {
    const { clock, a, b, ea } = tcpPair(7);
    const seen = watchTcp(ea);
    TcpListener.listen(b, 0, 80);
    await settle(clock, TcpConnection.connect(a, ip("10.0.0.2"), 80));
    return seen.map((s) => [s.repr.srcPort, s.repr.seq, s.repr.ack]);
  };
  t.deepEqual(await run(), await run());
});

test("an active close walks FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT; the passive side CLOSE-WAIT, LAST-ACK", async (t) => {
  const { clock, a, b } = tcpPair();
  const listener = TcpListener.listen(b, 0, 80);
  const client = await settle(clock, TcpConnection.connect(a, ip("10.0.0.2"), 80));
  const server = (await settle(clock, listener.accept()))!;
  const clientStates: string[] = [];
  const serverStates: string[] = [];
  const note = () => {
    clientStates.push(client.state);
    serverStates.push(server.state);
  };
  note();
  client.close();
  note(); // FIN sent, not yet acknowledged
  await advance(clock, 1);
  note(); // FIN acknowledged, server saw EOF
  t.is(await settle(clock, server.read()), undefined);
  server.close();
  note();
  await advance(clock, 1);
  note();
  t.deepEqual(clientStates, ["ESTAB", "FIN-WAIT-1", "FIN-WAIT-2", "FIN-WAIT-2", "TIME-WAIT"]);
  t.deepEqual(serverStates, ["ESTAB", "ESTAB", "CLOSE-WAIT", "LAST-ACK", "CLOSED"]);
  t.deepEqual(statesOf(b), []);
});

test("TIME-WAIT lasts 60 s of emulated time", async (t) => {
  const { clock, a, b } = tcpPair();
  const listener = TcpListener.listen(b, 0, 80);
  const client = await settle(clock, TcpConnection.connect(a, ip("10.0.0.2"), 80));
  const server = (await settle(clock, listener.accept()))!;
  client.close();
  await advance(clock, 1);
  server.close();
  await advance(clock, 1);
  const entered = clock.now();
  t.deepEqual(statesOf(a), ["TIME-WAIT"]);
  const tw = tcpOf(a).sockets()[0]!;
  t.is(tw.timer.kind, "timewait");
  t.true(Math.abs(tw.timer.expiresMs - 60_000) < 2);
  await advance(clock, 59_000);
  t.deepEqual(statesOf(a), ["TIME-WAIT"]);
  await advance(clock, 1_100);
  t.deepEqual(statesOf(a), []);
  t.true(clock.now() - entered >= 60_000);
});

test("simultaneous close passes through CLOSING on both sides", async (t) => {
  const { clock, a, b } = tcpPair();
  const listener = TcpListener.listen(b, 0, 80);
  const client = await settle(clock, TcpConnection.connect(a, ip("10.0.0.2"), 80));
  const server = (await settle(clock, listener.accept()))!;
  client.shutdownWrite();
  server.shutdownWrite();
  clock.runUntil(clock.now() + 0.005); // both FINs crossed, ACKs not yet in
  t.is(client.state, "CLOSING");
  t.is(server.state, "CLOSING");
  await advance(clock, 1);
  t.is(client.state, "TIME-WAIT");
  t.is(server.state, "TIME-WAIT");
});

test("half-close: the server answers after the client's FIN and the client reads it", async (t) => {
  const { clock, a, b } = tcpPair();
  const listener = TcpListener.listen(b, 0, 7);
  const served = (async () => {
    const conn = (await listener.accept())!;
    const chunks: Uint8Array[] = [];
    for (let c = await conn.read(); c !== undefined; c = await conn.read()) chunks.push(c);
    const got = text(Buffer.concat(chunks));
    await conn.write(bytes(`you said: ${got}`));
    conn.close();
  })();
  const client = await settle(clock, TcpConnection.connect(a, ip("10.0.0.2"), 7));
  await settle(clock, client.write(bytes("hello")));
  client.shutdownWrite();
  const reply = await settle(clock, client.read());
  t.is(text(reply), "you said: hello");
  t.is(await settle(clock, client.read()), undefined);
  await settle(clock, served);
});

test("a SYN to a closed port is answered with RST|ACK and connect fails with ECONNREFUSED", async (t) => {
  const { clock, a, ea } = tcpPair();
  const seen = watchTcp(ea);
  const err = await t.throwsAsync(settle(clock, TcpConnection.connect(a, ip("10.0.0.2"), 81)));
  t.true(err instanceof KernelError);
  t.is((err as KernelError).errno, "ECONNREFUSED");
  const rst = seen.find((s) => s.dir === "in")!;
  t.is(rst.repr.flags, TCP_RST | TCP_ACK);
  t.is(rst.repr.seq, 0);
  t.is(rst.repr.ack, (seen[0]!.repr.seq + 1) >>> 0);
  t.is(tcpOf(a).stats.attemptFails, 1);
});

test("a segment for a connection the peer forgot gets a RST at its acknowledgment number", async (t) => {
  const { clock, a, b, ea } = tcpPair();
  const listener = TcpListener.listen(b, 0, 80);
  const client = await settle(clock, TcpConnection.connect(a, ip("10.0.0.2"), 80));
  const server = (await settle(clock, listener.accept()))!;
  server.tcb.discard(); // the server loses the connection without a word (a reboot)
  const seen = watchTcp(ea);
  await settle(clock, client.write(bytes("anyone?")));
  const err = await t.throwsAsync(settle(clock, client.read()));
  t.is((err as KernelError).errno, "ECONNRESET");
  const [data, rst] = seen;
  t.is(flagText(data!.repr.flags), "P.");
  t.is(rst!.repr.flags, TCP_RST);
  t.is(rst!.repr.seq, data!.repr.ack);
});

test("SYN retries back off 1, 3, 7, 15, 31, 63 s and connect gives ETIMEDOUT at 127 s", async (t) => {
  const { clock, a, ea, eb } = tcpPair();
  // The peer's firewall drops TCP silently; ARP still works.
  eb.faults = { rng: a.kernel.rng, drop: () => false };
  ea.faults = { rng: a.kernel.rng, drop: (f) => f[12] === 0x08 && f[13] === 0x00 && f[23] === 6 };
  const seen = watchTcp(ea);
  const start = clock.now();
  const err = await t.throwsAsync(settle(clock, TcpConnection.connect(a, ip("10.0.0.2"), 80)));
  t.is((err as KernelError).errno, "ETIMEDOUT");
  const syns = seen.filter((s) => s.dir === "out" && s.repr.flags === TCP_SYN).map((s) => Math.round((s.time - start) / 1000));
  t.deepEqual(syns, [0, 1, 3, 7, 15, 31, 63]);
  t.is(Math.round((clock.now() - start) / 1000), 127);
});

test("net.ipv4.tcp_syn_retries sets how many SYNs go out", async (t) => {
  const { clock, a, ea } = tcpPair();
  a.sysctl.set("net.ipv4.tcp_syn_retries", "2");
  ea.faults = { rng: a.kernel.rng, drop: (f) => f[23] === 6 };
  const start = clock.now();
  const err = await t.throwsAsync(settle(clock, TcpConnection.connect(a, ip("10.0.0.2"), 80)));
  t.is((err as KernelError).errno, "ETIMEDOUT");
  t.is(Math.round((clock.now() - start) / 1000), 7);
});

test("a connect timeout gives up early with ETIMEDOUT and forgets the connection", async (t) => {
  const { clock, a, ea } = tcpPair();
  ea.faults = { rng: a.kernel.rng, drop: (f) => f[23] === 6 };
  const err = await t.throwsAsync(settle(clock, TcpConnection.connect(a, ip("10.0.0.2"), 80, { timeoutMs: 2_000 })));
  t.is((err as KernelError).errno, "ETIMEDOUT");
  t.is(Math.round(clock.now()), 2_000);
  t.deepEqual(statesOf(a), []);
});

test("an unanswered ARP turns into EHOSTUNREACH after the neighbour's retries", async (t) => {
  const { clock, a } = tcpPair();
  const start = clock.now();
  const err = await t.throwsAsync(settle(clock, TcpConnection.connect(a, ip("10.0.0.99"), 80)));
  t.is((err as KernelError).errno, "EHOSTUNREACH");
  const took = clock.now() - start;
  t.true(took >= 2_900 && took < 4_000, `took ${took} ms`);
});

test("no route gives ENETUNREACH at once", async (t) => {
  const { clock, a } = tcpPair();
  const err = await t.throwsAsync(settle(clock, TcpConnection.connect(a, ip("192.0.2.1"), 80)));
  t.is((err as KernelError).errno, "ENETUNREACH");
  t.is(clock.now(), 0);
});

test("a second listener on the same port is EADDRINUSE; a specific address under a wildcard too", (t) => {
  const { b } = tcpPair();
  TcpListener.listen(b, 0, 80);
  t.is(t.throws(() => TcpListener.listen(b, 0, 80), { instanceOf: KernelError })?.errno, "EADDRINUSE");
  t.is(t.throws(() => TcpListener.listen(b, ip("10.0.0.2"), 80), { instanceOf: KernelError })?.errno, "EADDRINUSE");
  t.is(t.throws(() => TcpListener.listen(b, ip("10.0.0.7"), 81), { instanceOf: KernelError })?.errno, "EADDRNOTAVAIL");
  const l = TcpListener.listen(b, ip("10.0.0.2"), 81);
  l.close();
  TcpListener.listen(b, 0, 81);
  t.pass();
});

test("a full accept queue drops SYNs; the retried SYN gets in once accept makes room", async (t) => {
  const { clock, a, b } = tcpPair();
  const listener = TcpListener.listen(b, 0, 80, { backlog: 0 });
  const first = await settle(clock, TcpConnection.connect(a, ip("10.0.0.2"), 80));
  t.is(first.state, "ESTAB");
  const start = clock.now();
  const second = TcpConnection.connect(a, ip("10.0.0.2"), 80);
  await advance(clock, 500);
  t.deepEqual(statesOf(a).sort(), ["ESTAB", "SYN-SENT"]);
  t.is(tcpOf(b).stats.listenDrops, 1);
  t.deepEqual(tcpOf(b).sockets().find((s) => s.state === "LISTEN")?.recvQ, 1);
  await settle(clock, listener.accept());
  const conn = await settle(clock, second);
  t.is(conn.state, "ESTAB");
  t.is(Math.round((clock.now() - start) / 1000), 1, "in on the first SYN retry");
});

test("abort sends a RST: the peer's read fails with ECONNRESET, its write with EPIPE-like errors", async (t) => {
  const { clock, a, b } = tcpPair();
  const listener = TcpListener.listen(b, 0, 80);
  const client = await settle(clock, TcpConnection.connect(a, ip("10.0.0.2"), 80));
  const server = (await settle(clock, listener.accept()))!;
  const pending = server.read();
  client.abort();
  const err = await t.throwsAsync(settle(clock, pending));
  t.is((err as KernelError).errno, "ECONNRESET");
  t.is(server.state, "CLOSED");
  t.is((await t.throwsAsync(server.write(bytes("x"))) as KernelError).errno, "ECONNRESET");
  t.is(tcpOf(b).stats.estabResets, 1);
});

test("closing with unread data resets the connection, as tcp_close does", async (t) => {
  const { clock, a, b, ea } = tcpPair();
  const listener = TcpListener.listen(b, 0, 80);
  const client = await settle(clock, TcpConnection.connect(a, ip("10.0.0.2"), 80));
  const server = (await settle(clock, listener.accept()))!;
  await settle(clock, server.write(bytes("unwanted")));
  await advance(clock, 1);
  const seen = watchTcp(ea);
  client.close();
  await advance(clock, 1);
  t.is(flagText(seen[0]!.repr.flags), "R.");
  t.is((await t.throwsAsync(settle(clock, server.read())) as KernelError).errno, "ECONNRESET");
});

test("connections in one namespace over lo use the loopback MTU's MSS", async (t) => {
  const { kernel, clock } = testKernel();
  const ns = kernel.createNetns();
  const dummy = kernel.createDummy(ns, "dummy0");
  configure(ns, dummy, "10.9.0.1/24");
  const listener = TcpListener.listen(ns, 0, 8080);
  const client = await settle(clock, TcpConnection.connect(ns, ip("127.0.0.1"), 8080));
  const server = (await settle(clock, listener.accept()))!;
  t.is(client.localAddr, ip("127.0.0.1"));
  t.is(client.tcb.advMss, 65495);
  await settle(clock, client.write(bytes("ping")));
  t.is(text(await settle(clock, server.read())), "ping");
  const toSelf = await settle(clock, TcpConnection.connect(ns, ip("10.9.0.1"), 8080));
  t.is(toSelf.localAddr, ip("10.9.0.1"));
});

test("the listing shows listeners first with their backlog, then connections with their queues", async (t) => {
  const { clock, a, b } = tcpPair();
  TcpListener.listen(b, 0, 80, { backlog: 511 });
  const client = await settle(clock, TcpConnection.connect(a, ip("10.0.0.2"), 80));
  await settle(clock, client.write(bytes("GET / HTTP/1.1\r\n\r\n")));
  await advance(clock, 1);
  const rows = tcpOf(b).sockets().map((s) => `${s.state} ${s.recvQ} ${s.sendQ} ${s.localAddr === 0 ? "*" : s.localAddr}:${s.localPort}`);
  t.deepEqual(rows, ["LISTEN 1 511 *:80", `ESTAB 18 0 ${ip("10.0.0.2")}:80`], "the connection waits in the accept queue with its data");
});

test("a RST in the window but not at RCV.NXT only earns a challenge ACK (RFC 5961)", async (t) => {
  const { clock, a, b, eb } = tcpPair();
  const listener = TcpListener.listen(b, 0, 80);
  const client = await settle(clock, TcpConnection.connect(a, ip("10.0.0.2"), 80));
  await settle(clock, listener.accept());
  const seen = watchTcp(eb);
  const tcb = client.tcb;
  tcpOf(b).transmit(ip("10.0.0.2"), ip("10.0.0.1"), {
    srcPort: 80,
    dstPort: client.localPort,
    seq: (tcb.rcvNxt + 100) >>> 0,
    ack: 0,
    flags: TCP_RST,
    window: 0,
    urgent: 0,
    options: {},
  }, 0, undefined);
  await advance(clock, 1);
  t.is(client.state, "ESTAB");
  t.is(flagText(seen.find((s) => s.dir === "in")!.repr.flags), ".");
});
