import type { Clock, NetNs } from "@kemu/kernel";
import type { Vfs } from "./vfs.ts";

/** Where a process writes: stdout or stderr. */
export interface Output {
  write(text: string): void;
}

/** Where a process reads: stdin. `undefined` means end of input. */
export interface Input {
  /** The next line without its newline, or undefined at end of input. */
  readLine(): Promise<string | undefined>;
  /** Everything until end of input. */
  readAll(): Promise<string>;
  /** Puts a line back to be read again (a reader that took it too late hands it back). */
  unread?(line: string): void;
}

/** Whose tools a userland imitates: busybox (in containers) or the GNU/iputils/iproute2 ones (on hosts). */
export type Flavour = "busybox" | "gnu";

/** What a running command sees of the world: its arguments, streams, namespace and files. */
export interface ProcessContext {
  /** argv[0] is the command name as typed. */
  readonly argv: readonly string[];
  readonly env: Map<string, string>;
  readonly stdin: Input;
  readonly stdout: Output;
  readonly stderr: Output;
  /** The network namespace the process runs in. */
  readonly netns: NetNs;
  /** The files it sees (a container's own root, or the host's). */
  readonly fs: Vfs;
  /** The host it runs on (kernel, runtime, named namespaces). */
  readonly host: HostServices;
  /** The host's clock: all waiting goes through it. */
  readonly clock: Clock;
  /** Aborted when the process is killed (Ctrl-C, docker rm -f). */
  readonly signal: AbortSignal;
  /** Which real tools' output this userland imitates. */
  readonly flavour: Flavour;
  /** The UTS hostname the process sees. */
  readonly hostname: string;
  /** The programs this process's userland has (its image's, or the host's). */
  readonly commands: CommandTable;
  /** Runs a command line with this process's namespace, files and streams unless overridden. */
  spawn(argv: readonly string[], overrides?: SpawnOverrides): Promise<number>;
}

/** What a child process may change from its parent. */
export interface SpawnOverrides {
  netns?: NetNs | undefined;
  fs?: Vfs | undefined;
  stdin?: Input | undefined;
  stdout?: Output | undefined;
  stderr?: Output | undefined;
  env?: Map<string, string> | undefined;
  flavour?: Flavour | undefined;
  hostname?: string | undefined;
  /** The command table to resolve argv[0] in (a container image's). */
  commands?: CommandTable | undefined;
}

/** A program: runs to completion and returns its exit status. */
export type Command = (ctx: ProcessContext) => Promise<number>;

/** The programs one userland (an image, or the host) has, by name. */
export type CommandTable = ReadonlyMap<string, Command>;

/** What the host offers its processes beyond the kernel's namespace. */
export interface HostServices {
  /** The host's name (node1…). */
  readonly name: string;
  readonly kernel: import("@kemu/kernel").Kernel;
  /** Namespaces made with `ip netns add`, by name. */
  readonly namedNetns: Map<string, NetNs>;
  /** The process table (ps, kill). */
  readonly processes: ReadonlyMap<number, { readonly pid: number; readonly argv: readonly string[]; readonly netns: NetNs; readonly controller: AbortController; readonly group: string | undefined; readonly startedAt: number }>;
  /** Host-wide services looked up by name (the Docker runtime, …). */
  service<T>(name: string): T | undefined;
}

/** Waits `ms` of emulated time; resolves early (false) if the process is killed. */
export function sleep(ctx: Pick<ProcessContext, "clock" | "signal">, ms: number): Promise<boolean> {
  if (ctx.signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      timer.cancel();
      resolve(false);
    };
    const timer = ctx.clock.setTimer(ms, () => {
      ctx.signal.removeEventListener("abort", onAbort);
      resolve(true);
    });
    ctx.signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Input that has nothing: reads end at once. */
export const EMPTY_INPUT: Input = {
  readLine: () => Promise.resolve(undefined),
  readAll: () => Promise.resolve(""),
};

/** Input over a fixed text. */
export function textInput(text: string): Input {
  const lines = text === "" ? [] : text.replace(/\n$/, "").split("\n");
  let done = false;
  return {
    readLine: () => Promise.resolve(lines.shift()),
    readAll: () => {
      if (done) return Promise.resolve("");
      done = true;
      const rest = lines.length > 0 ? `${lines.splice(0).join("\n")}${text.endsWith("\n") ? "\n" : ""}` : "";
      return Promise.resolve(rest);
    },
  };
}

/** Output that keeps what is written, for pipes and captured results. */
export class BufferOutput implements Output {
  #chunks: string[] = [];
  write(text: string): void {
    this.#chunks.push(text);
  }
  get text(): string {
    return this.#chunks.join("");
  }
}

/**
 * A pipe between two processes: the writer's output is the reader's input;
 * the reader sees end of input once the writer closes.
 */
export class Pipe implements Output, Input {
  #buffer = "";
  #closed = false;
  #waiters: Array<() => void> = [];

  write(text: string): void {
    if (this.#closed) return;
    this.#buffer += text;
    this.#wake();
  }

  close(): void {
    this.#closed = true;
    this.#wake();
  }

  unread(line: string): void {
    this.#buffer = `${line}\n${this.#buffer}`;
    this.#wake();
  }

  async readLine(): Promise<string | undefined> {
    for (;;) {
      const nl = this.#buffer.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buffer.slice(0, nl);
        this.#buffer = this.#buffer.slice(nl + 1);
        return line;
      }
      if (this.#closed) {
        if (this.#buffer === "") return undefined;
        const line = this.#buffer;
        this.#buffer = "";
        return line;
      }
      await new Promise<void>((r) => this.#waiters.push(r));
    }
  }

  async readAll(): Promise<string> {
    while (!this.#closed) await new Promise<void>((r) => this.#waiters.push(r));
    const all = this.#buffer;
    this.#buffer = "";
    return all;
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }
}

/** Writes one line to stderr in the usual `prog: message` form and returns `code`. */
export function fail(ctx: ProcessContext, message: string, code = 1): number {
  ctx.stderr.write(`${message}\n`);
  return code;
}
