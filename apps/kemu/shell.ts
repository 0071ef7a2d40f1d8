/**
 * The main-thread side of `kemu up`: a login shell on an emulated host, fed
 * from this process's standard input line by line. The emulated shell prints
 * its own prompts; kemu adds none.
 */
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import type { ClusterDriver } from "./driver.ts";

/** Where the shell reads and writes, and whether a person is typing. */
export interface ShellOptions {
  readonly input: Readable;
  readonly output: Writable;
  readonly errorOutput: Writable;
  /**
   * A person at a terminal: line editing and history (readline in terminal
   * mode), a banner, and prompts from the emulated shell. Otherwise lines
   * are read and forwarded one by one and nothing extra is printed.
   */
  readonly interactive: boolean;
  /** The host to log in to; `node1` by default. */
  readonly host?: string;
}

/**
 * Opens a shell on a host of `driver` and connects it to `options`' streams
 * until it exits: each input line goes to the shell, end of input (Ctrl-D,
 * or the end of piped input) closes its stdin, and Ctrl-C ends input the
 * same way. Resolves with the shell's exit code; the caller shuts the cluster
 * down.
 */
export async function runShell(driver: ClusterDriver, options: ShellOptions): Promise<number> {
  const { input, output, errorOutput, interactive } = options;
  const host = options.host ?? "node1";
  if (interactive) errorOutput.write(banner(driver.hosts, host));

  // The text after the last newline the shell printed: its prompt, which
  // readline must redraw in front of the line being edited (after a
  // backspace, say), or the redraw would wipe it.
  let tail = "";
  let setPrompt = (_prompt: string): void => {};
  const session = await driver.openShell(host, {
    interactive,
    onOutput(chunk, stream) {
      (stream === "stderr" ? errorOutput : output).write(chunk);
      const newline = chunk.lastIndexOf("\n");
      tail = newline < 0 ? tail + chunk : chunk.slice(newline + 1);
      setPrompt(tail);
    },
  });

  const rl = createInterface({
    input,
    ...(interactive ? { output } : {}),
    terminal: interactive,
    prompt: tail,
    crlfDelay: Infinity,
  });
  setPrompt = (prompt) => rl.setPrompt(prompt);
  let exited = false;
  rl.on("line", (line) => {
    if (!exited) session.writeLine(line);
  });
  rl.on("close", () => {
    if (!exited) session.end();
  });
  try {
    return await session.exited;
  } finally {
    exited = true;
    rl.close();
  }
}

function banner(hosts: readonly string[], host: string): string {
  const nodes = hosts.filter((h) => /^node\d+$/.test(h));
  const count = `${nodes.length} node${nodes.length === 1 ? "" : "s"}`;
  return `kemu: ${count} up (${hosts.join(", ")}). You are on ${host}; leave with "exit" or Ctrl-D.\n`;
}
