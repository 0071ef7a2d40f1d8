/**
 * nc over the kernel model's sockets: busybox's nc (the nc 1.10-compatible
 * build of the docker image) in containers, OpenBSD netcat on hosts.
 * Connect and listen, TCP and -u UDP, -w timeouts, -z scanning, -v.
 */
import {
  ERRNO_TEXT,
  type Errno,
  KernelError,
  TcpConnection,
  TcpListener,
  UdpSocket,
  type WaitOptions,
} from "@kemu/kernel";
import { formatIpv4Addr, type Ipv4Addr, parseIpv4Addr } from "@kemu/wire";
import type { Command, ProcessContext } from "../process.ts";
import { BUSYBOX_BANNER } from "./_net.ts";
import { killedStatus } from "./_tool.ts";
import { errnoOf, isAbort } from "./http.ts";
import { resolveHost } from "./resolve.ts";

interface NcOptions {
  listen: boolean;
  keep: boolean;
  udp: boolean;
  zero: boolean;
  verbose: number;
  numeric: boolean;
  closeOnEof: boolean;
  port: number | undefined;
  source: string | undefined;
  waitSec: number | undefined;
  args: string[];
}

const BB_USAGE = `${BUSYBOX_BANNER}

Usage: nc [OPTIONS] HOST PORT  - connect
nc [OPTIONS] -l -p PORT [HOST] [PORT]  - listen

	-e PROG	Run PROG after connect (must be last)
	-l	Listen mode, for inbound connects
	-lk	With -e, provides persistent server
	-p PORT	Local port
	-s ADDR	Local address
	-w SEC	Timeout for connects and final net reads
	-i SEC	Delay interval for lines sent
	-n	Don't do DNS resolution
	-u	UDP mode
	-b	Allow broadcasts
	-v	Verbose
	-o FILE	Hex dump traffic
	-z	Zero-I/O mode (scanning)
`;

const GNU_USAGE = `usage: nc [-46CDdFhklNnrStUuvZz] [-I length] [-i interval] [-M ttl]
	  [-m minttl] [-O length] [-P proxy_username] [-p source_port]
	  [-q seconds] [-s sourceaddr] [-T keyword] [-V rtable] [-W recvlimit]
	  [-w timeout] [-X proxy_protocol] [-x proxy_address[:port]]
	  [destination] [port]
`;

/** Well-known ports, for OpenBSD nc's "[tcp/http]". */
const SERVICES: Record<number, string> = { 21: "ftp", 22: "ssh", 23: "telnet", 25: "smtp", 53: "domain", 80: "http", 443: "https", 8080: "http-alt" };

function parseArgs(ctx: ProcessContext): NcOptions | string {
  const o: NcOptions = {
    listen: false,
    keep: false,
    udp: false,
    zero: false,
    verbose: 0,
    numeric: false,
    closeOnEof: false,
    port: undefined,
    source: undefined,
    waitSec: undefined,
    args: [],
  };
  const args = ctx.argv.slice(1);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith("-") || a === "-") {
      o.args.push(a);
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const f = a[j]!;
      if ("pswiqIOTVWXxPMm".includes(f)) {
        const v = j + 1 < a.length ? a.slice(j + 1) : args[++i];
        if (v === undefined) return `nc: option requires an argument -- '${f}'`;
        if (f === "p") {
          const n = Number(v);
          if (!/^\d+$/.test(v) || n > 65535) return ctx.flavour === "busybox" ? `nc: bad port '${v}'` : `nc: port number invalid: ${v}`;
          o.port = n;
        } else if (f === "s") o.source = v;
        else if (f === "w") o.waitSec = Number(v);
        break;
      }
      switch (f) {
        case "l":
          o.listen = true;
          break;
        case "k":
          o.keep = true;
          break;
        case "u":
          o.udp = true;
          break;
        case "z":
          o.zero = true;
          break;
        case "v":
          o.verbose++;
          break;
        case "n":
          o.numeric = true;
          break;
        case "N":
          o.closeOnEof = true;
          break;
        case "4":
        case "b":
        case "d":
          break;
        default:
          return `nc: invalid option -- '${f}'`;
      }
    }
  }
  return o;
}

/** Copies the process's stdin to `send`, line by line, until end of input. */
async function pumpStdin(ctx: ProcessContext, send: (bytes: Uint8Array) => Promise<void>): Promise<void> {
  const enc = new TextEncoder();
  for (let line = await ctx.stdin.readLine(); line !== undefined; line = await ctx.stdin.readLine()) {
    if (ctx.signal.aborted) return;
    await send(enc.encode(`${line}\n`));
  }
}

/** Shuttles data both ways on an open TCP connection until both directions are done. */
async function shuttle(ctx: ProcessContext, conn: TcpConnection, o: NcOptions): Promise<void> {
  const bb = ctx.flavour === "busybox";
  const decoder = new TextDecoder();
  const wait = (): WaitOptions => ({ signal: ctx.signal });
  let netDone = false;
  const fromNet = (async () => {
    try {
      for (;;) {
        const chunk = await conn.read(undefined, wait());
        if (chunk === undefined) break;
        ctx.stdout.write(decoder.decode(chunk, { stream: true }));
      }
    } catch (e) {
      if (isAbort(e)) throw e;
      if (!(e instanceof KernelError)) throw e;
    } finally {
      netDone = true;
    }
  })();
  const toNet = (async () => {
    try {
      await pumpStdin(ctx, (b) => (netDone && !bb ? Promise.resolve() : conn.write(b, wait())));
    } catch (e) {
      if (isAbort(e)) throw e;
      if (!(e instanceof KernelError)) throw e;
      return;
    }
    // busybox shuts the write side at end of input; OpenBSD nc only with -N.
    if (bb || o.closeOnEof) conn.shutdownWrite();
  })();
  if (bb) {
    await Promise.all([fromNet, toNet]);
  } else {
    // OpenBSD nc is done when the network side is.
    await fromNet;
  }
  const rest = decoder.decode();
  if (rest) ctx.stdout.write(rest);
  conn.close();
}

function failText(errno: Errno | undefined, e: unknown): string {
  return errno !== undefined ? ERRNO_TEXT[errno] : String(e);
}

async function connectMode(ctx: ProcessContext, o: NcOptions): Promise<number> {
  const bb = ctx.flavour === "busybox";
  const [host, portText] = o.args;
  if (host === undefined || portText === undefined) {
    ctx.stderr.write(bb ? BB_USAGE : GNU_USAGE);
    return 1;
  }
  const addr = await resolveHost(ctx, host);
  if (addr === undefined) {
    ctx.stderr.write(bb ? `nc: bad address '${host}'\n` : `nc: getaddrinfo for host "${host}" port ${portText}: Name or service not known\n`);
    return 1;
  }
  const ports = parsePorts(portText);
  if (ports === undefined || (bb && ports.length !== 1)) {
    ctx.stderr.write(bb ? `nc: bad port '${portText}'\n` : `nc: port range not valid\n`);
    return 1;
  }
  const dotted = formatIpv4Addr(addr);
  let src: Ipv4Addr | undefined;
  if (o.source !== undefined) {
    src = parseIpv4Addr(o.source);
    if (src === undefined) {
      ctx.stderr.write(bb ? `nc: bad address '${o.source}'\n` : `nc: getaddrinfo: Name or service not known\n`);
      return 1;
    }
  }
  if (o.udp) return udpConnect(ctx, o, addr, ports[0]!, src);
  let status = 0;
  for (const port of ports) {
    let conn: TcpConnection;
    try {
      conn = await TcpConnection.connect(ctx.netns, addr, port, {
        signal: ctx.signal,
        timeoutMs: o.waitSec ? o.waitSec * 1000 : undefined,
        src,
        srcPort: ports.length === 1 ? o.port : undefined,
      });
    } catch (e) {
      if (isAbort(e)) throw e;
      const errno = errnoOf(e);
      status = 1;
      if (bb) {
        if (o.verbose > 1 || (o.verbose && errno !== "ECONNREFUSED")) ctx.stderr.write(`nc: ${host} (${dotted}:${port}): ${failText(errno, e)}\n`);
      } else if (o.verbose) {
        ctx.stderr.write(`nc: connect to ${host} port ${port} (tcp) failed: ${failText(errno, e)}\n`);
      }
      continue;
    }
    if (o.verbose) {
      ctx.stderr.write(
        bb
          ? `${host} (${dotted}:${port}) open\n`
          : `Connection to ${host} ${port} port [tcp/${SERVICES[port] ?? "*"}] succeeded!\n`,
      );
    }
    if (o.zero) {
      conn.close();
      continue;
    }
    await shuttle(ctx, conn, o);
    return 0;
  }
  return status;
}

function parsePorts(text: string): number[] | undefined {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (!m) return undefined;
  const lo = Number(m[1]);
  const hi = m[2] !== undefined ? Number(m[2]) : lo;
  if (lo < 1 || hi > 65535 || hi < lo) return undefined;
  return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
}

async function listenMode(ctx: ProcessContext, o: NcOptions): Promise<number> {
  const bb = ctx.flavour === "busybox";
  let port = o.port;
  // `nc -l PORT` (OpenBSD) as well as `nc -l -p PORT` (nc 1.10).
  if (port === undefined && o.args.length === 1 && /^\d+$/.test(o.args[0]!)) port = Number(o.args[0]);
  if (port === undefined && o.udp) {
    ctx.stderr.write(bb ? "nc: UDP listen needs nonzero -p port\n" : GNU_USAGE);
    return 1;
  }
  const bindAddr = o.source !== undefined ? (parseIpv4Addr(o.source) ?? 0) : 0;
  if (o.udp) return udpListen(ctx, o, bindAddr, port!);
  let listener: TcpListener;
  try {
    listener = TcpListener.listen(ctx.netns, bindAddr, port ?? 0, { backlog: 1 });
  } catch (e) {
    const errno = errnoOf(e);
    ctx.stderr.write(bb ? `nc: bind: ${failText(errno, e)}\n` : `nc: ${failText(errno, e)}\n`);
    return 1;
  }
  if (o.verbose) {
    const where = `${formatIpv4Addr(listener.localAddr)}:${listener.localPort}`;
    ctx.stderr.write(bb ? `listening on ${where} ...\n` : `Listening on ${formatIpv4Addr(listener.localAddr)} ${listener.localPort}\n`);
  }
  try {
    do {
      const conn = await listener.accept({ signal: ctx.signal, timeoutMs: bb && o.waitSec ? o.waitSec * 1000 : undefined });
      if (conn === undefined) {
        ctx.stderr.write("nc: timeout\n");
        return 1;
      }
      if (!o.keep) listener.close();
      if (o.verbose) {
        const remote = formatIpv4Addr(conn.remoteAddr);
        ctx.stderr.write(
          bb
            ? `connect to ${formatIpv4Addr(conn.localAddr)}:${conn.localPort} from ${remote}:${conn.remotePort} (${remote}:${conn.remotePort})\n`
            : `Connection received on ${remote} ${conn.remotePort}\n`,
        );
      }
      await shuttle(ctx, conn, o);
    } while (o.keep);
  } finally {
    listener.close();
  }
  return 0;
}

async function udpConnect(ctx: ProcessContext, o: NcOptions, addr: Ipv4Addr, port: number, src: Ipv4Addr | undefined): Promise<number> {
  const sock = new UdpSocket(ctx.netns);
  const err = sock.bind(src ?? 0, o.port ?? 0);
  if (err) {
    ctx.stderr.write(`nc: bind: ${ERRNO_TEXT[err]}\n`);
    sock.close();
    return 1;
  }
  if (o.verbose && ctx.flavour !== "busybox") ctx.stderr.write(`Connection to ${formatIpv4Addr(addr)} ${port} port [udp/*] succeeded!\n`);
  if (o.zero) {
    sock.close();
    return 0;
  }
  const decoder = new TextDecoder();
  let open = true;
  const receiving = (async () => {
    const idle = o.waitSec ? o.waitSec * 1000 : undefined;
    while (open) {
      const d = await sock.mailbox.receive(idle);
      if (d === undefined) break;
      if (d.src === addr && d.srcPort === port) ctx.stdout.write(decoder.decode(d.data, { stream: true }));
    }
  })();
  await pumpStdin(ctx, async (b) => {
    sock.sendTo(addr, port, b);
  });
  if (o.waitSec) await receiving;
  else if (ctx.flavour === "busybox") await receiving;
  open = false;
  sock.close();
  await receiving;
  return 0;
}

async function udpListen(ctx: ProcessContext, o: NcOptions, bindAddr: Ipv4Addr, port: number): Promise<number> {
  const sock = new UdpSocket(ctx.netns);
  const err = sock.bind(bindAddr, port);
  if (err) {
    ctx.stderr.write(ctx.flavour === "busybox" ? `nc: bind: ${ERRNO_TEXT[err]}\n` : `nc: ${ERRNO_TEXT[err]}\n`);
    sock.close();
    return 1;
  }
  if (o.verbose) ctx.stderr.write(ctx.flavour === "busybox" ? `listening on 0.0.0.0:${port} ...\n` : `Bound on 0.0.0.0 ${port}\n`);
  const decoder = new TextDecoder();
  const onAbort = () => sock.close();
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  let peer: { addr: Ipv4Addr; port: number } | undefined;
  const replies = (async () => {
    // What stdin says goes back to the first peer, once there is one.
    const lines: Uint8Array[] = [];
    await pumpStdin(ctx, async (b) => {
      if (peer) sock.sendTo(peer.addr, peer.port, b);
      else lines.push(b);
    });
    return lines;
  })();
  try {
    for (;;) {
      const d = await sock.mailbox.receive(o.waitSec ? o.waitSec * 1000 : undefined);
      if (d === undefined) break;
      if (peer === undefined) {
        peer = { addr: d.src, port: d.srcPort };
        if (o.verbose && ctx.flavour !== "busybox") ctx.stderr.write(`Connection received on ${formatIpv4Addr(d.src)} ${d.srcPort}\n`);
        for (const b of await replies) sock.sendTo(peer.addr, peer.port, b);
      }
      ctx.stdout.write(decoder.decode(d.data, { stream: true }));
    }
  } finally {
    ctx.signal.removeEventListener("abort", onAbort);
    sock.close();
  }
  return ctx.signal.aborted ? killedStatus(ctx.signal) : 0;
}

/** nc: busybox's in containers, OpenBSD netcat's on hosts. */
export const nc: Command = async (ctx) => {
  const bb = ctx.flavour === "busybox";
  const parsed = parseArgs(ctx);
  if (typeof parsed === "string") {
    ctx.stderr.write(`${parsed}\n${bb ? BB_USAGE : GNU_USAGE}`);
    return 1;
  }
  try {
    return parsed.listen ? await listenMode(ctx, parsed) : await connectMode(ctx, parsed);
  } catch (e) {
    if (isAbort(e) || ctx.signal.aborted) return killedStatus(ctx.signal);
    throw e;
  }
};

/** nc (and busybox's netcat alias). */
export const ncCommands: Record<string, Command> = { nc };
