/**
 * An in-memory ClusterDriver for the front end's tests: commands answer from
 * a table, the clock is a number, and a shell echoes what it is fed.
 */
import type { ClusterDriver, ExecResult, Location, ShellOptions, ShellSession } from "./driver.ts";

/** How the fake answers a command: a fixed result, a function of stdin, or an error it throws. */
export type FakeAnswer = Partial<ExecResult> | ((stdin: string | undefined) => Partial<ExecResult>) | Error;

/** A record of what the front end asked of the fake. */
export type FakeCall =
  | { readonly op: "exec"; readonly location: Location; readonly command: string; readonly stdin?: string }
  | { readonly op: "sleep"; readonly ms: number }
  | { readonly op: "openShell"; readonly host: string; readonly interactive: boolean }
  | { readonly op: "line"; readonly line: string }
  | { readonly op: "end" }
  | { readonly op: "writePcaps"; readonly dir: string }
  | { readonly op: "shutdown" };

/** A fake cluster: `answers` maps a command line to its result (unknown commands exit 127). */
export class FakeDriver implements ClusterDriver {
  readonly hosts: readonly string[] = ["node1"];
  readonly calls: FakeCall[] = [];
  now = 0;

  constructor(readonly answers: Readonly<Record<string, FakeAnswer>> = {}) {}

  async exec(location: Location, command: string, options: { stdin?: string } = {}): Promise<ExecResult> {
    this.calls.push({ op: "exec", location, command, ...(options.stdin === undefined ? {} : { stdin: options.stdin }) });
    const answer = this.answers[command];
    if (answer instanceof Error) throw answer;
    if (answer === undefined) return { exit: 127, stdout: "", stderr: `sh: ${command.split(" ")[0]}: not found\n` };
    const partial = typeof answer === "function" ? answer(options.stdin) : answer;
    return { exit: 0, stdout: "", stderr: "", ...partial };
  }

  async sleep(ms: number): Promise<void> {
    this.calls.push({ op: "sleep", ms });
    this.now += ms;
  }

  /** A shell that prints `$ ` prompts when interactive, answers `echo …`, and exits on `exit [N]` or end of input. */
  async openShell(host: string, options: ShellOptions): Promise<ShellSession> {
    this.calls.push({ op: "openShell", host, interactive: options.interactive });
    const calls = this.calls;
    let done = (_code: number): void => {};
    const exited = new Promise<number>((resolve) => (done = resolve));
    const prompt = (): void => {
      if (options.interactive) options.onOutput(`root@${host}:~# `, "stdout");
    };
    prompt();
    return {
      writeLine(line: string): void {
        calls.push({ op: "line", line });
        const exit = /^exit(?: (\d+))?$/.exec(line);
        if (exit) return done(Number(exit[1] ?? 0));
        if (line.startsWith("echo ")) options.onOutput(line.slice(5) + "\n", "stdout");
        else options.onOutput(`sh: ${line}: not found\n`, "stderr");
        prompt();
      },
      end(): void {
        calls.push({ op: "end" });
        done(0);
      },
      exited,
    };
  }

  /** The fake's clock, ms. */
  clockMs(): number {
    return this.now;
  }

  async writePcaps(dir: string): Promise<string[]> {
    this.calls.push({ op: "writePcaps", dir });
    return [`${dir}/node1-root-docker0.pcap`, `${dir}/node1-root-eth0.pcap`];
  }

  async shutdown(): Promise<void> {
    this.calls.push({ op: "shutdown" });
  }
}
