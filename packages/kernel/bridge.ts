import { ETHERTYPE_IPV4, EthernetFrame, Ipv4Packet, isMulticastMac, type MacAddr, readIpv4, WireError } from "@kemu/wire";
import { NetDevice } from "./device.ts";
import { carryGso } from "./gso.ts";
import type { PacketMeta } from "./ipv4.ts";

/** Default FDB ageing time, BR_DEFAULT_AGEING_TIME: 300 s. */
export const BRIDGE_AGEING_MS = 300_000;

/** A forwarding-database entry, as `bridge fdb show` prints it. */
export interface FdbEntry {
  readonly mac: MacAddr;
  readonly port: NetDevice;
  /** A port's or the bridge's own address: never ages, delivered locally. */
  readonly local: boolean;
  /** Added by hand (`bridge fdb add … static`): never ages. */
  readonly static: boolean;
  updatedAt: number;
}

/** Per-port settings (/sys/class/net/<br>/brif/<port>/…). */
export interface BridgePortOptions {
  hairpin: boolean;
  learning: boolean;
  flood: boolean;
}

/**
 * A Linux bridge: learns source MACs per port, forwards known unicast to its
 * port, floods unknown unicast and broadcast to every other port, never back
 * out the ingress port unless that port is in hairpin mode, and hands frames
 * for its own address up to the host's stack.
 */
export class Bridge extends NetDevice {
  readonly kind = "bridge";
  readonly ports = new Map<NetDevice, BridgePortOptions>();
  readonly fdb = new Map<MacAddr, FdbEntry>();
  ageingMs = BRIDGE_AGEING_MS;
  /** Frames dropped because they could not be parsed. */
  malformed = 0;

  override get carrier(): boolean {
    for (const port of this.ports.keys()) if (port.adminUp && port.carrier) return true;
    return false;
  }

  /** Enslaves `dev` (ip link set dev X master BR). */
  addPort(dev: NetDevice): void {
    dev.master = this;
    this.ports.set(dev, { hairpin: false, learning: true, flood: true });
    this.fdb.set(dev.mac, { mac: dev.mac, port: dev, local: true, static: false, updatedAt: 0 });
    this.linkChanged();
  }

  /** Releases `dev` (ip link set dev X nomaster) and forgets what was learned on it. */
  removePort(dev: NetDevice): void {
    if (!this.ports.delete(dev)) return;
    dev.master = undefined;
    for (const [mac, entry] of this.fdb) if (entry.port === dev) this.fdb.delete(mac);
    this.linkChanged();
  }

  /** Live FDB entries, expired learned ones left out (and forgotten). */
  entries(): FdbEntry[] {
    const now = this.netns.kernel.clock.now();
    const out: FdbEntry[] = [];
    for (const [mac, entry] of this.fdb) {
      if (this.#expired(entry, now)) this.fdb.delete(mac);
      else out.push(entry);
    }
    return out;
  }

  /** A frame that arrived on port `port`. */
  portInput(port: NetDevice, frame: Uint8Array): void {
    let eth: EthernetFrame;
    try {
      eth = EthernetFrame.checked(frame);
    } catch (err) {
      if (!(err instanceof WireError)) throw err;
      this.malformed++;
      port.stats.rxErrors++;
      return;
    }
    const opts = this.ports.get(port);
    if (opts === undefined) return;
    const src = eth.src;
    const now = this.netns.kernel.clock.now();
    if (opts.learning && !isMulticastMac(src)) {
      const known = this.fdb.get(src);
      if (known === undefined || (!known.local && !known.static)) {
        this.fdb.set(src, { mac: src, port, local: false, static: false, updatedAt: now });
      }
    }
    const dst = eth.dst;
    if (isMulticastMac(dst)) {
      this.#flood(port, frame);
      this.#up(frame);
      return;
    }
    const entry = this.#lookup(dst, now);
    if (entry?.local || dst === this.mac) {
      this.#up(frame);
    } else if (entry === undefined) {
      if (this.#brNetfilter(eth)) this.#netfilterForward(port, this.#floodPorts(port, frame), frame, eth);
      else this.#flood(port, frame);
      if (this.promisc) this.#up(frame);
    } else if (entry.port !== port || opts.hairpin) {
      if (this.#brNetfilter(eth)) this.#netfilterForward(port, [entry.port], frame, eth);
      else entry.port.transmit(frame);
    }
  }

  /** Whether a unicast IPv4 frame being bridged passes the iptables hooks (br_netfilter loaded and on). */
  #brNetfilter(eth: EthernetFrame): boolean {
    return (
      eth.ethertype === ETHERTYPE_IPV4 &&
      this.netns.ipv4.hooks !== undefined &&
      this.netns.sysctl.on("net.bridge.bridge-nf-call-iptables")
    );
  }

  /**
   * br_netfilter: the IPv4 packet of a bridged frame passes PREROUTING once
   * (in: the bridge, physdev-in: the port), then FORWARD and POSTROUTING for
   * each egress port, with conntrack, so that replies are un-NATed. A
   * destination changed by DNAT hands the packet to the IP layer instead.
   */
  #netfilterForward(inPort: NetDevice, ports: NetDevice[], frame: Uint8Array, eth: EthernetFrame): void {
    const hooks = this.netns.ipv4.hooks!;
    let ip: Ipv4Packet;
    try {
      ip = Ipv4Packet.checked(eth.payload);
    } catch {
      return; // br_validate_ipv4 drops what IP would not accept
    }
    const original = eth.payload.subarray(0, ip.totalLen);
    const meta: PacketMeta = { mark: 0, physIn: inPort };
    const pre = hooks.run("PREROUTING", original, this, undefined, meta);
    if (pre === undefined) return;
    carryGso(frame, pre);
    if (readIpv4(pre, 16) !== ip.dst) {
      meta.prerouted = true;
      this.netns.ipv4.ipInput(this, pre, meta);
      return;
    }
    for (const port of ports) {
      meta.physOut = port;
      let out = hooks.run("FORWARD", pre, this, this, meta);
      if (out !== undefined) out = hooks.run("POSTROUTING", out, this, this, meta);
      if (out === undefined) continue;
      if (out === original) {
        port.transmit(frame);
      } else {
        const rebuilt = new Uint8Array(14 + out.length);
        rebuilt.set(frame.subarray(0, 14));
        rebuilt.set(out, 14);
        carryGso(frame, rebuilt);
        port.transmit(rebuilt);
      }
    }
  }

  #floodPorts(ingress: NetDevice, frame: Uint8Array): NetDevice[] {
    const out: NetDevice[] = [];
    const multicast = isMulticastMac(EthernetFrame.checked(frame).dst);
    for (const [port, opts] of this.ports) {
      if (!opts.flood && !multicast) continue;
      if (port === ingress && !opts.hairpin) continue;
      out.push(port);
    }
    return out;
  }

  protected xmit(frame: Uint8Array): void {
    let eth: EthernetFrame;
    try {
      eth = EthernetFrame.checked(frame);
    } catch {
      this.malformed++;
      return;
    }
    const dst = eth.dst;
    const entry = isMulticastMac(dst) ? undefined : this.#lookup(dst, this.netns.kernel.clock.now());
    if (entry !== undefined && !entry.local) entry.port.transmit(frame);
    else if (entry === undefined) this.#flood(undefined, frame);
  }

  #lookup(mac: MacAddr, now: number): FdbEntry | undefined {
    const entry = this.fdb.get(mac);
    if (entry === undefined) return undefined;
    if (this.#expired(entry, now)) {
      this.fdb.delete(mac);
      return undefined;
    }
    return entry;
  }

  #expired(entry: FdbEntry, now: number): boolean {
    return !entry.local && !entry.static && now - entry.updatedAt > this.ageingMs;
  }

  #flood(ingress: NetDevice | undefined, frame: Uint8Array): void {
    for (const [port, opts] of this.ports) {
      if (!opts.flood && !isMulticastMac(EthernetFrame.checked(frame).dst)) continue;
      if (port === ingress && !opts.hairpin) continue;
      port.transmit(frame);
    }
  }

  /** Hands a frame to the host's stack as received on the bridge device itself. */
  #up(frame: Uint8Array): void {
    if (!this.adminUp) return;
    this.stats.rxPackets++;
    this.stats.rxBytes += frame.length;
    this.netns.kernel.capture?.(this, frame, "in");
    for (const tap of this.taps) tap(this, frame, "in");
    this.netns.ipv4.input(this, frame);
  }
}
