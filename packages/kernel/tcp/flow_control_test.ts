import test from "ava";
import { createHash } from "node:crypto";
import { advance, ip, seededBytes, settle, tcpPair, watchTcp } from "./_testing.ts";
import { tcpOf } from "./tcp.ts";
import { TcpConnection, TcpListener } from "./tcp_socket.ts";

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

test("a reader that stops reading closes the window and stalls the writer; reading again resumes it", async (t) => {
  const { clock, a, b, ea } = tcpPair();
  const listener = TcpListener.listen(b, 0, 5001);
  const client = await settle(clock, TcpConnection.connect(a, ip("10.0.0.2"), 5001));
  const server = (await settle(clock, listener.accept()))!;
  const seen = watchTcp(ea);
  const payload = seededBytes(1 << 20, 42);
  let written = false;
  const writing = client.write(payload).then(() => {
    written = true;
  });
  await advance(clock, 10_000);
  t.false(written, "the writer is blocked");
  const [serverRow] = tcpOf(b).sockets().filter((s) => s.state === "ESTAB");
  const [clientRow] = tcpOf(a).sockets();
  t.true(serverRow!.recvQ > 60_000 && serverRow!.recvQ <= 65_160, `receive queue ${serverRow!.recvQ}`);
  t.is(clientRow!.sendQ, client.tcb.sndBufLimit, "the send buffer is full");
  const zeroWindow = seen.filter((s) => s.dir === "in" && s.repr.window === 0 && !(s.repr.flags & 0x02));
  t.true(zeroWindow.length > 0, "the receiver advertised a zero window");
  const probes = seen.filter((s) => s.dir === "out" && s.len === 0 && s.repr.seq === ((client.tcb.sndUna - 1) >>> 0));
  t.true(probes.length >= 3, `zero-window probes: ${probes.length}`);
  // Probes back off: each gap at least as long as the one before.
  const gaps = probes.slice(1).map((p, i) => p.time - probes[i]!.time);
  t.true(gaps.every((g, i) => i === 0 || g >= gaps[i - 1]! - 1), `gaps ${gaps.map(Math.round).join(",")}`);
  t.is(clientRow!.timer.kind, "persist");

  const chunks: Uint8Array[] = [];
  const reading = (async () => {
    for (let c = await server.read(); c !== undefined; c = await server.read()) chunks.push(c);
  })();
  await settle(clock, writing);
  client.close();
  await settle(clock, reading);
  t.is(sha(Buffer.concat(chunks)), sha(payload));
});

test("the sender never puts more in flight than the peer's window", async (t) => {
  const { clock, a, b, ea } = tcpPair();
  const listener = TcpListener.listen(b, 0, 5001);
  const client = await settle(clock, TcpConnection.connect(a, ip("10.0.0.2"), 5001));
  const server = (await settle(clock, listener.accept()))!;
  const seen = watchTcp(ea);
  const payload = seededBytes(512 * 1024, 3);
  const writing = client.write(payload).then(() => client.close());
  const chunks: Uint8Array[] = [];
  const reading = (async () => {
    // A slow reader: 4 KiB every 5 ms.
    for (;;) {
      const c = await server.read(4096);
      if (c === undefined) break;
      chunks.push(c);
      await new Promise<void>((r) => clock.setTimer(5, r));
    }
  })();
  await settle(clock, Promise.all([writing, reading]));
  t.is(sha(Buffer.concat(chunks)), sha(payload));
  // Replay the trace: the right edge of what was sent never passes the right edge offered.
  let edge = 0;
  let violations = 0;
  for (const s of seen) {
    if (s.dir === "in") {
      const e = (s.repr.ack + s.repr.window * 128) >>> 0;
      if (edge === 0 || ((e - edge) | 0) > 0) edge = e;
    } else if (s.len > 0 && edge !== 0 && ((((s.repr.seq + s.len) >>> 0) - edge) | 0) > 0) {
      violations++;
    }
  }
  t.is(violations, 0);
});

/** 16 MiB from a to b over a 1 Gbit/s link 1 ms away (a 250 kB bandwidth-delay product), read as fast as it comes; the windows b advertised, in bytes. */
async function bulkWindows(options: { rcvBuf?: number; rmem?: string; moderate?: string } = {}): Promise<{ windows: number[]; rcvBuf: number; intact: boolean }> {
  const { clock, a, b, ea, eb } = tcpPair();
  ea.faults = { rng: a.kernel.rng, latencyMs: 1, rateBps: 1e9 };
  eb.faults = { rng: b.kernel.rng, latencyMs: 1 };
  if (options.rmem) b.sysctl.set("net.ipv4.tcp_rmem", options.rmem);
  if (options.moderate) b.sysctl.set("net.ipv4.tcp_moderate_rcvbuf", options.moderate);
  const listener = TcpListener.listen(b, 0, 5001, options.rcvBuf === undefined ? {} : { rcvBuf: options.rcvBuf });
  const client = await settle(clock, TcpConnection.connect(a, ip("10.0.0.2"), 5001));
  const server = (await settle(clock, listener.accept()))!;
  const seen = watchTcp(ea);
  const payload = seededBytes(16 << 20, 7);
  const writing = client.write(payload).then(() => client.close());
  const chunks: Uint8Array[] = [];
  const reading = (async () => {
    for (let c = await server.read(); c !== undefined; c = await server.read()) chunks.push(c);
  })();
  await settle(clock, Promise.all([writing, reading]));
  const scale = 2 ** server.tcb.rcvWscale;
  const windows = seen.filter((s) => s.dir === "in" && !(s.repr.flags & 0x02)).map((s) => s.repr.window * scale);
  return { windows, rcvBuf: server.tcb.rcvBuf, intact: sha(Buffer.concat(chunks)) === sha(payload) };
}

test("receive-buffer autotuning grows the advertised window during a bulk transfer, up to tcp_rmem[2]", async (t) => {
  const { windows, rcvBuf, intact } = await bulkWindows({ rmem: "4096\t131072\t1048576" });
  t.true(intact);
  const first = windows[0]!;
  const most = Math.max(...windows);
  t.true(first <= 65535, `the first window ${first}`);
  t.true(most > 4 * 65535, `the window grew to ${most}`);
  // sk_rcvbuf stops at tcp_rmem[2]; the window offers half of it (tcp_adv_win_scale 1).
  t.is(rcvBuf, 1048576);
  t.true(most <= 1048576 / 2, `the window stayed within half of tcp_rmem[2]: ${most}`);
});

test("a socket with SO_RCVBUF set, or with tcp_moderate_rcvbuf 0, keeps its window", async (t) => {
  const locked = await bulkWindows({ rcvBuf: 65536 });
  t.true(locked.intact);
  t.is(locked.rcvBuf, 131072, "SO_RCVBUF 65536 is doubled");
  t.true(Math.max(...locked.windows) <= 65536, `window ${Math.max(...locked.windows)}`);
  const off = await bulkWindows({ moderate: "0" });
  t.true(off.intact);
  t.is(off.rcvBuf, 131072, "tcp_rmem[1], untouched");
  t.true(Math.max(...off.windows) <= 65536, `window ${Math.max(...off.windows)}`);
});
