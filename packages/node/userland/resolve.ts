import { type Ipv4Addr, parseIpv4Addr } from "@kemu/wire";
import type { ProcessContext } from "../process.ts";
import { dnsResolver } from "./dns.ts";

/**
 * Resolves a host name the way the C library would for these tools: a dotted
 * quad as is, then /etc/hosts, then the host's "resolver" service (the DNS
 * stub resolver of dns.ts by default: /etc/resolv.conf's servers and search
 * list). Returns undefined when the name is unknown.
 */
export async function resolveHost(ctx: ProcessContext, name: string): Promise<Ipv4Addr | undefined> {
  const direct = parseIpv4Addr(name);
  if (direct !== undefined) return direct;
  let hosts = "";
  try {
    hosts = ctx.fs.readFile("/etc/hosts", ctx.netns);
  } catch {
    hosts = "";
  }
  for (const line of hosts.split("\n")) {
    const fields = line.replace(/#.*/, "").trim().split(/\s+/);
    if (fields.length < 2) continue;
    const addr = parseIpv4Addr(fields[0]!);
    if (addr !== undefined && fields.slice(1).includes(name)) return addr;
  }
  const resolver = ctx.host.service<{ lookup(ctx: ProcessContext, name: string): Promise<Ipv4Addr | undefined> }>(
    "resolver",
  );
  return (resolver ?? dnsResolver).lookup(ctx, name);
}
