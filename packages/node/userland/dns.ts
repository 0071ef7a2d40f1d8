/**
 * DNS on the client side: /etc/resolv.conf, a C library's stub resolver
 * (search list and ndots as glibc applies them, UDP to each nameserver with
 * timeout and attempts) and busybox 1.36's `nslookup`. Queries are real DNS
 * messages on a UdpSocket of the process's namespace.
 */
import { type Datagram, UdpSocket } from "@kemu/kernel";
import {
  buildDns,
  DNS_CLASS_IN,
  DNS_PORT,
  DNS_TYPE_A,
  DNS_TYPE_AAAA,
  DNS_TYPE_PTR,
  type DnsMessage,
  formatIpv4Addr,
  type Ipv4Addr,
  parseDns,
  parseIpv4Addr,
} from "@kemu/wire";
import type { Command, ProcessContext } from "../process.ts";

/** What /etc/resolv.conf says. */
export interface ResolvConf {
  nameservers: string[];
  search: string[];
  ndots: number;
  /** Seconds per try (`options timeout:`), default 5. */
  timeout: number;
  /** Tries per server (`options attempts:`), default 2. */
  attempts: number;
}

/** Parses resolv.conf text: the last `search`/`domain` line wins, at most 3 nameservers. */
export function parseResolvConf(text: string): ResolvConf {
  const conf: ResolvConf = { nameservers: [], search: [], ndots: 1, timeout: 5, attempts: 2 };
  for (const raw of text.split("\n")) {
    const line = raw.replace(/[#;].*/, "").trim();
    const [key, ...rest] = line.split(/\s+/);
    if (key === "nameserver" && rest[0] !== undefined && conf.nameservers.length < 3) conf.nameservers.push(rest[0]);
    else if (key === "search") conf.search = rest.filter((d) => d !== ".");
    else if (key === "domain" && rest[0] !== undefined) conf.search = [rest[0]];
    else if (key === "options") {
      for (const o of rest) {
        const [name, value] = o.split(":");
        const n = Number(value);
        if (name === "ndots" && Number.isFinite(n)) conf.ndots = Math.min(n, 15);
        else if (name === "timeout" && Number.isFinite(n) && n > 0) conf.timeout = Math.min(n, 30);
        else if (name === "attempts" && Number.isFinite(n) && n > 0) conf.attempts = Math.min(n, 5);
      }
    }
  }
  return conf;
}

/** The process's /etc/resolv.conf (an empty file's defaults when missing). */
export function readResolvConf(ctx: ProcessContext): ResolvConf {
  let text = "";
  try {
    text = ctx.fs.readFile("/etc/resolv.conf", ctx.netns);
  } catch {
    text = "";
  }
  return parseResolvConf(text);
}

/**
 * The names a glibc resolver tries for `name`, in order: a name ending in a
 * dot as is; one with at least ndots dots first as is, then with each search
 * domain; otherwise each search domain first, then the name as is.
 */
export function searchCandidates(name: string, conf: Pick<ResolvConf, "search" | "ndots">): string[] {
  if (name.endsWith(".")) return [name.slice(0, -1)];
  const dots = name.split(".").length - 1;
  const searched = conf.search.map((d) => `${name}.${d}`);
  return dots >= conf.ndots ? [name, ...searched] : [...searched, name];
}

/** A query message for `name` and `type` with recursion desired. */
export function dnsQuery(id: number, name: string, type: number): DnsMessage {
  return { id, qr: false, opcode: 0, aa: false, tc: false, rd: true, ra: false, rcode: 0, questions: [{ name, type, class: DNS_CLASS_IN }], answers: [], authorities: [], additionals: [] };
}

/** How one exchange with a server ended. */
export type ExchangeEnd = "done" | "timeout" | "refused" | "unreachable";

/**
 * Sends `queries` to `server:port` from one socket and waits for their
 * replies (matched by id), resending the unanswered ones every
 * timeout/attempts, as musl's res_msend and busybox nslookup do. `onReply`
 * sees each first reply as it arrives. Ends when all are answered, the time
 * is up, or an ICMP error says nobody is there.
 */
export async function dnsExchange(
  ctx: ProcessContext,
  server: Ipv4Addr,
  queries: readonly DnsMessage[],
  options: { timeoutMs: number; attempts: number; port?: number; onReply?: (index: number, reply: DnsMessage) => void },
): Promise<{ replies: Array<DnsMessage | undefined>; end: ExchangeEnd }> {
  const port = options.port ?? DNS_PORT;
  const sock = new UdpSocket(ctx.netns);
  const replies: Array<DnsMessage | undefined> = queries.map(() => undefined);
  const wire = queries.map((q) => buildDns(q));
  const onAbort = () => sock.close();
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  const start = ctx.clock.now();
  const retryMs = options.timeoutMs / Math.max(1, options.attempts);
  let end: ExchangeEnd = "timeout";
  try {
    if (sock.bind(0, 0) !== undefined) return { replies, end: "unreachable" };
    let sentAt = start;
    const sendPending = (): boolean => {
      sentAt = ctx.clock.now();
      for (let i = 0; i < queries.length; i++) {
        if (replies[i] !== undefined) continue;
        if (sock.sendTo(server, port, wire[i]!) !== undefined) return false;
      }
      return true;
    };
    if (!sendPending()) return { replies, end: "unreachable" };
    let errorWait: Promise<{ error: true } | undefined> | undefined;
    for (;;) {
      if (replies.every((r) => r !== undefined)) {
        end = "done";
        break;
      }
      const now = ctx.clock.now();
      if (now - start >= options.timeoutMs || ctx.signal.aborted) break;
      if (now - sentAt >= retryMs) {
        if (!sendPending()) {
          end = "unreachable";
          break;
        }
      }
      const wait = Math.max(1, Math.min(retryMs - (ctx.clock.now() - sentAt), options.timeoutMs - (ctx.clock.now() - start)));
      errorWait ??= sock.errors.receive().then((e) => (e ? { error: true as const } : undefined));
      const got: Datagram | { error: true } | undefined = await Promise.race([sock.mailbox.receive(wait), errorWait]);
      if (got === undefined) continue;
      if ("error" in got) {
        end = "refused";
        break;
      }
      if (got.src !== server || got.srcPort !== port) continue;
      let msg: DnsMessage;
      try {
        msg = parseDns(got.data);
      } catch {
        continue;
      }
      if (!msg.qr) continue;
      const i = queries.findIndex((q, k) => q.id === msg.id && replies[k] === undefined);
      if (i < 0) continue;
      replies[i] = msg;
      options.onReply?.(i, msg);
    }
  } finally {
    ctx.signal.removeEventListener("abort", onAbort);
    sock.close();
  }
  return { replies, end };
}

function randomId(ctx: ProcessContext): number {
  const b = ctx.host.kernel.rng.bytes(2);
  return (b[0]! << 8) | b[1]!;
}

/**
 * getaddrinfo's DNS part for IPv4: each candidate name of the search list in
 * turn, each nameserver in turn; the first A answer wins, NXDOMAIN or an
 * empty answer moves on to the next candidate.
 */
export async function lookupIpv4(ctx: ProcessContext, name: string): Promise<Ipv4Addr | undefined> {
  const conf = readResolvConf(ctx);
  const servers = (conf.nameservers.length > 0 ? conf.nameservers : ["127.0.0.1"]).map((s) => parseIpv4Addr(s)).filter((a): a is Ipv4Addr => a !== undefined);
  const dead = new Set<Ipv4Addr>();
  for (const candidate of searchCandidates(name, conf)) {
    for (const server of servers) {
      if (dead.has(server)) continue;
      const { replies, end } = await dnsExchange(ctx, server, [dnsQuery(randomId(ctx), candidate, DNS_TYPE_A)], { timeoutMs: conf.timeout * 1000, attempts: conf.attempts });
      const reply = replies[0];
      if (reply === undefined) {
        if (end !== "timeout") dead.add(server);
        continue;
      }
      if (reply.rcode === 2 || reply.rcode === 5) continue;
      // Follow the answer (CNAME chains come with their A records).
      let target = candidate.toLowerCase();
      for (let hop = 0; hop < 8; hop++) {
        const rec = reply.answers.find((r) => r.name.toLowerCase() === target);
        if (rec === undefined) break;
        if (rec.data.kind === "a") return rec.data.address;
        if (rec.data.kind === "cname") target = rec.data.target.toLowerCase();
        else break;
      }
      const anyA = reply.answers.find((r) => r.data.kind === "a");
      if (anyA && anyA.data.kind === "a") return anyA.data.address;
      break;
    }
  }
  return undefined;
}

/** The host service `resolveHost` asks once /etc/hosts has no answer: the stub resolver above. */
export const dnsResolver = {
  lookup: (ctx: ProcessContext, name: string): Promise<Ipv4Addr | undefined> => lookupIpv4(ctx, name),
};

const RCODES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE", "11", "12", "13", "14", "15"];

const QTYPES: Record<string, number> = { SOA: 6, NS: 2, A: 1, AAAA: 28, CNAME: 5, MX: 15, TXT: 16, PTR: 12, SRV: 33, ANY: 255 };

const NSLOOKUP_USAGE = `BusyBox v1.36.1 (2023-05-18 22:34:17 UTC) multi-call binary.

Usage: nslookup [-type=QUERY_TYPE] [-debug] HOST [DNS_SERVER]

Query DNS about HOST

QUERY_TYPE: soa,ns,a,aaaa,cname,mx,txt,ptr,srv,any
`;

/** busybox's printing of one reply (`parse_reply`). */
function printReply(ctx: ProcessContext, reply: DnsMessage): void {
  if (!reply.aa) ctx.stdout.write("Non-authoritative answer:\n");
  for (const r of reply.answers) {
    const d = r.data;
    switch (d.kind) {
      case "a":
        ctx.stdout.write(`Name:\t${r.name}\nAddress: ${formatIpv4Addr(d.address)}\n`);
        break;
      case "ns":
        ctx.stdout.write(`${r.name}\tnameserver = ${d.target}\n`);
        break;
      case "cname":
        ctx.stdout.write(`${r.name}\tcanonical name = ${d.target}\n`);
        break;
      case "ptr":
        ctx.stdout.write(`${r.name}\tname = ${d.target}\n`);
        break;
      case "mx":
        ctx.stdout.write(`${r.name}\tmail exchanger = ${d.preference} ${d.exchange}\n`);
        break;
      case "srv":
        ctx.stdout.write(`${r.name}\tservice = ${d.priority} ${d.weight} ${d.port} ${d.target}\n`);
        break;
      case "txt":
        if (d.texts[0]) ctx.stdout.write(`${r.name}\ttext = "${d.texts[0]}"\n`);
        break;
      case "soa":
        ctx.stdout.write(`${r.name}\n\torigin = ${d.mname}\n\tmail addr = ${d.rname}\n\tserial = ${d.serial}\n\trefresh = ${d.refresh}\n\tretry = ${d.retry}\n\texpire = ${d.expire}\n\tminimum = ${d.minimum}\n`);
        break;
      default:
        break;
    }
  }
}

/** The reverse-lookup name of a dotted quad, or undefined. */
function ptrName(text: string): string | undefined {
  const a = parseIpv4Addr(text);
  if (a === undefined) return undefined;
  return `${a & 255}.${(a >>> 8) & 255}.${(a >>> 16) & 255}.${a >>> 24}.in-addr.arpa`;
}

/**
 * busybox 1.36 `nslookup [-type=T] [-port=N] [-timeout=S] [-retry=N] HOST [SERVER]`:
 * A and AAAA queries (PTR for an address), a dotless HOST under each search
 * domain (busybox applies no ndots: a name with a dot is asked as is), every
 * query sent at once and each reply printed as it comes.
 */
export const nslookup: Command = async (ctx) => {
  const argv = ctx.argv.slice(1);
  let port = DNS_PORT;
  let retry = 2;
  let timeout = 5;
  const types: number[] = [];
  while (argv[0]?.startsWith("-")) {
    const a = argv.shift()!.slice(1);
    const eq = a.indexOf("=");
    const key = eq >= 0 ? a.slice(0, eq) : a;
    const val = eq >= 0 ? a.slice(eq + 1) : "";
    if (key === "type" || key === "querytype" || key === "q" || key === "query") {
      const t = QTYPES[val.toUpperCase()];
      if (t === undefined) {
        ctx.stderr.write(`nslookup: invalid query type "${val}"\n`);
        return 1;
      }
      if (!types.includes(t)) types.push(t);
    } else if (key === "port") port = Number(val) || DNS_PORT;
    else if (key === "retry") retry = Math.max(1, Number(val) || 2);
    else if (key === "timeout" || key === "t") timeout = Math.max(1, Number(val) || 5);
    else if (key === "debug") {
      // accepted
    } else {
      ctx.stderr.write(NSLOOKUP_USAGE);
      return 1;
    }
  }
  const host = argv[0];
  if (host === undefined || argv.length > 2) {
    ctx.stderr.write(NSLOOKUP_USAGE);
    return 1;
  }
  const conf = readResolvConf(ctx);
  const names: Array<{ name: string; type: number }> = [];
  const withSearch = (type: number, name: string) => {
    if (type === DNS_TYPE_PTR || conf.search.length === 0 || name.includes(".")) names.push({ name, type });
    else for (const d of conf.search) names.push({ name: `${name}.${d}`, type });
  };
  if (types.length === 0) {
    const ptr = ptrName(host);
    if (ptr !== undefined) names.push({ name: ptr, type: DNS_TYPE_PTR });
    else {
      withSearch(DNS_TYPE_A, host);
      withSearch(DNS_TYPE_AAAA, host);
    }
  } else {
    for (const t of Object.values(QTYPES)) if (types.includes(t)) withSearch(t, host);
  }
  const serverNames = argv[1] !== undefined ? [argv[1]] : conf.nameservers.length > 0 ? conf.nameservers : ["127.0.0.1"];
  const queries = names.map((n) => dnsQuery(randomId(ctx), n.name.replace(/\.$/, ""), n.type));
  let failed = false;
  for (let s = 0; s < serverNames.length; s++) {
    const name = serverNames[s]!;
    const addr = parseIpv4Addr(name);
    if (addr === undefined) {
      ctx.stderr.write(`nslookup: bad address '${name}'\n`);
      return 1;
    }
    let first = true;
    const { replies } = await dnsExchange(ctx, addr, queries, {
      timeoutMs: timeout * 1000,
      attempts: retry,
      port,
      onReply: (i, reply) => {
        if (first) {
          first = false;
          ctx.stdout.write(`Server:\t\t${name}\nAddress:\t${formatIpv4Addr(addr)}:${port}\n\n`);
        }
        if (reply.rcode !== 0) {
          failed = true;
          ctx.stdout.write(`** server can't find ${queries[i]!.questions[0]!.name}: ${RCODES[reply.rcode] ?? reply.rcode}\n`);
        } else printReply(ctx, reply);
        ctx.stdout.write("\n");
      },
    });
    if (replies.some((r) => r !== undefined)) {
      let err = false;
      replies.forEach((r, i) => {
        if (r === undefined) {
          ctx.stdout.write(`*** Can't find ${queries[i]!.questions[0]!.name}: No answer\n`);
          err = true;
        }
      });
      if (err) ctx.stdout.write("\n");
      return failed || err ? 1 : 0;
    }
    if (s === serverNames.length - 1) {
      ctx.stdout.write(";; connection timed out; no servers could be reached\n\n");
      return 1;
    }
  }
  return 1;
};

/** The client-side DNS programs (busybox's nslookup). */
export const dnsCommands: Record<string, Command> = { nslookup };
