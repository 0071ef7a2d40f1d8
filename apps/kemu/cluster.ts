import { HostClient, type WireLocation } from "@kemu/node";
import type { ClusterDriver, ClusterSpec, ExecResult, Location, ShellSession } from "./driver.ts";

/**
 * Starts an emulated cluster: one worker thread per node (node1…nodeN), each
 * booting its own kernel and agents, talking to this thread in msgpackr.
 */
export async function startCluster(spec: ClusterSpec): Promise<ClusterDriver> {
  const clients: HostClient[] = [];
  for (let i = 1; i <= spec.nodes; i++) {
    clients.push(
      new HostClient({
        name: `node${i}`,
        index: i,
        // Each host draws from its own stream, derived from the run's seed.
        seed: (Math.imul(spec.seed >>> 0, 0x9e3779b1) + i) >>> 0,
        time: spec.time,
        capture: spec.capture,
      }),
    );
  }
  // Wait until every worker has booted and answers.
  await Promise.all(clients.map((c) => c.request({ type: "now" })));
  return new WorkerCluster(clients);
}

class WorkerCluster implements ClusterDriver {
  readonly hosts: readonly string[];
  #nextSession = 1;

  constructor(private readonly clients: readonly HostClient[]) {
    this.hosts = clients.map((c) => c.name);
  }

  async exec(location: Location, command: string, options: { stdin?: string } = {}): Promise<ExecResult> {
    const client = await this.#clientFor(location);
    if (typeof client === "string") return { exit: 1, stdout: "", stderr: `${client}\n` };
    const wire = location as WireLocation;
    return client.request<ExecResult>({
      type: "exec",
      location: wire,
      command,
      ...(options.stdin !== undefined ? { stdin: options.stdin } : {}),
    });
  }

  async sleep(ms: number): Promise<void> {
    await Promise.all(this.clients.map((c) => c.request({ type: "advance", ms })));
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
    const lists = await Promise.all(this.clients.map((c) => c.request<string[]>({ type: "pcaps", dir })));
    return lists.flat();
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.terminate()));
  }

  /** The host that runs a location: a named host, or whichever node has the container. */
  async #clientFor(location: Location): Promise<HostClient | string> {
    if (location.kind === "host") {
      return this.clients.find((c) => c.name === location.host) ?? `kemu: no host named ${location.host} in this cluster`;
    }
    for (const c of this.clients) {
      if (await c.request<boolean>({ type: "locate", location: location as WireLocation })) return c;
    }
    return location.kind === "container"
      ? `Error response from daemon: No such container: ${location.name}`
      : `Error from server (NotFound): pods "${location.pod}" not found`;
  }
}
