/**
 * nginx 1.25.5 as the docker `nginx` image runs it: the default server on
 * :80 serving /usr/share/nginx/html (the stock "Welcome to nginx!" page),
 * nginx's headers and error pages, keep-alive, and access-log lines in the
 * image's `main` format on stdout and in /var/log/nginx/access.log.
 */
import { ERRNO_TEXT, type TcpConnection, TcpListener } from "@kemu/kernel";
import { formatIpv4Addr } from "@kemu/wire";
import type { Command, Output, ProcessContext } from "../process.ts";
import type { Vfs } from "../vfs.ts";
import { killedStatus } from "./_tool.ts";
import {
  acceptEach,
  ByteReader,
  clfDate,
  errnoOf,
  headerValue,
  httpDate,
  type HttpRequestHead,
  isAbort,
  latin1Bytes,
  logDate,
  readRequestHead,
  wallClock,
} from "./http.ts";

/** The version every banner and header shows. */
export const NGINX_VERSION = "1.25.5";

/** /usr/share/nginx/html/index.html of the nginx:1.25.5 image, byte for byte (615 bytes). */
export const NGINX_INDEX_HTML = `<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
`;

/** /usr/share/nginx/html/50x.html of the image (497 bytes). */
export const NGINX_50X_HTML = `<!DOCTYPE html>
<html>
<head>
<title>Error</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>An error occurred.</h1>
<p>Sorry, the page you are looking for is currently unavailable.<br/>
Please try again later.</p>
<p>If you are the system administrator of this resource then you should check
the error log for details.</p>
<p><em>Faithfully yours, nginx.</em></p>
</body>
</html>
`;

/** mtime of the image's html files (2024-04-16 14:29:59 UTC), as Last-Modified and ETag show it. */
const HTML_MTIME_S = 0x661e8b67;
const DOCROOT = "/usr/share/nginx/html";
const ACCESS_LOG = "/var/log/nginx/access.log";
const ERROR_LOG = "/var/log/nginx/error.log";
/** keepalive_timeout of the image's nginx.conf. */
const KEEPALIVE_MS = 65_000;
/** client_header_timeout's default. */
const HEADER_TIMEOUT_MS = 60_000;

const STATUS_TEXT: Record<number, string> = {
  200: "OK",
  301: "Moved Permanently",
  304: "Not Modified",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Not Allowed",
  408: "Request Time-out",
  414: "Request-URI Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  505: "HTTP Version Not Supported",
};

/** ngx_http_special_response.c's page for `status` (CRLF line ends, the version in the footer). */
export function nginxErrorPage(status: number): string {
  const title = `${status} ${STATUS_TEXT[status] ?? ""}`;
  return (
    `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n` +
    `<hr><center>nginx/${NGINX_VERSION}</center>\r\n</body>\r\n</html>\r\n`
  );
}

const MIME: Record<string, string> = {
  html: "text/html",
  htm: "text/html",
  shtml: "text/html",
  css: "text/css",
  xml: "text/xml",
  txt: "text/plain",
  js: "application/javascript",
  json: "application/json",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  svg: "image/svg+xml",
  ico: "image/x-icon",
};

function mimeOf(path: string): string {
  const dot = path.lastIndexOf(".");
  return (dot >= 0 ? MIME[path.slice(dot + 1).toLowerCase()] : undefined) ?? "application/octet-stream";
}

/** The nginx servers running, by the file system they serve from (for `nginx -s`). */
const running = new WeakMap<Vfs, { stop(): void }>();
/** A listening socket a daemonizing nginx opened for the master process it starts. */
const handoff = new WeakMap<Vfs, TcpListener>();

/** Writes the docker image's files (html, empty logs) into `fs` if they are missing. */
export function installNginxFiles(fs: Vfs): void {
  if (fs.stat(`${DOCROOT}/index.html`) === undefined) fs.writeFile(`${DOCROOT}/index.html`, NGINX_INDEX_HTML);
  if (fs.stat(`${DOCROOT}/50x.html`) === undefined) fs.writeFile(`${DOCROOT}/50x.html`, NGINX_50X_HTML);
  if (fs.stat(ACCESS_LOG) === undefined) fs.writeFile(ACCESS_LOG, "");
  if (fs.stat(ERROR_LOG) === undefined) fs.writeFile(ERROR_LOG, "");
}

interface Logs {
  access(line: string): void;
  error(line: string): void;
}

function logsFor(ctx: ProcessContext, foreground: boolean): Logs {
  // In the image, access.log and error.log are links to /dev/stdout and /dev/stderr.
  const append = (path: string, text: string) => {
    try {
      ctx.fs.appendFile(path, text, ctx.netns);
    } catch {
      // a log that cannot be written is skipped, as nginx does after its error
    }
  };
  return {
    access: (line) => {
      if (foreground) ctx.stdout.write(`${line}\n`);
      append(ACCESS_LOG, `${line}\n`);
    },
    error: (line) => {
      if (foreground) ctx.stderr.write(`${line}\n`);
      append(ERROR_LOG, `${line}\n`);
    },
  };
}

interface Response {
  status: number;
  headers: Array<[string, string]>;
  body: Uint8Array;
}

/** What the default server answers to one request. */
function respond(ctx: ProcessContext, req: HttpRequestHead, logs: Logs, connNo: number, client: string, keepAlive: boolean): Response {
  const date = httpDate(wallClock(ctx.clock.now()));
  const base: Array<[string, string]> = [
    ["Server", `nginx/${NGINX_VERSION}`],
    ["Date", date],
  ];
  const error = (status: number, extra: Array<[string, string]> = []): Response => {
    const page = latin1Bytes(nginxErrorPage(status));
    return {
      status,
      headers: [...base, ["Content-Type", "text/html"], ["Content-Length", String(page.length)], ...extra, ["Connection", keepAlive ? "keep-alive" : "close"]],
      body: page,
    };
  };
  if (!/^HTTP\/1\.[01]$/.test(req.version) || req.target === "" || !req.target.startsWith("/")) return error(400);
  if (req.method !== "GET" && req.method !== "HEAD") return error(405);
  let path: string;
  try {
    path = decodeURIComponent(req.target.split("?")[0]!);
  } catch {
    return error(400);
  }
  const host = headerValue(req, "host") ?? "";
  const errorLog = (what: string) =>
    logs.error(
      `${logDate(wallClock(ctx.clock.now()))} [error] 29#29: *${connNo} ${what}, client: ${client}, server: localhost, request: "${req.startLine}", host: "${host}"`,
    );
  let file = `${DOCROOT}${path}`;
  const kind = ctx.fs.stat(file, ctx.netns);
  if (kind === "dir") {
    if (!path.endsWith("/")) {
      return error(301, [["Location", `http://${host}${path}/`]]);
    }
    file = `${file}index.html`;
    if (ctx.fs.stat(file, ctx.netns) !== "file") {
      errorLog(`directory index of "${DOCROOT}${path}" is forbidden`);
      return error(403);
    }
  } else if (kind !== "file") {
    errorLog(`open() "${file}" failed (2: No such file or directory)`);
    return error(404);
  }
  const body = new TextEncoder().encode(ctx.fs.readFile(file, ctx.netns));
  const mtime = HTML_MTIME_S;
  const etag = `"${mtime.toString(16)}-${body.length.toString(16)}"`;
  return {
    status: 200,
    headers: [
      ...base,
      ["Content-Type", mimeOf(file)],
      ["Content-Length", String(body.length)],
      ["Last-Modified", httpDate(new Date(mtime * 1000))],
      ["Connection", keepAlive ? "keep-alive" : "close"],
      ["ETag", etag],
      ["Accept-Ranges", "bytes"],
    ],
    body,
  };
}

async function serveConnection(ctx: ProcessContext, conn: TcpConnection, logs: Logs, connNo: number): Promise<void> {
  const client = formatIpv4Addr(conn.remoteAddr);
  let timeout = HEADER_TIMEOUT_MS;
  const reader = new ByteReader(conn, () => ({ signal: ctx.signal, timeoutMs: timeout }));
  try {
    for (;;) {
      timeout = KEEPALIVE_MS;
      const req = await readRequestHead(reader);
      if (req === undefined) break;
      const connection = (headerValue(req, "connection") ?? "").toLowerCase();
      const keepAlive = req.version === "HTTP/1.1" ? connection !== "close" : connection === "keep-alive";
      const res = respond(ctx, req, logs, connNo, client, keepAlive);
      const head = `HTTP/1.1 ${res.status} ${STATUS_TEXT[res.status] ?? ""}\r\n${res.headers.map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`;
      const sendBody = req.method !== "HEAD";
      const headBytes = latin1Bytes(head);
      const out = new Uint8Array(headBytes.length + (sendBody ? res.body.length : 0));
      out.set(headBytes);
      if (sendBody) out.set(res.body, headBytes.length);
      await conn.write(out, { signal: ctx.signal });
      const ua = headerValue(req, "user-agent") ?? "-";
      const referer = headerValue(req, "referer") ?? "-";
      const xff = headerValue(req, "x-forwarded-for") ?? "-";
      logs.access(
        `${client} - - [${clfDate(wallClock(ctx.clock.now()))}] "${req.startLine}" ${res.status} ${sendBody ? res.body.length : 0} "${referer}" "${ua}" "${xff}"`,
      );
      if (!keepAlive || res.status === 400) break;
    }
  } catch (e) {
    if (isAbort(e)) {
      conn.abort();
      return;
    }
    if (errnoOf(e) === undefined) throw e;
    // A client that went quiet (keepalive_timeout) or reset: nginx just closes.
  }
  conn.close();
}

/** Opens :80 as nginx does, or reports why not (nginx's [emerg] lines); undefined on failure. */
function bind(ctx: ProcessContext, logs: Logs): TcpListener | undefined {
  try {
    return TcpListener.listen(ctx.netns, 0, 80, { backlog: 511 });
  } catch (e) {
    const errno = errnoOf(e);
    const text = `bind() to 0.0.0.0:80 failed (${errno === "EADDRINUSE" ? 98 : 99}: ${errno ? ERRNO_TEXT[errno] : String(e)})`;
    logs.error(`${logDate(wallClock(ctx.clock.now()))} [emerg] 1#1: ${text}`);
    ctx.stderr.write(`nginx: [emerg] ${text}\n`);
    ctx.stderr.write("nginx: [emerg] still could not bind()\n");
    return undefined;
  }
}

/** Runs the server until the process is killed or `nginx -s stop`; resolves with the exit status. */
async function serve(ctx: ProcessContext, foreground: boolean): Promise<number> {
  installNginxFiles(ctx.fs);
  const logs = logsFor(ctx, foreground);
  const stamp = () => logDate(wallClock(ctx.clock.now()));
  const inherited = handoff.get(ctx.fs);
  handoff.delete(ctx.fs);
  const listener = inherited ?? bind(ctx, logs);
  if (listener === undefined) return 1;
  for (const line of [
    'using the "epoll" event method',
    `nginx/${NGINX_VERSION}`,
    "built by gcc 12.2.0 (Debian 12.2.0-14) ",
    "OS: Linux 6.8.0",
    "getrlimit(RLIMIT_NOFILE): 1048576:1048576",
    "start worker processes",
    "start worker process 29",
    "start worker process 30",
  ]) {
    logs.error(`${stamp()} [notice] 1#1: ${line}`);
  }
  const stopper = new AbortController();
  const me = { stop: () => stopper.abort() };
  running.set(ctx.fs, me);
  const onKill = () => stopper.abort();
  ctx.signal.addEventListener("abort", onKill, { once: true });
  const connections = new Set<Promise<void>>();
  let connNo = 0;
  try {
    await acceptEach(listener, stopper.signal, (conn) => {
      const served = serveConnection(ctx, conn, logs, ++connNo).finally(() => connections.delete(served));
      connections.add(served);
    });
  } finally {
    listener.close();
    ctx.signal.removeEventListener("abort", onKill);
    if (running.get(ctx.fs) === me) running.delete(ctx.fs);
  }
  if (ctx.signal.aborted) return killedStatus(ctx.signal);
  logs.error(`${stamp()} [notice] 1#1: signal process started`);
  return 0;
}

/**
 * nginx: `nginx -g 'daemon off;'` serves in the foreground (the image's
 * command); plain `nginx` daemonizes, leaving the server running in the
 * background; `-v`, `-t`, `-s stop|quit`.
 */
export const nginx: Command = async (ctx) => {
  const args = ctx.argv.slice(1);
  let daemon = true;
  let signalName: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    switch (a) {
      case "-v":
        ctx.stderr.write(`nginx version: nginx/${NGINX_VERSION}\n`);
        return 0;
      case "-V":
        ctx.stderr.write(
          `nginx version: nginx/${NGINX_VERSION}\nbuilt by gcc 12.2.0 (Debian 12.2.0-14) \nbuilt with OpenSSL 3.0.11 19 Sep 2023\nTLS SNI support enabled\n`,
        );
        return 0;
      case "-t":
      case "-T":
        ctx.stderr.write(
          "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\nnginx: configuration file /etc/nginx/nginx.conf test is successful\n",
        );
        return 0;
      case "-g": {
        const directives = args[++i] ?? "";
        if (/\bdaemon\s+off\s*;/.test(directives)) daemon = false;
        break;
      }
      case "-s":
        signalName = args[++i];
        break;
      case "-c":
      case "-p":
      case "-e":
        i++;
        break;
      case "-q":
        break;
      default:
        ctx.stderr.write(`nginx: invalid option: "${a.replace(/^-/, "")}"\n`);
        return 1;
    }
  }
  if (signalName !== undefined) {
    if (!["stop", "quit", "reopen", "reload"].includes(signalName)) {
      ctx.stderr.write(`nginx: invalid option: "-s ${signalName}"\n`);
      return 1;
    }
    const server = running.get(ctx.fs);
    if (server === undefined) {
      ctx.stderr.write(
        `${logDate(wallClock(ctx.clock.now()))} [notice] 1#1: signal process started\n` +
          `${logDate(wallClock(ctx.clock.now()))} [error] 1#1: open() "/run/nginx.pid" failed (2: No such file or directory)\n` +
          `nginx: [error] open() "/run/nginx.pid" failed (2: No such file or directory)\n`,
      );
      return 1;
    }
    if (signalName === "stop" || signalName === "quit") server.stop();
    return 0;
  }
  if (!daemon) {
    try {
      return await serve(ctx, true);
    } catch (e) {
      if (isAbort(e) || ctx.signal.aborted) return killedStatus(ctx.signal);
      throw e;
    }
  }
  // Daemonize: bind here, then hand the socket to a master process that lives on
  // after this one exits and logs to files only.
  installNginxFiles(ctx.fs);
  const listener = bind(ctx, logsFor(ctx, false));
  if (listener === undefined) return 1;
  handoff.set(ctx.fs, listener);
  const nowhere: Output = { write: () => {} };
  void ctx.spawn(["nginx", "-g", "daemon off;"], { stdout: nowhere, stderr: nowhere }).catch(() => 1);
  return 0;
};

/** The nginx image's own program. */
export const nginxCommands: Record<string, Command> = { nginx };
