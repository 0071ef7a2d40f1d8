/**
 * The contract between the kemu front end (CLI, scenario runner, shell) and
 * whatever runs the emulated hosts. The real implementation starts one worker
 * thread per host; tests of the runner may use a small in-memory one.
 */

/** Where a command runs. */
export type Location =
  /** A host's root namespace: `node1`…, `control`, `outside`. */
  | { readonly kind: "host"; readonly host: string }
  /** A Docker container by name (on whichever node runs it). */
  | { readonly kind: "container"; readonly name: string }
  /** A pod's container: `[namespace/]pod[:container]`. */
  | { readonly kind: "pod"; readonly namespace: string; readonly pod: string; readonly container?: string };

/** What a finished command left behind. */
export interface ExecResult {
  readonly exit: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** An interactive shell attached to a location (`kemu up`). */
export interface ShellSession {
  /** Feeds one line (without its newline) to the foreground process's stdin. */
  writeLine(line: string): void;
  /** Closes stdin (Ctrl-D or end of piped input). */
  end(): void;
  /** Resolves with the shell's exit code once it has exited. */
  readonly exited: Promise<number>;
}

/** Options of an interactive shell. */
export interface ShellOptions {
  /** Called with every chunk the session prints (prompts included). */
  onOutput(chunk: string, stream: "stdout" | "stderr"): void;
  /** True when a person is typing: the shell then prints prompts. */
  interactive: boolean;
}

/** One worker's heap (its V8 isolate), bytes: what process.memoryUsage() tells inside it. */
export interface HeapFigures {
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

/** A running emulated cluster. */
export interface ClusterDriver {
  /** The hosts, in order: `node1`…`nodeN` (and later `control`, `outside`). */
  readonly hosts: readonly string[];
  /** Runs a shell command line at `location` until it exits. */
  exec(location: Location, command: string, options?: { stdin?: string }): Promise<ExecResult>;
  /** Advances the emulated clock by `ms` milliseconds, running whatever falls due. */
  sleep(ms: number): Promise<void>;
  /** Opens an interactive login shell on a host. */
  openShell(host: string, options: ShellOptions): Promise<ShellSession>;
  /** Writes one pcap file per interface that carried traffic; returns the paths. */
  writePcaps(dir: string): Promise<string[]>;
  /** Stops every host. */
  shutdown(): Promise<void>;
  /** A power cut: the host's worker is terminated; the others go on without it. */
  crash?(host: string): Promise<void>;
  /** The cluster's emulated time, ms (lockstep time in virtual mode). */
  clockMs?(): number;
  /** Has every host's heap collected now, when the process runs with --expose-gc (memory figures); else nothing. */
  collectGarbage?(): Promise<void>;
  /** Each host worker's heap as V8 counts it (bytes): memory figures. */
  heaps?(): Promise<Map<string, HeapFigures>>;
  /** Stops or starts one agent of a host (kubelet, kube-proxy, flanneld). */
  agent?(host: string, agent: string, action: "stop" | "start"): Promise<void>;
  /** Boots a host again (after a crash, or as a reboot): a fresh worker that rejoins at the cluster's time. */
  restart?(host: string): Promise<void>;
  /**
   * Shapes traffic from each host of `from` towards the hosts of `to` (netem), for `forMs` (or until the run ends);
   * with `flap`, the link also drops everything for `downMs`, then carries for `upMs`, over and over, down first.
   */
  shape?(from: readonly string[], to: readonly string[], effect: LinkEffect, options?: ShapeOptions): Promise<void>;
  /** Boots a spare node for the first time: it joins the cluster at the cluster's time. */
  join?(host: string): Promise<void>;
  /**
   * Real time: answers the `kemu` command of the hosts' shells (`kemu fault …`) with `handler`,
   * given the host it was typed on and its arguments.
   */
  serveKemuCommand?(handler: (host: string, args: readonly string[]) => Promise<ExecResult>): void;
  /** The worker thread of each host, by host name (where hosts run in threads). */
  readonly threadIds?: ReadonlyMap<string, number>;
  /** Real time: the kubeconfig of the Kubernetes API the control host serves on 127.0.0.1 (kemu up prints it). */
  readonly kubeconfig?: string | undefined;
}

/** How a cluster is asked for: the scenario's `cluster:` block plus run options. */
export interface ClusterSpec {
  readonly nodes: number;
  /** `cluster.spare`: nodes after the others, powered off until they `join`. */
  readonly spare?: number | undefined;
  /** Seed of every random choice in the run (MACs, veth names, probabilities). */
  readonly seed: number;
  /** `virtual` runs on the emulated clock (kemu run); `real` follows the wall clock (kemu up). */
  readonly time: "virtual" | "real";
  /** Record frames for `writePcaps`. */
  readonly capture: boolean;
  /** kube-proxy's mode (`cluster.proxyMode`); iptables when not given. */
  readonly proxyMode?: "iptables" | "ipvs" | undefined;
  /** flannel's backend (`cluster.backend`); vxlan when not given. */
  readonly backend?: "vxlan" | "udp" | "host-gw" | undefined;
  /** `cluster.topology`: nodes on one underlay segment (flat) or on two behind the gateway (routed). */
  readonly topology?: "flat" | "routed" | undefined;
  /** `cluster.network`: flannel's pod network (and node IPAM's cluster CIDR) and subnet length. */
  readonly network?: { readonly network: string; readonly subnetLen: number; readonly backend: "vxlan" | "udp" | "host-gw" } | undefined;
}

/** How long a link fault lasts, and whether it flaps. */
export interface ShapeOptions {
  readonly forMs?: number;
  readonly flap?: { readonly downMs: number; readonly upMs: number };
}

/** What a link fault does to the frames it catches, in netem's terms (percentages 0–100, times in ms). */
export interface LinkEffect {
  delayMs?: number;
  jitterMs?: number;
  lossPct?: number;
  /** Gilbert–Elliott loss: p (good→bad), r (bad→good), loss in bad, loss in good, %. */
  gemodel?: { p: number; r: number; lossBad: number; lossGood: number };
  duplicatePct?: number;
  corruptPct?: number;
  reorderPct?: number;
  rateBps?: number;
  limit?: number;
}
