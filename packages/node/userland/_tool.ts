/**
 * Helpers the shell and the file/text tools share: the working directory,
 * reading inputs, option parsing with GNU- or busybox-worded errors, the
 * process table, and exit statuses of killed processes.
 */
import type { ProcessEntry } from "../host.ts";
import type { CommandTable, Input, Output, ProcessContext } from "../process.ts";
import { normalize, VfsError } from "../vfs.ts";

/** The process's working directory (the shell keeps it in `PWD`). */
export function cwdOf(ctx: Pick<ProcessContext, "env">): string {
  const pwd = ctx.env.get("PWD");
  return pwd !== undefined && pwd.startsWith("/") ? pwd : "/";
}

/** An absolute, normalised path for `path` as typed by the user. */
export function resolvePath(ctx: Pick<ProcessContext, "env">, path: string): string {
  return normalize(path, cwdOf(ctx));
}

/**
 * The exit status of a process that was killed: 128 + the signal number.
 * The signal is read from the abort reason ("SIGINT", "SIGTERM", a number);
 * anything else counts as SIGKILL (docker rm -f).
 */
export function killedStatus(signal: AbortSignal): number {
  const r: unknown = signal.reason;
  if (typeof r === "number" && r > 0 && r < 64) return 128 + r;
  const names: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };
  if (typeof r === "string" && names[r] !== undefined) return 128 + names[r]!;
  return 137;
}

/** The host's process table, when the host offers one (`ps`, `kill`, `$$`). */
export function processTable(ctx: Pick<ProcessContext, "host">): ReadonlyMap<number, ProcessEntry> | undefined {
  const p = (ctx.host as { processes?: unknown }).processes;
  return p instanceof Map ? (p as ReadonlyMap<number, ProcessEntry>) : undefined;
}

/** The pid of the process that owns `signal`, if the table knows it. */
export function pidOf(ctx: Pick<ProcessContext, "host" | "signal">): number | undefined {
  const table = processTable(ctx);
  if (table === undefined) return undefined;
  for (const e of table.values()) if (e.controller.signal === ctx.signal) return e.pid;
  return undefined;
}

/**
 * The programs the process could run by name. Uses the context's own table
 * when the host provides one (`ctx.commands`), else the host's table on GNU
 * hosts or the busybox image's.
 */
export async function commandTable(ctx: Pick<ProcessContext, "host" | "flavour">): Promise<CommandTable> {
  const own = (ctx as { commands?: unknown }).commands;
  if (own instanceof Map) return own as CommandTable;
  if (ctx.flavour === "gnu") {
    const h = (ctx.host as { commands?: unknown }).commands;
    if (h instanceof Map) return h as CommandTable;
  }
  // Loaded lazily: tables.ts imports every userland file, this one included.
  const { busyboxCommands } = await import("./tables.ts");
  return busyboxCommands();
}

const SBIN = new Set([
  "ip",
  "ifconfig",
  "route",
  "arp",
  "sysctl",
  "brctl",
  "bridge",
  "iptables",
  "iptables-save",
  "iptables-restore",
  "ip6tables",
  "tc",
  "modprobe",
  "ipvsadm",
  "conntrack",
  "ethtool",
  "nft",
  "ebtables",
]);

/** Where a command would live on disk, for `which` and `type`. */
export function commandPath(ctx: Pick<ProcessContext, "flavour">, name: string): string {
  if (ctx.flavour === "busybox") return `/bin/${name}`;
  return SBIN.has(name) ? `/usr/sbin/${name}` : `/usr/bin/${name}`;
}

/** The first line busybox prints with an applet's usage. */
export const BUSYBOX_BANNER = "BusyBox v1.36.1 (2023-05-18 22:34:17 UTC) multi-call binary.";

const BUSYBOX_USAGE: Record<string, string> = {
  cat: "cat [-nbvteA] [FILE]...\n\nPrint FILEs to stdout",
  grep: "grep [-HhnlLoqvsrRiwFEz] [-m N] [-A|B|C N] { PATTERN | -e PATTERN... | -f FILE... } [FILE]...\n\nSearch for PATTERN in FILEs (or stdin)",
  head: "head [OPTIONS] [FILE]...\n\nPrint first 10 lines of FILEs (or stdin) to stdout.\nWith more than one FILE, precede each with a filename header.",
  tail: "tail [OPTIONS] [FILE]...\n\nPrint last 10 lines of FILEs (or stdin) to stdout.\nWith more than one FILE, precede each with a filename header.",
  wc: "wc [-cmlwL] [FILE]...\n\nCount lines, words, and bytes for FILEs (or stdin)",
  sort: "sort [-nrugMcszbdfiokt] [-o FILE] [-k START[.OFS][OPTS][,END[.OFS][OPTS]] [-t CHAR] [FILE]...\n\nSort lines of text",
  uniq: "uniq [-cduiz] [-f,s,w N] [FILE [OUTFILE]]\n\nDiscard duplicate lines",
  cut: "cut [OPTIONS] [FILE]...\n\nPrint selected fields from FILEs to stdout",
  tr: "tr [-cds] STRING1 [STRING2]\n\nTranslate, squeeze, or delete characters from stdin, writing to stdout",
  tee: "tee [-ai] [FILE]...\n\nCopy stdin to each FILE, and also to stdout",
  seq: "seq [-w] [-s SEP] [FIRST [INC]] LAST\n\nPrint numbers from FIRST to LAST, in steps of INC.\nFIRST, INC default to 1.",
  sleep: "sleep [N]...\n\nPause for a time equal to the total of the args given, where each arg can\nhave an optional suffix of (s)econds, (m)inutes, (h)ours, or (d)ays",
  ls: "ls [-1AaCxdLHRFplinshrSXvctu] [-w WIDTH] [FILE]...\n\nList directory contents",
  mkdir: "mkdir [-m MODE] [-p] DIRECTORY...\n\nCreate DIRECTORY",
  rm: "rm [-irf] FILE...\n\nRemove (unlink) FILEs",
  touch: "touch [-c] [-d DATE] [-t DATE] [-r FILE] FILE...\n\nUpdate mtime of FILEs",
  basename: "basename FILE [SUFFIX]\n\nStrip directory path and SUFFIX from FILE",
  dirname: "dirname FILENAME\n\nStrip non-directory suffix from FILENAME",
  date: "date [OPTIONS] [+FMT] [[-s] TIME]\n\nDisplay time (using +FMT), or set time",
  uname: "uname [-amnrspvio]\n\nPrint system information",
  kill: "kill [-l] [-SIG] PID...\n\nSend a signal (default: TERM) to given PIDs",
  ps: "ps [-o COL1,COL2=HEADER] [-T]\n\nShow list of processes",
  xargs: "xargs [OPTIONS] [PROG ARGS]\n\nRun PROG on every item given by stdin",
  awk: "awk [OPTIONS] [AWK_PROGRAM] [FILE]...",
  dmesg: "dmesg [-cr] [-n LEVEL] [-s SIZE]\n\nPrint or control the kernel ring buffer",
  env: "env [-i] [-u NAME] [-] [NAME=VALUE]... [PROG ARGS]\n\nPrint current environment or run PROG after setting up\nthe specified environment",
  hostname: "hostname [-sidf] [HOSTNAME | -F FILE]\n\nShow or set hostname or DNS domain name",
  id: "id [-ugGnr] [USER]\n\nPrint information about USER or the current user",
  which: "which [-a] COMMAND...\n\nLocate COMMAND",
};

/** Busybox's usage text for an applet (banner, blank line, `Usage: …`). */
export function busyboxUsage(name: string): string {
  const u = BUSYBOX_USAGE[name];
  return u === undefined ? `${BUSYBOX_BANNER}\n` : `${BUSYBOX_BANNER}\n\nUsage: ${u}\n`;
}

/** Options of a getopt-like parse. */
export interface OptSpec {
  /** Letters without an argument. */
  flags?: string;
  /** Letters that take an argument. */
  withArg?: string;
  /** Long options: name → short letter (or a name of its own); `=` at the end of the name takes an argument. */
  long?: Record<string, string>;
  /** Stop at the first operand (for commands that run other commands). */
  stopAtOperand?: boolean;
}

/** Parsed options: flags seen (repeats counted), argument values in order, operands. */
export interface Opts {
  count: Map<string, number>;
  values: Map<string, string[]>;
  args: string[];
  has(letter: string): boolean;
  last(letter: string): string | undefined;
}

/** A parse failure, to be worded by {@link badUsage}. */
export interface OptError {
  error: "invalid" | "missing" | "unrecognized";
  option: string;
}

/**
 * Parses `argv` (without argv[0]) like getopt: clustered flags, `-n5` and
 * `-n 5`, `--long[=v]`, operands anywhere unless `stopAtOperand`, and `--`.
 */
export function parseOpts(argv: readonly string[], spec: OptSpec): Opts | OptError {
  const count = new Map<string, number>();
  const values = new Map<string, string[]>();
  const args: string[] = [];
  const flags = spec.flags ?? "";
  const withArg = spec.withArg ?? "";
  const set = (k: string, v?: string) => {
    count.set(k, (count.get(k) ?? 0) + 1);
    if (v !== undefined) values.set(k, [...(values.get(k) ?? []), v]);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith("--") && spec.long !== undefined) {
      const eq = a.indexOf("=");
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const entries = Object.entries(spec.long);
      const exact = entries.find(([k]) => k.replace(/=$/, "") === name);
      const prefixed = entries.filter(([k]) => k.startsWith(name));
      const hit = exact ?? (prefixed.length === 1 ? prefixed[0] : undefined);
      if (hit === undefined) return { error: "unrecognized", option: a };
      const [key, letter] = hit;
      if (key.endsWith("=")) {
        let v: string | undefined = eq < 0 ? undefined : a.slice(eq + 1);
        if (v === undefined) {
          v = argv[i + 1];
          if (v === undefined) return { error: "missing", option: a };
          i++;
        }
        set(letter, v);
      } else set(letter);
      continue;
    }
    if (a.startsWith("-") && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        if (withArg.includes(c)) {
          let v = a.slice(j + 1);
          if (v === "") {
            const n = argv[i + 1];
            if (n === undefined) return { error: "missing", option: c };
            v = n;
            i++;
          }
          set(c, v);
          break;
        }
        if (!flags.includes(c)) return { error: "invalid", option: c };
        set(c);
      }
      continue;
    }
    if (spec.stopAtOperand) {
      args.push(...argv.slice(i));
      break;
    }
    args.push(a);
  }
  return {
    count,
    values,
    args,
    has: (l) => count.has(l),
    last: (l) => values.get(l)?.at(-1),
  };
}

/** Whether a parse failed. */
export function isOptError(r: Opts | OptError): r is OptError {
  return "error" in r;
}

/** getopt's words for a bad option: `invalid option -- 'x'`, `option requires an argument -- 'x'`… */
export function optErrorText(e: OptError): string {
  if (e.error === "invalid") return `invalid option -- '${e.option}'`;
  if (e.error === "missing") {
    return e.option.startsWith("--") ? `option '${e.option}' requires an argument` : `option requires an argument -- '${e.option}'`;
  }
  return `unrecognized option '${e.option}'`;
}

/**
 * Prints a bad-option error the way the flavour's tool does and returns
 * `code`: GNU's two lines with `Try '… --help'`, or busybox's line plus usage.
 */
export function badUsage(ctx: ProcessContext, tool: string, e: OptError, code = 1): number {
  const what = optErrorText(e);
  if (ctx.flavour === "busybox") ctx.stderr.write(`${tool}: ${what}\n${busyboxUsage(tool)}`);
  else ctx.stderr.write(`${tool}: ${what}\nTry '${tool} --help' for more information.\n`);
  return code;
}

/** A file's text, or the error that reading it met. `-` is stdin; /dev/null is empty. */
export async function readSource(ctx: ProcessContext, name: string): Promise<{ text: string } | { error: VfsError }> {
  if (name === "-" || name === "/dev/stdin") return { text: await ctx.stdin.readAll() };
  if (name === "/dev/null" || name === "/dev/zero") return { text: "" };
  try {
    return { text: ctx.fs.readFile(resolvePath(ctx, name), ctx.netns) };
  } catch (err) {
    if (err instanceof VfsError) return { error: err };
    throw err;
  }
}

/** Splits text into lines without their newlines (a last line without one still counts). */
export function linesOf(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (text.endsWith("\n")) lines.pop();
  return lines;
}

/** Joins lines back, each ending in a newline. */
export function unlines(lines: readonly string[]): string {
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

/**
 * Reads one line, giving up when the process is killed: `aborted` is then
 * true. `line` is undefined at end of input.
 */
export function readLineAbortable(input: Input, signal: AbortSignal): Promise<{ line: string | undefined; aborted: boolean }> {
  if (signal.aborted) return Promise.resolve({ line: undefined, aborted: true });
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve({ line: undefined, aborted: true });
    signal.addEventListener("abort", onAbort, { once: true });
    input.readLine().then(
      (line) => {
        signal.removeEventListener("abort", onAbort);
        resolve({ line, aborted: false });
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

/** Reads all input, giving up (undefined) when the process is killed. */
export function readAllAbortable(input: Input, signal: AbortSignal): Promise<string | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(undefined);
    signal.addEventListener("abort", onAbort, { once: true });
    input.readAll().then(
      (text) => {
        signal.removeEventListener("abort", onAbort);
        resolve(text);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

/**
 * Output into a Vfs file. Plain files are truncated (or not, for `>>`) when
 * opened and appended to on each write; a /proc/sys file takes each write
 * as a new value, as sysctl files do.
 */
export class FileOutput implements Output {
  error: VfsError | undefined;
  readonly #proc: boolean;

  constructor(
    readonly ctx: Pick<ProcessContext, "fs" | "netns">,
    /** Absolute, normalised. */
    readonly path: string,
  ) {
    this.#proc = path.startsWith("/proc/") || path.startsWith("/sys/");
  }

  /** Checks the file can be written and truncates it unless `append`; throws VfsError. */
  open(append: boolean): void {
    const fs = this.ctx.fs;
    const kind = fs.stat(this.path, this.ctx.netns);
    if (kind === "dir") throw new VfsError("EISDIR", this.path);
    const parent = this.path.slice(0, this.path.lastIndexOf("/")) || "/";
    const pkind = fs.stat(parent, this.ctx.netns);
    if (pkind === undefined) throw new VfsError("ENOENT", this.path);
    if (pkind === "file") throw new VfsError("ENOTDIR", this.path);
    if (this.#proc) {
      if (kind === undefined) throw new VfsError(this.path.startsWith("/proc/sys/") ? "ENOENT" : "EACCES", this.path);
      return;
    }
    if (!append || kind === undefined) fs.writeFile(this.path, "", this.ctx.netns);
  }

  /** Writes; the first failure is kept in `error` and later writes are dropped. */
  write(text: string): void {
    if (this.error !== undefined || text === "") return;
    try {
      if (this.#proc) this.ctx.fs.writeFile(this.path, text, this.ctx.netns);
      else this.ctx.fs.appendFile(this.path, text, this.ctx.netns);
    } catch (err) {
      if (err instanceof VfsError) this.error = err;
      else throw err;
    }
  }
}

