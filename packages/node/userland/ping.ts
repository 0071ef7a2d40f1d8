import { RawSocket } from "@kemu/kernel";
import { ERRNO_TEXT } from "@kemu/kernel";
import {
  buildIcmp,
  formatIpv4Addr,
  IcmpPacket,
  type IcmpRepr,

  parseIcmp,
  WireError,
} from "@kemu/wire";
import { type Command, type ProcessContext, sleep } from "../process.ts";
import { resolveHost } from "./resolve.ts";

interface PingOptions {
  count: number | undefined;
  intervalMs: number;
  waitMs: number;
  deadlineMs: number | undefined;
  size: number;
  ttl: number | undefined;
  /** `-M do|want|dont` (iputils): do sets DF and never fragments. */
  pmtudisc: "do" | "want" | "dont" | undefined;
  quiet: boolean;
  iface: string | undefined;
  target: string;
}

/** Texts iputils prints for ICMP errors (ping_common.c pr_icmph). */
const UNREACH_TEXT: Record<number, string> = {
  0: "Destination Net Unreachable",
  1: "Destination Host Unreachable",
  2: "Destination Protocol Unreachable",
  3: "Destination Port Unreachable",
  4: "Frag needed and DF set",
  9: "Destination Net Prohibited",
  10: "Destination Host Prohibited",
  13: "Packet filtered",
};

/** Names busybox gives ICMP types in its "warning: got ICMP" line. */
const BUSYBOX_TYPE_NAME: Record<number, string> = {
  3: "Destination Unreachable",
  4: "Source Quench",
  5: "Redirect (change route)",
  11: "Time Exceeded",
  12: "Parameter Problem",
};

function usage(ctx: ProcessContext, message: string): number {
  ctx.stderr.write(`${message}\n`);
  if (ctx.flavour === "busybox") {
    ctx.stderr.write("BusyBox v1.36.1 multi-call binary.\n\nUsage: ping [OPTIONS] HOST\n");
    return 1;
  }
  ctx.stderr.write("\nUsage\n  ping [options] <destination>\n");
  return 2;
}

function parseArgs(ctx: ProcessContext): PingOptions | number {
  const bb = ctx.flavour === "busybox";
  const o: PingOptions = {
    count: undefined,
    intervalMs: 1000,
    waitMs: 10_000,
    deadlineMs: undefined,
    size: 56,
    ttl: undefined,
    pmtudisc: undefined,
    quiet: false,
    iface: undefined,
    target: "",
  };
  const args = ctx.argv.slice(1);
  const targets: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith("-") || a === "-") {
      targets.push(a);
      continue;
    }
    const flag = a.slice(1, 2);
    const attached = a.length > 2 ? a.slice(2) : undefined;
    const value = (): string | undefined => attached ?? args[++i];
    const num = (v: string | undefined, name: string): number | string => {
      if (v === undefined) return `ping: option requires an argument -- '${flag}'`;
      const n = Number(v);
      if (!Number.isFinite(n) || v.trim() === "") {
        return bb ? `ping: invalid number '${v}'` : `ping: invalid argument: '${v}'`;
      }
      void name;
      return n;
    };
    switch (flag) {
      case "c":
      case "W":
      case "w":
      case "i":
      case "s":
      case "t": {
        const n = num(value(), flag);
        if (typeof n === "string") return usage(ctx, n);
        if (flag === "c") {
          if (n < 1 || !Number.isInteger(n)) return usage(ctx, bb ? `ping: invalid number '${n}'` : `ping: invalid argument: '${n}': out of range: 1 <= value <= 9223372036854775807`);
          o.count = n;
        } else if (flag === "W") o.waitMs = n * 1000;
        else if (flag === "w") o.deadlineMs = n * 1000;
        else if (flag === "i") o.intervalMs = n * 1000;
        else if (flag === "s") o.size = n;
        else o.ttl = n;
        break;
      }
      case "q":
        o.quiet = true;
        break;
      case "M": {
        if (bb) return usage(ctx, `ping: unrecognized option '${a}'`);
        const v = value();
        if (v === "do" || v === "want" || v === "dont") o.pmtudisc = v;
        else if (v === "probe") o.pmtudisc = "do";
        else return usage(ctx, v === undefined ? "ping: option requires an argument -- 'M'" : `ping: invalid -M argument: ${v}`);
        break;
      }
      case "I":
        o.iface = value();
        break;
      case "4":
        break;
      default:
        return usage(ctx, bb ? `ping: unrecognized option '${a}'` : `ping: invalid option -- '${flag}'`);
    }
  }
  if (targets.length !== 1) {
    return usage(ctx, bb ? "ping: bad argument count" : "ping: usage error: Destination address required");
  }
  o.target = targets[0]!;
  return o;
}

function formatRtt(ms: number, busybox: boolean): string {
  if (busybox) return ms.toFixed(3);
  if (ms < 1) return ms.toFixed(3);
  if (ms < 10) return ms.toFixed(2);
  if (ms < 100) return ms.toFixed(1);
  return Math.round(ms).toString();
}

/** The echo payload: iputils puts a timeval then bytes 0x10…; busybox a 32-bit stamp then zeros. */
function payload(ctx: ProcessContext, size: number): Uint8Array {
  const data = new Uint8Array(size);
  const now = ctx.clock.now();
  const view = new DataView(data.buffer);
  if (ctx.flavour === "gnu") {
    if (size >= 16) {
      view.setBigUint64(0, BigInt(Math.floor(now / 1000)), true);
      view.setBigUint64(8, BigInt(Math.floor((now % 1000) * 1000)), true);
    }
    for (let i = Math.min(16, size); i < size; i++) data[i] = i & 0xff;
  } else if (size >= 4) {
    view.setUint32(0, Math.floor(now * 1000) >>> 0, true);
  }
  return data;
}

/** Which echo request (ident, seq) an ICMP error quotes, if it quotes one of ours. */
function quotedEcho(original: Uint8Array): { ident: number; seq: number } | undefined {
  if (original.length < 28) return undefined;
  const ihl = (original[0]! & 0x0f) * 4;
  if (original[9] !== 1 || original.length < ihl + 8 || original[ihl] !== 8) return undefined;
  return { ident: (original[ihl + 4]! << 8) | original[ihl + 5]!, seq: (original[ihl + 6]! << 8) | original[ihl + 7]! };
}

/**
 * ping: ICMP echo through the kernel model, printing what iputils ping (on
 * hosts) or busybox ping (in containers) prints, with their exit codes.
 */
const ping: Command = async (ctx) => {
  const parsed = parseArgs(ctx);
  if (typeof parsed === "number") return parsed;
  const o = parsed;
  const bb = ctx.flavour === "busybox";
  const dst = await resolveHost(ctx, o.target);
  if (dst === undefined) {
    ctx.stderr.write(bb ? `ping: bad address '${o.target}'\n` : `ping: ${o.target}: Name or service not known\n`);
    return bb ? 1 : 2;
  }
  const dstText = formatIpv4Addr(dst);
  let oif;
  if (o.iface !== undefined) {
    oif = ctx.netns.deviceByName(o.iface);
    if (!oif) {
      ctx.stderr.write(bb ? `ping: unknown iface ${o.iface}\n` : `ping: SO_BINDTODEVICE ${o.iface}: No such device\n`);
      return bb ? 1 : 2;
    }
  }
  // iputils connect()s its socket first, so a missing route is reported before any output.
  if (!bb && ctx.netns.ipv4.routes.lookup(dst, { oif }) === undefined) {
    ctx.stderr.write("ping: connect: Network is unreachable\n");
    return 2;
  }
  const sock = new RawSocket(ctx.netns, 1);
  const ident = ctx.host.kernel.rng.below(0x10000);
  ctx.stdout.write(
    bb ? `PING ${o.target} (${dstText}): ${o.size} data bytes\n` : `PING ${o.target} (${dstText}) ${o.size}(${o.size + 28}) bytes of data.\n`,
  );
  const start = ctx.clock.now();
  const sentAt = new Map<number, number>();
  const rtts: number[] = [];
  let transmitted = 0;
  let received = 0;
  let errors = 0;
  let sendFailed = false;
  let stop = false;
  const firstSeq = bb ? 0 : 1;

  const deadline = o.deadlineMs !== undefined ? start + o.deadlineMs : undefined;
  /** Aborted when every request sent has its answer: the linger ends. */
  const answered = new AbortController();
  const onAbort = () => {
    stop = true;
    sock.mailbox.close();
  };
  ctx.signal.addEventListener("abort", onAbort, { once: true });

  const sender = (async () => {
    for (let i = 0; o.count === undefined || i < o.count; i++) {
      if (stop || (deadline !== undefined && ctx.clock.now() >= deadline)) break;
      const seq = (firstSeq + i) & 0xffff;
      const icmp: IcmpRepr = { kind: "echo-request", ident, seq, data: payload(ctx, o.size) };
      const err = sock.send(dst, buildIcmp(icmp), { ttl: o.ttl, oif, dontFrag: o.pmtudisc === "do" });
      transmitted++;
      sentAt.set(seq, ctx.clock.now());
      if (err) {
        if (bb) {
          ctx.stderr.write(`ping: sendto: ${ERRNO_TEXT[err]}\n`);
          sendFailed = true;
          stop = true;
          sock.mailbox.close();
          return;
        }
        errors++;
        if (err === "EMSGSIZE" && o.pmtudisc === "do") {
          const mtu = (oif ?? ctx.netns.ipv4.routes.lookup(dst)?.dev)?.mtu ?? 0;
          ctx.stderr.write(`ping: local error: message too long, mtu=${mtu}\n`);
        } else {
          ctx.stdout.write(`ping: sendmsg: ${ERRNO_TEXT[err]}\n`);
        }
      }
      if (o.count !== undefined && i === o.count - 1) break;
      if (!(await sleep(ctx, o.intervalMs))) break;
    }
    // After the last request, linger for the answers: -W (busybox) or 10 s / 2×max RTT (iputils),
    // ending as soon as every request is answered.
    if (!stop && received + errors < transmitted) {
      const linger = bb ? o.waitMs : rtts.length > 0 ? Math.max(2 * Math.max(...rtts), o.intervalMs) : o.waitMs;
      const until = deadline !== undefined ? Math.min(deadline, ctx.clock.now() + linger) : ctx.clock.now() + linger;
      await sleep({ clock: ctx.clock, signal: AbortSignal.any([ctx.signal, answered.signal]) }, until - ctx.clock.now());
    }
    stop = true;
    sock.mailbox.close();
  })();

  for (;;) {
    const d = await sock.mailbox.receive();
    if (d === undefined) break;
    let icmp: IcmpRepr;
    try {
      icmp = parseIcmp(IcmpPacket.checked(d.data));
    } catch (err) {
      if (err instanceof WireError) continue;
      throw err;
    }
    if (icmp.kind === "echo-reply") {
      if (icmp.ident !== ident) continue;
      const sent = sentAt.get(icmp.seq);
      if (sent === undefined) continue;
      const rtt = d.time - sent;
      received++;
      rtts.push(rtt);
      if (!o.quiet) {
        const len = d.data.length;
        ctx.stdout.write(
          bb
            ? `${len} bytes from ${formatIpv4Addr(d.src)}: seq=${icmp.seq} ttl=${d.ttl} time=${formatRtt(rtt, true)} ms\n`
            : `${len} bytes from ${formatIpv4Addr(d.src)}: icmp_seq=${icmp.seq} ttl=${d.ttl} time=${formatRtt(rtt, false)} ms\n`,
        );
      }
      if (o.count !== undefined && received + errors >= o.count && transmitted >= o.count) {
        stop = true;
        answered.abort();
        sock.mailbox.close();
      }
    } else if (icmp.kind === "dest-unreachable" || icmp.kind === "time-exceeded") {
      const q = quotedEcho(icmp.original);
      if (q === undefined || q.ident !== ident) continue;
      if (bb) {
        const type = icmp.kind === "time-exceeded" ? 11 : 3;
        ctx.stderr.write(`ping: warning: got ICMP ${type} (${BUSYBOX_TYPE_NAME[type]})\n`);
        continue;
      }
      errors++;
      const text =
        icmp.kind === "time-exceeded"
          ? "Time to live exceeded"
          : icmp.code === 4
            ? `Frag needed and DF set (mtu = ${icmp.nextHopMtu})`
            : (UNREACH_TEXT[icmp.code] ?? `Dest Unreachable, Bad Code: ${icmp.code}`);
      if (!o.quiet) ctx.stdout.write(`From ${formatIpv4Addr(d.src)} icmp_seq=${q.seq} ${text}\n`);
      if (o.count !== undefined && received + errors >= o.count && transmitted >= o.count) {
        stop = true;
        answered.abort();
        sock.mailbox.close();
      }
    }
  }
  await sender;
  ctx.signal.removeEventListener("abort", onAbort);
  sock.close();
  if (sendFailed) return 1;

  const loss = transmitted === 0 ? 0 : Math.floor(((transmitted - received) * 100) / transmitted);
  const elapsed = Math.round(ctx.clock.now() - start);
  ctx.stdout.write(`\n--- ${o.target} ping statistics ---\n`);
  if (bb) {
    ctx.stdout.write(`${transmitted} packets transmitted, ${received} packets received, ${loss}% packet loss\n`);
    if (received > 0) {
      const min = Math.min(...rtts);
      const max = Math.max(...rtts);
      const avg = rtts.reduce((a, b) => a + b, 0) / rtts.length;
      ctx.stdout.write(`round-trip min/avg/max = ${formatRtt(min, true)}/${formatRtt(avg, true)}/${formatRtt(max, true)} ms\n`);
    }
    return received > 0 ? 0 : 1;
  }
  const errText = errors > 0 ? `+${errors} errors, ` : "";
  ctx.stdout.write(`${transmitted} packets transmitted, ${received} received, ${errText}${loss}% packet loss, time ${elapsed}ms\n`);
  if (received > 0) {
    const min = Math.min(...rtts);
    const max = Math.max(...rtts);
    const avg = rtts.reduce((a, b) => a + b, 0) / rtts.length;
    const mdev = Math.sqrt(Math.max(0, rtts.reduce((a, b) => a + b * b, 0) / rtts.length - avg * avg));
    ctx.stdout.write(`rtt min/avg/max/mdev = ${min.toFixed(3)}/${avg.toFixed(3)}/${max.toFixed(3)}/${mdev.toFixed(3)} ms\n`);
  }
  return received > 0 ? 0 : 1;
};

/** ping, in the flavour of the process's userland (busybox or iputils). */
export const pingCommands: Record<string, Command> = { ping };

