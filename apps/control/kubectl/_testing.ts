/** Test helpers: kubectl on a `control` host sharing the clock of a test cluster. */
import type { KubeObject, Pod } from "@kemu/api";
import { BufferOutput, Host, textInput } from "@kemu/node";
import { TestCluster, type TestClusterOptions } from "../_testing.ts";
import type { PodExec, PodLogs } from "./_env.ts";
import { makeKubectl } from "./kubectl.ts";

/** What one kubectl run printed and returned. */
export interface Run {
  exit: number;
  stdout: string;
  stderr: string;
}

/** A test cluster with a control host that has kubectl. */
export class KubectlHarness {
  readonly cluster: TestCluster;
  readonly host: Host;
  exec: PodExec | undefined;
  logs: PodLogs | undefined;

  constructor(options: TestClusterOptions = {}) {
    this.cluster = new TestCluster({ controllers: false, kubelets: false, ...options });
    this.host = new Host("control", { seed: 1, clock: this.cluster.clock });
    this.host.commands.set(
      "kubectl",
      makeKubectl({
        api: () => this.cluster.server,
        exec: (pod, c, argv, io) => (this.exec ? this.exec(pod, c, argv, io) : Promise.resolve(0)),
        logs: (pod, c, o) => (this.logs ? this.logs(pod, c, o) : Promise.resolve("")),
        server: "https://192.168.56.10:6443",
      }),
    );
  }

  /** Runs `kubectl ARGS…` to completion on the emulated clock. */
  async kubectl(args: string | string[], options: { stdin?: string; maxMs?: number } = {}): Promise<Run> {
    const argv = ["kubectl", ...(Array.isArray(args) ? args : args.split(" ").filter((a) => a !== ""))];
    const stdout = new BufferOutput();
    const stderr = new BufferOutput();
    const spec = this.host.rootSpec({ stdin: textInput(options.stdin ?? ""), stdout, stderr });
    const exit = await this.host.runToCompletion(this.host.spawn(argv, spec), options.maxMs !== undefined ? { maxMs: options.maxMs } : {});
    return { exit, stdout: stdout.text, stderr: stderr.text };
  }

  /** Writes a file on the control host. */
  file(path: string, text: string): void {
    this.host.fs.writeFile(path, text);
  }

  /** Moves emulated time on. */
  advance(ms: number): void {
    this.cluster.clock.runUntil(this.cluster.clock.now() + ms);
  }

  /** Creates an object directly (no kubectl), then sets its status if given. */
  create<T extends KubeObject>(resource: string, obj: T, status?: unknown): T {
    const ns = obj.metadata.namespace ?? "default";
    const created = this.cluster.server.direct.create<T>(resource, ns, obj);
    if (status === undefined) return created;
    return this.cluster.server.direct.updateStatus<T>(resource, ns, { ...created, status } as T);
  }

  /** A pod with one container per name (image = name), bound to `node` if given, with `status`. */
  pod(name: string, options: { containers?: string[]; node?: string; status?: Pod["status"]; labels?: Record<string, string>; namespace?: string } = {}): Pod {
    const pod: Pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: options.namespace ?? "default", ...(options.labels ? { labels: options.labels } : {}) },
      spec: {
        containers: (options.containers ?? ["nginx"]).map((c) => ({ name: c, image: c })),
        ...(options.node ? { nodeName: options.node } : {}),
      },
    };
    return this.create("pods", pod, options.status);
  }

  /** The RFC 3339 stamp of emulated time `ms`. */
  at(ms: number): string {
    return this.cluster.server.timestamp(ms - this.cluster.clock.now());
  }
}
