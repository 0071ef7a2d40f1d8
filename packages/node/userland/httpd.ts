/**
 * busybox httpd: `httpd [-f] [-v[v]] [-p [IP:]PORT] [-h HOME]`, a small
 * static file server (one request per connection, as busybox serves), with
 * its headers and error pages from networking/httpd.c. Used as the web
 * server of the world outside a host.
 */
import { ERRNO_TEXT, type TcpConnection, TcpListener } from "@kemu/kernel";
import { formatIpv4Addr, parseIpv4Addr } from "@kemu/wire";
import type { Command, Output, ProcessContext } from "../process.ts";
import { BUSYBOX_BANNER } from "./_net.ts";
import { killedStatus, resolvePath } from "./_tool.ts";
import { ByteReader, errnoOf, httpDate, isAbort, latin1Bytes, readRequestHead, wallClock } from "./http.ts";

const INFO: Record<number, [string, string | undefined]> = {
  200: ["OK", undefined],
  302: ["Found", undefined],
  400: ["Bad Request", "Unsupported method"],
  403: ["Forbidden", ""],
  404: ["Not Found", "The requested URL was not found"],
  408: ["Request Timeout", "No request appeared within 60 seconds"],
  501: ["Not Implemented", "The requested method is not recognized"],
};

const MIME: Record<string, string> = {
  html: "text/html",
  htm: "text/html",
  txt: "text/plain",
  css: "text/css",
  js: "application/javascript",
  json: "application/json",
  png: "image/png",
  jpg: "image/jpeg",
  gif: "image/gif",
};

const USAGE = `${BUSYBOX_BANNER}

Usage: httpd [-ifv[v]] [-c CONFFILE] [-p [IP:]PORT] [-u USER[:GRP]] [-r REALM] [-h HOME]
or httpd -d/-e/-m STRING

Listen for incoming HTTP requests

	-i		Inetd mode
	-f		Run in foreground
	-v[v]		Verbose
	-p [IP:]PORT	Bind to IP:PORT (default *:80)
	-u USER[:GRP]	Set uid/gid after binding to port
	-r REALM	Authentication Realm for Basic Authentication
	-h HOME		Home directory (default .)
	-c FILE		Configuration file (default {/etc,HOME}/httpd.conf)
	-m STRING	MD5 crypt STRING
	-e STRING	HTML encode STRING
	-d STRING	URL decode STRING
`;

interface Response {
  status: number;
  headers: string;
  body: Uint8Array;
  sendBody: boolean;
}

function respond(ctx: ProcessContext, home: string, method: string, target: string, version: string): Response {
  const date = httpDate(wallClock(ctx.clock.now()));
  const head = (status: number, extra = "") => `HTTP/1.1 ${status} ${INFO[status]![0]}\r\nDate: ${date}\r\nConnection: close\r\n${extra}`;
  const error = (status: number, extra = ""): Response => {
    const [name, info] = INFO[status]!;
    const body = info === undefined ? "" : `<HTML><HEAD><TITLE>${status} ${name}</TITLE></HEAD>\n<BODY><H1>${status} ${name}</H1>\n${info}\n</BODY></HTML>\n`;
    return { status, headers: `${head(status, "Content-type: text/html\r\n")}${extra}\r\n`, body: latin1Bytes(body), sendBody: true };
  };
  if (!version.startsWith("HTTP/")) return error(400);
  if (method !== "GET" && method !== "HEAD" && method !== "POST") return error(501);
  let path: string;
  try {
    path = decodeURIComponent(target.split("?")[0]!);
  } catch {
    return error(400);
  }
  if (!path.startsWith("/") || path.split("/").includes("..")) return error(400);
  let file = `${home.replace(/\/$/, "")}${path}`;
  let kind = ctx.fs.stat(file, ctx.netns);
  if (kind === "dir" && !path.endsWith("/")) {
    return { status: 302, headers: `${head(302, "Content-type: text/html\r\n")}Location: ${path}/\r\n\r\n`, body: new Uint8Array(0), sendBody: true };
  }
  if (kind === "dir") {
    file = `${file}index.html`;
    kind = ctx.fs.stat(file, ctx.netns);
  }
  if (kind !== "file") return error(404);
  const body = new TextEncoder().encode(ctx.fs.readFile(file, ctx.netns));
  const mtime = Math.floor(wallClock(0).getTime() / 1000);
  const dot = file.lastIndexOf(".");
  const mime = (dot >= 0 ? MIME[file.slice(dot + 1).toLowerCase()] : undefined) ?? "application/octet-stream";
  const headers =
    head(200, `Content-type: ${mime}\r\n`) +
    `Accept-Ranges: bytes\r\nLast-Modified: ${httpDate(new Date(mtime * 1000))}\r\nETag: "${mtime.toString(16)}-${body.length.toString(16)}"\r\n` +
    `Content-Length: ${body.length}\r\n\r\n`;
  return { status: 200, headers, body, sendBody: method !== "HEAD" };
}

async function handle(ctx: ProcessContext, conn: TcpConnection, home: string, verbose: number): Promise<void> {
  const who = `${formatIpv4Addr(conn.remoteAddr)}:${conn.remotePort}`;
  const log = (text: string) => ctx.stderr.write(`${who}: ${text}\n`);
  const reader = new ByteReader(conn, () => ({ signal: ctx.signal, timeoutMs: 60_000 }));
  try {
    if (verbose > 2) log("connected");
    const req = await readRequestHead(reader);
    let res: Response;
    if (req === undefined) {
      conn.close();
      return;
    }
    if (verbose > 1) log(`url:${req.target}`);
    res = respond(ctx, home, req.method, req.target, req.version);
    if (verbose) log(`response:${res.status}`);
    const head = latin1Bytes(res.headers);
    const out = new Uint8Array(head.length + (res.sendBody ? res.body.length : 0));
    out.set(head);
    if (res.sendBody) out.set(res.body, head.length);
    await conn.write(out, { signal: ctx.signal });
  } catch (e) {
    if (isAbort(e)) {
      conn.abort();
      return;
    }
    if (errnoOf(e) === "EAGAIN") {
      if (verbose) log("response:408");
    } else if (errnoOf(e) === undefined) throw e;
  }
  conn.close();
}

/** httpd: busybox's small web server. */
export const httpd: Command = async (ctx) => {
  let foreground = false;
  let verbose = 0;
  let bindAddr = 0;
  let port = 80;
  let home = ".";
  const args = ctx.argv.slice(1);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith("-")) {
      ctx.stderr.write(USAGE);
      return 1;
    }
    for (let j = 1; j < a.length; j++) {
      const f = a[j]!;
      if ("phcurmed".includes(f)) {
        const v = j + 1 < a.length ? a.slice(j + 1) : args[++i];
        if (v === undefined) {
          ctx.stderr.write(`httpd: option requires an argument -- '${f}'\n${USAGE}`);
          return 1;
        }
        if (f === "p") {
          const m = /^(?:(.*):)?(\d+)$/.exec(v);
          const addr = m?.[1] !== undefined ? parseIpv4Addr(m[1]) : 0;
          if (!m || addr === undefined || Number(m[2]) > 65535) {
            ctx.stderr.write(`httpd: bad port '${v}'\n`);
            return 1;
          }
          bindAddr = addr;
          port = Number(m[2]);
        } else if (f === "h") home = v;
        break;
      }
      if (f === "f") foreground = true;
      else if (f === "v") verbose++;
      else if (f === "i") continue;
      else {
        ctx.stderr.write(`httpd: invalid option -- '${f}'\n${USAGE}`);
        return 1;
      }
    }
  }
  const root = resolvePath(ctx, home);
  let listener: TcpListener;
  try {
    listener = TcpListener.listen(ctx.netns, bindAddr, port, { backlog: 9 });
  } catch (e) {
    const errno = errnoOf(e);
    ctx.stderr.write(`httpd: bind: ${errno ? ERRNO_TEXT[errno] : String(e)}\n`);
    return 1;
  }
  const run = async (c: ProcessContext): Promise<number> => {
    const onKill = () => listener.close();
    c.signal.addEventListener("abort", onKill, { once: true });
    try {
      for (;;) {
        const conn = await listener.accept();
        if (conn === undefined) break;
        void handle(c, conn, root, verbose);
      }
    } finally {
      listener.close();
      c.signal.removeEventListener("abort", onKill);
    }
    return killedStatus(c.signal);
  };
  if (foreground) return run(ctx);
  // Without -f busybox httpd daemonizes: the server lives on in a child process.
  pendingServers.set(ctx.fs, run);
  const nowhere: Output = { write: () => {} };
  void ctx.spawn(["httpd", "--serve-daemon"], { stdout: nowhere, stderr: nowhere }).catch(() => 1);
  return 0;
};

/** Servers a daemonizing httpd bound, waiting for their child process to run them. */
const pendingServers = new WeakMap<object, (ctx: ProcessContext) => Promise<number>>();

/** The child a daemonizing httpd starts. */
const httpdDaemon: Command = async (ctx) => {
  const run = pendingServers.get(ctx.fs);
  pendingServers.delete(ctx.fs);
  return run ? run(ctx) : 1;
};

/** httpd: busybox's applet, also installed on hosts. */
export const httpdCommands: Record<string, Command> = {
  httpd: (ctx) => (ctx.argv[1] === "--serve-daemon" ? httpdDaemon(ctx) : httpd(ctx)),
};
