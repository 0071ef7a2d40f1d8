import { type NetNs, netfilterOf, runIptables } from "@kemu/kernel";

/**
 * Docker's iptables rules for the default bridge in the classic layout of
 * Docker ≤ 27 (NETWORKING-FACTS §E.2), written through the same iptables
 * engine and argument parser the `iptables` command uses, so they show in
 * `iptables-save` exactly as Docker's do.
 */
export const DOCKER_BASE_RULES: readonly (readonly string[])[] = [
  ["-t", "nat", "-N", "DOCKER"],
  ["-t", "nat", "-A", "PREROUTING", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "DOCKER"],
  ["-t", "nat", "-A", "OUTPUT", "!", "-d", "127.0.0.0/8", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "DOCKER"],
  ["-t", "nat", "-A", "POSTROUTING", "-s", "172.17.0.0/16", "!", "-o", "docker0", "-j", "MASQUERADE"],
  ["-t", "nat", "-A", "DOCKER", "-i", "docker0", "-j", "RETURN"],
  ["-t", "filter", "-N", "DOCKER"],
  ["-t", "filter", "-N", "DOCKER-ISOLATION-STAGE-1"],
  ["-t", "filter", "-N", "DOCKER-ISOLATION-STAGE-2"],
  ["-t", "filter", "-N", "DOCKER-USER"],
  ["-t", "filter", "-A", "FORWARD", "-j", "DOCKER-USER"],
  ["-t", "filter", "-A", "FORWARD", "-j", "DOCKER-ISOLATION-STAGE-1"],
  ["-t", "filter", "-A", "FORWARD", "-o", "docker0", "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"],
  ["-t", "filter", "-A", "FORWARD", "-o", "docker0", "-j", "DOCKER"],
  ["-t", "filter", "-A", "FORWARD", "-i", "docker0", "!", "-o", "docker0", "-j", "ACCEPT"],
  ["-t", "filter", "-A", "FORWARD", "-i", "docker0", "-o", "docker0", "-j", "ACCEPT"],
  ["-t", "filter", "-A", "DOCKER-ISOLATION-STAGE-1", "-i", "docker0", "!", "-o", "docker0", "-j", "DOCKER-ISOLATION-STAGE-2"],
  ["-t", "filter", "-A", "DOCKER-ISOLATION-STAGE-1", "-j", "RETURN"],
  ["-t", "filter", "-A", "DOCKER-ISOLATION-STAGE-2", "-o", "docker0", "-j", "DROP"],
  ["-t", "filter", "-A", "DOCKER-ISOLATION-STAGE-2", "-j", "RETURN"],
  ["-t", "filter", "-A", "DOCKER-USER", "-j", "RETURN"],
];

/** A published port (`-p [IP:]HOSTPORT:CONTAINERPORT[/PROTO]`). */
export interface PortBinding {
  readonly hostIp: string;
  readonly hostPort: number;
  readonly containerPort: number;
  readonly proto: "tcp" | "udp";
}

/** Installs the base rules when the engine starts. */
export function installDockerRules(ns: NetNs): void {
  const nf = netfilterOf(ns);
  for (const argv of DOCKER_BASE_RULES) runIptables(nf, argv);
}

/** The three rules of one published port (setPerPortNAT / setPerPortForwarding), as Docker ≤ 27 writes them. */
function portRules(ip: string, p: PortBinding): string[][] {
  const dst = p.hostIp === "0.0.0.0" ? [] : ["-d", `${p.hostIp}/32`];
  return [
    ["-t", "nat", "-A", "POSTROUTING", "-s", `${ip}/32`, "-d", `${ip}/32`, "-p", p.proto, "-m", p.proto, "--dport", `${p.containerPort}`, "-j", "MASQUERADE"],
    ["-t", "nat", "-A", "DOCKER", ...dst, "!", "-i", "docker0", "-p", p.proto, "-m", p.proto, "--dport", `${p.hostPort}`, "-j", "DNAT", "--to-destination", `${ip}:${p.containerPort}`],
    ["-t", "filter", "-A", "DOCKER", "-d", `${ip}/32`, "!", "-i", "docker0", "-o", "docker0", "-p", p.proto, "-m", p.proto, "--dport", `${p.containerPort}`, "-j", "ACCEPT"],
  ];
}

/** Adds a container's published ports. */
export function publishPorts(ns: NetNs, ip: string, ports: readonly PortBinding[]): void {
  const nf = netfilterOf(ns);
  for (const p of ports) for (const argv of portRules(ip, p)) runIptables(nf, argv);
}

/** Removes them again when the container stops. */
export function unpublishPorts(ns: NetNs, ip: string, ports: readonly PortBinding[]): void {
  const nf = netfilterOf(ns);
  for (const p of ports) {
    for (const argv of portRules(ip, p)) {
      try {
        runIptables(nf, argv.map((a) => (a === "-A" ? "-D" : a)));
      } catch {
        // Already gone (someone flushed the table): nothing to undo.
      }
    }
  }
}

/** Parses `-p` values: `80`, `1234:80`, `127.0.0.1:1234:80`, `1234:80/udp`. Returns an error in Docker's words. */
export function parsePublish(spec: string, randomPort: () => number): PortBinding | string {
  const [addrPart, proto = "tcp"] = spec.split("/") as [string, string | undefined];
  if (proto !== "tcp" && proto !== "udp") return `invalid proto: ${proto}`;
  const parts = addrPart.split(":");
  let hostIp = "0.0.0.0";
  let host: string | undefined;
  let container: string;
  if (parts.length === 1) container = parts[0]!;
  else if (parts.length === 2) [host, container] = parts as [string, string];
  else if (parts.length === 3) [hostIp, host, container] = parts as [string, string, string];
  else return `invalid port specification: "${spec}"`;
  const cport = Number(container);
  if (!/^\d+$/.test(container) || cport < 1 || cport > 65535) return `invalid containerPort: ${container}`;
  let hport: number;
  if (host === undefined || host === "") hport = randomPort();
  else {
    hport = Number(host);
    if (!/^\d+$/.test(host) || hport < 1 || hport > 65535) return `invalid hostPort: ${host}`;
  }
  return { hostIp: hostIp === "" ? "0.0.0.0" : hostIp, hostPort: hport, containerPort: cport, proto: proto as "tcp" | "udp" };
}
