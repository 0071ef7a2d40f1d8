/**
 * Tools over the process's files: cat, ls, mkdir, rmdir, rm, touch, cp, mv,
 * basename, dirname — with GNU coreutils' or busybox's wording.
 */
import type { Command, ProcessContext } from "../process.ts";
import { normalize, VfsError } from "../vfs.ts";
import { badUsage, busyboxUsage, isOptError, killedStatus, parseOpts, readAllAbortable, resolvePath } from "./_tool.ts";

function gnu(ctx: ProcessContext): boolean {
  return ctx.flavour === "gnu";
}

function errMsg(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const cat: Command = async (ctx) => {
  const o = parseOpts(ctx.argv.slice(1), {
    flags: "nbEAusTvte",
    long: { number: "n", "number-nonblank": "b", "show-ends": "E", "show-all": "A", "show-tabs": "T" },
  });
  if (isOptError(o)) return badUsage(ctx, "cat", o);
  const files = o.args.length === 0 ? ["-"] : o.args;
  let st = 0;
  let lineNo = 0;
  const number = o.has("n") || o.has("b");
  for (const f of files) {
    let text: string;
    if (f === "-" || f === "/dev/stdin") {
      const t = await readAllAbortable(ctx.stdin, ctx.signal);
      if (t === undefined) return killedStatus(ctx.signal);
      text = t;
    } else if (f === "/dev/null" || f === "/dev/zero") text = "";
    else {
      const path = resolvePath(ctx, f);
      try {
        text = ctx.fs.readFile(path, ctx.netns);
      } catch (err) {
        if (!(err instanceof VfsError)) throw err;
        if (gnu(ctx)) ctx.stderr.write(`cat: ${f}: ${err.message}\n`);
        else if (err.errno === "EISDIR") ctx.stderr.write(`cat: read error: ${err.message}\n`);
        else ctx.stderr.write(`cat: can't open '${f}': ${err.message}\n`);
        st = 1;
        continue;
      }
    }
    if (number || o.has("E") || o.has("A") || o.has("e")) {
      const lines = text.split("\n");
      const last = lines.pop()!;
      let out = "";
      const fmt = (line: string, nl: boolean) => {
        const blank = line === "";
        let prefix = "";
        if (o.has("b") ? !blank : o.has("n")) prefix = `${String(++lineNo).padStart(6)}\t`;
        const end = nl && (o.has("E") || o.has("A") || o.has("e")) ? "$" : "";
        const body = o.has("A") || o.has("T") ? line.replaceAll("\t", "^I") : line;
        return `${prefix}${body}${end}${nl ? "\n" : ""}`;
      };
      for (const l of lines) out += fmt(l, true);
      if (last !== "") out += fmt(last, false);
      text = out;
    }
    ctx.stdout.write(text);
  }
  return st;
};

function modeString(kind: "file" | "dir"): string {
  return kind === "dir" ? "drwxr-xr-x" : "-rw-r--r--";
}

const ls: Command = async (ctx) => {
  const o = parseOpts(ctx.argv.slice(1), {
    flags: "1laAdhFRtrSpCx",
    long: { all: "a", "almost-all": "A", directory: "d", "human-readable": "h", color: "color", "color=": "color" },
  });
  if (isOptError(o)) return badUsage(ctx, "ls", o, gnu(ctx) ? 2 : 1);
  const long = o.has("l");
  const all = o.has("a");
  const almost = o.has("A");
  const classify = o.has("F") || o.has("p");
  const targets = o.args.length === 0 ? ["."] : o.args;
  let st = 0;
  const files: string[] = [];
  const dirs: string[] = [];
  for (const t of targets) {
    const kind = ctx.fs.stat(resolvePath(ctx, t), ctx.netns);
    if (kind === undefined) {
      if (gnu(ctx)) ctx.stderr.write(`ls: cannot access '${t}': No such file or directory\n`);
      else ctx.stderr.write(`ls: ${t}: No such file or directory\n`);
      st = gnu(ctx) ? 2 : 1;
      continue;
    }
    if (kind === "dir" && !o.has("d")) dirs.push(t);
    else files.push(t);
  }
  const size = (path: string, kind: "file" | "dir") => {
    if (kind === "dir") return 4096;
    try {
      return new TextEncoder().encode(ctx.fs.readFile(path, ctx.netns)).length;
    } catch {
      return 0;
    }
  };
  const row = (shown: string, path: string): string => {
    const kind = ctx.fs.stat(path, ctx.netns) ?? "file";
    const suffix = classify && kind === "dir" ? "/" : "";
    if (!long) return `${shown}${suffix}`;
    const n = kind === "dir" ? 2 : 1;
    const sz = size(path, kind);
    if (gnu(ctx)) return `${modeString(kind)} ${n} root root ${String(sz).padStart(4)} Jan  1 00:00 ${shown}${suffix}`;
    return `${modeString(kind)}    ${n} root     root     ${String(sz).padStart(9)} Jan  1 00:00 ${shown}${suffix}`;
  };
  const out: string[] = [];
  for (const f of files) out.push(row(f, resolvePath(ctx, f)));
  for (const [i, d] of dirs.entries()) {
    const abs = resolvePath(ctx, d);
    let names: string[];
    try {
      names = ctx.fs.list(abs, ctx.netns);
    } catch (err) {
      ctx.stderr.write(`ls: cannot open directory '${d}': ${errMsg(err)}\n`);
      st = 2;
      continue;
    }
    if (all) names = [".", "..", ...names];
    else if (!almost) names = names.filter((n) => !n.startsWith("."));
    if (o.has("r")) names.reverse();
    if (targets.length > 1) {
      if (out.length > 0 || i > 0) out.push("");
      out.push(`${d}:`);
    }
    if (long) {
      let blocks = 0;
      for (const n of names) {
        const p = n === "." || n === ".." ? abs : `${abs === "/" ? "" : abs}/${n}`;
        const k = ctx.fs.stat(p, ctx.netns) ?? "file";
        blocks += Math.ceil(size(p, k) / 4096) * 4;
      }
      out.push(`total ${blocks}`);
    }
    for (const n of names) out.push(row(n, n === "." ? abs : n === ".." ? normalize(`${abs}/..`) : `${abs === "/" ? "" : abs}/${n}`));
  }
  if (out.length > 0) ctx.stdout.write(`${out.join("\n")}\n`);
  return st;
};

function parentOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

const mkdir: Command = async (ctx) => {
  const o = parseOpts(ctx.argv.slice(1), { flags: "pv", withArg: "m", long: { parents: "p", verbose: "v", "mode=": "m" } });
  if (isOptError(o)) return badUsage(ctx, "mkdir", o);
  if (o.args.length === 0) {
    if (gnu(ctx)) ctx.stderr.write("mkdir: missing operand\nTry 'mkdir --help' for more information.\n");
    else ctx.stderr.write(busyboxUsage("mkdir"));
    return 1;
  }
  let st = 0;
  for (const d of o.args) {
    const path = resolvePath(ctx, d);
    const kind = ctx.fs.stat(path, ctx.netns);
    const fail = (why: string) => {
      if (gnu(ctx)) ctx.stderr.write(`mkdir: cannot create directory ‘${d}’: ${why}\n`);
      else ctx.stderr.write(`mkdir: can't create directory '${d}': ${why}\n`);
      st = 1;
    };
    if (kind !== undefined) {
      if (o.has("p") && kind === "dir") continue;
      fail(kind === "dir" || !o.has("p") ? "File exists" : "Not a directory");
      continue;
    }
    const parent = ctx.fs.stat(parentOf(path), ctx.netns);
    if (!o.has("p") && parent !== "dir") {
      fail(parent === undefined ? "No such file or directory" : "Not a directory");
      continue;
    }
    if (path.startsWith("/proc/") || path.startsWith("/sys/")) {
      fail("No such file or directory");
      continue;
    }
    try {
      ctx.fs.mkdir(path);
      if (o.has("v")) ctx.stdout.write(gnu(ctx) ? `mkdir: created directory '${d}'\n` : `created directory: '${d}'\n`);
    } catch (err) {
      fail(errMsg(err));
    }
  }
  return st;
};

function removeTree(ctx: ProcessContext, path: string): void {
  if (ctx.fs.stat(path, ctx.netns) === "dir") {
    for (const n of ctx.fs.list(path, ctx.netns)) removeTree(ctx, `${path === "/" ? "" : path}/${n}`);
  }
  ctx.fs.remove(path);
}

const rm: Command = async (ctx) => {
  const o = parseOpts(ctx.argv.slice(1), { flags: "frRidv", long: { force: "f", recursive: "r", dir: "d", verbose: "v" } });
  if (isOptError(o)) return badUsage(ctx, "rm", o);
  const force = o.has("f");
  const recursive = o.has("r") || o.has("R");
  if (o.args.length === 0 && !force) {
    if (gnu(ctx)) ctx.stderr.write("rm: missing operand\nTry 'rm --help' for more information.\n");
    else ctx.stderr.write(busyboxUsage("rm"));
    return 1;
  }
  let st = 0;
  for (const f of o.args) {
    const path = resolvePath(ctx, f);
    const kind = ctx.fs.stat(path, ctx.netns);
    if (kind === undefined) {
      if (force) continue;
      ctx.stderr.write(gnu(ctx) ? `rm: cannot remove '${f}': No such file or directory\n` : `rm: can't remove '${f}': No such file or directory\n`);
      st = 1;
      continue;
    }
    if (kind === "dir" && !recursive) {
      if (o.has("d") && ctx.fs.list(path, ctx.netns).length === 0) {
        ctx.fs.remove(path);
        continue;
      }
      ctx.stderr.write(gnu(ctx) ? `rm: cannot remove '${f}': Is a directory\n` : `rm: '${f}' is a directory\n`);
      st = 1;
      continue;
    }
    if (path === "/") {
      ctx.stderr.write(gnu(ctx) ? "rm: it is dangerous to operate recursively on '/'\nrm: use --no-preserve-root to override this failsafe\n" : "rm: can't remove '/'\n");
      st = 1;
      continue;
    }
    try {
      removeTree(ctx, path);
      if (o.has("v")) ctx.stdout.write(`removed '${f}'\n`);
    } catch (err) {
      ctx.stderr.write(gnu(ctx) ? `rm: cannot remove '${f}': ${errMsg(err)}\n` : `rm: can't remove '${f}': ${errMsg(err)}\n`);
      st = 1;
    }
  }
  return st;
};

const rmdir: Command = async (ctx) => {
  const o = parseOpts(ctx.argv.slice(1), { flags: "pv", long: { parents: "p", verbose: "v" } });
  if (isOptError(o)) return badUsage(ctx, "rmdir", o);
  let st = 0;
  for (const d of o.args) {
    const path = resolvePath(ctx, d);
    const kind = ctx.fs.stat(path, ctx.netns);
    const why =
      kind === undefined ? "No such file or directory" : kind === "file" ? "Not a directory" : ctx.fs.list(path, ctx.netns).length > 0 ? "Directory not empty" : undefined;
    if (why !== undefined) {
      ctx.stderr.write(gnu(ctx) ? `rmdir: failed to remove '${d}': ${why}\n` : `rmdir: '${d}': ${why}\n`);
      st = 1;
      continue;
    }
    ctx.fs.remove(path);
  }
  return st;
};

const touch: Command = async (ctx) => {
  const o = parseOpts(ctx.argv.slice(1), { flags: "acm", withArg: "dtr", long: { "no-create": "c", "date=": "d", "reference=": "r" } });
  if (isOptError(o)) return badUsage(ctx, "touch", o);
  if (o.args.length === 0) {
    if (gnu(ctx)) ctx.stderr.write("touch: missing file operand\nTry 'touch --help' for more information.\n");
    else ctx.stderr.write(busyboxUsage("touch"));
    return 1;
  }
  let st = 0;
  for (const f of o.args) {
    const path = resolvePath(ctx, f);
    if (ctx.fs.stat(path, ctx.netns) !== undefined || o.has("c")) continue;
    const parent = ctx.fs.stat(parentOf(path), ctx.netns);
    if (parent !== "dir" || path.startsWith("/proc/") || path.startsWith("/sys/")) {
      const why = parent === "file" ? "Not a directory" : path.startsWith("/sys/") || path.startsWith("/proc/") ? "Permission denied" : "No such file or directory";
      ctx.stderr.write(gnu(ctx) ? `touch: cannot touch '${f}': ${why}\n` : `touch: ${f}: ${why}\n`);
      st = 1;
      continue;
    }
    ctx.fs.writeFile(path, "", ctx.netns);
  }
  return st;
};

async function copyOrMove(ctx: ProcessContext, move: boolean): Promise<number> {
  const tool = move ? "mv" : "cp";
  const o = parseOpts(ctx.argv.slice(1), { flags: "rRfaipvnT", long: { recursive: "r", force: "f", verbose: "v" } });
  if (isOptError(o)) return badUsage(ctx, tool, o);
  if (o.args.length < 2) {
    if (gnu(ctx)) {
      ctx.stderr.write(o.args.length === 0 ? `${tool}: missing file operand\n` : `${tool}: missing destination file operand after '${o.args[0]}'\n`);
      ctx.stderr.write(`Try '${tool} --help' for more information.\n`);
    } else ctx.stderr.write(`${busyboxUsage(tool)}`);
    return 1;
  }
  const dest = o.args[o.args.length - 1]!;
  const sources = o.args.slice(0, -1);
  const destPath = resolvePath(ctx, dest);
  const destIsDir = ctx.fs.stat(destPath, ctx.netns) === "dir";
  if (sources.length > 1 && !destIsDir) {
    ctx.stderr.write(gnu(ctx) ? `${tool}: target '${dest}': Not a directory\n` : `${tool}: '${dest}' is not a directory\n`);
    return 1;
  }
  let st = 0;
  const copyTree = (from: string, to: string) => {
    if (ctx.fs.stat(from, ctx.netns) === "dir") {
      ctx.fs.mkdir(to);
      for (const n of ctx.fs.list(from, ctx.netns)) copyTree(`${from}/${n}`, `${to}/${n}`);
    } else ctx.fs.writeFile(to, ctx.fs.readFile(from, ctx.netns), ctx.netns);
  };
  for (const s of sources) {
    const from = resolvePath(ctx, s);
    const kind = ctx.fs.stat(from, ctx.netns);
    if (kind === undefined) {
      if (gnu(ctx)) ctx.stderr.write(`${tool}: cannot stat '${s}': No such file or directory\n`);
      else ctx.stderr.write(move ? `mv: can't rename '${s}': No such file or directory\n` : `cp: can't stat '${s}': No such file or directory\n`);
      st = 1;
      continue;
    }
    if (kind === "dir" && !move && !o.has("r") && !o.has("R") && !o.has("a")) {
      ctx.stderr.write(gnu(ctx) ? `cp: -r not specified; omitting directory '${s}'\n` : `cp: omitting directory '${s}'\n`);
      st = 1;
      continue;
    }
    const to = destIsDir ? `${destPath === "/" ? "" : destPath}/${from.slice(from.lastIndexOf("/") + 1)}` : destPath;
    try {
      copyTree(from, to);
      if (move) removeTree(ctx, from);
    } catch (err) {
      ctx.stderr.write(gnu(ctx) ? `${tool}: cannot create regular file '${dest}': ${errMsg(err)}\n` : `${tool}: can't create '${dest}': ${errMsg(err)}\n`);
      st = 1;
    }
  }
  return st;
}

const basename: Command = async (ctx) => {
  const args = ctx.argv.slice(1).filter((a, i) => !(i === 0 && a === "--"));
  if (args.length === 0) {
    if (gnu(ctx)) ctx.stderr.write("basename: missing operand\nTry 'basename --help' for more information.\n");
    else ctx.stderr.write(busyboxUsage("basename"));
    return 1;
  }
  let name = args[0]!.replace(/\/+$/, "");
  if (name === "") name = args[0]!.startsWith("/") ? "/" : "";
  else name = name.slice(name.lastIndexOf("/") + 1);
  const suffix = args[1];
  if (suffix !== undefined && name !== suffix && name.endsWith(suffix)) name = name.slice(0, -suffix.length);
  ctx.stdout.write(`${name}\n`);
  return 0;
};

const dirname: Command = async (ctx) => {
  const args = ctx.argv.slice(1);
  if (args.length === 0) {
    if (gnu(ctx)) ctx.stderr.write("dirname: missing operand\nTry 'dirname --help' for more information.\n");
    else ctx.stderr.write(busyboxUsage("dirname"));
    return 1;
  }
  for (const a of gnu(ctx) ? args : args.slice(0, 1)) {
    const p = a.replace(/\/+$/, "");
    let d: string;
    if (p === "") d = a.startsWith("/") ? "/" : ".";
    else if (!p.includes("/")) d = ".";
    else d = p.slice(0, p.lastIndexOf("/")).replace(/\/+$/, "") || "/";
    ctx.stdout.write(`${d}\n`);
  }
  return 0;
};

/** The file tools, by name (the same programs serve both flavours; wording follows ctx.flavour). */
export const fileTools: Record<string, Command> = {
  cat,
  ls,
  mkdir,
  rm,
  rmdir,
  touch,
  cp: (ctx) => copyOrMove(ctx, false),
  mv: (ctx) => copyOrMove(ctx, true),
  basename,
  dirname,
};
