import type { Bus, BusMessage } from "./bus.ts";
import type { Host, ProcessSpec } from "./host.ts";
import { type Input, type Output, Pipe } from "./process.ts";

/** Where a remote command runs on the serving host. */
export type SpecResolver = (
  target: unknown,
  io: { stdin: Input; stdout: Output; stderr: Output },
) => ProcessSpec | string;

/** A request to run a command on another host. */
export interface ExecRequestBody {
  id: number;
  /** Interpreted by the serving host (a container, a pod's container, or the host itself when undefined). */
  target?: unknown;
  /** A command line for `sh -c`; absent for an interactive login shell. */
  command?: string;
  /** A program and its arguments, run without a shell (kubectl exec). */
  argv?: string[];
  interactive: boolean;
  /** Print each line read after its prompt (a piped transcript, KEMU_ECHO). */
  echo?: boolean;
}

/**
 * Serves `exec` requests on a host: runs the command (or a login shell),
 * streams its output back and takes its input from `exec-in` messages.
 */
export function serveRemoteExec(host: Host, bus: Bus, resolve: SpecResolver): void {
  const sessions = new Map<string, Pipe>();
  bus.handle("exec", (msg: BusMessage) => {
    const req = msg.body as ExecRequestBody;
    const key = `${msg.from}/${req.id}`;
    const stdin = new Pipe();
    if (!req.interactive) stdin.close();
    sessions.set(key, stdin);
    const stdout: Output = { write: (chunk) => bus.send(msg.from, "exec-out", { id: req.id, chunk, stream: "stdout" }) };
    const stderr: Output = { write: (chunk) => bus.send(msg.from, "exec-out", { id: req.id, chunk, stream: "stderr" }) };
    const finish = (code: number) => {
      sessions.delete(key);
      bus.send(msg.from, "exec-exit", { id: req.id, code });
    };
    const spec = resolve(req.target, { stdin, stdout, stderr });
    if (typeof spec === "string") {
      stderr.write(`${spec}\n`);
      finish(1);
      return;
    }
    if (req.echo) spec.env.set("KEMU_ECHO", "1");
    const shell = spec.commands.has("bash") ? "bash" : "sh";
    const argv = req.argv ?? (req.command === undefined ? [shell, "-i"] : [shell, "-c", req.command]);
    let running: Promise<number>;
    try {
      running = host.spawn(argv, spec);
    } catch {
      stderr.write(
        req.argv
          ? `OCI runtime exec failed: exec failed: unable to start container process: exec: "${req.argv[0]}": executable file not found in $PATH: unknown\n`
          : `${shell}: not found\n`,
      );
      finish(req.argv ? 126 : 127);
      return;
    }
    void running.then(finish);
  });
  bus.handle("exec-in", (msg) => {
    const body = msg.body as { id: number; line?: string; end?: boolean };
    const stdin = sessions.get(`${msg.from}/${body.id}`);
    if (!stdin) return;
    if (body.end) stdin.close();
    else stdin.write(`${body.line}\n`);
  });
}

/** The client side: runs a command on `to` and streams its output into `io`. */
export class RemoteExecClient {
  #nextId = 1;
  readonly #running = new Map<number, { io: { stdout: Output; stderr: Output }; done: (code: number) => void }>();

  constructor(private readonly bus: Bus) {
    bus.handle("exec-out", (msg) => {
      const b = msg.body as { id: number; chunk: string; stream: "stdout" | "stderr" };
      const r = this.#running.get(b.id);
      (b.stream === "stdout" ? r?.io.stdout : r?.io.stderr)?.write(b.chunk);
    });
    bus.handle("exec-exit", (msg) => {
      const b = msg.body as { id: number; code: number };
      const r = this.#running.get(b.id);
      this.#running.delete(b.id);
      r?.done(b.code);
    });
  }

  /**
   * Runs `command` (or an interactive shell) on host `to`, feeding it lines of
   * `io.stdin` when interactive. Resolves with the remote exit status.
   */
  run(
    to: string,
    request: Omit<ExecRequestBody, "id">,
    io: { stdin: Input; stdout: Output; stderr: Output },
    signal?: AbortSignal,
  ): Promise<number> {
    const id = this.#nextId++;
    return new Promise<number>((resolve) => {
      let finished = false;
      this.#running.set(id, {
        io,
        done: (code) => {
          finished = true;
          resolve(code);
        },
      });
      this.bus.send(to, "exec", { ...request, id });
      signal?.addEventListener("abort", () => {
        if (!finished) this.bus.send(to, "exec-in", { id, end: true });
      });
      if (request.interactive) {
        void (async () => {
          for (;;) {
            const line = await io.stdin.readLine();
            if (finished) {
              if (line !== undefined) io.stdin.unread?.(line);
              return;
            }
            if (line === undefined) {
              this.bus.send(to, "exec-in", { id, end: true });
              return;
            }
            this.bus.send(to, "exec-in", { id, line });
          }
        })();
      }
    });
  }
}
