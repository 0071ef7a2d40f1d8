import {
  buildEthernet,
  buildUdp,
  buildVxlan,
  ETHERNET_HEADER_LEN,
  ETHERTYPE_IPV4,
  EthernetFrame,
  type Ipv4Addr,
  type Ipv4Packet,
  MAC_ZERO,
  type MacAddr,
  type UdpPacket,
  VXLAN_PORT_LINUX_DEFAULT,
  VxlanPacket,
  WireError,
} from "@kemu/wire";
import { NetDevice } from "./device.ts";
import { carryGso, gsoSize } from "./gso.ts";
import { Mailbox } from "./mailbox.ts";
import type { NetNs } from "./netns.ts";

/** Bytes VXLAN adds in front of an inner IP packet: outer IPv4 20 + UDP 8 + VXLAN 8 + inner Ethernet 14. */
export const VXLAN_OVERHEAD = 50;

/** One entry of a VXLAN device's forwarding database (`bridge fdb … dev flannel.1 dst X self`). */
export interface VxlanFdbEntry {
  readonly mac: MacAddr;
  readonly dst: Ipv4Addr;
  readonly permanent: boolean;
}

/** The parameters of `ip link add NAME type vxlan …`. */
export interface VxlanOptions {
  /** `id VNI`. */
  readonly vni: number;
  /** `local IP`: the outer source address; 0 lets routing choose. */
  readonly local: Ipv4Addr;
  /** `dev LOWER`: the underlay device. */
  readonly lower: NetDevice | undefined;
  /** `dstport PORT` (the listening port too); Linux's default 8472. */
  readonly port?: number | undefined;
  /** `[no]learning`; flannel sets nolearning. */
  readonly learning?: boolean | undefined;
  /** `ttl N`; 0 means `ttl auto` (the namespace's default TTL, 64). */
  readonly ttl?: number | undefined;
  readonly mtu?: number | undefined;
  readonly mac?: MacAddr | undefined;
}

/** The devices listening on each VXLAN UDP port of a namespace. */
const listeners = new WeakMap<NetNs, Map<number, Set<Vxlan>>>();

/**
 * A VXLAN device: an Ethernet device whose medium is UDP. A frame transmitted
 * on it is looked up by destination MAC in the device's own FDB and sent as
 * UDP/VXLAN from the local address through the namespace's IP stack; a
 * datagram arriving on its port with its VNI is decapsulated and received.
 * Without an FDB entry (and without a default all-zeros entry) the frame is
 * dropped, as with `nolearning` and no remote configured.
 */
export class Vxlan extends NetDevice {
  readonly kind = "vxlan";
  readonly vni: number;
  readonly local: Ipv4Addr;
  readonly lower: NetDevice | undefined;
  readonly port: number;
  readonly learning: boolean;
  readonly ttl: number;
  readonly fdb = new Map<MacAddr, VxlanFdbEntry>();
  /** Received datagrams refused: malformed header or another VNI. */
  rxMalformed = 0;

  constructor(name: string, mac: MacAddr, mtu: number, options: VxlanOptions) {
    super(name, mac, mtu);
    this.vni = options.vni;
    this.local = options.local;
    this.lower = options.lower;
    this.port = options.port ?? VXLAN_PORT_LINUX_DEFAULT;
    this.learning = options.learning ?? false;
    this.ttl = options.ttl ?? 0;
  }

  override get operstate(): "UP" | "DOWN" | "UNKNOWN" | "LOWERLAYERDOWN" {
    return this.adminUp ? "UNKNOWN" : "DOWN";
  }

  /** Adds or replaces an FDB entry (`bridge fdb append|replace MAC dev X dst IP self permanent`). */
  fdbSet(mac: MacAddr, dst: Ipv4Addr, permanent = true): void {
    this.fdb.set(mac, { mac, dst, permanent });
  }

  /** Deletes an FDB entry; false when there was none. */
  fdbDelete(mac: MacAddr): boolean {
    return this.fdb.delete(mac);
  }

  /** Starts listening on the UDP port in the device's namespace (called when added to one). */
  attach(): void {
    const ns = this.netns;
    let ports = listeners.get(ns);
    if (ports === undefined) listeners.set(ns, (ports = new Map()));
    let set = ports.get(this.port);
    if (set === undefined) {
      ports.set(this.port, (set = new Set()));
      const devices = set;
      ns.ipv4.udpEncap.set(this.port, (pkt, udp, dev) => vxlanInput(ns, devices, pkt, udp, dev));
    }
    set.add(this);
  }

  protected xmit(frame: Uint8Array): void {
    let dst: MacAddr;
    try {
      dst = EthernetFrame.checked(frame).dst;
    } catch {
      this.stats.txErrors++;
      return;
    }
    const entry = this.fdb.get(dst) ?? this.fdb.get(MAC_ZERO);
    if (entry === undefined) {
      this.stats.txDropped++;
      return;
    }
    const ns = this.netns;
    const srcPort = flowSourcePort(frame);
    const payload = buildVxlan({ vni: this.vni }, frame);
    // A super-packet stays one (SKB_GSO_UDP_TUNNEL): the lower device segments it, outer headers and all.
    const gso = gsoSize(frame);
    const err = ns.ipv4.send({
      dst: entry.dst,
      gsoSize: gso,
      src: this.local || undefined,
      protocol: 17,
      ttl: this.ttl || undefined,
      payload: (src) => buildUdp({ srcPort, dstPort: this.port }, payload, src, entry.dst, { checksum: false }),
    });
    if (err !== undefined) this.stats.txErrors++;
  }
}

/** Decapsulates one datagram on a VXLAN port; true when it was consumed. */
function vxlanInput(ns: NetNs, devices: Set<Vxlan>, pkt: Ipv4Packet, udp: UdpPacket, _dev: NetDevice): boolean {
  const alive = [...devices].filter((d) => d.netns === ns && ns.deviceByIndex(d.ifindex) === d);
  if (alive.length === 0) return false;
  let vx: VxlanPacket;
  try {
    vx = VxlanPacket.checked(udp.payload);
  } catch (err) {
    if (!(err instanceof WireError)) throw err;
    for (const d of alive) d.rxMalformed++;
    alive[0]!.stats.rxErrors++;
    return true;
  }
  const target = alive.find((d) => d.vni === vx.vni);
  if (target === undefined) {
    for (const d of alive) d.rxMalformed++;
    alive[0]!.stats.rxDropped++;
    return true;
  }
  const inner = vx.payload;
  if (inner.length < ETHERNET_HEADER_LEN) {
    target.rxMalformed++;
    target.stats.rxErrors++;
    return true;
  }
  const frame = inner.slice();
  carryGso(pkt.buffer, frame);
  target.receive(frame);
  return true;
}

/**
 * The outer UDP source port for an inner frame, as udp_flow_src_port picks it:
 * a hash of the inner flow scaled into the local port range [32768, 61000).
 */
export function flowSourcePort(frame: Uint8Array, min = 32768, max = 61000): number {
  let h = 0x811c9dc5;
  const mix = (b: number) => {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  };
  const ethertype = frame.length >= 14 ? (frame[12]! << 8) | frame[13]! : 0;
  if (ethertype === ETHERTYPE_IPV4 && frame.length >= 34) {
    for (let i = 26; i < 34; i++) mix(frame[i]!); // src, dst
    mix(frame[23]!); // protocol
    const ihl = (frame[14]! & 0x0f) * 4;
    const l4 = 14 + ihl;
    const proto = frame[23]!;
    if ((proto === 6 || proto === 17) && frame.length >= l4 + 4) for (let i = l4; i < l4 + 4; i++) mix(frame[i]!);
  } else {
    for (let i = 0; i < Math.min(frame.length, 12); i++) mix(frame[i]!);
  }
  return Math.floor((h * (max - min)) / 2 ** 32) + min;
}

/**
 * A TUN device (IFF_TUN | IFF_NO_PI): NOARP, no link header on its owner's
 * side. Packets the stack routes to it are queued for the owner (`read`);
 * packets the owner writes are received as if from a wire. Inside the model
 * frames still carry a 14-byte Ethernet header (all zeros but the type),
 * stripped and added here at the device boundary.
 */
export class Tun extends NetDevice {
  readonly kind = "tun";
  /** IPv4 packets routed out of the device, waiting for the owner. */
  readonly queue: Mailbox<Uint8Array>;

  constructor(ns: NetNs, name: string, mtu: number) {
    super(name, MAC_ZERO, mtu);
    this.txqlen = 500;
    // Without IFF_VNET_HDR the owner reads wire-sized packets: super-packets are segmented for it.
    this.features.tso = false;
    this.queue = new Mailbox(ns.kernel.clock, 500);
  }

  override get arp(): boolean {
    return false;
  }
  override get operstate(): "UP" | "DOWN" | "UNKNOWN" | "LOWERLAYERDOWN" {
    return this.adminUp ? "UNKNOWN" : "DOWN";
  }

  /** The owner writes one IPv4 packet (write(2) on the tun fd). */
  write(packet: Uint8Array): void {
    this.receive(buildEthernet({ dst: this.mac, src: MAC_ZERO, ethertype: ETHERTYPE_IPV4 }, packet));
  }

  /** The next packet for the owner, waiting up to `timeoutMs` (read(2) on the tun fd). */
  read(timeoutMs?: number): Promise<Uint8Array | undefined> {
    return this.queue.receive(timeoutMs);
  }

  protected xmit(frame: Uint8Array): void {
    if (!this.queue.push(frame.slice(ETHERNET_HEADER_LEN))) this.stats.txDropped++;
  }
}
