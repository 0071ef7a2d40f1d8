/**
 * `sysctl`: procps-ng 4.0 on hosts, busybox's applet in containers, over
 * the sysctls of the process's network namespace. The model only has
 * net.* keys, so `sysctl -a` lists those (the real one also lists kernel.*,
 * vm.*, fs.* …).
 */
import { KernelError, type Sysctl } from "@kemu/kernel";
import type { Command, ProcessContext } from "../process.ts";
import { BUSYBOX_BANNER, runTool } from "./_net.ts";
import { BUSYBOX_SYSCTL_USAGE, SYSCTL_USAGE } from "./ip_usage.ts";

/** A key as typed (dots or slashes) in dotted form. */
function normalize(key: string): string {
  return key.replace(/^\/proc\/sys\//, "").replaceAll("/", ".");
}

/** The keys `key` names: itself, or every key under it when it is a directory. */
function expand(sysctl: Sysctl, key: string): string[] {
  if (sysctl.has(key)) return [key];
  return sysctl.keys().filter((k) => k.startsWith(`${key}.`));
}

interface Flags {
  all: boolean;
  values: boolean;
  names: boolean;
  quiet: boolean;
  ignore: boolean;
  write: boolean;
  load: string | undefined;
  pattern: RegExp | undefined;
}

/** `sysctl …` */
export const sysctl: Command = (ctx) => runTool(() => (ctx.flavour === "busybox" ? busybox(ctx) : procps(ctx)));

function procps(ctx: ProcessContext): Promise<number> | number {
  const f: Flags = { all: false, values: false, names: false, quiet: false, ignore: false, write: false, load: undefined, pattern: undefined };
  const keys: string[] = [];
  const argv = ctx.argv.slice(1);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith("--")) {
      const [name, value] = a.slice(2).split("=", 2) as [string, string | undefined];
      if (name === "all") f.all = true;
      else if (name === "values") f.values = true;
      else if (name === "names") f.names = true;
      else if (name === "quiet") f.quiet = true;
      else if (name === "ignore") f.ignore = true;
      else if (name === "write") f.write = true;
      else if (name === "load") f.load = value ?? "/etc/sysctl.conf";
      else if (name === "system") f.load = "/etc/sysctl.conf";
      else if (name === "pattern") f.pattern = new RegExp(value ?? argv[++i] ?? "");
      else if (name === "help") {
        ctx.stdout.write(SYSCTL_USAGE);
        return 0;
      } else if (name === "version") {
        ctx.stdout.write("sysctl from procps-ng 4.0.2\n");
        return 0;
      } else {
        ctx.stderr.write(`sysctl: unrecognized option '${a}'\n${SYSCTL_USAGE}`);
        return 1;
      }
      continue;
    }
    if (!a.startsWith("-") || a === "-") {
      keys.push(a);
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const c = a[j]!;
      if (c === "a" || c === "A" || c === "X") f.all = true;
      else if (c === "n") f.values = true;
      else if (c === "N") f.names = true;
      else if (c === "q") f.quiet = true;
      else if (c === "e") f.ignore = true;
      else if (c === "w") f.write = true;
      else if (c === "b") f.values = true;
      else if (c === "o" || c === "x") {
        // does nothing
      } else if (c === "p" || c === "f") {
        const rest = a.slice(j + 1);
        f.load = rest !== "" ? rest : (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith("-") ? argv[++i]! : "/etc/sysctl.conf");
        break;
      } else if (c === "r") {
        f.pattern = new RegExp(argv[++i] ?? "");
        break;
      } else if (c === "h" || c === "d") {
        ctx.stdout.write(SYSCTL_USAGE);
        return 0;
      } else if (c === "V") {
        ctx.stdout.write("sysctl from procps-ng 4.0.2\n");
        return 0;
      } else {
        ctx.stderr.write(`sysctl: invalid option -- '${c}'\n${SYSCTL_USAGE}`);
        return 1;
      }
    }
  }
  const table = ctx.netns.sysctl;
  const show = (key: string, value: string): string => (f.names ? `${key}\n` : f.values ? `${value}\n` : `${key} = ${value}\n`);
  if (f.load !== undefined) return load(ctx, f, f.load);
  if (f.all) {
    const out = table
      .keys()
      .filter((k) => f.pattern === undefined || f.pattern.test(k))
      .map((k) => show(k, table.get(k)));
    ctx.stdout.write(out.join(""));
    return 0;
  }
  if (keys.length === 0) {
    ctx.stderr.write(argv.length > 0 ? "sysctl: no variables specified\nTry `sysctl --help' for more information.\n" : SYSCTL_USAGE);
    return 1;
  }
  let status = 0;
  for (const arg of keys) {
    const eq = arg.indexOf("=");
    if (eq < 0 && f.write) {
      ctx.stderr.write("sysctl: command line(0): invalid syntax, continuing...\n");
      status = 1;
      continue;
    }
    if (eq >= 0) {
      const key = normalize(arg.slice(0, eq).trim());
      const value = arg.slice(eq + 1).trim();
      const r = writeKey(ctx, table, key, value, f);
      if (r !== 0) status = r;
      continue;
    }
    const key = normalize(arg);
    const list = expand(table, key);
    if (list.length === 0) {
      if (!f.ignore) {
        ctx.stderr.write(`sysctl: cannot stat /proc/sys/${key.replaceAll(".", "/")}: No such file or directory\n`);
        status = 1;
      }
      continue;
    }
    ctx.stdout.write(list.map((k) => show(k, table.get(k))).join(""));
  }
  return status;
}

function writeKey(ctx: ProcessContext, table: Sysctl, key: string, value: string, f: Flags): number {
  if (!table.has(key)) {
    if (f.ignore) return 0;
    ctx.stderr.write(`sysctl: cannot stat /proc/sys/${key.replaceAll(".", "/")}: No such file or directory\n`);
    return 1;
  }
  try {
    if (value === "") throw new KernelError("EINVAL");
    table.set(key, value);
  } catch (err) {
    if (!(err instanceof KernelError)) throw err;
    ctx.stderr.write(`sysctl: setting key "${key}": ${err.text}\n`);
    return 1;
  }
  if (!f.quiet) ctx.stdout.write(f.values ? `${value}\n` : `${key} = ${value}\n`);
  return 0;
}

/** `sysctl -p FILE`: `key = value` lines, `#` and `;` comments, `-key` ignores errors. */
async function load(ctx: ProcessContext, f: Flags, path: string): Promise<number> {
  let text: string;
  try {
    text = ctx.fs.readFile(path, ctx.netns);
  } catch {
    ctx.stderr.write(`sysctl: cannot open "${path}": No such file or directory\n`);
    return 1;
  }
  let status = 0;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    let key = line.slice(0, eq).trim();
    const ignore = key.startsWith("-");
    if (ignore) key = key.slice(1);
    const r = writeKey(ctx, ctx.netns.sysctl, normalize(key), line.slice(eq + 1).trim(), { ...f, ignore: f.ignore || ignore });
    if (r !== 0) status = r;
  }
  return status;
}

function busybox(ctx: ProcessContext): number {
  const argv = ctx.argv.slice(1);
  let values = false;
  let quiet = false;
  let ignore = false;
  let all = false;
  const keys: string[] = [];
  for (const a of argv) {
    if (a.startsWith("-") && a.length > 1) {
      for (const c of a.slice(1)) {
        if (c === "n") values = true;
        else if (c === "q") quiet = true;
        else if (c === "e") ignore = true;
        else if (c === "a" || c === "A") all = true;
        else if (c === "w" || c === "p") {
          // -w is implied by KEY=VALUE
        } else {
          ctx.stderr.write(`sysctl: invalid option -- '${c}'\n${BUSYBOX_BANNER}\n\n${BUSYBOX_SYSCTL_USAGE}`);
          return 1;
        }
      }
    } else keys.push(a);
  }
  const table = ctx.netns.sysctl;
  const line = (k: string, v: string) => (values ? `${v}\n` : `${k} = ${v}\n`);
  if (all) {
    ctx.stdout.write(table.keys().map((k) => line(k, table.get(k))).join(""));
    return 0;
  }
  let status = 0;
  for (const arg of keys) {
    const eq = arg.indexOf("=");
    const key = normalize(eq < 0 ? arg : arg.slice(0, eq));
    if (eq < 0) {
      const list = expand(table, key);
      if (list.length === 0) {
        if (!ignore) ctx.stderr.write(`sysctl: error: '${key}' is an unknown key\n`);
        status = 1;
        continue;
      }
      ctx.stdout.write(list.map((k) => line(k, table.get(k))).join(""));
      continue;
    }
    const value = arg.slice(eq + 1);
    if (!table.has(key)) {
      if (!ignore) ctx.stderr.write(`sysctl: error: '${key}' is an unknown key\n`);
      status = 1;
      continue;
    }
    try {
      table.set(key, value);
    } catch (err) {
      if (!(err instanceof KernelError)) throw err;
      ctx.stderr.write(`sysctl: write error: ${err.text}\n`);
      status = 1;
      continue;
    }
    if (!quiet) ctx.stdout.write(line(key, value));
  }
  return status;
}
