import { buildIcmp, formatIpv4Addr, IcmpPacket, type Ipv4Addr, parseCidr, parseIcmp } from "@kemu/wire";
import { EventLoop } from "./clock.ts";
import type { NetDevice } from "./device.ts";
import { Kernel } from "./kernel.ts";
import type { NetNs } from "./netns.ts";
import { Rng } from "./random.ts";
import { RawSocket } from "./socket.ts";

/** A kernel on a fresh event loop, for tests. */
export function testKernel(seed = 1): { kernel: Kernel; clock: EventLoop } {
  const clock = new EventLoop();
  return { kernel: new Kernel({ clock, rng: new Rng(seed) }), clock };
}

/** Adds `cidr` to `dev` and brings it (and lo) up. */
export function configure(ns: NetNs, dev: NetDevice, cidr: string): void {
  const c = parseCidr(cidr)!;
  ns.setUp(ns.lo, true);
  ns.addAddress(dev, { addr: c.addr, prefixLen: c.len });
  ns.setUp(dev, true);
}

/** Sends one echo request and waits up to `waitMs` of emulated time for the answer. */
export async function pingOnce(
  clock: EventLoop,
  ns: NetNs,
  dst: Ipv4Addr,
  options: { waitMs?: number; ttl?: number } = {},
): Promise<{ kind: string; from: string; ttl: number } | undefined> {
  const sock = new RawSocket(ns, 1);
  const ident = 0x1234;
  const err = sock.send(dst, buildIcmp({ kind: "echo-request", ident, seq: 1, data: new Uint8Array(56) }), {
    ttl: options.ttl,
  });
  if (err) {
    sock.close();
    return { kind: err, from: "", ttl: 0 };
  }
  const deadline = clock.now() + (options.waitMs ?? 5000);
  let answer: { kind: string; from: string; ttl: number } | undefined;
  while (answer === undefined && clock.now() < deadline) {
    clock.runUntil(Math.min(deadline, clock.nextAt() ?? deadline));
    for (let d = sock.mailbox.tryReceive(); d; d = sock.mailbox.tryReceive()) {
      const icmp = parseIcmp(IcmpPacket.checked(d.data));
      if (icmp.kind === "echo-reply" && icmp.ident === ident) answer = { kind: icmp.kind, from: formatIpv4Addr(d.src), ttl: d.ttl };
      if (icmp.kind === "dest-unreachable" || icmp.kind === "time-exceeded") {
        answer = { kind: `${icmp.kind}/${icmp.code}`, from: formatIpv4Addr(d.src), ttl: d.ttl };
      }
    }
  }
  sock.close();
  return answer;
}
