import type { ApiClient, KubeObject, WatchEvent } from "@kemu/api";
import { Host, type ProcessSpec } from "./host.ts";
import { BufferOutput, textInput } from "./process.ts";
import { busyboxCommands, hostCommands } from "./userland/tables.ts";

/** A host named `name` with the host userland installed, on a virtual clock. */
export function testHost(name = "node1", seed = 1): Host {
  const host = new Host(name, { seed });
  host.commands = hostCommands();
  return host;
}

/**
 * Runs one program (no shell) with `argv` on `host` to completion on the
 * virtual clock. `spec` overrides the root-namespace defaults (netns, flavour…).
 */
export async function runCommand(
  host: Host,
  argv: string[],
  options: { stdin?: string; spec?: Partial<ProcessSpec>; busybox?: boolean } = {},
): Promise<{ exit: number; stdout: string; stderr: string }> {
  const stdout = new BufferOutput();
  const stderr = new BufferOutput();
  const spec: ProcessSpec = {
    ...host.rootSpec({ stdin: textInput(options.stdin ?? ""), stdout, stderr }),
    ...(options.busybox ? { commands: busyboxCommands(), flavour: "busybox" as const } : {}),
    ...options.spec,
  };
  const exit = await host.runToCompletion(host.spawn(argv, spec));
  return { exit, stdout: stdout.text, stderr: stderr.text };
}

/**
 * An ApiClient for tests that only watches: `emit` sends an event to the
 * watchers of a resource, and each new watch first replays `initial`'s
 * objects of its resource as ADDED. Everything else rejects.
 */
export function fakeWatchApi(initial: Record<string, KubeObject[]> = {}): { api: ApiClient; emit: (resource: string, ev: WatchEvent) => void } {
  const watchers = new Map<string, Array<(ev: WatchEvent) => void>>();
  const unsupported = () => Promise.reject(new Error("not in this fake"));
  const api = {
    get: unsupported,
    list: unsupported,
    create: unsupported,
    update: unsupported,
    updateStatus: unsupported,
    patch: unsupported,
    delete: unsupported,
    watch: <T extends KubeObject>(resource: string, _ns: string, _o: unknown, onEvent: (ev: WatchEvent<T>) => void) => {
      const list = watchers.get(resource) ?? [];
      list.push(onEvent as (ev: WatchEvent) => void);
      watchers.set(resource, list);
      for (const o of initial[resource] ?? []) onEvent({ type: "ADDED", object: o as T });
      return () => {};
    },
  } as unknown as ApiClient;
  return { api, emit: (resource, ev) => watchers.get(resource)?.forEach((w) => w(ev)) };
}
