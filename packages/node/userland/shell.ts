/**
 * `sh`, `bash` and `ash`: how the shell is started (`-c`, a script file, a
 * script on stdin, or an interactive session with a prompt) and the loop that
 * reads, parses and runs one complete command at a time.
 *
 * Interactive use: spawn `["bash", "-i"]` (host) or `["sh", "-i"]` (busybox)
 * with stdin fed line by line. The prompt is written to stdout before each
 * line (`root@node1:~# `, `/ # `, `> ` for continuation lines). With
 * `KEMU_ECHO=1` in the environment each line read is echoed after its
 * prompt, so a piped transcript reads like a terminal session.
 */
import type { Command, ProcessContext } from "../process.ts";
import { readLineAbortable } from "./_tool.ts";
import { ExitSignal, KilledSignal, LoopSignal, ReturnSignal } from "./sh_control.ts";
import { Shell, type ShellMode } from "./sh_exec.ts";
import { ExpansionError } from "./sh_expand.ts";
import { type List, NeedMore, parseAll, parseCommand, ShSyntaxError } from "./sh_parse.ts";

/** What a finished top-level command asks of the read loop. */
type Outcome = { exit: number } | undefined;

/** Runs one parsed command at the top level, turning exits, kills and expansion errors into an outcome. */
async function runTop(shell: Shell, list: List): Promise<Outcome> {
  try {
    shell.status = await shell.runList(list);
    return undefined;
  } catch (err) {
    if (err instanceof ExitSignal) return { exit: err.status };
    if (err instanceof KilledSignal) return { exit: shell.killedStatus() };
    if (err instanceof ExpansionError) {
      shell.status = shell.reportExpansion(err);
      return shell.mode === "interactive" ? undefined : { exit: shell.status };
    }
    if (err instanceof LoopSignal) return undefined;
    if (err instanceof ReturnSignal) {
      shell.status = err.status;
      return undefined;
    }
    shell.error(err instanceof Error ? err.message : String(err));
    shell.status = 1;
    return shell.mode === "interactive" ? undefined : { exit: 1 };
  }
}

function printWarnings(shell: Shell, warnings: readonly string[]): void {
  if (shell.busybox) return;
  for (const w of warnings) shell.io.stderr.write(`bash: warning: ${w}\n`);
}

/** Runs a whole text (`-c`, a script file) command by command. */
async function runText(shell: Shell, src: string): Promise<number> {
  let pos = 0;
  let line = 1;
  for (;;) {
    let parsed;
    try {
      parsed = parseCommand(src, pos, { final: true, line, bash: !shell.busybox });
    } catch (err) {
      if (err instanceof ShSyntaxError) {
        shell.reportSyntax(err, src);
        return err.kind === "subst" && !shell.busybox ? 1 : 2;
      }
      throw err;
    }
    if (parsed.list === undefined) return shell.status;
    printWarnings(shell, parsed.warnings);
    const outcome = await runTop(shell, parsed.list);
    if (outcome !== undefined) return outcome.exit;
    pos = parsed.end;
    line = parsed.line;
  }
}

/** The prompt from PS1/PS2 (bash-style escapes), as the flavour's default would show it. */
export function promptText(shell: Shell, continuation: boolean): string {
  if (continuation) return shell.vars.get("PS2") ?? "> ";
  const ps1 = shell.vars.get("PS1") ?? (shell.busybox ? "\\w \\$ " : "\\u@\\h:\\w\\$ ");
  const home = shell.vars.get("HOME");
  const cwd = shell.cwd;
  const tilde = home !== undefined && home !== "/" && (cwd === home || cwd.startsWith(`${home}/`)) ? `~${cwd.slice(home.length)}` : cwd;
  const user = shell.vars.get("USER") ?? "root";
  return ps1.replace(/\\([uhHwW$n\\[\]])/g, (_m, c: string) => {
    switch (c) {
      case "u":
        return user;
      case "h":
        return shell.ctx.hostname.split(".")[0]!;
      case "H":
        return shell.ctx.hostname;
      case "w":
        return tilde;
      case "W":
        return tilde === "~" || cwd === "/" ? tilde : cwd.slice(cwd.lastIndexOf("/") + 1);
      case "$":
        return user === "root" ? "#" : "$";
      case "n":
        return "\n";
      case "\\":
        return "\\";
      default:
        return "";
    }
  });
}

/** Reads commands line by line from stdin (a script, or an interactive session). */
async function readLoop(shell: Shell): Promise<number> {
  const ctx = shell.ctx;
  const interactive = shell.mode === "interactive";
  let buf = "";
  let line = 1;
  for (;;) {
    if (interactive) ctx.stdout.write(promptText(shell, buf !== ""));
    const r = await readLineAbortable(ctx.stdin, ctx.signal);
    if (r.aborted) return shell.killedStatus();
    if (r.line === undefined) {
      if (buf.trim() !== "") {
        try {
          const parsed = parseCommand(buf, 0, { final: true, line, bash: !shell.busybox });
          if (parsed.list !== undefined) {
            printWarnings(shell, parsed.warnings);
            const outcome = await runTop(shell, parsed.list);
            if (outcome !== undefined) return outcome.exit;
          }
        } catch (err) {
          if (!(err instanceof ShSyntaxError)) throw err;
          shell.reportSyntax(err, buf);
          shell.status = 2;
          if (!interactive) return 2;
        }
      }
      if (interactive) ctx.stdout.write(shell.busybox ? "\n" : "exit\n");
      return shell.status;
    }
    if (interactive && shell.vars.get("KEMU_ECHO") === "1") ctx.stdout.write(`${r.line}\n`);
    buf += `${r.line}\n`;
    for (;;) {
      let parsed;
      try {
        parsed = parseCommand(buf, 0, { final: false, line, bash: !shell.busybox });
      } catch (err) {
        if (err instanceof NeedMore) break;
        if (!(err instanceof ShSyntaxError)) throw err;
        shell.reportSyntax(err, buf);
        shell.status = err.kind === "subst" && !shell.busybox ? 1 : 2;
        if (!interactive) return shell.status;
        line += buf.split("\n").length - 1;
        buf = "";
        break;
      }
      if (parsed.list === undefined) {
        line = parsed.line;
        buf = "";
        break;
      }
      printWarnings(shell, parsed.warnings);
      buf = buf.slice(parsed.end);
      line = parsed.line;
      const outcome = await runTop(shell, parsed.list);
      if (outcome !== undefined) return outcome.exit;
      if (buf === "") break;
    }
  }
}

/** Parses the shell's own options and runs it. */
async function shellMain(ctx: ProcessContext): Promise<number> {
  const gnu = ctx.flavour === "gnu";
  const name = gnu ? "bash" : (ctx.argv[0] ?? "sh").slice((ctx.argv[0] ?? "sh").lastIndexOf("/") + 1) || "sh";
  const args = ctx.argv.slice(1);
  let cFlag = false;
  let iFlag = false;
  let sFlag = false;
  const set: Array<[string, boolean]> = [];
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--" || a === "-") {
      i++;
      break;
    }
    if (a.startsWith("--")) {
      if (["--login", "--norc", "--noprofile", "--posix", "--noediting"].includes(a)) continue;
      if (a === "--version" && gnu) {
        ctx.stdout.write("GNU bash, version 5.2.15(1)-release (x86_64-pc-linux-gnu)\n");
        return 0;
      }
      ctx.stderr.write(`${name}: ${a}: invalid option\n`);
      return 2;
    }
    if ((a.startsWith("-") || a.startsWith("+")) && a.length > 1) {
      const on = a[0] === "-";
      for (const c of a.slice(1)) {
        if (c === "c") cFlag = true;
        else if (c === "i") iFlag = true;
        else if (c === "s") sFlag = true;
        else if ("eux".includes(c)) set.push([c, on]);
        else if (c === "o") {
          const opt = args[++i];
          if (opt === "pipefail" || opt === "errexit" || opt === "nounset" || opt === "xtrace") set.push([opt, on]);
        } else if (!"lvmhBCEHPTabfknpt".includes(c)) {
          if (gnu) ctx.stderr.write(`bash: -${c}: invalid option\n`);
          else ctx.stderr.write(`${name}: illegal option -${c}\n`);
          return 2;
        }
      }
      continue;
    }
    break;
  }
  const rest = args.slice(i);
  let mode: ShellMode;
  let text: string | undefined;
  const a0 = ctx.argv[0] ?? "sh";
  let arg0 = a0.slice(a0.lastIndexOf("/") + 1) || "sh";
  let positional: string[] = [];
  let scriptName: string | undefined;
  if (cFlag) {
    if (rest[0] === undefined) {
      ctx.stderr.write(gnu ? "bash: -c: option requires an argument\n" : `${name}: -c requires an argument\n`);
      return 2;
    }
    mode = "c";
    text = rest[0];
    if (rest[1] !== undefined) arg0 = rest[1];
    positional = rest.slice(2);
  } else if (rest.length > 0 && !sFlag) {
    mode = "script";
    scriptName = rest[0]!;
    arg0 = rest[0]!;
    positional = rest.slice(1);
  } else {
    mode = iFlag ? "interactive" : "stdin";
    positional = rest;
  }
  const shell = new Shell(ctx, scriptName === undefined ? { mode, arg0, positional } : { mode, arg0, positional, scriptName });
  for (const [opt, on] of set) {
    if (opt === "e" || opt === "errexit") shell.opts.errexit = on;
    if (opt === "u" || opt === "nounset") shell.opts.nounset = on;
    if (opt === "x" || opt === "xtrace") shell.opts.xtrace = on;
    if (opt === "pipefail") shell.opts.pipefail = on;
  }
  if (mode === "script") {
    try {
      text = ctx.fs.readFile(scriptName!.startsWith("/") ? scriptName! : `${shell.cwd}/${scriptName}`, ctx.netns);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      if (gnu) {
        ctx.stderr.write(`bash: ${scriptName}: ${why}\n`);
        return 127;
      }
      ctx.stderr.write(`${name}: can't open '${scriptName}': ${why}\n`);
      return 2;
    }
  }
  const status = text !== undefined ? await runText(shell, text) : await readLoop(shell);
  return runExitTrap(shell, status);
}

/** Runs `trap … EXIT` once the shell is done; `$?` in it is the exit status. */
async function runExitTrap(shell: Shell, status: number): Promise<number> {
  const action = shell.exitTrap;
  if (action === undefined || shell.ctx.signal.aborted) return status;
  shell.exitTrap = undefined;
  shell.status = status;
  let list: List;
  try {
    list = parseAll(action, { bash: !shell.busybox });
  } catch {
    return status;
  }
  const outcome = await runTop(shell, list);
  return outcome !== undefined ? outcome.exit : status;
}

const shellCommand: Command = async (ctx) => {
  try {
    return await shellMain(ctx);
  } catch (err) {
    // The interpreter must never throw out of the process; report and fail.
    ctx.stderr.write(`${ctx.flavour === "gnu" ? "bash" : "sh"}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
};

/** Host (GNU/iproute2-flavoured) programs of this file: sh and bash, a bash-like shell interpreter. */
export const shellHost: Record<string, Command> = { sh: shellCommand, bash: shellCommand };

/** Busybox programs of this file: sh and ash (busybox ash wording). */
export const shellBusybox: Record<string, Command> = { sh: shellCommand, ash: shellCommand };
