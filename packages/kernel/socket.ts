import type { Ipv4Addr } from "@kemu/wire";
import type { NetDevice } from "./device.ts";
import type { Errno } from "./errno.ts";
import { Mailbox } from "./mailbox.ts";
import type { NetNs } from "./netns.ts";

/** An IPv4 datagram as a socket receives it. */
export interface Datagram {
  readonly src: Ipv4Addr;
  readonly dst: Ipv4Addr;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly ttl: number;
  /** The transport payload (the ICMP message for raw ICMP sockets). */
  readonly data: Uint8Array;
  /** The whole IPv4 packet. */
  readonly packet: Uint8Array;
  /** The device it arrived on. */
  readonly dev: NetDevice;
  /** Emulated arrival time, ms. */
  readonly time: number;
}

/** An ICMP error a socket learned of (port unreachable for a UDP socket, …). */
export interface SocketError {
  readonly errno: Errno;
  readonly from: Ipv4Addr;
  readonly type: number;
  readonly code: number;
}

/** Options of one send. */
export interface SendOptions {
  readonly ttl?: number | undefined;
  readonly src?: Ipv4Addr | undefined;
  readonly dontFrag?: boolean | undefined;
  readonly tos?: number | undefined;
  /** SO_BINDTODEVICE / `ping -I dev`. */
  readonly oif?: NetDevice | undefined;
}

/**
 * A raw IPv4 socket for one protocol (SOCK_RAW): receives a copy of every
 * locally delivered packet of that protocol; `ping` uses one for ICMP.
 */
export class RawSocket {
  readonly mailbox: Mailbox<Datagram>;
  constructor(
    private readonly ns: NetNs,
    readonly protocol: number,
  ) {
    this.mailbox = new Mailbox(ns.kernel.clock);
    ns.ipv4.rawSockets.add(this);
  }

  /** Sends `data` as the payload of an IPv4 packet to `dst`. Returns an errno on failure. */
  send(dst: Ipv4Addr, data: Uint8Array, options: SendOptions = {}): Errno | undefined {
    return this.ns.ipv4.send({ ...options, dst, protocol: this.protocol, payload: () => data });
  }

  close(): void {
    this.ns.ipv4.rawSockets.delete(this);
    this.mailbox.close();
  }
}

/** A UDP socket: bound to a local address (0 = any) and port. */
export class UdpSocket {
  readonly mailbox: Mailbox<Datagram>;
  readonly errors: Mailbox<SocketError>;
  #port = 0;
  #addr: Ipv4Addr = 0;

  constructor(private readonly ns: NetNs) {
    this.mailbox = new Mailbox(ns.kernel.clock);
    this.errors = new Mailbox(ns.kernel.clock, 16);
  }

  get localPort(): number {
    return this.#port;
  }
  get localAddr(): Ipv4Addr {
    return this.#addr;
  }

  /** Binds to `addr:port` (port 0 picks an ephemeral one). Returns an errno on failure. */
  bind(addr: Ipv4Addr, port: number): Errno | undefined {
    if (this.#port !== 0) return "EINVAL";
    if (addr !== 0 && !this.ns.isLocalAddress(addr) && !this.ns.sysctl.on("net.ipv4.ip_nonlocal_bind")) {
      return "EADDRNOTAVAIL";
    }
    const udp = this.ns.ipv4.udpSockets;
    if (port === 0) {
      const p = this.ns.ipv4.ephemeralPort((candidate) => !udp.has(candidate));
      if (p === undefined) return "EAGAIN";
      port = p;
    } else if (udp.get(port)?.some((s) => s.#addr === 0 || addr === 0 || s.#addr === addr)) {
      return "EADDRINUSE";
    }
    this.#addr = addr;
    this.#port = port;
    const list = udp.get(port) ?? [];
    list.push(this);
    udp.set(port, list);
    return undefined;
  }

  /** Sends a datagram to `dst:port`, binding an ephemeral port first if needed. */
  sendTo(dst: Ipv4Addr, port: number, data: Uint8Array, options: SendOptions = {}): Errno | undefined {
    if (this.#port === 0) {
      const err = this.bind(0, 0);
      if (err) return err;
    }
    const srcPort = this.#port;
    return this.ns.ipv4.send({
      ...options,
      src: options.src ?? (this.#addr || undefined),
      dst,
      protocol: 17,
      payload: (src) => this.ns.ipv4.udpPayload(src, dst, srcPort, port, data),
    });
  }

  close(): void {
    const list = this.ns.ipv4.udpSockets.get(this.#port);
    if (list) {
      const rest = list.filter((s) => s !== this);
      if (rest.length > 0) this.ns.ipv4.udpSockets.set(this.#port, rest);
      else this.ns.ipv4.udpSockets.delete(this.#port);
    }
    this.mailbox.close();
    this.errors.close();
  }
}
