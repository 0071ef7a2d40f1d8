/**
 * HTTP/1.1 over the kernel model's TCP for the userland's clients (wget,
 * curl) and servers (nginx, httpd): a buffered reader over a connection,
 * message heads, bodies (Content-Length, chunked, until close), URLs and
 * the date formats the tools print.
 */
import { KernelError, type TcpConnection, type TcpListener, type WaitOptions } from "@kemu/kernel";
import { EPOCH_MS } from "../docker/cli.ts";

const EMPTY = new Uint8Array(0);
const LATIN1 = new TextDecoder("latin1");

/** Bytes as text, one char per byte (for message heads). */
export function latin1(bytes: Uint8Array): string {
  return LATIN1.decode(bytes);
}

/** Text as bytes, one byte per char. */
export function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 255;
  return out;
}

/** A buffered reader over a connection: lines for heads, exact counts and chunks for bodies. */
export class ByteReader {
  #buf: Uint8Array = EMPTY;
  #off = 0;
  #eof = false;
  /** Bytes read from the connection so far. */
  total = 0;

  constructor(
    private readonly conn: TcpConnection,
    /** Waiting options for each read (a timeout, the process's signal). */
    private readonly wait: () => WaitOptions = () => ({}),
  ) {}

  get #available(): number {
    return this.#buf.length - this.#off;
  }

  async #fill(): Promise<boolean> {
    if (this.#eof) return false;
    const more = await this.conn.read(undefined, this.wait());
    if (more === undefined) {
      this.#eof = true;
      return false;
    }
    this.total += more.length;
    if (this.#available === 0) {
      this.#buf = more;
    } else {
      const joined = new Uint8Array(this.#available + more.length);
      joined.set(this.#buf.subarray(this.#off));
      joined.set(more, this.#available);
      this.#buf = joined;
    }
    this.#off = 0;
    return true;
  }

  /** The next line without its CRLF or LF; undefined at end of stream. A last line without LF is returned as is. */
  async readLine(): Promise<string | undefined> {
    for (;;) {
      const nl = this.#buf.indexOf(10, this.#off);
      if (nl >= 0) {
        const end = nl > this.#off && this.#buf[nl - 1] === 13 ? nl - 1 : nl;
        const line = latin1(this.#buf.subarray(this.#off, end));
        this.#off = nl + 1;
        return line;
      }
      if (!(await this.#fill())) {
        if (this.#available === 0) return undefined;
        const line = latin1(this.#buf.subarray(this.#off));
        this.#off = this.#buf.length;
        return line;
      }
    }
  }

  /** Up to `max` bytes: what is buffered, else the next read; undefined at end of stream. */
  async readSome(max = Number.POSITIVE_INFINITY): Promise<Uint8Array | undefined> {
    if (this.#available === 0 && !(await this.#fill())) return undefined;
    const n = Math.min(max, this.#available);
    const out = this.#buf.subarray(this.#off, this.#off + n);
    this.#off += n;
    return out;
  }
}

/** A request or response head: the first line and the header fields in order. */
export interface HttpHead {
  readonly startLine: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
}

/** A response's status line, split. */
export interface HttpResponseHead extends HttpHead {
  readonly version: string;
  readonly status: number;
  readonly reason: string;
}

/** A request line, split. */
export interface HttpRequestHead extends HttpHead {
  readonly method: string;
  readonly target: string;
  readonly version: string;
}

/** The value of header `name` (case-insensitive), the first if repeated. */
export function headerValue(head: HttpHead, name: string): string | undefined {
  const lower = name.toLowerCase();
  return head.headers.find(([k]) => k.toLowerCase() === lower)?.[1];
}

async function readHeaders(r: ByteReader): Promise<Array<[string, string]>> {
  const headers: Array<[string, string]> = [];
  for (;;) {
    const line = await r.readLine();
    if (line === undefined || line === "") return headers;
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    headers.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
}

/** Reads a response head; throws KernelError EPROTO-like "ECONNRESET" when the stream ends first. */
export async function readResponseHead(r: ByteReader): Promise<HttpResponseHead | undefined> {
  const startLine = await r.readLine();
  if (startLine === undefined) return undefined;
  const m = /^(\S+)\s+(\d{3})\s*(.*)$/.exec(startLine);
  const headers = await readHeaders(r);
  return {
    startLine,
    headers,
    version: m?.[1] ?? "",
    status: m ? Number(m[2]) : 0,
    reason: m?.[3] ?? "",
  };
}

/** Reads a request head; undefined when the client closed before sending one. */
export async function readRequestHead(r: ByteReader): Promise<HttpRequestHead | undefined> {
  let startLine = await r.readLine();
  while (startLine === "") startLine = await r.readLine(); // RFC 9112 §2.2: ignore leading empty lines
  if (startLine === undefined) return undefined;
  const [method = "", target = "", version = ""] = startLine.split(/\s+/);
  const headers = await readHeaders(r);
  return { startLine, headers, method, target, version };
}

/** How a response body is delimited. */
export type BodyFraming = { kind: "none" } | { kind: "length"; length: number } | { kind: "chunked" } | { kind: "close" };

/** RFC 9112 §6.3 for a response to `method`. */
export function responseFraming(head: HttpResponseHead, method: string): BodyFraming {
  if (method === "HEAD" || head.status === 204 || head.status === 304 || (head.status >= 100 && head.status < 200)) {
    return { kind: "none" };
  }
  const te = headerValue(head, "transfer-encoding");
  if (te !== undefined && te.toLowerCase().includes("chunked")) return { kind: "chunked" };
  const cl = headerValue(head, "content-length");
  if (cl !== undefined && /^\d+$/.test(cl)) return { kind: "length", length: Number(cl) };
  return { kind: "close" };
}

/**
 * The body's bytes as they arrive, by its framing. Throws KernelError
 * ECONNRESET if the stream ends before a declared length (a short body).
 */
export async function* readBody(r: ByteReader, framing: BodyFraming): AsyncGenerator<Uint8Array> {
  switch (framing.kind) {
    case "none":
      return;
    case "length": {
      let left = framing.length;
      while (left > 0) {
        const chunk = await r.readSome(left);
        if (chunk === undefined) throw new ShortBody(framing.length - left);
        left -= chunk.length;
        yield chunk;
      }
      return;
    }
    case "close":
      for (let c = await r.readSome(); c !== undefined; c = await r.readSome()) yield c;
      return;
    case "chunked":
      for (;;) {
        const sizeLine = await r.readLine();
        if (sizeLine === undefined) throw new ShortBody(0);
        const size = Number.parseInt(sizeLine.split(";")[0]!.trim(), 16);
        if (!Number.isFinite(size) || size < 0) throw new BadChunk(sizeLine);
        if (size === 0) {
          await readHeaders(r); // trailers
          return;
        }
        let left = size;
        while (left > 0) {
          const chunk = await r.readSome(left);
          if (chunk === undefined) throw new ShortBody(size - left);
          left -= chunk.length;
          yield chunk;
        }
        await r.readLine(); // the CRLF after the chunk
      }
  }
}

/** The connection ended before the body did. */
export class ShortBody extends Error {
  override readonly name = "ShortBody";
  constructor(readonly got: number) {
    super("connection closed prematurely");
  }
}

/** A chunk-size line that is not hexadecimal. */
export class BadChunk extends Error {
  override readonly name = "BadChunk";
  constructor(readonly line: string) {
    super(`bad chunk length '${line}'`);
  }
}

/** An http:// URL as the tools split it. */
export interface HttpUrl {
  /** Host as written, with the port if one was given ("10.0.0.1:8080"). */
  readonly hostPort: string;
  readonly host: string;
  readonly port: number;
  /** The path and query, starting with "/". */
  readonly path: string;
}

/** Parses `http://host[:port][/path]` (the scheme may be left out). Undefined for other schemes or a bad port. */
export function parseHttpUrl(url: string): HttpUrl | undefined {
  let rest = url;
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(url);
  if (scheme) {
    if (scheme[1]!.toLowerCase() !== "http") return undefined;
    rest = url.slice(scheme[0].length);
  }
  const cut = rest.search(/[/?#]/);
  const hostPort = cut < 0 ? rest : rest.slice(0, cut);
  let path = cut < 0 ? "/" : rest.slice(cut);
  path = path.replace(/#.*$/, "");
  if (!path.startsWith("/")) path = `/${path}`;
  const at = hostPort.lastIndexOf("@");
  const hp = at >= 0 ? hostPort.slice(at + 1) : hostPort;
  const m = /^(.*?)(?::(\d*))?$/.exec(hp)!;
  const host = m[1]!;
  const port = m[2] === undefined || m[2] === "" ? 80 : Number(m[2]);
  if (host === "" || port > 65535) return undefined;
  return { hostPort: hp, host, port, path };
}

/** The emulated wall clock: ms since 2026-01-01T00:00:00Z for emulated time `ms`. */
export function wallClock(ms: number): Date {
  return new Date(EPOCH_MS + Math.floor(ms));
}

/** An IMF-fixdate (RFC 9110 §5.6.7): "Thu, 01 Jan 2026 00:00:05 GMT". */
export function httpDate(date: Date): string {
  return date.toUTCString();
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** nginx's and Apache's `$time_local` in UTC: "01/Jan/2026:00:00:05 +0000". */
export function clfDate(date: Date): string {
  return `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

/** "2026/01/01 00:00:05", nginx's error-log timestamp. */
export function logDate(date: Date): string {
  return `${date.getUTCFullYear()}/${pad(date.getUTCMonth() + 1)}/${pad(date.getUTCDate())} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
}

/** True for the error a read or write throws when the process's signal fired. */
export function isAbort(err: unknown): boolean {
  return err instanceof Error && err.name === "AbortError";
}

/**
 * A server's accept loop: hands each new connection to `serve` until the
 * listener closes or `signal` fires.
 */
export async function acceptEach(listener: TcpListener, signal: AbortSignal, serve: (conn: TcpConnection) => void): Promise<void> {
  for (;;) {
    let conn: TcpConnection | undefined;
    try {
      conn = await listener.accept({ signal });
    } catch (e) {
      if (isAbort(e)) return;
      throw e;
    }
    if (conn === undefined) return;
    serve(conn);
  }
}

/** The errno of a kernel error, if that is what `err` is. */
export function errnoOf(err: unknown): KernelError["errno"] | undefined {
  return err instanceof KernelError ? err.errno : undefined;
}
