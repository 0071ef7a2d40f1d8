/**
 * Tools about the system and processes: date, uname, id, whoami, hostname,
 * ps, kill, dmesg, sleep, env, which, xargs, and the external echo, printf,
 * test, true and false.
 */
import { formatIpv4Addr } from "@kemu/wire";
import { sleep as sleepFor, type Command, EMPTY_INPUT, type Output, type ProcessContext } from "../process.ts";
import { badUsage, busyboxUsage, commandPath, commandTable, isOptError, killedStatus, parseOpts, processTable, readAllAbortable, resolvePath } from "./_tool.ts";
import { echoText, formatPrintf } from "./echo_printf.ts";
import { evalTest, type TestIssue } from "./test_expr.ts";

function gnu(ctx: Pick<ProcessContext, "flavour">): boolean {
  return ctx.flavour === "gnu";
}

/** The emulated wall clock starts here; `ctx.clock.now()` ms are added to it. */
export const EPOCH_MS = Date.UTC(2026, 0, 1, 0, 0, 0);

/** The emulated time of day as a Date (UTC). */
export function emulatedDate(ctx: Pick<ProcessContext, "clock">): Date {
  return new Date(EPOCH_MS + Math.floor(ctx.clock.now()));
}

/** The kernel release every emulated host reports. */
export const KERNEL_RELEASE = "6.1.0-kemu";
/** `uname -v`. */
export const KERNEL_VERSION = "#1 SMP PREEMPT_DYNAMIC Thu Jan  1 00:00:00 UTC 2026";

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const DAYS_LONG = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const MONTHS_LONG = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/**
 * Formats a UTC date with strftime directives (`%Y-%m-%d %H:%M:%S`, `%s`,
 * `%a %b %e`, `%T`, `%F`, `%N`…). `nanos` fills %N.
 */
export function strftime(fmt: string, d: Date, nanos = 0): string {
  const p2 = (n: number) => String(n).padStart(2, "0");
  const start = Date.UTC(d.getUTCFullYear(), 0, 1);
  const yday = Math.floor((d.getTime() - start) / 86400000) + 1;
  return fmt.replace(/%([-_0]?)([a-zA-Z%+])/g, (_m, flag: string, c: string) => {
    const h = d.getUTCHours();
    let v: string;
    switch (c) {
      case "Y":
        return String(d.getUTCFullYear());
      case "y":
        return p2(d.getUTCFullYear() % 100);
      case "C":
        return p2(Math.floor(d.getUTCFullYear() / 100));
      case "m":
        v = p2(d.getUTCMonth() + 1);
        break;
      case "d":
        v = p2(d.getUTCDate());
        break;
      case "e":
        v = String(d.getUTCDate()).padStart(2, " ");
        break;
      case "H":
        v = p2(h);
        break;
      case "I":
        v = p2(h % 12 === 0 ? 12 : h % 12);
        break;
      case "k":
        v = String(h).padStart(2, " ");
        break;
      case "l":
        v = String(h % 12 === 0 ? 12 : h % 12).padStart(2, " ");
        break;
      case "M":
        v = p2(d.getUTCMinutes());
        break;
      case "S":
        v = p2(d.getUTCSeconds());
        break;
      case "N":
        return String(nanos).padStart(9, "0");
      case "s":
        return String(Math.floor(d.getTime() / 1000));
      case "j":
        v = String(yday).padStart(3, "0");
        break;
      case "a":
        return DAYS[d.getUTCDay()]!;
      case "A":
        return DAYS_LONG[d.getUTCDay()]!;
      case "b":
      case "h":
        return MONTHS[d.getUTCMonth()]!;
      case "B":
        return MONTHS_LONG[d.getUTCMonth()]!;
      case "p":
        return h < 12 ? "AM" : "PM";
      case "P":
        return h < 12 ? "am" : "pm";
      case "u":
        return String(d.getUTCDay() === 0 ? 7 : d.getUTCDay());
      case "w":
        return String(d.getUTCDay());
      case "Z":
        return "UTC";
      case "z":
        return "+0000";
      case "T":
        return `${p2(h)}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
      case "R":
        return `${p2(h)}:${p2(d.getUTCMinutes())}`;
      case "F":
        return `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}`;
      case "D":
        return `${p2(d.getUTCMonth() + 1)}/${p2(d.getUTCDate())}/${p2(d.getUTCFullYear() % 100)}`;
      case "c":
        return strftime("%a %b %e %H:%M:%S %Y", d);
      case "x":
        return strftime("%m/%d/%y", d);
      case "X":
        return strftime("%H:%M:%S", d);
      case "+":
        return strftime("%a %b %e %H:%M:%S %Z %Y", d);
      case "n":
        return "\n";
      case "t":
        return "\t";
      case "%":
        return "%";
      default:
        return `%${flag}${c}`;
    }
    if (flag === "-") return v.replace(/^[0 ]+(?=\d)/, "");
    if (flag === "_") return v.replace(/^0+(?=\d)/, (z) => " ".repeat(z.length));
    return v;
  });
}

const date: Command = async (ctx) => {
  const o = parseOpts(ctx.argv.slice(1), {
    flags: "uRI",
    withArg: "dr",
    long: { utc: "u", universal: "u", "rfc-2822": "R", "rfc-email": "R", "date=": "d", "iso-8601": "I", "iso-8601=": "I" },
  });
  if (isOptError(o)) {
    // `-Iseconds` arrives as -I with letters that are not flags.
    return badUsage(ctx, "date", o);
  }
  let d = emulatedDate(ctx);
  const when = o.last("d");
  if (when !== undefined) {
    const m = /^@(-?\d+)$/.exec(when.trim());
    const parsed = m !== null ? new Date(Number(m[1]) * 1000) : when.trim() === "now" ? d : new Date(`${when.trim().replace(" ", "T")}${/Z|[+-]\d\d:?\d\d$/.test(when) ? "" : "Z"}`);
    if (Number.isNaN(parsed.getTime())) {
      ctx.stderr.write(gnu(ctx) ? `date: invalid date ‘${when}’\n` : `date: invalid date '${when}'\n`);
      return 1;
    }
    d = parsed;
  }
  const fmtArg = o.args.find((a) => a.startsWith("+"));
  const other = o.args.find((a) => !a.startsWith("+"));
  if (other !== undefined) {
    if (gnu(ctx)) ctx.stderr.write(`date: invalid date ‘${other}’\n`);
    else ctx.stderr.write(`date: can't set date: Operation not permitted\n`);
    return 1;
  }
  const nanos = Math.round((ctx.clock.now() % 1000) * 1e6);
  let fmt = "%a %b %e %H:%M:%S %Z %Y";
  if (o.has("R")) fmt = "%a, %d %b %Y %H:%M:%S %z";
  if (o.has("I")) {
    const spec = o.last("I") ?? ctx.argv.find((a) => a.startsWith("-I"))?.slice(2) ?? "";
    fmt = spec.startsWith("s") ? "%Y-%m-%dT%H:%M:%S+00:00" : spec.startsWith("m") ? "%Y-%m-%dT%H:%M+00:00" : spec.startsWith("h") ? "%Y-%m-%dT%H+00:00" : "%Y-%m-%d";
  }
  if (fmtArg !== undefined) fmt = fmtArg.slice(1);
  ctx.stdout.write(`${strftime(fmt, d, nanos)}\n`);
  return 0;
};

const uname: Command = async (ctx) => {
  const o = parseOpts(ctx.argv.slice(1), {
    flags: "asnrvmpio",
    long: { all: "a", "kernel-name": "s", nodename: "n", "kernel-release": "r", "kernel-version": "v", machine: "m", processor: "p", "hardware-platform": "i", "operating-system": "o" },
  });
  if (isOptError(o)) return badUsage(ctx, "uname", o);
  const all = o.has("a");
  const parts: string[] = [];
  const want = (c: string) => all || o.has(c);
  if (want("s") || o.count.size === 0) parts.push("Linux");
  if (want("n")) parts.push(ctx.hostname);
  if (want("r")) parts.push(KERNEL_RELEASE);
  if (want("v")) parts.push(KERNEL_VERSION);
  if (want("m")) parts.push("x86_64");
  if (o.has("p") && !all) parts.push("unknown");
  if (o.has("i") && !all) parts.push("unknown");
  if (want("o")) parts.push("GNU/Linux");
  ctx.stdout.write(`${parts.join(" ")}\n`);
  return 0;
};

const id: Command = async (ctx) => {
  const o = parseOpts(ctx.argv.slice(1), { flags: "ugGnr", long: { user: "u", group: "g", groups: "G", name: "n", real: "r" } });
  if (isOptError(o)) return badUsage(ctx, "id", o);
  const user = o.args[0];
  if (user !== undefined && user !== "root" && user !== "0") {
    ctx.stderr.write(gnu(ctx) ? `id: ‘${user}’: no such user\n` : `id: unknown user ${user}\n`);
    return 1;
  }
  const name = o.has("n");
  if (o.has("u")) ctx.stdout.write(name ? "root\n" : "0\n");
  else if (o.has("g")) ctx.stdout.write(name ? "root\n" : "0\n");
  else if (o.has("G")) ctx.stdout.write(gnu(ctx) ? (name ? "root\n" : "0\n") : name ? "root wheel\n" : "0 10\n");
  else ctx.stdout.write(gnu(ctx) ? "uid=0(root) gid=0(root) groups=0(root)\n" : "uid=0(root) gid=0(root) groups=0(root),10(wheel)\n");
  return 0;
};

const hostname: Command = async (ctx) => {
  const o = parseOpts(ctx.argv.slice(1), { flags: "sfidIAF", long: { short: "s", fqdn: "f", long: "f", "ip-address": "i", "all-ip-addresses": "I", domain: "d" } });
  if (isOptError(o)) return badUsage(ctx, "hostname", o);
  if (o.args.length > 0) {
    ctx.stderr.write(gnu(ctx) ? "hostname: you must be root to change the host name\n" : "hostname: sethostname: Operation not permitted\n");
    return 1;
  }
  const name = ctx.hostname;
  if (o.has("I")) {
    // Every global address of the caller's namespace, each followed by a space.
    const addrs: string[] = [];
    for (const dev of ctx.netns.devices()) for (const a of dev.addrs) if (a.scope === "global") addrs.push(formatIpv4Addr(a.addr));
    ctx.stdout.write(`${addrs.map((a) => `${a} `).join("")}\n`);
    return 0;
  }
  if (o.has("i")) {
    let hosts = "";
    try {
      hosts = ctx.fs.readFile("/etc/hosts", ctx.netns);
    } catch {
      hosts = "";
    }
    const addrs: string[] = [];
    for (const line of hosts.split("\n")) {
      const f = line.replace(/#.*/, "").trim().split(/\s+/);
      if (f.length >= 2 && f.slice(1).includes(name) && /^\d+\.\d+\.\d+\.\d+$/.test(f[0]!)) addrs.push(f[0]!);
    }
    if (addrs.length === 0) {
      ctx.stderr.write(gnu(ctx) ? "hostname: Name or service not known\n" : `hostname: ${name}: Unknown host\n`);
      return 1;
    }
    ctx.stdout.write(`${addrs.map((a) => `${a} `).join("")}\n`);
    return 0;
  }
  if (o.has("d")) {
    const dot = name.indexOf(".");
    ctx.stdout.write(`${dot < 0 ? "" : name.slice(dot + 1)}\n`);
    return 0;
  }
  ctx.stdout.write(`${o.has("s") ? name.split(".")[0] : name}\n`);
  return 0;
};

/** The processes `ps` shows: those in the caller's network namespace (a container sees its own). */
function visibleProcesses(ctx: ProcessContext) {
  const table = processTable(ctx);
  if (table === undefined) return [];
  return [...table.values()].filter((p) => p.netns === ctx.netns).sort((a, b) => a.pid - b.pid);
}

function hhmm(at: number): string {
  return strftime("%H:%M", new Date(EPOCH_MS + at));
}

const ps: Command = async (ctx) => {
  const args = ctx.argv.slice(1).join(" ");
  const procs = visibleProcesses(ctx);
  const out: string[] = [];
  if (!gnu(ctx)) {
    out.push("PID   USER     TIME  COMMAND");
    for (const p of procs) out.push(`${String(p.pid).padStart(5)} ${"root".padEnd(8)} ${"0:00".padStart(5)} ${p.argv.join(" ")}`);
  } else if (/\b(aux|-aux|axu|-ax|ax)\b/.test(args) || /^-?[aux]+$/.test(args.replace(/\s/g, "")) && args.includes("u")) {
    out.push("USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND");
    for (const p of procs) {
      out.push(
        `${"root".padEnd(8)} ${String(p.pid).padStart(7)}  0.0  0.0 ${String(2400 + (p.pid % 7) * 100).padStart(6)} ${String(1100 + (p.pid % 5) * 64).padStart(5)} ${"pts/0".padEnd(8)} ${"S".padEnd(4)} ${hhmm(p.startedAt).padStart(5)}   0:00 ${p.argv.join(" ")}`,
      );
    }
  } else if (/-\w*f/.test(args)) {
    out.push("UID          PID    PPID  C STIME TTY          TIME CMD");
    for (const p of procs) out.push(`${"root".padEnd(8)} ${String(p.pid).padStart(7)} ${"0".padStart(7)}  0 ${hhmm(p.startedAt)} ${"pts/0".padEnd(8)} 00:00:00 ${p.argv.join(" ")}`);
  } else {
    out.push("    PID TTY          TIME CMD");
    for (const p of procs) {
      const a0 = p.argv[0] ?? "";
      out.push(`${String(p.pid).padStart(7)} ${"pts/0".padEnd(8)} 00:00:00 ${a0.slice(a0.lastIndexOf("/") + 1).slice(0, 15)}`);
    }
  }
  ctx.stdout.write(`${out.join("\n")}\n`);
  return 0;
};

const SIGNALS: Record<string, number> = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  ILL: 4,
  TRAP: 5,
  ABRT: 6,
  BUS: 7,
  FPE: 8,
  KILL: 9,
  USR1: 10,
  SEGV: 11,
  USR2: 12,
  PIPE: 13,
  ALRM: 14,
  TERM: 15,
  STKFLT: 16,
  CHLD: 17,
  CONT: 18,
  STOP: 19,
  TSTP: 20,
  TTIN: 21,
  TTOU: 22,
  URG: 23,
  XCPU: 24,
  XFSZ: 25,
  VTALRM: 26,
  PROF: 27,
  WINCH: 28,
  IO: 29,
  PWR: 30,
  SYS: 31,
};

/** How `kill` words its errors: the bash builtin's, busybox's, or without a shell prefix. */
export interface KillWords {
  /** Printed before bash-style messages (`bash: line 1: `), empty for the external command. */
  prefix: string;
  busybox: boolean;
}

/**
 * Sends signals to processes in the host's table (`kill [-s SIG|-SIG|-N] PID…`, `kill -l`).
 * The process's abort reason is the signal name, so it exits with 128+N.
 */
export function killProcesses(ctx: ProcessContext, args: readonly string[], io: { stdout: Output; stderr: Output }, words: KillWords): number {
  let sig = "TERM";
  let i = 0;
  const err = (m: string) => io.stderr.write(`${words.prefix}${m}\n`);
  if (args[0] === "-l" || args[0] === "-L") {
    const names = Object.entries(SIGNALS);
    if (words.busybox) io.stdout.write(names.map(([n, v]) => `${String(v).padStart(2)}) ${n}`).join("\n") + "\n");
    else {
      let line = "";
      names.forEach(([n, v], idx) => {
        line += `${String(v).padStart(2)}) SIG${n}`;
        if (idx % 5 === 4 || idx === names.length - 1) {
          io.stdout.write(`${line}\n`);
          line = "";
        } else line += "\t";
      });
    }
    return 0;
  }
  const parseSig = (s: string): string | undefined => {
    const name = s.toUpperCase().replace(/^SIG/, "");
    if (/^\d+$/.test(s)) {
      const n = Number(s);
      if (n === 0) return "0";
      return Object.entries(SIGNALS).find(([, v]) => v === n)?.[0];
    }
    return SIGNALS[name] !== undefined ? name : undefined;
  };
  if (args[0] === "-s" || args[0] === "-n") {
    const s = args[1] === undefined ? undefined : parseSig(args[1]);
    if (s === undefined) {
      if (words.busybox) io.stderr.write(`${words.prefix || "kill: "}bad signal name '${args[1] ?? ""}'\n`);
      else err(`kill: ${args[1] ?? ""}: invalid signal specification`);
      return 1;
    }
    sig = s;
    i = 2;
  } else if (args[0] !== undefined && /^-\w+$/.test(args[0]) && args[0] !== "--") {
    const s = parseSig(args[0].slice(1));
    if (s === undefined) {
      if (words.busybox) io.stderr.write(`${words.prefix || "kill: "}bad signal name '${args[0].slice(1)}'\n`);
      else err(`kill: ${args[0].slice(1)}: invalid signal specification`);
      return 1;
    }
    sig = s;
    i = 1;
  } else if (args[0] === "--") i = 1;
  const pids = args.slice(i);
  if (pids.length === 0) {
    if (words.busybox) io.stderr.write(`${words.prefix || "kill: "}you need to specify whom to kill\n`);
    else err("kill: usage: kill [-s sigspec | -n signum | -sigspec] pid | jobspec ... or kill -l [sigspec]");
    return words.busybox ? 1 : 2;
  }
  const table = processTable(ctx);
  let st = 0;
  for (const a of pids) {
    if (!/^-?\d+$/.test(a)) {
      if (words.busybox) io.stderr.write(`${words.prefix || "kill: "}invalid number '${a}'\n`);
      else err(`kill: ${a}: arguments must be process or job IDs`);
      st = 1;
      continue;
    }
    const entry = table?.get(Number(a));
    const visible = entry !== undefined && (gnu(ctx) || entry.netns === ctx.netns);
    if (!visible) {
      if (words.busybox) io.stderr.write(`${words.prefix || "kill: "}can't kill pid ${a}: No such process\n`);
      else err(`kill: (${a}) - No such process`);
      st = 1;
      continue;
    }
    if (sig === "0" || sig === "CONT" || sig === "STOP" || sig === "TSTP" || sig === "CHLD" || sig === "WINCH" || sig === "URG") continue;
    entry.controller.abort(`SIG${sig}`);
  }
  return st;
}

const kill: Command = async (ctx) => killProcesses(ctx, ctx.argv.slice(1), ctx, { prefix: "", busybox: !gnu(ctx) });

const dmesg: Command = async (ctx) => {
  const o = parseOpts(ctx.argv.slice(1), { flags: "cCrTtHkxwL", withArg: "nsl", long: { clear: "C", raw: "r", ctime: "T", notime: "t" } });
  if (isOptError(o)) return badUsage(ctx, "dmesg", o);
  if (ctx.netns !== ctx.host.kernel.root) {
    ctx.stderr.write(gnu(ctx) ? "dmesg: read kernel buffer failed: Operation not permitted\n" : "dmesg: klogctl: Operation not permitted\n");
    return 1;
  }
  const log = ctx.host.kernel.log;
  let out = "";
  for (const l of log) {
    const us = Math.round(l.time * 1000);
    const stamp = `[${String(Math.floor(us / 1e6)).padStart(5)}.${String(us % 1e6).padStart(6, "0")}] `;
    out += `${o.has("t") ? "" : stamp}${l.text}\n`;
  }
  ctx.stdout.write(out);
  if (o.has("c") || o.has("C")) log.splice(0);
  return 0;
};

/** Parses sleep's `N[smhd]` arguments into milliseconds; undefined names the bad one. */
function sleepMs(args: readonly string[]): { ms: number } | { bad: string } {
  let ms = 0;
  for (const a of args) {
    const m = /^(\d+\.?\d*|\.\d+)([smhd]?)$/.exec(a);
    if (m === null) return { bad: a };
    const mult = { "": 1000, s: 1000, m: 60000, h: 3600000, d: 86400000 }[m[2]!]!;
    ms += Number(m[1]) * mult;
  }
  return { ms };
}

const sleep: Command = async (ctx) => {
  const args = ctx.argv.slice(1).filter((a) => a !== "--");
  if (args.length === 0) {
    if (gnu(ctx)) ctx.stderr.write("sleep: missing operand\nTry 'sleep --help' for more information.\n");
    else ctx.stderr.write(busyboxUsage("sleep"));
    return 1;
  }
  if (args[0] === "infinity") {
    await sleepFor(ctx, Number.MAX_SAFE_INTEGER / 2);
    return killedStatus(ctx.signal);
  }
  const r = sleepMs(args);
  if ("bad" in r) {
    if (gnu(ctx)) ctx.stderr.write(`sleep: invalid time interval ‘${r.bad}’\nTry 'sleep --help' for more information.\n`);
    else ctx.stderr.write(`sleep: invalid number '${r.bad}'\n`);
    return 1;
  }
  const completed = await sleepFor(ctx, r.ms);
  return completed ? 0 : killedStatus(ctx.signal);
};

const env: Command = async (ctx) => {
  const args = ctx.argv.slice(1);
  let vars = new Map(ctx.env);
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === "-i" || a === "-" || a === "--ignore-environment") vars = new Map();
    else if (a === "-u") vars.delete(args[++i] ?? "");
    else if (a.startsWith("-u")) vars.delete(a.slice(2));
    else if (a === "--") {
      i++;
      break;
    } else if (a.startsWith("-") && a.length > 1) return badUsage(ctx, "env", { error: "invalid", option: a.slice(1, 2) }, 125);
    else break;
  }
  for (; i < args.length && /^[^=]+=/.test(args[i]!); i++) {
    const a = args[i]!;
    const eq = a.indexOf("=");
    vars.set(a.slice(0, eq), a.slice(eq + 1));
  }
  const cmd = args.slice(i);
  if (cmd.length === 0) {
    let out = "";
    for (const [k, v] of vars) out += `${k}=${v}\n`;
    ctx.stdout.write(out);
    return 0;
  }
  try {
    return await ctx.spawn(cmd, { env: vars });
  } catch (err) {
    if (err instanceof Error && err.name === "CommandNotFound") {
      ctx.stderr.write(gnu(ctx) ? `env: ‘${cmd[0]}’: No such file or directory\n` : `env: can't execute '${cmd[0]}': No such file or directory\n`);
      return 127;
    }
    throw err;
  }
};

const which: Command = async (ctx) => {
  const args = ctx.argv.slice(1).filter((a) => a !== "-a" && a !== "-s");
  if (args.length === 0) {
    if (!gnu(ctx)) ctx.stderr.write(busyboxUsage("which"));
    return 1;
  }
  const table = await commandTable(ctx);
  let st = 0;
  for (const name of args) {
    const base = name.includes("/") ? name.slice(name.lastIndexOf("/") + 1) : name;
    if (!table.has(base)) {
      st = 1;
      continue;
    }
    ctx.stdout.write(`${name.includes("/") ? name : commandPath(ctx, name)}\n`);
  }
  return st;
};

/** Splits xargs input into arguments: blanks separate, quotes and backslashes protect. */
function xargsWords(text: string): string[] | { error: string } {
  const out: string[] = [];
  let cur = "";
  let has = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0 || text.slice(i + 1, end).includes("\n")) return { error: c === "'" ? "single" : "double" };
      cur += text.slice(i + 1, end);
      has = true;
      i = end;
    } else if (c === "\\" && i + 1 < text.length) {
      cur += text[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has) out.push(cur);
      cur = "";
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (has) out.push(cur);
  return out;
}

const xargs: Command = async (ctx) => {
  const o = parseOpts(ctx.argv.slice(1), {
    flags: "rt0px",
    withArg: "nIiLdPs",
    long: { "no-run-if-empty": "r", verbose: "t", null: "0", "max-args=": "n", "replace=": "I", "delimiter=": "d", "max-procs=": "P" },
    stopAtOperand: true,
  });
  if (isOptError(o)) return badUsage(ctx, "xargs", o, 1);
  const text = await readAllAbortable(ctx.stdin, ctx.signal);
  if (text === undefined) return killedStatus(ctx.signal);
  const cmd = o.args.length === 0 ? ["echo"] : o.args;
  const replace = o.last("I") ?? o.last("i");
  let items: string[];
  if (o.has("0")) items = text.split("\0").filter((s) => s !== "");
  else if (o.last("d") !== undefined) items = text.split(o.last("d")!.replace("\\n", "\n")).filter((s, i, a) => s !== "" || i < a.length - 1);
  else if (replace !== undefined) items = text.split("\n").map((l) => l.replace(/^\s+/, "")).filter((l) => l !== "");
  else {
    const w = xargsWords(text);
    if (!Array.isArray(w)) {
      ctx.stderr.write(
        gnu(ctx)
          ? `xargs: unmatched ${w.error} quote; by default quotes are special to xargs unless you use the -0 option\n`
          : `xargs: unmatched ${w.error} quote\n`,
      );
      return 1;
    }
    items = w;
  }
  const batches: string[][] = [];
  if (replace !== undefined) for (const it of items) batches.push(cmd.map((a) => a.replaceAll(replace, it)));
  else {
    const n = o.last("n") === undefined ? (o.last("L") === undefined ? Number.POSITIVE_INFINITY : Number(o.last("L"))) : Number(o.last("n"));
    if (items.length === 0) {
      if (!o.has("r")) batches.push([...cmd]);
    } else for (let i = 0; i < items.length; i += n) batches.push([...cmd, ...items.slice(i, i + n)]);
  }
  let st = 0;
  for (const argv of batches) {
    if (ctx.signal.aborted) return killedStatus(ctx.signal);
    if (o.has("t")) ctx.stderr.write(`${argv.join(" ")}\n`);
    let code: number;
    try {
      code = await ctx.spawn(argv, { stdin: EMPTY_INPUT });
    } catch (err) {
      if (err instanceof Error && err.name === "CommandNotFound") {
        ctx.stderr.write(`xargs: ${argv[0]}: No such file or directory\n`);
        return 127;
      }
      throw err;
    }
    if (code === 255) {
      ctx.stderr.write(`xargs: ${argv[0]}: exited with status 255; aborting\n`);
      return 124;
    }
    if (code > 128) return 125;
    if (code !== 0) st = 123;
  }
  return st;
};

function testWords(ctx: ProcessContext, name: string, issue: TestIssue): void {
  if (!gnu(ctx)) {
    const m =
      issue.kind === "missing-bracket"
        ? "missing ]"
        : issue.kind === "integer"
          ? `${issue.arg}: bad number`
          : issue.kind === "too-many"
            ? "too many arguments"
            : `${"arg" in issue ? issue.arg : ""}: unknown operand`;
    ctx.stderr.write(`${name}: ${m}\n`);
    return;
  }
  const m =
    issue.kind === "missing-bracket"
      ? "missing ‘]’"
      : issue.kind === "integer"
        ? `invalid integer ‘${issue.arg}’`
        : issue.kind === "unary-expected"
          ? `‘${issue.arg}’: unary operator expected`
          : issue.kind === "binary-expected"
            ? `‘${issue.arg}’: binary operator expected`
            : issue.kind === "too-many"
              ? "too many arguments"
              : issue.kind === "argument-expected"
                ? `missing argument after ‘${issue.arg}’`
                : `extra argument ‘${issue.arg}’`;
  ctx.stderr.write(`${name}: ${m}\n`);
}

const test: Command = async (ctx) => {
  const a0 = ctx.argv[0] ?? "test";
  const name = a0.slice(a0.lastIndexOf("/") + 1);
  const files = {
    stat: (p: string) => (p === "" ? undefined : ctx.fs.stat(resolvePath(ctx, p), ctx.netns)),
    size: (p: string) => {
      try {
        return ctx.fs.readFile(resolvePath(ctx, p), ctx.netns).length;
      } catch {
        return 0;
      }
    },
  };
  const r = evalTest(ctx.argv.slice(1), files, name === "[");
  if (r.issue !== undefined) testWords(ctx, name, r.issue);
  return r.status;
};

const printf: Command = async (ctx) => {
  const args = ctx.argv.slice(1).filter((a, i) => !(i === 0 && a === "--"));
  if (args.length === 0) {
    if (gnu(ctx)) ctx.stderr.write("printf: missing operand\nTry 'printf --help' for more information.\n");
    else ctx.stderr.write(`${busyboxUsage("printf")}`);
    return 1;
  }
  const r = formatPrintf(args[0]!, args.slice(1));
  ctx.stdout.write(r.out);
  for (const issue of r.issues) {
    if (issue.kind === "bad-conversion") ctx.stderr.write(gnu(ctx) ? `printf: ${issue.arg}: invalid conversion specification\n` : `printf: ${issue.arg}: invalid format\n`);
    else if (!gnu(ctx)) ctx.stderr.write(`printf: invalid number '${issue.arg}'\n`);
    else if (issue.kind === "partial-number") ctx.stderr.write(`printf: ‘${issue.arg}’: value not completely converted\n`);
    else ctx.stderr.write(`printf: ‘${issue.arg}’: expected a numeric value\n`);
  }
  return r.issues.length > 0 ? 1 : 0;
};

/** The system and process tools, by name (wording follows ctx.flavour). */
export const sysTools: Record<string, Command> = {
  date,
  uname,
  id,
  whoami: async (ctx) => {
    ctx.stdout.write("root\n");
    return 0;
  },
  hostname,
  ps,
  kill,
  dmesg,
  sleep,
  env,
  which,
  xargs,
  test,
  "[": test,
  printf,
  echo: async (ctx) => {
    ctx.stdout.write(echoText(ctx.argv.slice(1)));
    return 0;
  },
  true: async () => 0,
  false: async () => 1,
};
