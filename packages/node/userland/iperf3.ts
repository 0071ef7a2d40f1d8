/**
 * iperf3 over the kernel model's sockets: a server (`-s [-p port] [-1]`)
 * and a client (`-c host [-p port] [-t secs | -n bytes] [-l len] [-R]`)
 * that measure TCP bulk throughput the way labs do, printing what iperf3
 * 3.16 prints. Like the real tool, a test is a control connection (state
 * bytes and length-prefixed JSON) plus one data connection; the sender
 * writes `-l` bytes at a time (128 KiB by default) straight into the
 * socket, and the receiver reads as much at a time. Not wire-compatible
 * with the real iperf3. Time is the process's clock: emulated time on a
 * virtual clock, the wall clock in real-time mode.
 */
import { ERRNO_TEXT, KernelError, TcpConnection, TcpListener } from "@kemu/kernel";
import { formatIpv4Addr } from "@kemu/wire";
import type { Command, ProcessContext } from "../process.ts";
import { isOptError, killedStatus, optErrorText, parseOpts } from "./_tool.ts";
import { errnoOf, isAbort } from "./http.ts";
import { resolveHost } from "./resolve.ts";

/** The state bytes of iperf3's control protocol (iperf_api.h). */
const TEST_START = 1;
const TEST_RUNNING = 2;
const TEST_END = 4;
const PARAM_EXCHANGE = 9;
const CREATE_STREAMS = 10;
const EXCHANGE_RESULTS = 13;
const DISPLAY_RESULTS = 14;
const IPERF_DONE = 16;

/** iperf3's cookie: 36 characters and a NUL. */
const COOKIE_LEN = 37;
const DEFAULT_PORT = 5201;
const DEFAULT_LEN = 128 * 1024;
const MAX_BLOCKSIZE = 1024 * 1024;
const MAX_TIME = 86400;
/** The stream's number in every report line: the data socket's descriptor in the real tool. */
const STREAM_ID = 5;

const USAGE_SHORT = "Usage: iperf3 [-s|-c host] [options]\nTry `iperf3 --help' for more information.\n";
const DASHES = "-----------------------------------------------------------\n";
const SEPARATOR = "- - - - - - - - - - - - - - - - - - - - - - - - -\n";
const HEADER = "[ ID] Interval           Transfer     Bitrate\n";
const HEADER_RETR = "[ ID] Interval           Transfer     Bitrate         Retr\n";
const HEADER_RETR_CWND = "[ ID] Interval           Transfer     Bitrate         Retr  Cwnd\n";

interface Options {
  role: "s" | "c";
  host: string;
  port: number;
  /** Seconds, when the test ends on time. */
  time: number;
  /** Bytes, when the test ends on a byte count (-n). */
  bytes: number | undefined;
  len: number;
  reverse: boolean;
  oneOff: boolean;
  interval: number;
}

/** What one side tells the other at the end of a test. */
interface Results {
  bytes: number;
  seconds: number;
  retransmits: number;
}

/** iperf3's unit_atoi: a number with an optional K/M/G/T suffix, powers of 1024. */
function unitAtoi(text: string): number {
  const m = /^(\d*\.?\d*)([kKmMgGtT]?)/.exec(text);
  const n = Number.parseFloat(m?.[1] ?? "");
  if (Number.isNaN(n)) return 0;
  const mult = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[(m?.[2] ?? "").toLowerCase()] ?? 1;
  return Math.floor(n * mult);
}

function parse(ctx: ProcessContext): Options | { usage: string } | { param: string } {
  const o = parseOpts(ctx.argv.slice(1), {
    flags: "s1RVJvhdN4Z",
    withArg: "cptnlifPbwBMOTk",
    long: {
      "server": "s",
      "one-off": "1",
      "reverse": "R",
      "verbose": "V",
      "json": "J",
      "version": "v",
      "help": "h",
      "client=": "c",
      "port=": "p",
      "time=": "t",
      "bytes=": "n",
      "length=": "l",
      "interval=": "i",
      "format=": "f",
      "parallel=": "P",
      "bitrate=": "b",
      "window=": "w",
      "bind=": "B",
    },
  });
  if (isOptError(o)) return { usage: `iperf3: ${optErrorText(o)}\n` };
  const opts: Options = { role: "c", host: "", port: DEFAULT_PORT, time: 10, bytes: undefined, len: DEFAULT_LEN, reverse: false, oneOff: false, interval: 1 };
  if (o.has("s") && o.has("c")) return { param: "cannot be both server and client" };
  const role = o.has("s") ? "s" : o.has("c") ? "c" : undefined;
  const port = o.last("p");
  if (port !== undefined) {
    const n = Number.parseInt(port, 10);
    if (!(n >= 1 && n <= 65535)) return { param: "port number must be between 1 and 65535 inclusive" };
    opts.port = n;
  }
  const time = o.last("t");
  const bytes = o.last("n");
  if (time !== undefined) {
    const n = Number.parseInt(time, 10) || 0;
    if (n < 0 || n > MAX_TIME) return { param: `test duration valid values are 0 to ${MAX_TIME} seconds` };
    opts.time = n;
  }
  if (bytes !== undefined) opts.bytes = unitAtoi(bytes);
  if (time !== undefined && bytes !== undefined) return { param: "only one test end condition (-t, -n, -k) may be specified" };
  const len = o.last("l");
  if (len !== undefined) {
    const n = unitAtoi(len);
    if (n > MAX_BLOCKSIZE) return { param: `block size too large (maximum = ${MAX_BLOCKSIZE} bytes)` };
    if (n > 0) opts.len = n;
  }
  const interval = o.last("i");
  if (interval !== undefined) opts.interval = Number.parseFloat(interval) || 0;
  opts.reverse = o.has("R");
  opts.oneOff = o.has("1");
  if (role === undefined) return { param: "must either be a client (-c) or server (-s)" };
  opts.role = role;
  if (role === "c") opts.host = o.last("c") ?? "";
  if (role === "s" && (o.has("R") || o.has("t") || o.has("n"))) return { param: "some option you are trying to set is client only" };
  if (role === "c" && o.has("1")) return { param: "some option you are trying to set is server only" };
  return opts;
}

// ---- output ----------------------------------------------------------------

/** iperf3's unit_snprintf: 4 significant places, K/M/G by 1024 for bytes, by 1000 for bits. */
function units(value: number, bits: boolean): string {
  let n = bits ? value * 8 : value;
  const base = bits ? 1000 : 1024;
  let i = 0;
  while (n >= base && i < 4) {
    n /= base;
    i++;
  }
  const label = (bits ? ["bit", "Kbit", "Mbit", "Gbit", "Tbit"] : ["Byte", "KByte", "MByte", "GByte", "TByte"])[i]!;
  const text = n < 9.995 ? n.toFixed(2) : n < 99.95 ? n.toFixed(1) : n.toFixed(0);
  return `${text.padStart(4)} ${label}s`;
}

function span(from: number, to: number): string {
  return `${from.toFixed(2).padStart(6)}-${to.toFixed(2).padEnd(6)}`;
}

/** One report line: the interval, transfer and bitrate, then what the kind of line adds. */
function reportLine(from: number, to: number, bytes: number, tail: string): string {
  const secs = to - from;
  const rate = secs > 0 ? bytes / secs : 0;
  return `[${String(STREAM_ID).padStart(3)}] ${span(from, to)} sec  ${units(bytes, false)}  ${units(rate, true)}/sec${tail}\n`;
}

const plainTail = (role: string) => `                  ${role}`;
const retrTail = (retr: number, role: string) => `  ${String(retr).padStart(3)}             ${role}`;
const cwndTail = (retr: number, cwnd: number) => `  ${String(retr).padStart(3)}   ${units(cwnd, false)}       `;

/** Prints per-interval lines as bytes move; `finish` prints the last, partial one. */
class IntervalReporter {
  #start = 0;
  #from = 0;
  #bytes = 0;
  #retr = 0;
  #headed = false;

  constructor(
    private readonly ctx: ProcessContext,
    private readonly conn: TcpConnection,
    private readonly sender: boolean,
    private readonly intervalMs: number,
  ) {}

  begin(): void {
    this.#start = this.ctx.clock.now();
    this.#from = this.#start;
    this.#retr = this.conn.tcb.retransmits;
  }

  /** Seconds since the test began. */
  elapsed(): number {
    return (this.ctx.clock.now() - this.#start) / 1000;
  }

  add(n: number): void {
    this.#bytes += n;
    if (this.intervalMs > 0 && this.ctx.clock.now() - this.#from >= this.intervalMs) this.#flush();
  }

  finish(): void {
    const len = this.ctx.clock.now() - this.#from;
    if (this.intervalMs > 0 && (this.#bytes > 0 || len >= this.intervalMs * 0.1)) this.#flush();
  }

  #flush(): void {
    const now = this.ctx.clock.now();
    if (!this.#headed) {
      this.ctx.stdout.write(this.sender ? HEADER_RETR_CWND : HEADER);
      this.#headed = true;
    }
    const from = (this.#from - this.#start) / 1000;
    const to = (now - this.#start) / 1000;
    const tcb = this.conn.tcb;
    const retr = tcb.retransmits - this.#retr;
    this.ctx.stdout.write(reportLine(from, to, this.#bytes, this.sender ? cwndTail(retr, tcb.cwnd) : plainTail("")));
    this.#from = now;
    this.#bytes = 0;
    this.#retr = tcb.retransmits;
  }
}

// ---- the control connection ------------------------------------------------

/** Reads exact byte counts off a connection (the control channel's framing). */
class Reader {
  #buf = new Uint8Array(0);

  constructor(
    private readonly conn: TcpConnection,
    private readonly signal: AbortSignal,
  ) {}

  /** Exactly `n` bytes, or undefined if the stream ends first. */
  async take(n: number): Promise<Uint8Array | undefined> {
    while (this.#buf.length < n) {
      const d = await this.conn.read(undefined, { signal: this.signal });
      if (d === undefined) return undefined;
      const joined = new Uint8Array(this.#buf.length + d.length);
      joined.set(this.#buf);
      joined.set(d, this.#buf.length);
      this.#buf = joined;
    }
    const out = this.#buf.slice(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }

  async state(): Promise<number | undefined> {
    return (await this.take(1))?.[0];
  }

  async json<T>(): Promise<T | undefined> {
    const head = await this.take(4);
    if (head === undefined) return undefined;
    const len = new DataView(head.buffer, head.byteOffset, 4).getUint32(0);
    const body = await this.take(len);
    return body === undefined ? undefined : (JSON.parse(new TextDecoder().decode(body)) as T);
  }
}

function jsonFrame(value: unknown): Uint8Array {
  const body = new TextEncoder().encode(JSON.stringify(value));
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

/** A cookie as iperf3 makes one: 36 characters of [a-z2-7], NUL-terminated. */
function makeCookie(ctx: ProcessContext): Uint8Array {
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  const rng = ctx.host.kernel.rng;
  const out = new Uint8Array(COOKIE_LEN);
  for (let i = 0; i < COOKIE_LEN - 1; i++) out[i] = alphabet.charCodeAt(rng.nextU32() % alphabet.length);
  return out;
}

/** The test parameters the client sends the server. */
interface Params {
  time: number;
  bytes: number;
  len: number;
  reverse: boolean;
}

// ---- the data transfer -----------------------------------------------------

/** Writes `-l` blocks until the time or byte count is reached, then closes the write side. */
async function send(ctx: ProcessContext, conn: TcpConnection, p: Params, report: IntervalReporter): Promise<Results> {
  const block = new Uint8Array(p.len);
  for (let i = 0; i < block.length; i++) block[i] = 0x30 + (i % 10);
  const wait = { signal: ctx.signal };
  let sent = 0;
  report.begin();
  const endMs = p.time * 1000;
  for (;;) {
    if (p.bytes > 0 ? sent >= p.bytes : report.elapsed() * 1000 >= endMs) break;
    const n = p.bytes > 0 ? Math.min(p.len, p.bytes - sent) : p.len;
    await conn.write(n === p.len ? block : block.subarray(0, n), wait);
    sent += n;
    report.add(n);
  }
  report.finish();
  const seconds = report.elapsed();
  conn.shutdownWrite();
  return { bytes: sent, seconds, retransmits: conn.tcb.retransmits };
}

/** Reads until the sender closes its side. */
async function receive(ctx: ProcessContext, conn: TcpConnection, len: number, report: IntervalReporter): Promise<Results> {
  const wait = { signal: ctx.signal };
  let got = 0;
  report.begin();
  for (;;) {
    const d = await conn.read(len, wait);
    if (d === undefined) break;
    got += d.length;
    report.add(d.length);
  }
  report.finish();
  return { bytes: got, seconds: report.elapsed(), retransmits: 0 };
}

function connectedLine(conn: TcpConnection): string {
  return `[${String(STREAM_ID).padStart(3)}] local ${formatIpv4Addr(conn.localAddr)} port ${conn.localPort} connected to ${formatIpv4Addr(conn.remoteAddr)} port ${conn.remotePort}\n`;
}

function summary(sender: Results | undefined, receiver: Results | undefined): string {
  let out = SEPARATOR + HEADER_RETR;
  if (sender) out += reportLine(0, sender.seconds, sender.bytes, retrTail(sender.retransmits, "sender"));
  if (receiver) out += reportLine(0, receiver.seconds, receiver.bytes, plainTail("receiver"));
  return out;
}

/** A failure of the test in progress, worded as iperf3's `error - …` line. */
class TestError extends Error {}

async function client(ctx: ProcessContext, o: Options): Promise<number> {
  const addr = await resolveHost(ctx, o.host);
  if (addr === undefined) {
    ctx.stderr.write("iperf3: error - unable to resolve host: Name or service not known\n");
    return 1;
  }
  let ctrl: TcpConnection;
  try {
    ctrl = await TcpConnection.connect(ctx.netns, addr, o.port, { signal: ctx.signal });
  } catch (e) {
    if (isAbort(e)) throw e;
    const errno = errnoOf(e);
    ctx.stderr.write(`iperf3: error - unable to connect to server - server may have stopped running or use a different port, firewall issue, etc.: ${errno !== undefined ? ERRNO_TEXT[errno] : String(e)}\n`);
    return 1;
  }
  const wait = { signal: ctx.signal };
  const reader = new Reader(ctrl, ctx.signal);
  let data: TcpConnection | undefined;
  try {
    ctx.stdout.write(`Connecting to host ${o.host}, port ${o.port}\n`);
    if (o.reverse) ctx.stdout.write(`Reverse mode, remote host ${o.host} is sending\n`);
    const cookie = makeCookie(ctx);
    await ctrl.write(cookie, wait);
    const expect = async (want: number): Promise<void> => {
      const s = await reader.state();
      if (s === undefined) throw new TestError("control socket has closed unexpectedly");
      if (s !== want) throw new TestError("the server has terminated");
    };
    await expect(PARAM_EXCHANGE);
    const params: Params = { time: o.time, bytes: o.bytes ?? 0, len: o.len, reverse: o.reverse };
    await ctrl.write(jsonFrame(params), wait);
    await expect(CREATE_STREAMS);
    data = await TcpConnection.connect(ctx.netns, addr, o.port, { signal: ctx.signal });
    await data.write(cookie, wait);
    ctx.stdout.write(connectedLine(data));
    await expect(TEST_START);
    await expect(TEST_RUNNING);
    const report = new IntervalReporter(ctx, data, !o.reverse, o.interval * 1000);
    const mine = o.reverse ? await receive(ctx, data, o.len, report) : await send(ctx, data, params, report);
    await ctrl.write(Uint8Array.of(TEST_END), wait);
    await expect(EXCHANGE_RESULTS);
    await ctrl.write(jsonFrame(mine), wait);
    const theirs = await reader.json<Results>();
    if (theirs === undefined) throw new TestError("control socket has closed unexpectedly");
    await expect(DISPLAY_RESULTS);
    ctx.stdout.write(o.reverse ? summary(theirs, mine) : summary(mine, theirs));
    ctx.stdout.write("\niperf Done.\n");
    await ctrl.write(Uint8Array.of(IPERF_DONE), wait);
    return 0;
  } catch (e) {
    if (isAbort(e)) throw e;
    if (e instanceof TestError) {
      ctx.stderr.write(`iperf3: error - ${e.message}\n`);
      return 1;
    }
    if (e instanceof KernelError) {
      ctx.stderr.write(`iperf3: error - control socket has closed unexpectedly\n`);
      return 1;
    }
    throw e;
  } finally {
    data?.close();
    ctrl.close();
  }
}

/** Runs one test for a client that connected on `ctrl`; false if it went wrong. */
async function serveOne(ctx: ProcessContext, listener: TcpListener, ctrl: TcpConnection): Promise<boolean> {
  const wait = { signal: ctx.signal };
  const reader = new Reader(ctrl, ctx.signal);
  let data: TcpConnection | undefined;
  try {
    const cookie = await reader.take(COOKIE_LEN);
    if (cookie === undefined) return false;
    ctx.stdout.write(`Accepted connection from ${formatIpv4Addr(ctrl.remoteAddr)}, port ${ctrl.remotePort}\n`);
    await ctrl.write(Uint8Array.of(PARAM_EXCHANGE), wait);
    const params = await reader.json<Params>();
    if (params === undefined) return false;
    await ctrl.write(Uint8Array.of(CREATE_STREAMS), wait);
    for (;;) {
      data = await listener.accept(wait);
      if (data === undefined) return false;
      const c = await new Reader(data, ctx.signal).take(COOKIE_LEN);
      if (c !== undefined && c.every((b, i) => b === cookie[i])) break;
      data.close(); // not this test's stream
    }
    ctx.stdout.write(connectedLine(data));
    await ctrl.write(Uint8Array.of(TEST_START, TEST_RUNNING), wait);
    const report = new IntervalReporter(ctx, data, params.reverse, 1000);
    const mine = params.reverse ? await send(ctx, data, params, report) : await receive(ctx, data, params.len, report);
    if ((await reader.state()) !== TEST_END) return false;
    await ctrl.write(Uint8Array.of(EXCHANGE_RESULTS), wait);
    const theirs = await reader.json<Results>();
    if (theirs === undefined) return false;
    await ctrl.write(jsonFrame(mine), wait);
    await ctrl.write(Uint8Array.of(DISPLAY_RESULTS), wait);
    ctx.stdout.write(params.reverse ? summary(mine, undefined) : summary(undefined, mine));
    await reader.state(); // IPERF_DONE
    return true;
  } catch (e) {
    if (isAbort(e)) throw e;
    if (e instanceof KernelError) {
      ctx.stderr.write("iperf3: error - control socket has closed unexpectedly\n");
      return false;
    }
    throw e;
  } finally {
    data?.close();
    ctrl.close();
  }
}

async function server(ctx: ProcessContext, o: Options): Promise<number> {
  let listener: TcpListener;
  try {
    listener = TcpListener.listen(ctx.netns, 0, o.port);
  } catch (e) {
    const errno = errnoOf(e);
    ctx.stderr.write(`iperf3: error - unable to start listener for connections: ${errno !== undefined ? ERRNO_TEXT[errno] : String(e)}\niperf3: exiting\n`);
    return 1;
  }
  try {
    for (let test = 1; ; test++) {
      ctx.stdout.write(`${DASHES}Server listening on ${o.port} (test #${test})\n${DASHES}`);
      const ctrl = await listener.accept({ signal: ctx.signal });
      if (ctrl === undefined) return 1;
      await serveOne(ctx, listener, ctrl);
      if (o.oneOff) return 0;
    }
  } finally {
    listener.close();
  }
}

/** iperf3: the bandwidth tester (server with -s, client with -c). */
export const iperf3: Command = async (ctx) => {
  const parsed = parse(ctx);
  if ("usage" in parsed) {
    ctx.stderr.write(`${parsed.usage}\n${USAGE_SHORT}`);
    return 1;
  }
  if ("param" in parsed) {
    ctx.stderr.write(`iperf3: parameter error - ${parsed.param}\n\n${USAGE_SHORT}`);
    return 1;
  }
  try {
    return parsed.role === "s" ? await server(ctx, parsed) : await client(ctx, parsed);
  } catch (e) {
    if (isAbort(e) || ctx.signal.aborted) return killedStatus(ctx.signal);
    throw e;
  }
};

/** iperf3, for the host userland and the networkstatic/iperf3 image. */
export const iperf3Commands: Record<string, Command> = { iperf3 };
