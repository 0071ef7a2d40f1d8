import { formatIpv4Addr, type Ipv4Addr, parseIpv4Addr } from "@kemu/wire";
import { docker } from "./docker/cli.ts";
import { DockerRuntime } from "./docker/runtime.ts";
import { Host } from "./host.ts";
import { busyboxCommands, hostCommands } from "./userland/tables.ts";
import type { EventLoop } from "@kemu/kernel";

/** The underlay subnet every node's eth0 sits on, and its router. */
export const UNDERLAY = {
  net: "192.168.0.0",
  prefixLen: 24,
  gateway: "192.168.0.1",
} as const;

/** The address of node N (1-based) on the underlay: 192.168.0.10+N (node1 is 192.168.0.11). */
export function nodeAddress(index: number): Ipv4Addr {
  return (parseIpv4Addr(UNDERLAY.net)! + 10 + index) >>> 0;
}

/** How a node is booted. */
export interface NodeConfig {
  name: string;
  /** 1-based position in the cluster: fixes its addresses. */
  index: number;
  seed: number;
  clock?: EventLoop | undefined;
}

/**
 * Boots one cluster node: the host userland, eth0 on the underlay
 * (192.168.0.10+N/24, default route via 192.168.0.1), and the Docker engine
 * with the busybox image.
 */
export function bootNode(config: NodeConfig): Host {
  const host = new Host(config.name, { seed: config.seed, ...(config.clock ? { clock: config.clock } : {}) });
  host.commands = hostCommands({ docker });
  const kernel = host.kernel;
  const root = kernel.root;
  // QEMU-style MAC, fixed by the node's index: 52:54:00:00:00:NN.
  const eth0 = kernel.createEther(root, "eth0", 0x5254_0000_0000 + config.index, 1500);
  eth0.wire = () => {};
  root.addAddress(eth0, { addr: nodeAddress(config.index), prefixLen: UNDERLAY.prefixLen });
  root.setUp(eth0, true);
  root.addRoute({ dst: 0, dstLen: 0, gateway: parseIpv4Addr(UNDERLAY.gateway)!, dev: eth0 });
  const hosts = host.fs.readFile("/etc/hosts");
  host.fs.writeFile("/etc/hosts", hosts.replace(`127.0.1.1\t${config.name}`, `${formatIpv4Addr(nodeAddress(config.index))}\t${config.name}`));
  const runtime = new DockerRuntime(host);
  const busybox = busyboxCommands();
  runtime.addImage("busybox", busybox, ["sh"]);
  runtime.addImage("alpine", busybox, ["/bin/sh"]);
  host.provide("docker", runtime);
  return host;
}
