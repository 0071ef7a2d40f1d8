import type { MacAddr } from "@kemu/wire";
import { NetDevice } from "./device.ts";
import { groReceive } from "./gro.ts";

/**
 * Time a frame takes to cross a software link (veth, loopback) in the model,
 * in milliseconds: small, but not zero, so that emulated round trips look
 * like the real kernel's few microseconds.
 */
export const SOFTWARE_HOP_MS = 0.004;

/** The loopback device: what it sends, it receives. */
export class Loopback extends NetDevice {
  readonly kind = "loopback";
  constructor() {
    super("lo", 0, 65536);
  }
  override get arp(): boolean {
    return false;
  }
  override get operstate(): "UP" | "DOWN" | "UNKNOWN" | "LOWERLAYERDOWN" {
    return this.adminUp ? "UNKNOWN" : "DOWN";
  }
  protected xmit(frame: Uint8Array): void {
    this.netns.kernel.clock.setTimer(SOFTWARE_HOP_MS, () => this.receive(frame));
  }
}

/** One end of a veth pair: what one end transmits, the other receives. */
export class Veth extends NetDevice {
  readonly kind = "veth";
  peer!: Veth;

  /** Makes two connected ends. */
  static pair(name: string, mac: MacAddr, peerName: string, peerMac: MacAddr, mtu = 1500): [Veth, Veth] {
    const a = new Veth(name, mac, mtu);
    const b = new Veth(peerName, peerMac, mtu);
    a.peer = b;
    b.peer = a;
    return [a, b];
  }

  override get carrier(): boolean {
    return this.peer.adminUp;
  }
  override get operstate(): "UP" | "DOWN" | "UNKNOWN" | "LOWERLAYERDOWN" {
    if (!this.adminUp) return "DOWN";
    return this.peer.adminUp ? "UP" : "LOWERLAYERDOWN";
  }
  override get iflink(): number {
    return this.peer.ifindex;
  }
  protected xmit(frame: Uint8Array): void {
    const peer = this.peer;
    this.netns.kernel.clock.setTimer(SOFTWARE_HOP_MS, () => peer.receive(frame));
  }
  override linkChanged(): void {
    super.linkChanged();
    this.peer.netns.linkChanged(this.peer);
  }
}

/** A dummy device: it swallows what it sends (kube-ipvs0 is one). */
export class Dummy extends NetDevice {
  readonly kind = "dummy";
  override get arp(): boolean {
    return false;
  }
  override get operstate(): "UP" | "DOWN" | "UNKNOWN" | "LOWERLAYERDOWN" {
    return this.adminUp ? "UNKNOWN" : "DOWN";
  }
  protected xmit(_frame: Uint8Array): void {}
}

/**
 * An Ethernet NIC whose wire is outside the host: transmitted frames go to
 * `wire` (the underlay), and the underlay calls `receive` with arriving ones,
 * or `receiveBatch` with the frames of one poll. It has no TCP segmentation
 * offload, so super-packets leave it as wire-sized frames, and it merges
 * what arrives with GRO.
 */
export class Ether extends NetDevice {
  readonly kind = "ether";
  /** Where transmitted frames go; unplugged when undefined. */
  wire: ((frame: Uint8Array) => void) | undefined;
  /**
   * Whether the wire has room for `frame` now (the driver's tx ring); when
   * it has not, frames wait in the device's queue until `wakeQueue`.
   */
  wireRoom: ((frame: Uint8Array) => boolean) | undefined;
  /** Called when frames start waiting for room: whoever owns the wire calls `wakeQueue` once it has some. */
  onTxStall: (() => void) | undefined;
  constructor(name: string, mac: MacAddr, mtu: number) {
    super(name, mac, mtu);
    this.features.tso = false;
    this.features.gro = true;
  }
  override get carrier(): boolean {
    return this.wire !== undefined;
  }
  protected xmit(frame: Uint8Array): void {
    this.wire?.(frame);
  }
  protected override txStopped(frame: Uint8Array): boolean {
    return this.wireRoom !== undefined && !this.wireRoom(frame);
  }
  protected override txStalled(): void {
    this.onTxStall?.();
  }
  /** A NIC cannot take a frame longer than its MTU (plus the Ethernet and VLAN headers): it is dropped, counted, and nobody is told. */
  override receive(frame: Uint8Array): void {
    this.receiveBatch([frame]);
  }

  /**
   * The frames of one poll (one NAPI round): each is counted as the driver
   * does, then GRO merges the TCP segments of each flow and the stack gets
   * the result; taps see what the stack gets, as tcpdump does.
   */
  receiveBatch(frames: readonly Uint8Array[]): void {
    if (!this.adminUp) {
      this.stats.rxDropped += frames.length;
      return;
    }
    const ok: Uint8Array[] = [];
    for (const frame of frames) {
      if (frame.length > this.mtu + 18) {
        this.stats.rxErrors++;
        this.stats.rxDropped++;
        continue;
      }
      this.countRx(frame);
      ok.push(frame);
    }
    const encap = this.netns.ipv4.udpEncap;
    const up = this.features.gro && ok.length > 1 ? groReceive(ok, (port) => encap.has(port)) : ok;
    for (const frame of up) this.deliver(frame);
  }
}
