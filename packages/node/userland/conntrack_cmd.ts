/**
 * `conntrack` (conntrack-tools 1.4.7) over the connection-tracking table of
 * the process's network namespace: -L, -D, -F, -C and -S with the usual
 * filters, lines in the tool's default format and its summary on stderr.
 */
import { type ConnEntry, IPS_DST_NAT, IPS_SRC_NAT, netfilterOf } from "@kemu/kernel";
import type { Command, ProcessContext } from "../process.ts";

const PROG = "conntrack v1.4.7 (conntrack-tools)";

const HELP = `Command line interface for the connection tracking system. Version 1.4.7
Usage: conntrack [commands] [options]

Commands:
  -L [table] [options]\t\tList conntrack or expectation table
  -G [table] parameters\t\tGet conntrack or expectation
  -D [table] parameters\t\tDelete conntrack or expectation
  -I [table] parameters\t\tCreate a conntrack or expectation
  -U [table] parameters\t\tUpdate a conntrack
  -E [table] [options]\t\tShow events
  -F [table]\t\t\tFlush table
  -C [table]\t\t\tShow counter
  -S\t\t\t\tShow statistics

Tables: conntrack, expect, dying, unconfirmed

Conntrack parameters and options:
  -n, --src-nat ip\t\t\tsource NAT ip
  -g, --dst-nat ip\t\t\tdestination NAT ip
  -j, --any-nat ip\t\t\tsource or destination NAT ip
  -m, --mark mark\t\t\tSet mark
  -c, --secmark secmark\t\t\tSet selinux secmark
  -e, --event-mask eventmask\t\tEvent mask, eg. NEW,DESTROY
  -z, --zero \t\t\t\tZero counters while listing
  -o, --output type[,...]\t\tOutput format, eg. xml
  -l, --label label[,...]\t\tconntrack labels

Common parameters and options:
  -s, --src, --orig-src ip\t\tSource address from original direction
  -d, --dst, --orig-dst ip\t\tDestination address from original direction
  -r, --reply-src ip\t\tSource address from reply direction
  -q, --reply-dst ip\t\tDestination address from reply direction
  -p, --protonum proto\t\tLayer 4 Protocol, eg. 'tcp'
  -f, --family proto\t\tLayer 3 Protocol, eg. 'ipv6'
  -t, --timeout timeout\t\tSet timeout
  -u, --status status\t\tSet status, eg. ASSURED
  -w, --zone value\t\tSet conntrack zone
  --orig-zone value\t\tSet zone for original direction
  --reply-zone value\t\tSet zone for reply direction
  -b, --buffer-size\t\tNetlink socket buffer size
  --mask-src ip\t\t\tSource mask address
  --mask-dst ip\t\t\tDestination mask address
`;

const PROTOS: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, sctp: 132, udplite: 136, dccp: 33, gre: 47 };

/** inet_aton: 1 to 4 parts, the last filling the remaining bytes. */
function inetAton(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length < 1 || parts.length > 4 || parts.some((p) => !/^(0x[0-9a-f]+|\d+)$/i.test(p))) return undefined;
  const nums = parts.map((p) => Number(p));
  const last = nums.pop()!;
  let addr = 0;
  nums.forEach((n, i) => {
    addr += n * 2 ** (24 - 8 * i);
  });
  const room = 2 ** (32 - 8 * nums.length);
  if (last >= room || nums.some((n) => n > 255)) return undefined;
  return addr + last;
}

interface Filter {
  proto?: number;
  src?: number;
  dst?: number;
  replySrc?: number;
  replyDst?: number;
  sport?: number;
  dport?: number;
  snat?: boolean;
  dnat?: boolean;
  mark?: number;
}

function matches(e: ConnEntry, f: Filter): boolean {
  const [o, r] = e.tuples;
  if (f.proto !== undefined && o.proto !== f.proto) return false;
  if (f.src !== undefined && o.src !== f.src) return false;
  if (f.dst !== undefined && o.dst !== f.dst) return false;
  if (f.replySrc !== undefined && r.src !== f.replySrc) return false;
  if (f.replyDst !== undefined && r.dst !== f.replyDst) return false;
  if (f.sport !== undefined && o.sport !== f.sport) return false;
  if (f.dport !== undefined && o.dport !== f.dport) return false;
  if (f.snat && (e.status & IPS_SRC_NAT) === 0) return false;
  if (f.dnat && (e.status & IPS_DST_NAT) === 0) return false;
  if (f.mark !== undefined && e.mark !== f.mark) return false;
  return true;
}

function usageError(ctx: ProcessContext, text: string): number {
  ctx.stderr.write(`${PROG}: ${text}\nTry \`conntrack -h' or 'conntrack --help' for more information.\n`);
  return 2;
}

/** `conntrack …` */
export const conntrack: Command = async (ctx) => {
  const argv = ctx.argv.slice(1);
  if (argv.length === 0) {
    ctx.stdout.write(HELP);
    return 0;
  }
  let command: "L" | "D" | "F" | "C" | "S" | undefined;
  let table = "conntrack";
  let extended = false;
  const f: Filter = {};
  const long: Record<string, string> = {
    dump: "L",
    delete: "D",
    flush: "F",
    count: "C",
    stats: "S",
    src: "s",
    "orig-src": "s",
    dst: "d",
    "orig-dst": "d",
    "reply-src": "r",
    "reply-dst": "q",
    protonum: "p",
    proto: "p",
    "src-nat": "n",
    "dst-nat": "g",
    mark: "m",
    output: "o",
    family: "f",
    help: "h",
    version: "V",
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    let opt: string;
    let inline: string | undefined;
    if (a.startsWith("--")) {
      const [name, value] = a.slice(2).split("=", 2) as [string, string | undefined];
      inline = value;
      if (name === "sport" || name === "orig-port-src" || name === "dport" || name === "orig-port-dst") {
        if (f.proto !== 6 && f.proto !== 17 && f.proto !== 132 && f.proto !== 136) return usageError(ctx, `unknown option \`${a}'`);
        const v = Number(inline ?? argv[++i]);
        if (!Number.isInteger(v) || v < 0 || v > 65535) return usageError(ctx, `invalid port \`${inline ?? argv[i]}'`);
        if (name === "sport" || name === "orig-port-src") f.sport = v;
        else f.dport = v;
        continue;
      }
      const short = long[name];
      if (short === undefined) return usageError(ctx, `unknown option \`${a}'`);
      opt = short;
    } else if (a.startsWith("-") && a.length === 2) {
      opt = a[1]!;
    } else {
      return usageError(ctx, `unknown option \`${a}'`);
    }
    const arg = (): string | undefined => inline ?? argv[++i];
    const optionalTable = (): void => {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith("-")) table = argv[++i]!;
    };
    switch (opt) {
      case "L":
      case "D":
      case "F":
      case "C":
      case "S":
        if (command !== undefined) return usageError(ctx, `Invalid parameters`);
        command = opt;
        if (opt !== "S") optionalTable();
        break;
      case "s":
      case "d":
      case "r":
      case "q": {
        const text = arg() ?? "";
        const addr = inetAton(text);
        if (addr === undefined) return usageError(ctx, `Bad parameter \`${text}'`);
        if (opt === "s") f.src = addr;
        else if (opt === "d") f.dst = addr;
        else if (opt === "r") f.replySrc = addr;
        else f.replyDst = addr;
        break;
      }
      case "p": {
        const name = (arg() ?? "").toLowerCase();
        const n = PROTOS[name] ?? (/^\d+$/.test(name) ? Number(name) : undefined);
        if (n === undefined) return usageError(ctx, `\`${name}' unsupported protocol`);
        f.proto = n;
        break;
      }
      case "n":
        f.snat = true;
        break;
      case "g":
        f.dnat = true;
        break;
      case "m":
        f.mark = Number(arg());
        break;
      case "o":
        extended = (arg() ?? "").split(",").includes("extended");
        break;
      case "f":
        if ((arg() ?? "") !== "ipv4") return usageError(ctx, "Operation not supported");
        break;
      case "h":
        ctx.stdout.write(HELP);
        return 0;
      case "V":
        ctx.stdout.write(`${PROG}\n`);
        return 0;
      default:
        return usageError(ctx, `unknown option \`${a}'`);
    }
  }
  if (command === undefined) return usageError(ctx, "no command specified");
  const ct = netfilterOf(ctx.netns).conntrack;
  const expect = table === "expect" || table === "expectation";
  switch (command) {
    case "L": {
      if (expect) {
        ctx.stderr.write(`${PROG}: 0 expectations have been shown.\n`);
        return 0;
      }
      const list = ct.entries().filter((e) => matches(e, f));
      for (const e of list) ctx.stdout.write(`${extended ? "ipv4     2 " : ""}${ct.format(e)}\n`);
      ctx.stderr.write(`${PROG}: ${list.length} flow entries have been shown.\n`);
      return 0;
    }
    case "D": {
      const list = ct.entries().filter((e) => matches(e, f));
      for (const e of list) {
        ctx.stdout.write(`${ct.format(e)}\n`);
        ct.delete(e);
      }
      ctx.stderr.write(`${PROG}: ${list.length} flow entries have been deleted.\n`);
      return list.length > 0 ? 0 : 1;
    }
    case "F":
      if (expect) {
        ctx.stderr.write(`${PROG}: expectation table has been emptied.\n`);
        return 0;
      }
      ct.flush();
      ctx.stderr.write(`${PROG}: connection tracking table has been emptied.\n`);
      return 0;
    case "C":
      ctx.stdout.write(`${expect ? 0 : ct.count}\n`);
      return 0;
    case "S":
      ctx.stdout.write(
        "cpu=0   \tfound=0 invalid=0 insert=0 insert_failed=0 drop=0 early_drop=0 error=0 search_restart=0 clash_resolve=0 chaintoolong=0 \n",
      );
      return 0;
  }
};

/** The conntrack-tools programs. */
export const conntrackCommands: Record<string, Command> = { conntrack };
