/**
 * Topologies and probes for the netfilter tests: a client and a server on
 * either side of a router namespace, helpers to run iptables commands and to
 * exchange UDP datagrams on the emulated clock.
 */
import { formatIpv4Addr, type Ipv4Addr, parseIpv4Addr } from "@kemu/wire";
import { configure, testKernel } from "../_testing.ts";
import type { EventLoop } from "../clock.ts";
import type { Kernel } from "../kernel.ts";
import type { NetNs } from "../netns.ts";
import { UdpSocket } from "../socket.ts";
import { runIptables } from "./command.ts";
import { netfilterOf } from "./engine.ts";

/** An address from text. */
export const ip = (s: string): Ipv4Addr => parseIpv4Addr(s)!;

/** client 10.0.1.2 — (eth0 10.0.1.1) router (eth1 10.0.2.1) — server 10.0.2.2, forwarding on. */
export function routed(seed = 1): { kernel: Kernel; clock: EventLoop; client: NetNs; router: NetNs; server: NetNs } {
  const { kernel, clock } = testKernel(seed);
  const client = kernel.createNetns();
  const router = kernel.createNetns();
  const server = kernel.createNetns();
  const [c0, r0] = kernel.createVeth(client, "eth0", "eth0", { peerNs: router });
  const [s0, r1] = kernel.createVeth(server, "eth0", "eth1", { peerNs: router });
  configure(client, c0, "10.0.1.2/24");
  configure(router, r0, "10.0.1.1/24");
  configure(router, r1, "10.0.2.1/24");
  configure(server, s0, "10.0.2.2/24");
  client.addRoute({ dst: 0, dstLen: 0, gateway: ip("10.0.1.1") });
  server.addRoute({ dst: 0, dstLen: 0, gateway: ip("10.0.2.1") });
  router.sysctl.set("net.ipv4.ip_forward", "1");
  return { kernel, clock, client, router, server };
}

/** Runs `iptables ARGS…` (split on spaces) in a namespace. */
export function ipt(ns: NetNs, line: string): string {
  return runIptables(netfilterOf(ns), line.split(" ").filter((w) => w !== ""));
}

/** A UDP socket bound to `port` (0: ephemeral) on any address. */
export function udpSocket(ns: NetNs, port = 0): UdpSocket {
  const s = new UdpSocket(ns);
  const err = s.bind(0, port);
  if (err) throw new Error(err);
  return s;
}

/** Runs the clock until nothing is pending or `ms` passed. */
export function settle(clock: EventLoop, ms = 2000): void {
  const until = clock.now() + ms;
  for (;;) {
    const next = clock.nextAt();
    if (next === undefined || next > until) break;
    clock.runUntil(next);
  }
}

/** Every datagram waiting in a socket, as `src:port text`. */
export function drain(s: UdpSocket): string[] {
  const out: string[] = [];
  for (let d = s.mailbox.tryReceive(); d; d = s.mailbox.tryReceive()) {
    out.push(`${formatIpv4Addr(d.src)}:${d.srcPort} ${new TextDecoder().decode(d.data)}`);
  }
  return out;
}

/** Bytes of a text. */
export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Runs the clock, letting promise continuations run between timers, until `work` settles. */
export async function until<T>(clock: EventLoop, work: Promise<T>, maxMs = 600_000): Promise<T> {
  let done = false;
  const watched = work.finally(() => {
    done = true;
  });
  watched.catch(() => {});
  const limit = clock.now() + maxMs;
  while (!done) {
    await new Promise((r) => setImmediate(r));
    if (done) break;
    const next = clock.nextAt();
    if (next === undefined || next > limit) throw new Error(`stuck at ${clock.now()} ms`);
    clock.runUntil(next);
  }
  return watched;
}
