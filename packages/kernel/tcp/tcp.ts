/**
 * TCP in one network namespace: the connection and listener tables, the
 * demultiplexing of arriving segments, resets for segments nobody wants,
 * ICMP errors, and the socket listing `ss` and `netstat` print.
 */
import {
  emitTcp,
  withHeadroom,
  type Ipv4Addr,
  type Ipv4Packet,
  parseTcp,
  TCP_ACK,
  TCP_FIN,
  TCP_RST,
  TCP_SYN,
  tcpHeaderLen,
  TcpPacket,
  type TcpRepr,
} from "@kemu/wire";
import type { NetDevice } from "../device.ts";
import { gsoSize } from "../gso.ts";
import { type Errno, KernelError } from "../errno.ts";
import type { ProtocolHandler } from "../ipv4.ts";
import type { NetNs } from "../netns.ts";
import { type TcpSegment, Tcb, type TcpState, type TcpTimerKind } from "./tcb.ts";

/** The smallest receive buffer SO_RCVBUF leaves (2 × (2048 + sizeof(struct sk_buff)) on x86-64). */
const SOCK_MIN_RCVBUF = 2304;

/** IP protocol number of TCP. */
const IPPROTO_TCP = 6;

/** Counters in the spirit of the Tcp: and TcpExt: lines of /proc/net/snmp and netstat. */
export interface TcpStats {
  activeOpens: number;
  passiveOpens: number;
  attemptFails: number;
  estabResets: number;
  inSegs: number;
  outSegs: number;
  retransSegs: number;
  inErrs: number;
  outRsts: number;
  /** SYNs or handshake ACKs dropped because an accept queue was full. */
  listenOverflows: number;
  listenDrops: number;
}

/** One line of `ss -tan`: a listener or a connection. */
export interface TcpSocketInfo {
  readonly state: TcpState;
  /** Unread bytes; for a listener, connections waiting to be accepted. */
  readonly recvQ: number;
  /** Unacknowledged and unsent bytes; for a listener, its backlog. */
  readonly sendQ: number;
  readonly localAddr: Ipv4Addr;
  readonly localPort: number;
  /** 0 and port 0 for a listener (`*`). */
  readonly remoteAddr: Ipv4Addr;
  readonly remotePort: number;
  /** The running timer, as `ss -o` shows it. */
  readonly timer: { kind: TcpTimerKind; expiresMs: number; retrans: number };
}

function key(localAddr: Ipv4Addr, localPort: number, remoteAddr: Ipv4Addr, remotePort: number): string {
  return `${localAddr}:${localPort}:${remoteAddr}:${remotePort}`;
}

/**
 * A listening socket: the connections its SYNs started (in SYN-RECV), and
 * the accept queue of established ones waiting for `accept`.
 */
export class ListenSocket {
  readonly acceptQueue: Tcb[] = [];
  readonly #embryos = new Set<Tcb>();
  #waiters: Array<() => void> = [];
  closed = false;

  constructor(
    readonly tcp: Tcp,
    readonly localAddr: Ipv4Addr,
    readonly localPort: number,
    /** The accept queue holds up to backlog + 1 connections (sk_acceptq_is_full). */
    readonly backlog: number,
    /** SO_RCVBUF set on the listener: its connections inherit it. */
    readonly rcvBuf?: number | undefined,
  ) {}

  /** No room for another established connection: new SYNs and handshake ACKs are dropped. */
  get acceptQueueFull(): boolean {
    return this.acceptQueue.length > this.backlog;
  }

  /** A SYN made `tcb` (SYN-RECV). */
  adopt(tcb: Tcb): void {
    this.#embryos.add(tcb);
  }

  /** `tcb` finished its handshake: it waits in the accept queue. */
  established(tcb: Tcb): void {
    this.#embryos.delete(tcb);
    this.acceptQueue.push(tcb);
    this.#wake();
  }

  /** `tcb` died before being accepted. */
  forget(tcb: Tcb): void {
    this.#embryos.delete(tcb);
    const i = this.acceptQueue.indexOf(tcb);
    if (i >= 0) this.acceptQueue.splice(i, 1);
  }

  /** The oldest established connection, now the application's. */
  take(): Tcb | undefined {
    const tcb = this.acceptQueue.shift();
    if (tcb) tcb.listener = undefined;
    return tcb;
  }

  /** Resolves at the next arrival in the accept queue or at close. */
  changed(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Stops listening: half-open connections vanish, unaccepted ones are reset. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.tcp.unlisten(this);
    for (const t of [...this.#embryos]) t.discard();
    for (const t of this.acceptQueue.splice(0)) {
      t.listener = undefined;
      t.abort();
    }
    this.#wake();
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }
}

/** The TCP of one namespace: plugs into its IPv4 stack as protocol 6. */
export class Tcp implements ProtocolHandler {
  readonly stats: TcpStats = {
    activeOpens: 0,
    passiveOpens: 0,
    attemptFails: 0,
    estabResets: 0,
    inSegs: 0,
    outSegs: 0,
    retransSegs: 0,
    inErrs: 0,
    outRsts: 0,
    listenOverflows: 0,
    listenDrops: 0,
  };
  readonly #conns = new Map<string, Tcb>();
  readonly #listeners = new Map<number, ListenSocket[]>();
  /** How many connections use each local port (for picking free ephemeral ports). */
  readonly #portUse = new Map<number, number>();

  constructor(readonly ns: NetNs) {}

  /** Connections in ESTABLISHED or CLOSE-WAIT (the CurrEstab counter). */
  get currEstab(): number {
    let n = 0;
    for (const t of this.#conns.values()) if (t.state === "ESTAB" || t.state === "CLOSE-WAIT") n++;
    return n;
  }

  /** A sysctl of three numbers (tcp_rmem, tcp_wmem). */
  sysctlTriple(name: string): number[] {
    return this.ns.sysctl.has(name) ? this.ns.sysctl.get(name).split(/\s+/).map(Number) : [];
  }

  // ---- opening -----------------------------------------------------------

  /**
   * Starts listening on `addr:port` (0.0.0.0 = any; port 0 picks one).
   * Throws EADDRINUSE when another listener covers it, EADDRNOTAVAIL for an
   * address not on this host.
   */
  listen(addr: Ipv4Addr, port: number, backlog: number, options: { rcvBuf?: number | undefined } = {}): ListenSocket {
    if (addr !== 0 && !this.ns.isLocalAddress(addr) && !this.ns.sysctl.on("net.ipv4.ip_nonlocal_bind")) {
      throw new KernelError("EADDRNOTAVAIL");
    }
    if (port === 0) {
      const p = this.ns.ipv4.ephemeralPort((candidate) => this.#portFree(candidate));
      if (p === undefined) throw new KernelError("EADDRINUSE");
      port = p;
    } else if (this.#listeners.get(port)?.some((l) => l.localAddr === 0 || addr === 0 || l.localAddr === addr)) {
      throw new KernelError("EADDRINUSE");
    }
    const somaxconn = this.ns.sysctl.num("net.core.somaxconn") || 4096;
    const l = new ListenSocket(this, addr, port, Math.max(0, Math.min(backlog, somaxconn)), this.soRcvBuf(options.rcvBuf));
    const list = this.#listeners.get(port) ?? [];
    list.push(l);
    this.#listeners.set(port, list);
    return l;
  }

  /**
   * What setsockopt(SO_RCVBUF, bytes) leaves in sk_rcvbuf: the request, at
   * most net.core.rmem_max, doubled for bookkeeping overhead, at least
   * SOCK_MIN_RCVBUF; undefined when the option was not set.
   */
  soRcvBuf(bytes: number | undefined): number | undefined {
    if (bytes === undefined) return undefined;
    const rmemMax = this.ns.sysctl.has("net.core.rmem_max") ? this.ns.sysctl.num("net.core.rmem_max") : 212992;
    return Math.max(2 * Math.min(Math.max(0, bytes), rmemMax), SOCK_MIN_RCVBUF);
  }

  /** Forgets a listener (called by its close). */
  unlisten(l: ListenSocket): void {
    const rest = (this.#listeners.get(l.localPort) ?? []).filter((x) => x !== l);
    if (rest.length > 0) this.#listeners.set(l.localPort, rest);
    else this.#listeners.delete(l.localPort);
  }

  /** Whether a listener would take a SYN to `addr:port`. */
  hasListener(addr: Ipv4Addr, port: number): boolean {
    return this.#findListener(addr, port) !== undefined;
  }

  /**
   * Starts an active open to `dst:port` and returns its connection in
   * SYN-SENT. Throws ENETUNREACH/EHOSTUNREACH when no route leads there (as
   * connect(2) does at once), EADDRNOTAVAIL for a source not on this host,
   * EADDRINUSE for a taken four-tuple.
   */
  connect(dst: Ipv4Addr, port: number, options: { src?: Ipv4Addr | undefined; srcPort?: number | undefined; rcvBuf?: number | undefined } = {}): Tcb {
    const route = this.ns.ipv4.routes.lookup(dst);
    if (route === undefined) throw new KernelError("ENETUNREACH");
    if (route.type === "unreachable" || route.type === "prohibit") throw new KernelError("EHOSTUNREACH");
    if (route.type === "blackhole") throw new KernelError("EINVAL");
    const dev = route.type === "local" ? this.ns.lo : route.dev;
    if (dev === undefined) throw new KernelError("ENETUNREACH");
    if (options.src !== undefined && !this.ns.isLocalAddress(options.src)) throw new KernelError("EADDRNOTAVAIL");
    const src = options.src ?? route.prefsrc ?? this.ns.selectSource(dev, route.gateway ?? dst);
    if (src === undefined) throw new KernelError("EADDRNOTAVAIL");
    let srcPort = options.srcPort ?? 0;
    if (srcPort === 0) {
      const p = this.ns.ipv4.ephemeralPort((candidate) => this.#portFree(candidate));
      if (p === undefined) throw new KernelError("EADDRNOTAVAIL");
      srcPort = p;
    } else if (this.#conns.has(key(src, srcPort, dst, port))) {
      throw new KernelError("EADDRINUSE");
    }
    const tcb = new Tcb(this, {
      localAddr: src,
      localPort: srcPort,
      remoteAddr: dst,
      remotePort: port,
      mtu: dev.mtu,
      gso: dev.features.gso,
      rcvBuf: this.soRcvBuf(options.rcvBuf),
    });
    this.#hash(tcb);
    this.stats.activeOpens++;
    tcb.openActive();
    return tcb;
  }

  #portFree(port: number): boolean {
    return !this.#listeners.has(port) && !this.#portUse.has(port);
  }

  #hash(tcb: Tcb): void {
    this.#conns.set(key(tcb.localAddr, tcb.localPort, tcb.remoteAddr, tcb.remotePort), tcb);
    this.#portUse.set(tcb.localPort, (this.#portUse.get(tcb.localPort) ?? 0) + 1);
  }

  /** Forgets a closed connection. */
  unhash(tcb: Tcb): void {
    const k = key(tcb.localAddr, tcb.localPort, tcb.remoteAddr, tcb.remotePort);
    if (this.#conns.get(k) !== tcb) return;
    this.#conns.delete(k);
    const n = (this.#portUse.get(tcb.localPort) ?? 1) - 1;
    if (n > 0) this.#portUse.set(tcb.localPort, n);
    else this.#portUse.delete(tcb.localPort);
  }

  // ---- input ---------------------------------------------------------------

  /** A TCP segment for this namespace (the IPv4 stack's protocol 6 handler). */
  input(packet: Ipv4Packet, _dev: NetDevice): boolean {
    const src = packet.src;
    const dst = packet.dst;
    let repr: TcpRepr;
    let payload: Uint8Array;
    try {
      const view = TcpPacket.checked(packet.payload);
      repr = parseTcp(view, src, dst);
      payload = view.payload;
    } catch {
      this.stats.inErrs++;
      return true;
    }
    // A GRO super-packet counts as the segments it was made of.
    const gso = gsoSize(packet.buffer);
    this.stats.inSegs += gso === undefined ? 1 : Math.max(1, Math.ceil(payload.length / gso));
    if (this.#notUnicast(dst)) return true;
    const seg: TcpSegment = { repr, payload };
    const tcb = this.#conns.get(key(dst, repr.dstPort, src, repr.srcPort));
    if (tcb !== undefined && tcb.input(seg)) return true;
    const listener = this.#findListener(dst, repr.dstPort);
    if (listener !== undefined) {
      this.#listenInput(listener, seg, dst, src);
      return true;
    }
    this.sendReset(dst, src, seg);
    return true;
  }

  #notUnicast(dst: Ipv4Addr): boolean {
    if (dst === 0xffffffff || dst >>> 28 === 0xe) return true;
    return this.ns.ipv4.routes.lookupIn(255, dst)?.type === "broadcast";
  }

  #findListener(addr: Ipv4Addr, port: number): ListenSocket | undefined {
    const list = this.#listeners.get(port);
    if (list === undefined) return undefined;
    return list.find((l) => l.localAddr === addr) ?? list.find((l) => l.localAddr === 0);
  }

  #listenInput(l: ListenSocket, seg: TcpSegment, local: Ipv4Addr, remote: Ipv4Addr): void {
    const f = seg.repr.flags;
    if (f & TCP_RST) return;
    if (f & TCP_ACK) {
      this.sendReset(local, remote, seg); // no handshake of ours is waiting for it
      return;
    }
    if (!(f & TCP_SYN)) return;
    if (l.acceptQueueFull) {
      this.stats.listenOverflows++;
      this.stats.listenDrops++;
      return;
    }
    const route = this.ns.ipv4.routes.lookup(remote);
    const dev = route?.type === "local" ? this.ns.lo : route?.dev;
    const tcb = new Tcb(this, {
      localAddr: local,
      localPort: seg.repr.dstPort,
      remoteAddr: remote,
      remotePort: seg.repr.srcPort,
      mtu: dev?.mtu ?? 1500,
      gso: dev?.features.gso ?? false,
      rcvBuf: l.rcvBuf,
    });
    this.#hash(tcb);
    l.adopt(tcb);
    this.stats.passiveOpens++;
    tcb.openPassive(l, seg);
  }

  /**
   * Answers a segment nobody wants with a RST (tcp_v4_send_reset): for an
   * ACK, at its acknowledgment number; otherwise RST|ACK acknowledging it.
   */
  sendReset(local: Ipv4Addr, remote: Ipv4Addr, seg: TcpSegment): void {
    const r = seg.repr;
    if (r.flags & TCP_RST) return;
    const len = seg.payload.length + (r.flags & TCP_SYN ? 1 : 0) + (r.flags & TCP_FIN ? 1 : 0);
    const repr: TcpRepr =
      r.flags & TCP_ACK
        ? { srcPort: r.dstPort, dstPort: r.srcPort, seq: r.ack, ack: 0, flags: TCP_RST, window: 0, urgent: 0, options: {} }
        : {
            srcPort: r.dstPort,
            dstPort: r.srcPort,
            seq: 0,
            ack: (r.seq + len) >>> 0,
            flags: TCP_RST | TCP_ACK,
            window: 0,
            urgent: 0,
            options: {},
          };
    this.stats.outRsts++;
    this.transmit(local, remote, repr, 0, undefined);
  }

  /**
   * Sends one segment; `fill` writes `len` payload bytes at `buf[at…]`. With
   * `gsoSize` it is a super-packet of segments of that many bytes, counted
   * as that many segments (as tcp_transmit_skb counts gso_segs).
   */
  transmit(
    local: Ipv4Addr,
    remote: Ipv4Addr,
    repr: TcpRepr,
    len: number,
    fill: ((buf: Uint8Array, at: number) => void) | undefined,
    gsoSize?: number,
  ): Errno | undefined {
    this.stats.outSegs += gsoSize === undefined ? 1 : Math.ceil(len / gsoSize);
    return this.ns.ipv4.send({
      dst: remote,
      src: local,
      protocol: IPPROTO_TCP,
      gsoSize,
      payload: (src) => {
        const headerLen = tcpHeaderLen(repr);
        const seg = withHeadroom(headerLen + len);
        if (len > 0) fill?.(seg, headerLen);
        emitTcp(repr, seg, src, remote);
        return seg;
      },
    });
  }

  /** An ICMP error quoting one of our segments: the connection it belongs to hears of it. */
  error(quoted: Uint8Array, errno: Errno): void {
    if (quoted.length < 20) return;
    const ihl = (quoted[0]! & 0x0f) * 4;
    if (quoted.length < ihl + 8) return;
    const src = ((quoted[12]! << 24) | (quoted[13]! << 16) | (quoted[14]! << 8) | quoted[15]!) >>> 0;
    const dst = ((quoted[16]! << 24) | (quoted[17]! << 16) | (quoted[18]! << 8) | quoted[19]!) >>> 0;
    const srcPort = (quoted[ihl]! << 8) | quoted[ihl + 1]!;
    const dstPort = (quoted[ihl + 2]! << 8) | quoted[ihl + 3]!;
    const seq = ((quoted[ihl + 4]! << 24) | (quoted[ihl + 5]! << 16) | (quoted[ihl + 6]! << 8) | quoted[ihl + 7]!) >>> 0;
    this.#conns.get(key(src, srcPort, dst, dstPort))?.icmpError(errno, seq);
  }

  // ---- listing -------------------------------------------------------------

  /** Every listener, then every connection (the order `ss -tan` walks them). */
  sockets(): TcpSocketInfo[] {
    const out: TcpSocketInfo[] = [];
    for (const list of this.#listeners.values()) {
      for (const l of list) {
        out.push({
          state: "LISTEN",
          recvQ: l.acceptQueue.length,
          sendQ: l.backlog,
          localAddr: l.localAddr,
          localPort: l.localPort,
          remoteAddr: 0,
          remotePort: 0,
          timer: { kind: "off", expiresMs: 0, retrans: 0 },
        });
      }
    }
    for (const t of this.#conns.values()) {
      out.push({
        state: t.state,
        recvQ: t.recvQueue.length,
        sendQ: t.sendQueue.length,
        localAddr: t.localAddr,
        localPort: t.localPort,
        remoteAddr: t.remoteAddr,
        remotePort: t.remotePort,
        timer: t.timer,
      });
    }
    return out;
  }

  /** Closes every socket (the namespace is going away). */
  shutdown(): void {
    for (const list of [...this.#listeners.values()]) for (const l of list) l.close();
    for (const t of [...this.#conns.values()]) t.abort();
  }
}

const instances = new WeakMap<NetNs, Tcp>();

/** The TCP of namespace `ns`, made and registered with its IPv4 stack on first use. */
export function tcpOf(ns: NetNs): Tcp {
  let tcp = instances.get(ns);
  if (tcp === undefined) {
    tcp = new Tcp(ns);
    instances.set(ns, tcp);
    ns.ipv4.protocols.set(IPPROTO_TCP, tcp);
  }
  return tcp;
}
