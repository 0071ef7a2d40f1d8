/**
 * Socket listings from the kernel model's tables: `ss` (iproute2 6.1, with
 * its measured, screen-filling columns from misc/ss.c) on hosts, and
 * `netstat` (net-tools 2.10 on hosts, busybox's applet in containers).
 * TCP and UDP over IPv4.
 */
import { tcpOf, type TcpSocketInfo, type TcpState } from "@kemu/kernel";
import { formatIpv4Addr } from "@kemu/wire";
import type { Command, ProcessContext } from "../process.ts";

/** What both tools list: one socket, protocol-neutral. */
interface Row {
  proto: "tcp" | "udp";
  state: TcpState | "UNCONN";
  recvQ: number;
  sendQ: number;
  localAddr: number;
  localPort: number;
  remoteAddr: number;
  remotePort: number;
  timer: TcpSocketInfo["timer"] | undefined;
}

/** /etc/services names for the ports the scenarios use. */
const SERVICES: Record<string, Record<number, string>> = {
  tcp: { 21: "ftp", 22: "ssh", 23: "telnet", 25: "smtp", 53: "domain", 80: "http", 443: "https", 8080: "http-alt" },
  udp: { 53: "domain", 67: "bootps", 68: "bootpc", 123: "ntp", 5353: "mdns" },
};

function rows(ctx: ProcessContext, tcp: boolean, udp: boolean): Row[] {
  const out: Row[] = [];
  if (tcp) {
    for (const s of tcpOf(ctx.netns).sockets()) out.push({ proto: "tcp", ...s });
  }
  if (udp) {
    for (const list of ctx.netns.ipv4.udpSockets.values()) {
      for (const s of list) {
        out.push({
          proto: "udp",
          state: "UNCONN",
          recvQ: 0,
          sendQ: 0,
          localAddr: s.localAddr,
          localPort: s.localPort,
          remoteAddr: 0,
          remotePort: 0,
          timer: undefined,
        });
      }
    }
  }
  return out;
}

function service(proto: string, port: number, numeric: boolean): string {
  if (port === 0) return "*";
  return (numeric ? undefined : SERVICES[proto]?.[port]) ?? String(port);
}

// ---- ss -----------------------------------------------------------------

interface Column {
  align: "left" | "right";
  header: string;
  ldelim: string;
  disabled: boolean;
  width: number;
}

/** ss's print_ms_timer: "59sec", "1min", "200ms", "1.500sec". */
function msTimer(timeout: number): string {
  let secs = Math.floor(timeout / 1000);
  const minutes = Math.floor(secs / 60);
  secs %= 60;
  let msecs = Math.floor(timeout % 1000);
  let out = "";
  if (minutes) {
    msecs = 0;
    out = `${minutes}min`;
    if (minutes > 9) secs = 0;
  }
  if (secs) {
    if (secs > 9) msecs = 0;
    out += `${secs}${msecs ? "." : "sec"}`;
  }
  if (msecs) out += `${String(msecs).padStart(3, "0")}${secs ? "sec" : "ms"}`;
  return out;
}

/**
 * Lays out tokens as misc/ss.c's render() does: each column as wide as its
 * widest cell (plus its left delimiter), the slack of the screen shared out
 * from the last column back; without a screen width, compact.
 */
function render(columns: Column[], lines: string[][], screenWidth: number | undefined): string {
  const compact = screenWidth === undefined;
  const screen = screenWidth ?? Number.MAX_SAFE_INTEGER;
  const visible = columns.map((c, i) => (c.disabled ? -1 : i)).filter((i) => i >= 0);
  const maxLen = columns.map(() => 0);
  for (const line of lines) line.forEach((cell, k) => (maxLen[visible[k]!] = Math.max(maxLen[visible[k]!]!, cell.length)));
  let first = true;
  for (let i = 0; i < columns.length; i++) {
    const c = columns[i]!;
    if (c.disabled) continue;
    c.width = !first && maxLen[i]! ? maxLen[i]! + c.ldelim.length : maxLen[i]!;
    c.width = Math.min(c.width, screen);
    if (c.width) first = false;
  }
  if (!compact) {
    let eol = -1;
    let len = 0;
    let linecols = 0;
    for (let i = 0; i < columns.length; i++) {
      if (!columns[i]!.width) continue;
      linecols++;
      len += columns[i]!.width;
      const last = !columns.slice(i + 1).some((c) => c.width);
      if (!last && len < screen) continue;
      if (len !== screen) {
        if (len > screen) {
          len -= columns[i]!.width;
          i--;
          linecols--;
        }
        const pad = screen - len;
        const spacing = Math.floor(pad / Math.max(linecols, 1));
        let rem = pad % Math.max(linecols, 1);
        for (let k = i; k > eol; k--) {
          if (!columns[k]!.width) continue;
          columns[k]!.width += spacing;
          if (rem) {
            columns[k]!.width++;
            rem--;
          }
        }
      }
      eol = i;
      len = 0;
      linecols = 0;
    }
  }
  const lastVisible = visible.filter((i) => i < columns.length - 1).at(-1);
  let out = "";
  for (const line of lines) {
    line.forEach((cell, k) => {
      const c = columns[visible[k]!]!;
      let printed = 0;
      if (k > 0) {
        out += c.ldelim;
        printed = c.ldelim.length;
      }
      if (c.width && c.align === "right") {
        const s = c.width - cell.length - printed;
        if (s > 0) {
          out += " ".repeat(s);
          printed += s;
        }
      }
      out += cell;
      printed += cell.length;
      if (!(compact && visible[k] === lastVisible) && c.width && c.align === "left") {
        const s = c.width - printed;
        if (s > 0) out += " ".repeat(s);
      }
    });
    out += "\n";
  }
  return out;
}

/** ss [-t] [-u] [-a] [-l] [-n] [-o] [-H]: TCP and UDP sockets of the process's namespace. */
export const ss: Command = async (ctx) => {
  let tcp = false;
  let udp = false;
  let all = false;
  let listening = false;
  let numeric = false;
  let options = false;
  let header = true;
  for (const a of ctx.argv.slice(1)) {
    if (a === "--tcp") tcp = true;
    else if (a === "--udp") udp = true;
    else if (a === "--all") all = true;
    else if (a === "--listening") listening = true;
    else if (a === "--numeric") numeric = true;
    else if (a === "--options") options = true;
    else if (a === "--no-header") header = false;
    else if (/^-[a-zA-Z0-9]+$/.test(a)) {
      for (const f of a.slice(1)) {
        if (f === "t") tcp = true;
        else if (f === "u") udp = true;
        else if (f === "a") all = true;
        else if (f === "l") listening = true;
        else if (f === "n") numeric = true;
        else if (f === "o") options = true;
        else if (f === "H") header = false;
        else if (f === "4" || f === "e" || f === "p" || f === "i" || f === "m") continue;
        else {
          ctx.stderr.write(`ss: invalid option -- '${f}'\nUsage: ss [ OPTIONS ]\n       ss [ OPTIONS ] [ FILTER ]\n`);
          return 1;
        }
      }
    } else {
      ctx.stderr.write(`ss: bad option "${a}"\n`);
      return 255;
    }
  }
  if (!tcp && !udp) tcp = true;
  const listed = rows(ctx, tcp, udp).filter((r) => {
    const server = r.state === "LISTEN" || r.state === "UNCONN";
    if (all) return true;
    if (listening) return server;
    return !server && r.state !== "TIME-WAIT" && r.state !== "SYN-RECV";
  });
  const columns: Column[] = [
    { align: "left", header: "Netid", ldelim: "", disabled: !(tcp && udp), width: 0 },
    { align: "left", header: "State", ldelim: " ", disabled: false, width: 0 },
    { align: "left", header: "Recv-Q", ldelim: " ", disabled: false, width: 0 },
    { align: "left", header: "Send-Q", ldelim: " ", disabled: false, width: 0 },
    { align: "right", header: "Local Address:", ldelim: " ", disabled: false, width: 0 },
    { align: "left", header: "Port", ldelim: "", disabled: false, width: 0 },
    { align: "right", header: "Peer Address:", ldelim: " ", disabled: false, width: 0 },
    { align: "left", header: "Port", ldelim: "", disabled: false, width: 0 },
    { align: "left", header: "Process", ldelim: "", disabled: false, width: 0 },
    { align: "left", header: "", ldelim: "", disabled: false, width: 0 },
  ];
  const lines: string[][] = [];
  const pick = (cells: string[]) => cells.filter((_, i) => !columns[i]!.disabled);
  if (header) lines.push(pick(columns.map((c) => c.header)));
  for (const r of listed) {
    let proc = "";
    if (options && r.timer && r.timer.kind !== "off") proc = ` timer:(${r.timer.kind},${msTimer(r.timer.expiresMs)},${r.timer.retrans})`;
    lines.push(
      pick([
        r.proto,
        r.state,
        String(r.recvQ).padEnd(6),
        String(r.sendQ).padEnd(6),
        `${formatIpv4Addr(r.localAddr)}:`,
        service(r.proto, r.localPort, numeric),
        `${r.remoteAddr === 0 && r.remotePort === 0 ? "0.0.0.0" : formatIpv4Addr(r.remoteAddr)}:`,
        service(r.proto, r.remotePort, numeric),
        proc,
        "",
      ]),
    );
  }
  const cols = Number(ctx.env.get("COLUMNS"));
  ctx.stdout.write(render(columns, lines, Number.isFinite(cols) && cols > 0 ? cols : 80));
  return 0;
};

// ---- netstat ------------------------------------------------------------

const NETSTAT_STATE: Record<string, string> = {
  ESTAB: "ESTABLISHED",
  "SYN-SENT": "SYN_SENT",
  "SYN-RECV": "SYN_RECV",
  "FIN-WAIT-1": "FIN_WAIT1",
  "FIN-WAIT-2": "FIN_WAIT2",
  "TIME-WAIT": "TIME_WAIT",
  CLOSED: "CLOSE",
  "CLOSE-WAIT": "CLOSE_WAIT",
  "LAST-ACK": "LAST_ACK",
  LISTEN: "LISTEN",
  CLOSING: "CLOSING",
  UNCONN: "",
};

/** netstat [-t] [-u] [-a] [-l] [-n] [-W]: net-tools' on hosts, busybox's in containers. */
export const netstat: Command = async (ctx) => {
  const bb = ctx.flavour === "busybox";
  let tcp = false;
  let udp = false;
  let all = false;
  let listening = false;
  let numeric = false;
  for (const a of ctx.argv.slice(1)) {
    if (!/^-[a-zA-Z]+$/.test(a)) {
      if (a === "--tcp") tcp = true;
      else if (a === "--udp") udp = true;
      else if (a === "--all") all = true;
      else if (a === "--listening") listening = true;
      else if (a === "--numeric") numeric = true;
      else {
        ctx.stderr.write(bb ? `netstat: unrecognized option '${a}'\n` : `netstat: unrecognized option '${a}'\n`);
        return 1;
      }
      continue;
    }
    for (const f of a.slice(1)) {
      if (f === "t") tcp = true;
      else if (f === "u") udp = true;
      else if (f === "a") all = true;
      else if (f === "l") listening = true;
      else if (f === "n") numeric = true;
      else if (f === "W" || f === "p" || f === "e" || f === "o" || f === "4") continue;
      else {
        ctx.stderr.write(`netstat: invalid option -- '${f}'\n`);
        return 1;
      }
    }
  }
  if (!tcp && !udp) {
    tcp = true;
    udp = true;
  }
  const servers = all || listening;
  const connected = all || !listening;
  const title = servers && connected ? "(servers and established)" : servers ? "(only servers)" : "(w/o servers)";
  let out = `Active Internet connections ${title}\n`;
  out += bb
    ? "Proto Recv-Q Send-Q Local Address           Foreign Address         State       \n"
    : "Proto Recv-Q Send-Q Local Address           Foreign Address         State      \n";
  const addrPort = (proto: string, addr: number, port: number) => `${formatIpv4Addr(addr)}:${service(proto, port, numeric)}`;
  for (const r of rows(ctx, tcp, udp)) {
    const isConnected = r.remotePort !== 0;
    // /proc/net/tcp, which netstat reads, has no send queue for a listener.
    const sendQ = r.state === "LISTEN" ? 0 : r.sendQ;
    if (!((isConnected && connected) || (!isConnected && servers))) continue;
    const local = addrPort(r.proto, r.localAddr, r.localPort);
    const remote = addrPort(r.proto, r.remoteAddr, r.remotePort);
    const state = NETSTAT_STATE[r.state] ?? "";
    if (bb) {
      out += `${r.proto}   ${String(r.recvQ).padStart(6)} ${String(sendQ).padStart(6)} ${local.padEnd(23)} ${remote.padEnd(23)} ${state.padEnd(12)}\n`;
    } else {
      out += `${r.proto.padEnd(4)}  ${String(r.recvQ).padStart(6)} ${String(sendQ).padStart(6)} ${local.padEnd(23)} ${remote.padEnd(23)} ${state.padEnd(11)}\n`;
    }
  }
  ctx.stdout.write(out);
  return 0;
};

/** ss and netstat for hosts. */
export const socketToolsHost: Record<string, Command> = { ss, netstat };

/** netstat for the busybox image. */
export const socketToolsBusybox: Record<string, Command> = { netstat };
