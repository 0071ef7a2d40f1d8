import type { BusMessage, RoundReport, WireLocation, WorkerInit } from "@kemu/node";
import { HostClient, startHosts } from "@kemu/node";
import { Ring } from "@kemu/underlay";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { ClusterDriver, ClusterSpec, ExecResult, HeapFigures, LinkEffect, Location, ShapeOptions, ShellSession } from "./driver.ts";
import { planTopology } from "./topology.ts";

/** How long a step's command may run on emulated time before it is stopped (like Ctrl-C). */
export const STEP_LIMIT_MS = 10 * 60_000;

/**
 * Starts an emulated cluster: one worker thread per host (node1…nodeN, the
 * gateway router, the outside host), wired by shared-memory underlay rings.
 */
export async function startCluster(spec: ClusterSpec): Promise<ClusterDriver> {
  const spare = spec.spare ?? 0;
  const topo = planTopology(spec.nodes + spare, spec.topology ?? "flat");
  // Spare nodes are wired into the underlay but have no worker until they join.
  const isSpare = (h: { role: string; index: number }) => h.role === "node" && h.index > spec.nodes;
  const epochWall = performance.timeOrigin + performance.now();
  const hostTable = topo.hosts.map((h) => ({ name: h.name, addrs: h.links.map((l) => l.cidr.split("/")[0]!) }));
  const busLatencyMs = Math.min(...topo.segments.map((s) => s.latencyMs));
  // Real time: the control host serves the Kubernetes API on loopback and writes its kubeconfig here.
  const kubeconfig = spec.time === "real" ? join(mkdtempSync(join(tmpdir(), "kemu-")), "kubeconfig") : undefined;
  const inits = topo.hosts.map(
    (h) => ({
      entry: h.entry,
      spare: isSpare(h),
      init: {
        name: h.name,
        index: h.index,
        role: h.role,
        // Each host draws from its own stream, derived from the run's seed.
        seed: (Math.imul(spec.seed >>> 0, 0x9e3779b1) + h.index) >>> 0,
        time: spec.time,
        capture: spec.capture,
        links: h.links,
        gateway: h.gateway,
        hosts: hostTable,
        busLatencyMs,
        epochWall,
        control: "control",
        ...(kubeconfig !== undefined && h.role === "control" ? { kubeconfig } : {}),
        flannelBackend: spec.backend ?? spec.network?.backend ?? "vxlan",
        proxyMode: spec.proxyMode ?? "iptables",
        ...(spec.network ? { flannelNetwork: { network: spec.network.network, subnetLen: spec.network.subnetLen } } : {}),
      } satisfies WorkerInit,
    }),
  );
  const clients = await startHosts(inits.filter((h) => !h.spare));
  const lookahead = Math.min(...topo.segments.map((s) => s.latencyMs));
  const cluster = new WorkerCluster(clients, spec.time, lookahead, epochWall);
  for (const h of inits.filter((h) => h.spare)) cluster.spares.set(h.init.name, { init: h.init, entry: h.entry });
  for (const h of topo.hosts) {
    cluster.addresses.set(h.name, {
      macs: h.links.map((l) => l.mac),
      ips: h.links.map((l) => l.cidr.split("/")[0]!.split(".").reduce((n, o) => n * 256 + Number(o), 0)),
    });
  }
  await cluster.settle(spec.nodes);
  if (kubeconfig !== undefined) {
    // The control worker writes it once its API listens.
    for (let waited = 0; !existsSync(kubeconfig) && waited < 5000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    if (existsSync(kubeconfig)) cluster.kubeconfig = kubeconfig;
    else rmSync(dirname(kubeconfig), { recursive: true, force: true });
  }
  return cluster;
}

/** Emulated time a cluster is given to boot before the first step: nodes register and turn Ready. */
export const BOOT_MS = 1000;

class WorkerCluster implements ClusterDriver {
  /** The hosts that have booted: spare nodes are added as they join. */
  hosts: readonly string[];
  /** Spare nodes not yet joined: how to boot each. */
  readonly spares = new Map<string, { init: WorkerInit; entry: URL | undefined }>();
  /** Answers the hosts' `kemu` commands (real time). */
  #kemuCommand: ((host: string, args: readonly string[]) => Promise<ExecResult>) | undefined;
  readonly threadIds: ReadonlyMap<string, number>;
  kubeconfig: string | undefined;
  /** Each host's NIC MACs and addresses, for link faults. */
  readonly addresses = new Map<string, { macs: number[]; ips: number[] }>();
  #nextSession = 1;
  readonly #epochWall: number;
  #nextJob = 1;
  /** Lockstep state: the common time, and what each host last reported. */
  #now = 0;
  readonly #nextAt = new Map<HostClient, number | undefined>();
  #pendingArrival: number | undefined;
  readonly #results = new Map<number, ExecResult>();
  /** Hosts whose worker is gone (crashed): rounds and relays skip them. */
  readonly #dead = new Set<HostClient>();
  /** Lockstep: bus messages sent last round, by destination host. */
  #inbox = new Map<string, BusMessage[]>();
  /**
   * Lockstep: the time each host stands at. A host with no event, bus
   * message or frame before a round's end sits the round out (with a
   * hundred nodes most rounds concern a few hosts) and is brought up to
   * the common time before anything is asked of it directly.
   */
  readonly #at = new Map<HostClient, number>();
  /** Hosts asked something directly since their last round (a command started, say): they run the next round, to report anew. */
  readonly #touched = new Set<HostClient>();
  /** Each host's inbound underlay rings, to see from here whether frames wait for it. */
  readonly #rings = new Map<HostClient, Ring[]>();

  constructor(
    private readonly clients: HostClient[],
    private readonly time: "virtual" | "real",
    private readonly lookahead: number,
    epochWall = 0,
  ) {
    this.#epochWall = epochWall;
    this.hosts = clients.map((c) => c.name);
    this.threadIds = new Map(clients.map((c) => [c.name, c.threadId]));
    for (const c of clients) this.#attach(c);
  }

  /** Relays a host's bus messages and answers its `kemu` commands. */
  #attach(c: HostClient): void {
    c.onBus = (msg) => this.#live().find((t) => t.name === msg.to)?.notify({ type: "bus", msg });
    c.onCall = (args) =>
      this.#kemuCommand?.(c.name, args) ??
        Promise.resolve({ exit: 1, stdout: "", stderr: "kemu: this cluster takes no kemu commands from its hosts\n" });
  }

  serveKemuCommand(handler: (host: string, args: readonly string[]) => Promise<ExecResult>): void {
    this.#kemuCommand = handler;
  }

  async exec(location: Location, command: string, options: { stdin?: string } = {}): Promise<ExecResult> {
    const client = await this.#clientFor(location);
    if (typeof client === "string") return { exit: 1, stdout: "", stderr: `${client}\n` };
    const wire = location as WireLocation;
    const stdin = options.stdin !== undefined ? { stdin: options.stdin } : {};
    if (this.time === "real") return client.request<ExecResult>({ type: "exec", location: wire, command, ...stdin });
    const job = this.#nextJob++;
    await this.#catchUp(client);
    await client.request({ type: "start", job, location: wire, command, ...stdin });
    // Starting a command schedules timers: a zero-length round brings every report up to date.
    await this.#round(this.#now);
    const deadline = this.#now + STEP_LIMIT_MS;
    let killed = false;
    while (!this.#results.has(job)) {
      const next = this.#earliest();
      if (next === undefined) {
        throw new Error(`the command on ${client.name} is waiting for something that can never happen (nothing is scheduled anywhere)`);
      }
      if (!killed && next >= deadline) {
        killed = true;
        await this.#catchUp(client);
        await client.request({ type: "kill", job });
        await this.#round(Math.max(this.#now, deadline));
        continue;
      }
      await this.#round(next + this.lookahead);
    }
    const result = this.#results.get(job)!;
    this.#results.delete(job);
    if (!killed) return result;
    return { ...result, stderr: `${result.stderr}kemu: stopped after ${STEP_LIMIT_MS / 60_000}m of emulated time\n` };
  }

  /** Lets the cluster boot: every node registered and Ready (real time), or BOOT_MS of emulated time. */
  async settle(nodes: number): Promise<void> {
    if (this.time === "virtual") {
      await this.sleep(BOOT_MS);
      return;
    }
    for (let i = 0; i < 100; i++) {
      const r = await this.exec({ kind: "host", host: "control" }, "kubectl get nodes --no-headers");
      const ready = r.stdout.split("\n").filter((l) => /\sReady\s/.test(l)).length;
      if (ready >= nodes) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async sleep(ms: number): Promise<void> {
    if (this.time === "real") {
      await new Promise((r) => setTimeout(r, ms));
      return;
    }
    const target = this.#now + ms;
    for (;;) {
      const next = this.#earliest();
      if (next === undefined || next >= target) break;
      await this.#round(Math.min(next + this.lookahead, target));
    }
    await this.#round(target);
  }

  /** The earliest instant anything can happen anywhere: a host's timer or a frame's arrival. */
  #earliest(): number | undefined {
    let t = this.#pendingArrival;
    for (const c of this.#live()) {
      const n = this.#nextAt.has(c) ? this.#nextAt.get(c) : this.#now;
      if (n !== undefined && (t === undefined || n < t)) t = n;
    }
    return t === undefined ? undefined : Math.max(t, this.#now);
  }

  /**
   * Every host runs the events before `until`; frames sent meanwhile arrive
   * in later rounds. Hosts with nothing before `until` (no timer, no bus
   * message, no frame in their rings) sit it out; `only` limits the round
   * to some hosts (bringing them up to the common time).
   */
  async #round(until: number, only?: readonly HostClient[]): Promise<void> {
    const live = only ?? this.#live().filter((c) => this.#mustRun(c, until, this.#inbox));
    // Bus messages go to the hosts that run; any others wait in the inbox.
    const inboxes = live.map((c) => {
      const msgs = this.#inbox.get(c.name) ?? [];
      this.#inbox.delete(c.name);
      return msgs;
    });
    const reports = await Promise.all(live.map((c, i) => c.request<RoundReport>({ type: "round", until, inbox: inboxes[i]! })));
    if (only === undefined) this.#pendingArrival = undefined;
    // Collected in host order, then stably sorted by send time: the same every run.
    const sent = reports.flatMap((r) => r.outbox).sort((a, b) => a.sentAt - b.sentAt);
    for (const msg of sent) {
      if (this.#live().every((c) => c.name !== msg.to)) continue;
      const list = this.#inbox.get(msg.to) ?? [];
      list.push(msg);
      this.#inbox.set(msg.to, list);
      const arrival = msg.sentAt + this.lookahead;
      if (this.#pendingArrival === undefined || arrival < this.#pendingArrival) this.#pendingArrival = arrival;
    }
    reports.forEach((r, i) => {
      const c = live[i]!;
      this.#at.set(c, until);
      this.#touched.delete(c);
      this.#nextAt.set(c, r.nextAt ?? undefined);
      if (r.minSent !== undefined && r.minSent !== null) {
        const arrival = r.minSent + this.lookahead;
        if (this.#pendingArrival === undefined || arrival < this.#pendingArrival) this.#pendingArrival = arrival;
      }
      for (const f of r.finished) this.#results.set(f.job, f.result);
    });
    if (only === undefined) this.#now = until;
  }

  /** Whether `c` has anything to do before `until`: a timer, a bus message, a frame waiting. */
  #mustRun(c: HostClient, until: number, inbox: Map<string, BusMessage[]>): boolean {
    if (!this.#nextAt.has(c) || !this.#at.has(c) || this.#touched.has(c)) return true;
    const next = this.#nextAt.get(c);
    if (next !== undefined && next < until) return true;
    if ((inbox.get(c.name)?.length ?? 0) > 0) return true;
    let rings = this.#rings.get(c);
    if (rings === undefined) {
      rings = c.init.links.map((l) => new Ring(l.segment.rings[l.member]!, l.segment.shape));
      this.#rings.set(c, rings);
    }
    return rings.some((r) => r.ready);
  }

  /**
   * Before asking a host something directly (start a command, shape a link,
   * stop an agent): brings it up to the common time if it sat rounds out,
   * and has it run the next round so that its report takes the request in.
   */
  async #catchUp(c: HostClient): Promise<void> {
    if (this.time !== "virtual") return;
    const at = this.#at.get(c);
    if (at !== undefined && at < this.#now) await this.#round(this.#now, [c]);
    this.#touched.add(c);
  }

  async openShell(host: string, options: Parameters<ClusterDriver["openShell"]>[1]): Promise<ShellSession> {
    const client = this.clients.find((c) => c.name === host);
    if (!client) throw new Error(`kemu: no host named ${host}`);
    const session = this.#nextSession++;
    let exited = false;
    const done = new Promise<number>((resolve) => {
      client.onSession(session, {
        output: (chunk, stream) => options.onOutput(chunk, stream),
        exited: (code) => {
          exited = true;
          resolve(code);
        },
      });
    });
    await this.#catchUp(client);
    await client.request({ type: "shell", session, interactive: options.interactive });
    return {
      writeLine: (line) => {
        if (!exited) client.notify({ type: "stdin", session, line });
      },
      end: () => {
        if (!exited) client.notify({ type: "stdin-end", session });
      },
      exited: done,
    };
  }

  async writePcaps(dir: string): Promise<string[]> {
    const lists = await Promise.all(this.#live().map((c) => c.request<string[]>({ type: "pcaps", dir })));
    return lists.flat();
  }

  async collectGarbage(): Promise<void> {
    await Promise.all(this.#live().map((c) => c.request({ type: "gc" })));
  }

  async heaps(): Promise<Map<string, HeapFigures>> {
    const figures = await Promise.all(this.#live().map((c) => c.request<HeapFigures>({ type: "heap" })));
    return new Map(this.#live().map((c, i) => [c.name, figures[i]!]));
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.#live().map((c) => c.terminate()));
    // The kubeconfig holds this run's token: it goes with the cluster.
    if (this.kubeconfig !== undefined) rmSync(dirname(this.kubeconfig), { recursive: true, force: true });
  }

  async crash(host: string): Promise<void> {
    const client = this.clients.find((c) => c.name === host);
    if (!client) throw new Error(`kemu: no host named ${host}`);
    if (this.#dead.has(client)) return;
    this.#dead.add(client);
    this.#nextAt.delete(client);
    this.#inbox.delete(host);
    await client.kill();
  }

  async shape(from: readonly string[], to: readonly string[], effect: LinkEffect, options: ShapeOptions = {}): Promise<void> {
    const { forMs, flap } = options;
    const peers = { macs: to.flatMap((h) => this.addresses.get(h)?.macs ?? []), ips: to.flatMap((h) => this.addresses.get(h)?.ips ?? []) };
    for (const name of from) {
      const client = this.#live().find((c) => c.name === name);
      if (!client) continue;
      await this.#catchUp(client);
      await client.request({ type: "netem", peers, config: effect, ...(forMs !== undefined ? { forMs } : {}), ...(flap ? { flap } : {}) });
    }
  }

  clockMs(): number {
    return this.time === "virtual" ? this.#now : performance.timeOrigin + performance.now() - this.#epochWall;
  }

  async agent(host: string, agent: string, action: "stop" | "start"): Promise<void> {
    const client = this.#live().find((c) => c.name === host);
    if (!client) throw new Error(`kemu: ${host} is not running`);
    await this.#catchUp(client);
    await client.request({ type: "agent", agent, action });
  }

  async restart(host: string): Promise<void> {
    const i = this.clients.findIndex((c) => c.name === host);
    if (i < 0) throw new Error(`kemu: no host named ${host}`);
    const old = this.clients[i]!;
    if (!this.#dead.has(old)) await this.crash(host);
    await this.#boot(old.init, old.entry, (fresh) => (this.clients[i] = fresh));
    this.#dead.delete(old);
  }

  async join(host: string): Promise<void> {
    const spare = this.spares.get(host);
    if (!spare) {
      throw new Error(this.clients.some((c) => c.name === host) ? `${host} is already in the cluster` : `no spare node named ${host}`);
    }
    this.spares.delete(host);
    await this.#boot(spare.init, spare.entry, (fresh) => this.clients.push(fresh));
    this.hosts = [...this.hosts, host];
  }

  /**
   * Starts a host's worker at the cluster's time. `place` puts it among the
   * clients before it has booted: on real time, answers to what it says as it
   * boots are relayed to it at once.
   */
  async #boot(init: WorkerInit, entry: URL | undefined, place: (fresh: HostClient) => void): Promise<void> {
    const fresh = new HostClient({ ...init, startAt: this.time === "virtual" ? this.#now : undefined }, entry);
    place(fresh);
    this.#attach(fresh);
    (this.threadIds as Map<string, number>).set(init.name, fresh.threadId);
    await fresh.request({ type: "now" });
  }

  #live(): HostClient[] {
    return this.clients.filter((c) => !this.#dead.has(c));
  }

  /** The host that runs a location: a named host, or whichever node has the container. */
  async #clientFor(location: Location): Promise<HostClient | string> {
    if (location.kind === "host") {
      const c = this.clients.find((h) => h.name === location.host);
      if ((c && this.#dead.has(c)) || this.spares.has(location.host)) return `ssh: connect to host ${location.host} port 22: No route to host`;
      return c ?? `kemu: no host named ${location.host} in this cluster`;
    }
    for (const c of this.#live()) {
      if (await c.request<boolean>({ type: "locate", location: location as WireLocation })) return c;
    }
    return location.kind === "container"
      ? `Error response from daemon: No such container: ${location.name}`
      : `Error from server (NotFound): pods "${location.pod}" not found`;
  }
}
