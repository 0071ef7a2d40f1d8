import { parseCidr, parseIpv4Addr } from "@kemu/wire";
import { docker } from "./docker/cli.ts";
import { DockerRuntime } from "./docker/runtime.ts";
import { Host } from "./host.ts";
import type { HostRole } from "./protocol.ts";
import { corednsCommands } from "./userland/coredns.ts";
import { ingressNginxCommands } from "./userland/ingress_nginx.ts";
import { dnsResolver } from "./userland/dns.ts";
import { iperf3Commands } from "./userland/iperf3.ts";
import { nginxCommands } from "./userland/nginx.ts";
import { busyboxCommands, hostCommands } from "./userland/tables.ts";
import type { EventLoop } from "@kemu/kernel";

/** One NIC of a host: its name, MAC and address. */
export interface NicConfig {
  ifname: string;
  mac: number;
  /** Address and prefix, e.g. "192.168.0.11/24". */
  cidr: string;
}

/** How a host is booted. */
export interface HostConfig {
  name: string;
  seed: number;
  role: HostRole;
  nics: readonly NicConfig[];
  /** Default gateway, if any. */
  gateway?: string | undefined;
  clock?: EventLoop | undefined;
}

/**
 * Boots a host: the host userland, its NICs (up, addressed; their wires are
 * plugged in by whoever runs the host), a default route, and by role:
 * a cluster node gets the Docker engine with the busybox image; a router
 * forwards.
 */
export function bootHost(config: HostConfig): Host {
  const host = new Host(config.name, { seed: config.seed, ...(config.clock ? { clock: config.clock } : {}) });
  host.commands = hostCommands(config.role === "node" ? { docker } : {});
  // Names not in /etc/hosts go to DNS: /etc/resolv.conf's servers and search list.
  host.provide("resolver", dnsResolver);
  const kernel = host.kernel;
  const root = kernel.root;
  let primary: string | undefined;
  for (const nic of config.nics) {
    const cidr = parseCidr(nic.cidr);
    if (!cidr) throw new Error(`bad address ${nic.cidr} for ${config.name} ${nic.ifname}`);
    const dev = kernel.createEther(root, nic.ifname, nic.mac, 1500);
    root.addAddress(dev, { addr: cidr.addr, prefixLen: cidr.len });
    root.setUp(dev, true);
    primary ??= nic.cidr.split("/")[0];
  }
  if (config.gateway !== undefined) root.addRoute({ dst: 0, dstLen: 0, gateway: parseIpv4Addr(config.gateway)! });
  if (primary !== undefined) {
    const hosts = host.fs.readFile("/etc/hosts");
    host.fs.writeFile("/etc/hosts", hosts.replace(`127.0.1.1\t${config.name}`, `${primary}\t${config.name}`));
  }
  if (config.role === "router") root.sysctl.set("net.ipv4.ip_forward", "1");
  if (config.role === "outside") startOutsideWebServer(host);
  if (config.role === "node") {
    const runtime = new DockerRuntime(host);
    const busybox = busyboxCommands();
    runtime.addImage("busybox", busybox, ["sh"]);
    runtime.addImage("alpine", busybox, ["/bin/sh"]);
    runtime.addImage("nginx", busyboxCommands(nginxCommands), ["nginx", "-g", "daemon off;"]);
    // CoreDNS (kube-system's cluster DNS); its pods reach the API as the host service "api".
    // Its ID is fixed (coredns v1.11.1's), so adding it draws nothing from the host's random source.
    const coredns = { commands: busyboxCommands(corednsCommands), defaultCmd: ["coredns", "-conf", "/etc/coredns/Corefile"], id: "sha256:cbb01a7bd410dc08ba382018ab909a674fb0e48687f0c00797ed5bc34fcc6bb4" };
    runtime.images.set("coredns", { name: "coredns", ...coredns });
    runtime.images.set("registry.k8s.io/coredns/coredns", { name: "registry.k8s.io/coredns/coredns", ...coredns });
    // The ingress-nginx controller; like CoreDNS, its pods reach the API as the host service "api".
    const ingress = { commands: busyboxCommands(ingressNginxCommands), defaultCmd: ["/nginx-ingress-controller"], id: "sha256:4de4f6ed8fb3b2d1d2cc3e3f7e6a2b4cd9ef0cb6a3c7bb2aefb7e4b5c5f2d04e" };
    runtime.images.set("registry.k8s.io/ingress-nginx/controller", { name: "registry.k8s.io/ingress-nginx/controller", ...ingress });
    // networkstatic/iperf3: ENTRYPOINT ["iperf3"], no CMD. A fixed ID, so adding it draws nothing from the host's random source.
    const iperf3Image = { name: "networkstatic/iperf3", commands: busyboxCommands(iperf3Commands), defaultCmd: [], entrypoint: ["iperf3"], id: "sha256:7e9f4a1c2b5d8e3f6a0c9b2d4e7f1a3c5b8d0e2f4a6c8e1b3d5f7a9c2e4b6d8f" };
    runtime.images.set("networkstatic/iperf3", iperf3Image);
    host.provide("docker", runtime);
  }
  return host;
}

/** The page the outside host serves. */
export const OUTSIDE_PAGE = `<!DOCTYPE html>
<html>
<head><title>outside</title></head>
<body>
<h1>Hello from outside the cluster</h1>
<p>This page is served by busybox httpd on 198.51.100.10, beyond the gateway.</p>
</body>
</html>
`;

/**
 * The outside host's web server: busybox httpd on :80 serving /var/www,
 * logging every request with the client's address to /var/log/httpd.log.
 */
function startOutsideWebServer(host: Host): void {
  host.fs.writeFile("/var/www/index.html", OUTSIDE_PAGE);
  host.fs.writeFile("/var/log/httpd.log", "");
  const log = { write: (text: string) => host.fs.appendFile("/var/log/httpd.log", text) };
  const spec = host.rootSpec({ stdout: log, stderr: log });
  void host.spawn(["httpd", "-f", "-vv", "-p", "80", "-h", "/var/www"], spec);
}
