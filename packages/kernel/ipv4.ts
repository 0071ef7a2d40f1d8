import {
  ARP_REPLY,
  ARP_REQUEST,
  ArpPacket,
  buildArp,
  buildEthernet,
  buildIcmp,
  buildIpv4,
  buildUdp,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  EthernetFrame,
  ICMP_DEST_UNREACH,
  ICMP_EXC_TTL,
  ICMP_FRAG_NEEDED,
  ICMP_HOST_UNREACH,
  ICMP_NET_UNREACH,
  ICMP_PORT_UNREACH,
  ICMP_PROT_UNREACH,
  ICMP_TIME_EXCEEDED,
  ICMP_ADMIN_PROHIBITED,
  IcmpPacket,
  type IcmpRepr,
  type Ipv4Addr,
  Ipv4Packet,
  isMulticastMac,
  MAC_BROADCAST,
  MAC_ZERO,
  type MacAddr,
  parseArp,
  parseIcmp,
  parseUdp,
  prefixMask,
  UdpPacket,
  updateChecksum16,
  WireError,
} from "@kemu/wire";
import type { NetDevice } from "./device.ts";
import type { Errno } from "./errno.ts";
import { carryGso, gsoNetworkLen, gsoSize, setGso } from "./gso.ts";
import { NeighTable } from "./neigh.ts";
import type { NetNs } from "./netns.ts";
import { type Route, RoutingTables } from "./route.ts";
import type { Datagram, RawSocket, SendOptions, UdpSocket } from "./socket.ts";

/** The netfilter hooks, in the order a forwarded packet meets them. */
export type Hook = "PREROUTING" | "INPUT" | "FORWARD" | "OUTPUT" | "POSTROUTING";

/**
 * What travels with one packet from hook to hook, as the sk_buff fields
 * netfilter uses do: the mark, the connection-tracking reference, the TRACE
 * flag and, for bridged frames, the bridge ports.
 */
export interface PacketMeta {
  mark: number;
  /** The conntrack entry the packet belongs to (opaque to the stack). */
  nfct?: unknown;
  /** Set by the TRACE target: every rule the packet meets is logged. */
  nfTrace?: boolean;
  /** The bridge port a bridged frame came in on (br_netfilter). */
  physIn?: NetDevice | undefined;
  /** The bridge port a bridged frame goes out of (br_netfilter). */
  physOut?: NetDevice | undefined;
  /** PREROUTING already ran (in the bridge, for a frame handed up after DNAT). */
  prerouted?: boolean;
}

/**
 * What runs at the netfilter hooks. `run` returns the packet to go on with
 * (possibly rewritten, e.g. NATed) or undefined when it was dropped or stolen.
 */
export interface PacketHooks {
  run(
    hook: Hook,
    packet: Uint8Array,
    inDev: NetDevice | undefined,
    outDev: NetDevice | undefined,
    meta: PacketMeta,
  ): Uint8Array | undefined;
}

/** A transport protocol's receive path (TCP plugs in here). */
export interface ProtocolHandler {
  /** A packet for this host; `packet` is the whole IPv4 packet. Return false when nobody wanted it. */
  input(packet: Ipv4Packet, dev: NetDevice): boolean;
  /** An ICMP error quoting one of this protocol's packets. */
  error?(quoted: Uint8Array, errno: Errno, icmp: IcmpRepr, from: Ipv4Addr): void;
}

/** A UDP tunnel's receive path; returns false to let the datagram go on to sockets. */
export type UdpEncapHandler = (packet: Ipv4Packet, udp: UdpPacket, dev: NetDevice) => boolean;

/** What a local send needs. `payload` gets the chosen source address (for pseudo-header checksums). */
export interface OutputRequest extends SendOptions {
  readonly dst: Ipv4Addr;
  readonly protocol: number;
  /** The packet is a TCP super-packet of segments this long (gso_size): one packet to the stack, segmented where a device needs it. */
  readonly gsoSize?: number | undefined;
  payload(src: Ipv4Addr): Uint8Array;
}

/** Counters in the spirit of /proc/net/snmp and `netstat -s`. */
export interface Ipv4Stats {
  inReceives: number;
  inHdrErrors: number;
  inAddrErrors: number;
  inUnknownProtos: number;
  inDiscards: number;
  inDelivers: number;
  forwDatagrams: number;
  outRequests: number;
  outNoRoutes: number;
  outDiscards: number;
  fragFails: number;
  /** Frames refused by a parser before reaching IP (bad Ethernet or ARP). */
  malformedFrames: number;
  /** Frames of an EtherType nobody handles. */
  unknownEthertype: number;
  icmpOutErrors: number;
}

/**
 * The IPv4 layer of one namespace: ARP, input (local delivery or forwarding),
 * output (route, source address, neighbour), ICMP echo and errors, and the
 * socket tables.
 */
export class Ipv4Stack {
  readonly routes = new RoutingTables();
  readonly neigh: NeighTable;
  readonly rawSockets = new Set<RawSocket>();
  readonly udpSockets = new Map<number, UdpSocket[]>();
  readonly protocols = new Map<number, ProtocolHandler>();
  /** UDP encapsulation receivers by local port (encap_rcv: VXLAN), ahead of sockets. */
  readonly udpEncap = new Map<number, UdpEncapHandler>();
  hooks: PacketHooks | undefined;
  readonly stats: Ipv4Stats = {
    inReceives: 0,
    inHdrErrors: 0,
    inAddrErrors: 0,
    inUnknownProtos: 0,
    inDiscards: 0,
    inDelivers: 0,
    forwDatagrams: 0,
    outRequests: 0,
    outNoRoutes: 0,
    outDiscards: 0,
    fragFails: 0,
    malformedFrames: 0,
    unknownEthertype: 0,
    icmpOutErrors: 0,
  };
  #ident = 0;
  #nextPort = 0;

  constructor(private readonly ns: NetNs) {
    this.neigh = new NeighTable(ns, {
      solicit: (dev, addr, mac) => this.#arpSolicit(dev, addr, mac),
      send: (dev, mac, packet) => this.#linkSend(dev, mac, packet),
      unreachable: (_dev, packet) => this.icmpError(packet, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH),
    });
  }

  /** A frame received on `dev` (not bridged further). */
  input(dev: NetDevice, frame: Uint8Array): void {
    let eth: EthernetFrame;
    try {
      eth = EthernetFrame.checked(frame);
    } catch (err) {
      this.#malformed(dev, err);
      return;
    }
    if (dev.kind !== "loopback") {
      const dst = eth.dst;
      if (dst !== dev.mac && !isMulticastMac(dst)) return; // PACKET_OTHERHOST
    }
    switch (eth.ethertype) {
      case ETHERTYPE_ARP:
        this.#arpInput(dev, eth.payload);
        return;
      case ETHERTYPE_IPV4:
        this.ipInput(dev, eth.payload);
        return;
      default:
        this.stats.unknownEthertype++;
    }
  }

  /** An IPv4 packet (no link header) received on `dev`; `meta` when it comes with state (br_netfilter). */
  ipInput(dev: NetDevice, bytes: Uint8Array, meta?: PacketMeta): void {
    this.stats.inReceives++;
    let pkt: Ipv4Packet;
    try {
      pkt = Ipv4Packet.checked(bytes);
    } catch (err) {
      if (!(err instanceof WireError)) throw err;
      this.stats.inHdrErrors++;
      dev.stats.rxErrors++;
      return;
    }
    if (!pkt.verifyChecksum()) {
      this.stats.inHdrErrors++;
      return;
    }
    let packet: Uint8Array | undefined = bytes.length === pkt.totalLen ? bytes : bytes.subarray(0, pkt.totalLen);
    const hooks = this.hooks;
    const skb: PacketMeta | undefined = hooks ? (meta ?? { mark: 0 }) : undefined;
    if (hooks && !skb!.prerouted) {
      const before = packet;
      packet = hooks.run("PREROUTING", packet, dev, undefined, skb!);
      if (packet === undefined) return;
      carryGso(before, packet);
      pkt = Ipv4Packet.checked(packet);
    }
    const dst = pkt.dst;
    if (this.#isLocalDestination(dst, dev)) {
      this.#localDeliver(pkt, packet, dev, skb);
      return;
    }
    if ((dst >>> 28) === 0xe) {
      this.stats.inAddrErrors++;
      return;
    }
    this.#forward(pkt, packet, dev, skb);
  }

  /** Sends a locally generated packet. Returns the errno the sending socket sees, if any. */
  send(req: OutputRequest): Errno | undefined {
    this.stats.outRequests++;
    const route = this.routes.lookup(req.dst, { oif: req.oif });
    if (route === undefined) {
      this.stats.outNoRoutes++;
      return "ENETUNREACH";
    }
    switch (route.type) {
      case "unreachable":
        return "EHOSTUNREACH";
      case "prohibit":
        return "EACCES" as Errno;
      case "blackhole":
        return "EINVAL";
      default:
        break;
    }
    const dev = route.type === "local" ? this.ns.lo : (req.oif ?? route.dev);
    if (dev === undefined) return "ENETUNREACH";
    const nexthop = route.gateway ?? req.dst;
    const src = req.src ?? route.prefsrc ?? this.ns.selectSource(dev, nexthop) ?? 0;
    if (src === 0 && route.type !== "local") return "EADDRNOTAVAIL";
    const gso = req.gsoSize;
    const payload = req.payload(src);
    // A super-packet takes as many IDs as it has segments (ip_select_ident_segs).
    const ident = this.#nextIdent();
    if (gso !== undefined) this.#ident = (this.#ident + Math.ceil(payload.length / gso) - 1) & 0xffff;
    let packet: Uint8Array | undefined = buildIpv4(
      {
        src,
        dst: req.dst,
        protocol: req.protocol,
        ttl: req.ttl ?? this.ns.sysctl.num("net.ipv4.ip_default_ttl"),
        ident,
        dontFrag: req.dontFrag ?? false,
        moreFrags: false,
        fragOffset: 0,
        dscp: (req.tos ?? 0) >>> 2,
        ecn: (req.tos ?? 0) & 3,
      },
      payload,
    );
    if (gso !== undefined) setGso(packet, gso);
    let outRoute: Route = route;
    let outDev = dev;
    if (this.hooks) {
      const skb: PacketMeta = { mark: 0 };
      const built = packet;
      packet = this.hooks.run("OUTPUT", packet, undefined, dev, skb);
      if (packet === undefined) return "EPERM";
      carryGso(built, packet);
      const newDst = Ipv4Packet.checked(packet).dst;
      if (newDst !== req.dst) {
        const rerouted = this.routes.lookup(newDst, { oif: req.oif });
        if (rerouted === undefined) return "ENETUNREACH";
        outRoute = rerouted;
        outDev = rerouted.type === "local" ? this.ns.lo : (rerouted.dev ?? dev);
      }
      const routed = packet;
      packet = this.hooks.run("POSTROUTING", packet, undefined, outDev, skb);
      if (packet === undefined) return "EPERM";
      carryGso(routed, packet);
    }
    if (networkLen(packet) > outDev.mtu) {
      this.stats.fragFails++;
      return "EMSGSIZE";
    }
    this.#finishOutput(outRoute, outDev, packet);
    return undefined;
  }

  /**
   * Sends an ICMP error about `offending` (an IPv4 packet) to its source, under
   * the kernel's rules: never about an ICMP error, a fragment other than the
   * first, or a packet to or from a broadcast or multicast address.
   */
  icmpError(offending: Uint8Array, type: number, code: number, nextHopMtu = 0): void {
    let pkt: Ipv4Packet;
    try {
      pkt = Ipv4Packet.checked(offending);
    } catch {
      return;
    }
    const src = pkt.src;
    if (src === 0 || (src >>> 28) === 0xe || src === 0xffffffff || pkt.fragOffset !== 0) return;
    if ((pkt.dst >>> 28) === 0xe || pkt.dst === 0xffffffff || this.#isBroadcast(pkt.dst)) return;
    if (pkt.protocol === 1 && pkt.payload.length >= 1) {
      const t = pkt.payload[0]!;
      if (t !== 0 && t !== 8 && t !== 13 && t !== 14) return; // not about an error
    }
    // Quote as much as fits in 576 bytes, as icmp_send does.
    const quoted = offending.subarray(0, Math.min(offending.length, 576 - 28));
    const icmp: IcmpRepr =
      type === ICMP_TIME_EXCEEDED
        ? { kind: "time-exceeded", code, original: quoted }
        : { kind: "dest-unreachable", code, nextHopMtu, original: quoted };
    const local = this.ns.isLocalAddress(pkt.dst) ? pkt.dst : undefined;
    this.stats.icmpOutErrors++;
    this.send({ dst: src, src: local, protocol: 1, payload: () => buildIcmp(icmp) });
  }

  /** The UDP header and payload for a datagram from `src` to `dst`. */
  udpPayload(src: Ipv4Addr, dst: Ipv4Addr, srcPort: number, dstPort: number, data: Uint8Array): Uint8Array {
    return buildUdp({ srcPort, dstPort }, data, src, dst);
  }

  /** An ephemeral port (ip_local_port_range) for which `free` holds. */
  ephemeralPort(free: (port: number) => boolean): number | undefined {
    const [lo, hi] = this.ns.sysctl.get("net.ipv4.ip_local_port_range").split(/\s+/).map(Number) as [number, number];
    const span = hi - lo + 1;
    if (this.#nextPort === 0) this.#nextPort = this.ns.kernel.rng.below(span);
    for (let i = 0; i < span; i++) {
      const port = lo + ((this.#nextPort + i) % span);
      if (free(port)) {
        this.#nextPort = (this.#nextPort + i + 1) % span;
        return port;
      }
    }
    return undefined;
  }

  #nextIdent(): number {
    this.#ident = (this.#ident + 1) & 0xffff;
    return this.#ident;
  }

  #isBroadcast(addr: Ipv4Addr): boolean {
    const r = this.routes.lookupIn(255, addr);
    return r?.type === "broadcast" && r.dst === addr && r.dstLen === 32;
  }

  #isLocalDestination(dst: Ipv4Addr, dev: NetDevice): boolean {
    if (dst === 0xffffffff) return true;
    const r = this.routes.lookupIn(255, dst);
    if (r === undefined) return false;
    if (r.type === "broadcast") return r.dstLen === 32 && r.dst === dst;
    // 127/8 arriving on a non-loopback device is a martian unless route_localnet.
    if ((dst >>> 24) === 127 && dev.kind !== "loopback") return false;
    return r.type === "local";
  }

  #localDeliver(pkt: Ipv4Packet, packet: Uint8Array, dev: NetDevice, skb: PacketMeta | undefined): void {
    if (pkt.moreFrags || pkt.fragOffset !== 0) {
      this.stats.inDiscards++; // reassembly is not modelled yet
      return;
    }
    if (this.hooks) {
      const p = this.hooks.run("INPUT", packet, dev, undefined, skb ?? { mark: 0 });
      if (p === undefined) return;
      carryGso(packet, p);
      packet = p;
      pkt = Ipv4Packet.checked(packet);
    }
    this.stats.inDelivers++;
    const protocol = pkt.protocol;
    if (this.rawSockets.size > 0) {
      const dgram = this.#datagram(pkt, packet, dev, 0, 0, pkt.payload);
      for (const s of this.rawSockets) if (s.protocol === protocol) s.mailbox.push(dgram);
    }
    switch (protocol) {
      case 1:
        this.#icmpInput(pkt, packet, dev);
        return;
      case 17:
        this.#udpInput(pkt, packet, dev);
        return;
      default: {
        const handler = this.protocols.get(protocol);
        if (handler) {
          handler.input(pkt, dev);
          return;
        }
        if ([...this.rawSockets].some((s) => s.protocol === protocol)) return;
        this.stats.inUnknownProtos++;
        this.icmpError(packet, ICMP_DEST_UNREACH, ICMP_PROT_UNREACH);
      }
    }
  }

  #icmpInput(pkt: Ipv4Packet, packet: Uint8Array, _dev: NetDevice): void {
    let icmp: IcmpRepr;
    try {
      icmp = parseIcmp(IcmpPacket.checked(pkt.payload));
    } catch {
      this.stats.inHdrErrors++;
      return;
    }
    if (icmp.kind === "echo-request") {
      if (this.ns.sysctl.on("net.ipv4.icmp_echo_ignore_all")) return;
      const dst = pkt.dst;
      const toBroadcast = dst === 0xffffffff || this.#isBroadcast(dst);
      if (toBroadcast && this.ns.sysctl.on("net.ipv4.icmp_echo_ignore_broadcasts")) return;
      const reply: IcmpRepr = { kind: "echo-reply", ident: icmp.ident, seq: icmp.seq, data: icmp.data };
      this.send({ dst: pkt.src, src: toBroadcast ? undefined : dst, protocol: 1, payload: () => buildIcmp(reply) });
      return;
    }
    if (icmp.kind === "dest-unreachable" || icmp.kind === "time-exceeded") {
      this.#deliverError(icmp, pkt.src);
    }
    void packet;
  }

  /** Tells the socket that sent a quoted packet about the ICMP error. */
  #deliverError(icmp: IcmpRepr & { original: Uint8Array }, from: Ipv4Addr): void {
    let quoted: Ipv4Packet;
    try {
      quoted = Ipv4Packet.checked(icmp.original);
    } catch {
      // The quote may be cut short after 8 bytes of payload: read the header by hand.
      if (icmp.original.length < 28) return;
      const proto = icmp.original[9]!;
      this.#errorToProtocol(proto, icmp, from, icmp.original);
      return;
    }
    this.#errorToProtocol(quoted.protocol, icmp, from, icmp.original);
  }

  #errorToProtocol(protocol: number, icmp: IcmpRepr & { original: Uint8Array }, from: Ipv4Addr, quoted: Uint8Array): void {
    const code = "code" in icmp ? icmp.code : 0;
    const errno: Errno =
      icmp.kind === "time-exceeded"
        ? "EHOSTUNREACH"
        : code === ICMP_PORT_UNREACH
          ? "ECONNREFUSED"
          : code === ICMP_NET_UNREACH
            ? "ENETUNREACH"
            : code === ICMP_FRAG_NEEDED
              ? "EMSGSIZE"
              : "EHOSTUNREACH";
    if (protocol === 17) {
      const ihl = (quoted[0]! & 0x0f) * 4;
      if (quoted.length < ihl + 4) return;
      const srcPort = (quoted[ihl]! << 8) | quoted[ihl + 1]!;
      for (const s of this.udpSockets.get(srcPort) ?? []) {
        s.errors.push({ errno, from, type: icmp.kind === "time-exceeded" ? 11 : 3, code });
      }
      return;
    }
    this.protocols.get(protocol)?.error?.(quoted, errno, icmp, from);
  }

  #udpInput(pkt: Ipv4Packet, packet: Uint8Array, dev: NetDevice): void {
    let udp: UdpPacket;
    try {
      udp = UdpPacket.checked(pkt.payload);
      parseUdp(udp, pkt.src, pkt.dst);
    } catch {
      this.stats.inHdrErrors++;
      return;
    }
    const encap = this.udpEncap.get(udp.dstPort);
    if (encap !== undefined && encap(pkt, udp, dev)) return;
    const dst = pkt.dst;
    const sockets = this.udpSockets.get(udp.dstPort);
    const target = sockets?.find((s) => s.localAddr === dst) ?? sockets?.find((s) => s.localAddr === 0);
    if (target === undefined) {
      if (dst !== 0xffffffff && !this.#isBroadcast(dst)) this.icmpError(packet, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH);
      return;
    }
    target.mailbox.push(this.#datagram(pkt, packet, dev, udp.srcPort, udp.dstPort, udp.payload.slice()));
  }

  #datagram(
    pkt: Ipv4Packet,
    packet: Uint8Array,
    dev: NetDevice,
    srcPort: number,
    dstPort: number,
    data: Uint8Array,
  ): Datagram {
    return {
      src: pkt.src,
      dst: pkt.dst,
      srcPort,
      dstPort,
      ttl: pkt.ttl,
      data,
      packet,
      dev,
      time: this.ns.kernel.clock.now(),
    };
  }

  #forward(pkt: Ipv4Packet, packet: Uint8Array, inDev: NetDevice, skb: PacketMeta | undefined): void {
    if (!this.ns.sysctl.on("net.ipv4.ip_forward")) {
      this.stats.inAddrErrors++;
      return;
    }
    const route = this.routes.lookup(pkt.dst);
    if (route === undefined) {
      this.stats.outNoRoutes++;
      this.icmpError(packet, ICMP_DEST_UNREACH, ICMP_NET_UNREACH);
      return;
    }
    if (route.type === "blackhole") return;
    if (route.type === "unreachable") {
      this.icmpError(packet, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH);
      return;
    }
    if (route.type === "prohibit") {
      this.icmpError(packet, ICMP_DEST_UNREACH, ICMP_ADMIN_PROHIBITED);
      return;
    }
    const outDev = route.dev;
    if (outDev === undefined || route.type !== "unicast") {
      this.stats.inAddrErrors++;
      return;
    }
    if (pkt.ttl <= 1) {
      this.icmpError(packet, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL);
      return;
    }
    // A super-packet fits when its segments do (skb_gso_validate_network_len).
    if (networkLen(packet) > outDev.mtu) {
      this.stats.fragFails++;
      if (pkt.dontFrag) this.icmpError(packet, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, outDev.mtu);
      return; // fragmentation of forwarded packets is not modelled yet
    }
    // Decrement TTL with an incremental checksum update, on a copy: the
    // buffer may still be referenced by a capture.
    let out: Uint8Array | undefined = packet.slice();
    carryGso(packet, out);
    const fwd = Ipv4Packet.checked(out);
    const oldWord = (fwd.ttl << 8) | fwd.protocol;
    fwd.ttl = fwd.ttl - 1;
    const check = updateChecksum16(fwd.checksum, oldWord, (fwd.ttl << 8) | fwd.protocol);
    out[10] = check >>> 8;
    out[11] = check & 255;
    if (this.hooks) {
      const meta = skb ?? { mark: 0 };
      const copy = out;
      out = this.hooks.run("FORWARD", out, inDev, outDev, meta);
      if (out === undefined) return;
      const forwarded = out;
      out = this.hooks.run("POSTROUTING", out, inDev, outDev, meta);
      if (out === undefined) return;
      carryGso(copy, forwarded);
      carryGso(forwarded, out);
    }
    this.stats.forwDatagrams++;
    this.#finishOutput(route, outDev, out);
  }

  #finishOutput(route: Route, dev: NetDevice, packet: Uint8Array): void {
    if (route.type === "local" || dev.kind === "loopback") {
      this.#linkSend(dev, MAC_ZERO, packet);
      return;
    }
    const dst = (packet[16]! << 24 | packet[17]! << 16 | packet[18]! << 8 | packet[19]!) >>> 0;
    if (route.type === "broadcast" || dst === 0xffffffff) {
      this.#linkSend(dev, MAC_BROADCAST, packet);
      return;
    }
    if (!dev.arp) {
      this.#linkSend(dev, MAC_ZERO, packet);
      return;
    }
    const nexthop = route.gateway ?? dst;
    // A destination that is the subnet's broadcast address of the device.
    for (const a of dev.addrs) {
      if (a.broadcast !== undefined && a.broadcast === nexthop) {
        this.#linkSend(dev, MAC_BROADCAST, packet);
        return;
      }
    }
    this.neigh.output(dev, nexthop, packet);
  }

  #linkSend(dev: NetDevice, mac: MacAddr, packet: Uint8Array): void {
    const frame = buildEthernet({ dst: mac, src: dev.mac, ethertype: ETHERTYPE_IPV4 }, packet);
    carryGso(packet, frame);
    dev.transmit(frame);
  }

  #arpSolicit(dev: NetDevice, addr: Ipv4Addr, mac: MacAddr | undefined): void {
    // arp_solicit picks the source address of the device (arp_announce 0).
    const src = this.ns.selectSource(dev, addr) ?? 0;
    const arp = buildArp({ operation: ARP_REQUEST, senderMac: dev.mac, senderIp: src, targetMac: MAC_ZERO, targetIp: addr });
    dev.transmit(buildEthernet({ dst: mac ?? MAC_BROADCAST, src: dev.mac, ethertype: ETHERTYPE_ARP }, arp));
  }

  #arpInput(dev: NetDevice, bytes: Uint8Array): void {
    if (!dev.arp) return;
    let arp;
    try {
      arp = parseArp(ArpPacket.checked(bytes));
    } catch (err) {
      this.#malformed(dev, err);
      return;
    }
    const forUs = arp.targetIp !== 0 && (arp.targetIp >>> 24) !== 127 && this.ns.isLocalAddress(arp.targetIp);
    if (arp.operation === ARP_REQUEST) {
      if (arp.senderIp !== 0) {
        this.neigh.learn(dev, arp.senderIp, arp.senderMac, { solicited: false, create: forUs });
      }
      if (forUs) {
        const reply = buildArp({
          operation: ARP_REPLY,
          senderMac: dev.mac,
          senderIp: arp.targetIp,
          targetMac: arp.senderMac,
          targetIp: arp.senderIp,
        });
        dev.transmit(buildEthernet({ dst: arp.senderMac, src: dev.mac, ethertype: ETHERTYPE_ARP }, reply));
      }
    } else if (arp.operation === ARP_REPLY) {
      this.neigh.learn(dev, arp.senderIp, arp.senderMac, { solicited: true, create: false });
    }
  }

  #malformed(dev: NetDevice, err: unknown): void {
    if (!(err instanceof WireError)) throw err;
    this.stats.malformedFrames++;
    dev.stats.rxErrors++;
  }
}

/** The length an MTU check compares: a super-packet's largest segment, any other packet's own. */
function networkLen(packet: Uint8Array): number {
  const size = gsoSize(packet);
  return size === undefined ? packet.length : gsoNetworkLen(packet, size);
}

/** True when `addr` falls in `net/len`. */
export function inSubnet(addr: Ipv4Addr, net: Ipv4Addr, len: number): boolean {
  const m = prefixMask(len);
  return ((addr & m) >>> 0) === ((net & m) >>> 0);
}

