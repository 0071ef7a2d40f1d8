/**
 * IP sets (the ipset kernel module): named sets of addresses, address,port
 * pairs and ports that `-m set --match-set` tests packets against. The types
 * kube-proxy and Docker use are modelled: hash:ip, hash:net, hash:ip,port,
 * hash:ip,port,ip, hash:ip,port,net and bitmap:port.
 */
import type { Clock } from "../clock.ts";
import type { Rng } from "../random.ts";
import { maskOf, ntoa, numericToIpaddr, strtoui } from "./_xtables.ts";

/** The set types kemu models. */
export type IpSetType = "hash:ip" | "hash:net" | "hash:ip,port" | "hash:ip,port,ip" | "hash:ip,port,net" | "bitmap:port";

const TYPES: readonly IpSetType[] = ["hash:ip", "hash:net", "hash:ip,port", "hash:ip,port,ip", "hash:ip,port,net", "bitmap:port"];

/** Revision numbers `ipset list` shows (ipset 7.17 with a 6.x kernel). */
const REVISION: Record<IpSetType, number> = {
  "hash:ip": 6,
  "hash:net": 7,
  "hash:ip,port": 7,
  "hash:ip,port,ip": 6,
  "hash:ip,port,net": 8,
  "bitmap:port": 3,
};

/** An ipset error in ipset's own words (printed as `ipset v7.17: <text>`). */
export class IpSetError extends Error {
  override readonly name = "IpSetError";
}

/** The kinds of one dimension of a set's elements. */
type Dim = "ip" | "port" | "net" | "bport";

const DIMS: Record<IpSetType, readonly Dim[]> = {
  "hash:ip": ["ip"],
  "hash:net": ["net"],
  "hash:ip,port": ["ip", "port"],
  "hash:ip,port,ip": ["ip", "port", "ip"],
  "hash:ip,port,net": ["ip", "port", "net"],
  "bitmap:port": ["bport"],
};

/** One part of an element: an address, a prefix, or a protocol and port. */
type Part = { kind: "ip"; addr: number } | { kind: "net"; addr: number; len: number } | { kind: "port"; proto: number; port: number };

/** One member of a set. */
export interface IpSetEntry {
  readonly parts: readonly Part[];
  readonly text: string;
  comment: string | undefined;
  /** Emulated time (ms) it expires at, when the set has timeouts. */
  expiresAt: number | undefined;
}

/** Options given to `ipset create`. */
export interface IpSetOptions {
  hashsize: number;
  maxelem: number;
  timeout: number | undefined;
  comment: boolean;
  counters: boolean;
  /** bitmap:port: the port range. */
  range: [number, number] | undefined;
}

const PROTO_NAMES: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, sctp: 132, udplite: 136 };

function protoName(n: number): string {
  for (const [k, v] of Object.entries(PROTO_NAMES)) if (v === n) return k;
  return String(n);
}

/** One set. */
export class IpSet {
  readonly entries = new Map<string, IpSetEntry>();
  /** How many rules use it (`References:`). */
  references = 0;

  constructor(
    public name: string,
    readonly type: IpSetType,
    readonly options: IpSetOptions,
    readonly initval: number,
    private readonly clock: Clock,
  ) {}

  /** How many members it has (expired ones dropped). */
  get size(): number {
    this.#expire();
    return this.entries.size;
  }

  /** Parses an element the way `ipset add` takes it, one element per range member. */
  parseElement(text: string): IpSetEntry[] {
    const dims = DIMS[this.type];
    const fields = text.split(",");
    if (fields.length < dims.length) {
      const ord = ["First", "Second", "Third"][fields.length] ?? "An";
      throw new IpSetError(`Syntax error: ${ord} element is missing from ${text}.`);
    }
    if (fields.length > dims.length) throw new IpSetError(`Syntax error: Elem separator in ${text}, but settype ${this.type} supports none.`);
    let combos: Part[][] = [[]];
    for (let i = 0; i < dims.length; i++) {
      const options = this.#parsePart(dims[i]!, fields[i]!);
      const next: Part[][] = [];
      for (const c of combos) for (const o of options) next.push([...c, o]);
      combos = next;
    }
    return combos.map((parts) => ({ parts, text: formatParts(parts), comment: undefined, expiresAt: undefined }));
  }

  #parsePart(dim: Dim, text: string): Part[] {
    switch (dim) {
      case "ip": {
        const dash = text.indexOf("-");
        const slash = text.indexOf("/");
        if (slash >= 0) {
          const net = parseNet(text);
          const count = 2 ** (32 - net.len);
          if (count > 65536) throw new IpSetError("Hash is full, cannot add more elements");
          return Array.from({ length: count }, (_, k) => ({ kind: "ip" as const, addr: (net.addr + k) >>> 0 }));
        }
        if (dash >= 0) {
          const a = parseAddr(text.slice(0, dash));
          const b = parseAddr(text.slice(dash + 1));
          if (b < a || b - a >= 65536) throw new IpSetError("Syntax error: range is invalid");
          return Array.from({ length: b - a + 1 }, (_, k) => ({ kind: "ip" as const, addr: a + k }));
        }
        return [{ kind: "ip", addr: parseAddr(text) }];
      }
      case "net": {
        const n = parseNet(text);
        return [{ kind: "net", addr: n.addr, len: n.len }];
      }
      case "port": {
        let proto = 6;
        let portText = text;
        const colon = text.indexOf(":");
        if (colon >= 0) {
          const name = text.slice(0, colon);
          const p = PROTO_NAMES[name];
          if (p === undefined) throw new IpSetError(`Syntax error: cannot parse '${name}' as a protocol`);
          proto = p;
          portText = text.slice(colon + 1);
        }
        if (proto === 1) {
          const m = /^(\d+)\/(\d+)$/.exec(portText);
          if (!m) throw new IpSetError(`Cannot parse ${portText} as an ICMP type/code.`);
          return [{ kind: "port", proto, port: (Number(m[1]) << 8) | Number(m[2]) }];
        }
        return portRange(portText).map((port) => ({ kind: "port" as const, proto, port }));
      }
      case "bport": {
        const ports = portRange(text);
        const range = this.options.range ?? [0, 65535];
        for (const p of ports) {
          if (p < range[0] || p > range[1]) throw new IpSetError("Element is out of the range of the set");
        }
        return ports.map((port) => ({ kind: "port" as const, proto: 0, port }));
      }
    }
  }

  /** `ipset add`: throws when present unless `exist`. */
  add(text: string, opts: { exist?: boolean; timeout?: number; comment?: string } = {}): void {
    this.#expire();
    const now = this.clock.now();
    const items = this.parseElement(text);
    if (!opts.exist && items.some((e) => this.entries.has(e.text))) {
      throw new IpSetError("Element cannot be added to the set: it's already added");
    }
    if (this.entries.size + items.length > this.options.maxelem) throw new IpSetError("Hash is full, cannot add more elements");
    const timeout = opts.timeout ?? this.options.timeout;
    for (const e of items) {
      e.comment = opts.comment;
      e.expiresAt = timeout !== undefined && timeout > 0 ? now + timeout * 1000 : undefined;
      this.entries.set(e.text, e);
    }
  }

  /** `ipset del`: throws when absent unless `exist`. */
  del(text: string, opts: { exist?: boolean } = {}): void {
    this.#expire();
    const items = this.parseElement(text);
    if (!opts.exist && items.some((e) => !this.entries.has(e.text))) {
      throw new IpSetError("Element cannot be deleted from the set: it's not added");
    }
    for (const e of items) this.entries.delete(e.text);
  }

  /** `ipset test`: whether every element of `text` is a member (nets match by containment). */
  test(text: string): boolean {
    return this.parseElement(text).every((e) => this.#contains(e.parts));
  }

  /** `ipset flush`. */
  flush(): void {
    this.entries.clear();
  }

  /**
   * Whether a packet's fields, taken per dimension from its source or
   * destination as `dirs` says, form a member (the set match).
   */
  matchPacket(fields: PacketFields, dirs: readonly ("src" | "dst")[]): boolean {
    const dims = DIMS[this.type];
    if (dirs.length < dims.length) return false;
    const parts: Part[] = [];
    for (let i = 0; i < dims.length; i++) {
      const src = dirs[i] === "src";
      const dim = dims[i]!;
      if (dim === "ip" || dim === "net") {
        parts.push({ kind: "ip", addr: src ? fields.src : fields.dst });
        continue;
      }
      const port = src ? fields.srcPort : fields.dstPort;
      if (dim === "bport") {
        if (fields.proto !== 6 && fields.proto !== 17 && fields.proto !== 132 && fields.proto !== 136) return false;
        parts.push({ kind: "port", proto: 0, port });
        continue;
      }
      if (fields.proto === 1) {
        if (fields.icmpType < 0) return false;
        parts.push({ kind: "port", proto: 1, port: (fields.icmpType << 8) | fields.icmpCode });
      } else {
        parts.push({ kind: "port", proto: fields.proto, port: port < 0 ? 0 : port });
      }
    }
    return this.#contains(parts);
  }

  #contains(parts: readonly Part[]): boolean {
    this.#expire();
    const dims = DIMS[this.type];
    if (!dims.includes("net")) {
      const direct = this.entries.get(formatParts(parts.map((p, i) => (dims[i] === "ip" && p.kind === "net" ? { kind: "ip", addr: p.addr } : p))));
      return direct !== undefined;
    }
    for (const e of this.entries.values()) {
      let ok = true;
      for (let i = 0; i < dims.length && ok; i++) {
        const want = e.parts[i]!;
        const have = parts[i]!;
        if (want.kind === "net") {
          const addr = have.kind === "port" ? -1 : have.addr;
          const len = have.kind === "net" ? have.len : 32;
          ok = len >= want.len && ((addr & maskOf(want.len)) >>> 0) === want.addr;
        } else if (want.kind === "ip") {
          ok = have.kind !== "port" && have.addr === want.addr;
        } else {
          ok = have.kind === "port" && have.proto === want.proto && have.port === want.port;
        }
      }
      if (ok) return true;
    }
    return false;
  }

  #expire(): void {
    if (this.options.timeout === undefined) return;
    const now = this.clock.now();
    for (const [k, e] of this.entries) if (e.expiresAt !== undefined && e.expiresAt <= now) this.entries.delete(k);
  }

  /** The `Header:` line's text and the `create` line's options. */
  header(): string {
    const o = this.options;
    if (this.type === "bitmap:port") {
      const r = o.range ?? [0, 65535];
      let h = `range ${r[0]}-${r[1]}`;
      if (o.timeout !== undefined) h += ` timeout ${o.timeout}`;
      if (o.counters) h += " counters";
      if (o.comment) h += " comment";
      return h;
    }
    let h = `family inet hashsize ${o.hashsize} maxelem ${o.maxelem}`;
    if (o.timeout !== undefined) h += ` timeout ${o.timeout}`;
    if (o.counters) h += " counters";
    if (o.comment) h += " comment";
    return `${h} bucketsize 12 initval 0x${this.initval.toString(16).padStart(8, "0")}`;
  }

  /** A member as `ipset list` prints it. */
  memberLine(e: IpSetEntry): string {
    let line = e.text;
    if (this.options.timeout !== undefined) {
      const left = e.expiresAt === undefined ? 0 : Math.max(0, Math.ceil((e.expiresAt - this.clock.now()) / 1000) - 1);
      line += ` timeout ${left}`;
    }
    if (e.comment !== undefined) line += ` comment "${e.comment}"`;
    return line;
  }

  /** Members in listing order (bitmaps sorted, hashes as added). */
  members(): IpSetEntry[] {
    this.#expire();
    const list = [...this.entries.values()];
    if (this.type === "bitmap:port") list.sort((a, b) => portOf(a) - portOf(b));
    return list;
  }

  /** `Size in memory:` — a plausible figure that grows with the members. */
  memorySize(): number {
    const n = this.entries.size;
    switch (this.type) {
      case "bitmap:port":
        return 8264;
      case "hash:ip":
        return 264 + 16 * n;
      case "hash:ip,port":
        return 264 + 32 * n;
      case "hash:ip,port,ip":
        return 232 + 32 * n;
      default:
        return 488 + 32 * n;
    }
  }

  /** `ipset list NAME` text. */
  list(options: { terse?: boolean } = {}): string {
    const lines = [
      `Name: ${this.name}`,
      `Type: ${this.type}`,
      `Revision: ${REVISION[this.type]}`,
      `Header: ${this.header()}`,
      `Size in memory: ${this.memorySize()}`,
      `References: ${this.references}`,
      `Number of entries: ${this.size}`,
    ];
    if (!options.terse) {
      lines.push("Members:");
      for (const e of this.members()) lines.push(this.memberLine(e));
    }
    return `${lines.join("\n")}\n`;
  }

  /** `ipset save NAME` text. */
  save(): string {
    const lines = [`create ${this.name} ${this.type} ${this.header()}`];
    for (const e of this.members()) lines.push(`add ${this.name} ${this.memberLine(e)}`);
    return `${lines.join("\n")}\n`;
  }
}

function portOf(e: IpSetEntry): number {
  const p = e.parts[0];
  return p?.kind === "port" ? p.port : 0;
}

/** The header fields a set match needs. */
export interface PacketFields {
  readonly src: number;
  readonly dst: number;
  readonly proto: number;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly icmpType: number;
  readonly icmpCode: number;
}

function parseAddr(text: string): number {
  const a = /^\d+\.\d+\.\d+\.\d+$/.test(text) ? numericToIpaddr(text) : undefined;
  if (a === undefined) throw new IpSetError(`Syntax error: cannot parse ${text}: resolving to IPv4 address failed`);
  return a;
}

function parseNet(text: string): { addr: number; len: number } {
  const slash = text.indexOf("/");
  const addr = parseAddr(slash < 0 ? text : text.slice(0, slash));
  const len = slash < 0 ? 32 : strtoui(text.slice(slash + 1), 0, 32, 10);
  if (len === undefined || len === 0) throw new IpSetError(`Syntax error: '${text.slice(slash + 1)}' is out of range 1-32`);
  return { addr: (addr & maskOf(len)) >>> 0, len };
}

function portRange(text: string): number[] {
  const dash = text.indexOf("-");
  const one = (t: string): number => {
    const n = strtoui(t, 0, 65535, 10);
    if (n === undefined) throw new IpSetError(`Syntax error: cannot parse '${t}' as a port`);
    return n;
  };
  if (dash < 0) return [one(text)];
  const a = one(text.slice(0, dash));
  const b = one(text.slice(dash + 1));
  if (b < a) throw new IpSetError("Syntax error: range is invalid");
  return Array.from({ length: b - a + 1 }, (_, k) => a + k);
}

function formatParts(parts: readonly Part[]): string {
  return parts
    .map((p) => {
      switch (p.kind) {
        case "ip":
          return ntoa(p.addr);
        case "net":
          return p.len === 32 ? ntoa(p.addr) : `${ntoa(p.addr)}/${p.len}`;
        case "port":
          if (p.proto === 0) return String(p.port);
          if (p.proto === 1) return `icmp:${p.port >> 8}/${p.port & 255}`;
          return `${protoName(p.proto)}:${p.port}`;
      }
    })
    .join(",");
}

/**
 * The sets of one namespace. Rules refer to a set by its slot, as the kernel
 * does by index: a renamed set keeps its rules, a swap trades them.
 */
export class IpSets {
  readonly #slots: Array<IpSet | undefined> = [];

  constructor(
    private readonly clock: Clock,
    private readonly rng: Rng,
  ) {}

  /** Sets in creation order. */
  all(): IpSet[] {
    return this.#slots.filter((s): s is IpSet => s !== undefined);
  }

  get(name: string): IpSet | undefined {
    return this.#slots.find((s) => s?.name === name);
  }

  /** The slot of the set called `name`, or -1. */
  slotOf(name: string): number {
    return this.#slots.findIndex((s) => s?.name === name);
  }

  /** The set in a slot. */
  at(slot: number): IpSet | undefined {
    return this.#slots[slot];
  }

  /** `ipset create NAME TYPE [options…]`. */
  create(name: string, typeName: string, args: readonly string[], opts: { exist?: boolean } = {}): IpSet {
    const type = TYPES.find((t) => t === typeName);
    if (type === undefined) throw new IpSetError(`Syntax error: typename '${typeName}' is unknown`);
    const options: IpSetOptions = { hashsize: 1024, maxelem: 65536, timeout: undefined, comment: false, counters: false, range: undefined };
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      const value = (): number => {
        const v = strtoui(args[++i] ?? "", 0, 0xffffffff, 10);
        if (v === undefined) throw new IpSetError(`Syntax error: Missing mandatory argument of option "${a}"`);
        return v;
      };
      switch (a) {
        case "family":
          if (args[++i] !== "inet") throw new IpSetError(`Syntax error: unknown family ${args[i] ?? ""}`);
          break;
        case "hashsize":
          options.hashsize = Math.max(64, 2 ** Math.ceil(Math.log2(Math.max(1, value()))));
          break;
        case "maxelem":
          options.maxelem = value();
          break;
        case "timeout":
          options.timeout = value();
          break;
        case "comment":
          options.comment = true;
          break;
        case "counters":
          options.counters = true;
          break;
        case "bucketsize":
        case "initval":
        case "netmask":
          i++;
          break;
        case "range": {
          const m = /^(\d+)-(\d+)$/.exec(args[++i] ?? "");
          if (!m) throw new IpSetError(`Syntax error: cannot parse '${args[i] ?? ""}' as a port range`);
          options.range = [Number(m[1]), Number(m[2])];
          break;
        }
        default:
          throw new IpSetError(`Syntax error: Unknown argument: '${a}'`);
      }
    }
    if (type === "bitmap:port" && options.range === undefined) {
      throw new IpSetError('Syntax error: Missing mandatory option "range"');
    }
    const existing = this.get(name);
    if (existing !== undefined) {
      if (opts.exist && existing.type === type) return existing;
      throw new IpSetError("Set cannot be created: set with the same name already exists");
    }
    const set = new IpSet(name, type, options, this.rng.nextU32(), this.clock);
    const free = this.#slots.indexOf(undefined);
    if (free >= 0) this.#slots[free] = set;
    else this.#slots.push(set);
    return set;
  }

  /** The set or the "does not exist" error. */
  need(name: string): IpSet {
    const s = this.get(name);
    if (s === undefined) throw new IpSetError("The set with the given name does not exist");
    return s;
  }

  /** `ipset destroy [NAME]`. */
  destroy(name: string | undefined): void {
    const targets = name === undefined ? this.all() : [this.need(name)];
    if (targets.some((s) => s.references > 0)) throw new IpSetError("Set cannot be destroyed: it is in use by a kernel component");
    for (const s of targets) this.#slots[this.#slots.indexOf(s)] = undefined;
  }

  /** `ipset rename FROM TO`. */
  rename(from: string, to: string): void {
    const s = this.need(from);
    if (this.get(to) !== undefined) throw new IpSetError("Set cannot be renamed: a set with the new name already exists");
    s.name = to;
  }

  /** `ipset swap A B`: the sets trade slots, names and references. */
  swap(a: string, b: string): void {
    const sa = this.need(a);
    const sb = this.need(b);
    if (sa.type !== sb.type) throw new IpSetError("The sets cannot be swapped: their type does not match");
    const ia = this.#slots.indexOf(sa);
    const ib = this.#slots.indexOf(sb);
    this.#slots[ia] = sb;
    this.#slots[ib] = sa;
    sa.name = b;
    sb.name = a;
    const refs = sa.references;
    sa.references = sb.references;
    sb.references = refs;
  }
}
