/**
 * `ipset` (ipset 7.17) over the sets of the process's network namespace:
 * create, add, del, test, list, save, restore, flush, destroy, rename and
 * swap, with the tool's output and messages.
 */
import { type IpSet, IpSetError, type IpSets, netfilterOf } from "@kemu/kernel";
import type { Command, ProcessContext } from "../process.ts";

const PROG = "ipset v7.17";

const ABBREV: Record<string, string> = {
  n: "create",
  create: "create",
  a: "add",
  add: "add",
  d: "del",
  del: "del",
  t: "test",
  test: "test",
  l: "list",
  list: "list",
  s: "save",
  save: "save",
  r: "restore",
  restore: "restore",
  f: "flush",
  flush: "flush",
  x: "destroy",
  destroy: "destroy",
  e: "rename",
  rename: "rename",
  w: "swap",
  swap: "swap",
  h: "help",
  help: "help",
  v: "version",
  version: "version",
};

interface Globals {
  exist: boolean;
  names: boolean;
  terse: boolean;
  save: boolean;
  quiet: boolean;
}

/** Runs one ipset command (argv after the program name); returns its exit status. */
function runOne(ctx: ProcessContext, sets: IpSets, words: readonly string[], g: Globals): number {
  const args: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === "-exist" || w === "-!") g.exist = true;
    else if (w === "-n" || w === "-name") g.names = true;
    else if (w === "-t" || w === "-terse") g.terse = true;
    else if (w === "-q" || w === "-quiet") g.quiet = true;
    else if (w === "-o" || w === "-output") g.save = words[++i] === "save";
    else if (w === "-s" || w === "-sorted" || w === "-r" || w === "-resolve") continue;
    else args.push(w);
  }
  const cmdWord = args.shift();
  if (cmdWord === undefined) {
    ctx.stderr.write(`${PROG}: No command specified.\nTry \`ipset help' for more information.\n`);
    return 1;
  }
  const cmd = ABBREV[cmdWord.replace(/^-+/, "")];
  if (cmd === undefined) {
    ctx.stderr.write(`${PROG}: No command specified: unknown argument ${cmdWord}\nTry \`ipset help' for more information.\n`);
    return 1;
  }
  const need = (n: number, what: string): string => {
    const v = args[n];
    if (v === undefined) throw new IpSetError(`Syntax error: Missing mandatory argument of ${what}`);
    return v;
  };
  switch (cmd) {
    case "help":
      ctx.stdout.write(`${PROG}\n\nUsage: ipset [options] COMMAND\n\nCommands:\ncreate SETNAME TYPENAME [type-specific-options]\n        Create a new set\nadd SETNAME ENTRY\n        Add entry to the named set\ndel SETNAME ENTRY\n        Delete entry from the named set\ntest SETNAME ENTRY\n        Test entry in the named set\ndestroy [SETNAME]\n        Destroy a named set or all sets\nlist [SETNAME]\n        List the entries of a named set or all sets\nsave [SETNAME]\n        Save the named set or all sets to stdout\nrestore\n        Restore a saved state\nflush [SETNAME]\n        Flush a named set or all sets\nrename FROM-SETNAME TO-SETNAME\n        Rename two sets\nswap FROM-SETNAME TO-SETNAME\n        Swap the contect of two existing sets\nhelp [TYPENAME]\n        Print help, and settype specific help\nversion\n        Print version information\nquit\n        Quit interactive mode\n`);
      return 0;
    case "version":
      ctx.stdout.write(`${PROG}, protocol version: 7\n`);
      return 0;
    case "create":
      sets.create(need(0, "create"), need(1, "create"), args.slice(2), { exist: g.exist });
      return 0;
    case "add":
    case "del":
    case "test": {
      const set = sets.need(need(0, cmd));
      const elem = need(1, cmd);
      const opts: { exist?: boolean; timeout?: number; comment?: string } = { exist: g.exist };
      for (let i = 2; i < args.length; i++) {
        const o = args[i]!;
        if (o === "timeout") opts.timeout = Number(args[++i]);
        else if (o === "comment") opts.comment = args[++i] ?? "";
        else if (o === "nomatch" || o === "packets" || o === "bytes") {
          if (o !== "nomatch") i++;
        } else throw new IpSetError(`Syntax error: Unknown argument: '${o}'`);
      }
      if (cmd === "add") set.add(elem, opts);
      else if (cmd === "del") set.del(elem, { exist: g.exist });
      else {
        const shown = set.parseElement(elem)[0]?.text ?? elem;
        if (set.test(elem)) {
          if (!g.quiet) ctx.stderr.write(`Warning: ${shown} is in set ${set.name}.\n`);
          return 0;
        }
        if (!g.quiet) ctx.stderr.write(`${shown} is NOT in set ${set.name}.\n`);
        return 1;
      }
      return 0;
    }
    case "list":
    case "save": {
      const name = args[0];
      const list: IpSet[] = name === undefined ? sets.all() : [sets.need(name)];
      if (cmd === "save" || g.save) {
        ctx.stdout.write(list.map((s) => s.save()).join(""));
      } else if (g.names) {
        ctx.stdout.write(list.map((s) => `${s.name}\n`).join(""));
      } else {
        ctx.stdout.write(list.map((s) => s.list({ terse: g.terse })).join("\n"));
      }
      return 0;
    }
    case "flush": {
      const name = args[0];
      for (const s of name === undefined ? sets.all() : [sets.need(name)]) s.flush();
      return 0;
    }
    case "destroy":
      sets.destroy(args[0]);
      return 0;
    case "rename":
      sets.rename(need(0, "rename"), need(1, "rename"));
      return 0;
    case "swap":
      sets.swap(need(0, "swap"), need(1, "swap"));
      return 0;
    case "restore":
      throw new IpSetError("restore reads commands from stdin");
  }
  return 0;
}

/** `ipset …` */
export const ipset: Command = async (ctx) => {
  const sets = netfilterOf(ctx.netns).ipsets;
  const argv = ctx.argv.slice(1);
  const g: Globals = { exist: false, names: false, terse: false, save: false, quiet: false };
  const first = argv.find((w) => !w.startsWith("-"));
  if (first !== undefined && (ABBREV[first] === "restore")) {
    const text = await ctx.stdin.readAll();
    let line = 0;
    for (const raw of text.split("\n")) {
      line++;
      const l = raw.trim();
      if (l === "" || l.startsWith("#") || l === "COMMIT" || l === "quit") continue;
      try {
        const status = runOne(ctx, sets, [...argv.filter((w) => w.startsWith("-")), ...splitWords(l)], g);
        if (status !== 0) return status;
      } catch (err) {
        if (!(err instanceof IpSetError)) throw err;
        ctx.stderr.write(`${PROG}: Error in line ${line}: ${err.message}\n`);
        return 1;
      }
    }
    return 0;
  }
  try {
    return runOne(ctx, sets, argv, g);
  } catch (err) {
    if (!(err instanceof IpSetError)) throw err;
    ctx.stderr.write(`${PROG}: ${err.message}\n`);
    return 1;
  }
};

/** Splits a restore line into words, honouring double quotes (comments). */
function splitWords(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] ?? m[2]!);
  return out;
}

/** The ipset program. */
export const ipsetCommands: Record<string, Command> = { ipset };
