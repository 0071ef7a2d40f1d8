import { Netem, NETEM_NONE, type NetDevice, type NetemConfig } from "@kemu/kernel";
import type { Command, ProcessContext } from "../process.ts";

const NETEM_USAGE = `Usage: ... netem [ limit PACKETS ]
                 [ delay TIME [ JITTER [CORRELATION]]]
                 [ distribution {uniform|normal|pareto|paretonormal} ]
                 [ corrupt PERCENT [CORRELATION]]
                 [ duplicate PERCENT [CORRELATION]]
                 [ loss random PERCENT [CORRELATION]]
                 [ loss state P13 [P31 [P32 [P23 P14]]]
                 [ loss gemodel PERCENT [R [1-H [1-K]]]
                 [ ecn ]
                 [ reorder PERCENT [CORRELATION] [ gap DISTANCE ]]
                 [ rate RATE [PACKETOVERHEAD] [CELLSIZE] [CELLOVERHEAD]]
                 [ slot MIN_DELAY [MAX_DELAY] [packets MAX_PACKETS] [bytes MAX_BYTES]]
                 [ slot distribution {uniform|normal|pareto|paretonormal|custom}
                   DELAY JITTER [packets MAX_PACKETS] [bytes MAX_BYTES]]
`;

/** Parses a tc time: `100ms`, `1s`, `500us`, a bare number is µs as tc reads it. */
function parseTime(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(s|sec|secs|ms|msec|msecs|us|usec|usecs)?$/.exec(text);
  if (!m) return undefined;
  const v = Number(m[1]);
  const unit = m[2] ?? "us";
  return unit.startsWith("s") ? v * 1000 : unit.startsWith("m") ? v : v / 1000;
}

function parsePercent(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)%?$/.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** Parses a tc rate: `1mbit`, `100kbit`, `10Mbps` (bytes), a bare number is bytes per second. */
function parseRate(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([kmgt]?)(bit|bps)?$/i.exec(text);
  if (!m) return undefined;
  const mult = { "": 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 }[m[2]!.toLowerCase() as "" | "k" | "m" | "g" | "t"];
  const bits = (m[3] ?? "bps").toLowerCase() === "bit";
  return Number(m[1]) * mult * (bits ? 1 : 8);
}

/** tc's time text: 100ms, 1s, 10us. */
function timeText(ms: number): string {
  if (ms >= 1000 && Number.isInteger(ms / 1000)) return `${ms / 1000}s`;
  if (ms >= 1) return `${Number(ms.toFixed(3))}ms`;
  return `${Math.round(ms * 1000)}us`;
}

function rateText(bps: number): string {
  for (const [unit, v] of [["Gbit", 1e9], ["Mbit", 1e6], ["Kbit", 1e3]] as const) if (bps >= v) return `${Number((bps / v).toFixed(3))}${unit}`;
  return `${bps}bit`;
}

/** Reads netem options; returns an error line in tc's words. */
function parseNetem(args: readonly string[], base: NetemConfig): NetemConfig | string {
  const c: NetemConfig = { ...base };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = () => args[++i];
    switch (a) {
      case "limit": {
        const v = Number(next());
        if (!Number.isInteger(v)) return `Illegal "limit"`;
        c.limit = v;
        break;
      }
      case "delay":
      case "latency": {
        const d = parseTime(next() ?? "");
        if (d === undefined) return `Illegal "latency"`;
        c.delayMs = d;
        const j = args[i + 1] !== undefined ? parseTime(args[i + 1]!) : undefined;
        if (j !== undefined) {
          c.jitterMs = j;
          i++;
          if (args[i + 1] !== undefined && parsePercent(args[i + 1]!) !== undefined && args[i + 1]!.endsWith("%")) i++;
        }
        break;
      }
      case "loss": {
        let v = next();
        if (v === "random") v = next();
        if (v === "gemodel") {
          const p = parsePercent(next() ?? "");
          const opt = (dflt: number) => (args[i + 1] !== undefined && parsePercent(args[i + 1]!) !== undefined ? parsePercent(args[++i]!)! : dflt);
          if (p === undefined) return `Illegal "loss gemodel p"`;
          const r = opt(100 - p);
          const lossBad = opt(100);
          const lossGood = opt(0);
          c.gemodel = { p, r, lossBad, lossGood };
          c.lossPct = 0;
          break;
        }
        const pct = parsePercent(v ?? "");
        if (pct === undefined) return `Illegal "loss"`;
        c.lossPct = pct;
        c.gemodel = undefined;
        break;
      }
      case "duplicate":
      case "corrupt":
      case "reorder": {
        const pct = parsePercent(next() ?? "");
        if (pct === undefined) return `Illegal "${a}"`;
        if (a === "duplicate") c.duplicatePct = pct;
        else if (a === "corrupt") c.corruptPct = pct;
        else c.reorderPct = pct;
        break;
      }
      case "rate": {
        const r = parseRate(next() ?? "");
        if (r === undefined) return `Illegal "rate"`;
        c.rateBps = r;
        break;
      }
      default:
        return `What is "${a}"?`;
    }
  }
  return c;
}

/** `tc qdisc show` text of a netem. */
function netemText(q: Netem): string {
  const c = q.config;
  let s = `limit ${c.limit}`;
  if (c.delayMs > 0) s += ` delay ${timeText(c.delayMs)}${c.jitterMs > 0 ? `  ${timeText(c.jitterMs)}` : ""}`;
  if (c.gemodel) s += ` loss gemodel p ${c.gemodel.p}% r ${c.gemodel.r}% 1-h ${c.gemodel.lossBad}% 1-k ${c.gemodel.lossGood}%`;
  else if (c.lossPct > 0) s += ` loss ${c.lossPct}%`;
  if (c.duplicatePct > 0) s += ` duplicate ${c.duplicatePct}%`;
  if (c.reorderPct > 0) s += ` reorder ${c.reorderPct}%`;
  if (c.corruptPct > 0) s += ` corrupt ${c.corruptPct}%`;
  if (c.rateBps > 0) s += ` rate ${rateText(c.rateBps)}`;
  return s;
}

function qdiscLine(dev: NetDevice, withDev: boolean): string {
  const where = withDev ? `dev ${dev.name} ` : "";
  if (dev.qdisc) return `qdisc netem ${dev.qdisc.handle.toString(16)}: ${where}root refcnt 2 ${netemText(dev.qdisc)}`;
  if (dev.kind === "ether") {
    return `qdisc fq_codel 0: ${where}root refcnt 2 limit 10240p flows 1024 quantum 1514 target 5ms interval 100ms memory_limit 32Mb ecn drop_batch 64 `;
  }
  return `qdisc noqueue 0: ${where}root refcnt 2 `;
}

function statsLines(dev: NetDevice): string {
  const s = dev.qdisc?.stats;
  const sent = s ? `${s.sentBytes} bytes ${s.sentPackets} pkt` : `${dev.stats.txBytes} bytes ${dev.stats.txPackets} pkt`;
  return ` Sent ${sent} (dropped ${s?.dropped ?? 0}, overlimits ${s?.overlimits ?? 0} requeues 0) \n backlog 0b 0p requeues 0\n`;
}

/** Handles of added qdiscs, per host: 8001:, 8002:… as the kernel allocates them. */
const nextHandle = new WeakMap<object, number>();

function qdisc(ctx: ProcessContext, args: readonly string[], stats: boolean): number {
  const [verb = "show", ...rest] = args;
  let devName: string | undefined;
  let i = 0;
  for (; i < rest.length; i++) {
    if (rest[i] === "dev") devName = rest[++i];
    else if (rest[i] === "root") continue;
    else break;
  }
  const opts = rest.slice(i);
  const dev = devName === undefined ? undefined : ctx.netns.deviceByName(devName);
  if (devName !== undefined && !dev) {
    ctx.stderr.write(`Cannot find device "${devName}"\n`);
    return 1;
  }
  if (verb === "show" || verb === "list" || verb === "ls") {
    const devs = dev ? [dev] : ctx.netns.devices();
    for (const d of devs) {
      ctx.stdout.write(`${qdiscLine(d, dev === undefined)}\n`);
      if (stats) ctx.stdout.write(statsLines(d));
    }
    return 0;
  }
  if (!dev) {
    ctx.stderr.write(`Unknown qdisc "${opts[0] ?? ""}", hence option "" is unparsable\n`);
    return 1;
  }
  if (verb === "del" || verb === "delete") {
    if (!dev.qdisc) {
      ctx.stderr.write("Error: Cannot delete qdisc with handle of zero.\n");
      return 2;
    }
    dev.qdisc = undefined;
    return 0;
  }
  if (verb !== "add" && verb !== "change" && verb !== "replace") {
    ctx.stderr.write(`Command "${verb}" is unknown, try "tc qdisc help".\n`);
    return 1;
  }
  const [kind, ...netemArgs] = opts;
  if (kind !== "netem") {
    ctx.stderr.write(kind === undefined ? "Error: Specified qdisc kind is unknown.\n" : `Error: Specified qdisc kind is unknown.\n`);
    return 2;
  }
  if (verb === "add" && dev.qdisc) {
    ctx.stderr.write("Error: Exclusivity flag on, cannot modify.\n");
    return 2;
  }
  if (verb === "change" && !dev.qdisc) {
    ctx.stderr.write("Error: Qdisc not found. To create specify NLM_F_CREATE flag.\n");
    return 2;
  }
  const parsed = parseNetem(netemArgs, verb === "change" ? dev.qdisc!.config : NETEM_NONE);
  if (typeof parsed === "string") {
    ctx.stderr.write(`${parsed}\n${NETEM_USAGE}`);
    return 1;
  }
  if (dev.qdisc && verb !== "add") {
    dev.qdisc.config = parsed;
    return 0;
  }
  const handle = nextHandle.get(ctx.host) ?? 0x8001;
  nextHandle.set(ctx.host, handle + 1);
  dev.qdisc = new Netem(parsed, ctx.clock, ctx.host.kernel.rng, handle);
  return 0;
}

/** tc (iproute2): `tc [-s] qdisc show|add|change|replace|del dev DEV root netem …`. */
const tc: Command = async (ctx) => {
  const args = [...ctx.argv.slice(1)];
  let stats = false;
  while (args[0]?.startsWith("-")) {
    const f = args.shift()!;
    if (f === "-s" || f === "-stats" || f === "-statistics") stats = true;
    else {
      ctx.stderr.write(`Option "${f}" is unknown, try "tc -help".\n`);
      return 255;
    }
  }
  const [object, ...rest] = args;
  if (object === undefined) {
    ctx.stderr.write("Usage:\ttc [ OPTIONS ] OBJECT { COMMAND | help }\n\ttc [-force] -batch filename\nwhere  OBJECT := { qdisc | class | filter | chain |\n\t\t    action | monitor | exec }\n");
    return 1;
  }
  if ("qdisc".startsWith(object)) return qdisc(ctx, rest, stats);
  ctx.stderr.write(`Object "${object}" is unknown, try "tc help".\n`);
  return 1;
};

/** tc, on hosts. */
export const tcCommands: Record<string, Command> = { tc };
