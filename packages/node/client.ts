import { Worker } from "node:worker_threads";
import { unpack } from "msgpackr";
import type { Reply, Request, WorkerInit } from "./protocol.ts";
import { postPacked } from "./message.ts";
import { lacksCodeCache, workerEntry, workerScript } from "./worker_entry.ts";

/** The young generation of a host worker's heap, MB. */
const YOUNG_GENERATION_MB = 2;

type Pending = { resolve(v: unknown): void; reject(e: Error): void };
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The main thread's handle on one host worker: requests out, replies and shell output in. */
export class HostClient {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  readonly #sessions = new Map<number, { output(chunk: string, stream: "stdout" | "stderr"): void; exited(code: number): void }>();
  #nextId = 1;
  #dead: Error | undefined;
  #onBus: ((msg: import("./bus.ts").BusMessage) => void) | undefined;
  /** Bus messages that arrived before a relay was attached (a host talks as it boots). */
  readonly #early: import("./bus.ts").BusMessage[] = [];

  /** Answers the host's `kemu` command (its arguments); without a handler the command is refused. */
  onCall: ((args: readonly string[]) => Promise<{ exit: number; stdout: string; stderr: string }>) | undefined;

  /** Real time: where bus messages from this host go (the cluster relays them); early ones are handed over at once. */
  set onBus(relay: ((msg: import("./bus.ts").BusMessage) => void) | undefined) {
    this.#onBus = relay;
    if (relay) for (const msg of this.#early.splice(0)) relay(msg);
  }

  /** Starts a host worker; `entry` is the worker script (a node's by default). */
  constructor(
    readonly init: WorkerInit,
    readonly entry: URL = workerEntry(new URL("./worker.js", import.meta.url)),
  ) {
    // A small young generation: an idle host's RSS is mostly heap V8 grew and kept (27 → 24.6 MB per host at 4 MB; 2 MB saves ~2 MB more, boot CPU unchanged).
    const { script, argv } = workerScript(entry);
    this.#worker = new Worker(script, { argv, workerData: init, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } });
    this.#worker.on("message", (data: Uint8Array) => this.#onMessage(unpack(data) as Reply));
    this.#worker.on("error", (err) => this.#fail(err));
    this.#worker.on("exit", (code) => this.#fail(new Error(`host ${init.name} stopped (exit ${code})`)));
  }

  get name(): string {
    return this.init.name;
  }

  /** The worker thread's id (each host runs in a thread of its own). */
  get threadId(): number {
    return this.#worker.threadId;
  }

  /** Sends a request and resolves with the worker's answer. */
  request<T>(req: DistributiveOmit<Extract<Request, { id: number }>, "id">): Promise<T> {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      postPacked(this.#worker, { ...req, id });
    });
  }

  /** Sends a message that has no answer (stdin for a session). */
  notify(msg: Extract<Request, { type: "stdin" | "stdin-end" | "bus" | "answer" }>): void {
    if (!this.#dead) postPacked(this.#worker, msg);
  }

  /** Registers the callbacks of a shell session. */
  onSession(session: number, handlers: { output(chunk: string, stream: "stdout" | "stderr"): void; exited(code: number): void }): void {
    this.#sessions.set(session, handlers);
  }

  /** Terminates the worker at once, as a power cut would: nothing is asked of it first. */
  async kill(): Promise<void> {
    this.#fail(new Error(`host ${this.init.name} crashed`));
    await this.#worker.terminate();
  }

  /** Stops the worker. */
  async terminate(): Promise<void> {
    if (!this.#dead) {
      await this.request({ type: "stop" }).catch(() => undefined);
    }
    this.#dead ??= new Error("terminated");
    await this.#worker.terminate();
  }

  #onMessage(msg: Reply): void {
    if (msg.type === "reply") {
      const p = this.#pending.get(msg.id);
      this.#pending.delete(msg.id);
      if (!p) return;
      if (msg.ok) p.resolve(msg.value);
      else p.reject(new Error(msg.error));
    } else if (msg.type === "output") {
      this.#sessions.get(msg.session)?.output(msg.chunk, msg.stream);
    } else if (msg.type === "bus") {
      if (this.#onBus) this.#onBus(msg.msg);
      else this.#early.push(msg.msg);
    } else if (msg.type === "call") {
      const handler = this.onCall ?? (async () => ({ exit: 1, stdout: "", stderr: "kemu: this cluster takes no kemu commands from its hosts\n" }));
      handler(msg.args).then(
        (result) => this.notify({ type: "answer", call: msg.call, result }),
        (err: unknown) => this.notify({ type: "answer", call: msg.call, result: { exit: 1, stdout: "", stderr: `kemu: ${err instanceof Error ? err.message : String(err)}\n` } }),
      );
    } else if (msg.type === "exited") {
      this.#sessions.get(msg.session)?.exited(msg.code);
      this.#sessions.delete(msg.session);
    }
  }

  #fail(err: Error): void {
    if (this.#dead) return;
    this.#dead = err;
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
    // A login on a host that is gone ends as ssh's does when the far end drops.
    for (const s of this.#sessions.values()) s.exited(255);
    this.#sessions.clear();
  }
}

/**
 * Starts one worker per host, each booted (answering), in the order given.
 * When a bundle has no code cache yet, one worker of it boots first and
 * writes the cache, so that the others deserialize what it compiled
 * instead of compiling the bundle each (a hundred nodes share one bundle).
 */
export async function startHosts(hosts: readonly { init: WorkerInit; entry?: URL | undefined }[]): Promise<HostClient[]> {
  const clients: (HostClient | undefined)[] = hosts.map(() => undefined);
  const cold = new Map<string, number>();
  hosts.forEach((h, i) => {
    if (h.entry !== undefined && !cold.has(h.entry.href) && lacksCodeCache(h.entry)) cold.set(h.entry.href, i);
  });
  await Promise.all(
    [...cold.values()].map(async (i) => {
      const c = new HostClient(hosts[i]!.init, hosts[i]!.entry);
      clients[i] = c;
      await c.request({ type: "now" });
      await c.request({ type: "code-cache" });
    }),
  );
  hosts.forEach((h, i) => (clients[i] ??= new HostClient(h.init, h.entry)));
  const started = clients as HostClient[];
  await Promise.all(started.map((c) => c.request({ type: "now" })));
  return started;
}
