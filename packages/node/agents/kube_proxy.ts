/**
 * kube-proxy in iptables mode on one node: watches Services and
 * EndpointSlices, and on each sync ensures its chains and jump rules with
 * `iptables` and loads the rules `proxyRules` computes through
 * `iptables-restore --noflush --counters`, run as processes in the node's
 * root namespace — so everything shows in `iptables-save` in save form.
 * Syncs follow changes at most once per minSyncPeriod (1 s) and run every
 * syncPeriod (30 s) regardless, as kube-proxy's defaults.
 */
import type { ApiClient, EndpointSlice, KubeObject, Service, WatchEvent } from "@kemu/api";
import { type Dummy, netfilterOf, type Timer } from "@kemu/kernel";
import { formatIpv4Addr, parseIpv4Addr } from "@kemu/wire";
import type { Host } from "../host.ts";
import { BufferOutput, textInput } from "../process.ts";
import { ipsetRestore, ipvsJumpRules, ipvsProxyState, KUBE_IPVS_DEVICE } from "./kube_proxy_ipvs.ts";
import { type JumpRule, jumpRules, KUBE_FIREWALL, KUBE_PROXY_CANARY, proxyRules } from "./kube_proxy_rules.ts";

/** How a kube-proxy is configured. */
export interface KubeProxyOptions {
  nodeName: string;
  /** `--cluster-cidr` (the ClusterCIDR local detector). Default 10.244.0.0/16. */
  clusterCIDR?: string;
  /** `--iptables-min-sync-period`, ms. Default 1000. */
  minSyncPeriodMs?: number;
  /** `--iptables-sync-period`, ms. Default 30000. */
  syncPeriodMs?: number;
  /** `--proxy-mode`: iptables (the default) or ipvs. */
  mode?: "iptables" | "ipvs";
}

/** The result of one program run by the proxy. */
interface RunResult {
  exit: number;
  stdout: string;
  stderr: string;
}

/** kube-proxy of one node, in iptables or ipvs mode. */
export class KubeProxy {
  readonly services = new Map<string, Service>();
  readonly slices = new Map<string, EndpointSlice>();
  /** The last restore input loaded (for tests and debugging). */
  lastRestore = "";
  /** Syncs done. */
  syncs = 0;
  /** The last error iptables-restore printed, if the last sync failed. */
  lastError: string | undefined;
  #stops: Array<() => void> = [];
  #timer: Timer | undefined;
  #periodic: Timer | undefined;
  #running = false;
  #dirty = false;
  #lastSyncAt = Number.NEGATIVE_INFINITY;
  #stopped = false;

  constructor(
    private readonly host: Host,
    private readonly api: ApiClient,
    private readonly options: KubeProxyOptions,
  ) {}

  /** Starts watching and syncing. */
  start(): void {
    this.#stopped = false;
    const root = this.host.kernel.root;
    // What a kubeadm node has: br_netfilter loaded, forwarding on, localhost NodePorts allowed.
    root.sysctl.loadBrNetfilter();
    root.sysctl.set("net.ipv4.ip_forward", "1");
    try {
      root.sysctl.set("net.ipv4.conf.all.route_localnet", "1");
    } catch {
      // An older kernel model without the key.
    }
    const track = <T extends KubeObject>(map: Map<string, T>) => (ev: WatchEvent<T>) => {
      const key = `${ev.object.metadata.namespace ?? ""}/${ev.object.metadata.name ?? ""}`;
      if (ev.type === "ADDED" || ev.type === "MODIFIED") map.set(key, ev.object);
      else if (ev.type === "DELETED") map.delete(key);
      else return;
      this.requestSync();
    };
    this.#stops.push(this.api.watch<Service>("services", "", {}, track(this.services)));
    this.#stops.push(this.api.watch<EndpointSlice>("endpointslices", "", {}, track(this.slices)));
    this.requestSync();
  }

  /** Stops watching and syncing (the rules stay, as when kube-proxy exits). */
  stop(): void {
    this.#stopped = true;
    for (const s of this.#stops.splice(0)) s();
    this.#timer?.cancel();
    this.#periodic?.cancel();
  }

  /** Asks for a sync: soon, but no sooner than minSyncPeriod after the last one. */
  requestSync(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#dirty = true;
      return;
    }
    if (this.#timer !== undefined) return;
    const now = this.host.clock.now();
    const wait = Math.max(0, this.#lastSyncAt + (this.options.minSyncPeriodMs ?? 1000) - now);
    this.#timer = this.host.clock.setTimer(wait, () => {
      this.#timer = undefined;
      void this.syncNow();
    });
  }

  /** Runs one full sync now. */
  async syncNow(): Promise<void> {
    if (this.#running) {
      this.#dirty = true;
      return;
    }
    this.#running = true;
    this.#dirty = false;
    this.#lastSyncAt = this.host.clock.now();
    try {
      if (this.options.mode === "ipvs") {
        await this.#syncIpvs();
        return;
      }
      await this.#ensureChains(jumpRules());
      const saved = await this.#run(["iptables-save", "-t", "nat"]);
      const existing = [...saved.stdout.matchAll(/^:(\S+) /gm)].map((m) => m[1]!);
      const rules = proxyRules({
        services: [...this.services.values()],
        endpointSlices: [...this.slices.values()],
        nodeName: this.options.nodeName,
        clusterCIDR: this.options.clusterCIDR ?? "10.244.0.0/16",
        existingNatChains: existing,
      });
      const r = await this.#run(["iptables-restore", "--noflush", "--counters"], rules.restore);
      this.lastRestore = rules.restore;
      this.lastError = r.exit === 0 ? undefined : r.stderr;
      this.syncs++;
    } catch (err) {
      this.lastError = err instanceof Error ? err.message : String(err);
    } finally {
      this.#running = false;
      this.#afterSync();
    }
  }

  #afterSync(): void {
    if (this.#stopped) return;
    this.#periodic?.cancel();
    this.#periodic = this.host.clock.setTimer(this.options.syncPeriodMs ?? 30_000, () => this.requestSync());
    if (this.#dirty) this.requestSync();
  }

  /** Runs one program in the node's root namespace. */
  async #run(argv: string[], stdin = ""): Promise<RunResult> {
    const stdout = new BufferOutput();
    const stderr = new BufferOutput();
    const spec = this.host.rootSpec({ stdin: textInput(stdin), stdout, stderr });
    const exit = await this.host.spawn(argv, spec);
    return { exit, stdout: stdout.text, stderr: stderr.text };
  }

  /**
   * EnsureChain/EnsureRule(Prepend) as kube-proxy does at the start of each
   * sync: the canaries, the top-level chains, and the jump rules from the
   * built-in chains (`-C`, then `-I` when missing). kubelet's share
   * (KUBE-KUBELET-CANARY, the KUBE-FIREWALL jumps, made before kube-proxy
   * starts, so they end up below kube-proxy's) is done here too.
   */
  /**
   * One ipvs-mode sync (proxier.go): kube-ipvs0 holds every ClusterIP, the
   * IPVS table gets a virtual server per service port (and per node address
   * for NodePorts) with the ready endpoints as real servers, the ipsets
   * their entries, and the iptables rules of §B; what no Service needs any
   * more goes.
   */
  async #syncIpvs(): Promise<void> {
    const root = this.host.kernel.root;
    for (const [k, v] of [
      ["net.ipv4.vs.conntrack", "1"],
      ["net.ipv4.vs.expire_nodest_conn", "1"],
      ["net.ipv4.vs.expire_quiescent_template", "1"],
    ] as const) {
      try {
        root.sysctl.set(k, v);
      } catch {
        // A kernel model without the key.
      }
    }
    await this.#ensureChains(ipvsJumpRules());
    let dummy = root.devices().find((d) => d.name === KUBE_IPVS_DEVICE) as Dummy | undefined;
    dummy ??= this.host.kernel.createDummy(root, KUBE_IPVS_DEVICE);
    const nodeAddresses = root.devices()
      .filter((d) => d !== dummy && d.kind !== "loopback")
      .flatMap((d) => d.addrs.map((a) => formatIpv4Addr(a.addr)));
    const state = ipvsProxyState({
      services: [...this.services.values()],
      endpointSlices: [...this.slices.values()],
      nodeName: this.options.nodeName,
      nodeAddresses,
      clusterCIDR: this.options.clusterCIDR ?? "10.244.0.0/16",
    });
    // kube-ipvs0: exactly the bound addresses, as /32.
    const want = new Set(state.boundAddresses.map((a) => parseIpv4Addr(a)!));
    // Virtual servers on any address kube-ipvs0 held, or on the node's own, are kube-proxy's to remove.
    const ours = new Set([...dummy.addrs.map((a) => a.addr), ...want, ...nodeAddresses.map((a) => parseIpv4Addr(a)!)]);
    for (const a of [...dummy.addrs]) if (!want.has(a.addr)) root.deleteAddress(dummy, a.addr, a.prefixLen);
    for (const a of want) if (!dummy.addrs.some((x) => x.addr === a)) root.addAddress(dummy, { addr: a, prefixLen: 32 });
    // The IPVS table, through the kernel (kube-proxy speaks netlink).
    const ipvs = netfilterOf(root).ipvs;
    const desired = new Set<string>();
    for (const vs of state.virtualServers) {
      const addr = parseIpv4Addr(vs.addr)!;
      desired.add(`${vs.proto}|${addr}|${vs.port}`);
      let svc = ipvs.service(vs.proto, addr, vs.port);
      if (svc === undefined) svc = ipvs.addService(vs.proto, addr, vs.port, "rr", vs.persistent);
      else if (svc.persistent !== vs.persistent) ipvs.editService(vs.proto, addr, vs.port, "rr", vs.persistent);
      const dests = new Set(vs.dests.map((d) => `${parseIpv4Addr(d.addr)!}|${d.port}`));
      for (const d of [...svc.dests]) if (!dests.has(`${d.addr}|${d.port}`)) ipvs.deleteDest(svc, d.addr, d.port);
      for (const d of vs.dests) {
        const a = parseIpv4Addr(d.addr)!;
        if (!svc.dests.some((x) => x.addr === a && x.port === d.port)) ipvs.addDest(svc, a, d.port, 1);
      }
    }
    for (const svc of ipvs.services()) {
      if (ours.has(svc.addr) && !desired.has(`${svc.proto}|${svc.addr}|${svc.port}`)) ipvs.deleteService(svc.proto, svc.addr, svc.port);
    }
    const sets = await this.#run(["ipset", "restore", "-exist"], ipsetRestore(state.ipsets));
    const r = await this.#run(["iptables-restore", "--noflush", "--counters"], state.restore);
    this.lastRestore = state.restore;
    this.lastError = sets.exit !== 0 ? sets.stderr : r.exit === 0 ? undefined : r.stderr;
    this.syncs++;
  }

  async #ensureChains(jumps: JumpRule[]): Promise<void> {
    const ensureChain = async (table: string, chain: string) => {
      // "Chain already exists." when it does: EnsureChain takes that as success.
      await this.#run(["iptables", "-w", "-t", table, "-N", chain]);
    };
    const ensureRule = async (table: string, chain: string, args: string[]) => {
      const check = await this.#run(["iptables", "-w", "-t", table, "-C", chain, ...args]);
      if (check.exit !== 0) await this.#run(["iptables", "-w", "-t", table, "-I", chain, ...args]);
    };
    // kubelet's part.
    for (const table of ["mangle", "nat", "filter"]) await ensureChain(table, "KUBE-KUBELET-CANARY");
    await ensureChain("filter", KUBE_FIREWALL);
    await ensureRule("filter", "INPUT", ["-j", KUBE_FIREWALL]);
    await ensureRule("filter", "OUTPUT", ["-j", KUBE_FIREWALL]);
    // kube-proxy's.
    for (const table of ["mangle", "nat", "filter"]) await ensureChain(table, KUBE_PROXY_CANARY);
    for (const j of jumps) {
      await ensureChain(j.table, j.args[j.args.length - 1]!);
      await ensureRule(j.table, j.chain, j.args);
    }
  }
}
