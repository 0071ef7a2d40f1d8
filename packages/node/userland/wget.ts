/**
 * wget over the kernel model's TCP: busybox wget in containers (its
 * "Connecting to", progress-bar and error lines, from networking/wget.c and
 * libbb/progress.c) and GNU wget 1.21 on hosts.
 */
import { ERRNO_TEXT, TcpConnection, type WaitOptions } from "@kemu/kernel";
import { formatIpv4Addr } from "@kemu/wire";
import type { Command, ProcessContext } from "../process.ts";
import { VfsError } from "../vfs.ts";
import { BUSYBOX_BANNER } from "./_net.ts";
import { killedStatus, resolvePath } from "./_tool.ts";
import {
  BadChunk,
  ByteReader,
  errnoOf,
  headerValue,
  type HttpResponseHead,
  type HttpUrl,
  isAbort,
  latin1Bytes,
  parseHttpUrl,
  readBody,
  readResponseHead,
  responseFraming,
  ShortBody,
  wallClock,
} from "./http.ts";
import { resolveHost } from "./resolve.ts";

interface WgetOptions {
  output: string | undefined;
  quiet: boolean;
  serverResponse: boolean;
  timeoutSec: number | undefined;
  userAgent: string | undefined;
  dirPrefix: string | undefined;
  spider: boolean;
  headers: string[];
  urls: string[];
}

const BB_USAGE = `${BUSYBOX_BANNER}

Usage: wget [-cqS] [--spider] [-O FILE] [-o LOGFILE] [--header STR]
	[--post-data STR | --post-file FILE] [-Y on/off]
	[--no-check-certificate] [-P DIR] [-U AGENT] [-T SEC] URL...

Retrieve files via HTTP or FTP

	--spider	Only check URL existence: $? is 0 if exists
	--header STR	Add STR (of form 'header: value') to headers
	--post-data STR	Send STR using POST method
	--post-file FILE	Send FILE using POST method
	--no-check-certificate	Don't validate the server's certificate
	-c		Continue retrieval of aborted transfer
	-q		Quiet
	-P DIR		Save to DIR (default .)
	-S    		Show server response
	-T SEC		Network read timeout is SEC seconds
	-O FILE		Save to FILE ('-' for stdout)
	-o LOGFILE	Log messages to FILE
	-U STR		Use STR for User-Agent header
	-Y on/off	Use proxy
`;

/** A failure the tool reports and exits on. */
class WgetExit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

function parseArgs(ctx: ProcessContext): WgetOptions | string {
  const o: WgetOptions = {
    output: undefined,
    quiet: false,
    serverResponse: false,
    timeoutSec: undefined,
    userAgent: undefined,
    dirPrefix: undefined,
    spider: false,
    headers: [],
    urls: [],
  };
  const withValue = new Set(["O", "o", "T", "U", "P", "Y", "t"]);
  const args = ctx.argv.slice(1);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") {
      o.urls.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith("--")) {
      const [name, inline] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
      const value = (): string | undefined => inline ?? args[++i];
      switch (name) {
        case "quiet":
          o.quiet = true;
          break;
        case "spider":
          o.spider = true;
          break;
        case "server-response":
          o.serverResponse = true;
          break;
        case "output-document":
          o.output = value();
          break;
        case "timeout":
          o.timeoutSec = Number(value());
          break;
        case "user-agent":
          o.userAgent = value();
          break;
        case "header": {
          const h = value();
          if (h !== undefined) o.headers.push(h);
          break;
        }
        case "no-check-certificate":
        case "no-verbose":
          break;
        default:
          return ctx.flavour === "busybox" ? `wget: unrecognized option '${a}'` : `wget: unrecognized option '${a}'`;
      }
      continue;
    }
    if (!a.startsWith("-") || a === "-") {
      o.urls.push(a);
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const f = a[j]!;
      if (withValue.has(f)) {
        const v = j + 1 < a.length ? a.slice(j + 1) : args[++i];
        if (v === undefined) return `wget: option requires an argument -- '${f}'`;
        if (f === "O") o.output = v;
        else if (f === "T") o.timeoutSec = Number(v);
        else if (f === "U") o.userAgent = v;
        else if (f === "P") o.dirPrefix = v;
        break;
      }
      if (f === "q") o.quiet = true;
      else if (f === "S") o.serverResponse = true;
      else if (f === "c" || f === "n" || f === "v") continue;
      else return `wget: invalid option -- '${f}'`;
    }
  }
  return o;
}

/**
 * libbb's smart_ulltoa5: a size in five columns, "  615", "4096k", "12.3M".
 */
export function smartUlltoa5(value: number): string {
  let ul = value;
  let idx = 0;
  if (ul > 99999) {
    ul *= 10;
    do {
      ul = Math.floor(ul / 1024);
      idx++;
    } while (ul >= 100000);
  }
  let v = ul;
  let u = Math.floor(v / 10);
  v %= 10;
  const digits = "0123456789";
  let fmt = " 123456789";
  const out: string[] = [];
  if (idx === 0) {
    let c = (out[0] = " 123456789"[Math.floor(u / 1000)]!);
    if (c !== " ") fmt = digits;
    c = out[1] = fmt[Math.floor(u / 100) % 10]!;
    if (c !== " ") fmt = digits;
    c = out[2] = fmt[Math.floor(u / 10) % 10]!;
    if (c !== " ") fmt = digits;
    out[3] = fmt[u % 10]!;
    out[4] = digits[v]!;
  } else if (u >= 100) {
    let c = (out[0] = " 123456789"[Math.floor(u / 1000)]!);
    if (c !== " ") fmt = digits;
    c = out[1] = fmt[Math.floor(u / 100) % 10]!;
    if (c !== " ") fmt = digits;
    v = u % 10;
    u = Math.floor(u / 10);
    out[2] = fmt[u % 10]!;
    out[3] = digits[v]!;
    out[4] = " kMGTPEZY"[idx]!;
  } else {
    const c = (out[0] = " 123456789"[Math.floor(u / 10)]!);
    if (c !== " ") fmt = digits;
    out[1] = fmt[u % 10]!;
    out[2] = ".";
    out[3] = digits[v]!;
    out[4] = " kMGTPEZY"[idx]!;
  }
  return out.join("");
}

/** One line of busybox's progress meter with stderr not a terminal (80 columns, a 32-star bar). */
export function busyboxProgressLine(curfile: string, transferred: number, totalsize: number, elapsedSec: number): string {
  let line = `${curfile.slice(0, 20).padEnd(20)} `;
  if (totalsize !== 0) {
    const ratio = Math.floor((100 * transferred) / totalsize);
    line += `${String(ratio).padStart(3)}% `;
    const barlength = 80 - 48;
    const stars = Math.floor((barlength * transferred) / totalsize);
    line += `|${"*".repeat(stars).padEnd(barlength)}| `;
  }
  line += smartUlltoa5(transferred);
  if (!totalsize || !transferred || elapsedSec < 0) {
    line += " --:--:-- ETA";
  } else {
    let eta = Math.floor((totalsize * elapsedSec) / transferred) - elapsedSec;
    if (eta >= 1000 * 60 * 60) eta = 1000 * 60 * 60 - 1;
    const secs = eta % 3600;
    const hours = Math.floor(eta / 3600);
    line += `${String(hours).padStart(3)}:${String(Math.floor(secs / 60)).padStart(2, "0")}:${String(secs % 60).padStart(2, "0")} ETA`;
  }
  return `${line}\n`;
}

/** Where the body goes: stdout or a file in the process's Vfs. */
interface Sink {
  write(bytes: Uint8Array): void;
  finish(): void;
}

function sinkFor(ctx: ProcessContext, path: string | undefined): Sink {
  const decoder = new TextDecoder();
  if (path === "/dev/null") return { write: () => {}, finish: () => {} };
  if (path === undefined || path === "/dev/stdout") {
    return {
      write: (b) => ctx.stdout.write(decoder.decode(b, { stream: true })),
      finish: () => {
        const rest = decoder.decode();
        if (rest) ctx.stdout.write(rest);
      },
    };
  }
  const parts: string[] = [];
  ctx.fs.writeFile(path, "", ctx.netns);
  return {
    write: (b) => parts.push(decoder.decode(b, { stream: true })),
    finish: () => {
      parts.push(decoder.decode());
      ctx.fs.writeFile(path, parts.join(""), ctx.netns);
    },
  };
}

/** The request wget sends: busybox's exact lines, or GNU wget's. */
function request(url: HttpUrl, o: WgetOptions, gnu: boolean): string {
  const lines = [`GET ${url.path} HTTP/1.1`];
  const user = (name: string) => o.headers.some((h) => h.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  if (gnu) {
    if (!user("Host")) lines.push(`Host: ${url.hostPort}`);
    if (!user("User-Agent")) lines.push(`User-Agent: ${o.userAgent ?? "Wget/1.21.4"}`);
    lines.push("Accept: */*", "Accept-Encoding: identity");
    if (!user("Connection")) lines.push("Connection: Keep-Alive");
  } else {
    if (!user("Host")) lines.push(`Host: ${url.hostPort}`);
    if (!user("User-Agent")) lines.push(`User-Agent: ${o.userAgent ?? "Wget"}`);
    lines.push("Connection: close");
  }
  lines.push(...o.headers);
  return `${lines.join("\r\n")}\r\n\r\n`;
}

// ---- busybox ----------------------------------------------------------------

async function busyboxOne(ctx: ProcessContext, o: WgetOptions, rawUrl: string): Promise<void> {
  const err = (text: string): never => {
    ctx.stderr.write(`wget: ${text}\n`);
    throw new WgetExit(1);
  };
  let url = parseHttpUrl(rawUrl);
  if (url === undefined) return err(`not an http or ftp url: ${rawUrl.replace(/:\/\/.*/, "")}`);
  const wait = (): WaitOptions => ({ signal: ctx.signal, timeoutMs: o.timeoutSec ? o.timeoutSec * 1000 : undefined });
  const toStdout = o.output === "-";
  let fname = o.output;
  if (fname === undefined) {
    const path = url.path.slice(1);
    let last = path.slice(path.lastIndexOf("/") + 1);
    if (last === "") last = "index.html";
    fname = o.dirPrefix !== undefined ? `${o.dirPrefix.replace(/\/$/, "")}/${last}` : last;
  }
  const curfile = toStdout ? "-" : fname.slice(fname.lastIndexOf("/") + 1);
  for (let redirects = 16; ; ) {
    const addr = await resolveHost(ctx, url.host);
    if (addr === undefined) return err(`bad address '${url.host}'`);
    if (!o.quiet) ctx.stderr.write(`Connecting to ${url.hostPort} (${formatIpv4Addr(addr)}:${url.port})\n`);
    let conn: TcpConnection;
    try {
      conn = await TcpConnection.connect(ctx.netns, addr, url.port, wait());
    } catch (e) {
      if (isAbort(e)) throw e;
      const errno = errnoOf(e);
      if (errno === "ETIMEDOUT" && o.timeoutSec) return err("download timed out");
      return err(`can't connect to remote host (${formatIpv4Addr(addr)}): ${errno ? ERRNO_TEXT[errno] : String(e)}`);
    }
    try {
      await conn.write(latin1Bytes(request(url, o, false)), { signal: ctx.signal });
      const reader = new ByteReader(conn, wait);
      let head: HttpResponseHead | undefined;
      for (;;) {
        head = await readResponseHead(reader);
        if (head === undefined) return err("error getting response");
        if (o.serverResponse) {
          ctx.stderr.write(`  ${head.startLine}\n`);
          for (const [k, v] of head.headers) ctx.stderr.write(`  ${k}: ${v}\n`);
          ctx.stderr.write("  \n");
        }
        if (head.status !== 100 && head.status !== 0) break;
      }
      const status = head.status;
      if ([300, 301, 302, 303, 307, 308].includes(status)) {
        const location = headerValue(head, "location");
        if (location !== undefined) {
          if (--redirects === 0) return err("too many redirections");
          conn.close();
          if (location.startsWith("/")) url = { ...url, path: location };
          else {
            const next = parseHttpUrl(location);
            if (next === undefined) return err(`not an http or ftp url: ${location}`);
            url = next;
          }
          continue;
        }
      } else if (!(status >= 200 && status <= 204)) {
        return err(`server returned error: ${head.startLine}`);
      }
      const te = headerValue(head, "transfer-encoding");
      if (te !== undefined && te.toLowerCase() !== "chunked") return err(`transfer encoding '${te}' is not supported`);
      const cl = headerValue(head, "content-length");
      if (cl !== undefined && !/^\d+$/.test(cl.trim())) return err(`content-length ${cl} is garbage`);
      if (o.spider) {
        if (!o.quiet) ctx.stderr.write("remote file exists\n");
        conn.close();
        return;
      }
      let path: string | undefined;
      if (!toStdout) {
        path = resolvePath(ctx, fname);
        if (o.output === undefined && ctx.fs.stat(path, ctx.netns) !== undefined && !path.startsWith("/dev/")) {
          return err(`can't open '${fname}': File exists`);
        }
      }
      let sink: Sink;
      try {
        sink = sinkFor(ctx, path);
      } catch (e) {
        if (e instanceof VfsError) return err(`can't open '${fname}': ${e.message}`);
        throw e;
      }
      if (!o.quiet) ctx.stderr.write(toStdout ? "writing to stdout\n" : `saving to '${fname}'\n`);
      const start = ctx.clock.now();
      const total = cl !== undefined ? Number(cl) : 0;
      let transferred = 0;
      let lastUpdate = Math.floor(start / 1000);
      const progress = (final: boolean) => {
        if (o.quiet) return;
        const sec = Math.floor(ctx.clock.now() / 1000);
        if (!final && sec === lastUpdate) return;
        lastUpdate = sec;
        const size = final ? transferred : total;
        ctx.stderr.write(busyboxProgressLine(curfile, transferred, size, sec - Math.floor(start / 1000)));
      };
      try {
        for await (const chunk of readBody(reader, responseFraming(head, "GET"))) {
          sink.write(chunk);
          transferred += chunk.length;
          progress(false);
        }
      } catch (e) {
        sink.finish();
        if (e instanceof ShortBody) {
          progress(true);
          return err("connection closed prematurely");
        }
        if (e instanceof BadChunk) return err(e.message);
        if (errnoOf(e) === "EAGAIN") {
          progress(true);
          return err("download timed out");
        }
        throw e;
      }
      sink.finish();
      progress(true);
      if (!o.quiet) ctx.stderr.write(toStdout ? "written to stdout\n" : `'${fname}' saved\n`);
      conn.close();
      return;
    } catch (e) {
      conn.abort();
      if (errnoOf(e) === "EAGAIN") return err("download timed out");
      if (errnoOf(e) === "ECONNRESET") return err("error getting response: Connection reset by peer");
      throw e;
    }
  }
}

// ---- GNU --------------------------------------------------------------------

function gnuTime(ms: number): string {
  return wallClock(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, "");
}

/** GNU wget's human size in the progress bar ("615", "1.23K", "4.00M"). */
function gnuSize(n: number): string {
  const units = ["", "K", "M", "G", "T"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  if (i === 0) return String(n);
  const digits = v < 10 ? 2 : v < 100 ? 1 : 0;
  return `${v.toFixed(digits)}${units[i]}`;
}

/** GNU wget's rate text ("58.6 MB/s"). */
function gnuRate(bytes: number, seconds: number): string {
  const units = ["B/s", "KB/s", "MB/s", "GB/s"];
  let rate = bytes / Math.max(seconds, 1e-6);
  let i = 0;
  while (rate >= 1024 && i < units.length - 1) {
    rate /= 1024;
    i++;
  }
  const digits = rate >= 99.95 ? 0 : rate >= 9.995 ? 1 : 2;
  return `${rate.toFixed(digits)} ${units[i]}`;
}

async function gnuOne(ctx: ProcessContext, o: WgetOptions, rawUrl: string): Promise<void> {
  const say = (text: string) => {
    if (!o.quiet) ctx.stderr.write(text);
  };
  const url = parseHttpUrl(rawUrl.includes("://") ? rawUrl : `http://${rawUrl}`);
  if (url === undefined) {
    ctx.stderr.write(`${rawUrl}: Unsupported scheme.\n`);
    throw new WgetExit(1);
  }
  const shown = `http://${url.hostPort}${url.path}`;
  say(`--${gnuTime(ctx.clock.now())}--  ${shown}\n`);
  const addr = await resolveHost(ctx, url.host);
  const literal = /^\d+\.\d+\.\d+\.\d+$/.test(url.host);
  if (addr === undefined) {
    say(`Resolving ${url.host} (${url.host})... failed: Name or service not known.\n`);
    ctx.stderr.write(`wget: unable to resolve host address ‘${url.host}’\n`);
    throw new WgetExit(4);
  }
  const ip = formatIpv4Addr(addr);
  if (!literal) say(`Resolving ${url.host} (${url.host})... ${ip}\n`);
  say(literal ? `Connecting to ${url.host}:${url.port}... ` : `Connecting to ${url.host} (${url.host})|${ip}|:${url.port}... `);
  const wait = (): WaitOptions => ({ signal: ctx.signal, timeoutMs: o.timeoutSec ? o.timeoutSec * 1000 : undefined });
  let conn: TcpConnection;
  try {
    conn = await TcpConnection.connect(ctx.netns, addr, url.port, wait());
  } catch (e) {
    if (isAbort(e)) throw e;
    const errno = errnoOf(e);
    say(`failed: ${errno ? ERRNO_TEXT[errno] : String(e)}.\n`);
    if (errno === "ETIMEDOUT") say("Giving up.\n\n");
    throw new WgetExit(4);
  }
  say("connected.\n");
  try {
    await conn.write(latin1Bytes(request(url, o, true)), { signal: ctx.signal });
    say("HTTP request sent, awaiting response... ");
    const reader = new ByteReader(conn, wait);
    const head = await readResponseHead(reader);
    if (head === undefined) {
      say("No data received.\nRetrying.\n\n");
      throw new WgetExit(4);
    }
    if (o.serverResponse) {
      say(`\n  ${head.startLine}\n`);
      for (const [k, v] of head.headers) say(`  ${k}: ${v}\n`);
    } else {
      say(`${head.status} ${head.reason}\n`);
    }
    if (head.status >= 400) {
      ctx.stderr.write(`${gnuTime(ctx.clock.now())} ERROR ${head.status}: ${head.reason}.\n\n`);
      conn.close();
      throw new WgetExit(8);
    }
    const cl = headerValue(head, "content-length");
    const type = headerValue(head, "content-type");
    const total = cl !== undefined ? Number(cl) : undefined;
    const typeText = type !== undefined ? ` [${type}]` : "";
    if (total !== undefined) say(`Length: ${total}${total >= 1024 ? ` (${gnuSize(total)})` : ""}${typeText}\n`);
    else say(`Length: unspecified${typeText}\n`);
    const toStdout = o.output === "-";
    let fname = o.output;
    if (fname === undefined) {
      const last = url.path.split("?")[0]!.slice(url.path.lastIndexOf("/") + 1);
      fname = last === "" ? "index.html" : last;
      const base = fname;
      for (let n = 1; ctx.fs.stat(resolvePath(ctx, fname), ctx.netns) !== undefined; n++) fname = `${base}.${n}`;
    }
    say(toStdout ? "Saving to: ‘STDOUT’\n\n" : `Saving to: ‘${fname}’\n\n`);
    const sink = sinkFor(ctx, toStdout ? undefined : resolvePath(ctx, fname));
    const start = ctx.clock.now();
    let got = 0;
    try {
      for await (const chunk of readBody(reader, responseFraming(head, "GET"))) {
        sink.write(chunk);
        got += chunk.length;
      }
    } finally {
      sink.finish();
    }
    const secs = (ctx.clock.now() - start) / 1000;
    const name = toStdout ? "-" : fname;
    const size = gnuSize(got).padStart(8);
    const speed = secs < 0.005 ? "--.-KB/s" : gnuRate(got, secs).replace(" ", "").padStart(8);
    const took = secs < 0.005 ? "0s" : `${secs < 10 ? secs.toFixed(2) : secs.toFixed(1)}s`;
    say(`${name.slice(0, 19).padEnd(20)}100%[===================>]${size}  ${speed}    in ${took.padEnd(8)}\n\n`);
    const totalText = total !== undefined ? `${got}/${total}` : `${got}`;
    say(
      `${gnuTime(ctx.clock.now())} (${gnuRate(got, secs)}) - ${toStdout ? "written to stdout" : `‘${fname}’ saved`} [${totalText}]\n\n`,
    );
    conn.close();
  } catch (e) {
    conn.abort();
    if (e instanceof WgetExit) throw e;
    if (e instanceof ShortBody || errnoOf(e) !== undefined) {
      const errno = errnoOf(e);
      say(`${gnuTime(ctx.clock.now())} (0.00 B/s) - Read error (${errno ? ERRNO_TEXT[errno] : "Connection closed"}).\n\n`);
      throw new WgetExit(4);
    }
    throw e;
  }
}

/** wget: busybox's in containers, GNU wget's on hosts. */
export const wget: Command = async (ctx) => {
  const bb = ctx.flavour === "busybox";
  const parsed = parseArgs(ctx);
  if (typeof parsed === "string") {
    ctx.stderr.write(`${parsed}\n`);
    if (bb) ctx.stderr.write(BB_USAGE);
    else ctx.stderr.write("Usage: wget [OPTION]... [URL]...\n\nTry `wget --help' for more options.\n");
    return bb ? 1 : 2;
  }
  if (parsed.urls.length === 0) {
    if (bb) {
      ctx.stderr.write(BB_USAGE);
      return 1;
    }
    ctx.stderr.write("wget: missing URL\nUsage: wget [OPTION]... [URL]...\n\nTry `wget --help' for more options.\n");
    return 1;
  }
  try {
    for (const url of parsed.urls) {
      if (bb) await busyboxOne(ctx, parsed, url);
      else await gnuOne(ctx, parsed, url);
    }
    return 0;
  } catch (e) {
    if (e instanceof WgetExit) return e.code;
    if (isAbort(e) || ctx.signal.aborted) return killedStatus(ctx.signal);
    throw e;
  }
};

/** wget for the busybox image and for hosts (the flavour picks the output). */
export const wgetCommands: Record<string, Command> = { wget };
