/**
 * `iptables -L` output (xshared.c print_header/print_rule_details,
 * nft-ipv4.c print_rule): column layout, K/M/G counters, `*`/`any`
 * interfaces, `anywhere` or `0.0.0.0/0`, then each match's and the target's
 * own text.
 */
import { maskLen, ntoa, padEnd, padStart } from "./_xtables.ts";
import type { Rule } from "./rule.ts";
import { PROTO_NAMES } from "./save.ts";
import type { Chain, Table } from "./table.ts";

/** How `-L` was asked for. */
export interface ListFormat {
  numeric: boolean;
  verbose: boolean;
  /** -x: exact counters. */
  exact: boolean;
  lineNumbers: boolean;
  /** Host names for addresses when not numeric (reverse /etc/hosts). */
  hostName?: (addr: number) => string | undefined;
}

/** xtables_print_num: `%8llu ` exact, else `%5llu ` up to 99999, then K, M, G, T. */
export function formatNum(n: number, f: { exact: boolean }, notab = false): string {
  if (f.exact) return notab ? `${n} ` : `${padStart(String(n), 8)} `;
  if (n <= 99999) return notab ? `${n} ` : `${padStart(String(n), 5)} `;
  for (const unit of ["K", "M", "G"]) {
    n = Math.floor((n + 500) / 1000);
    if (n <= 9999) return notab ? `${n}${unit} ` : `${padStart(String(n), 4)}${unit} `;
  }
  n = Math.floor((n + 500) / 1000);
  return notab ? `${n}T ` : `${padStart(String(n), 4)}T `;
}

/** The `Chain X (…)` line and the column header. */
export function listHeader(chain: Chain, references: number, f: ListFormat): string {
  let s = `Chain ${chain.name}`;
  if (chain.builtin) {
    s += ` (policy ${chain.policy}`;
    if (f.verbose) s += ` ${formatNum(chain.counters.packets, f, true)}packets, ${formatNum(chain.counters.bytes, f, true)}bytes`;
    s += ")\n";
  } else {
    s += ` (${references} references)\n`;
  }
  if (f.lineNumbers) s += padEnd("num", 4) + " ";
  if (f.verbose) {
    if (!f.exact) s += `${padStart("pkts", 5)} ${padStart("bytes", 5)} `;
    else s += `${padStart("pkts", 8)} ${padStart("bytes", 10)} `;
  }
  s += `${padEnd("target", 9)} `;
  s += " prot opt";
  if (f.verbose) s += ` ${padEnd("in", 6)} ${padEnd("out", 6)} `;
  s += ` ${padEnd("source", 19)} `;
  s += ` ${padEnd("destination", 19)} `;
  return `${s}\n`;
}

/** getnetbyaddr on a stock /etc/networks. */
const NETWORKS: Readonly<Record<number, string>> = { 0x7f000000: "loopback", 0xa9fe0000: "link-local" };

function addrText(addr: number, mask: number, f: ListFormat): string {
  if (mask === 0 && !f.numeric) return "anywhere";
  let host = ntoa(addr);
  if (!f.numeric) host = f.hostName?.(addr) ?? NETWORKS[addr] ?? host;
  const len = maskLen(mask);
  const suffix = len === 32 ? "" : len >= 0 ? `/${len}` : `/${ntoa(mask)}`;
  return `${host}${suffix}`;
}

/** One rule line of `-L` (without the newline). */
export function listRule(rule: Rule, num: number, f: ListFormat): string {
  const ip = rule.ip;
  let s = "";
  if (f.lineNumbers) s += `${padEnd(String(num), 4)} `;
  if (f.verbose) s += formatNum(rule.counters.packets, f) + formatNum(rule.counters.bytes, f);
  s += `${padEnd(rule.targetName, 9)} `;
  s += ip.invProto ? "!" : " ";
  const pname = f.numeric ? undefined : PROTO_NAMES[ip.proto];
  s += `${padEnd(pname ?? String(ip.proto), 4)} `;
  s += `${ip.invFrag ? "!" : "-"}${ip.frag ? "f" : "-"} `;
  if (f.verbose) {
    const any = f.numeric ? "*" : "any";
    s += ` ${padEnd(`${ip.invIn ? "!" : ""}${ip.inIface || any}`, 6)} `;
    s += `${padEnd(`${ip.invOut ? "!" : ""}${ip.outIface || any}`, 6)} `;
  }
  s += ip.invSrc ? "!" : " ";
  s += `${padEnd(addrText(ip.src, ip.srcMask, f), 19)} `;
  s += ip.invDst ? "!" : " ";
  s += `${padEnd(addrText(ip.dst, ip.dstMask, f), 19)} `;
  if (rule.action.kind === "jump" && rule.action.goto) s += "[goto] ";
  for (const m of rule.matches) s += m.print(f.numeric);
  if (rule.action.kind === "target") s += rule.action.target.print(f.numeric);
  return s;
}

/** `iptables -L [CHAIN [N]]` for one table. */
export function listTable(table: Table, chain: Chain | undefined, rulenum: number, f: ListFormat): string {
  if (chain !== undefined && rulenum > 0) {
    const r = chain.rules[rulenum - 1];
    return r === undefined ? "" : `${listRule(r, rulenum, f)}\n`;
  }
  const chains = chain === undefined ? table.orderedChains() : [chain];
  const blocks = chains.map((c) => {
    let s = listHeader(c, table.references(c.name), f);
    c.rules.forEach((r, i) => {
      s += `${listRule(r, i + 1, f)}\n`;
    });
    return s;
  });
  return blocks.join("\n");
}

/** iptables' own protocol list (xtables_chain_protos), what `-v` prints numerically. */
const CHAIN_PROTOS: Readonly<Record<number, string>> = { 0: "all", 6: "tcp", 132: "sctp", 17: "udp", 136: "udplite", 1: "icmp", 58: "ipv6-icmp", 50: "esp", 51: "ah", 135: "mobility-header", 33: "dccp", 108: "ipcomp" };

/** A rule as `iptables -v -A/-I/-D/-R/-C` echoes it (FMT_PRINT_RULE), newline included. */
export function verboseRuleLine(rule: Rule): string {
  const ip = rule.ip;
  let s = `${rule.targetName} `;
  s += ip.invProto ? "!" : " ";
  s += `${CHAIN_PROTOS[ip.proto] ?? String(ip.proto)} `;
  s += "opt ";
  s += `${ip.invFrag ? "!" : "-"}${ip.frag ? "f" : "-"} `;
  s += `in ${ip.invIn ? "!" : ""}${ip.inIface || "*"} `;
  s += `out ${ip.invOut ? "!" : ""}${ip.outIface || "*"} `;
  const f: ListFormat = { numeric: true, verbose: true, exact: true, lineNumbers: false };
  s += `${ip.invSrc ? "!" : " "}${addrText(ip.src, ip.srcMask, f)} `;
  s += `${ip.invDst ? "!" : " "}-> ${addrText(ip.dst, ip.dstMask, f)}`;
  s += "  ";
  if (rule.action.kind === "jump" && rule.action.goto) s += "[goto] ";
  for (const m of rule.matches) s += m.print(true);
  if (rule.action.kind === "target") s += rule.action.target.print(true);
  return `${s}\n`;
}
