/**
 * Connection tracking (nf_conntrack): per namespace, a table of flows keyed
 * by their original and reply tuples. TCP is tracked through its states from
 * the flags seen both ways, UDP from unreplied to assured, ICMP echo by its
 * identifier; ICMP errors that quote a tracked flow are RELATED to it. Entries
 * time out on the emulated clock; a full table drops new flows and says so in
 * the kernel log, as Linux does.
 */
import { formatIpv4Addr, type Ipv4Addr } from "@kemu/wire";
import type { PacketMeta } from "../ipv4.ts";
import type { NetNs } from "../netns.ts";
import type { CtState } from "./rule.ts";

/** Status bit (enum ip_conntrack_status): a packet was seen in the reply direction. */
export const IPS_SEEN_REPLY = 1 << 1;
/** Status bit: the flow is assured (spared by early drop, `[ASSURED]`). */
export const IPS_ASSURED = 1 << 2;
/** Status bit: the entry is in the table. */
export const IPS_CONFIRMED = 1 << 3;
/** Status bit: the flow's source is translated. */
export const IPS_SRC_NAT = 1 << 4;
/** Status bit: the flow's destination is translated. */
export const IPS_DST_NAT = 1 << 5;
/** Status bit: source NAT has been decided (possibly as no change). */
export const IPS_SRC_NAT_DONE = 1 << 7;
/** Status bit: destination NAT has been decided (possibly as no change). */
export const IPS_DST_NAT_DONE = 1 << 8;

/**
 * A flow's identity in one direction. For ICMP, `sport` is the echo
 * identifier and `dport` is type << 8 | code, as the kernel keeps them.
 */
export interface Tuple {
  readonly proto: number;
  readonly src: Ipv4Addr;
  readonly dst: Ipv4Addr;
  readonly sport: number;
  readonly dport: number;
}

/** A hash key for a tuple. */
export function tupleKey(t: Tuple): string {
  return `${t.proto}:${t.src}:${t.sport}:${t.dst}:${t.dport}`;
}

/** ICMP query types and their answers. */
const ICMP_INVERSE: Readonly<Record<number, number>> = { 8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 17: 18, 18: 17 };

/** The same flow seen from the other end. */
export function invertTuple(t: Tuple): Tuple {
  if (t.proto === 1) {
    const type = t.dport >> 8;
    return { proto: 1, src: t.dst, dst: t.src, sport: t.sport, dport: ((ICMP_INVERSE[type] ?? type) << 8) | (t.dport & 255) };
  }
  return { proto: t.proto, src: t.dst, dst: t.src, sport: t.dport, dport: t.sport };
}

/** TCP conntrack states (enum tcp_conntrack). */
export const TCP_STATES = [
  "NONE",
  "SYN_SENT",
  "SYN_RECV",
  "ESTABLISHED",
  "FIN_WAIT",
  "CLOSE_WAIT",
  "LAST_ACK",
  "TIME_WAIT",
  "CLOSE",
  "SYN_SENT2",
] as const;

const sNO = 0,
  sSS = 1,
  sSR = 2,
  sES = 3,
  sFW = 4,
  sCW = 5,
  sLA = 6,
  sTW = 7,
  sCL = 8,
  sS2 = 9,
  sIV = 10,
  sIG = 11;

/** tcp_conntracks[dir][flag class][old state] (nf_conntrack_proto_tcp.c). */
const TCP_TABLE: ReadonlyArray<ReadonlyArray<readonly number[]>> = [
  [
    /* syn */ [sSS, sSS, sIG, sIG, sIG, sIG, sIG, sSS, sSS, sS2],
    /* synack */ [sIV, sIV, sSR, sIV, sIV, sIV, sIV, sIV, sIV, sSR],
    /* fin */ [sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV],
    /* ack */ [sES, sIV, sES, sES, sCW, sCW, sTW, sTW, sCL, sIV],
    /* rst */ [sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL],
    /* none */ [sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV],
  ],
  [
    /* syn */ [sIV, sS2, sIV, sIV, sIV, sIV, sIV, sSS, sIV, sS2],
    /* synack */ [sIV, sSR, sIG, sIG, sIG, sIG, sIG, sIG, sIG, sSR],
    /* fin */ [sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV],
    /* ack */ [sIV, sIG, sSR, sES, sCW, sCW, sTW, sTW, sCL, sIG],
    /* rst */ [sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL],
    /* none */ [sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV],
  ],
];

const TCP_TIMEOUT_KEYS = [
  "",
  "syn_sent",
  "syn_recv",
  "established",
  "fin_wait",
  "close_wait",
  "last_ack",
  "time_wait",
  "close",
  "syn_sent",
];

function tcpIndex(flags: number): number {
  if (flags & 0x04) return 4;
  if (flags & 0x02) return flags & 0x10 ? 1 : 0;
  if (flags & 0x01) return 2;
  if (flags & 0x10) return 3;
  return 5;
}

/** Flag combinations that are valid at all (tcp_valid_flags, ECE/CWR/PSH ignored). */
function tcpFlagsValid(flags: number): boolean {
  const f = flags & 0x37; // FIN SYN RST ACK URG
  return [0x02, 0x22, 0x12, 0x04, 0x14, 0x11, 0x31, 0x10, 0x30].includes(f);
}

/** One tracked flow. */
export class ConnEntry {
  status = 0;
  /** Emulated time (ms) it expires at. */
  expiresAt = 0;
  tcpState = sNO;
  mark = 0;
  /** For UDP: from when a replied flow counts as a stream (creation + 2 s). */
  streamAt = 0;
  /** The out device's index for MASQUERADEd flows (flushed with the device). */
  masqIndex = 0;

  constructor(
    readonly id: number,
    /** [original, reply]; the reply tuple changes when NAT is set up. */
    readonly tuples: [Tuple, Tuple],
  ) {}

  get proto(): number {
    return this.tuples[0].proto;
  }

  /** EXPECTED, SEEN_REPLY, ASSURED, CONFIRMED bits in that order (for `--ctstatus`). */
  get statusBits(): number {
    return this.status & 0x0f;
  }

  /** The TCP state name, for TCP flows. */
  get tcpStateName(): string {
    return TCP_STATES[this.tcpState] ?? "NONE";
  }
}

/** What travels in PacketMeta.nfct: the entry (none when INVALID), the direction, the state. */
export interface CtRef {
  readonly entry: ConnEntry | undefined;
  readonly dir: 0 | 1;
  readonly state: CtState;
}

const INVALID: CtRef = { entry: undefined, dir: 0, state: "INVALID" };

/** The packet fields conntrack needs. */
export interface CtPacket {
  readonly packet: Uint8Array;
  readonly src: Ipv4Addr;
  readonly dst: Ipv4Addr;
  readonly proto: number;
  readonly fragment: boolean;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly tcpFlags: number;
  readonly icmpType: number;
  readonly icmpCode: number;
  readonly meta: PacketMeta;
}

/** ICMP types that are errors quoting another packet. */
function isIcmpError(type: number): boolean {
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

/** The tuple of a packet, or undefined when it cannot be tracked. */
export function packetTuple(p: CtPacket): Tuple | undefined {
  if (p.fragment) return undefined;
  switch (p.proto) {
    case 6:
    case 17:
    case 132:
    case 136:
      if (p.srcPort < 0) return undefined;
      return { proto: p.proto, src: p.src, dst: p.dst, sport: p.srcPort, dport: p.dstPort };
    case 1: {
      if (p.icmpType < 0) return undefined;
      const ihl = (p.packet[0]! & 15) * 4;
      const id = ((p.packet[ihl + 4] ?? 0) << 8) | (p.packet[ihl + 5] ?? 0);
      return { proto: 1, src: p.src, dst: p.dst, sport: id, dport: (p.icmpType << 8) | p.icmpCode };
    }
    default:
      return { proto: p.proto, src: p.src, dst: p.dst, sport: 0, dport: 0 };
  }
}

/** The tuple of the packet an ICMP error quotes (its IP header and first 8 bytes). */
export function quotedTuple(packet: Uint8Array): Tuple | undefined {
  const ihl = (packet[0]! & 15) * 4;
  const q = ihl + 8;
  if (packet.length < q + 20) return undefined;
  const qihl = (packet[q]! & 15) * 4;
  if (packet[q]! >> 4 !== 4 || qihl < 20 || packet.length < q + qihl + 8) return undefined;
  const rd = (o: number) => ((packet[o]! << 24) | (packet[o + 1]! << 16) | (packet[o + 2]! << 8) | packet[o + 3]!) >>> 0;
  const proto = packet[q + 9]!;
  const src = rd(q + 12);
  const dst = rd(q + 16);
  const l4 = q + qihl;
  const u16 = (o: number) => (packet[o]! << 8) | packet[o + 1]!;
  switch (proto) {
    case 6:
    case 17:
    case 132:
    case 136:
      return { proto, src, dst, sport: u16(l4), dport: u16(l4 + 2) };
    case 1:
      return { proto, src, dst, sport: u16(l4 + 4), dport: (packet[l4]! << 8) | packet[l4 + 1]! };
    default:
      return { proto, src, dst, sport: 0, dport: 0 };
  }
}

/** The connection-tracking table of one namespace. */
export class Conntrack {
  readonly #byTuple = new Map<string, { entry: ConnEntry; dir: 0 | 1 }>();
  readonly #entries = new Set<ConnEntry>();
  #nextId = 1;
  #logWindow = -Infinity;
  #logCount = 0;
  #logMissed = 0;

  constructor(private readonly ns: NetNs) {}

  /** Live entries in the order they were confirmed. */
  entries(): ConnEntry[] {
    const now = this.#now();
    for (const e of this.#entries) if (e.expiresAt <= now) this.delete(e);
    return [...this.#entries];
  }

  /** Number of live entries (nf_conntrack_count). */
  get count(): number {
    return this.entries().length;
  }

  /** Removes one entry. */
  delete(e: ConnEntry): void {
    if (!this.#entries.delete(e)) return;
    for (const dir of [0, 1] as const) {
      const key = tupleKey(e.tuples[dir]);
      if (this.#byTuple.get(key)?.entry === e) this.#byTuple.delete(key);
    }
  }

  /** `conntrack -F`: removes every entry; returns how many there were. */
  flush(): number {
    const n = this.#entries.size;
    this.#entries.clear();
    this.#byTuple.clear();
    return n;
  }

  /** The entry and direction a tuple belongs to (expired entries are dropped). */
  find(t: Tuple): { entry: ConnEntry; dir: 0 | 1 } | undefined {
    const hit = this.#byTuple.get(tupleKey(t));
    if (hit === undefined) return undefined;
    if (hit.entry.expiresAt <= this.#now()) {
      this.delete(hit.entry);
      return undefined;
    }
    return hit;
  }

  /** Whether another flow already uses `t` in either direction (nf_conntrack_tuple_taken). */
  tupleTaken(t: Tuple, ignore: ConnEntry): boolean {
    const hit = this.find(t);
    return hit !== undefined && hit.entry !== ignore;
  }

  #now(): number {
    return this.ns.kernel.clock.now();
  }

  #timeout(name: string): number {
    return this.ns.sysctl.num(`net.netfilter.nf_conntrack_${name}`) * 1000;
  }

  /**
   * nf_conntrack_in: attaches the packet's flow to `meta.nfct`, creating an
   * unconfirmed entry for a new one. Returns false when the packet must be
   * dropped (table full).
   */
  in(p: CtPacket, options: { update?: boolean } = {}): boolean {
    const meta = p.meta;
    if (meta.nfct !== undefined) return true;
    if (p.proto === 1 && p.icmpType >= 0 && isIcmpError(p.icmpType)) {
      meta.nfct = this.#related(p);
      return true;
    }
    const t = packetTuple(p);
    if (t === undefined) {
      meta.nfct = INVALID;
      return true;
    }
    const now = this.#now();
    const hit = this.find(t);
    if (hit !== undefined) {
      const { entry, dir } = hit;
      if (options.update !== false) {
        const r = this.#update(entry, dir, p, now);
        if (r === "invalid") {
          meta.nfct = INVALID;
          return true;
        }
        if (r === "reopen") {
          this.delete(entry);
          return this.in(p, options);
        }
      }
      if (dir === 1) entry.status |= IPS_SEEN_REPLY;
      const state: CtState = dir === 1 || (entry.status & IPS_SEEN_REPLY) !== 0 ? "ESTABLISHED" : "NEW";
      meta.nfct = { entry, dir, state } satisfies CtRef;
      return true;
    }
    // A new flow.
    if (!this.#canStart(p)) {
      meta.nfct = INVALID;
      return true;
    }
    const max = this.ns.sysctl.num("net.netfilter.nf_conntrack_max");
    if (max > 0 && this.#entries.size >= max && !this.#earlyDrop()) {
      this.#tableFull();
      return false;
    }
    const entry = new ConnEntry(this.#nextId++, [t, invertTuple(t)]);
    entry.streamAt = now + 2000;
    if (p.proto === 6) entry.tcpState = (p.tcpFlags & 0x12) === 0x02 ? sSS : sES;
    this.#refresh(entry, 0, p, now);
    meta.nfct = { entry, dir: 0, state: "NEW" } satisfies CtRef;
    return true;
  }

  /** nf_conntrack_confirm: a new flow whose first packet got through enters the table. */
  confirm(meta: PacketMeta): boolean {
    const ref = meta.nfct as CtRef | undefined;
    const e = ref?.entry;
    if (e === undefined || (e.status & IPS_CONFIRMED) !== 0) return true;
    const k0 = tupleKey(e.tuples[0]);
    const k1 = tupleKey(e.tuples[1]);
    const clash = this.#byTuple.get(k0) ?? this.#byTuple.get(k1);
    if (clash !== undefined && clash.entry.expiresAt > this.#now()) return false;
    e.status |= IPS_CONFIRMED;
    this.#entries.add(e);
    this.#byTuple.set(k0, { entry: e, dir: 0 });
    this.#byTuple.set(k1, { entry: e, dir: 1 });
    return true;
  }

  /** Whether the first packet of a flow may create an entry. */
  #canStart(p: CtPacket): boolean {
    if (p.proto === 6) {
      if (!tcpFlagsValid(p.tcpFlags)) return false;
      const next = TCP_TABLE[0]![tcpIndex(p.tcpFlags)]![sNO]!;
      if (next >= sIV) return false;
      if (next !== sSS && !this.ns.sysctl.on("net.netfilter.nf_conntrack_tcp_loose")) return false;
      return true;
    }
    if (p.proto === 1) return [8, 13, 15, 17].includes(p.icmpType);
    return true;
  }

  /** Per-protocol state update of a known flow. */
  #update(e: ConnEntry, dir: 0 | 1, p: CtPacket, now: number): "ok" | "invalid" | "reopen" {
    if (p.proto === 6) {
      if (!tcpFlagsValid(p.tcpFlags)) return "invalid";
      const index = tcpIndex(p.tcpFlags);
      const old = e.tcpState;
      const next = TCP_TABLE[dir]![index]![old]!;
      if (next === sSS && dir === 0 && old >= sTW) return "reopen";
      if (next === sIV) return "invalid";
      if (next === sIG) {
        this.#refresh(e, dir, p, now);
        return "ok";
      }
      e.tcpState = next;
      if ((old === sSR || old === sES) && next === sES) e.status |= IPS_ASSURED;
    }
    this.#refresh(e, dir, p, now);
    return "ok";
  }

  /** Sets the entry's timeout for the packet just seen. */
  #refresh(e: ConnEntry, dir: 0 | 1, p: CtPacket, now: number): void {
    let timeout: number;
    switch (p.proto) {
      case 6:
        timeout = this.#timeout(`tcp_timeout_${TCP_TIMEOUT_KEYS[e.tcpState] || "established"}`);
        break;
      case 17:
      case 136: {
        const replied = (e.status & IPS_SEEN_REPLY) !== 0 || dir === 1;
        timeout = this.#timeout("udp_timeout");
        if (replied && now > e.streamAt) {
          timeout = this.#timeout("udp_timeout_stream");
          e.status |= IPS_ASSURED;
        }
        break;
      }
      case 1:
        timeout = this.#timeout("icmp_timeout");
        break;
      default:
        timeout = this.#timeout("generic_timeout");
    }
    e.expiresAt = now + timeout;
  }

  /** An ICMP error: RELATED to the flow whose packet it quotes, else INVALID. */
  #related(p: CtPacket): CtRef {
    const orig = quotedTuple(p.packet);
    if (orig === undefined) return INVALID;
    const hit = this.find(invertTuple(orig));
    if (hit === undefined) return INVALID;
    // The error travels against the quoted packet: the other direction.
    return { entry: hit.entry, dir: hit.dir, state: "RELATED" };
  }

  /** early_drop: makes room by evicting the oldest flow that is not assured. */
  #earlyDrop(): boolean {
    const now = this.#now();
    for (const e of this.#entries) {
      if (e.expiresAt <= now) {
        this.delete(e);
        return true;
      }
    }
    for (const e of this.#entries) {
      if ((e.status & IPS_ASSURED) === 0) {
        this.delete(e);
        return true;
      }
    }
    return false;
  }

  /** net_warn_ratelimited: 10 messages per 5 s, then a count of the suppressed ones. */
  #tableFull(): void {
    const now = this.#now();
    const kernel = this.ns.kernel;
    if (now - this.#logWindow >= 5000) {
      if (this.#logMissed > 0) kernel.printk(`net_ratelimit: ${this.#logMissed} callbacks suppressed`);
      this.#logWindow = now;
      this.#logCount = 0;
      this.#logMissed = 0;
    }
    if (this.#logCount < 10) {
      this.#logCount++;
      kernel.printk("nf_conntrack: table full, dropping packet");
    } else {
      this.#logMissed++;
    }
  }

  /**
   * One line of `conntrack -L`, e.g. `tcp      6 431999 ESTABLISHED src=…
   * dst=… sport=… dport=… src=… … [ASSURED] mark=0 use=1`.
   */
  format(e: ConnEntry): string {
    const [o, r] = e.tuples;
    const names: Record<number, string> = { 6: "tcp", 17: "udp", 1: "icmp", 132: "sctp", 136: "udplite", 47: "gre", 33: "dccp" };
    const name = names[o.proto] ?? "unknown";
    const left = Math.max(0, Math.ceil((e.expiresAt - this.#now()) / 1000) - 1);
    let s = `${name.padEnd(8)} ${o.proto} ${left}`;
    if (o.proto === 6) s += ` ${e.tcpStateName}`;
    s += ` ${formatTuple(o)}`;
    if ((e.status & IPS_SEEN_REPLY) === 0) s += " [UNREPLIED]";
    s += ` ${formatTuple(r)}`;
    if (e.status & IPS_ASSURED) s += " [ASSURED]";
    return `${s} mark=${e.mark} use=1`;
  }
}

/** `src=… dst=… sport=… dport=…` (or `type= code= id=` for ICMP). */
export function formatTuple(t: Tuple): string {
  const base = `src=${formatIpv4Addr(t.src)} dst=${formatIpv4Addr(t.dst)}`;
  switch (t.proto) {
    case 6:
    case 17:
    case 132:
    case 136:
      return `${base} sport=${t.sport} dport=${t.dport}`;
    case 1:
      return `${base} type=${t.dport >> 8} code=${t.dport & 255} id=${t.sport}`;
    default:
      return base;
  }
}
