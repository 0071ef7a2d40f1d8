/**
 * `ipvsadm` (1.31) over the IPVS table of the process's network namespace:
 * add, edit and delete virtual services (-A/-E/-D) and their real servers
 * (-a/-e/-d), clear (-C), list (-L/-l with -n, -c, --stats) and save
 * (-S), with the tool's formats (ipvsadm.c) and the kernel's refusals in
 * libipvs' words. Forwarding is masquerading whatever is asked (kube-proxy
 * uses nothing else); -g and -i are accepted and shown as asked.
 */
import { formatIpv4Addr, parseIpv4Addr } from "@kemu/wire";
import { type Ipvs, IpvsError, type IpvsProto, type IpvsScheduler, IPVS_SCHEDULERS, type IpvsService, netfilterOf } from "@kemu/kernel";
import type { Command, ProcessContext } from "../process.ts";

const VERSION = "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)";
const DEFAULT_SCHEDULER: IpvsScheduler = "wlc";
const DEFAULT_PERSISTENCE = 300;

type Cmd = "add-service" | "edit-service" | "delete-service" | "add-server" | "edit-server" | "delete-server" | "clear" | "list" | "save" | "zero" | "help" | "version";

class Usage extends Error {
  constructor(
    message: string,
    readonly code = 2,
  ) {
    super(message);
  }
}

interface Parsed {
  cmd: Cmd;
  service?: { proto: IpvsProto; addr: number; port: number };
  listService?: boolean;
  scheduler?: string;
  persistent?: number;
  server?: { addr: number; port: number | undefined };
  weight?: number;
  numeric: boolean;
  connections: boolean;
  stats: boolean;
}

const COMMANDS: Record<string, Cmd> = {
  "-A": "add-service",
  "--add-service": "add-service",
  "-E": "edit-service",
  "--edit-service": "edit-service",
  "-D": "delete-service",
  "--delete-service": "delete-service",
  "-a": "add-server",
  "--add-server": "add-server",
  "-e": "edit-server",
  "--edit-server": "edit-server",
  "-d": "delete-server",
  "--delete-server": "delete-server",
  "-C": "clear",
  "--clear": "clear",
  "-L": "list",
  "-l": "list",
  "--list": "list",
  "-S": "save",
  "--save": "save",
  "-Z": "zero",
  "--zero": "zero",
  "-h": "help",
  "--help": "help",
  "-v": "version",
  "--version": "version",
};

function hostPort(text: string): { addr: number; port: number | undefined } | undefined {
  const m = /^([0-9.]+)(?::(\d+))?$/.exec(text);
  if (!m) return undefined;
  const addr = parseIpv4Addr(m[1]!);
  if (addr === undefined) return undefined;
  const port = m[2] === undefined ? undefined : Number(m[2]);
  if (port !== undefined && port > 65535) return undefined;
  return { addr, port };
}

function parse(args: readonly string[]): Parsed {
  const p: Parsed = { cmd: "list", numeric: false, connections: false, stats: false };
  let cmd: Cmd | undefined;
  // Short options may be bundled: -Ln, -Lnc.
  const words: string[] = [];
  for (const a of args) {
    if (/^-[A-Za-z]{2,}$/.test(a) && !a.startsWith("--")) for (const ch of a.slice(1)) words.push(`-${ch}`);
    else words.push(a);
  }
  for (let i = 0; i < words.length; i++) {
    const a = words[i]!;
    const value = (): string => {
      const v = words[i + 1];
      if (v === undefined) throw new Usage(`${a}: missing argument`);
      i++;
      return v;
    };
    if (COMMANDS[a] !== undefined) {
      if (cmd !== undefined) throw new Usage("ipvsadm: multiple commands specified");
      cmd = COMMANDS[a];
      continue;
    }
    switch (a) {
      case "-t":
      case "--tcp-service":
      case "-u":
      case "--udp-service": {
        const hp = hostPort(value());
        if (!hp) throw new Usage("Illegal virtual server address[:port] specified");
        p.service = { proto: a === "-t" || a === "--tcp-service" ? 6 : 17, addr: hp.addr, port: hp.port ?? 0 };
        break;
      }
      case "-s":
      case "--scheduler":
        p.scheduler = value();
        break;
      case "-p":
      case "--persistent": {
        const next = words[i + 1];
        if (next !== undefined && /^\d+$/.test(next)) {
          p.persistent = Number(next);
          i++;
        } else p.persistent = DEFAULT_PERSISTENCE;
        break;
      }
      case "-r":
      case "--real-server": {
        const hp = hostPort(value());
        if (!hp) throw new Usage("illegal real server address[:port] specified");
        p.server = hp;
        break;
      }
      case "-w":
      case "--weight": {
        const w = value();
        if (!/^\d+$/.test(w) || Number(w) > 65535) throw new Usage("illegal weight specified");
        p.weight = Number(w);
        break;
      }
      case "-m":
      case "--masquerading":
      case "-g":
      case "--gatewaying":
      case "-i":
      case "--ipip":
        break;
      case "-n":
      case "--numeric":
        p.numeric = true;
        break;
      case "-c":
      case "--connection":
        p.connections = true;
        break;
      case "--stats":
        p.stats = true;
        break;
      case "--exact":
      case "--sort":
        break;
      default:
        throw new Usage(`${a}: unknown option`);
    }
  }
  p.cmd = cmd ?? "list";
  const needsService = ["add-service", "edit-service", "delete-service", "add-server", "edit-server", "delete-server"].includes(p.cmd);
  if (needsService && p.service === undefined) throw new Usage(`You need to supply the 'service-address' option for the '${p.cmd}' command`);
  if (["add-server", "edit-server", "delete-server"].includes(p.cmd) && p.server === undefined) {
    throw new Usage(`You need to supply the 'real-server' option for the '${p.cmd}' command`);
  }
  if (p.cmd === "list" && p.service !== undefined) p.listService = true;
  return p;
}

const protoName = (proto: number): string => (proto === 6 ? "TCP" : proto === 17 ? "UDP" : "SCTP");
const addrPort = (addr: number, port: number): string => `${formatIpv4Addr(addr)}:${port}`;

function listServices(ipvs: Ipvs, services: IpvsService[], o: Parsed): string {
  let out = "IP Virtual Server version 1.2.1 (size=4096)\n";
  if (o.stats) {
    out += `${"Prot LocalAddress:Port".padEnd(33)} ${"Conns".padStart(8)} ${"InPkts".padStart(8)} ${"OutPkts".padStart(8)} ${"InBytes".padStart(8)} ${"OutBytes".padStart(8)}\n  -> RemoteAddress:Port\n`;
  } else {
    out += "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n";
  }
  for (const s of services) {
    const name = `${protoName(s.proto)}  ${addrPort(s.addr, s.port)}`.slice(0, 33);
    if (o.stats) {
      out += `${name.padEnd(33)}${String(s.stats.conns).padStart(9)}${"0".padStart(9)}${"0".padStart(9)}${"0".padStart(9)}${"0".padStart(9)}\n`;
    } else {
      out += `${name} ${s.scheduler}${s.persistent !== undefined ? ` persistent ${s.persistent}` : ""}\n`;
    }
    const dests = [...s.dests].sort((a, b) => a.addr - b.addr || a.port - b.port);
    for (const d of dests) {
      const dname = addrPort(d.addr, d.port).slice(0, 28);
      if (o.stats) {
        out += `  -> ${dname.padEnd(28)}${"0".padStart(9)}${"0".padStart(9)}${"0".padStart(9)}${"0".padStart(9)}${"0".padStart(9)}\n`;
        continue;
      }
      const c = ipvs.connections(s, d);
      out += `  -> ${dname.padEnd(28)} ${"Masq".padEnd(7)} ${String(d.weight).padEnd(6)} ${String(c.active).padEnd(10)} ${String(c.inactive).padEnd(10)}\n`;
    }
  }
  return out;
}

function listConnections(ipvs: Ipvs): string {
  let out = `IPVS connection entries\npro expire ${"state".padEnd(11)} ${"source".padEnd(18)} ${"virtual".padEnd(18)} destination\n`;
  for (const c of ipvs.liveConnections()) {
    const secs = Math.max(0, Math.ceil(c.expiresInMs / 1000));
    const expire = `${String(Math.floor(secs / 60)).padStart(2, "0")}:${String(secs % 60).padStart(2, "0")}`;
    const t = c.entry.tuples[0];
    out += `${protoName(c.service.proto).padEnd(3)} ${expire.padEnd(6)} ${c.state.padEnd(11)} ${addrPort(t.src, t.sport).padEnd(18)} ${addrPort(c.service.addr, c.service.port).padEnd(18)} ${addrPort(c.dest.addr, c.dest.port)}\n`;
  }
  return out;
}

function save(services: IpvsService[]): string {
  let out = "";
  for (const s of services) {
    const svc = `${s.proto === 6 ? "-t" : "-u"} ${addrPort(s.addr, s.port)}`;
    out += `-A ${svc} -s ${s.scheduler}${s.persistent !== undefined ? ` -p ${s.persistent}` : ""}\n`;
    for (const d of [...s.dests].sort((a, b) => a.addr - b.addr || a.port - b.port)) out += `-a ${svc} -r ${addrPort(d.addr, d.port)} -m -w ${d.weight}\n`;
  }
  return out;
}

function kernelWords(err: IpvsError, cmd: Cmd): string {
  if (err.kind === "no-service" && (cmd === "add-server" || cmd === "edit-server" || cmd === "delete-server")) return "Service not defined";
  return err.message;
}

const ipvsadm: Command = async (ctx: ProcessContext) => {
  let o: Parsed;
  try {
    o = parse(ctx.argv.slice(1));
  } catch (err) {
    if (!(err instanceof Usage)) throw err;
    ctx.stderr.write(`${err.message}\n`);
    return err.code;
  }
  const ipvs = netfilterOf(ctx.netns).ipvs;
  const sched = (): IpvsScheduler | undefined => {
    const s = o.scheduler ?? DEFAULT_SCHEDULER;
    return (IPVS_SCHEDULERS as readonly string[]).includes(s) ? (s as IpvsScheduler) : undefined;
  };
  try {
    switch (o.cmd) {
      case "help":
        ctx.stdout.write(`${VERSION}\nUsage:\n  ipvsadm -A|E virtual-service [-s scheduler] [-p [timeout]]\n  ipvsadm -D virtual-service\n  ipvsadm -C\n  ipvsadm -a|e virtual-service -r server-address [options]\n  ipvsadm -d virtual-service -r server-address\n  ipvsadm -L|l [virtual-service] [options]\n  ipvsadm -S [-n]\n`);
        return 0;
      case "version":
        ctx.stdout.write(`${VERSION}\n`);
        return 0;
      case "clear":
        ipvs.clear();
        return 0;
      case "zero":
        return 0;
      case "save":
        ctx.stdout.write(save(ipvs.services()));
        return 0;
      case "list": {
        if (o.connections) {
          ctx.stdout.write(listConnections(ipvs));
          return 0;
        }
        let services = ipvs.services();
        if (o.listService) {
          const s = ipvs.service(o.service!.proto, o.service!.addr, o.service!.port);
          if (!s) throw new IpvsError("no-service");
          services = [s];
        }
        ctx.stdout.write(listServices(ipvs, services, o));
        return 0;
      }
      case "add-service":
      case "edit-service": {
        const scheduler = sched();
        if (scheduler === undefined) {
          ctx.stderr.write("Scheduler or persistence engine not found\n");
          return 1;
        }
        const s = o.service!;
        if (o.cmd === "add-service") ipvs.addService(s.proto, s.addr, s.port, scheduler, o.persistent);
        else ipvs.editService(s.proto, s.addr, s.port, scheduler, o.persistent);
        return 0;
      }
      case "delete-service":
        ipvs.deleteService(o.service!.proto, o.service!.addr, o.service!.port);
        return 0;
      case "add-server":
      case "edit-server":
      case "delete-server": {
        const s = ipvs.service(o.service!.proto, o.service!.addr, o.service!.port);
        if (!s) throw new IpvsError("no-service");
        const port = o.server!.port ?? s.port;
        if (o.cmd === "add-server") ipvs.addDest(s, o.server!.addr, port, o.weight ?? 1);
        else if (o.cmd === "edit-server") ipvs.editDest(s, o.server!.addr, port, o.weight ?? 1);
        else ipvs.deleteDest(s, o.server!.addr, port);
        return 0;
      }
    }
  } catch (err) {
    if (!(err instanceof IpvsError)) throw err;
    ctx.stderr.write(`${kernelWords(err, o.cmd)}\n`);
    return 1;
  }
};

/** The program, by name. */
export const ipvsadmCommands: Record<string, Command> = { ipvsadm };
