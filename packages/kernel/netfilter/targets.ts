/**
 * The target extensions: REJECT, DNAT, SNAT, MASQUERADE, REDIRECT, MARK, LOG
 * and TRACE, with iptables' parsing, listing and save text (libxt_NAT.c,
 * libipt_REJECT.c, libxt_MARK.c, libxt_LOG.c) and the kernel's actions.
 */
import {
  buildTcp,
  ICMP_ADMIN_PROHIBITED,
  ICMP_DEST_UNREACH,
  ICMP_HOST_PROHIBITED,
  ICMP_HOST_UNREACH,
  ICMP_NET_PROHIBITED,
  ICMP_NET_UNREACH,
  ICMP_PORT_UNREACH,
  ICMP_PROT_UNREACH,
  TCP_ACK,
  TCP_RST,
} from "@kemu/wire";
import type { NetDevice } from "../device.ts";
import { hex, ntoa, paramError, prefixMatch, saveString, serviceToPort, strtoui } from "./_xtables.ts";
import type { ExtParser, ParseEnv } from "./extension.ts";
import { parseMarkMask } from "./matches.ts";
import type { NatRange } from "./nat.ts";
import { formatPacketLog } from "./log.ts";
import type { PacketContext, Target, Verdict } from "./rule.ts";

/** Builds a parser for one use of a target in a rule. */
export type TargetFactory = (env: ParseEnv) => ExtParser<Target>;

/** What NAT targets ask of the engine: bind the packet's flow. */
export interface NatContext extends PacketContext {
  /** Binds the flow's NAT of the hook's kind to `range`; returns the verdict (DROP when untracked). */
  setupNat(range: NatRange, options?: { masqueradeDev?: NetDevice }): Verdict;
}

function once(seen: Set<string>, ext: string, opt: string): void {
  if (seen.has(opt)) throw paramError(`${ext}: option "--${opt}" can only be used once.\n`);
  seen.add(opt);
}

/* ------------------------------------------------------------------ REJECT */

/** The `--reject-with` types in the kernel's numbering (enum ipt_reject_with). */
const REJECT_TYPES: ReadonlyArray<readonly [string, string, number, number]> = [
  ["icmp-net-unreachable", "net-unreach", 3, ICMP_NET_UNREACH],
  ["icmp-host-unreachable", "host-unreach", 3, ICMP_HOST_UNREACH],
  ["icmp-proto-unreachable", "proto-unreach", 3, ICMP_PROT_UNREACH],
  ["icmp-port-unreachable", "port-unreach", 3, ICMP_PORT_UNREACH],
  ["icmp-net-prohibited", "net-prohib", 3, ICMP_NET_PROHIBITED],
  ["icmp-host-prohibited", "host-prohib", 3, ICMP_HOST_PROHIBITED],
  ["tcp-reset", "tcp-rst", -1, 0],
  ["icmp-admin-prohibited", "admin-prohib", 3, ICMP_ADMIN_PROHIBITED],
];

/** `-j REJECT [--reject-with T]`: drops the packet and answers with an ICMP error or a TCP RST. */
export class RejectTarget implements Target {
  readonly name = "REJECT";
  readonly table = "filter" as const;
  readonly hooks = ["INPUT", "FORWARD", "OUTPUT"] as const;
  readonly requiresProto: number | undefined;
  constructor(readonly with_: string) {
    this.requiresProto = with_ === "tcp-reset" ? 6 : undefined;
  }

  run(p: PacketContext): Verdict {
    const spec = REJECT_TYPES.find(([n]) => n === this.with_)!;
    if (spec[0] === "tcp-reset") sendReset(p);
    else p.ns.ipv4.icmpError(p.packet, ICMP_DEST_UNREACH, spec[3]);
    return "DROP";
  }
  save(): string {
    return ` --reject-with ${this.with_}`;
  }
  print(): string {
    return ` reject-with ${this.with_}`;
  }
}

/** nf_send_reset: a RST answering the packet's segment, from its destination. */
function sendReset(p: PacketContext): void {
  const pkt = p.packet;
  const ihl = (pkt[0]! & 15) * 4;
  if (p.proto !== 6 || p.fragment || pkt.length < ihl + 20) return;
  const flags = pkt[ihl + 13]!;
  if (flags & TCP_RST) return;
  const rd32 = (o: number) => ((pkt[o]! << 24) | (pkt[o + 1]! << 16) | (pkt[o + 2]! << 8) | pkt[o + 3]!) >>> 0;
  const seq = rd32(ihl + 4);
  const ackSeq = rd32(ihl + 8);
  const doff = (pkt[ihl + 12]! >> 4) * 4;
  const dataLen = pkt.length - ihl - doff + (flags & 0x02 ? 1 : 0) + (flags & 0x01 ? 1 : 0);
  const hasAck = (flags & TCP_ACK) !== 0;
  const repr = {
    srcPort: p.dstPort,
    dstPort: p.srcPort,
    seq: hasAck ? ackSeq : 0,
    ack: hasAck ? 0 : (seq + dataLen) >>> 0,
    flags: hasAck ? TCP_RST : TCP_RST | TCP_ACK,
    window: 0,
    urgent: 0,
    options: {},
  };
  const src = p.dst;
  const dst = p.src;
  p.ns.ipv4.send({ dst, src, protocol: 6, payload: () => buildTcp(repr, new Uint8Array(0), src, dst) });
}

const rejectParser: TargetFactory = () => {
  let with_ = "icmp-port-unreachable";
  const seen = new Set<string>();
  return {
    options: [{ name: "reject-with", args: 1 }],
    option(opt, args) {
      once(seen, "REJECT", opt);
      const a = args[0]!;
      const hit = REJECT_TYPES.find(([n, alias]) => prefixMatch(n, a) || prefixMatch(alias, a));
      if (hit === undefined) throw paramError(`unknown reject type "${a}"`);
      with_ = hit[0];
    },
    finish() {
      return new RejectTarget(with_);
    },
  };
};

/* ------------------------------------------------------------------ NAT */

function sprintRange(r: NatRange): string {
  let s = "";
  if (r.mapIps) {
    s += ntoa(r.minIp);
    if (r.maxIp !== r.minIp) s += `-${ntoa(r.maxIp)}`;
  }
  if (r.protoSpecified) {
    s += `:${r.minPort}`;
    if (r.maxPort !== r.minPort) s += `-${r.maxPort}`;
  }
  return s;
}

function natText(r: NatRange, rangeopt: string, flagPrefix: string, skipColon: boolean): string {
  let range = sprintRange(r);
  let s = "";
  if (range !== "") {
    if (range.startsWith(":") && skipColon) range = range.slice(1);
    s += ` ${rangeopt}${range}`;
  }
  if (r.random) s += ` ${flagPrefix}random`;
  if (r.randomFully) s += ` ${flagPrefix}random-fully`;
  if (r.persistent) s += ` ${flagPrefix}persistent`;
  return s;
}

/** DNAT, SNAT, MASQUERADE and REDIRECT. */
export class NatTarget implements Target {
  readonly table = "nat" as const;
  readonly hooks: readonly ("PREROUTING" | "INPUT" | "OUTPUT" | "POSTROUTING")[];
  constructor(
    readonly name: "DNAT" | "SNAT" | "MASQUERADE" | "REDIRECT",
    readonly range: NatRange,
  ) {
    this.hooks =
      name === "DNAT" || name === "REDIRECT" ? ["PREROUTING", "OUTPUT"] : name === "SNAT" ? ["POSTROUTING", "INPUT"] : ["POSTROUTING"];
  }

  run(p: PacketContext): Verdict {
    const nat = p as NatContext;
    switch (this.name) {
      case "DNAT":
      case "SNAT":
        return nat.setupNat(this.range);
      case "MASQUERADE": {
        if (p.src === 0) return "ACCEPT";
        const out = p.outDev;
        if (out === undefined) return "DROP";
        const route = p.ns.ipv4.routes.lookup(p.dst, { oif: out });
        const nexthop = route?.gateway ?? p.dst;
        const addr = masqueradeAddress(out, nexthop) ?? anyGlobalAddress(p);
        if (addr === undefined) {
          p.ns.kernel.printk(`MASQUERADE: ${out.name} ate my IP address`);
          return "DROP";
        }
        return nat.setupNat({ ...this.range, mapIps: true, minIp: addr, maxIp: addr }, { masqueradeDev: out });
      }
      case "REDIRECT": {
        let addr: number | undefined;
        if (p.hook === "OUTPUT") addr = 0x7f000001;
        else addr = p.inDev?.addrs.find((a) => !a.secondary)?.addr;
        if (addr === undefined) return "DROP";
        return nat.setupNat({ ...this.range, mapIps: true, minIp: addr, maxIp: addr });
      }
    }
  }

  save(): string {
    switch (this.name) {
      case "DNAT":
        return natText(this.range, "--to-destination ", "--", false);
      case "SNAT":
        return natText(this.range, "--to-source ", "--", false);
      default:
        return natText(this.range, "--to-ports ", "--", true);
    }
  }

  print(): string {
    switch (this.name) {
      case "DNAT":
      case "SNAT":
        return natText(this.range, "to:", "", false);
      case "MASQUERADE":
        return natText(this.range, "masq ports: ", "", true);
      case "REDIRECT":
        return natText(this.range, "redir ports ", "", true);
    }
  }
}

/** inet_select_addr(out, nexthop, RT_SCOPE_UNIVERSE): a primary global address, on the nexthop's subnet if one is. */
export function masqueradeAddress(dev: NetDevice, nexthop: number): number | undefined {
  let first: number | undefined;
  for (const a of dev.addrs) {
    if (a.secondary || a.scope !== "global") continue;
    const mask = a.prefixLen === 0 ? 0 : (0xffffffff << (32 - a.prefixLen)) >>> 0;
    if (((a.addr & mask) >>> 0) === ((nexthop & mask) >>> 0)) return a.addr;
    first ??= a.addr;
  }
  return first;
}

function anyGlobalAddress(p: PacketContext): number | undefined {
  for (const d of p.ns.devices()) {
    for (const a of d.addrs) if (!a.secondary && a.scope === "global") return a.addr;
  }
  return undefined;
}

function parsePorts(text: string, portok: boolean): { min: number; max: number } {
  if (!portok) throw paramError("Need TCP, UDP, SCTP or DCCP with port specification");
  const m = /^([^-:/]*)(.*)$/.exec(text)!;
  let port = strtoui(m[1]!, 0, 65535);
  let rest = m[2]!;
  if (port === undefined) {
    const s = serviceToPort(text);
    if (s === undefined) throw paramError(`Port \`${text}' not valid`);
    port = s;
    rest = "";
  }
  if (rest === "") return { min: port, max: port };
  if (rest.startsWith(":")) throw paramError("Invalid port:port syntax - use dash");
  if (!rest.startsWith("-")) throw paramError(`Garbage after port value: \`${rest}'`);
  const max = strtoui(rest.slice(1), 0, 65535);
  if (max === undefined) throw paramError(`Port \`${rest.slice(1)}' not valid`);
  if (max < port) throw paramError(`Port range \`${rest.slice(1)}' funky`);
  return { min: port, max };
}

function parseDotted(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((n) => n > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

function natParser(name: "DNAT" | "SNAT" | "MASQUERADE" | "REDIRECT"): TargetFactory {
  return (env) => {
    const portok = (): boolean => [6, 17, 132, 33, 1].includes(env.proto) && !env.invProto;
    const r = {
      mapIps: false,
      minIp: 0,
      maxIp: 0,
      protoSpecified: false,
      minPort: 0,
      maxPort: 0,
      random: false,
      randomFully: false,
      persistent: false,
    };
    let given = false;
    const seen = new Set<string>();
    const rangeOpt = name === "DNAT" ? "to-destination" : name === "SNAT" ? "to-source" : "to-ports";
    const flags = name === "DNAT" ? ["random", "persistent"] : name === "SNAT" ? ["random", "random-fully", "persistent"] : name === "MASQUERADE" ? ["random", "random-fully"] : ["random"];
    return {
      options: [{ name: rangeOpt, args: 1 }, ...flags.map((f) => ({ name: f, args: 0 as const }))],
      option(opt, args) {
        once(seen, name, opt);
        switch (opt) {
          case "random":
            r.random = true;
            return;
          case "random-fully":
            r.randomFully = true;
            return;
          case "persistent":
            r.persistent = true;
            return;
          case "to-ports": {
            const ports = parsePorts(args[0]!, portok());
            r.protoSpecified = true;
            r.minPort = ports.min;
            r.maxPort = ports.max;
            given = true;
            return;
          }
          default: {
            const text = args[0]!;
            const colon = text.indexOf(":");
            if (colon >= 0) {
              const ports = parsePorts(text.slice(colon + 1), portok());
              r.protoSpecified = true;
              r.minPort = ports.min;
              r.maxPort = ports.max;
            }
            const ipText = colon >= 0 ? text.slice(0, colon) : text;
            given = true;
            if (ipText === "") return;
            const dash = ipText.indexOf("-");
            const lo = dash >= 0 ? ipText.slice(0, dash) : ipText;
            const a = parseDotted(lo);
            if (a === undefined) throw paramError(`Bad IP address "${lo}"`);
            let b = a;
            if (dash >= 0) {
              const hi = parseDotted(ipText.slice(dash + 1));
              if (hi === undefined) throw paramError(`Bad IP address "${ipText.slice(dash + 1)}"`);
              b = hi;
            }
            r.mapIps = true;
            r.minIp = a;
            r.maxIp = b;
          }
        }
      },
      finish() {
        if ((name === "DNAT" || name === "SNAT") && !given) throw paramError(`${name}: option "--${rangeOpt}" must be specified\n`);
        return new NatTarget(name, { ...r });
      },
    };
  };
}

/* ------------------------------------------------------------------ MARK */

/** `-j MARK` (revision 2): mark = (mark & ~mask) ^ value. */
export class MarkTarget implements Target {
  readonly name = "MARK";
  constructor(
    readonly mark: number,
    readonly mask: number,
  ) {}
  run(p: PacketContext): Verdict {
    p.meta.mark = ((p.meta.mark & ~this.mask) ^ this.mark) >>> 0;
    return "CONTINUE";
  }
  save(): string {
    return ` --set-xmark 0x${hex(this.mark)}/0x${hex(this.mask)}`;
  }
  print(): string {
    if (this.mark === 0) return ` MARK and 0x${hex(~this.mask)}`;
    if (this.mark === this.mask) return ` MARK or 0x${hex(this.mark)}`;
    if (this.mask === 0) return ` MARK xor 0x${hex(this.mark)}`;
    if (this.mask === 0xffffffff) return ` MARK set 0x${hex(this.mark)}`;
    return ` MARK xset 0x${hex(this.mark)}/0x${hex(this.mask)}`;
  }
}

const markParser: TargetFactory = () => {
  let value: [number, number] | undefined;
  let given: string | undefined;
  const opts = ["set-xmark", "set-mark", "and-mark", "or-mark", "xor-mark"];
  return {
    options: opts.map((name) => ({ name, args: 1 as const })),
    option(opt, args) {
      if (given !== undefined) {
        if (given === opt) throw paramError(`MARK: option "--${opt}" can only be used once.\n`);
        const [a, b] = opts.indexOf(given) < opts.indexOf(opt) ? [given, opt] : [opt, given];
        throw paramError(`MARK: option "--${a}" cannot be used together with "--${b}".\n`);
      }
      given = opt;
      const a = args[0]!;
      const u32 = (): number => {
        const v = strtoui(a);
        if (v === undefined) throw paramError(`MARK: bad integer value for option "--${opt}", or out of range.\n`);
        return v;
      };
      switch (opt) {
        case "set-xmark":
          value = parseMarkMask("MARK", opt, a);
          return;
        case "set-mark": {
          const [v, m] = parseMarkMask("MARK", opt, a);
          value = [v, a.includes("/") ? (v | m) >>> 0 : 0xffffffff];
          return;
        }
        case "and-mark":
          value = [0, ~u32() >>> 0];
          return;
        case "or-mark": {
          const v = u32();
          value = [v, v];
          return;
        }
        case "xor-mark":
          value = [u32(), 0];
          return;
      }
    },
    finish() {
      if (value === undefined) throw paramError("MARK: One of the --set-xmark, --{and,or,xor,set}-mark options is required");
      return new MarkTarget(value[0], value[1]);
    },
  };
};

/* ------------------------------------------------------------------ LOG */

/** syslog priority names (glibc's prioritynames order, as priority2name walks it). */
const PRIORITY_NAMES: ReadonlyArray<readonly [string, number]> = [
  ["alert", 1],
  ["crit", 2],
  ["debug", 7],
  ["emerg", 0],
  ["err", 3],
  ["error", 3],
  ["info", 6],
  ["notice", 5],
  ["panic", 0],
  ["warn", 4],
  ["warning", 4],
];

/** LOG flag bits (XT_LOG_*). */
const LOG_FLAGS: ReadonlyArray<readonly [string, string, string, number]> = [
  ["log-tcp-sequence", "tcp-sequence", "--log-tcp-sequence", 0x01],
  ["log-tcp-options", "tcp-options", "--log-tcp-options", 0x02],
  ["log-ip-options", "ip-options", "--log-ip-options", 0x04],
  ["log-uid", "uid", "--log-uid", 0x08],
  ["log-macdecode", "macdecode", "--log-macdecode", 0x20],
];

/** `-j LOG`: a kernel log line about the packet. */
export class LogTarget implements Target {
  readonly name = "LOG";
  constructor(
    readonly prefix: string,
    readonly level: number,
    readonly flags: number,
  ) {}
  run(p: PacketContext): Verdict {
    p.ns.kernel.printk(formatPacketLog(p, this.prefix, { tcpSeq: (this.flags & 1) !== 0 }));
    return "CONTINUE";
  }
  save(): string {
    let s = "";
    if (this.prefix !== "") s += ` --log-prefix${saveString(this.prefix)}`;
    if (this.level !== 4) s += ` --log-level ${this.level}`;
    for (const [, , opt, bit] of LOG_FLAGS) if (this.flags & bit) s += ` ${opt}`;
    return s;
  }
  print(numeric: boolean): string {
    let s = " LOG";
    if (numeric) s += ` flags ${this.flags} level ${this.level}`;
    else {
      const name = PRIORITY_NAMES.find(([, v]) => v === this.level)?.[0];
      s += name !== undefined ? ` level ${name}` : ` UNKNOWN level ${this.level}`;
      for (const [, word, , bit] of LOG_FLAGS) if (this.flags & bit) s += ` ${word}`;
    }
    if (this.prefix !== "") s += ` prefix "${this.prefix}"`;
    return s;
  }
}

const logParser: TargetFactory = () => {
  let prefix = "";
  let level = 4;
  let flags = 0;
  const seen = new Set<string>();
  return {
    options: [
      { name: "log-level", args: 1 },
      { name: "log-prefix", args: 1 },
      ...LOG_FLAGS.map(([name]) => ({ name, args: 0 as const })),
    ],
    option(opt, args) {
      once(seen, "LOG", opt);
      const a = args[0] ?? "";
      if (opt === "log-level") {
        const n = strtoui(a, 0, 7);
        const named = PRIORITY_NAMES.find(([k]) => k === a)?.[1];
        if (n === undefined && named === undefined) throw paramError(`log level "${a}" unknown\n`);
        level = n ?? named!;
      } else if (opt === "log-prefix") {
        if (a.includes("\n")) throw paramError("Newlines not allowed in --log-prefix");
        if (a.length > 29) throw paramError(`LOG: option "--log-prefix" is too long (max 29 chars).\n`);
        prefix = a;
      } else {
        flags |= LOG_FLAGS.find(([n]) => n === opt)![3];
      }
    },
    finish() {
      return new LogTarget(prefix, level, flags);
    },
  };
};

/* ------------------------------------------------------------------ TRACE */

/** `-j TRACE` (raw table): from here on, every rule the packet meets is logged. */
export class TraceTarget implements Target {
  readonly name = "TRACE";
  readonly table = "raw" as const;
  run(p: PacketContext): Verdict {
    p.meta.nfTrace = true;
    return "CONTINUE";
  }
  save(): string {
    return "";
  }
  print(): string {
    return "";
  }
}

const traceParser: TargetFactory = () => ({
  options: [],
  option() {},
  finish: () => new TraceTarget(),
});

/** The target extensions by `-j` name. */
export const TARGETS: Readonly<Record<string, TargetFactory>> = {
  REJECT: rejectParser,
  DNAT: natParser("DNAT"),
  SNAT: natParser("SNAT"),
  MASQUERADE: natParser("MASQUERADE"),
  REDIRECT: natParser("REDIRECT"),
  MARK: markParser,
  LOG: logParser,
  TRACE: traceParser,
};
