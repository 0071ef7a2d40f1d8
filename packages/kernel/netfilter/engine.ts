/**
 * The rule engine of one namespace, installed as its PacketHooks: at each
 * hook it runs the tables in the kernel's priority order (raw, conntrack,
 * mangle, nat, filter, nat, confirm), walks chains with jumps, gotos and
 * returns, counts packets and bytes, applies NAT through conntrack and logs
 * TRACE lines. A namespace where nothing was ever written skips it all.
 */
import type { Clock } from "../clock.ts";
import type { NetDevice } from "../device.ts";
import type { Hook, PacketHooks, PacketMeta } from "../ipv4.ts";
import type { NetNs } from "../netns.ts";
import type { Rng } from "../random.ts";
import { Conntrack, type CtRef, invertTuple, IPS_DST_NAT, IPS_SRC_NAT } from "./conntrack.ts";
import type { NetfilterServices } from "./extension.ts";
import { IpSets } from "./ipset.ts";
import { Ipvs } from "./ipvs.ts";
import { formatPacketLog } from "./log.ts";
import { icmpReplyTranslation, type Manip, type NatRange, natInitialized, natPacket, nullRange, setupNat } from "./nat.ts";
import { RecentTables } from "./recent.ts";
import type { CtState, Rule, TableName, Verdict } from "./rule.ts";
import { BUILTIN_CHAINS, type Chain, HOOK_ORDER, Table, TABLE_ORDER } from "./table.ts";
import type { NatContext } from "./targets.ts";
import { nextCandidate } from "./compile.ts";

const netfilters = new WeakMap<NetNs, Netfilter>();

/**
 * The netfilter state of a namespace, created on first use and installed as
 * its IPv4 hooks.
 */
export function netfilterOf(ns: NetNs): Netfilter {
  let nf = netfilters.get(ns);
  if (nf === undefined) {
    nf = new Netfilter(ns);
    netfilters.set(ns, nf);
    ns.ipv4.hooks = nf;
    const engine = nf;
    ns.sysctl.compute("net.netfilter.nf_conntrack_count", () => String(engine.conntrack.count));
  }
  return nf;
}

/** A chain where a rule sits in a way the kernel refuses. */
export interface TableProblem {
  readonly chain: string;
  readonly errno: "EINVAL" | "ELOOP";
}

/** One packet at one hook: what matches and targets see. */
class Pkt implements NatContext {
  table: TableName = "filter";
  src = 0;
  dst = 0;
  proto = 0;
  ttl = 0;
  fragment = false;
  srcPort = -1;
  dstPort = -1;
  tcpFlags = -1;
  icmpType = -1;
  icmpCode = -1;

  constructor(
    readonly nf: Netfilter,
    readonly hook: Hook,
    public packet: Uint8Array,
    readonly inDev: NetDevice | undefined,
    readonly outDev: NetDevice | undefined,
    readonly meta: PacketMeta,
  ) {
    this.refresh();
  }

  get ns(): NetNs {
    return this.nf.ns;
  }

  refresh(): void {
    const b = this.packet;
    this.src = ((b[12]! << 24) | (b[13]! << 16) | (b[14]! << 8) | b[15]!) >>> 0;
    this.dst = ((b[16]! << 24) | (b[17]! << 16) | (b[18]! << 8) | b[19]!) >>> 0;
    this.proto = b[9]!;
    this.ttl = b[8]!;
    this.fragment = (((b[6]! << 8) | b[7]!) & 0x1fff) !== 0;
    this.srcPort = this.dstPort = this.tcpFlags = this.icmpType = this.icmpCode = -1;
    if (this.fragment) return;
    const l4 = (b[0]! & 15) * 4;
    switch (this.proto) {
      case 6:
      case 17:
      case 132:
      case 136:
        if (b.length >= l4 + 4) {
          this.srcPort = (b[l4]! << 8) | b[l4 + 1]!;
          this.dstPort = (b[l4 + 2]! << 8) | b[l4 + 3]!;
        }
        if (this.proto === 6 && b.length >= l4 + 14) this.tcpFlags = b[l4 + 13]!;
        break;
      case 1:
        if (b.length >= l4 + 2) {
          this.icmpType = b[l4]!;
          this.icmpCode = b[l4 + 1]!;
        }
        break;
    }
  }

  get ct(): CtRef | undefined {
    return this.meta.nfct as CtRef | undefined;
  }

  get ctState(): CtState {
    return this.ct?.state ?? "INVALID";
  }

  get ctSnat(): boolean {
    return ((this.ct?.entry?.status ?? 0) & IPS_SRC_NAT) !== 0;
  }

  get ctDnat(): boolean {
    return ((this.ct?.entry?.status ?? 0) & IPS_DST_NAT) !== 0;
  }

  setupNat(range: NatRange, options: { masqueradeDev?: NetDevice } = {}): Verdict {
    const e = this.ct?.entry;
    if (e === undefined) return "DROP";
    setupNat(this.nf.conntrack, e, range, manipOf(this.hook), this.nf.rng);
    if (options.masqueradeDev) e.masqIndex = options.masqueradeDev.ifindex;
    return "ACCEPT";
  }
}

function manipOf(hook: Hook): Manip {
  return hook === "PREROUTING" || hook === "OUTPUT" ? "dst" : "src";
}

/** Netfilter of one namespace: its tables, conntrack, ipsets and recent lists. */
export class Netfilter implements PacketHooks, NetfilterServices {
  readonly conntrack: Conntrack;
  readonly ipsets: IpSets;
  readonly recent = new RecentTables();
  readonly #ipvs: Ipvs;
  readonly #tables = new Map<TableName, Table>();
  /** Meta of packets looped back to this namespace, so they keep their flow (the skb does in Linux). */
  readonly #loopback = new Map<string, PacketMeta>();
  #active = false;

  constructor(readonly ns: NetNs) {
    this.conntrack = new Conntrack(ns);
    this.ipsets = new IpSets(ns.kernel.clock, ns.kernel.rng);
    this.#ipvs = new Ipvs(ns);
    this.#ipvs.setEntrySource(() => this.conntrack.entries());
  }

  /** The namespace's IP Virtual Server table; using it turns the hooks on (IPVS needs conntrack here). */
  get ipvs(): Ipvs {
    this.#active = true;
    return this.#ipvs;
  }

  get rng(): Rng {
    return this.ns.kernel.rng;
  }

  get clock(): Clock {
    return this.ns.kernel.clock;
  }

  log(text: string): void {
    this.ns.kernel.printk(text);
  }

  /** Whether any table was ever written (else every hook is a no-op). */
  get active(): boolean {
    return this.#active;
  }

  /** The table if it exists. */
  table(name: TableName): Table | undefined {
    return this.#tables.get(name);
  }

  /** The tables that exist, in `iptables-save` order. */
  tables(): Table[] {
    return TABLE_ORDER.map((n) => this.#tables.get(n)).filter((t): t is Table => t !== undefined);
  }

  /** A working copy of a table for a transaction (a fresh table when it does not exist yet). */
  begin(name: TableName): Table {
    return this.#tables.get(name)?.clone() ?? new Table(name);
  }

  /**
   * Checks a table as the kernel would on commit: targets only in their
   * table and at their hooks (through every chain that reaches them), no
   * jump loops.
   */
  validate(table: Table): TableProblem | undefined {
    // The hooks (bit per HOOK_ORDER index) each chain was walked from.
    const hooksOf = new Map<Chain, number>();
    const path = new Set<Chain>();
    const visit = (chain: Chain, hook: Hook, bit: number): TableProblem | undefined => {
      if (path.has(chain)) return { chain: chain.name, errno: "ELOOP" };
      const hooks = hooksOf.get(chain) ?? 0;
      if ((hooks & bit) !== 0) return undefined;
      hooksOf.set(chain, hooks | bit);
      path.add(chain);
      for (const rule of chain.rules) {
        const a = rule.action;
        if (a.kind === "target") {
          const t = a.target;
          if ((t.table !== undefined && t.table !== table.name) || (t.hooks !== undefined && !t.hooks.includes(hook))) {
            return { chain: chain.name, errno: "EINVAL" };
          }
          const needs = t.requiresProto;
          if (needs !== undefined && (rule.ip.proto !== needs || rule.ip.invProto)) return { chain: chain.name, errno: "EINVAL" };
        } else if (a.kind === "jump") {
          const next = table.chain(a.chain);
          if (next !== undefined) {
            const problem = visit(next, hook, bit);
            if (problem) return problem;
          }
        }
      }
      path.delete(chain);
      return undefined;
    };
    for (const hook of BUILTIN_CHAINS[table.name]) {
      const chain = table.chain(hook);
      if (chain === undefined) continue;
      const problem = visit(chain, hook, 1 << HOOK_ORDER.indexOf(hook));
      if (problem) return problem;
    }
    // Jump loops are refused wherever they are (nf_tables_check_loops). The
    // chains walked above, and all they reach, are known to be free of them.
    const state = new Map<Chain, 1 | 2>();
    for (const c of hooksOf.keys()) state.set(c, 2);
    const dfs = (chain: Chain): TableProblem | undefined => {
      state.set(chain, 1);
      for (const rule of chain.rules) {
        if (rule.action.kind !== "jump") continue;
        const next = table.chain(rule.action.chain);
        if (next === undefined) continue;
        const s = state.get(next);
        if (s === 1) return { chain: chain.name, errno: "ELOOP" };
        if (s === undefined) {
          const problem = dfs(next);
          if (problem) return problem;
        }
      }
      state.set(chain, 2);
      return undefined;
    };
    for (const chain of table.chains.values()) {
      if (state.has(chain)) continue;
      const problem = dfs(chain);
      if (problem) return problem;
    }
    // Targets tied to a table are refused there even in chains no hook reaches (those it reaches were checked above).
    for (const chain of table.chains.values()) {
      if (hooksOf.has(chain)) continue;
      for (const rule of chain.rules) {
        const t = rule.action.kind === "target" ? rule.action.target : undefined;
        if (t?.table !== undefined && t.table !== table.name) return { chain: chain.name, errno: "EINVAL" };
      }
    }
    return undefined;
  }

  /** Makes a transaction's table the live one; rules that left release what they held. */
  commit(table: Table): void {
    const old = this.#tables.get(table.name);
    const kept = new Set<Rule>();
    for (const c of table.chains.values()) for (const r of c.rules) kept.add(r);
    if (old) for (const c of old.chains.values()) for (const r of c.rules) if (!kept.has(r)) releaseRule(r);
    this.#tables.set(table.name, table);
    this.#active = true;
  }

  /** Drops a transaction's table: rules it made release what they acquired. */
  abort(table: Table): void {
    const live = new Set<Rule>();
    const old = this.#tables.get(table.name);
    if (old) for (const c of old.chains.values()) for (const r of c.rules) live.add(r);
    for (const c of table.chains.values()) for (const r of c.rules) if (!live.has(r)) releaseRule(r);
  }

  run(hook: Hook, packet: Uint8Array, inDev: NetDevice | undefined, outDev: NetDevice | undefined, meta: PacketMeta): Uint8Array | undefined {
    if (!this.#active) return packet;
    const p = new Pkt(this, hook, packet, inDev, outDev, meta);
    switch (hook) {
      case "PREROUTING":
        if (inDev?.kind === "loopback") this.#fromLoopback(p);
        if (!this.#step(p, "raw")) return undefined;
        if (!this.conntrack.in(p)) return undefined;
        if (!this.#step(p, "mangle")) return undefined;
        if (!this.#nat(p, "dst")) return undefined;
        break;
      case "INPUT":
        if (!this.#step(p, "mangle") || !this.#step(p, "filter") || !this.#step(p, "security")) return undefined;
        if (!this.#nat(p, "src")) return undefined;
        if (!this.conntrack.confirm(meta)) return undefined;
        break;
      case "FORWARD":
        if (!this.#step(p, "mangle") || !this.#step(p, "filter") || !this.#step(p, "security")) return undefined;
        break;
      case "OUTPUT":
        if (!this.#step(p, "raw")) return undefined;
        if (!this.conntrack.in(p)) return undefined;
        if (!this.#step(p, "mangle")) return undefined;
        if (!this.#nat(p, "dst")) return undefined;
        if (!this.#step(p, "filter") || !this.#step(p, "security")) return undefined;
        break;
      case "POSTROUTING":
        if (!this.#step(p, "mangle")) return undefined;
        if (!this.#nat(p, "src")) return undefined;
        if (!this.conntrack.confirm(meta)) return undefined;
        if (outDev?.kind === "loopback") this.#toLoopback(p);
        break;
    }
    return p.packet;
  }

  #loopKey(p: Pkt): string {
    const b = p.packet;
    return `${p.src}|${p.dst}|${(b[4]! << 8) | b[5]!}|${p.proto}|${p.srcPort}|${p.dstPort}|${p.icmpType}`;
  }

  #toLoopback(p: Pkt): void {
    if (this.#loopback.size >= 256) {
      const first = this.#loopback.keys().next();
      if (!first.done) this.#loopback.delete(first.value);
    }
    this.#loopback.set(this.#loopKey(p), { ...p.meta });
  }

  #fromLoopback(p: Pkt): void {
    const key = this.#loopKey(p);
    const saved = this.#loopback.get(key);
    if (saved === undefined) return;
    this.#loopback.delete(key);
    p.meta.mark = saved.mark;
    p.meta.nfct = saved.nfct;
    if (saved.nfTrace) p.meta.nfTrace = true;
  }

  /** Runs one table's chain for the hook; false when the packet is dropped or stolen. */
  #step(p: Pkt, name: TableName): boolean {
    const table = this.#tables.get(name);
    if (table === undefined) return true;
    const chain = table.chain(p.hook);
    if (chain === undefined) return true;
    p.table = name;
    return this.#traverse(table, chain, p) === "ACCEPT";
  }

  /** The NAT hook: decides the binding on a flow's first packet, then rewrites every packet as bound. */
  #nat(p: Pkt, manip: Manip): boolean {
    const table = this.#tables.get("nat");
    if (table === undefined && this.#ipvs.empty) return true;
    const ref = p.ct;
    const e = ref?.entry;
    if (ref === undefined || e === undefined) return true;
    if (ref.state === "RELATED" && p.proto === 1) {
      const out = icmpReplyTranslation(p.packet, e, ref.dir, manip);
      if (out !== p.packet) {
        p.packet = out;
        p.refresh();
      }
      return true;
    }
    if ((ref.state === "NEW" || ref.state === "RELATED") && !natInitialized(e, manip)) {
      const chain = table?.chain(p.hook);
      if (chain !== undefined) {
        p.table = "nat";
        if (this.#traverse(table!, chain, p) === "DROP") return false;
      }
      // A new flow to a virtual service: IPVS picks its real server (see ipvs.ts).
      if (manip === "dst" && ref.state === "NEW" && !natInitialized(e, manip) && (p.proto === 6 || p.proto === 17)) {
        const picked = this.#ipvs.schedule(p.proto, p.src, p.dst, p.dstPort);
        if (picked !== undefined) {
          const d = picked.dest;
          setupNat(this.conntrack, e, { mapIps: true, minIp: d.addr, maxIp: d.addr, protoSpecified: true, minPort: d.port, maxPort: d.port, random: false, randomFully: false, persistent: false }, "dst", this.rng);
          this.#ipvs.bind(e, picked.service, d);
        }
      }
      if (!natInitialized(e, manip)) {
        const cur = invertTuple(e.tuples[1]);
        setupNat(this.conntrack, e, nullRange(manip === "src" ? cur.src : cur.dst), manip, this.rng);
      }
    }
    if (manip === "dst" && !this.#ipvs.empty) this.#ipvs.touch(e);
    const out = natPacket(p.packet, e, ref.dir, manip);
    if (out !== p.packet) {
      p.packet = out;
      p.refresh();
    }
    return true;
  }

  /** ipt_do_table: walks a built-in chain and the user chains it jumps to. */
  #traverse(table: Table, start: Chain, p: Pkt): Verdict {
    const stack: Array<{ chain: Chain; next: number }> = [];
    let chain = start;
    let i = 0;
    for (;;) {
      // Skip rules that cannot match this destination (compile.ts): same walk, fewer steps.
      if (i < chain.rules.length) i = nextCandidate(chain.rules, i, p.dst);
      if (i < chain.rules.length) {
        const rule = chain.rules[i]!;
        i++;
        if (!rule.ipMatches(p)) continue;
        let ok = true;
        for (const m of rule.matches) {
          if (!m.matches(p)) {
            ok = false;
            break;
          }
        }
        if (!ok) continue;
        rule.counters.packets++;
        rule.counters.bytes += p.packet.length;
        if (p.meta.nfTrace) this.#trace(p, chain.name, "rule", i);
        const a = rule.action;
        switch (a.kind) {
          case "none":
            continue;
          case "verdict":
            if (a.verdict === "RETURN") {
              const back = stack.pop();
              if (back === undefined) return this.#policy(p, start);
              chain = back.chain;
              i = back.next;
              continue;
            }
            return a.verdict;
          case "jump": {
            const next = table.chain(a.chain);
            if (next === undefined) continue;
            if (stack.length >= 64) return "DROP";
            if (!a.goto) stack.push({ chain, next: i });
            chain = next;
            i = 0;
            continue;
          }
          case "target": {
            const v = a.target.run(p);
            if (v === "CONTINUE") continue;
            if (v === "RETURN") {
              const back = stack.pop();
              if (back === undefined) return this.#policy(p, start);
              chain = back.chain;
              i = back.next;
              continue;
            }
            return v;
          }
        }
      }
      // The end of a chain: a built-in chain's policy, a user chain's implicit return.
      if (chain === start && stack.length === 0) return this.#policy(p, start);
      if (p.meta.nfTrace) this.#trace(p, chain.name, "return", chain.rules.length + 1);
      const back = stack.pop();
      if (back === undefined) return this.#policy(p, start);
      chain = back.chain;
      i = back.next;
    }
  }

  #policy(p: Pkt, chain: Chain): Verdict {
    chain.counters.packets++;
    chain.counters.bytes += p.packet.length;
    if (p.meta.nfTrace) this.#trace(p, chain.name, "policy", chain.rules.length + 1);
    return chain.policy;
  }

  /** The kernel's TRACE line: `TRACE: table:chain:rule|return|policy:N` and the packet. */
  #trace(p: Pkt, chain: string, kind: "rule" | "return" | "policy", num: number): void {
    this.ns.kernel.printk(formatPacketLog(p, `TRACE: ${p.table}:${chain}:${kind}:${num} `, { tcpSeq: true, tcpOpt: true }));
  }
}

function releaseRule(r: Rule): void {
  for (const m of r.matches) m.release?.();
}
