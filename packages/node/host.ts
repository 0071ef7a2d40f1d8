import { EventLoop, Kernel, type NetNs, Rng } from "@kemu/kernel";
import { parseIpv4Addr } from "@kemu/wire";
import {
  BufferOutput,
  type Command,
  type CommandTable,
  EMPTY_INPUT,
  type Flavour,
  type HostServices,
  type Input,
  type Output,
  type ProcessContext,
  type SpawnOverrides,
  textInput,
} from "./process.ts";
import { Vfs } from "./vfs.ts";

/** A command name that no table knows; the shell reports it in its own words. */
export class CommandNotFound extends Error {
  override readonly name = "CommandNotFound";
  constructor(readonly command: string) {
    super(`${command}: not found`);
  }
}

/** One process in the host's process table (`ps`). */
export interface ProcessEntry {
  readonly pid: number;
  readonly argv: readonly string[];
  readonly netns: NetNs;
  readonly controller: AbortController;
  /** The container it belongs to, if any. */
  readonly group: string | undefined;
  readonly startedAt: number;
}

/** Everything a process is started with. */
export interface ProcessSpec {
  netns: NetNs;
  fs: Vfs;
  commands: CommandTable;
  flavour: Flavour;
  hostname: string;
  env: Map<string, string>;
  stdin: Input;
  stdout: Output;
  stderr: Output;
  /** The container the process belongs to (killed with it). */
  group?: string | undefined;
  /** Aborting this kills the process (and its children). */
  parentSignal?: AbortSignal | undefined;
}

/** Options of a host. */
export interface HostOptions {
  /** Seed of every random choice on this host. */
  seed: number;
  /** The host's clock; a fresh virtual one by default. */
  clock?: EventLoop;
}

/** The result of running a command line to completion. */
export interface ExecResult {
  exit: number;
  stdout: string;
  stderr: string;
}

/**
 * One emulated host: a kernel, a root file system, a process table, the
 * host's own userland, and services (the Docker runtime…) registered by name.
 */
export class Host implements HostServices {
  readonly kernel: Kernel;
  readonly clock: EventLoop;
  readonly rng: Rng;
  readonly fs = new Vfs();
  readonly namedNetns = new Map<string, NetNs>();
  readonly processes = new Map<number, ProcessEntry>();
  readonly #services = new Map<string, unknown>();
  #nextPid = 1;
  /** The host's own programs (bash-like sh, iproute2, iputils, docker…). */
  commands: Map<string, Command> = new Map();

  constructor(
    readonly name: string,
    options: HostOptions,
  ) {
    this.clock = options.clock ?? new EventLoop();
    this.rng = new Rng(options.seed);
    this.kernel = new Kernel({ clock: this.clock, rng: this.rng.fork() });
    const root = this.kernel.root;
    root.setUp(root.lo, true);
    this.fs.writeFile("/etc/hostname", `${name}\n`);
    this.fs.writeFile("/etc/hosts", `127.0.0.1\tlocalhost\n127.0.1.1\t${name}\n`);
    this.fs.writeFile("/etc/resolv.conf", "nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n");
    this.fs.mkdir("/root");
    this.fs.mkdir("/tmp");
  }

  service<T>(name: string): T | undefined {
    return this.#services.get(name) as T | undefined;
  }

  /** Registers a host-wide service (the Docker runtime, kubelet…). */
  provide(name: string, service: unknown): void {
    this.#services.set(name, service);
  }

  /** What a process in the host's root namespace is started with. */
  rootSpec(io: { stdin?: Input; stdout: Output; stderr: Output }): ProcessSpec {
    return {
      netns: this.kernel.root,
      fs: this.fs,
      commands: this.commands,
      flavour: "gnu",
      hostname: this.name,
      env: new Map([
        ["HOME", "/root"],
        ["PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        ["USER", "root"],
        ["HOSTNAME", this.name],
      ]),
      stdin: io.stdin ?? EMPTY_INPUT,
      stdout: io.stdout,
      stderr: io.stderr,
    };
  }

  /** Starts `argv` as a new process; resolves with its exit status. Throws CommandNotFound. */
  spawn(argv: readonly string[], spec: ProcessSpec): Promise<number> {
    const name = argv[0] ?? "";
    const base = name.includes("/") ? name.slice(name.lastIndexOf("/") + 1) : name;
    const command = spec.commands.get(base);
    if (command === undefined) throw new CommandNotFound(name);
    const controller = new AbortController();
    const parent = spec.parentSignal;
    // A signal's name travels as the abort reason (SIGINT → exit 130 in the shell).
    const onParentAbort = () => controller.abort(parent?.reason);
    if (parent?.aborted) controller.abort(parent.reason);
    else parent?.addEventListener("abort", onParentAbort, { once: true });
    const pid = this.#nextPid++;
    const entry: ProcessEntry = {
      pid,
      argv: [...argv],
      netns: spec.netns,
      controller,
      group: spec.group,
      startedAt: this.clock.now(),
    };
    this.processes.set(pid, entry);
    const ctx = this.#context(argv, spec, controller.signal);
    const done = (async () => {
      try {
        return await command(ctx);
      } catch (err) {
        spec.stderr.write(`${base}: ${err instanceof Error ? err.message : String(err)}\n`);
        return 1;
      } finally {
        this.processes.delete(pid);
        parent?.removeEventListener("abort", onParentAbort);
      }
    })();
    return done;
  }

  /** Kills every process of a group (a container). */
  killGroup(group: string): void {
    for (const p of this.processes.values()) if (p.group === group) p.controller.abort();
  }

  /**
   * Runs a command line through `sh -c` with `spec` (the root namespace by
   * default) and collects its output. On a virtual clock, emulated time runs
   * while the command waits, and stops when it exits.
   */
  async exec(
    commandLine: string,
    options: {
      stdin?: string;
      spec?: (io: { stdin: Input; stdout: Output; stderr: Output }) => ProcessSpec;
      /** Drive the virtual clock until the command exits (default); false when something else drives time. */
      drive?: boolean;
    } = {},
  ): Promise<ExecResult> {
    const stdout = new BufferOutput();
    const stderr = new BufferOutput();
    const io = { stdin: options.stdin !== undefined ? textInput(options.stdin) : EMPTY_INPUT, stdout, stderr };
    let spec: ProcessSpec;
    try {
      spec = options.spec ? options.spec(io) : this.rootSpec(io);
    } catch (err) {
      // The place to run vanished (a container stopped): say so in the tool's words.
      return { exit: 1, stdout: "", stderr: `${err instanceof Error ? err.message : String(err)}\n` };
    }
    const shell = spec.commands.has("sh") ? "sh" : "bash";
    let running: Promise<number>;
    try {
      running = this.spawn([shell, "-c", commandLine], spec);
    } catch (err) {
      return { exit: 127, stdout: "", stderr: `kemu: ${(err as Error).message}\n` };
    }
    const exit = options.drive === false ? await running : await this.runToCompletion(running);
    return { exit, stdout: stdout.text, stderr: stderr.text };
  }

  /**
   * Drives the virtual clock until `work` settles: lets every runnable
   * process run, then jumps to the next timer. Throws if nothing is left
   * that could ever finish it.
   */
  async runToCompletion<T>(work: Promise<T>, options: { maxMs?: number } = {}): Promise<T> {
    let settled = false;
    const watched = work.finally(() => {
      settled = true;
    });
    const limit = this.clock.now() + (options.maxMs ?? Number.POSITIVE_INFINITY);
    while (!settled) {
      await drainMicrotasks();
      if (settled) break;
      const next = this.clock.nextAt();
      if (next === undefined || next > limit) {
        throw new Error("the command is waiting for something that can never happen (no timers left)");
      }
      this.clock.runUntil(next);
    }
    return watched;
  }

  /** Advances the virtual clock by `ms`, letting processes run as timers fire. */
  async advance(ms: number): Promise<void> {
    const until = this.clock.now() + ms;
    for (;;) {
      await drainMicrotasks();
      const next = this.clock.nextAt();
      if (next === undefined || next > until) break;
      this.clock.runUntil(next);
    }
    this.clock.runUntil(until);
    await drainMicrotasks();
  }

  #context(argv: readonly string[], spec: ProcessSpec, signal: AbortSignal): ProcessContext {
    return {
      argv,
      env: spec.env,
      stdin: spec.stdin,
      stdout: spec.stdout,
      stderr: spec.stderr,
      netns: spec.netns,
      fs: spec.fs,
      host: this,
      clock: this.clock,
      signal,
      flavour: spec.flavour,
      hostname: spec.hostname,
      commands: spec.commands,
      spawn: (childArgv: readonly string[], o: SpawnOverrides = {}) =>
        this.spawn(childArgv, {
          netns: o.netns ?? spec.netns,
          fs: o.fs ?? spec.fs,
          commands: o.commands ?? spec.commands,
          flavour: o.flavour ?? spec.flavour,
          hostname: o.hostname ?? spec.hostname,
          env: o.env ?? new Map(spec.env),
          stdin: o.stdin ?? spec.stdin,
          stdout: o.stdout ?? spec.stdout,
          stderr: o.stderr ?? spec.stderr,
          group: spec.group,
          parentSignal: signal,
        }),
    };
  }
}

/** Lets every pending promise continuation run (all macrotasks queued before are done too). */
export function drainMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
