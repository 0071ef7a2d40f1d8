/**
 * curl 8.5 (the hosts' Ubuntu 24.04 build) for http:// URLs over the kernel
 * model's TCP: -s -S -o -O -v -I -i -L -f -m --connect-timeout -H -A -X,
 * with curl's error wording and exit codes.
 */
import { ERRNO_TEXT, KernelError, TcpConnection, type WaitOptions } from "@kemu/kernel";
import { formatIpv4Addr } from "@kemu/wire";
import type { Command, ProcessContext } from "../process.ts";
import { killedStatus, resolvePath } from "./_tool.ts";
import {
  ByteReader,
  errnoOf,
  headerValue,
  type HttpUrl,
  isAbort,
  latin1Bytes,
  parseHttpUrl,
  readBody,
  readResponseHead,
  responseFraming,
  ShortBody,
} from "./http.ts";
import { resolveHost } from "./resolve.ts";

interface CurlOptions {
  silent: boolean;
  showError: boolean;
  output: string | undefined;
  remoteName: boolean;
  verbose: boolean;
  head: boolean;
  include: boolean;
  location: boolean;
  fail: boolean;
  maxTimeMs: number | undefined;
  connectTimeoutMs: number | undefined;
  headers: string[];
  userAgent: string;
  method: string | undefined;
  url: string | undefined;
}

/** A curl error: its exit code and message. */
class CurlError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function parseArgs(args: readonly string[]): CurlOptions | CurlError {
  const o: CurlOptions = {
    silent: false,
    showError: false,
    output: undefined,
    remoteName: false,
    verbose: false,
    head: false,
    include: false,
    location: false,
    fail: false,
    maxTimeMs: undefined,
    connectTimeoutMs: undefined,
    headers: [],
    userAgent: "curl/8.5.0",
    method: undefined,
    url: undefined,
  };
  const long: Record<string, string> = {
    silent: "s",
    "show-error": "S",
    output: "o",
    "remote-name": "O",
    verbose: "v",
    head: "I",
    include: "i",
    location: "L",
    fail: "f",
    "max-time": "m",
    header: "H",
    "user-agent": "A",
    request: "X",
  };
  const withValue = new Set(["o", "m", "H", "A", "X", "connect-timeout"]);
  const set = (f: string, v: string | undefined): CurlError | undefined => {
    switch (f) {
      case "s":
        o.silent = true;
        break;
      case "S":
        o.showError = true;
        break;
      case "o":
        o.output = v;
        break;
      case "O":
        o.remoteName = true;
        break;
      case "v":
        o.verbose = true;
        break;
      case "I":
        o.head = true;
        break;
      case "i":
        o.include = true;
        break;
      case "L":
        o.location = true;
        break;
      case "f":
        o.fail = true;
        break;
      case "m":
        o.maxTimeMs = Number(v) * 1000;
        break;
      case "connect-timeout":
        o.connectTimeoutMs = Number(v) * 1000;
        break;
      case "H":
        o.headers.push(v!);
        break;
      case "A":
        o.userAgent = v!;
        break;
      case "X":
        o.method = v;
        break;
      default:
        return new CurlError(2, `option -${f}: is unknown`);
    }
    return undefined;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith("--")) {
      const name = a.slice(2);
      const f = long[name] ?? name;
      if (!(name in long) && name !== "connect-timeout") {
        return new CurlError(2, `option ${a}: is unknown\ncurl: try 'curl --help' or 'curl --manual' for more information`);
      }
      let v: string | undefined;
      if (withValue.has(f)) {
        v = args[++i];
        if (v === undefined) return new CurlError(2, `option ${a}: requires parameter\ncurl: try 'curl --help' or 'curl --manual' for more information`);
      }
      const e = set(f, v);
      if (e) return e;
      continue;
    }
    if (a.startsWith("-") && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const f = a[j]!;
        let v: string | undefined;
        if (withValue.has(f)) {
          v = j + 1 < a.length ? a.slice(j + 1) : args[++i];
          if (v === undefined) return new CurlError(2, `option -${f}: requires parameter\ncurl: try 'curl --help' or 'curl --manual' for more information`);
          const e = set(f, v);
          if (e) return new CurlError(2, `option -${f}: is unknown\ncurl: try 'curl --help' or 'curl --manual' for more information`);
          break;
        }
        if (set(f, undefined)) return new CurlError(2, `option -${f}: is unknown\ncurl: try 'curl --help' or 'curl --manual' for more information`);
      }
      continue;
    }
    o.url = a;
  }
  return o;
}

/** curl's max5data: sizes in five columns ("  615", " 600k", "12.3M"). */
function max5(bytes: number): string {
  const k = 1024;
  const m = k * k;
  if (bytes < 100000) return String(Math.floor(bytes)).padStart(5);
  if (bytes < 10000 * k) return `${String(Math.floor(bytes / k)).padStart(4)}k`;
  if (bytes < 100 * m) return `${String(Math.floor(bytes / m)).padStart(2)}.${Math.floor((bytes % m) / (m / 10))}M`;
  return `${String(Math.floor(bytes / m)).padStart(4)}M`;
}

const PROGRESS_HEAD =
  "  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n" +
  "                                 Dload  Upload   Total   Spent    Left  Speed\n";

function progressLine(total: number | undefined, got: number, ms: number): string {
  const pct = total ? Math.floor((got * 100) / total) : total === 0 ? 100 : 0;
  const speed = ms > 0 ? (got * 1000) / ms : got;
  const t = total ?? got;
  return `${String(pct).padStart(3)} ${max5(t)}  ${String(pct).padStart(3)} ${max5(got)}    0     0  ${max5(speed)}      0 --:--:-- --:--:-- --:--:-- ${max5(speed)}`;
}

async function fetchOnce(
  ctx: ProcessContext,
  o: CurlOptions,
  url: HttpUrl,
  start: number,
  out: (text: string) => void,
): Promise<{ location: string | undefined }> {
  const verbose = (text: string) => {
    if (o.verbose) ctx.stderr.write(text);
  };
  const elapsed = () => Math.round(ctx.clock.now() - start);
  const addr = await resolveHost(ctx, url.host);
  if (addr === undefined) throw new CurlError(6, `Could not resolve host: ${url.host}`);
  const ip = formatIpv4Addr(addr);
  verbose(`*   Trying ${ip}:${url.port}...\n`);
  const deadline = o.maxTimeMs !== undefined ? start + o.maxTimeMs : undefined;
  const connectLimit = o.connectTimeoutMs ?? 300_000;
  const connectDeadline = Math.min(deadline ?? Number.POSITIVE_INFINITY, start + connectLimit);
  let conn: TcpConnection;
  try {
    conn = await TcpConnection.connect(ctx.netns, addr, url.port, {
      signal: ctx.signal,
      timeoutMs: Math.max(0, connectDeadline - ctx.clock.now()),
    });
  } catch (e) {
    if (isAbort(e)) throw e;
    const errno = errnoOf(e);
    const ours = ctx.clock.now() >= connectDeadline;
    if (errno === "ETIMEDOUT" && ours) {
      throw new CurlError(28, `Failed to connect to ${url.host} port ${url.port} after ${elapsed()} ms: Timeout was reached`);
    }
    if (errno !== undefined) verbose(`* connect to ${ip} port ${url.port} from 0.0.0.0 port 0 failed: ${ERRNO_TEXT[errno]}\n`);
    verbose(`* Failed to connect to ${url.host} port ${url.port} after ${elapsed()} ms: Couldn't connect to server\n* Closing connection\n`);
    throw new CurlError(7, `Failed to connect to ${url.host} port ${url.port} after ${elapsed()} ms: Couldn't connect to server`);
  }
  verbose(`* Connected to ${url.host} (${ip}) port ${url.port}\n`);
  const method = o.method ?? (o.head ? "HEAD" : "GET");
  const lines = [`${method} ${url.path} HTTP/1.1`];
  const user = (name: string) => o.headers.some((h) => h.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  if (!user("Host")) lines.push(`Host: ${url.hostPort}`);
  if (!user("User-Agent")) lines.push(`User-Agent: ${o.userAgent}`);
  if (!user("Accept")) lines.push("Accept: */*");
  lines.push(...o.headers.filter((h) => !/:\s*$/.test(h)));
  for (const l of lines) verbose(`> ${l}\n`);
  verbose("> \n");
  const wait = (): WaitOptions => ({
    signal: ctx.signal,
    timeoutMs: deadline !== undefined ? Math.max(0, deadline - ctx.clock.now()) : undefined,
  });
  let got = 0;
  try {
    await conn.write(latin1Bytes(`${lines.join("\r\n")}\r\n\r\n`), wait());
    const reader = new ByteReader(conn, wait);
    const head = await readResponseHead(reader);
    if (head === undefined) throw new CurlError(52, "Empty reply from server");
    verbose(`< ${head.startLine}\n`);
    for (const [k, v] of head.headers) verbose(`< ${k}: ${v}\n`);
    verbose("< \n");
    if (o.fail && head.status >= 400) {
      conn.close();
      throw new CurlError(22, `The requested URL returned error: ${head.status}`);
    }
    if (o.head || o.include) {
      out(`${head.startLine}\r\n${head.headers.map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`);
    }
    const framing = responseFraming(head, method);
    const total = framing.kind === "length" ? framing.length : undefined;
    const decoder = new TextDecoder();
    const showMeter = !o.silent && ((o.output !== undefined && o.output !== "-") || o.remoteName);
    if (showMeter) ctx.stderr.write(PROGRESS_HEAD);
    const bodyStart = ctx.clock.now();
    for await (const chunk of readBody(reader, framing)) {
      got += chunk.length;
      out(decoder.decode(chunk, { stream: true }));
    }
    const rest = decoder.decode();
    if (rest) out(rest);
    if (showMeter) ctx.stderr.write(`\r${progressLine(total ?? got, got, ctx.clock.now() - bodyStart)}\n`);
    verbose(`* Connection #0 to host ${url.host} left intact\n`);
    conn.close();
    return { location: head.status >= 300 && head.status < 400 ? headerValue(head, "location") : undefined };
  } catch (e) {
    conn.abort();
    if (e instanceof CurlError) throw e;
    if (e instanceof ShortBody) throw new CurlError(18, `end of response with ${e.got} bytes missing`);
    const errno = errnoOf(e);
    if (errno === "EAGAIN") {
      throw new CurlError(28, `Operation timed out after ${elapsed()} milliseconds with ${got} bytes received`);
    }
    if (errno === "ECONNRESET") throw new CurlError(56, "Recv failure: Connection reset by peer");
    if (e instanceof KernelError) throw new CurlError(56, `Recv failure: ${e.text}`);
    throw e;
  }
}

/** curl for http:// URLs. */
export const curl: Command = async (ctx) => {
  const parsed = parseArgs(ctx.argv.slice(1));
  if (parsed instanceof CurlError) {
    ctx.stderr.write(`curl: ${parsed.message}\n`);
    return parsed.code;
  }
  const o = parsed;
  if (o.url === undefined) {
    ctx.stderr.write("curl: try 'curl --help' or 'curl --manual' for more information\n");
    return 2;
  }
  const start = ctx.clock.now();
  let target = o.url;
  let file = o.output === "-" ? undefined : o.output;
  if (file === undefined && o.remoteName) {
    const path = parseHttpUrl(target)?.path ?? "/";
    file = path.slice(path.lastIndexOf("/") + 1).split("?")[0]!;
    if (file === "") {
      if (!o.silent || o.showError) ctx.stderr.write("curl: (23) Remote file name has no length\n");
      return 23;
    }
  }
  // Straight to stdout as it arrives, unless it goes to a file or a redirect may replace it.
  const buffered = file !== undefined || o.location;
  const parts: string[] = [];
  const out = (t: string) => (buffered ? parts.push(t) : ctx.stdout.write(t));
  const save = (path: string) => {
    if (path === "/dev/null") return;
    ctx.fs.writeFile(resolvePath(ctx, path), parts.join(""), ctx.netns);
  };
  try {
    for (let hops = 0; ; hops++) {
      const url = parseHttpUrl(target);
      if (url === undefined) {
        const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(target)?.[1];
        throw new CurlError(1, `Protocol "${scheme}" not supported`);
      }
      parts.length = 0;
      const { location } = await fetchOnce(ctx, o, url, start, out);
      if (!o.location || location === undefined || hops >= 50) break;
      target = location.startsWith("/") ? `http://${url.hostPort}${location}` : location;
      if (o.verbose) ctx.stderr.write(`* Issue another request to this URL: '${target}'\n`);
    }
    if (file !== undefined) save(file);
    else if (buffered) ctx.stdout.write(parts.join(""));
    return 0;
  } catch (e) {
    if (e instanceof CurlError) {
      if (file !== undefined && parts.length > 0) save(file);
      else if (buffered) ctx.stdout.write(parts.join(""));
      if (!o.silent || o.showError) ctx.stderr.write(`curl: (${e.code}) ${e.message}\n`);
      return e.code;
    }
    if (isAbort(e) || ctx.signal.aborted) return killedStatus(ctx.signal);
    throw e;
  }
};

/** curl, on hosts. */
export const curlCommands: Record<string, Command> = { curl };
