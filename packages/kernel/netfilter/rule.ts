/**
 * iptables as data: a rule is an IP header spec, a list of matches and an
 * action; matches and targets are small objects that know how to test or act
 * on a packet and how iptables prints them (`-L`) and saves them (`-S`).
 */
import type { Ipv4Addr } from "@kemu/wire";
import type { NetDevice } from "../device.ts";
import type { Hook, PacketMeta } from "../ipv4.ts";
import type { NetNs } from "../netns.ts";

/** The iptables tables. */
export type TableName = "raw" | "mangle" | "nat" | "filter" | "security";

/** What a traversal step decides. CONTINUE goes on to the next rule. */
export type Verdict = "ACCEPT" | "DROP" | "CONTINUE" | "RETURN" | "STOLEN";

/** Packet and byte counters of a rule or a built-in chain's policy. */
export interface Counters {
  packets: number;
  bytes: number;
}

/** The connection-tracking states a packet can be in, as `-m conntrack --ctstate` names them. */
export type CtState = "NEW" | "ESTABLISHED" | "RELATED" | "INVALID" | "UNTRACKED";

/**
 * What matches and targets see of one packet at one hook: its header fields
 * (kept current when NAT rewrites it), the devices, the per-packet state and
 * the namespace's netfilter services.
 */
export interface PacketContext {
  readonly ns: NetNs;
  readonly hook: Hook;
  readonly table: TableName;
  /** The IPv4 packet as it is now; targets that rewrite it replace it. */
  packet: Uint8Array;
  readonly inDev: NetDevice | undefined;
  readonly outDev: NetDevice | undefined;
  readonly meta: PacketMeta;
  readonly src: Ipv4Addr;
  readonly dst: Ipv4Addr;
  readonly proto: number;
  readonly ttl: number;
  /** True for a fragment other than the first (no transport header). */
  readonly fragment: boolean;
  /** Source and destination port (TCP, UDP) or -1. */
  readonly srcPort: number;
  readonly dstPort: number;
  /** TCP flag byte, or -1. */
  readonly tcpFlags: number;
  /** ICMP type and code, or -1. */
  readonly icmpType: number;
  readonly icmpCode: number;
  /** The conntrack state (INVALID when conntrack does not know the packet). */
  readonly ctState: CtState;
  /** Whether the packet's connection is source-NATed / destination-NATed. */
  readonly ctSnat: boolean;
  readonly ctDnat: boolean;
  /** Re-reads the header fields after `packet` changed. */
  refresh(): void;
}

/** A match extension (`-m name …`, or the implicit protocol match). */
export interface Match {
  /** The name after `-m`. */
  readonly name: string;
  matches(p: PacketContext): boolean;
  /** Options in save form, each with a leading space: ` --dport 80`. */
  save(): string;
  /** Text in `iptables -L` form, with a leading space: ` tcp dpt:80`. */
  print(numeric: boolean): string;
  /** Called when the rule that holds it leaves the ruleset (recent tables, set references). */
  release?(): void;
}

/** A target extension (`-j NAME …`) other than the standard verdicts. */
export interface Target {
  readonly name: string;
  run(p: PacketContext): Verdict;
  /** Options in save form, with a leading space; "" when none. */
  save(): string;
  /** Text in `iptables -L` form, with a leading space. */
  print(numeric: boolean): string;
  /** Only valid in this table (the kernel's checkentry). */
  readonly table?: TableName;
  /** Only valid at these hooks. */
  readonly hooks?: readonly Hook[];
  /** Only valid in a rule for this protocol (`-p tcp` for `--reject-with tcp-reset`). */
  readonly requiresProto?: number | undefined;
}

/** The fixed part of a rule: addresses, interfaces, protocol, fragment flag (struct ipt_ip). */
export interface IpSpec {
  src: Ipv4Addr;
  srcMask: number;
  dst: Ipv4Addr;
  dstMask: number;
  /** "" means any; a trailing `+` is a wildcard. */
  inIface: string;
  outIface: string;
  /** 0 means any protocol. */
  proto: number;
  invSrc: boolean;
  invDst: boolean;
  invIn: boolean;
  invOut: boolean;
  invProto: boolean;
  /** `-f`: only second and later fragments (`! -f`: only unfragmented or first). */
  frag: boolean;
  invFrag: boolean;
}

/** An IpSpec that matches everything. */
export function anyIpSpec(): IpSpec {
  return {
    src: 0,
    srcMask: 0,
    dst: 0,
    dstMask: 0,
    inIface: "",
    outIface: "",
    proto: 0,
    invSrc: false,
    invDst: false,
    invIn: false,
    invOut: false,
    invProto: false,
    frag: false,
    invFrag: false,
  };
}

/** What a rule does when it matches. */
export type RuleAction =
  | { readonly kind: "none" }
  | { readonly kind: "verdict"; readonly verdict: "ACCEPT" | "DROP" | "RETURN" }
  | { readonly kind: "jump"; readonly chain: string; readonly goto: boolean }
  | { readonly kind: "target"; readonly target: Target };

/** One rule of a chain. Counters move; the rest is fixed once built. */
export class Rule implements Counters {
  packets = 0;
  bytes = 0;

  constructor(
    readonly ip: IpSpec,
    readonly matches: readonly Match[],
    readonly action: RuleAction,
  ) {}

  /** The rule's packet and byte counters (kept in the rule itself: one object less per rule). */
  get counters(): Counters {
    return this;
  }

  /** The name in the `target` column of `iptables -L` (empty for a rule without target). */
  get targetName(): string {
    switch (this.action.kind) {
      case "none":
        return "";
      case "verdict":
        return this.action.verdict;
      case "jump":
        return this.action.chain;
      case "target":
        return this.action.target.name;
    }
  }

  /** Whether the rule's IP header part matches the packet. */
  ipMatches(p: PacketContext): boolean {
    const ip = this.ip;
    if ((((p.src & ip.srcMask) >>> 0) !== ip.src) !== ip.invSrc) return false;
    if ((((p.dst & ip.dstMask) >>> 0) !== ip.dst) !== ip.invDst) return false;
    if (ip.inIface !== "" || ip.invIn) {
      if (ifaceMatches(ip.inIface, p.inDev?.name ?? "") === ip.invIn) return false;
    }
    if (ip.outIface !== "" || ip.invOut) {
      if (ifaceMatches(ip.outIface, p.outDev?.name ?? "") === ip.invOut) return false;
    }
    if (ip.proto !== 0 || ip.invProto) {
      if ((p.proto === ip.proto) === ip.invProto) return false;
    }
    if (ip.frag && p.fragment === ip.invFrag) return false;
    return true;
  }
}

/**
 * iptables' interface comparison: an exact name, or a prefix when the spec
 * ends in `+` (`veth+`); an empty spec matches any device.
 */
export function ifaceMatches(spec: string, name: string): boolean {
  if (spec === "") return true;
  if (spec.endsWith("+")) return name.startsWith(spec.slice(0, -1));
  return spec === name;
}
