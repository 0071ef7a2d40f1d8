import type { Bridge, NetNs } from "@kemu/kernel";
import { broadcastOf, formatIpv4Addr, type Ipv4Addr, parseCidr, prefixMask } from "@kemu/wire";
import type { Host } from "../host.ts";
import { VfsError } from "../vfs.ts";

/** The bridge plugin's network configuration (a `bridge` entry of a conflist). */
export interface BridgeConf {
  name: string;
  type: "bridge";
  bridge?: string;
  isGateway?: boolean;
  isDefaultGateway?: boolean;
  hairpinMode?: boolean;
  ipMasq?: boolean;
  mtu?: number;
  ipam: {
    type: "host-local";
    subnet?: string;
    ranges?: Array<Array<{ subnet: string; rangeStart?: string; rangeEnd?: string; gateway?: string }>>;
    routes?: Array<{ dst: string; gw?: string }>;
  };
}

/** What ADD returns for one attachment. */
export interface CniResult {
  readonly ifname: string;
  readonly ip: Ipv4Addr;
  readonly prefixLen: number;
  readonly gateway: Ipv4Addr;
  readonly mac: number;
  readonly hostVeth: string;
}

/** A CNI failure, worded as the plugin would report it. */
export class CniError extends Error {
  override readonly name = "CniError";
}

/** Where CNI configuration files live, as kubelet's --cni-conf-dir. */
export const CNI_CONF_DIR = "/etc/cni/net.d";

/**
 * Loads the network configuration the runtime uses: the first file of
 * /etc/cni/net.d in lexical order (`.conf` or `.conflist`); from a conflist,
 * its `bridge` plugin (or the bridge delegate of a `flannel` plugin, built
 * from /run/flannel/subnet.env as the flannel CNI plugin does).
 */
export function loadBridgeConf(host: Host): BridgeConf {
  let names: string[];
  try {
    names = host.fs.list(CNI_CONF_DIR).filter((n) => n.endsWith(".conf") || n.endsWith(".conflist"));
  } catch {
    names = [];
  }
  const first = names.sort()[0];
  if (first === undefined) throw new CniError("network plugin is not ready: cni config uninitialized");
  const doc = JSON.parse(host.fs.readFile(`${CNI_CONF_DIR}/${first}`)) as Record<string, unknown>;
  const plugins = (doc["plugins"] as Array<Record<string, unknown>> | undefined) ?? [doc];
  const name = String(doc["name"] ?? "cbr0");
  for (const p of plugins) {
    if (p["type"] === "bridge") return { ...(p as unknown as BridgeConf), name };
    if (p["type"] === "flannel") return flannelDelegate(host, name, (p["delegate"] as Record<string, unknown>) ?? {});
  }
  throw new CniError(`no bridge plugin in ${CNI_CONF_DIR}/${first}`);
}

/** The bridge delegate the flannel CNI plugin builds from subnet.env (flannel_linux.go). */
function flannelDelegate(host: Host, name: string, delegate: Record<string, unknown>): BridgeConf {
  let env: string;
  try {
    env = host.fs.readFile("/run/flannel/subnet.env");
  } catch (err) {
    if (err instanceof VfsError) throw new CniError("failed to load flannel 'subnet.env' file: open /run/flannel/subnet.env: no such file or directory. Check the flannel pod log for this node.");
    throw err;
  }
  const vars = new Map(env.split("\n").filter((l) => l.includes("=")).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)] as const));
  const subnet = parseCidr(vars.get("FLANNEL_SUBNET") ?? "", { mask: true });
  if (!subnet) throw new CniError("FLANNEL_SUBNET not found in subnet.env");
  return {
    name,
    type: "bridge",
    bridge: "cni0",
    isGateway: true,
    isDefaultGateway: Boolean(delegate["isDefaultGateway"] ?? true),
    hairpinMode: Boolean(delegate["hairpinMode"] ?? true),
    ipMasq: vars.get("FLANNEL_IPMASQ") !== "true",
    mtu: Number(vars.get("FLANNEL_MTU") ?? 1500),
    ipam: {
      type: "host-local",
      ranges: [[{ subnet: `${formatIpv4Addr(subnet.addr)}/${subnet.len}` }]],
      routes: [{ dst: vars.get("FLANNEL_NETWORK") ?? "10.244.0.0/16" }],
    },
  };
}

/**
 * host-local IPAM: addresses of a range handed out round-robin after the
 * last reserved one, recorded as files /var/lib/cni/networks/<net>/<ip>
 * holding `<containerID>\r\n<ifname>`, and `last_reserved_ip.0`.
 */
export class HostLocalIpam {
  readonly #dir: string;
  constructor(
    private readonly host: Host,
    network: string,
  ) {
    this.#dir = `/var/lib/cni/networks/${network}`;
  }

  /** Reserves an address of `subnet` (gateway .1 skipped) for a container's interface. */
  allocate(subnet: { addr: Ipv4Addr; len: number }, gateway: Ipv4Addr, containerId: string, ifname: string): Ipv4Addr {
    const fs = this.host.fs;
    const first = (subnet.addr + 1) >>> 0;
    const last = ((subnet.addr | (~prefixMask(subnet.len) >>> 0)) - 1) >>> 0;
    if (last < first + 1) throw new CniError(`failed to allocate for range 0: ${formatIpv4Addr(subnet.addr)}/${subnet.len} has fewer than 2 host addresses`);
    let lastReserved: Ipv4Addr | undefined;
    try {
      const text = fs.readFile(`${this.#dir}/last_reserved_ip.0`).trim();
      lastReserved = parseCidr(text)?.addr;
    } catch {
      lastReserved = undefined;
    }
    const span = last - first + 1;
    const start = lastReserved !== undefined && lastReserved >= first && lastReserved <= last ? lastReserved - first + 1 : 0;
    for (let i = 0; i < span; i++) {
      const ip = (first + ((start + i) % span)) >>> 0;
      if (ip === gateway) continue;
      const path = `${this.#dir}/${formatIpv4Addr(ip)}`;
      if (fs.stat(path) !== undefined) continue;
      fs.writeFile(path, `${containerId}\r\n${ifname}`);
      fs.writeFile(`${this.#dir}/last_reserved_ip.0`, formatIpv4Addr(ip));
      return ip;
    }
    throw new CniError(`failed to allocate for range 0: no IP addresses available in range set: ${formatIpv4Addr(first)}-${formatIpv4Addr(last)}`);
  }

  /** Releases every address held by a container. */
  release(containerId: string): void {
    const fs = this.host.fs;
    let names: string[];
    try {
      names = fs.list(this.#dir);
    } catch {
      return;
    }
    for (const n of names) {
      if (n.startsWith("last_reserved_ip")) continue;
      const path = `${this.#dir}/${n}`;
      if (fs.readFile(path).split("\r\n")[0] === containerId) fs.remove(path);
    }
  }
}

/**
 * The CNI bridge plugin as Kubernetes uses it: cni0 with the gateway
 * address, a veth pair per pod (host end `veth` + 8 hex digits, enslaved,
 * hairpin on), the pod end as eth0 with its address and routes.
 */
export class BridgeCni {
  constructor(private readonly host: Host) {}

  /** CNI ADD for a pod sandbox's namespace. */
  add(containerId: string, netns: NetNs, ifname = "eth0"): CniResult {
    const conf = loadBridgeConf(this.host);
    const kernel = this.host.kernel;
    const root = kernel.root;
    const range = conf.ipam.ranges?.[0]?.[0];
    const subnet = parseCidr(range?.subnet ?? conf.ipam.subnet ?? "", { mask: true });
    if (!subnet) throw new CniError("invalid CIDR in IPAM config");
    const gateway = range?.gateway ? parseCidr(range.gateway)!.addr : (subnet.addr + 1) >>> 0;
    const mtu = conf.mtu ?? 1500;
    const brName = conf.bridge ?? "cni0";
    let br = root.deviceByName(brName) as Bridge | undefined;
    if (br === undefined) {
      br = kernel.createBridge(root, brName, { mtu });
      root.setUp(br, true);
    }
    const isGateway = conf.isGateway || conf.isDefaultGateway;
    if (isGateway && !br.addrs.some((a) => a.addr === gateway)) {
      root.addAddress(br, { addr: gateway, prefixLen: subnet.len, broadcast: broadcastOf(gateway, subnet.len) });
      root.sysctl.set("net.ipv4.ip_forward", "1");
    }
    const ipam = new HostLocalIpam(this.host, conf.name);
    const ip = ipam.allocate(subnet, gateway, containerId, ifname);
    let hostName: string;
    do hostName = `veth${[...this.host.rng.bytes(4)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
    while (root.deviceByName(hostName));
    const [podEnd, hostEnd] = kernel.createVeth(netns, ifname, hostName, { mtu, peerNs: root });
    br.addPort(hostEnd);
    if (conf.hairpinMode) br.ports.get(hostEnd)!.hairpin = true;
    root.setUp(hostEnd, true);
    netns.addAddress(podEnd, { addr: ip, prefixLen: subnet.len, broadcast: broadcastOf(ip, subnet.len) });
    netns.setUp(podEnd, true);
    if (conf.isDefaultGateway) netns.addRoute({ dst: 0, dstLen: 0, gateway, dev: podEnd });
    for (const r of conf.ipam.routes ?? []) {
      const dst = parseCidr(r.dst, { mask: true });
      if (!dst || (dst.len === 0 && conf.isDefaultGateway)) continue;
      netns.addRoute({ dst: dst.addr, dstLen: dst.len, gateway: r.gw ? parseCidr(r.gw)!.addr : gateway, dev: podEnd });
    }
    return { ifname, ip, prefixLen: subnet.len, gateway, mac: podEnd.mac, hostVeth: hostName };
  }

  /** CNI DEL: the veth goes with the namespace; the address goes back to the pool. */
  del(containerId: string): void {
    let conf: BridgeConf;
    try {
      conf = loadBridgeConf(this.host);
    } catch {
      return;
    }
    new HostLocalIpam(this.host, conf.name).release(containerId);
  }
}
