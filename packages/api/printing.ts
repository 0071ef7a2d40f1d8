/**
 * What the API server's printers and kubectl show for the networking kinds,
 * shared by the server-side Table and the built-in kubectl: an Ingress's
 * CLASS, HOSTS, ADDRESS and PORTS cells and an IngressClass's PARAMETERS.
 */
import type { Ingress, IngressClass } from "./types.ts";

/** The load balancer column is clipped to this many bytes unless wide. */
const LOAD_BALANCER_WIDTH = 16;

/**
 * An Ingress's cells as printers.go's printIngress makes them: the class or
 * `<none>`, up to three hosts then `+ N more...` (`*` when no rule names
 * one), the status IPs/hostnames sorted and joined (clipped to 16 bytes
 * unless `wide`), and `80` or `80, 443` with TLS.
 */
export function ingressRow(ing: Ingress, wide: boolean): { className: string; hosts: string; address: string; ports: string } {
  const rules = ing.spec?.rules ?? [];
  const hosts: string[] = [];
  let more = false;
  for (const rule of rules) {
    if (hosts.length === 3) more = true;
    if (!more && rule.host !== undefined && rule.host !== "") hosts.push(rule.host);
  }
  let hostText = hosts.length === 0 ? "*" : hosts.join(",");
  if (hosts.length > 0 && more) hostText = `${hostText} + ${rules.length - 3} more...`;
  const seen = new Set<string>();
  for (const i of ing.status?.loadBalancer?.ingress ?? []) {
    if (i.ip) seen.add(i.ip);
    else if (i.hostname) seen.add(i.hostname);
  }
  let address = [...seen].sort().join(",");
  if (!wide && address.length > LOAD_BALANCER_WIDTH) address = `${address.slice(0, LOAD_BALANCER_WIDTH - 3)}...`;
  return { className: ing.spec?.ingressClassName ?? "<none>", hosts: hostText, address, ports: (ing.spec?.tls ?? []).length > 0 ? "80, 443" : "80" };
}

/** An IngressClass's PARAMETERS cell: `<none>`, or `Kind[.apiGroup]/name`. */
export function ingressClassParameters(ic: IngressClass): string {
  const p = ic.spec?.parameters;
  if (p === undefined) return "<none>";
  return `${p.kind}${p.apiGroup !== undefined ? `.${p.apiGroup}` : ""}/${p.name}`;
}
