import { type MacAddr, readMac } from "@kemu/wire";
import { Bridge } from "./bridge.ts";
import type { Clock } from "./clock.ts";
import type { NetDevice, Tap } from "./device.ts";
import { KernelError } from "./errno.ts";
import { Dummy, Ether, Veth } from "./links.ts";
import { NetNs } from "./netns.ts";
import { Tun, VXLAN_OVERHEAD, Vxlan, type VxlanOptions } from "./tunnel.ts";
import type { Rng } from "./random.ts";
import { tcpOf } from "./tcp/tcp.ts";

/** What a kernel needs from its host: time and randomness. */
export interface KernelOptions {
  clock: Clock;
  rng: Rng;
}

/** One line of the kernel log (`dmesg`). */
export interface LogLine {
  readonly time: number;
  readonly text: string;
}

/** The first inode number Linux gives a network namespace (init_net). */
const INIT_NET_INODE = 4026531840;

/**
 * The network side of one host's kernel: its namespaces (the root one made at
 * boot), the devices' factory, the log, and the capture hook that pcap
 * writers attach to.
 */
export class Kernel {
  readonly clock: Clock;
  readonly rng: Rng;
  readonly root: NetNs;
  readonly #namespaces = new Set<NetNs>();
  readonly log: LogLine[] = [];
  /** Sees every frame on every device of every namespace. */
  capture: Tap | undefined;
  #nextInode = INIT_NET_INODE + 0x3e8;

  constructor(options: KernelOptions) {
    this.clock = options.clock;
    this.rng = options.rng;
    this.root = new NetNs(this, INIT_NET_INODE + 0x8);
    this.#namespaces.add(this.root);
  }

  /** Every namespace alive, the root one first. */
  namespaces(): NetNs[] {
    return [...this.#namespaces];
  }

  /** A new, empty namespace with only `lo` (down), as `unshare -n` makes it. */
  createNetns(): NetNs {
    const ns = new NetNs(this, this.#nextInode++);
    this.#namespaces.add(ns);
    return ns;
  }

  /**
   * Destroys a namespace: veth ends in it take their peers with them,
   * physical devices return to the root namespace, the rest are gone.
   */
  destroyNetns(ns: NetNs): void {
    if (ns === this.root) throw new KernelError("EINVAL");
    for (const dev of ns.devices()) {
      if (dev.kind === "ether") {
        const name = this.root.deviceByName(dev.name) ? `dev${dev.ifindex}` : dev.name;
        ns.moveDevice(dev, this.root);
        dev.name = name;
      } else {
        this.destroyDevice(dev);
      }
    }
    for (const s of ns.ipv4.rawSockets) s.close();
    for (const other of this.#namespaces) other.forgetNsid(ns);
    tcpOf(ns).shutdown();
    this.#namespaces.delete(ns);
  }

  /** Deletes a device (ip link del); a veth's peer goes too. */
  destroyDevice(dev: NetDevice): void {
    dev.netns.removeDevice(dev);
    if (dev instanceof Veth && dev.peer.netns.deviceByIndex(dev.peer.ifindex) === dev.peer) {
      dev.peer.netns.removeDevice(dev.peer);
    }
  }

  /** A random unicast, locally administered MAC (eth_random_addr). */
  randomMac(): MacAddr {
    const b = this.rng.bytes(6);
    b[0] = (b[0]! & 0xfe) | 0x02;
    return readMac(b, 0);
  }

  /** Creates a veth pair in `ns` (ip link add A type veth peer name B). */
  createVeth(ns: NetNs, name: string, peerName: string, options: { mtu?: number; peerNs?: NetNs } = {}): [Veth, Veth] {
    const peerNs = options.peerNs ?? ns;
    if (ns.deviceByName(name) || peerNs.deviceByName(peerName) || (ns === peerNs && name === peerName)) {
      throw new KernelError("EEXIST");
    }
    const [a, b] = Veth.pair(name, this.randomMac(), peerName, this.randomMac(), options.mtu ?? 1500);
    ns.addDevice(a);
    peerNs.addDevice(b);
    return [a, b];
  }

  /** Creates a bridge (ip link add B type bridge). Its MAC is random until a port is added. */
  createBridge(ns: NetNs, name: string, options: { mtu?: number; mac?: MacAddr } = {}): Bridge {
    const br = new Bridge(name, options.mac ?? this.randomMac(), options.mtu ?? 1500);
    ns.addDevice(br);
    return br;
  }

  /** Creates a dummy device (ip link add D type dummy). */
  createDummy(ns: NetNs, name: string): Dummy {
    const d = new Dummy(name, this.randomMac(), 1500);
    ns.addDevice(d);
    return d;
  }

  /** Creates an Ethernet NIC whose wire is outside the host (the underlay). */
  createEther(ns: NetNs, name: string, mac: MacAddr, mtu = 1500): Ether {
    const d = new Ether(name, mac, mtu);
    ns.addDevice(d);
    return d;
  }

  /**
   * Creates a VXLAN device (ip link add NAME type vxlan id VNI local IP dev
   * LOWER dstport PORT nolearning), listening on its UDP port in `ns`. Its
   * MTU defaults to the lower device's less 50.
   */
  createVxlan(ns: NetNs, name: string, options: VxlanOptions): Vxlan {
    if (ns.deviceByName(name)) throw new KernelError("EEXIST");
    const mtu = options.mtu ?? (options.lower?.mtu ?? 1500) - VXLAN_OVERHEAD;
    const d = new Vxlan(name, options.mac ?? this.randomMac(), mtu, options);
    ns.addDevice(d);
    d.attach();
    return d;
  }

  /** Creates a TUN device (open /dev/net/tun, TUNSETIFF IFF_TUN|IFF_NO_PI). */
  createTun(ns: NetNs, name: string, mtu = 1500): Tun {
    if (ns.deviceByName(name)) throw new KernelError("EEXIST");
    const d = new Tun(ns, name, mtu);
    ns.addDevice(d);
    return d;
  }

  /** Appends to the kernel log. */
  printk(text: string): void {
    this.log.push({ time: this.clock.now(), text });
  }
}
