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
