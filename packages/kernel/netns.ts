import { type Ipv4Addr, prefixMask } from "@kemu/wire";
import type { Bridge } from "./bridge.ts";
import type { IfAddr, NetDevice } from "./device.ts";
import { KernelError } from "./errno.ts";
import { inSubnet, Ipv4Stack } from "./ipv4.ts";
import type { Kernel } from "./kernel.ts";
import { Loopback, Veth } from "./links.ts";
import { RT_TABLE_LOCAL, RT_TABLE_MAIN, type Route } from "./route.ts";
import { Sysctl } from "./sysctl.ts";
import { tcpOf } from "./tcp/tcp.ts";

/** 127.0.0.1, which loopback gets when it comes up. */
const LOOPBACK_ADDR = 0x7f000001;

/** What `addAddress` takes: `ip addr add ADDR/LEN [broadcast B] [scope S] [label L] dev X`. */
export interface AddressSpec {
  addr: Ipv4Addr;
  prefixLen: number;
  broadcast?: Ipv4Addr | undefined;
  scope?: IfAddr["scope"] | undefined;
  label?: string | undefined;
}

/** What `addRoute` takes (`ip route add|replace …`). */
export interface RouteSpec {
  dst: Ipv4Addr;
  dstLen: number;
  gateway?: Ipv4Addr | undefined;
  dev?: NetDevice | undefined;
  type?: Route["type"] | undefined;
  table?: number | undefined;
  proto?: string | undefined;
  scope?: Route["scope"] | undefined;
  prefsrc?: Ipv4Addr | undefined;
  metric?: number | undefined;
  onlink?: boolean | undefined;
}

/**
 * A network namespace: its own devices (ifindex counted from 1, lo first),
 * addresses, routing tables, neighbour table, sockets and sysctls.
 */
export class NetNs {
  readonly ipv4: Ipv4Stack;
  readonly sysctl: Sysctl;
  readonly lo: Loopback;
  readonly #devices = new Map<number, NetDevice>();
  /** The ids this namespace knows other namespaces by (the kernel's netns_ids). */
  readonly #nsids = new Map<NetNs, number>();
  #lastIfindex = 0;

  constructor(
    readonly kernel: Kernel,
    /** The namespace's inode number, as `ls -l /proc/PID/ns/net` shows it. */
    readonly inode: number,
  ) {
    this.ipv4 = new Ipv4Stack(this);
    this.sysctl = new Sysctl(this);
    this.lo = new Loopback();
    this.addDevice(this.lo);
    // TCP is always there: a SYN to a port nobody listens on gets a RST, never protocol unreachable.
    tcpOf(this);
  }

  /** Devices in ifindex order. */
  devices(): NetDevice[] {
    return [...this.#devices.values()].sort((a, b) => a.ifindex - b.ifindex);
  }

  deviceByName(name: string): NetDevice | undefined {
    for (const d of this.#devices.values()) if (d.name === name) return d;
    return undefined;
  }

  deviceByIndex(ifindex: number): NetDevice | undefined {
    return this.#devices.get(ifindex);
  }

  /**
   * Adds a device, keeping `ifindex` when it is free here (as a device moved
   * between namespaces keeps its index), else taking the next free one.
   */
  addDevice(dev: NetDevice, options: { ifindex?: number } = {}): void {
    if (this.deviceByName(dev.name)) throw new KernelError("EEXIST");
    let index = options.ifindex;
    if (index === undefined || this.#devices.has(index)) {
      do index = ++this.#lastIfindex;
      while (this.#devices.has(index));
    }
    dev.ifindex = index;
    dev.netns = this;
    this.#devices.set(index, dev);
    // A veth whose peer lives elsewhere makes each side assign the other an
    // id, as the RTM_NEWLINK notifications do (rtnl_fill_link_netnsid).
    if (dev instanceof Veth && dev.peer?.netns !== undefined && dev.peer.netns !== this) {
      this.nsidOf(dev.peer.netns);
      dev.peer.netns.nsidOf(this);
    }
  }

  /**
   * The id this namespace knows `other` by (`link-netnsid N`, `ip netns list`
   * `(id: N)`): assigned on first use, lowest free id first, as
   * peernet2id_alloc does.
   */
  nsidOf(other: NetNs): number {
    const known = this.#nsids.get(other);
    if (known !== undefined) return known;
    const used = new Set(this.#nsids.values());
    let id = 0;
    while (used.has(id)) id++;
    this.#nsids.set(other, id);
    return id;
  }

  /** The id of `other` if one was assigned (peernet2id), without assigning one. */
  peerNsid(other: NetNs): number | undefined {
    return this.#nsids.get(other);
  }

  /** `ip netns set NAME ID`: fixes the id of `other`; false when it has one or `id` is taken. */
  setNsid(other: NetNs, id: number): boolean {
    if (this.#nsids.has(other) || [...this.#nsids.values()].includes(id)) return false;
    this.#nsids.set(other, id);
    return true;
  }

  /** Forgets the id of a namespace that was destroyed, so the id can be reused. */
  forgetNsid(other: NetNs): void {
    this.#nsids.delete(other);
  }

  /** Removes a device and everything that hung on it (addresses, routes, neighbours). */
  removeDevice(dev: NetDevice): void {
    if (dev.master) dev.master.removePort(dev);
    if (dev.kind === "bridge") for (const port of [...(dev as Bridge).ports.keys()]) (dev as Bridge).removePort(port);
    dev.adminUp = false;
    dev.addrs.length = 0;
    this.ipv4.routes.deleteWhere((r) => r.dev === dev);
    this.ipv4.neigh.flushDev(dev);
    this.sysctl.forgetDevice(dev.name);
    this.#devices.delete(dev.ifindex);
  }

  /** `ip link set X netns NS`: the device arrives down, without addresses. */
  moveDevice(dev: NetDevice, target: NetNs): void {
    if (target.deviceByName(dev.name)) throw new KernelError("EEXIST");
    const wasIndex = dev.ifindex;
    this.removeDevice(dev);
    target.addDevice(dev, { ifindex: wasIndex });
    target.linkChanged(dev);
  }

  /** `ip link set X name Y`. */
  renameDevice(dev: NetDevice, name: string): void {
    if (dev.name === name) return;
    if (this.deviceByName(name)) throw new KernelError("EEXIST");
    if (dev.adminUp) throw new KernelError("EBUSY");
    this.sysctl.forgetDevice(dev.name);
    dev.name = name;
  }

  /** `ip link set X up|down`. Connected routes follow the device. */
  setUp(dev: NetDevice, up: boolean): void {
    if (dev.adminUp === up) return;
    dev.adminUp = up;
    if (up) {
      // inetdev_event(NETDEV_UP): loopback gets 127.0.0.1/8 when it comes up.
      if (dev.kind === "loopback" && !dev.addrs.some((a) => a.addr === LOOPBACK_ADDR)) {
        this.addAddress(dev, { addr: LOOPBACK_ADDR, prefixLen: 8 });
      }
      for (const a of dev.addrs) this.#addAddressRoutes(dev, a);
    } else {
      // fib_disable_ip: everything through a down device goes, static routes too.
      this.ipv4.routes.deleteWhere((r) => r.dev === dev);
      this.ipv4.neigh.flushDev(dev, { keepPermanent: true });
    }
    dev.linkChanged();
  }

  /**
   * Called when a device's admin state or carrier changed. Carrier alone
   * moves no routes (they show `linkdown`); admin up/down is handled by setUp.
   */
  linkChanged(_dev: NetDevice): void {}

  /** Adds an IPv4 address (ip addr add). Throws EEXIST if the device has it already. */
  addAddress(dev: NetDevice, spec: AddressSpec): IfAddr {
    if (dev.addrs.some((a) => a.addr === spec.addr && a.prefixLen === spec.prefixLen)) throw new KernelError("EEXIST");
    const secondary = dev.addrs.some((a) => !a.secondary && a.prefixLen === spec.prefixLen && inSubnet(spec.addr, a.addr, a.prefixLen));
    const scope = spec.scope ?? ((spec.addr >>> 24) === 127 ? "host" : "global");
    const ifa: IfAddr = {
      addr: spec.addr,
      prefixLen: spec.prefixLen,
      broadcast: spec.broadcast,
      scope,
      label: spec.label ?? dev.name,
      secondary,
    };
    dev.addrs.push(ifa);
    // fib_add_ifaddr: the local /32 route even on a device that is down (so kube-ipvs0, never up, holds
    // local ClusterIPs); broadcast and prefix routes only when it is up.
    this.#addAddressRoutes(dev, ifa, !dev.adminUp);
    return ifa;
  }

  /** Removes an address (ip addr del); a primary's secondaries go with it, as Linux does without promote_secondaries. */
  deleteAddress(dev: NetDevice, addr: Ipv4Addr, prefixLen: number | undefined): void {
    const i = dev.addrs.findIndex((a) => a.addr === addr && (prefixLen === undefined || a.prefixLen === prefixLen));
    if (i < 0) throw new KernelError("EADDRNOTAVAIL");
    const [gone] = dev.addrs.splice(i, 1);
    const doomed = [gone!];
    if (!gone!.secondary) {
      for (let j = dev.addrs.length - 1; j >= 0; j--) {
        const a = dev.addrs[j]!;
        if (a.secondary && a.prefixLen === gone!.prefixLen && inSubnet(a.addr, gone!.addr, gone!.prefixLen)) {
          doomed.push(...dev.addrs.splice(j, 1));
        }
      }
    }
    for (const a of doomed) {
      this.ipv4.routes.deleteWhere(
        (r) => r.dev === dev && r.proto === "kernel" && (r.prefsrc === a.addr || r.dst === a.addr),
      );
    }
  }

  /** Flushes every address of a device. */
  flushAddresses(dev: NetDevice): void {
    while (dev.addrs.length > 0) {
      const a = dev.addrs[0]!;
      this.deleteAddress(dev, a.addr, a.prefixLen);
    }
  }

  /** True when `addr` is assigned to a device of this namespace (what "local" means to ARP and bind). */
  isLocalAddress(addr: Ipv4Addr): boolean {
    const r = this.ipv4.routes.lookupIn(RT_TABLE_LOCAL, addr);
    return r !== undefined && r.type === "local";
  }

  /** The address a packet leaving `dev` towards `dst` takes (inet_select_addr). */
  selectSource(dev: NetDevice, dst: Ipv4Addr): Ipv4Addr | undefined {
    let fallback: Ipv4Addr | undefined;
    for (const a of dev.addrs) {
      if (a.secondary || a.scope === "host") continue;
      if (inSubnet(dst, a.addr, a.prefixLen)) return a.addr;
      fallback ??= a.addr;
    }
    if (fallback !== undefined) return fallback;
    // No address on the device: any global address of the namespace.
    for (const d of this.devices()) {
      for (const a of d.addrs) if (!a.secondary && a.scope === "global") return a.addr;
    }
    return undefined;
  }

  /**
   * Adds a route with the checks `ip route add` meets: the device must be up,
   * a gateway must be reachable on a connected route unless onlink.
   */
  addRoute(spec: RouteSpec, options: { replace?: boolean } = {}): Route {
    const route = this.#resolveRoute(spec);
    const routes = this.ipv4.routes;
    if (options.replace) routes.replace(route);
    else if (!routes.add(route)) throw new KernelError("EEXIST");
    return route;
  }

  /** Deletes the first route that matches the given keys (ip route del). Throws ESRCH when none. */
  deleteRoute(spec: Partial<RouteSpec> & { dst: Ipv4Addr; dstLen: number }): void {
    const table = spec.table ?? RT_TABLE_MAIN;
    const hit = this.ipv4.routes
      .list(table)
      .find(
        (r) =>
          r.dst === spec.dst &&
          r.dstLen === spec.dstLen &&
          (spec.gateway === undefined || r.gateway === spec.gateway) &&
          (spec.dev === undefined || r.dev === spec.dev) &&
          (spec.metric === undefined || r.metric === spec.metric),
      );
    if (!hit) throw new KernelError("ESRCH");
    this.ipv4.routes.delete(hit);
  }

  #resolveRoute(spec: RouteSpec): Route {
    const type = spec.type ?? "unicast";
    const dst = (spec.dst & prefixMask(spec.dstLen)) >>> 0;
    let dev = spec.dev;
    if (type === "unicast" || type === "local") {
      if (spec.gateway !== undefined && !spec.onlink) {
        const via = this.ipv4.routes.lookupIn(RT_TABLE_MAIN, spec.gateway, { oif: dev });
        if (via === undefined || via.gateway !== undefined || via.type !== "unicast" || via.dev === undefined) {
          throw new KernelError("ENETUNREACH", "Nexthop has invalid gateway.");
        }
        dev ??= via.dev;
      }
      if (dev === undefined) throw new KernelError("ENODEV", "Device for nexthop is not up.");
      if (!dev.adminUp) {
        throw new KernelError("ENETDOWN", spec.gateway !== undefined ? "Nexthop device is not up." : "Device for nexthop is not up.");
      }
    }
    return {
      table: spec.table ?? (type === "local" || type === "broadcast" ? RT_TABLE_LOCAL : RT_TABLE_MAIN),
      type,
      dst,
      dstLen: spec.dstLen,
      gateway: spec.gateway,
      dev,
      proto: spec.proto ?? "boot",
      scope: spec.scope ?? (type === "local" ? "host" : spec.gateway === undefined && type === "unicast" ? "link" : "universe"),
      prefsrc: spec.prefsrc,
      metric: spec.metric ?? 0,
      onlink: spec.onlink ?? false,
    };
  }

  #addAddressRoutes(dev: NetDevice, a: IfAddr, localOnly = false): void {
    const routes = this.ipv4.routes;
    const base = { gateway: undefined, dev, proto: "kernel", prefsrc: a.addr, metric: 0, onlink: false } as const;
    // A secondary's local route takes its primary as the source (fib_add_ifaddr uses prim->ifa_local).
    const primary = a.secondary
      ? dev.addrs.find((p) => !p.secondary && p.prefixLen === a.prefixLen && inSubnet(a.addr, p.addr, p.prefixLen))
      : undefined;
    routes.replace({ ...base, prefsrc: primary?.addr ?? a.addr, table: RT_TABLE_LOCAL, type: "local", dst: a.addr, dstLen: 32, scope: "host" });
    if (a.secondary || localOnly) return;
    const net = (a.addr & prefixMask(a.prefixLen)) >>> 0;
    const bcast = a.broadcast ?? (a.prefixLen < 31 ? (net | (~prefixMask(a.prefixLen) >>> 0)) >>> 0 : undefined);
    if (bcast !== undefined && a.prefixLen < 31) {
      routes.replace({ ...base, table: RT_TABLE_LOCAL, type: "broadcast", dst: bcast, dstLen: 32, scope: "link" });
    }
    if (a.prefixLen === 32) return;
    if (dev.kind === "loopback") {
      routes.replace({ ...base, table: RT_TABLE_LOCAL, type: "local", dst: net, dstLen: a.prefixLen, scope: "host" });
    } else {
      routes.replace({ ...base, table: RT_TABLE_MAIN, type: "unicast", dst: net, dstLen: a.prefixLen, scope: "link" });
    }
  }

}
