import test from "ava";
import { KernelError } from "../errno.ts";
import { advance, ip, settle, tcpPair, watchTcp } from "./_testing.ts";
import { TcpConnection, TcpListener } from "./tcp_socket.ts";

const bytes = (s: string) => new TextEncoder().encode(s);
const isTcpData = (f: Uint8Array) => f[23] === 6 && f.length > 66;

test("a lost segment is retransmitted after the 200 ms minimum RTO, then the RTO doubles", async (t) => {
  const { clock, a, b, ea } = tcpPair();
  const listener = TcpListener.listen(b, 0, 80);
  const client = await settle(clock, TcpConnection.connect(a, ip("10.0.0.2"), 80));
  const server = (await settle(clock, listener.accept()))!;
  let drops = 3;
  ea.faults = { rng: a.kernel.rng, drop: (f) => isTcpData(f) && drops-- > 0 };
  const seen = watchTcp(ea);
  const start = clock.now();
  await settle(clock, client.write(bytes("once more")));
  t.is(new TextDecoder().decode(await settle(clock, server.read())), "once more");
  const sends = seen.filter((s) => s.dir === "out" && s.len > 0).map((s) => Math.round(s.time - start));
  // The handshake measured an RTT of microseconds: RTO = 200 ms, then 400, 800.
  t.deepEqual(sends, [0, 200, 600, 1400]);
  t.is(client.tcb.retransmits, 3);
  t.is(client.tcb.rto.backoffs, 3);
  await advance(clock, 100); // the delayed ACK comes back
  t.is(client.tcb.rto.backoffs, 0, "the backoff is forgotten once the data is acknowledged");
  t.true(client.tcb.rto.rto < 201);
});

test("after tcp_retries2 retransmissions the connection fails with ETIMEDOUT", async (t) => {
  const { clock, a, b, ea } = tcpPair();
  a.sysctl.set("net.ipv4.tcp_retries2", "3");
  const listener = TcpListener.listen(b, 0, 80);
  const client = await settle(clock, TcpConnection.connect(a, ip("10.0.0.2"), 80));
  await settle(clock, listener.accept());
  ea.faults = { rng: a.kernel.rng, drop: isTcpData };
  const start = clock.now();
  await settle(clock, client.write(bytes("into the void")));
  const err = await t.throwsAsync(settle(clock, client.read()));
  t.is((err as KernelError).errno, "ETIMEDOUT");
  t.is(Math.round(clock.now() - start), 200 + 400 + 800 + 1600);
  t.is(client.state, "CLOSED");
});

test("without window scaling or timestamps on one side, neither is used", async (t) => {
  const { clock, a, b, ea } = tcpPair();
  b.sysctl.set("net.ipv4.tcp_window_scaling", "0");
  b.sysctl.set("net.ipv4.tcp_timestamps", "0");
  const seen = watchTcp(ea);
  const listener = TcpListener.listen(b, 0, 80);
  const client = await settle(clock, TcpConnection.connect(a, ip("10.0.0.2"), 80));
  const server = (await settle(clock, listener.accept()))!;
  const synAck = seen.find((s) => s.dir === "in")!;
  t.is(synAck.repr.options.windowScale, undefined);
  t.is(synAck.repr.options.timestamp, undefined);
  t.true(synAck.repr.options.sackPermitted);
  t.is(synAck.repr.window, 64240, "no timestamps: the window rounds to 1460-byte segments");
  t.is(client.tcb.mss, 1460);
  t.is(client.tcb.rcvWscale, 0);
  const big = new Uint8Array(300_000).map((_, i) => i * 7);
  const got: Uint8Array[] = [];
  const reading = (async () => {
    for (let c = await server.read(); c !== undefined; c = await server.read()) got.push(c);
  })();
  await settle(clock, client.write(big));
  client.close();
  await settle(clock, reading);
  t.true(Buffer.concat(got).equals(Buffer.from(big)));
  t.true(seen.filter((s) => s.dir === "in").every((s) => s.repr.window <= 65535 && s.repr.options.timestamp === undefined));
});

test("a FIN-WAIT-2 left by close() times out after tcp_fin_timeout", async (t) => {
  const { clock, a, b } = tcpPair();
  a.sysctl.set("net.ipv4.tcp_fin_timeout", "30");
  const listener = TcpListener.listen(b, 0, 80);
  const client = await settle(clock, TcpConnection.connect(a, ip("10.0.0.2"), 80));
  await settle(clock, listener.accept());
  client.close(); // the server never closes its side
  await advance(clock, 1);
  t.is(client.state, "FIN-WAIT-2");
  await advance(clock, 29_000);
  t.is(client.state, "FIN-WAIT-2");
  await advance(clock, 1_100);
  t.is(client.state, "CLOSED");
});
