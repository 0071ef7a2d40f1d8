import test from "ava";
import { createHash } from "node:crypto";
import { Rng } from "../random.ts";
import { ip, seededBytes, settle, tcpPair } from "./_testing.ts";
import { tcpOf } from "./tcp.ts";
import { TcpConnection, TcpListener } from "./tcp_socket.ts";

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/**
 * Sends `size` seeded bytes from a to b over the faulty link, reading in
 * 64 KiB gulps, and returns what arrived plus timings.
 */
async function transfer(
  size: number,
  faults: { loss: number; duplicate: number; reorder: number; rateBps?: number; latencyMs?: number },
  options: { tso?: boolean } = {},
) {
  const { clock, a, b, ea, eb } = tcpPair(11);
  ea.features.tso = options.tso ?? true;
  eb.features.tso = options.tso ?? true;
  const rng = new Rng(2026);
  ea.faults = { rng, reorderMs: 0.5, ...faults };
  eb.faults = { rng, reorderMs: 0.5, ...faults };
  const payload = seededBytes(size, 0x5eed);
  const listener = TcpListener.listen(b, 0, 5001);
  const wallStart = performance.now();
  const received = (async () => {
    const conn = (await listener.accept())!;
    const chunks: Uint8Array[] = [];
    for (let c = await conn.read(65536); c !== undefined; c = await conn.read(65536)) chunks.push(c);
    conn.close();
    return Buffer.concat(chunks);
  })();
  const start = clock.now();
  const sent = (async () => {
    const conn = await TcpConnection.connect(a, ip("10.0.0.2"), 5001);
    for (let off = 0; off < size; off += 65536) await conn.write(payload.subarray(off, off + 65536));
    conn.close();
    return conn;
  })();
  const [got, conn] = await settle(clock, Promise.all([received, sent]));
  return {
    payload,
    got,
    emulatedMs: clock.now() - start,
    wallMs: performance.now() - wallStart,
    retransmits: conn.tcb.retransmits,
    stats: { ab: ea.faultStats, ba: eb.faultStats },
    outSegs: tcpOf(a).stats.outSegs,
  };
}

test("4 MiB arrive whole and in order across a link that loses, duplicates and reorders frames", async (t) => {
  const size = 4 << 20;
  const r = await transfer(size, { loss: 0.02, duplicate: 0.02, reorder: 0.05 });
  t.is(r.got.length, size);
  t.is(sha(r.got), sha(r.payload));
  const { sent, lost, duplicated, reordered } = r.stats.ab;
  t.true(lost > sent * 0.01 && duplicated > sent * 0.01 && reordered > sent * 0.03, JSON.stringify(r.stats));
  t.true(r.retransmits >= r.stats.ab.lost / 2);
  t.log(
    `4 MiB, 2% loss, 2% dup, 5% reorder: ${r.emulatedMs.toFixed(1)} ms emulated ` +
      `(${(size / 1e6 / (r.emulatedMs / 1000)).toFixed(1)} MB/s), ${r.wallMs.toFixed(0)} ms wall; ` +
      `${r.outSegs} segments, ${r.retransmits} retransmitted; faults a→b ${JSON.stringify(r.stats.ab)}`,
  );
});

test("4 MiB arrive whole across a lossy link without TSO: super-packets are segmented, and each wire frame meets the faults", async (t) => {
  const size = 4 << 20;
  const r = await transfer(size, { loss: 0.02, duplicate: 0.02, reorder: 0.05 }, { tso: false });
  t.is(sha(r.got), sha(r.payload));
  const { sent, lost } = r.stats.ab;
  // Wire frames, not super-packets: at least one per MSS of data.
  t.true(sent >= size / 1448, JSON.stringify(r.stats));
  t.true(lost > sent * 0.01, JSON.stringify(r.stats));
});

test("4 MiB over a clean 1 Gbit/s link with 0.1 ms latency", async (t) => {
  const size = 4 << 20;
  const r = await transfer(size, { loss: 0, duplicate: 0, reorder: 0, rateBps: 1e9, latencyMs: 0.1 });
  t.is(sha(r.got), sha(r.payload));
  t.is(r.retransmits, 0);
  t.log(`4 MiB clean 1 Gbit/s: ${r.emulatedMs.toFixed(1)} ms emulated (${(size / 1e6 / (r.emulatedMs / 1000)).toFixed(1)} MB/s), ${r.wallMs.toFixed(0)} ms wall`);
});

test("a lossy 1 Gbit/s link with latency still delivers everything", async (t) => {
  const size = 2 << 20;
  const r = await transfer(size, { loss: 0.02, duplicate: 0.02, reorder: 0.05, rateBps: 1e9, latencyMs: 0.1 });
  t.is(sha(r.got), sha(r.payload));
  t.log(`2 MiB lossy 1 Gbit/s: ${r.emulatedMs.toFixed(1)} ms emulated (${(size / 1e6 / (r.emulatedMs / 1000)).toFixed(1)} MB/s), ${r.wallMs.toFixed(0)} ms wall, ${r.retransmits} retransmits`);
});
