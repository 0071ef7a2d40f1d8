/**
 * The match extensions: what each tests in a packet, and how iptables parses,
 * lists (`-L`) and saves (`-S`) it, following libxt_*.c and the kernel's
 * xt_*.c.
 */
import { RT_TABLE_LOCAL } from "../route.ts";
import type { NetDevice } from "../device.ts";
import type { Rng } from "../random.ts";
import {
  hex,
  ntoa,
  numericToIpaddr,
  paramError,
  parsePort,
  parsePortRange,
  portToService,
  prefixMatch,
  saveString,
  strtoui,
  XtablesError,
} from "./_xtables.ts";
import type { ExtOption, ExtParser, ParseEnv } from "./extension.ts";
import type { IpSets } from "./ipset.ts";
import type { RecentTable, RecentTables } from "./recent.ts";
import { ifaceMatches, type Match, type PacketContext } from "./rule.ts";

/** Builds a parser for one use of a match in a rule. */
export type MatchFactory = (env: ParseEnv) => ExtParser<Match>;

function once(seen: Set<string>, ext: string, opt: string): void {
  if (seen.has(opt)) throw paramError(`${ext}: option "--${opt}" can only be used once.\n`);
  seen.add(opt);
}

function portInRange(port: number, lo: number, hi: number, invert: boolean): boolean {
  return (port >= lo && port <= hi) !== invert;
}

function printPort(port: number, numeric: boolean, proto: "tcp" | "udp" = "tcp"): string {
  if (numeric) return String(port);
  return portToService(port, proto) ?? String(port);
}

function protoWord(proto: number): "tcp" | "udp" {
  return proto === 17 ? "udp" : "tcp";
}

/* ------------------------------------------------------------------ tcp, udp */

/** `-m tcp` / `-m udp`: ports (ranges, `!`), TCP flags and options. */
export class PortsMatch implements Match {
  constructor(
    readonly name: "tcp" | "udp",
    readonly spts: [number, number],
    readonly dpts: [number, number],
    readonly invSpt: boolean,
    readonly invDpt: boolean,
    readonly flagMask = 0,
    readonly flagCmp = 0,
    readonly invFlags = false,
    readonly option = 0,
    readonly invOption = false,
  ) {}

  matches(p: PacketContext): boolean {
    if (p.fragment || p.srcPort < 0) return false;
    if (!portInRange(p.srcPort, this.spts[0], this.spts[1], this.invSpt)) return false;
    if (!portInRange(p.dstPort, this.dpts[0], this.dpts[1], this.invDpt)) return false;
    if (this.name === "tcp") {
      if (((p.tcpFlags & this.flagMask) === this.flagCmp) === this.invFlags) return false;
      if (this.option !== 0 || this.invOption) {
        if (tcpHasOption(p.packet, this.option) === this.invOption) return false;
      }
    }
    return true;
  }

  save(): string {
    let s = "";
    if (!skipPorts(this.spts, this.invSpt)) {
      if (this.invSpt) s += " !";
      s += this.spts[0] !== this.spts[1] ? ` --sport ${this.spts[0]}:${this.spts[1]}` : ` --sport ${this.spts[0]}`;
    }
    if (!skipPorts(this.dpts, this.invDpt)) {
      if (this.invDpt) s += " !";
      s += this.dpts[0] !== this.dpts[1] ? ` --dport ${this.dpts[0]}:${this.dpts[1]}` : ` --dport ${this.dpts[0]}`;
    }
    if (this.option !== 0 || this.invOption) s += `${this.invOption ? " !" : ""} --tcp-option ${this.option}`;
    if (this.flagMask !== 0 || this.invFlags) {
      s += `${this.invFlags ? " !" : ""} --tcp-flags ${tcpFlagNames(this.flagMask)} ${tcpFlagNames(this.flagCmp)}`;
    }
    return s;
  }

  print(numeric: boolean): string {
    let s = ` ${this.name}`;
    s += printPorts("spt", this.spts, this.invSpt, numeric, this.name);
    s += printPorts("dpt", this.dpts, this.invDpt, numeric, this.name);
    if (this.option !== 0 || this.invOption) s += ` option=${this.invOption ? "!" : ""}${this.option}`;
    if (this.flagMask !== 0 || this.invFlags) {
      s += ` flags:${this.invFlags ? "!" : ""}`;
      s += numeric
        ? `0x${this.flagMask.toString(16).toUpperCase().padStart(2, "0")}/0x${this.flagCmp.toString(16).toUpperCase().padStart(2, "0")}`
        : `${tcpFlagNames(this.flagMask)}/${tcpFlagNames(this.flagCmp)}`;
    }
    return s;
  }
}

function skipPorts(r: [number, number], inv: boolean): boolean {
  return r[0] === 0 && r[1] === 0xffff && !inv;
}

function printPorts(name: string, r: [number, number], inv: boolean, numeric: boolean, proto: "tcp" | "udp"): string {
  if (skipPorts(r, inv)) return "";
  const i = inv ? "!" : "";
  if (r[0] === r[1]) return ` ${name}:${i}${printPort(r[0], numeric, proto)}`;
  return ` ${name}s:${i}${printPort(r[0], numeric, proto)}:${printPort(r[1], numeric, proto)}`;
}

const TCP_FLAGS: ReadonlyArray<readonly [string, number]> = [
  ["FIN", 0x01],
  ["SYN", 0x02],
  ["RST", 0x04],
  ["PSH", 0x08],
  ["ACK", 0x10],
  ["URG", 0x20],
  ["ALL", 0x3f],
  ["NONE", 0],
];

function tcpFlagNames(flags: number): string {
  const names: string[] = [];
  let f = flags;
  while (f) {
    const found = TCP_FLAGS.find(([, bit]) => (f & bit) !== 0)!;
    names.push(found[0]);
    f &= ~found[1];
  }
  return names.length === 0 ? "NONE" : names.join(",");
}

function parseTcpFlags(text: string): number {
  let v = 0;
  for (const part of text.split(",")) {
    if (part === "") continue;
    const f = TCP_FLAGS.find(([n]) => n.toLowerCase() === part.toLowerCase());
    if (f === undefined) throw paramError(`Unknown TCP flag \`${part}'`);
    v |= f[1];
  }
  return v;
}

function tcpHasOption(packet: Uint8Array, kind: number): boolean {
  const ihl = (packet[0]! & 15) * 4;
  const doff = ((packet[ihl + 12] ?? 0) >> 4) * 4;
  let i = ihl + 20;
  const end = ihl + doff;
  while (i < end && i < packet.length) {
    const k = packet[i]!;
    if (k === kind) return true;
    if (k === 0) break;
    if (k === 1) {
      i++;
      continue;
    }
    i += Math.max(2, packet[i + 1] ?? 2);
  }
  return false;
}

/** The range of a port not given, shared by every rule (ranges are never changed once built). */
const ANY_PORT: [number, number] = [0, 0xffff];

function portsParser(name: "tcp" | "udp"): MatchFactory {
  return (env) => {
    const protoNum = name === "tcp" ? 6 : 17;
    let spts = ANY_PORT;
    let dpts = ANY_PORT;
    let invSpt = false;
    let invDpt = false;
    let flagMask = 0;
    let flagCmp = 0;
    let invFlags = false;
    let flagsSet = false;
    let option = 0;
    let invOption = false;
    let sSet = false;
    let dSet = false;
    const options: ExtOption[] = [
      { name: "sport", args: 1, invertible: true },
      { name: "source-port", args: 1, invertible: true },
      { name: "dport", args: 1, invertible: true },
      { name: "destination-port", args: 1, invertible: true },
    ];
    if (name === "tcp") {
      options.push({ name: "syn", args: 0, invertible: true }, { name: "tcp-flags", args: 2, invertible: true }, { name: "tcp-option", args: 1, invertible: true });
    }
    return {
      options,
      option(opt, args, invert) {
        switch (opt) {
          case "sport":
          case "source-port":
            if (sSet) throw paramError("Only one `--source-port' allowed");
            sSet = true;
            spts = parsePortRange(args[0]!, name);
            invSpt = invert;
            return;
          case "dport":
          case "destination-port":
            if (dSet) throw paramError("Only one `--destination-port' allowed");
            dSet = true;
            dpts = parsePortRange(args[0]!, name);
            invDpt = invert;
            return;
          case "syn":
          case "tcp-flags":
            if (flagsSet) throw paramError("Only one of `--syn' or `--tcp-flags'  allowed");
            flagsSet = true;
            if (opt === "syn") {
              flagMask = 0x17;
              flagCmp = 0x02;
            } else {
              if (args[1] === undefined || args[1].startsWith("-") || args[1].startsWith("!")) {
                throw paramError("--tcp-flags requires two args.");
              }
              flagMask = parseTcpFlags(args[0]!);
              flagCmp = parseTcpFlags(args[1]);
            }
            invFlags = invert;
            return;
          case "tcp-option": {
            const v = strtoui(args[0]!, 1, 255);
            if (v === undefined) throw paramError(`Bad TCP option "${args[0]}"`);
            option = v;
            invOption = invert;
            return;
          }
        }
      },
      finish() {
        if (env.proto !== protoNum || env.invProto) {
          throw paramError(name === "tcp" ? "TCP match requires '-p tcp'" : "UDP match requires '-p udp'");
        }
        return new PortsMatch(name, spts, dpts, invSpt, invDpt, flagMask, flagCmp, invFlags, option, invOption);
      },
    };
  };
}

/* ------------------------------------------------------------------ multiport */

/** `-m multiport --dports|--sports|--ports a,b:c` (revision 1, with ranges and `!`). */
export class MultiportMatch implements Match {
  readonly name = "multiport";
  constructor(
    readonly which: "sports" | "dports" | "ports",
    /** Ports and ranges as [lo, hi]. */
    readonly ports: ReadonlyArray<readonly [number, number]>,
    readonly invert: boolean,
    /** The rule's protocol, for service names. */
    readonly proto: number,
  ) {}

  matches(p: PacketContext): boolean {
    if (p.fragment || p.srcPort < 0) return false;
    const hit = (port: number): boolean => this.ports.some(([lo, hi]) => port >= lo && port <= hi);
    let m: boolean;
    if (this.which === "sports") m = hit(p.srcPort);
    else if (this.which === "dports") m = hit(p.dstPort);
    else m = hit(p.srcPort) || hit(p.dstPort);
    return m !== this.invert;
  }

  #list(numeric: boolean): string {
    const p = protoWord(this.proto);
    return this.ports.map(([lo, hi]) => (lo === hi ? printPort(lo, numeric, p) : `${printPort(lo, numeric, p)}:${printPort(hi, numeric, p)}`)).join(",");
  }

  save(): string {
    return `${this.invert ? " !" : ""} --${this.which} ${this.#list(true)}`;
  }

  print(numeric: boolean): string {
    return ` multiport ${this.which} ${this.invert ? " !" : ""}${this.#list(numeric)}`;
  }
}

const multiportParser: MatchFactory = (env) => {
  let which: "sports" | "dports" | "ports" | undefined;
  let ports: Array<[number, number]> = [];
  let invert = false;
  const names: Record<string, "sports" | "dports" | "ports"> = {
    sports: "sports",
    "source-ports": "sports",
    dports: "dports",
    "destination-ports": "dports",
    ports: "ports",
  };
  const longName: Record<string, string> = { sports: "source-ports", dports: "destination-ports", ports: "ports" };
  return {
    options: Object.keys(names).map((name) => ({ name, args: 1 as const, invertible: true })),
    option(opt, args, inv) {
      const w = names[opt]!;
      if (which !== undefined) {
        if (which === w) throw paramError(`multiport: option "--${longName[w]}" can only be used once.\n`);
        const [a, b] = which === "sports" || (which === "dports" && w === "ports") ? [which, w] : [w, which];
        throw paramError(`multiport: option "--${longName[a]}" cannot be used together with "--${longName[b]}".\n`);
      }
      which = w;
      invert = inv;
      let count = 0;
      ports = [];
      for (const item of args[0]!.split(",")) {
        const colon = item.indexOf(":");
        if (colon >= 0) {
          const lo = parsePort(item.slice(0, colon), protoWord(env.proto));
          const hi = parsePort(item.slice(colon + 1), protoWord(env.proto));
          if (lo > hi) throw paramError("invalid portrange specified");
          ports.push([lo, hi]);
          count += 2;
        } else {
          const p = parsePort(item, protoWord(env.proto));
          ports.push([p, p]);
          count++;
        }
        if (count > 15) throw paramError("too many ports specified");
      }
    },
    finish() {
      const okProto = [6, 17, 136, 132, 33].includes(env.proto) && !env.invProto;
      if (which === undefined) throw paramError("multiport expection an option");
      if (!okProto) throw paramError("multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or `-p dccp'");
      return new MultiportMatch(which, ports, invert, env.proto);
    },
  };
};

/* ------------------------------------------------------------------ icmp */

/** ICMP type names iptables knows (libxt_icmp.h), with their code ranges. */
export const ICMP_TYPES: ReadonlyArray<readonly [string, number, number, number]> = [
  ["any", 0xff, 0, 0xff],
  ["echo-reply", 0, 0, 0xff],
  ["pong", 0, 0, 0xff],
  ["destination-unreachable", 3, 0, 0xff],
  ["network-unreachable", 3, 0, 0],
  ["host-unreachable", 3, 1, 1],
  ["protocol-unreachable", 3, 2, 2],
  ["port-unreachable", 3, 3, 3],
  ["fragmentation-needed", 3, 4, 4],
  ["source-route-failed", 3, 5, 5],
  ["network-unknown", 3, 6, 6],
  ["host-unknown", 3, 7, 7],
  ["network-prohibited", 3, 9, 9],
  ["host-prohibited", 3, 10, 10],
  ["TOS-network-unreachable", 3, 11, 11],
  ["TOS-host-unreachable", 3, 12, 12],
  ["communication-prohibited", 3, 13, 13],
  ["host-precedence-violation", 3, 14, 14],
  ["precedence-cutoff", 3, 15, 15],
  ["source-quench", 4, 0, 0xff],
  ["redirect", 5, 0, 0xff],
  ["network-redirect", 5, 0, 0],
  ["host-redirect", 5, 1, 1],
  ["TOS-network-redirect", 5, 2, 2],
  ["TOS-host-redirect", 5, 3, 3],
  ["echo-request", 8, 0, 0xff],
  ["ping", 8, 0, 0xff],
  ["router-advertisement", 9, 0, 0xff],
  ["router-solicitation", 10, 0, 0xff],
  ["time-exceeded", 11, 0, 0xff],
  ["ttl-exceeded", 11, 0, 0xff],
  ["ttl-zero-during-transit", 11, 0, 0],
  ["ttl-zero-during-reassembly", 11, 1, 1],
  ["parameter-problem", 12, 0, 0xff],
  ["ip-header-bad", 12, 0, 0],
  ["required-option-missing", 12, 1, 1],
  ["timestamp-request", 13, 0, 0xff],
  ["timestamp-reply", 14, 0, 0xff],
  ["address-mask-request", 17, 0, 0xff],
  ["address-mask-reply", 18, 0, 0xff],
];

/** `-m icmp --icmp-type T[/C]`. */
export class IcmpMatch implements Match {
  readonly name = "icmp";
  constructor(
    readonly type: number,
    readonly codeMin: number,
    readonly codeMax: number,
    readonly invert: boolean,
  ) {}

  matches(p: PacketContext): boolean {
    if (p.fragment || p.icmpType < 0) return false;
    const m = this.type === 0xff || (p.icmpType === this.type && p.icmpCode >= this.codeMin && p.icmpCode <= this.codeMax);
    return m !== this.invert;
  }

  save(): string {
    let s = this.invert ? " !" : "";
    if (this.type === 0xff && this.codeMin === 0 && this.codeMax === 0xff) return `${s} --icmp-type any`;
    s += ` --icmp-type ${this.type}`;
    if (this.codeMin !== 0 || this.codeMax !== 0xff) s += `/${this.codeMin}`;
    return s;
  }

  print(numeric: boolean): string {
    let s = " icmp";
    if (!numeric) {
      const named = ICMP_TYPES.find(([, t, lo, hi]) => t === this.type && lo === this.codeMin && hi === this.codeMax);
      if (named) return `${s} ${this.invert ? "!" : ""}${named[0]}`;
    }
    if (this.invert) s += " !";
    s += `type ${this.type}`;
    if (this.codeMin === this.codeMax) s += ` code ${this.codeMin}`;
    else if (this.codeMin !== 0 || this.codeMax !== 0xff) s += ` codes ${this.codeMin}-${this.codeMax}`;
    return s;
  }
}

const icmpParser: MatchFactory = (env) => {
  let spec: [number, number, number] | undefined;
  let invert = false;
  const seen = new Set<string>();
  return {
    options: [{ name: "icmp-type", args: 1, invertible: true }],
    option(opt, args, inv) {
      once(seen, "icmp", opt);
      invert = inv;
      const text = args[0]!;
      const hits = ICMP_TYPES.filter(([n]) => prefixMatch(n, text));
      const exact = ICMP_TYPES.find(([n]) => n.toLowerCase() === text.toLowerCase());
      if (exact) {
        spec = [exact[1], exact[2], exact[3]];
        return;
      }
      if (hits.length > 1) throw paramError(`Ambiguous ICMP type \`${text}': \`${hits[0]![0]}' or \`${hits[1]![0]}'?`);
      if (hits.length === 1) {
        spec = [hits[0]![1], hits[0]![2], hits[0]![3]];
        return;
      }
      const slash = text.indexOf("/");
      const type = strtoui(slash < 0 ? text : text.slice(0, slash), 0, 255);
      if (type === undefined) throw paramError(`Unknown ICMP type \`${text}'`);
      if (slash < 0) {
        spec = [type, 0, 0xff];
        return;
      }
      const code = strtoui(text.slice(slash + 1), 0, 255);
      if (code === undefined) throw paramError(`Unknown ICMP code \`${text.slice(slash + 1)}'`);
      spec = [type, code, code];
    },
    finish() {
      if (spec === undefined) throw paramError('icmp: option "--icmp-type" must be specified\n');
      if (env.proto !== 1 || env.invProto) throw paramError("ICMP match requires '-p icmp'");
      return new IcmpMatch(spec[0], spec[1], spec[2], invert);
    },
  };
};

/* ------------------------------------------------------------------ comment */

/** `-m comment --comment TEXT`: matches everything, carries a note. */
export class CommentMatch implements Match {
  readonly name = "comment";
  constructor(readonly comment: string) {}
  matches(): boolean {
    return true;
  }
  save(): string {
    return ` --comment${saveString(this.comment)}`;
  }
  print(): string {
    return ` /* ${this.comment} */`;
  }
}

const commentParser: MatchFactory = () => {
  let comment: string | undefined;
  const seen = new Set<string>();
  return {
    options: [{ name: "comment", args: 1 }],
    option(opt, args) {
      once(seen, "comment", opt);
      comment = args[0]!;
      if (comment.length > 255) throw paramError(`comment: option "--comment" is too long (max 255 chars).\n`);
    },
    finish() {
      if (comment === undefined) throw paramError('comment: option "--comment" must be specified\n');
      return new CommentMatch(comment);
    },
  };
};

/* ------------------------------------------------------------------ statistic */

/** `-m statistic --mode random --probability P` or `--mode nth --every N [--packet P]`. */
export class StatisticMatch implements Match {
  readonly name = "statistic";
  /** The nth-mode counter the kernel keeps. */
  #count: number;

  constructor(
    readonly mode: "random" | "nth",
    /** Random mode: lround(0x80000000 * P). */
    readonly probability: number,
    /** Nth mode: every - 1 and packet, as the kernel keeps them. */
    readonly every: number,
    readonly packet: number,
    readonly invert: boolean,
    /** The namespace's generator itself: a closure here would keep the whole parse alive with the rule. */
    private readonly rng: Rng,
  ) {
    this.#count = every - packet;
  }

  matches(): boolean {
    let ret = this.invert;
    if (this.mode === "random") {
      if ((this.rng.nextU32() & 0x7fffffff) < this.probability) ret = !ret;
    } else {
      this.#count = this.#count === this.every ? 0 : this.#count + 1;
      if (this.#count === 0) ret = !ret;
    }
    return ret;
  }

  #text(prefix: string): string {
    const inv = this.invert ? " !" : "";
    if (this.mode === "random") {
      return ` ${prefix}mode random${inv} ${prefix}probability ${(this.probability / 0x80000000).toFixed(11)}`;
    }
    let s = ` ${prefix}mode nth${inv} ${prefix}every ${this.every + 1}`;
    if (this.packet !== 0 || prefix !== "") s += ` ${prefix}packet ${this.packet}`;
    return s;
  }

  save(): string {
    return this.#text("--");
  }
  print(): string {
    return ` statistic${this.#text("")}`;
  }
}

const statisticParser: MatchFactory = (env) => {
  let mode: "random" | "nth" | undefined;
  let probability: number | undefined;
  let every: number | undefined;
  let packet: number | undefined;
  let invert = false;
  const seen = new Set<string>();
  return {
    options: [
      { name: "mode", args: 1, invertible: true },
      { name: "probability", args: 1, invertible: true },
      { name: "every", args: 1, invertible: true },
      { name: "packet", args: 1, invertible: true },
    ],
    option(opt, args, inv) {
      once(seen, "statistic", opt);
      if (inv) invert = true;
      const a = args[0]!;
      switch (opt) {
        case "mode":
          if (a === "random") mode = "random";
          else if (a === "nth") mode = "nth";
          else throw paramError(`Bad mode "${a}"`);
          return;
        case "probability": {
          const v = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(a) ? Number(a) : NaN;
          if (!Number.isFinite(v) || v < 0 || v > 1) {
            throw paramError(`statistic: bad value for option "--probability", or out of range (0-1).\n`);
          }
          probability = Math.round(0x80000000 * v);
          return;
        }
        case "every": {
          const v = strtoui(a, 1, 0xffffffff);
          if (v === undefined) throw paramError(`statistic: bad value for option "--every", or out of range (1-4294967295).\n`);
          every = v;
          return;
        }
        case "packet": {
          const v = strtoui(a, 0, 0xffffffff);
          if (v === undefined) throw paramError(`statistic: bad value for option "--packet", or out of range (0-4294967295).\n`);
          packet = v;
          return;
        }
      }
    },
    finish() {
      if (mode === undefined) throw paramError('statistic: option "--mode" must be specified\n');
      if (mode === "random" && probability === undefined) throw paramError("--probability must be specified when using random mode");
      if (mode === "nth" && every === undefined && packet === undefined) {
        throw paramError("--every and --packet must be specified when using nth mode");
      }
      const ev = (every ?? 0) - 1;
      const pk = packet ?? 0;
      if (mode === "nth" && pk > ev) throw paramError("the --packet p must be 0 <= p <= n-1");
      return new StatisticMatch(mode, probability ?? 0, mode === "nth" ? ev : 0, pk, invert, env.services.rng);
    },
  };
};

/* ------------------------------------------------------------------ addrtype */

/** Route types in the kernel's order (rtn_names), as addrtype prints them. */
export const ADDR_TYPES = [
  "UNSPEC",
  "UNICAST",
  "LOCAL",
  "BROADCAST",
  "ANYCAST",
  "MULTICAST",
  "BLACKHOLE",
  "UNREACHABLE",
  "PROHIBIT",
  "THROW",
  "NAT",
  "XRESOLVE",
] as const;

/** `-m addrtype --src-type/--dst-type T[,T…] [--limit-iface-in|out]` (revision 1). */
export class AddrtypeMatch implements Match {
  readonly name = "addrtype";
  constructor(
    readonly source: number,
    readonly dest: number,
    readonly invSource: boolean,
    readonly invDest: boolean,
    readonly limitIn: boolean,
    readonly limitOut: boolean,
  ) {}

  matches(p: PacketContext): boolean {
    const dev = this.limitIn ? p.inDev : this.limitOut ? p.outDev : undefined;
    if (this.source !== 0 && ((this.source & (1 << addrType(p, p.src, dev))) !== 0) === this.invSource) return false;
    if (this.dest !== 0 && ((this.dest & (1 << addrType(p, p.dst, dev))) !== 0) === this.invDest) return false;
    return true;
  }

  save(): string {
    let s = "";
    if (this.source) s += `${this.invSource ? " !" : ""} --src-type ${typeNames(this.source)}`;
    if (this.dest) s += `${this.invDest ? " !" : ""} --dst-type ${typeNames(this.dest)}`;
    if (this.limitIn) s += " --limit-iface-in";
    if (this.limitOut) s += " --limit-iface-out";
    return s;
  }

  print(): string {
    let s = " ADDRTYPE match";
    if (this.source) s += ` src-type ${this.invSource ? "!" : ""}${typeNames(this.source)}`;
    if (this.dest) s += ` dst-type ${this.invDest ? "!" : ""}${typeNames(this.dest)}`;
    if (this.limitIn) s += " limit-in";
    if (this.limitOut) s += " limit-out";
    return s;
  }
}

function typeNames(mask: number): string {
  return ADDR_TYPES.filter((_, i) => (mask & (1 << i)) !== 0).join(",");
}

/** inet_dev_addr_type: what the local routing table says an address is. */
function addrType(p: PacketContext, addr: number, dev: NetDevice | undefined): number {
  if (addr >>> 24 === 0 || addr === 0xffffffff) return 3; // zeronet, limited broadcast
  if (addr >>> 28 === 0xe) return 5;
  const r = p.ns.ipv4.routes.lookupIn(RT_TABLE_LOCAL, addr);
  if (r === undefined) return 1;
  if (dev !== undefined && r.dev !== dev) return 1;
  switch (r.type) {
    case "local":
      return 2;
    case "broadcast":
      return 3;
    case "blackhole":
      return 6;
    case "unreachable":
      return 7;
    case "prohibit":
      return 8;
    default:
      return 1;
  }
}

const addrtypeParser: MatchFactory = () => {
  let source = 0;
  let dest = 0;
  let invSource = false;
  let invDest = false;
  let limitIn = false;
  let limitOut = false;
  const seen = new Set<string>();
  const parseTypes = (arg: string): number => {
    let mask = 0;
    const parts = arg.split(",");
    for (let i = 0; i < parts.length; i++) {
      const t = parts[i]!;
      const idx = ADDR_TYPES.findIndex((n) => n.toLowerCase() === t.toLowerCase());
      if (idx < 0 || t === "") {
        const rest = parts.slice(i).join(",");
        throw paramError(i < parts.length - 1 ? `addrtype: bad type \`${rest}'` : `addrtype: bad type "${rest}"`);
      }
      mask |= 1 << idx;
    }
    return mask;
  };
  return {
    options: [
      { name: "src-type", args: 1, invertible: true },
      { name: "dst-type", args: 1, invertible: true },
      { name: "limit-iface-in", args: 0 },
      { name: "limit-iface-out", args: 0 },
    ],
    option(opt, args, inv) {
      once(seen, "addrtype", opt);
      switch (opt) {
        case "src-type":
          source = parseTypes(args[0]!);
          invSource = inv;
          return;
        case "dst-type":
          dest = parseTypes(args[0]!);
          invDest = inv;
          return;
        case "limit-iface-in":
          if (limitOut) throw paramError('addrtype: option "--limit-iface-in" cannot be used together with "--limit-iface-out".\n');
          limitIn = true;
          return;
        case "limit-iface-out":
          if (limitIn) throw paramError('addrtype: option "--limit-iface-out" cannot be used together with "--limit-iface-in".\n');
          limitOut = true;
          return;
      }
    },
    finish() {
      if (!source && !dest) throw paramError("addrtype: you must specify --src-type or --dst-type");
      return new AddrtypeMatch(source, dest, invSource, invDest, limitIn, limitOut);
    },
  };
};

/* ------------------------------------------------------------------ mark */

/** `-m mark [!] --mark V[/M]`. */
export class MarkMatch implements Match {
  readonly name = "mark";
  constructor(
    readonly mark: number,
    readonly mask: number,
    readonly invert: boolean,
  ) {}
  matches(p: PacketContext): boolean {
    return (((p.meta.mark & this.mask) >>> 0) === this.mark) !== this.invert;
  }
  #value(): string {
    return this.mask !== 0xffffffff ? ` 0x${hex(this.mark)}/0x${hex(this.mask)}` : ` 0x${hex(this.mark)}`;
  }
  save(): string {
    return `${this.invert ? " !" : ""} --mark${this.#value()}`;
  }
  print(): string {
    return ` mark match${this.invert ? " !" : ""}${this.#value()}`;
  }
}

/** xtables_parse_mark_mask: `V[/M]`, base 0. */
export function parseMarkMask(ext: string, opt: string, text: string): [number, number] {
  const slash = text.indexOf("/");
  const vText = slash < 0 ? text : text.slice(0, slash);
  const mText = slash < 0 ? undefined : text.slice(slash + 1);
  const bad = (): XtablesError => paramError(`${ext}: bad integer value for option "--${opt}", or out of range.\n`);
  if (mText !== undefined && mText.includes("/")) throw paramError(`${ext}: trailing garbage after value for option "--${opt}".\n`);
  const v = strtoui(vText);
  if (v === undefined) throw bad();
  if (mText === undefined) return [v, 0xffffffff];
  const m = strtoui(mText);
  if (m === undefined) throw bad();
  return [v, m];
}

const markParser: MatchFactory = () => {
  let value: [number, number] | undefined;
  let invert = false;
  const seen = new Set<string>();
  return {
    options: [{ name: "mark", args: 1, invertible: true }],
    option(opt, args, inv) {
      once(seen, "mark", opt);
      value = parseMarkMask("mark", "mark", args[0]!);
      invert = inv;
    },
    finish() {
      if (value === undefined) throw paramError('mark: option "--mark" must be specified\n');
      return new MarkMatch(value[0], value[1], invert);
    },
  };
};

/* ------------------------------------------------------------------ conntrack, state */

/** State bits in print order. */
const CT_STATES = ["INVALID", "NEW", "RELATED", "ESTABLISHED", "UNTRACKED", "SNAT", "DNAT"] as const;
const CT_STATUS = ["EXPECTED", "SEEN_REPLY", "ASSURED", "CONFIRMED"] as const;

/** `-m conntrack --ctstate …` (and `-m state --state …`, which nft iptables implements with it). */
export class ConntrackMatch implements Match {
  constructor(
    readonly name: "conntrack" | "state",
    /** Bits in CT_STATES order; 0 when not given. */
    readonly states: number,
    readonly invStates: boolean,
    readonly statuses: number | undefined,
    readonly invStatus: boolean,
    readonly proto: number | undefined,
    readonly invProto: boolean,
    readonly dir: "ORIGINAL" | "REPLY" | undefined,
  ) {}

  matches(p: PacketContext): boolean {
    if (this.states !== 0 || this.name === "state") {
      let bits = 1 << CT_STATES.indexOf(p.ctState);
      if (p.ctSnat) bits |= 1 << 5;
      if (p.ctDnat) bits |= 1 << 6;
      if (((bits & this.states) !== 0) === this.invStates) return false;
    }
    const entry = conntrackEntryOf(p);
    if (this.proto !== undefined) {
      if (entry === undefined) return false;
      if ((entry.proto === this.proto) === this.invProto) return false;
    }
    if (this.statuses !== undefined) {
      if (entry === undefined) return false;
      const have = entry.statusBits;
      if (((have & this.statuses) !== 0) === this.invStatus) return false;
    }
    if (this.dir !== undefined) {
      if (entry === undefined) return false;
      const reply = conntrackDirOf(p) === 1;
      if (reply !== (this.dir === "REPLY")) return false;
    }
    return true;
  }

  #stateList(): string {
    return CT_STATES.filter((_, i) => (this.states & (1 << i)) !== 0).join(",");
  }

  #dump(prefix: string): string {
    let s = "";
    if (this.name === "state" || this.states !== 0) {
      if (this.invStates) s += " !";
      s += ` ${prefix}${this.name === "state" ? "state" : "ctstate"} ${this.#stateList()}`;
    }
    if (this.proto !== undefined) s += `${this.invProto ? " !" : ""} ${prefix}ctproto ${this.proto}`;
    if (this.statuses !== undefined) {
      const names = CT_STATUS.filter((_, i) => (this.statuses! & (1 << i)) !== 0);
      s += `${this.invStatus ? " !" : ""} ${prefix}ctstatus ${names.length ? names.join(",") : "NONE"}`;
    }
    if (this.dir !== undefined) s += ` ${prefix}ctdir ${this.dir}`;
    return s;
  }

  save(): string {
    return this.#dump("--");
  }
  print(): string {
    return this.#dump("");
  }
}

/** Hooks conntrack.ts installs so that matches can see the entry without importing it. */
export interface ConntrackView {
  readonly proto: number;
  /** Status bits in CT_STATUS order (EXPECTED, SEEN_REPLY, ASSURED, CONFIRMED). */
  readonly statusBits: number;
}

function conntrackEntryOf(p: PacketContext): ConntrackView | undefined {
  const ref = p.meta.nfct as { entry?: ConntrackView } | undefined;
  return ref?.entry;
}

function conntrackDirOf(p: PacketContext): number {
  const ref = p.meta.nfct as { dir?: number } | undefined;
  return ref?.dir ?? 0;
}

function ctParser(name: "conntrack" | "state"): MatchFactory {
  return () => {
    let states = 0;
    let invStates = false;
    let statuses: number | undefined;
    let invStatus = false;
    let proto: number | undefined;
    let invProto = false;
    let dir: "ORIGINAL" | "REPLY" | undefined;
    let any = false;
    const seen = new Set<string>();
    const parseList = (arg: string, opt: string): number => {
      const label = opt === "state" ? "state" : "ctstate";
      let mask = 0;
      const parts = arg.split(",");
      if (parts[parts.length - 1] === "") {
        throw paramError(`"--${label}" requires a list of states with no spaces, e.g. ESTABLISHED,RELATED`);
      }
      for (let i = 0; i < parts.length; i++) {
        const t = parts[i]!;
        const allowed = opt === "state" ? CT_STATES.slice(0, 5) : CT_STATES;
        const idx = t === "" ? -1 : allowed.findIndex((n) => prefixMatch(n, t));
        if (idx < 0) throw paramError(`Bad ${label} "${parts.slice(i).join(",")}"`);
        mask |= 1 << idx;
      }
      return mask;
    };
    const options: ExtOption[] =
      name === "state"
        ? [{ name: "state", args: 1, invertible: true }]
        : [
            { name: "ctstate", args: 1, invertible: true },
            { name: "ctstatus", args: 1, invertible: true },
            { name: "ctproto", args: 1, invertible: true },
            { name: "ctdir", args: 1 },
          ];
    return {
      options,
      option(opt, args, inv) {
        once(seen, name, opt);
        any = true;
        const a = args[0]!;
        switch (opt) {
          case "state":
          case "ctstate":
            states = parseList(a, opt);
            invStates = inv;
            return;
          case "ctstatus": {
            let mask = 0;
            for (const t of a.split(",")) {
              if (t.toUpperCase() === "NONE") continue;
              const idx = CT_STATUS.findIndex((n) => prefixMatch(n, t));
              if (idx < 0 || t === "") throw paramError(`Bad ctstatus "${t}"`);
              mask |= 1 << idx;
            }
            statuses = mask;
            invStatus = inv;
            return;
          }
          case "ctproto": {
            const n = strtoui(a, 0, 255) ?? PROTO_BY_NAME[a.toLowerCase()];
            if (n === undefined) throw paramError(`unknown protocol "${a}" specified`);
            proto = n;
            invProto = inv;
            return;
          }
          case "ctdir":
            if (prefixMatch("ORIGINAL", a) && a !== "") dir = "ORIGINAL";
            else if (prefixMatch("REPLY", a) && a !== "") dir = "REPLY";
            else throw paramError(`Unknown --ctdir "${a}"`);
            return;
        }
      },
      finish() {
        if (!any) {
          throw paramError(name === "state" ? 'state: option "--state" must be specified\n' : "conntrack: At least one option is required");
        }
        return new ConntrackMatch(name, states, invStates, statuses, invStatus, proto, invProto, dir);
      },
    };
  };
}

/** Protocol names iptables resolves itself or through /etc/protocols. */
export const PROTO_BY_NAME: Readonly<Record<string, number>> = {
  all: 0,
  icmp: 1,
  igmp: 2,
  ipip: 4,
  tcp: 6,
  egp: 8,
  udp: 17,
  ipv6: 41,
  gre: 47,
  esp: 50,
  ah: 51,
  "ipv6-icmp": 58,
  icmpv6: 58,
  ospf: 89,
  ipcomp: 108,
  vrrp: 112,
  l2tp: 115,
  sctp: 132,
  udplite: 136,
  dccp: 33,
  mh: 135,
};

/* ------------------------------------------------------------------ recent */

/** `-m recent`: remembers addresses and tests how recently they were seen. */
export class RecentMatch implements Match {
  readonly name = "recent";
  constructor(
    readonly table: RecentTable,
    readonly op: "set" | "rcheck" | "update" | "remove",
    readonly invert: boolean,
    readonly seconds: number,
    readonly reap: boolean,
    readonly hitcount: number,
    readonly rttl: boolean,
    readonly mask: number,
    readonly side: "source" | "dest",
    private readonly tables: RecentTables,
  ) {}

  matches(p: PacketContext): boolean {
    const now = p.ns.kernel.clock.now();
    const addr = ((this.side === "dest" ? p.dst : p.src) & this.mask) >>> 0;
    let ttl = p.ttl;
    // A forwarded packet's TTL was already decremented: count it as seen on input.
    if (p.outDev !== undefined && p.inDev !== undefined) ttl++;
    let ret = this.invert;
    const t = this.table;
    const e = t.lookup(addr, this.rttl ? ttl : undefined);
    if (e === undefined) {
      if (this.op !== "set") return ret;
      t.add(addr, ttl, now);
      return !ret;
    }
    if (this.op === "set") ret = !ret;
    else if (this.op === "remove") {
      t.remove(e);
      return !ret;
    } else if (this.seconds || this.hitcount) {
      const since = now - this.seconds * 1000;
      let hits = 0;
      for (const stamp of e.stamps) {
        if (this.seconds && stamp < since) continue;
        if (!this.hitcount || ++hits >= this.hitcount) {
          ret = !ret;
          break;
        }
      }
      if (this.reap) t.reap(since, this.op === "update" && ret ? e : undefined);
    } else {
      ret = !ret;
    }
    if (this.op === "set" || (this.op === "update" && ret)) {
      t.update(e, now);
      e.ttl = ttl;
    }
    return ret;
  }

  #opName(print: boolean): string {
    const names = { set: ["SET", "--set"], rcheck: ["CHECK", "--rcheck"], update: ["UPDATE", "--update"], remove: ["REMOVE", "--remove"] };
    return names[this.op][print ? 0 : 1]!;
  }

  save(): string {
    let s = `${this.invert ? " !" : ""} ${this.#opName(false)}`;
    if (this.seconds) s += ` --seconds ${this.seconds}`;
    if (this.reap) s += " --reap";
    if (this.hitcount) s += ` --hitcount ${this.hitcount}`;
    if (this.rttl) s += " --rttl";
    s += ` --name ${this.table.name} --mask ${ntoa(this.mask)}`;
    s += this.side === "source" ? " --rsource" : " --rdest";
    return s;
  }

  print(): string {
    let s = `${this.invert ? " !" : ""} recent: ${this.#opName(true)}`;
    if (this.seconds) s += ` seconds: ${this.seconds}`;
    if (this.reap) s += " reap";
    if (this.hitcount) s += ` hit_count: ${this.hitcount}`;
    if (this.rttl) s += " TTL-Match";
    s += ` name: ${this.table.name} side: ${this.side} mask: ${ntoa(this.mask)}`;
    return s;
  }

  release(): void {
    this.tables.release(this.table);
  }
}

const recentParser: MatchFactory = (env) => {
  let op: "set" | "rcheck" | "update" | "remove" | undefined;
  let invert = false;
  let seconds = 0;
  let reap = false;
  let hitcount = 0;
  let rttl = false;
  let name = "DEFAULT";
  let mask = 0xffffffff;
  let side: "source" | "dest" = "source";
  const seen = new Set<string>();
  return {
    options: [
      { name: "set", args: 0, invertible: true },
      { name: "rcheck", args: 0, invertible: true },
      { name: "update", args: 0, invertible: true },
      { name: "remove", args: 0, invertible: true },
      { name: "seconds", args: 1 },
      { name: "reap", args: 0 },
      { name: "hitcount", args: 1 },
      { name: "rttl", args: 0 },
      { name: "name", args: 1 },
      { name: "rsource", args: 0 },
      { name: "rdest", args: 0 },
      { name: "mask", args: 1 },
    ],
    option(opt, args, inv) {
      once(seen, "recent", opt);
      const a = args[0] ?? "";
      switch (opt) {
        case "set":
        case "rcheck":
        case "update":
        case "remove":
          if (op !== undefined) {
            const order = ["set", "rcheck", "update", "remove"];
            const [a, b] = order.indexOf(op) < order.indexOf(opt) ? [op, opt] : [opt, op];
            throw paramError(`recent: option "--${a}" cannot be used together with "--${b}".\n`);
          }
          op = opt;
          if (inv) invert = true;
          return;
        case "seconds": {
          const v = strtoui(a, 0, 0xffffffff);
          if (v === undefined) throw paramError(`recent: bad value for option "--seconds", or out of range (0-4294967295).\n`);
          seconds = v;
          return;
        }
        case "hitcount": {
          const v = strtoui(a, 0, 0xffffffff);
          if (v === undefined) throw paramError(`recent: bad value for option "--hitcount", or out of range (0-4294967295).\n`);
          hitcount = v;
          return;
        }
        case "reap":
          reap = true;
          return;
        case "rttl":
          rttl = true;
          return;
        case "name":
          name = a;
          return;
        case "rsource":
          side = "source";
          return;
        case "rdest":
          side = "dest";
          return;
        case "mask": {
          const m = numericToIpaddr(a, true);
          if (m === undefined) throw paramError(`recent: bad value for option "--mask", or out of range.\n`);
          mask = m;
          return;
        }
      }
    },
    finish() {
      if (op === undefined) {
        throw paramError("recent: you must specify one of `--set', `--rcheck' `--update' or `--remove'");
      }
      if (reap && !seconds) throw paramError('recent: option "--reap" also requires "--seconds".\n');
      const tables = env.services.recent;
      return new RecentMatch(tables.acquire(name), op, invert, seconds, reap, hitcount, rttl, mask, side, tables);
    },
  };
};

/* ------------------------------------------------------------------ set */

/** `-m set [!] --match-set NAME dir[,dir…]`. */
export class SetMatch implements Match {
  readonly name = "set";
  constructor(
    readonly sets: IpSets,
    readonly slot: number,
    readonly dirs: ReadonlyArray<"src" | "dst">,
    readonly invert: boolean,
  ) {
    const s = sets.at(slot);
    if (s) s.references++;
  }

  matches(p: PacketContext): boolean {
    const set = this.sets.at(this.slot);
    if (set === undefined) return this.invert;
    return set.matchPacket(p, this.dirs) !== this.invert;
  }

  #text(opt: string): string {
    return `${this.invert ? " !" : ""} ${opt} ${this.sets.at(this.slot)?.name ?? ""} ${this.dirs.join(",")}`;
  }
  save(): string {
    return this.#text("--match-set");
  }
  print(): string {
    return this.#text("match-set");
  }
  release(): void {
    const s = this.sets.at(this.slot);
    if (s) s.references = Math.max(0, s.references - 1);
  }
}

const setParser: MatchFactory = (env) => {
  let slot: number | undefined;
  let dirs: Array<"src" | "dst"> = [];
  let invert = false;
  return {
    options: [{ name: "match-set", args: 2, invertible: true }],
    option(_opt, args, inv) {
      if (slot !== undefined) throw paramError("--match-set can be specified only once");
      if (args[1] === undefined || args[1].startsWith("-") || args[1].startsWith("!")) {
        throw paramError("--match-set requires two args.");
      }
      const name = args[0]!;
      if (name.length > 31) throw paramError(`setname \`${name}' too long, max 31 characters.`);
      const s = env.services.ipsets.slotOf(name);
      if (s < 0) throw paramError(`Set ${name} doesn't exist.\n`);
      slot = s;
      invert = inv;
      dirs = [];
      for (const d of args[1].split(",")) {
        if (d !== "src" && d !== "dst") throw paramError("You must specify (the comma separated list of) 'src' or 'dst'.");
        dirs.push(d);
      }
      if (dirs.length > 6) throw paramError("Can't be more src/dst options than 6.");
    },
    finish() {
      if (slot === undefined) throw paramError("You must specify `--match-set' with proper arguments");
      return new SetMatch(env.services.ipsets, slot, dirs, invert);
    },
  };
};

/* ------------------------------------------------------------------ physdev */

/** `-m physdev`: the bridge ports of a bridged frame (br_netfilter). */
export class PhysdevMatch implements Match {
  readonly name = "physdev";
  constructor(
    readonly physIn: string | undefined,
    readonly physOut: string | undefined,
    readonly invIn: boolean,
    readonly invOut: boolean,
    readonly isIn: boolean | undefined,
    readonly isOut: boolean | undefined,
    readonly isBridged: boolean | undefined,
  ) {}

  matches(p: PacketContext): boolean {
    const inDev = p.meta.physIn;
    const outDev = p.meta.physOut;
    if (inDev === undefined && outDev === undefined) {
      // Not a bridged packet: only the inverted tests hold.
      if (this.isBridged === true || this.isIn === true || this.isOut === true) return false;
      if (this.physIn !== undefined && !this.invIn) return false;
      if (this.physOut !== undefined && !this.invOut) return false;
      return true;
    }
    if (this.isBridged !== undefined && (outDev !== undefined) !== this.isBridged) return false;
    if (this.isIn !== undefined && (inDev !== undefined) !== this.isIn) return false;
    if (this.isOut !== undefined && (outDev !== undefined) !== this.isOut) return false;
    if (this.physIn !== undefined && inDev !== undefined) {
      if (ifaceMatches(this.physIn, inDev.name) === this.invIn) return false;
    }
    if (this.physOut !== undefined) {
      if (outDev === undefined) return false;
      if (ifaceMatches(this.physOut, outDev.name) === this.invOut) return false;
    }
    return true;
  }

  save(): string {
    let s = "";
    if (this.isIn !== undefined) s += `${this.isIn ? "" : " !"} --physdev-is-in`;
    if (this.physIn !== undefined) s += `${this.invIn ? " !" : ""} --physdev-in ${this.physIn}`;
    if (this.isOut !== undefined) s += `${this.isOut ? "" : " !"} --physdev-is-out`;
    if (this.physOut !== undefined) s += `${this.invOut ? " !" : ""} --physdev-out ${this.physOut}`;
    if (this.isBridged !== undefined) s += `${this.isBridged ? "" : " !"} --physdev-is-bridged`;
    return s;
  }

  print(): string {
    return ` PHYSDEV match${this.save()}`;
  }
}

const physdevParser: MatchFactory = () => {
  let physIn: string | undefined;
  let physOut: string | undefined;
  let invIn = false;
  let invOut = false;
  let isIn: boolean | undefined;
  let isOut: boolean | undefined;
  let isBridged: boolean | undefined;
  const seen = new Set<string>();
  return {
    options: [
      { name: "physdev-in", args: 1, invertible: true },
      { name: "physdev-out", args: 1, invertible: true },
      { name: "physdev-is-in", args: 0, invertible: true },
      { name: "physdev-is-out", args: 0, invertible: true },
      { name: "physdev-is-bridged", args: 0, invertible: true },
    ],
    option(opt, args, inv) {
      once(seen, "physdev", opt);
      switch (opt) {
        case "physdev-in":
          physIn = args[0]!;
          invIn = inv;
          return;
        case "physdev-out":
          physOut = args[0]!;
          invOut = inv;
          return;
        case "physdev-is-in":
          isIn = !inv;
          return;
        case "physdev-is-out":
          isOut = !inv;
          return;
        case "physdev-is-bridged":
          isBridged = !inv;
          return;
      }
    },
    finish() {
      if (seen.size === 0) throw paramError("PHYSDEV: no physdev option specified");
      return new PhysdevMatch(physIn, physOut, invIn, invOut, isIn, isOut, isBridged);
    },
  };
};

/** The match extensions by `-m` name. */
export const MATCHES: Readonly<Record<string, MatchFactory>> = {
  tcp: portsParser("tcp"),
  udp: portsParser("udp"),
  multiport: multiportParser,
  icmp: icmpParser,
  comment: commentParser,
  statistic: statisticParser,
  addrtype: addrtypeParser,
  mark: markParser,
  conntrack: ctParser("conntrack"),
  state: ctParser("state"),
  recent: recentParser,
  set: setParser,
  physdev: physdevParser,
};
