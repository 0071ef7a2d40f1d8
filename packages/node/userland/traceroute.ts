import { RawSocket, UdpSocket } from "@kemu/kernel";
import { formatIpv4Addr, IcmpPacket, parseIcmp, WireError } from "@kemu/wire";
import { type Command, sleep } from "../process.ts";
import { resolveHost } from "./resolve.ts";

/**
 * traceroute HOST: UDP probes to ports 33434 and up with TTL 1, 2, 3…, three
 * per hop, each answered by the router where it expired (ICMP time exceeded)
 * or by the destination (port unreachable). Linux traceroute's output on
 * hosts, busybox's in containers.
 */
const traceroute: Command = async (ctx) => {
  const bb = ctx.flavour === "busybox";
  const args = ctx.argv.slice(1);
  let numeric = false;
  let maxHops = 30;
  let queries = 3;
  let waitMs = bb ? 3000 : 5000;
  let target: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "-n") numeric = true;
    else if (a === "-m" || a === "-q" || a === "-w") {
      const v = Number(args[++i]);
      if (!Number.isInteger(v) || v < 1) {
        ctx.stderr.write(bb ? `traceroute: invalid number '${args[i] ?? ""}'\n` : `Cannot handle \`${a}' option with arg \`${args[i] ?? ""}' (argc ${i})\n`);
        return bb ? 1 : 2;
      }
      if (a === "-m") maxHops = v;
      else if (a === "-q") queries = v;
      else waitMs = v * 1000;
    } else if (a.startsWith("-")) {
      ctx.stderr.write(bb ? `traceroute: unrecognized option '${a}'\n` : `Bad option \`${a}' (argc ${i})\n`);
      return bb ? 1 : 2;
    } else target ??= a;
  }
  if (target === undefined) {
    ctx.stderr.write(bb ? "BusyBox v1.36.1 multi-call binary.\n\nUsage: traceroute [-46FIlnrv] [-f 1ST_TTL] [-m MAXTTL] [-q PROBES] [-p PORT] [-t TOS] [-w WAIT_SEC] [-s SRC_IP] [-i IFACE] [-z PAUSE_MSEC] HOST [BYTES]\n" : "Usage:\n  traceroute [ -46dFITnreAUDV ] [ -f first_ttl ] [ -g gate,... ] [ -i device ] [ -m max_ttl ] [ -N squeries ] [ -p port ] [ -t tos ] [ -l flow_label ] [ -w MAX,HERE,NEAR ] [ -q nqueries ] [ -s src_addr ] [ -z sendwait ] [ --fwmark=num ] host [ packetlen ]\n");
    return bb ? 1 : 2;
  }
  const dst = await resolveHost(ctx, target);
  if (dst === undefined) {
    ctx.stderr.write(bb ? `traceroute: bad address '${target}'\n` : `${target}: Name or service not known\nCannot handle "host" cmdline arg \`${target}' on position 1 (argc 1)\n`);
    return bb ? 1 : 2;
  }
  const dstText = formatIpv4Addr(dst);
  const size = bb ? 38 : 60;
  ctx.stdout.write(`traceroute to ${target} (${dstText}), ${maxHops} hops max, ${size} byte packets\n`);
  const icmp = new RawSocket(ctx.netns, 1);
  const udp = new UdpSocket(ctx.netns);
  udp.bind(0, 0);
  const payload = new Uint8Array(size - 28);
  let port = 33434;
  let reached = false;
  try {
    for (let ttl = 1; ttl <= maxHops && !reached && !ctx.signal.aborted; ttl++) {
      // traceroute.c: "%2u " per hop, " %s" per new address, "  %.3f ms" per time, " *" per timeout.
      let line = `${String(ttl).padStart(2)} `;
      let lastFrom: string | undefined;
      for (let q = 0; q < queries; q++) {
        const probePort = port++;
        const sentAt = ctx.clock.now();
        const err = udp.sendTo(dst, probePort, payload, { ttl });
        if (err) {
          line += " *";
          continue;
        }
        let answered = false;
        while (!answered) {
          const left = sentAt + waitMs - ctx.clock.now();
          if (left <= 0) break;
          const d = await icmp.mailbox.receive(left);
          if (d === undefined) break;
          let msg;
          try {
            msg = parseIcmp(IcmpPacket.checked(d.data));
          } catch (e) {
            if (e instanceof WireError) continue;
            throw e;
          }
          if (msg.kind !== "time-exceeded" && msg.kind !== "dest-unreachable") continue;
          const o = msg.original;
          const ihl = (o[0]! & 0x0f) * 4;
          if (o.length < ihl + 4 || o[9] !== 17 || ((o[ihl + 2]! << 8) | o[ihl + 3]!) !== probePort) continue;
          answered = true;
          const from = formatIpv4Addr(d.src);
          const rtt = (d.time - sentAt).toFixed(3);
          if (from !== lastFrom) line += numeric ? ` ${from}` : ` ${from} (${from})`;
          lastFrom = from;
          line += `  ${rtt} ms`;
          if (msg.kind === "dest-unreachable") {
            reached = true;
            if (msg.code !== 3) line += msg.code === 1 ? " !H" : msg.code === 0 ? " !N" : msg.code === 13 ? " !X" : ` !<${msg.code}>`;
          }
        }
        if (!answered) line += " *";
      }
      ctx.stdout.write(`${line}\n`);
      if (!reached) await sleep(ctx, 0);
    }
  } finally {
    icmp.close();
    udp.close();
  }
  return 0;
};

/** traceroute, Linux's on hosts and busybox's in containers. */
export const tracerouteCommands: Record<string, Command> = { traceroute };
