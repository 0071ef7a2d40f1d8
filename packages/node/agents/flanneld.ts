/**
 * flanneld in Kubernetes subnet-manager mode (`--kube-subnet-mgr --ip-masq`),
 * as kube-flannel.yml runs it: the node's lease is its `spec.podCIDR`, its
 * backend attributes go into `flannel.alpha.coreos.com/*` annotations, and
 * every other node's annotations become routes (and, for vxlan, neighbour
 * and FDB entries) on this one.
 */
import type { ApiClient, Node } from "@kemu/api";
import { type NetDevice, type Tun, UdpSocket, type Vxlan } from "@kemu/kernel";
import { formatIpv4Addr, formatMacAddr, type Ipv4Addr, Ipv4Packet, parseCidr, parseIpv4Addr, parseMacAddr, prefixMask } from "@kemu/wire";
import type { Host } from "../host.ts";
import { BufferOutput, type Command, textInput } from "../process.ts";

/** The backends kemu's flanneld has. */
export type FlannelBackend = "vxlan" | "udp" | "host-gw";

/** The backends, as `cluster.backend` accepts them. */
export const FLANNEL_BACKENDS: readonly FlannelBackend[] = ["vxlan", "udp", "host-gw"];

/** The annotation prefix flannel's kube subnet manager uses. */
export const FLANNEL_ANNOTATION_PREFIX = "flannel.alpha.coreos.com/";

/** The udp backend's port. */
export const FLANNEL_UDP_PORT = 8285;

/** How flanneld is started. */
export interface FlanneldOptions {
  readonly nodeName: string;
  /** The node's public IP (its eth0 address). */
  readonly nodeIP: string;
  /** The external interface (`--iface`), eth0 by default. */
  readonly iface?: string;
  readonly backend?: FlannelBackend;
  /** net-conf.json's Network. */
  readonly network?: string;
  /** `--ip-masq` (kube-flannel.yml sets it). */
  readonly ipMasq?: boolean;
}

/** A remote node's lease as this flanneld programmed it. */
interface RemoteLease {
  readonly subnet: Ipv4Addr;
  readonly len: number;
  readonly publicIp: Ipv4Addr;
  readonly backend: string;
  readonly vtepMac: number | undefined;
}

/** The network config as kube-flannel.yml's net-conf.json gives it. */
export function flannelNetConf(backend: FlannelBackend, network = "10.244.0.0/16"): string {
  return `${JSON.stringify({ Network: network, EnableNFTables: false, Backend: { Type: backend } }, null, 2)}\n`;
}

/** The CNI conflist kube-flannel.yml installs (`cni-conf.json`). */
export const FLANNEL_CONFLIST = `${JSON.stringify(
  {
    name: "cbr0",
    cniVersion: "0.3.1",
    plugins: [
      { type: "flannel", delegate: { hairpinMode: true, isDefaultGateway: true } },
      { type: "portmap", capabilities: { portMappings: true } },
    ],
  },
  null,
  2,
)}\n`;

/**
 * One node's flanneld. `start` watches the Nodes; once this node has its
 * podCIDR the backend device is set up, subnet.env and the CNI config are
 * written and the node annotated; remote nodes' leases are then programmed
 * as they appear, change and go.
 */
export class Flanneld {
  /** What flanneld logged (klog-style lines without the header). */
  readonly log: string[] = [];
  readonly #remotes = new Map<string, RemoteLease>();
  readonly #backend: FlannelBackend;
  readonly #network: { addr: Ipv4Addr; len: number };
  #stopWatch: (() => void) | undefined;
  #subnet: { addr: Ipv4Addr; len: number } | undefined;
  #device: NetDevice | undefined;
  #udp: { sock: UdpSocket; tun: Tun; controller: AbortController } | undefined;
  #running = false;

  constructor(
    private readonly host: Host,
    private readonly api: ApiClient,
    private readonly options: FlanneldOptions,
  ) {
    this.#backend = options.backend ?? "vxlan";
    this.#network = parseCidr(options.network ?? "10.244.0.0/16", { mask: true })!;
  }

  /** The backend type. */
  get backend(): FlannelBackend {
    return this.#backend;
  }

  /** The MTU flannel announces (FLANNEL_MTU). */
  get mtu(): number {
    const ext = this.#iface()?.mtu ?? 1500;
    return this.#backend === "vxlan" ? ext - 50 : this.#backend === "udp" ? ext - 28 : ext;
  }

  /**
   * Starts watching Nodes, as a process `flanneld` in the host's table:
   * killing it (`kill PID`) stops flanneld.
   */
  start(): void {
    this.#running = true;
    const io = { stdout: new BufferOutput(), stderr: new BufferOutput() };
    const process: Command = async (ctx) => {
      await new Promise<void>((resolve) => {
        if (ctx.signal.aborted) resolve();
        else ctx.signal.addEventListener("abort", () => resolve(), { once: true });
      });
      this.stop();
      return 143;
    };
    void this.host.spawn(["/opt/bin/flanneld", "--ip-masq", "--kube-subnet-mgr"], {
      ...this.host.rootSpec(io),
      commands: new Map([["flanneld", process]]),
    });
    this.#say(`Using backend ${this.#backend}, network ${formatIpv4Addr(this.#network.addr)}/${this.#network.len}`);
    this.#stopWatch = this.api.watch<Node>("nodes", "", {}, (ev) => {
      if (!this.#running) return;
      const name = ev.object.metadata.name ?? "";
      if (ev.type === "DELETED") {
        this.#removeRemote(name);
        return;
      }
      if (ev.type !== "ADDED" && ev.type !== "MODIFIED") return;
      if (name === this.options.nodeName) this.#onOwnNode(ev.object);
      else this.#onRemoteNode(ev.object);
    });
  }

  /**
   * Stops flanneld, as when its pod is deleted: the kernel state it programmed
   * stays (flannel.1, routes, neighbour and FDB entries), but the udp
   * backend's forwarding stops with the process, and its TUN device (not
   * persistent) goes with the closed file descriptor, taking its route along.
   */
  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    this.#stopWatch?.();
    this.#say("Exiting cleanly...");
    if (this.#udp) {
      this.#udp.controller.abort();
      this.#udp.sock.close();
      this.#udp.tun.queue.close();
      const tun = this.#udp.tun;
      if (tun.netns.deviceByIndex(tun.ifindex) === tun) this.host.kernel.destroyDevice(tun);
      this.#udp = undefined;
    }
  }

  /** Whether flanneld is running. */
  get running(): boolean {
    return this.#running;
  }

  /** Logs a line, also appended to /var/log/flanneld.log in klog's format (`E` for errors). */
  #say(line: string): void {
    this.log.push(line);
    const t = new Date(Date.UTC(2026, 0, 1) + this.host.clock.now());
    const p2 = (n: number) => String(n).padStart(2, "0");
    const level = /^(Error|Failed|failed)/.test(line) ? "E" : "I";
    const stamp = `${p2(t.getUTCMonth() + 1)}${p2(t.getUTCDate())} ${p2(t.getUTCHours())}:${p2(t.getUTCMinutes())}:${p2(t.getUTCSeconds())}.${String(t.getUTCMilliseconds() * 1000).padStart(6, "0")}`;
    this.host.fs.appendFile("/var/log/flanneld.log", `${level}${stamp}       1 flanneld.go:1] ${line}\n`);
  }

  #iface(): NetDevice | undefined {
    return this.host.kernel.root.deviceByName(this.options.iface ?? "eth0");
  }

  #onOwnNode(node: Node): void {
    const cidr = node.spec.podCIDR;
    if (!cidr || this.#subnet !== undefined) return;
    const subnet = parseCidr(cidr, { mask: true });
    if (!subnet) return;
    const net = this.#network;
    if (subnet.len < net.len || ((subnet.addr & prefixMask(net.len)) >>> 0) !== net.addr) {
      this.#say(`Error registering network: subnet ${cidr} is not in network ${formatIpv4Addr(net.addr)}/${net.len}`);
      return;
    }
    this.#subnet = subnet;
    const backendData = this.#setupBackend(subnet);
    if (backendData === undefined) return;
    // Leases seen before this node had its own (a node joining a running cluster) could not be programmed then.
    for (const lease of this.#remotes.values()) this.#program(lease, true);
    this.#writeSubnetEnv(subnet);
    this.host.fs.writeFile("/etc/cni/net.d/10-flannel.conflist", FLANNEL_CONFLIST);
    this.host.fs.writeFile("/etc/kube-flannel/net-conf.json", flannelNetConf(this.#backend, formatCidr(net)));
    const annotations: Record<string, string> = {
      [`${FLANNEL_ANNOTATION_PREFIX}backend-type`]: this.#backend,
      [`${FLANNEL_ANNOTATION_PREFIX}backend-data`]: backendData,
      [`${FLANNEL_ANNOTATION_PREFIX}kube-subnet-manager`]: "true",
      [`${FLANNEL_ANNOTATION_PREFIX}public-ip`]: this.options.nodeIP,
    };
    void this.api
      .patch({ resource: "nodes", namespace: "", name: this.options.nodeName }, "merge", { metadata: { annotations } })
      .catch((err: unknown) => this.#say(`Failed to annotate node: ${err instanceof Error ? err.message : String(err)}`));
    if (this.options.ipMasq ?? true) void this.#installIptables(subnet);
  }

  /** Creates the backend's device; returns the backend-data annotation, or undefined on failure. */
  #setupBackend(subnet: { addr: Ipv4Addr; len: number }): string | undefined {
    const kernel = this.host.kernel;
    const root = kernel.root;
    const ext = this.#iface();
    const local = parseIpv4Addr(this.options.nodeIP)!;
    try {
      switch (this.#backend) {
        case "vxlan": {
          const existing = root.deviceByName("flannel.1");
          const dev = (existing as Vxlan | undefined) ?? kernel.createVxlan(root, "flannel.1", { vni: 1, local, lower: ext });
          if (!existing) {
            root.addAddress(dev, { addr: subnet.addr, prefixLen: 32 });
            root.setUp(dev, true);
          }
          this.#device = dev;
          return JSON.stringify({ VNI: 1, VtepMAC: formatMacAddr(dev.mac) });
        }
        case "udp": {
          const tun = kernel.createTun(root, "flannel0", (ext?.mtu ?? 1500) - 28);
          root.addAddress(tun, { addr: subnet.addr, prefixLen: 32 });
          root.setUp(tun, true);
          root.addRoute({ dst: this.#network.addr, dstLen: this.#network.len, dev: tun, scope: "universe" });
          this.#device = tun;
          this.#startUdp(tun, local);
          return "null";
        }
        case "host-gw":
          return "null";
      }
    } catch (err) {
      this.#say(`Error initializing backend: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  }

  /** The udp backend's user-space forwarding: TUN → UDP 8285 and back. */
  #startUdp(tun: Tun, local: Ipv4Addr): void {
    const sock = new UdpSocket(this.host.kernel.root);
    const err = sock.bind(local, FLANNEL_UDP_PORT);
    if (err) {
      this.#say(`failed to bind UDP socket on port ${FLANNEL_UDP_PORT}: ${err}`);
      return;
    }
    const controller = new AbortController();
    this.#udp = { sock, tun, controller };
    const signal = controller.signal;
    void (async () => {
      while (!signal.aborted) {
        const packet = await tun.read();
        if (packet === undefined || signal.aborted) return;
        let dst: Ipv4Addr;
        try {
          dst = Ipv4Packet.checked(packet).dst;
        } catch {
          continue;
        }
        const lease = [...this.#remotes.values()].find((l) => ((dst & prefixMask(l.len)) >>> 0) === l.subnet);
        if (lease === undefined) continue; // "No route found for …": dropped
        sock.sendTo(lease.publicIp, FLANNEL_UDP_PORT, packet);
      }
    })();
    void (async () => {
      while (!signal.aborted) {
        const d = await sock.mailbox.receive();
        if (d === undefined || signal.aborted) return;
        tun.write(d.data);
      }
    })();
  }

  #writeSubnetEnv(subnet: { addr: Ipv4Addr; len: number }): void {
    const net = this.#network;
    this.host.fs.writeFile(
      "/run/flannel/subnet.env",
      `FLANNEL_NETWORK=${formatCidr(net)}\nFLANNEL_SUBNET=${formatIpv4Addr((subnet.addr + 1) >>> 0)}/${subnet.len}\nFLANNEL_MTU=${this.mtu}\nFLANNEL_IPMASQ=${this.options.ipMasq ?? true}\n`,
    );
  }

  /** §C.4's masquerade and forward rules, through the host's iptables-restore when it has one. */
  async #installIptables(subnet: { addr: Ipv4Addr; len: number }): Promise<void> {
    if (!this.host.commands.has("iptables-restore")) {
      this.#say("iptables-restore not found: skipping --ip-masq rules");
      return;
    }
    const cluster = formatCidr(this.#network);
    const pod = formatCidr(subnet);
    const masq = '-m comment --comment "flanneld masq"';
    const fwd = '-m comment --comment "flanneld forward"';
    const rules = [
      "*nat",
      ":FLANNEL-POSTRTG - [0:0]",
      `-A POSTROUTING ${masq} -j FLANNEL-POSTRTG`,
      `-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 ${masq} -j RETURN`,
      `-A FLANNEL-POSTRTG -s ${pod} -d ${cluster} ${masq} -j RETURN`,
      `-A FLANNEL-POSTRTG -s ${cluster} -d ${pod} ${masq} -j RETURN`,
      `-A FLANNEL-POSTRTG ! -s ${cluster} -d ${pod} ${masq} -j RETURN`,
      `-A FLANNEL-POSTRTG -s ${cluster} ! -d 224.0.0.0/4 ${masq} -j MASQUERADE --random-fully`,
      `-A FLANNEL-POSTRTG ! -s ${cluster} -d ${cluster} ${masq} -j MASQUERADE --random-fully`,
      "COMMIT",
      "*filter",
      ":FLANNEL-FWD - [0:0]",
      `-A FORWARD ${fwd} -j FLANNEL-FWD`,
      `-A FLANNEL-FWD -s ${cluster} ${fwd} -j ACCEPT`,
      `-A FLANNEL-FWD -d ${cluster} ${fwd} -j ACCEPT`,
      "COMMIT",
      "",
    ].join("\n");
    const stdout = new BufferOutput();
    const stderr = new BufferOutput();
    try {
      const code = await this.host.spawn(["iptables-restore", "--noflush"], this.host.rootSpec({ stdin: textInput(rules), stdout, stderr }));
      if (code !== 0) this.#say(`Failed to set up IP Masquerade: ${stderr.text.trim()}`);
    } catch (err) {
      this.#say(`Failed to set up IP Masquerade: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  #onRemoteNode(node: Node): void {
    const name = node.metadata.name ?? "";
    const ann = node.metadata.annotations ?? {};
    const type = ann[`${FLANNEL_ANNOTATION_PREFIX}backend-type`];
    const publicIp = parseIpv4Addr(ann[`${FLANNEL_ANNOTATION_PREFIX}public-ip`] ?? "");
    const cidr = parseCidr(node.spec.podCIDR ?? "", { mask: true });
    if (type === undefined || publicIp === undefined || !cidr) return;
    let vtepMac: number | undefined;
    if (type === "vxlan") {
      try {
        const data = JSON.parse(ann[`${FLANNEL_ANNOTATION_PREFIX}backend-data`] ?? "null") as { VtepMAC?: string } | null;
        vtepMac = parseMacAddr(data?.VtepMAC ?? "");
      } catch {
        vtepMac = undefined;
      }
      if (vtepMac === undefined) return;
    }
    const lease: RemoteLease = { subnet: cidr.addr, len: cidr.len, publicIp, backend: type, vtepMac };
    const old = this.#remotes.get(name);
    if (old && old.subnet === lease.subnet && old.len === lease.len && old.publicIp === lease.publicIp && old.vtepMac === lease.vtepMac && old.backend === lease.backend) return;
    if (old) this.#removeRemote(name);
    if (type !== this.#backend) {
      this.#say(`Ignoring lease ${formatCidr(cidr)} of node ${name}: backend type ${type} is not ${this.#backend}`);
      return;
    }
    this.#remotes.set(name, lease);
    this.#say(`Subnet added: ${formatCidr(cidr)} via ${formatIpv4Addr(publicIp)}`);
    this.#program(lease, true);
  }

  #removeRemote(name: string): void {
    const lease = this.#remotes.get(name);
    if (!lease) return;
    this.#remotes.delete(name);
    this.#say(`Subnet removed: ${formatIpv4Addr(lease.subnet)}/${lease.len}`);
    this.#program(lease, false);
  }

  /** Adds (or deletes) one remote lease's kernel state, in flannel's order. */
  #program(lease: RemoteLease, add: boolean): void {
    const root = this.host.kernel.root;
    const quiet = (f: () => void) => {
      try {
        f();
      } catch (err) {
        const what = `${formatIpv4Addr(lease.subnet)}/${lease.len}`;
        this.#say(`Error ${add ? "adding" : "deleting"} route to ${what}: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    switch (this.#backend) {
      case "vxlan": {
        const dev = this.#device as Vxlan | undefined;
        if (!dev || lease.vtepMac === undefined) return;
        if (add) {
          quiet(() => root.ipv4.neigh.set(dev, lease.subnet, lease.vtepMac, "PERMANENT"));
          dev.fdbSet(lease.vtepMac, lease.publicIp);
          quiet(() => root.addRoute({ dst: lease.subnet, dstLen: lease.len, gateway: lease.subnet, dev, onlink: true }, { replace: true }));
        } else {
          root.ipv4.neigh.delete(dev, lease.subnet);
          dev.fdbDelete(lease.vtepMac);
          quiet(() => root.deleteRoute({ dst: lease.subnet, dstLen: lease.len, dev }));
        }
        return;
      }
      case "host-gw": {
        const ext = this.#iface();
        if (add) quiet(() => root.addRoute({ dst: lease.subnet, dstLen: lease.len, gateway: lease.publicIp, dev: ext }, { replace: true }));
        else quiet(() => root.deleteRoute({ dst: lease.subnet, dstLen: lease.len, gateway: lease.publicIp }));
        return;
      }
      case "udp":
        return; // one route for the whole network via flannel0; flanneld looks leases up per packet
    }
  }
}

function formatCidr(c: { addr: Ipv4Addr; len: number }): string {
  return `${formatIpv4Addr(c.addr)}/${c.len}`;
}
