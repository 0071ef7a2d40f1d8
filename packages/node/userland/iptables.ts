/**
 * `iptables`, `iptables-save` and `iptables-restore` (iptables 1.8.10, nft
 * backend) over the netfilter of the process's network namespace. The work
 * is done by the kernel model's netfilter commands; this file is the
 * programs' option handling, file access and output.
 */
import { iptablesMain, netfilterOf, runRestore, saveTable, type TableName } from "@kemu/kernel";
import { parseIpv4Addr } from "@kemu/wire";
import type { Command, ProcessContext } from "../process.ts";

/** Host names from the process's /etc/hosts, for `-s name` and `-L` without -n. */
function hostsFile(ctx: ProcessContext): Array<[number, string]> {
  let text = "";
  try {
    text = ctx.fs.readFile("/etc/hosts", ctx.netns);
  } catch {
    return [];
  }
  const out: Array<[number, string]> = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    if (line === "") continue;
    const [addr, ...names] = line.split(/\s+/);
    const a = parseIpv4Addr(addr ?? "");
    if (a === undefined) continue;
    for (const n of names) out.push([a, n]);
  }
  return out;
}

function resolvers(ctx: ProcessContext) {
  const hosts = hostsFile(ctx);
  return {
    resolve: (name: string): number[] | undefined => {
      const hits = hosts.filter(([, n]) => n === name).map(([a]) => a);
      return hits.length > 0 ? [...new Set(hits)] : undefined;
    },
    hostName: (addr: number): string | undefined => hosts.find(([a]) => a === addr)?.[1],
  };
}

/** `iptables …` */
export const iptables: Command = async (ctx) => {
  const nf = netfilterOf(ctx.netns);
  const r = iptablesMain(nf, ctx.argv.slice(1), resolvers(ctx));
  if (r.stdout) ctx.stdout.write(r.stdout);
  if (r.stderr) ctx.stderr.write(r.stderr);
  return r.exit;
};

const SAVE_TABLES: readonly TableName[] = ["raw", "mangle", "nat", "filter", "security"];

/** `iptables-save [-t table] [-c] [-f file]` */
export const iptablesSave: Command = async (ctx) => {
  const prog = "iptables-save";
  let table: string | undefined;
  let counters = false;
  let file: string | undefined;
  const argv = ctx.argv.slice(1);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (inline: string): string | undefined => (inline !== "" ? inline : argv[++i]);
    if (a === "-c" || a === "--counters") counters = true;
    else if (a === "-t" || a.startsWith("--table")) table = value(a.startsWith("--table=") ? a.slice(8) : "");
    else if (a.startsWith("-t")) table = a.slice(2);
    else if (a === "-f" || a.startsWith("--file")) file = value(a.startsWith("--file=") ? a.slice(7) : "");
    else if (a === "-M" || a === "--modprobe") i++;
    else if (a === "-V" || a === "--version") {
      ctx.stdout.write(`${prog} v1.8.10 (nf_tables)\n`);
      return 0;
    } else if (a === "-b" || a === "--binary") {
      ctx.stderr.write("-b/--binary option is not implemented\n");
    } else if (a === "-d" || a === "--dump" || a === "-4" || a === "--ipv4") {
      // nothing to do
    } else {
      const shown = a.startsWith("--") ? `unrecognized option '${a}'` : `invalid option -- '${a.slice(1, 2)}'`;
      ctx.stderr.write(`${prog}: ${shown}\nLook at manual page \`${prog}.8' for more information.\n`);
      return 1;
    }
  }
  const nf = netfilterOf(ctx.netns);
  const now = ctx.clock.now();
  let out = "";
  if (table !== undefined) {
    if (!SAVE_TABLES.includes(table as TableName)) {
      ctx.stderr.write(`Table \`${table}' does not exist\n`);
      return 1;
    }
    const t = nf.table(table as TableName) ?? nf.begin(table as TableName);
    out = saveTable(t, { now, counters });
  } else {
    out = nf
      .tables()
      .map((t) => saveTable(t, { now, counters }))
      .join("");
  }
  if (file !== undefined) {
    ctx.fs.writeFile(file, out);
    return 0;
  }
  ctx.stdout.write(out);
  return 0;
};

const RESTORE_USAGE = `Usage: iptables-restore [-c] [-v] [-V] [-t] [-h] [-n] [-T table] [-M command] [-4] [-6] [file]
	   [ --counters ]
	   [ --verbose ]
	   [ --version]
	   [ --test ]
	   [ --help ]
	   [ --noflush ]
	   [ --table=<TABLE> ]
	   [ --modprobe=<command> ]
	   [ --ipv4 ]
	   [ --ipv6 ]
`;

/** `iptables-restore [--noflush] [--counters] [-T table] [--test] [file]` */
export const iptablesRestore: Command = async (ctx) => {
  const prog = "iptables-restore";
  let noflush = false;
  let counters = false;
  let test = false;
  let table: string | undefined;
  let file: string | undefined;
  const argv = ctx.argv.slice(1);
  const shortFlags: Record<string, () => void> = {
    n: () => (noflush = true),
    c: () => (counters = true),
    t: () => (test = true),
    v: () => {},
    "4": () => {},
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith("--")) {
      const [name, inline] = a.slice(2).split("=", 2) as [string, string | undefined];
      const long: Record<string, () => void> = {
        noflush: () => (noflush = true),
        counters: () => (counters = true),
        test: () => (test = true),
        verbose: () => {},
        ipv4: () => {},
        wait: () => {},
        "wait-interval": () => {},
      };
      if (name === "table") table = inline ?? argv[++i];
      else if (name === "modprobe") {
        if (inline === undefined) i++;
      } else if (name === "help") {
        ctx.stdout.write(RESTORE_USAGE);
        return 0;
      } else if (name === "version") {
        ctx.stdout.write(`${prog} v1.8.10 (nf_tables)\n`);
        return 0;
      } else if (long[name]) long[name]!();
      else {
        ctx.stderr.write(`${prog}: unrecognized option '${a}'\n${RESTORE_USAGE}`);
        return 1;
      }
      continue;
    }
    if (a.startsWith("-") && a.length > 1) {
      for (let k = 1; k < a.length; k++) {
        const c = a[k]!;
        if (c === "T" || c === "M") {
          const v = a.length > k + 1 ? a.slice(k + 1) : argv[++i];
          if (c === "T") table = v;
          break;
        }
        if (c === "w" || c === "W") break;
        if (c === "h") {
          ctx.stdout.write(RESTORE_USAGE);
          return 0;
        }
        if (c === "V") {
          ctx.stdout.write(`${prog} v1.8.10 (nf_tables)\n`);
          return 0;
        }
        const f = shortFlags[c];
        if (f === undefined) {
          ctx.stderr.write(`${prog}: invalid option -- '${c}'\n${RESTORE_USAGE}`);
          return 1;
        }
        f();
      }
      continue;
    }
    file = a;
  }
  let input: string;
  if (file !== undefined) {
    try {
      input = ctx.fs.readFile(file, ctx.netns);
    } catch {
      ctx.stderr.write(`Can't open ${file}: No such file or directory\n`);
      return 1;
    }
  } else {
    input = await ctx.stdin.readAll();
  }
  const nf = netfilterOf(ctx.netns);
  const r = runRestore(nf, input, {
    noflush,
    counters,
    test,
    ...(table !== undefined ? { table } : {}),
    resolve: resolvers(ctx).resolve,
  });
  if (r.stdout) ctx.stdout.write(r.stdout);
  if (r.stderr) ctx.stderr.write(r.stderr);
  return r.exit;
};

/** The iptables programs a host has (the nft variants under both names). */
export const iptablesCommands: Record<string, Command> = {
  iptables,
  "iptables-nft": iptables,
  "iptables-save": iptablesSave,
  "iptables-nft-save": iptablesSave,
  "iptables-restore": iptablesRestore,
  "iptables-nft-restore": iptablesRestore,
};
