import type { BusMessage } from "./bus.ts";

/**
 * Messages between the main thread and a host's worker, encoded with
 * msgpackr. Requests carry an id; the worker answers each with a reply.
 */

/** A place to run a command, as the front end names it. */
export type WireLocation =
  | { kind: "host"; host: string }
  | { kind: "container"; name: string }
  | { kind: "pod"; namespace: string; pod: string; container?: string };

/** What the main thread asks of a host. */
export type Request =
  | { type: "exec"; id: number; location: WireLocation; command: string; stdin?: string }
  | { type: "locate"; id: number; location: WireLocation }
  | { type: "advance"; id: number; ms: number }
  /** Collect garbage now, if the process runs with --expose-gc (memory figures): whether it could. */
  | { type: "gc"; id: number }
  /** This worker's heap (V8's figures for its isolate, bytes): memory figures. */
  | { type: "heap"; id: number }
  /** Write the code cache of this worker's bundle now, if it had none (see code_cache.ts): whether it did. */
  | { type: "code-cache"; id: number }
  /** Lockstep time: start a command without waiting; its result comes in a round's report. */
  | { type: "start"; id: number; job: number; location: WireLocation; command: string; stdin?: string }
  /** Lockstep time: take arrived frames, run every event before `until`, then stand at `until`. */
  | { type: "round"; id: number; until: number; inbox: BusMessage[] }
  /** Real time: a bus message relayed at once. */
  | { type: "bus"; msg: BusMessage }
  | { type: "kill"; id: number; job: number }
  /** Stops or starts one of the host's agents (kubelet, kube-proxy, flanneld). */
  | { type: "agent"; id: number; agent: string; action: "stop" | "start" }
  /**
   * A link fault: shape frames this host sends towards the given peers
   * (matched by destination MAC or IPv4 address) with netem, for `forMs`.
   */
  | {
    type: "netem";
    id: number;
    peers: { macs: number[]; ips: number[] };
    config: Partial<import("@kemu/kernel").NetemConfig>;
    forMs?: number;
    /** A flapping link: everything dropped for `downMs`, then carried (as `config` says) for `upMs`, over and over. */
    flap?: { downMs: number; upMs: number };
  }
  /** The answer to a host's `call`: what the `kemu` command prints and its exit status. */
  | { type: "answer"; call: number; result: { exit: number; stdout: string; stderr: string } }
  | { type: "shell"; id: number; session: number; interactive: boolean }
  | { type: "stdin"; session: number; line: string }
  | { type: "stdin-end"; session: number }
  | { type: "pcaps"; id: number; dir: string }
  | { type: "now"; id: number }
  | { type: "stop"; id: number };

/** What a host sends back. */
export type Reply =
  | { type: "reply"; id: number; ok: true; value: unknown }
  | { type: "reply"; id: number; ok: false; error: string }
  | { type: "output"; session: number; chunk: string; stream: "stdout" | "stderr" }
  | { type: "exited"; session: number; code: number }
  /** Real time: a bus message for the main thread to relay. */
  | { type: "bus"; msg: BusMessage }
  /** The host's `kemu` command, typed in one of its shells: the main thread acts on the cluster and answers. */
  | { type: "call"; call: number; args: string[] };

/** What a host reports after a lockstep round. */
export interface RoundReport {
  /** Its earliest pending timer, if any. */
  nextAt: number | undefined;
  /** The earliest send time of the frames it put on the underlay this round. */
  minSent: number | undefined;
  /** Bus messages sent this round, to be delivered in the next. */
  outbox: BusMessage[];
  /** Commands that finished this round. */
  finished: Array<{ job: number; result: { exit: number; stdout: string; stderr: string } }>;
}

/** One of a host's NICs on an underlay segment. */
export interface LinkInit {
  ifname: string;
  mac: number;
  /** Address and prefix, e.g. 192.168.0.11/24. */
  cidr: string;
  segment: import("@kemu/underlay").SegmentLayout;
  member: number;
}

/** What kind of host a worker boots. */
export type HostRole = "node" | "router" | "outside" | "control";

/** How a host worker is started (workerData). */
export interface WorkerInit {
  name: string;
  index: number;
  seed: number;
  role: HostRole;
  time: "virtual" | "real";
  capture: boolean;
  links: LinkInit[];
  /** Default gateway, if any. */
  gateway?: string | undefined;
  /** The host that runs the API server, if the cluster has one: node agents talk to it. */
  control?: string | undefined;
  /** Real time, on the control host: where to write the kubeconfig of the Kubernetes REST API it serves on 127.0.0.1. */
  kubeconfig?: string | undefined;
  /** flanneld's backend on nodes of a cluster with a control plane (vxlan by default). */
  flannelBackend?: "vxlan" | "udp" | "host-gw" | undefined;
  /** kube-proxy's `--proxy-mode` on nodes; iptables when not given. */
  proxyMode?: "iptables" | "ipvs" | undefined;
  /** The pod network (flannel's Network, node IPAM's cluster CIDR) and the per-node subnet length. */
  flannelNetwork?: { network: string; subnetLen: number } | undefined;
  /** Every host of the cluster with its addresses (for ssh and the bus). */
  hosts: Array<{ name: string; addrs: string[] }>;
  /** Latency of bus messages, ms. */
  busLatencyMs: number;
  /** Emulated time the host boots at (a node restarted mid-run), ms; 0 by default. */
  startAt?: number | undefined;
  /** Wall-clock instant (ms since the Unix epoch) that is emulated time 0 in real-time mode. */
  epochWall: number;
}
