/**
 * What runs in a host's worker thread: boots the host, plugs its NICs into
 * the underlay's shared-memory rings, and answers the main thread's
 * msgpackr-encoded requests (protocol.ts). `worker.ts` is the entry of a
 * node's worker; other apps (the control plane) call `runHostWorker` with
 * their own additions.
 *
 * Time: with `time: "real"` a pump follows the wall clock and arriving frames
 * are taken as the ring's doorbell rings. With `time: "virtual"` the main
 * thread runs lockstep rounds: each round the host takes the frames that
 * arrived, runs every event before the round's end, and reports.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { Ether, NetNs } from "@kemu/kernel";
import { SegmentPort } from "@kemu/underlay";
import { unpack } from "msgpackr";
import { decodeObject, encodeObject } from "@kemu/api";
import { Flanneld } from "./agents/flanneld.ts";
import { Kubelet } from "./agents/kubelet.ts";
import { KubeProxy } from "./agents/kube_proxy.ts";
import { EventLoop, Netem, NETEM_NONE, type NetemConfig } from "@kemu/kernel";
import { BusApiClient } from "./api_bus.ts";
import { Bus, type BusMessage } from "./bus.ts";
import { CaptureSet } from "./capture.ts";
import { postPacked } from "./message.ts";
import { writeCodeCacheNow } from "./code_cache.ts";
import type { DockerRuntime } from "./docker/runtime.ts";
import { drainMicrotasks, type ExecResult, type Host, type ProcessSpec } from "./host.ts";
import { bootHost } from "./node.ts";
import type { Input, Output } from "./process.ts";
import type { Reply, Request, RoundReport, WireLocation, WorkerInit } from "./protocol.ts";
import { RealTimePump } from "./realtime.ts";
import { RemoteExecClient, serveRemoteExec } from "./remote_exec.ts";
import { ShellSession } from "./session.ts";
import { ssh } from "./userland/ssh.ts";

/** True when a frame goes to one of the peers: by destination MAC, IPv4 destination, or ARP target. */
function towards(frame: Uint8Array, macs: ReadonlySet<number>, ips: ReadonlySet<number>): boolean {
  if (frame.length < 14) return false;
  const mac = (frame[0]! * 2 ** 40) + (frame[1]! * 2 ** 32) + ((frame[2]! << 24) >>> 0) + (frame[3]! << 16) + (frame[4]! << 8) + frame[5]!;
  if (macs.has(mac)) return true;
  const type = (frame[12]! << 8) | frame[13]!;
  const at = type === 0x0800 ? 30 : type === 0x0806 ? 38 : -1;
  if (at < 0 || frame.length < at + 4) return false;
  return ips.has(((frame[at]! << 24) | (frame[at + 1]! << 16) | (frame[at + 2]! << 8) | frame[at + 3]!) >>> 0);
}

/** Frames one NAPI poll takes at most (the default weight). */
const NAPI_BUDGET = 64;
/** How soon, on real time, a NIC whose ring was full looks for room again, ms. */
const TX_POLL_MS = 0.02;

/** What an app adds to a host once it has booted (services, commands, bus handlers). */
export type HostExtension = (host: Host, bus: Bus) => void;

/** Runs this worker thread as the host `workerData` describes, extended by `extend`. */
export function runHostWorker(extend?: HostExtension): void {
  const init = workerData as WorkerInit;
  const port = parentPort!;
  // A host that (re)boots while the cluster runs starts at the cluster's time.
  const bootClock = new EventLoop();
  bootClock.skipTo(init.startAt ?? 0);
  const host: Host = bootHost({
    name: init.name,
    seed: init.seed,
    role: init.role,
    nics: init.links.map((l) => ({ ifname: l.ifname, mac: l.mac, cidr: l.cidr })),
    gateway: init.gateway,
    clock: bootClock,
  });
  const clock = host.clock;

  /** Host-to-host messages: posted at once on real time, batched per round on lockstep time. */
  let outbox: BusMessage[] = [];
  const bus = new Bus(
    host.name,
    clock,
    (msg) => {
      if (init.time === "real") send({ type: "bus", msg });
      else outbox.push(msg);
    },
    init.busLatencyMs,
  );
  // A node whose cluster has a control plane runs a kubelet against it.
  let kubelet: Kubelet | undefined;
  if (init.role === "node" && init.control !== undefined) {
    const api = new BusApiClient(bus, init.control, { encode: encodeObject, decode: decodeObject });
    kubelet = new Kubelet(host, api, { nodeName: host.name, nodeIP: init.links[0]!.cidr.split("/")[0]! });
    host.provide("kubelet", kubelet);
    // One API client per host: its handlers own the bus's api channels.
    host.provide("api", api);
    void kubelet.start();
    // kube-proxy: Services → KUBE-* rules through iptables-restore (and IPVS in ipvs mode).
    const kubeProxy = new KubeProxy(host, api, {
      nodeName: host.name,
      mode: init.proxyMode ?? "iptables",
      ...(init.flannelNetwork ? { clusterCIDR: init.flannelNetwork.network } : {}),
    });
    host.provide("kube-proxy", kubeProxy);
    kubeProxy.start();
    // flanneld (kube subnet manager) gives pods on different nodes a path to each other.
    const flanneld = new Flanneld(host, api, {
      nodeName: host.name,
      nodeIP: init.links[0]!.cidr.split("/")[0]!,
      backend: init.flannelBackend ?? "vxlan",
      ...(init.flannelNetwork ? { network: init.flannelNetwork.network } : {}),
    });
    host.provide("flanneld", flanneld);
    flanneld.start();
    bus.serve("logs", (body) => {
      const b = body as { namespace: string; pod: string; container?: string };
      const text = kubelet!.logs(b.namespace, b.pod, b.container);
      if (text === undefined) throw new Error(`pods "${b.pod}" not found`);
      return text;
    });
  }
  serveRemoteExec(host, bus, (target, io) => {
    if (target === undefined || target === null) {
      const spec = host.rootSpec(io);
      spec.env.set("PWD", "/root");
      return spec;
    }
    const t = target as { container?: string; pod?: { namespace: string; name: string; container?: string } };
    const resolved = t.pod
      ? specFor({ kind: "pod", namespace: t.pod.namespace, pod: t.pod.name, ...(t.pod.container !== undefined ? { container: t.pod.container } : {}) })
      : specFor({ kind: "container", name: t.container ?? "" });
    if (typeof resolved === "string") return resolved;
    try {
      return resolved(io);
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  });
  host.provide("ssh", { client: new RemoteExecClient(bus), hosts: new Map(init.hosts.map((h) => [h.name, h.addrs])) });
  host.commands.set("ssh", ssh);
  extend?.(host, bus);
  const capture = init.capture ? new CaptureSet() : undefined;
  if (capture) host.kernel.capture = capture.tap;

  /** The NICs and their segment ports. */
  const links = init.links.map((l) => {
    const dev = host.kernel.root.deviceByName(l.ifname) as Ether;
    const segPort = new SegmentPort(l.segment, l.member, { lockstep: init.time === "virtual" });
    return { dev, segPort };
  });
  let minSent: number | undefined;
  for (const { dev, segPort } of links) {
    dev.wire = (frame) => {
      const now = clock.now();
      if (minSent === undefined || now < minSent) minSent = now;
      segPort.send(frame, now);
    };
    // A full ring stops the NIC's queue (netif_stop_queue); frames wait in it for room.
    dev.wireRoom = (frame) => segPort.hasRoom(frame);
    if (init.time === "real") {
      // On real time the peer frees slots whenever it polls: look again shortly.
      let polling = false;
      dev.onTxStall = () => {
        if (polling) return;
        polling = true;
        clock.setTimer(TX_POLL_MS, () => {
          polling = false;
          dev.wakeQueue();
        });
      };
    }
  }

  /**
   * Takes every frame waiting on the rings and schedules its arrival on the
   * NIC: frames that arrive at the same instant are one poll of the NIC (up
   * to NAPI's budget of 64), which GRO may merge.
   */
  function ingest(): void {
    for (const { dev, segPort } of links) {
      const arrivals = segPort.drain();
      for (let i = 0; i < arrivals.length; ) {
        const at = arrivals[i]!.arriveAt;
        const batch: Uint8Array[] = [];
        for (; i < arrivals.length && arrivals[i]!.arriveAt === at && batch.length < NAPI_BUDGET; i++) batch.push(arrivals[i]!.frame);
        clock.setTimer(at - clock.now(), () => dev.receiveBatch(batch));
      }
    }
  }

  const pump = new RealTimePump(clock, init.epochWall);
  if (init.time === "real") {
    pump.start();
    for (const { segPort } of links) {
      void (async () => {
        for (;;) {
          await segPort.inbound.wait(1000);
          ingest();
        }
      })();
    }
  }

  const sessions = new Map<number, ShellSession>();
  /** `kemu` commands waiting for the main thread's answer. */
  const calls = new Map<number, (result: ExecResult) => void>();
  let nextCall = 1;
  // `kemu fault …` in a login shell: the main thread, which holds the whole cluster, does it.
  host.commands.set("kemu", async (ctx) => {
    if (init.time !== "real") {
      ctx.stderr.write("kemu: the cluster takes commands from its shells in kemu up; in a scenario, write a fault: step\n");
      return 1;
    }
    const call = nextCall++;
    const result = await new Promise<ExecResult>((resolve) => {
      calls.set(call, resolve);
      send({ type: "call", call, args: ctx.argv.slice(1) });
    });
    if (result.stdout !== "") ctx.stdout.write(result.stdout);
    if (result.stderr !== "") ctx.stderr.write(result.stderr);
    return result.exit;
  });
  const jobs = new Map<number, AbortController>();
  let finished: RoundReport["finished"] = [];

  function send(msg: Reply): void {
    postPacked(port, msg);
  }

  function docker(): DockerRuntime | undefined {
    return host.service<DockerRuntime>("docker");
  }

  /** A human name for a namespace, for pcap file names. */
  function nsName(ns: NetNs): string {
    if (ns === host.kernel.root) return "root";
    for (const [name, n] of host.namedNetns) if (n === ns) return name;
    return docker()?.netnsNames.get(ns) ?? `netns${ns.inode}`;
  }

  /** How to start a process at `location`, or an error in the tools' words. */
  function specFor(location: WireLocation): ((io: { stdin: Input; stdout: Output; stderr: Output }) => ProcessSpec) | string {
    switch (location.kind) {
      case "host":
        return location.host === host.name ? (io) => host.rootSpec(io) : `no host ${location.host} here`;
      case "container": {
        const d = docker();
        const c = d?.find(location.name);
        // A name that is no Docker container may be a pod in the default namespace.
        if ((!d || !c) && kubelet?.pods.has(`default/${location.name}`)) {
          return specFor({ kind: "pod", namespace: "default", pod: location.name });
        }
        if (!d || !c) return `Error response from daemon: No such container: ${location.name}`;
        if (c.state !== "running") return `Error response from daemon: container ${c.id} is not running`;
        return (io) => d.execSpec(c, io);
      }
      case "pod": {
        if (!kubelet?.pods.has(`${location.namespace}/${location.pod}`)) {
          return `Error from server (NotFound): pods "${location.pod}" not found`;
        }
        return (io) => {
          const spec = kubelet!.specFor(location.namespace, location.pod, location.container, io);
          if (typeof spec === "string") throw new Error(spec);
          return spec;
        };
      }
    }
  }

  function startJob(job: number, location: WireLocation, command: string, stdin: string | undefined): Promise<ExecResult> {
    const spec = specFor(location);
    if (typeof spec === "string") return Promise.resolve({ exit: 1, stdout: "", stderr: `${spec}\n` });
    const controller = new AbortController();
    jobs.set(job, controller);
    return host
      .exec(command, {
        ...(stdin !== undefined ? { stdin } : {}),
        spec: (io) => ({ ...spec(io), parentSignal: controller.signal }),
        drive: false,
      })
      .finally(() => jobs.delete(job));
  }

  /** One lockstep round: frames in, events before `until`, stand at `until`. */
  async function round(until: number, inbox: BusMessage[]): Promise<RoundReport> {
    for (const msg of inbox) bus.deliver(msg);
    ingest();
    // Every ring was drained since the last round: the credit is whole, and what waited goes first.
    for (const { dev, segPort } of links) {
      segPort.newRound();
      dev.wakeQueue();
    }
    for (;;) {
      await drainMicrotasks();
      const next = clock.nextAt();
      if (next === undefined || next >= until) break;
      clock.runUntil(next);
    }
    clock.skipTo(until);
    await drainMicrotasks();
    const report: RoundReport = { nextAt: clock.nextAt(), minSent, outbox, finished };
    finished = [];
    outbox = [];
    // Frames sent from here on (say, by a command started between rounds) belong to the next report.
    minSent = undefined;
    return report;
  }

  async function handle(req: Request): Promise<unknown> {
    switch (req.type) {
      case "exec": {
        const spec = specFor(req.location);
        if (typeof spec === "string") return { exit: 1, stdout: "", stderr: `${spec}\n` };
        return host.exec(req.command, {
          ...(req.stdin !== undefined ? { stdin: req.stdin } : {}),
          spec,
          drive: init.time === "virtual",
        });
      }
      case "start":
        void startJob(req.job, req.location, req.command, req.stdin).then((result) => finished.push({ job: req.job, result }));
        return true;
      case "kill":
        jobs.get(req.job)?.abort();
        return true;
      case "agent": {
        const agent = host.service<{ start(): unknown; stop(): unknown }>(req.agent);
        if (!agent) throw new Error(`${host.name} runs no ${req.agent}`);
        if (req.action === "stop") agent.stop();
        else void agent.start();
        return true;
      }
      case "netem": {
        const macs = new Set(req.peers.macs);
        const ips = new Set(req.peers.ips);
        const queue = (config: Partial<NetemConfig>) =>
          links.map(({ dev }) => {
            const q = new Netem({ ...NETEM_NONE, ...config }, clock, host.rng.fork(), 0);
            q.filter = (frame) => towards(frame, macs, ips);
            return { dev, q };
          });
        const plug = (qs: ReturnType<typeof queue>) => qs.forEach(({ dev, q }) => dev.injected.push(q));
        const unplug = (qs: ReturnType<typeof queue>) => qs.forEach(({ dev, q }) => dev.injected.includes(q) && dev.injected.splice(dev.injected.indexOf(q), 1));
        const installed = queue(req.config);
        plug(installed);
        // A flapping link: a second queue that drops everything is plugged in for each down phase.
        let flapTimer: { cancel(): void } | undefined;
        const cut = req.flap ? queue({ lossPct: 100 }) : [];
        if (req.flap) {
          const { downMs, upMs } = req.flap;
          const phase = (down: boolean) => {
            if (down) plug(cut);
            else unplug(cut);
            flapTimer = clock.setTimer(down ? downMs : upMs, () => phase(!down));
          };
          phase(true);
        }
        if (req.forMs !== undefined) {
          clock.setTimer(req.forMs, () => {
            flapTimer?.cancel();
            unplug(installed);
            unplug(cut);
          });
        }
        return true;
      }
      case "round":
        return round(req.until, req.inbox);
      case "bus":
        bus.deliver(req.msg);
        return undefined;
      case "locate":
        return typeof specFor(req.location) !== "string";
      case "advance":
        await host.advance(req.ms);
        return clock.now();
      case "now":
        return clock.now();
      case "code-cache":
        return writeCodeCacheNow();
      case "heap": {
        const { heapTotal, heapUsed, external, arrayBuffers } = process.memoryUsage();
        return { heapTotal, heapUsed, external, arrayBuffers };
      }
      case "gc": {
        const gc = (globalThis as { gc?: () => void }).gc;
        gc?.();
        return gc !== undefined;
      }
      case "shell": {
        pump.start();
        const s = new ShellSession(host, {
          interactive: req.interactive,
          output: (chunk, stream) => send({ type: "output", session: req.session, chunk, stream }),
        });
        sessions.set(req.session, s);
        void s.exited.then((code) => {
          sessions.delete(req.session);
          send({ type: "exited", session: req.session, code });
        });
        return true;
      }
      case "answer":
        calls.get(req.call)?.(req.result);
        calls.delete(req.call);
        return undefined;
      case "stdin":
        sessions.get(req.session)?.writeLine(req.line);
        return undefined;
      case "stdin-end":
        sessions.get(req.session)?.end();
        return undefined;
      case "pcaps":
        return capture ? capture.write(req.dir, host.name, nsName) : [];
      case "stop":
        pump.stop();
        for (const p of host.processes.values()) p.controller.abort();
        return true;
    }
  }

  port.on("message", (data: Uint8Array) => {
    const req = unpack(data) as Request;
    if (!("id" in req)) {
      void handle(req);
      return;
    }
    handle(req).then(
      (value) => send({ type: "reply", id: req.id, ok: true, value }),
      (err: unknown) => send({ type: "reply", id: req.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
    );
  });
}
