import type { Host } from "./host.ts";
import { type Output, Pipe } from "./process.ts";

/** An interactive login shell on a host, fed line by line (`kemu up`). */
export class ShellSession {
  readonly #stdin = new Pipe();
  readonly exited: Promise<number>;

  constructor(host: Host, options: { interactive: boolean; output: (chunk: string, stream: "stdout" | "stderr") => void }) {
    const stdout: Output = { write: (t) => options.output(t, "stdout") };
    const stderr: Output = { write: (t) => options.output(t, "stderr") };
    const spec = host.rootSpec({ stdin: this.#stdin, stdout, stderr });
    spec.env.set("PWD", "/root");
    if (!options.interactive) spec.env.set("KEMU_ECHO", "1");
    const shell = spec.commands.has("bash") ? "bash" : "sh";
    this.exited = host.spawn([shell, "-i"], spec);
  }

  writeLine(line: string): void {
    this.#stdin.write(`${line}\n`);
  }

  end(): void {
    this.#stdin.close();
  }
}
