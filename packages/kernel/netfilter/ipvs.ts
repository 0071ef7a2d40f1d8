/**
 * IP Virtual Server, the part kube-proxy's ipvs mode uses: virtual services
 * (protocol, address, port, scheduler, persistence) with real servers
 * forwarded by masquerading (NAT), as `ipvsadm` and netlink manage them.
 *
 * A flow's first packet to a virtual service picks a real server — by the
 * scheduler, or by the client's persistence template — and the flow is
 * bound to it as a destination NAT in conntrack (IPVS with
 * net.ipv4.vs.conntrack=1), so replies are translated back and iptables'
 * POSTROUTING (kube-proxy's masquerade) applies as for any NATed flow.
 * The binding is made at the NAT hooks, after the nat table's own rules
 * (in Linux IPVS takes the packet at LOCAL_IN, after the filter table: a
 * packet kemu sends to a real server is forwarded, where the kernel's
 * would be re-sent from LOCAL_OUT). Connections are the conntrack entries
 * a service bound; `ipvsadm -L` counts ESTABLISHED ones as active.
 */
import type { NetNs } from "../netns.ts";
import type { ConnEntry } from "./conntrack.ts";

/** Schedulers kemu implements (ipvsadm's names). */
export const IPVS_SCHEDULERS = ["rr", "wrr", "lc", "wlc", "sh", "dh"] as const;
export type IpvsScheduler = (typeof IPVS_SCHEDULERS)[number];

/** Protocols of a virtual service: TCP, UDP (and SCTP, by number). */
export type IpvsProto = 6 | 17 | 132;

/** A real server of a virtual service. */
export interface IpvsDest {
  readonly addr: number;
  readonly port: number;
  weight: number;
}

/** A virtual service. */
export interface IpvsService {
  readonly proto: IpvsProto;
  readonly addr: number;
  readonly port: number;
  scheduler: IpvsScheduler;
  /** Persistence timeout in seconds (`-p`), or undefined. */
  persistent: number | undefined;
  readonly dests: IpvsDest[];
  /** Round-robin position. */
  next: number;
  /** Packets, bytes and connections scheduled (for `--stats`). */
  readonly stats: { conns: number; inPkts: number; inBytes: number };
}

/** What IPVS bound a conntrack entry to, and when the flow last moved. */
interface Binding {
  readonly service: IpvsService;
  readonly dest: IpvsDest;
  lastSeen: number;
}

/** IPVS's own connection timeouts by state, seconds (ip_vs_proto_tcp.c, ip_vs_proto_udp.c). */
const TIMEOUTS: Record<string, number> = {
  NONE: 2,
  ESTABLISHED: 900,
  SYN_SENT: 120,
  SYN_RECV: 60,
  FIN_WAIT: 120,
  TIME_WAIT: 120,
  CLOSE: 10,
  CLOSE_WAIT: 60,
  LAST_ACK: 30,
  UDP: 300,
};

/** The IPVS state name of a flow conntrack tracks. */
function ipvsState(e: ConnEntry): string {
  if (e.proto === 17) return "UDP";
  if (e.proto !== 6) return "NONE";
  const s = e.tcpStateName;
  if (s === "SYN_SENT") return "SYN_RECV";
  return s in TIMEOUTS ? s : "NONE";
}

/** A connection as `ipvsadm -Lc` lists it. */
export interface IpvsConnection {
  readonly entry: ConnEntry;
  readonly service: IpvsService;
  readonly dest: IpvsDest;
  readonly state: string;
  readonly expiresInMs: number;
}

/** Errors as ipvsadm reports them from the kernel. */
export class IpvsError extends Error {
  constructor(readonly kind: "exists" | "no-service" | "no-dest" | "dest-exists") {
    super(
      {
        exists: "Service already exists",
        "no-service": "No such service",
        "no-dest": "No such destination",
        "dest-exists": "Destination already exists",
      }[kind],
    );
  }
}

const serviceKey = (proto: number, addr: number, port: number): string => `${proto}|${addr}|${port}`;

/** The IPVS table of one network namespace. */
export class Ipvs {
  readonly #services = new Map<string, IpvsService>();
  /** Persistence templates: service + client address → the real server, until when. */
  readonly #templates = new Map<string, { dest: IpvsDest; until: number }>();
  readonly #bound = new WeakMap<ConnEntry, Binding>();
  readonly #conns = new Set<ConnEntry>();

  constructor(private readonly ns: NetNs) {}

  /** No virtual service at all (the NAT hooks then leave IPVS out). */
  get empty(): boolean {
    return this.#services.size === 0;
  }

  /** Virtual services in ipvsadm's order: protocol number, address, port. */
  services(): IpvsService[] {
    return [...this.#services.values()].sort((a, b) => a.proto - b.proto || a.addr - b.addr || a.port - b.port);
  }

  service(proto: number, addr: number, port: number): IpvsService | undefined {
    return this.#services.get(serviceKey(proto, addr, port));
  }

  addService(proto: IpvsProto, addr: number, port: number, scheduler: IpvsScheduler = "wlc", persistent?: number): IpvsService {
    const key = serviceKey(proto, addr, port);
    if (this.#services.has(key)) throw new IpvsError("exists");
    const s: IpvsService = { proto, addr, port, scheduler, persistent, dests: [], next: 0, stats: { conns: 0, inPkts: 0, inBytes: 0 } };
    this.#services.set(key, s);
    return s;
  }

  editService(proto: number, addr: number, port: number, scheduler: IpvsScheduler, persistent?: number): void {
    const s = this.service(proto, addr, port);
    if (!s) throw new IpvsError("no-service");
    s.scheduler = scheduler;
    s.persistent = persistent;
  }

  deleteService(proto: number, addr: number, port: number): void {
    if (!this.#services.delete(serviceKey(proto, addr, port))) throw new IpvsError("no-service");
  }

  /** `ipvsadm -C`. */
  clear(): void {
    this.#services.clear();
    this.#templates.clear();
  }

  addDest(s: IpvsService, addr: number, port: number, weight = 1): void {
    if (s.dests.some((d) => d.addr === addr && d.port === port)) throw new IpvsError("dest-exists");
    s.dests.push({ addr, port, weight });
  }

  editDest(s: IpvsService, addr: number, port: number, weight: number): void {
    const d = s.dests.find((x) => x.addr === addr && x.port === port);
    if (!d) throw new IpvsError("no-dest");
    d.weight = weight;
  }

  deleteDest(s: IpvsService, addr: number, port: number): void {
    const i = s.dests.findIndex((x) => x.addr === addr && x.port === port);
    if (i < 0) throw new IpvsError("no-dest");
    s.dests.splice(i, 1);
  }

  /**
   * The real server for a new flow of `proto` from `client` to
   * `addr:port`, or undefined when no service matches or it has no server
   * with weight above zero.
   */
  schedule(proto: number, client: number, addr: number, port: number): { service: IpvsService; dest: IpvsDest } | undefined {
    const s = this.service(proto, addr, port);
    if (s === undefined) return undefined;
    const now = this.ns.kernel.clock.now();
    const live = s.dests.filter((d) => d.weight > 0);
    if (live.length === 0) return undefined;
    let dest: IpvsDest | undefined;
    const tkey = `${serviceKey(proto, addr, port)}|${client}`;
    if (s.persistent !== undefined) {
      const t = this.#templates.get(tkey);
      if (t !== undefined && t.until > now && live.includes(t.dest)) dest = t.dest;
      else if (t !== undefined) this.#templates.delete(tkey);
    }
    dest ??= this.#pick(s, live, client);
    if (s.persistent !== undefined) this.#templates.set(tkey, { dest, until: now + s.persistent * 1000 });
    s.stats.conns++;
    return { service: s, dest };
  }

  #pick(s: IpvsService, live: IpvsDest[], client: number): IpvsDest {
    switch (s.scheduler) {
      case "sh":
      case "dh": {
        const h = Math.imul(client >>> 0, 0x9e3779b1) >>> 0;
        return live[h % live.length]!;
      }
      case "lc":
      case "wlc": {
        // Fewest connections (active ones weigh 256 inactive ones, as ip_vs_dest_conn_overhead), per unit of weight; the first of equals.
        const loads = new Map<IpvsDest, number>();
        for (const c of this.liveConnections()) {
          if (c.service === s) loads.set(c.dest, (loads.get(c.dest) ?? 0) + (c.state === "ESTABLISHED" ? 256 : 1));
        }
        const load = (d: IpvsDest) => loads.get(d) ?? 0;
        let best = live[0]!;
        for (const d of live.slice(1)) if (load(d) * best.weight < load(best) * d.weight) best = d;
        return best;
      }
      case "wrr": {
        // Weighted round robin: each server in turn, as many times as its weight.
        const total = live.reduce((n, d) => n + d.weight, 0);
        let k = s.next++ % total;
        for (const d of live) {
          if (k < d.weight) return d;
          k -= d.weight;
        }
        return live[0]!;
      }
      default: {
        const d = live[s.next % live.length]!;
        s.next = (s.next + 1) % live.length;
        return d;
      }
    }
  }

  /** Records that conntrack entry `e` was bound to `dest` of `service`. */
  bind(e: ConnEntry, service: IpvsService, dest: IpvsDest): void {
    this.#bound.set(e, { service, dest, lastSeen: this.ns.kernel.clock.now() });
    this.#conns.add(e);
  }

  /** A packet of flow `e` went by: its IPVS timer starts again. */
  touch(e: ConnEntry): void {
    const b = this.#bound.get(e);
    if (b !== undefined) b.lastSeen = this.ns.kernel.clock.now();
  }

  /** Connections whose IPVS timer has not run out, in the order they were made. */
  liveConnections(): IpvsConnection[] {
    const now = this.ns.kernel.clock.now();
    const out: IpvsConnection[] = [];
    for (const c of this.connectionEntries()) {
      const state = ipvsState(c.entry);
      const left = this.#bound.get(c.entry)!.lastSeen + TIMEOUTS[state]! * 1000 - now;
      if (left > 0) out.push({ ...c, state, expiresInMs: left });
    }
    return out;
  }

  /** Live connections: the conntrack entries a service bound, with what they were bound to. */
  connectionEntries(): Array<{ entry: ConnEntry; service: IpvsService; dest: IpvsDest }> {
    const live = new Set(this.#liveEntries());
    const out: Array<{ entry: ConnEntry; service: IpvsService; dest: IpvsDest }> = [];
    for (const e of this.#conns) {
      if (!live.has(e)) {
        this.#conns.delete(e);
        continue;
      }
      const b = this.#bound.get(e)!;
      out.push({ entry: e, service: b.service, dest: b.dest });
    }
    return out;
  }

  /** ActiveConn (established TCP) and InActConn (the rest) of a real server. */
  connections(s: IpvsService, d: IpvsDest): { active: number; inactive: number } {
    let active = 0;
    let inactive = 0;
    for (const c of this.liveConnections()) {
      if (c.service !== s || c.dest !== d) continue;
      if (c.state === "ESTABLISHED") active++;
      else inactive++;
    }
    return { active, inactive };
  }

  #liveEntries: () => ConnEntry[] = () => [];

  /** Wired by the netfilter engine: where the live conntrack entries come from. */
  setEntrySource(source: () => ConnEntry[]): void {
    this.#liveEntries = source;
  }
}
