import type { Ipv4Addr, MacAddr } from "@kemu/wire";
import type { Bridge } from "./bridge.ts";
import type { Netem } from "./netem.ts";
import type { NetNs } from "./netns.ts";
import { gsoSegment, gsoSize } from "./gso.ts";

/** The kinds of link the model has, as `ip -d link` names them. */
export type DeviceKind = "loopback" | "veth" | "bridge" | "ether" | "dummy" | "tun" | "vxlan";

/** Per-device counters, as `ip -s link` and /proc/net/dev show them. */
export interface DeviceStats {
  rxPackets: number;
  rxBytes: number;
  rxErrors: number;
  rxDropped: number;
  txPackets: number;
  txBytes: number;
  txErrors: number;
  txDropped: number;
  multicast: number;
}

/** An IPv4 address on an interface, as `ip addr` lists it. */
export interface IfAddr {
  readonly addr: Ipv4Addr;
  readonly prefixLen: number;
  readonly broadcast: Ipv4Addr | undefined;
  readonly scope: "host" | "link" | "global";
  readonly label: string;
  /** Set when another address on the device already covers the same subnet. */
  readonly secondary: boolean;
}

/**
 * Offloads a device has, as `ethtool -k` lists them: with tso a device takes
 * TCP super-packets whole; without it they are segmented in software just
 * before it (generic segmentation offload); with gso off, TCP builds no
 * super-packets for a route out of it; with gro the device merges the TCP
 * segments of a poll on receive.
 */
export interface DeviceFeatures {
  /** tcp-segmentation-offload. */
  tso: boolean;
  /** generic-segmentation-offload. */
  gso: boolean;
  /** generic-receive-offload. */
  gro: boolean;
}

const EMPTY_FRAME = new Uint8Array(0);

/** Which way a frame crossed a device, for captures. */
export type Direction = "in" | "out";

/** A watcher of frames on one device (tcpdump, a pcap writer). */
export type Tap = (dev: NetDevice, frame: Uint8Array, dir: Direction) => void;

/**
 * A network interface. Frames leave through `transmit` (the stack or a bridge
 * hands them over) and arrive through `receive` (the device's medium delivers
 * them); subclasses say what the medium is.
 */
export abstract class NetDevice {
  abstract readonly kind: DeviceKind;
  /** Index in the device's current namespace. */
  ifindex = 0;
  netns!: NetNs;
  adminUp = false;
  master: Bridge | undefined;
  readonly addrs: IfAddr[] = [];
  readonly stats: DeviceStats = {
    rxPackets: 0,
    rxBytes: 0,
    rxErrors: 0,
    rxDropped: 0,
    txPackets: 0,
    txBytes: 0,
    txErrors: 0,
    txDropped: 0,
    multicast: 0,
  };
  readonly taps = new Set<Tap>();
  /** How many frames wait in the device's queue while its driver is stopped (`ip link … qlen`); one more is a TX drop. */
  txqlen = 1000;
  /** Frames waiting for the driver to take them (the default qdisc's FIFO), from #txqHead on. */
  #txq: Uint8Array[] = [];
  #txqHead = 0;
  /** The egress queueing discipline (`tc qdisc … netem`); none means frames go out at once. */
  qdisc: Netem | undefined;
  /** Injected faults (a link's loss, a partition), each shaping only the frames its filter takes; applied before the qdisc. */
  readonly injected: Netem[] = [];
  promisc = false;
  alias = "";
  /** Offloads (`ethtool -k`); software devices take super-packets whole, as Linux's veth, bridge, lo and vxlan do. */
  readonly features: DeviceFeatures = { tso: true, gso: true, gro: false };

  constructor(
    public name: string,
    public mac: MacAddr,
    public mtu: number,
  ) {}

  /** Whether the medium has carrier (a veth whose peer is up, a bridge with a live port). */
  get carrier(): boolean {
    return true;
  }

  /** Whether this device takes part in ARP (false for lo, tun and NOARP devices). */
  get arp(): boolean {
    return true;
  }

  /** The index of the linked device (the peer for veth); its own index otherwise. */
  get iflink(): number {
    return this.ifindex;
  }

  /** RFC 2863 state as /sys/class/net/X/operstate and `ip link` show it. */
  get operstate(): "UP" | "DOWN" | "UNKNOWN" | "LOWERLAYERDOWN" {
    if (!this.adminUp) return "DOWN";
    return this.carrier ? "UP" : "DOWN";
  }

  /**
   * Hands a frame to the medium. Drops it when the device is down. A
   * super-packet is cut into wire-sized segments first when the device has
   * no tso (validate_xmit_skb → skb_gso_segment): its faults, qdisc, taps and
   * medium see the segments.
   */
  transmit(frame: Uint8Array): void {
    if (!this.adminUp || !this.carrier) {
      this.stats.txDropped++;
      return;
    }
    if (!this.features.tso) {
      const size = gsoSize(frame);
      if (size !== undefined) {
        for (const seg of gsoSegment(frame, size)) this.#transmitOne(seg);
        return;
      }
    }
    this.#transmitOne(frame);
  }

  #transmitOne(frame: Uint8Array): void {
    if (this.qdisc || this.injected.length > 0) {
      this.#egress(frame, 0);
      return;
    }
    this.#toDriver(frame);
  }

  /** Passes a frame through the faults, then the qdisc, in order. */
  #egress(frame: Uint8Array, stage: number): void {
    const chain = this.qdisc ? [...this.injected, this.qdisc] : this.injected;
    const q = chain[stage];
    if (q === undefined) this.#toDriver(frame);
    else q.enqueue(frame, (f) => this.#egress(f, stage + 1));
  }

  /**
   * What the qdisc dequeues goes to the driver, unless the driver has
   * stopped its queue (its ring is full, netif_stop_queue) or frames are
   * already waiting: then it waits its turn, up to txqlen frames; beyond
   * that it is dropped and counted as a TX drop.
   */
  #toDriver(frame: Uint8Array): void {
    const waiting = this.#txq.length - this.#txqHead;
    if (waiting === 0 && !this.txStopped(frame)) {
      this.#out(frame);
      return;
    }
    if (waiting >= this.txqlen) {
      this.stats.txDropped++;
      return;
    }
    this.#txq.push(frame);
    if (waiting === 0) this.txStalled();
  }

  /** Frames waiting in the device's queue for the driver. */
  get txQueued(): number {
    return this.#txq.length - this.#txqHead;
  }

  /** netif_wake_queue: the driver has room again; waiting frames go, in order, while it has. */
  wakeQueue(): void {
    const q = this.#txq;
    while (this.#txqHead < q.length) {
      const frame = q[this.#txqHead]!;
      if (this.txStopped(frame)) break;
      q[this.#txqHead++] = EMPTY_FRAME;
      this.#out(frame);
    }
    if (this.#txqHead === q.length) {
      this.#txq = [];
      this.#txqHead = 0;
    } else {
      if (this.#txqHead > 1024) {
        this.#txq = q.slice(this.#txqHead);
        this.#txqHead = 0;
      }
      this.txStalled();
    }
  }

  /** Whether the driver cannot take `frame` now (its ring is full); software devices never stop. */
  protected txStopped(_frame: Uint8Array): boolean {
    return false;
  }

  /** Frames wait for a stopped driver: it is up to the device to call wakeQueue once there is room. */
  protected txStalled(): void {}

  #out(frame: Uint8Array): void {
    this.stats.txPackets++;
    this.stats.txBytes += frame.length;
    this.#tap(frame, "out");
    this.xmit(frame);
  }

  /** Delivers a frame that arrived from the medium: to the bridge this is a port of, or to the stack. */
  receive(frame: Uint8Array): void {
    if (!this.adminUp) {
      this.stats.rxDropped++;
      return;
    }
    this.countRx(frame);
    this.deliver(frame);
  }

  /** Counts a frame the device took in (ip -s link's RX bytes, packets, mcast). */
  protected countRx(frame: Uint8Array): void {
    this.stats.rxPackets++;
    this.stats.rxBytes += frame.length;
    if (frame.length >= 1 && (frame[0]! & 1) === 1) this.stats.multicast++;
  }

  /** Hands a received frame, already counted, to the taps and then the bridge or the stack. */
  protected deliver(frame: Uint8Array): void {
    this.#tap(frame, "in");
    if (this.master) this.master.portInput(this, frame);
    else this.netns.ipv4.input(this, frame);
  }

  /** The medium: what happens to a frame once transmitted. */
  protected abstract xmit(frame: Uint8Array): void;

  /** Called when the device's admin state or carrier may have changed. */
  linkChanged(): void {
    this.netns.linkChanged(this);
  }

  #tap(frame: Uint8Array, dir: Direction): void {
    if (this.taps.size > 0) for (const tap of this.taps) tap(this, frame, dir);
    this.netns.kernel.capture?.(this, frame, dir);
  }
}
