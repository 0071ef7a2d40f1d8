/**
 * The socket calls a process makes on TCP, as promises that wait on the
 * emulated clock: listen/accept, connect, read, write, shutdown, close.
 *
 * ```ts
 * const listener = TcpListener.listen(server, 0, 80);
 * const client = await TcpConnection.connect(clientNs, serverAddr, 80, { timeoutMs: 5000 });
 * const conn = await listener.accept();
 * await client.write(new TextEncoder().encode("hello"));
 * client.shutdownWrite();
 * const bytes = await conn!.read(); // "hello", then undefined at EOF
 * ```
 */
import type { Ipv4Addr } from "@kemu/wire";
import type { Clock, Timer } from "../clock.ts";
import { type Errno, KernelError } from "../errno.ts";
import type { NetNs } from "../netns.ts";
import type { Tcb, TcpState } from "./tcb.ts";
import { type ListenSocket, tcpOf } from "./tcp.ts";

/** How long a call may block, and what interrupts it. */
export interface WaitOptions {
  /** At most this many ms of emulated time (SO_RCVTIMEO and friends). */
  timeoutMs?: number | undefined;
  /** Aborting it ends the wait with the signal's reason (the process was killed). */
  signal?: AbortSignal | undefined;
}

/** What `connect` takes beyond the destination. */
export interface ConnectOptions extends WaitOptions {
  /** Source address (bind before connect); by default the route's. */
  src?: Ipv4Addr | undefined;
  /** Source port; by default an ephemeral one from ip_local_port_range. */
  srcPort?: number | undefined;
  /** SO_RCVBUF set before connecting, bytes: the receive buffer is then fixed (twice this, within net.core.rmem_max) and not autotuned. */
  rcvBuf?: number | undefined;
}

/** Waits for `ready`, at most until `deadline`; false on timeout, throws the signal's reason on abort. */
function block(clock: Clock, ready: Promise<void>, deadline: number | undefined, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  if (deadline === undefined && signal === undefined) return ready.then(() => true);
  return new Promise((resolve, reject) => {
    let timer: Timer | undefined;
    const onAbort = (): void => {
      timer?.cancel();
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    if (deadline !== undefined) {
      timer = clock.setTimer(Math.max(0, deadline - clock.now()), () => {
        signal?.removeEventListener("abort", onAbort);
        resolve(false);
      });
    }
    void ready.then(() => {
      timer?.cancel();
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    });
  });
}

function deadlineOf(clock: Clock, options: WaitOptions): number | undefined {
  return options.timeoutMs === undefined ? undefined : clock.now() + options.timeoutMs;
}

/** A connected TCP socket (SOCK_STREAM after connect or accept). */
export class TcpConnection {
  readonly #clock: Clock;

  private constructor(
    /** The kernel's side of the connection (state, queues, timers). */
    readonly tcb: Tcb,
  ) {
    this.#clock = tcb.tcp.ns.kernel.clock;
  }

  /**
   * connect(2): resolves once established. Rejects with a KernelError:
   * ECONNREFUSED (RST), ETIMEDOUT (SYN retries exhausted, or `timeoutMs`),
   * EHOSTUNREACH/ENETUNREACH (no route, or an ICMP error), EADDRNOTAVAIL.
   */
  static async connect(ns: NetNs, dst: Ipv4Addr, port: number, options: ConnectOptions = {}): Promise<TcpConnection> {
    const clock = ns.kernel.clock;
    const tcb = tcpOf(ns).connect(dst, port, { src: options.src, srcPort: options.srcPort, rcvBuf: options.rcvBuf });
    const deadline = deadlineOf(clock, options);
    try {
      while (tcb.state === "SYN-SENT" || tcb.state === "SYN-RECV") {
        if (!(await block(clock, tcb.changed(), deadline, options.signal))) throw new KernelError("ETIMEDOUT");
      }
    } catch (err) {
      tcb.abort();
      throw err;
    }
    if (tcb.error !== undefined) throw new KernelError(tcb.error);
    if (tcb.state === "CLOSED") throw new KernelError("ECONNRESET");
    return new TcpConnection(tcb);
  }

  /** Wraps a connection a listener handed over. */
  static accepted(tcb: Tcb): TcpConnection {
    return new TcpConnection(tcb);
  }

  get localAddr(): Ipv4Addr {
    return this.tcb.localAddr;
  }
  get localPort(): number {
    return this.tcb.localPort;
  }
  get remoteAddr(): Ipv4Addr {
    return this.tcb.remoteAddr;
  }
  get remotePort(): number {
    return this.tcb.remotePort;
  }
  /** The connection's state as `ss` names it. */
  get state(): TcpState {
    return this.tcb.state;
  }
  /** Why the connection failed, if it has (SO_ERROR). */
  get error(): Errno | undefined {
    return this.tcb.error;
  }

  /**
   * recv(2): up to `max` bytes (all that is queued when omitted), waiting
   * for some; undefined at end of stream (the peer's FIN). Throws the
   * connection's error (ECONNRESET…), or EAGAIN when `timeoutMs` passes.
   */
  async read(max?: number, options: WaitOptions = {}): Promise<Uint8Array | undefined> {
    const tcb = this.tcb;
    const deadline = deadlineOf(this.#clock, options);
    for (;;) {
      if (tcb.recvQueue.length > 0) return tcb.read(max);
      if (tcb.error !== undefined) throw new KernelError(tcb.error);
      if (tcb.finReceived || tcb.state === "CLOSED" || tcb.orphan) return undefined;
      if (!(await block(this.#clock, tcb.changed(), deadline, options.signal))) throw new KernelError("EAGAIN");
    }
  }

  /**
   * send(2): queues all of `data`, waiting while the send buffer is full
   * (the peer's window closed, or the network is slow). Resolves once the
   * last byte is queued. Throws EPIPE after shutdown, the connection's error
   * after a failure, EAGAIN when `timeoutMs` passes.
   */
  async write(data: Uint8Array, options: WaitOptions = {}): Promise<void> {
    const tcb = this.tcb;
    const deadline = deadlineOf(this.#clock, options);
    let off = 0;
    do {
      if (tcb.error !== undefined) throw new KernelError(tcb.error);
      if (!tcb.writable) throw new KernelError("EPIPE");
      const space = tcb.sendSpace;
      if (space > 0) {
        const n = Math.min(space, data.length - off);
        tcb.send(data.subarray(off, off + n));
        off += n;
        continue;
      }
      if (!(await block(this.#clock, tcb.changed(), deadline, options.signal))) throw new KernelError("EAGAIN");
    } while (off < data.length);
  }

  /** Resolves once everything written has been acknowledged; throws the connection's error if it fails first. */
  async drain(options: WaitOptions = {}): Promise<void> {
    const tcb = this.tcb;
    const deadline = deadlineOf(this.#clock, options);
    while (tcb.sendQueue.length > 0) {
      if (tcb.error !== undefined) throw new KernelError(tcb.error);
      if (tcb.state === "CLOSED") return;
      if (!(await block(this.#clock, tcb.changed(), deadline, options.signal))) throw new KernelError("EAGAIN");
    }
  }

  /** shutdown(SHUT_WR): a FIN follows the queued data; reading goes on. */
  shutdownWrite(): void {
    this.tcb.shutdownWrite();
  }

  /** close(2): the kernel finishes sending and closing alone; unread data turns it into a RST. */
  close(): void {
    this.tcb.close();
  }

  /** Closes with a RST at once (SO_LINGER with a zero timeout). */
  abort(): void {
    this.tcb.abort();
  }
}

/** A listening TCP socket. */
export class TcpListener {
  private constructor(readonly socket: ListenSocket) {}

  /**
   * socket + bind + listen on `addr:port` (0 = any address; port 0 picks
   * one). Throws KernelError EADDRINUSE or EADDRNOTAVAIL. The backlog is
   * clamped to net.core.somaxconn, as listen(2) does.
   */
  static listen(ns: NetNs, addr: Ipv4Addr, port: number, options: { backlog?: number; rcvBuf?: number | undefined } = {}): TcpListener {
    return new TcpListener(tcpOf(ns).listen(addr, port, options.backlog ?? 4096, { rcvBuf: options.rcvBuf }));
  }

  get localAddr(): Ipv4Addr {
    return this.socket.localAddr;
  }
  get localPort(): number {
    return this.socket.localPort;
  }

  /** accept(2): the next established connection; undefined once closed or after `timeoutMs`. */
  async accept(options: WaitOptions = {}): Promise<TcpConnection | undefined> {
    const clock = this.socket.tcp.ns.kernel.clock;
    const deadline = deadlineOf(clock, options);
    for (;;) {
      const tcb = this.socket.take();
      if (tcb !== undefined) return TcpConnection.accepted(tcb);
      if (this.socket.closed) return undefined;
      if (!(await block(clock, this.socket.changed(), deadline, options.signal))) return undefined;
    }
  }

  /** Stops listening; connections not yet accepted are reset. */
  close(): void {
    this.socket.close();
  }
}
