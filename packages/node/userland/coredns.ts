/**
 * CoreDNS with kubeadm's Corefile: the `kubernetes` plugin answering for
 * cluster.local and in-addr.arpa from the Services and EndpointSlices it
 * watches (DNS spec 1.0.1: service A, headless A per ready endpoint,
 * endpoint host names, SRV for named ports, PTR, `pods insecure` pod A
 * records, dns-version TXT, NXDOMAIN with the zone's SOA), `ttl 30`, and
 * `forward . /etc/resolv.conf` for everything else. Serves port 53 over UDP
 * and TCP (2-byte length-prefixed messages, RFC 1035 4.2.2).
 *
 * The API: a pod's process reaches its node's API client as the host
 * service "api" (what a ServiceAccount token and the kubernetes Service
 * give the real pod) — an emulator's shortcut. Not modelled: cache,
 * loadbalance (answers keep endpoint order), reload, health/ready/metrics
 * endpoints.
 */
import type { ApiClient, EndpointSlice, KubeObject, Service, WatchEvent } from "@kemu/api";
import { type TcpConnection, TcpListener, UdpSocket } from "@kemu/kernel";
import {
  buildDns,
  DNS_CLASS_IN,
  DNS_PORT,
  DNS_RCODE_NXDOMAIN,
  DNS_RCODE_REFUSED,
  DNS_RCODE_SERVFAIL,
  DNS_TYPE_A,
  DNS_TYPE_ANY,
  DNS_TYPE_CNAME,
  DNS_TYPE_PTR,
  DNS_TYPE_SRV,
  DNS_TYPE_TXT,
  type DnsMessage,
  type DnsRecord,
  parseDns,
  parseIpv4Addr,
} from "@kemu/wire";
import type { Command, ProcessContext } from "../process.ts";
import { dnsExchange, readResolvConf } from "./dns.ts";

/** kubeadm's Corefile (NETWORKING-FACTS §G). */
export const DEFAULT_COREFILE = `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
`;

/** What the kubernetes plugin's configuration says. */
export interface KubernetesPluginConfig {
  /** The cluster domain (the first zone that is not a reverse zone). */
  domain: string;
  /** Every zone the plugin is authoritative for. */
  zones: string[];
  pods: "disabled" | "insecure" | "verified";
  ttl: number;
  /** `forward .` present: what the plugin does not answer goes upstream. */
  forward: boolean;
  port: number;
}

/** Reads the parts of a Corefile this CoreDNS honours. */
export function parseCorefile(text: string): KubernetesPluginConfig {
  const cfg: KubernetesPluginConfig = { domain: "cluster.local", zones: ["cluster.local", "in-addr.arpa", "ip6.arpa"], pods: "disabled", ttl: 5, forward: false, port: DNS_PORT };
  const server = /^\s*\.:(\d+)\s*\{/m.exec(text);
  if (server) cfg.port = Number(server[1]);
  const k = /^\s*kubernetes((?:[ \t]+[^\s{]+)*)[ \t]*(\{([^}]*)\})?/m.exec(text);
  if (k) {
    const zones = (k[1] ?? "").trim().split(/\s+/).filter((z) => z !== "").map((z) => z.replace(/\.$/, "").toLowerCase());
    if (zones.length > 0) cfg.zones = zones;
    cfg.domain = cfg.zones.find((z) => !z.endsWith(".arpa")) ?? "cluster.local";
    const body = k[3] ?? "";
    const pods = /^\s*pods\s+(\S+)/m.exec(body)?.[1];
    if (pods === "insecure" || pods === "verified" || pods === "disabled") cfg.pods = pods;
    const ttl = /^\s*ttl\s+(\d+)/m.exec(body)?.[1];
    if (ttl !== undefined) cfg.ttl = Math.min(3600, Number(ttl));
  }
  cfg.forward = /^\s*forward\s+\.\s/m.test(text);
  return cfg;
}

/** The cluster's Services and EndpointSlices as the plugin's cache holds them. */
export interface DnsClusterState {
  services: Iterable<Service>;
  endpointSlices: Iterable<EndpointSlice>;
  /** SOA serial (CoreDNS: the time of the last API change). */
  serial: number;
}

/** The answer the kubernetes plugin gives, or "fallthrough" for names it does not own. */
export type PluginAnswer = { rcode: number; answers: DnsRecord[]; additionals: DnsRecord[]; authority: boolean; zone: string } | "fallthrough";

const label = (s: string) => s.toLowerCase();

/** The IP in a dashed form (`10-244-1-5`), or undefined. */
function undash(text: string): string | undefined {
  const ip = text.replace(/-/g, ".");
  return parseIpv4Addr(ip) !== undefined && text.split("-").length === 4 ? ip : undefined;
}

/** Answers one question as the kubernetes plugin does. */
export function kubernetesAnswer(cfg: KubernetesPluginConfig, state: DnsClusterState, qname: string, qtype: number): PluginAnswer {
  const name = qname.replace(/\.$/, "").toLowerCase();
  const zone = cfg.zones.filter((z) => name === z || name.endsWith(`.${z}`)).sort((a, b) => b.length - a.length)[0];
  if (zone === undefined) return "fallthrough";
  const ttl = cfg.ttl;
  const rec = (owner: string, data: DnsRecord["data"]): DnsRecord => ({ name: owner, class: DNS_CLASS_IN, ttl, data });
  const nx = (): PluginAnswer => ({ rcode: DNS_RCODE_NXDOMAIN, answers: [], additionals: [], authority: true, zone });
  const ok = (answers: DnsRecord[], additionals: DnsRecord[] = []): PluginAnswer => ({ rcode: 0, answers, additionals, authority: answers.length === 0, zone });
  const services = [...state.services];
  const slices = [...state.endpointSlices];
  const sliceEndpoints = (svc: Service) =>
    slices
      .filter((s) => s.metadata.namespace === svc.metadata.namespace && s.metadata.labels?.["kubernetes.io/service-name"] === svc.metadata.name)
      .flatMap((s) => s.endpoints.map((e) => ({ e, ports: s.ports ?? [] })))
      .filter(({ e }) => e.conditions?.ready !== false);
  const fqdn = (svc: Service) => `${svc.metadata.name}.${svc.metadata.namespace}.svc.${cfg.domain}`;
  const endpointName = (e: EndpointSlice["endpoints"][number]) => e.hostname ?? (e.addresses[0] ?? "").replace(/\./g, "-");
  const want = (t: number) => qtype === t || qtype === DNS_TYPE_ANY;

  if (zone.endsWith(".arpa")) {
    // PTR: d.c.b.a.in-addr.arpa → a service's ClusterIP or a headless endpoint.
    const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\.in-addr\.arpa$/.exec(name);
    if (!m) return "fallthrough";
    const ip = `${m[4]}.${m[3]}.${m[2]}.${m[1]}`;
    for (const svc of services) {
      if (svc.spec.clusterIP === ip) return want(DNS_TYPE_PTR) ? ok([rec(name, { kind: "ptr", target: fqdn(svc) })]) : ok([]);
    }
    for (const svc of services) {
      if (svc.spec.clusterIP !== "None") continue;
      for (const { e } of sliceEndpoints(svc)) {
        if (e.addresses.includes(ip)) return want(DNS_TYPE_PTR) ? ok([rec(name, { kind: "ptr", target: `${endpointName(e)}.${fqdn(svc)}` })]) : ok([]);
      }
    }
    return "fallthrough";
  }

  const rest = name === zone ? [] : name.slice(0, -(zone.length + 1)).split(".");
  if (rest.length === 0) return ok([]);
  if (rest.length === 1 && rest[0] === "dns-version") return want(DNS_TYPE_TXT) ? ok([rec(name, { kind: "txt", texts: ["1.0.1"] })]) : ok([]);
  const kind = rest[rest.length - 1];
  if (kind === "pod") {
    // <a-b-c-d>.<ns>.pod.<zone>, pods insecure: the address in the name.
    if (rest.length !== 3 || cfg.pods === "disabled") return nx();
    const ip = undash(rest[0]!);
    if (ip === undefined) return nx();
    return want(DNS_TYPE_A) ? ok([rec(name, { kind: "a", address: parseIpv4Addr(ip)! })]) : ok([]);
  }
  if (kind !== "svc") return nx();
  const labels = rest.slice(0, -1);
  if (labels.length === 1) {
    // <ns>.svc.<zone>: a namespace has no records of its own.
    return services.some((s) => label(s.metadata.namespace ?? "") === labels[0]) ? ok([]) : nx();
  }
  const [svcName, ns] = labels.slice(-2) as [string, string];
  const svc = services.find((s) => label(s.metadata.name ?? "") === svcName && label(s.metadata.namespace ?? "") === ns);
  if (svc === undefined) return nx();
  const headless = svc.spec.clusterIP === "None";
  const eps = sliceEndpoints(svc);
  if (labels.length === 2) {
    if (svc.spec.type === "ExternalName") {
      return want(DNS_TYPE_CNAME) || qtype === DNS_TYPE_A ? ok([rec(name, { kind: "cname", target: svc.spec.externalName ?? "" })]) : ok([]);
    }
    if (!headless) return want(DNS_TYPE_A) ? ok([rec(name, { kind: "a", address: parseIpv4Addr(svc.spec.clusterIP ?? "")! })]) : ok([]);
    if (eps.length === 0) return nx();
    if (!want(DNS_TYPE_A)) return ok([]);
    const seen = new Set<string>();
    const out: DnsRecord[] = [];
    for (const { e } of eps) {
      const ip = e.addresses[0];
      if (ip === undefined || seen.has(ip)) continue;
      seen.add(ip);
      out.push(rec(name, { kind: "a", address: parseIpv4Addr(ip)! }));
    }
    return ok(out);
  }
  if (labels.length === 3) {
    // <endpoint>.<svc>.<ns>.svc: a headless service's endpoint by host name or dashed address.
    const hit = eps.find(({ e }) => label(endpointName(e)) === labels[0]);
    if (hit === undefined) return nx();
    return want(DNS_TYPE_A) ? ok([rec(name, { kind: "a", address: parseIpv4Addr(hit.e.addresses[0]!)! })]) : ok([]);
  }
  if (labels.length === 4 && labels[0]!.startsWith("_") && labels[1]!.startsWith("_")) {
    // _<port>._<proto>.<svc>.<ns>.svc: SRV for a named port.
    const portName = labels[0]!.slice(1);
    const proto = labels[1]!.slice(1);
    const port = (svc.spec.ports ?? []).find((p) => p.name !== undefined && label(p.name) === portName && (p.protocol ?? "TCP").toLowerCase() === proto);
    if (port === undefined) return nx();
    if (!want(DNS_TYPE_SRV)) return ok([]);
    if (!headless) {
      const target = fqdn(svc);
      return ok([rec(name, { kind: "srv", priority: 0, weight: 100, port: port.port, target })], [rec(target, { kind: "a", address: parseIpv4Addr(svc.spec.clusterIP ?? "")! })]);
    }
    const targets = eps.flatMap(({ e, ports }) => {
      const p = ports.find((sp) => (sp.name ?? "") === port.name && (sp.protocol ?? "TCP").toLowerCase() === proto);
      return p?.port === undefined ? [] : [{ target: `${endpointName(e)}.${fqdn(svc)}`, port: p.port, ip: e.addresses[0]! }];
    });
    if (targets.length === 0) return nx();
    const weight = Math.floor((100 * 100) / (targets.length * 100));
    return ok(
      targets.map((t) => rec(name, { kind: "srv", priority: 0, weight, port: t.port, target: t.target })),
      targets.map((t) => rec(t.target, { kind: "a", address: parseIpv4Addr(t.ip)! })),
    );
  }
  return nx();
}

/** The zone's SOA, as CoreDNS puts it in the authority section of negative answers. */
export function soaRecord(zone: string, cfg: KubernetesPluginConfig, serial: number): DnsRecord {
  const base = zone.endsWith(".arpa") ? cfg.domain : zone;
  return {
    name: zone,
    class: DNS_CLASS_IN,
    ttl: cfg.ttl,
    data: { kind: "soa", mname: `ns.dns.${base}`, rname: `hostmaster.${base}`, serial, refresh: 7200, retry: 1800, expire: 86400, minimum: cfg.ttl },
  };
}

/** A reply to `query` with the plugin's answer. */
export function replyFor(query: DnsMessage, cfg: KubernetesPluginConfig, answer: Exclude<PluginAnswer, "fallthrough">, serial: number): DnsMessage {
  return {
    id: query.id,
    qr: true,
    opcode: query.opcode,
    aa: true,
    tc: false,
    rd: query.rd,
    ra: false,
    rcode: answer.rcode,
    questions: query.questions,
    answers: answer.answers,
    authorities: answer.authority ? [soaRecord(answer.zone, cfg, serial)] : [],
    additionals: answer.additionals,
  };
}

/** `coredns [-conf FILE] [-dns.port N]` */
export const coredns: Command = async (ctx) => {
  const argv = ctx.argv.slice(1);
  let confPath = "Corefile";
  let portOverride: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!.replace(/^--/, "-");
    if (a === "-conf") confPath = argv[++i] ?? confPath;
    else if (a.startsWith("-conf=")) confPath = a.slice(6);
    else if (a === "-dns.port") portOverride = Number(argv[++i]);
    else if (a === "-version") {
      ctx.stdout.write("CoreDNS-1.11.1\nlinux/amd64, go1.20.7, ae2bbc2\n");
      return 0;
    }
  }
  let text = DEFAULT_COREFILE;
  try {
    text = ctx.fs.readFile(confPath, ctx.netns);
  } catch {
    // The ConfigMap volume is not mounted by kemu's kubelet: kubeadm's Corefile.
  }
  const cfg = parseCorefile(text);
  if (portOverride !== undefined) cfg.port = portOverride;
  const api = ctx.host.service<ApiClient>("api");
  if (api === undefined) {
    ctx.stderr.write(`[FATAL] plugin/kubernetes: invalid configuration: no configuration has been provided, try setting KUBERNETES_MASTER environment variable\n`);
    return 1;
  }
  const sock = new UdpSocket(ctx.netns);
  const err = sock.bind(0, cfg.port);
  if (err !== undefined) {
    ctx.stderr.write(`Listen: listen udp :${cfg.port}: bind: address already in use\n`);
    sock.close();
    return 1;
  }
  let listener: TcpListener | undefined;
  try {
    listener = TcpListener.listen(ctx.netns, 0, cfg.port, { backlog: 128 });
  } catch {
    listener = undefined;
  }
  const services = new Map<string, Service>();
  const slices = new Map<string, EndpointSlice>();
  // The SOA serial: the wall-clock second of the last API change (emulated epoch 2026-01-01).
  const EPOCH_S = 1767225600;
  let serial = EPOCH_S + Math.floor(ctx.clock.now() / 1000);
  const track = <T extends KubeObject>(map: Map<string, T>) => (ev: WatchEvent<T>) => {
    const key = `${ev.object.metadata.namespace ?? ""}/${ev.object.metadata.name ?? ""}`;
    if (ev.type === "ADDED" || ev.type === "MODIFIED") map.set(key, ev.object);
    else if (ev.type === "DELETED") map.delete(key);
    serial = EPOCH_S + Math.floor(ctx.clock.now() / 1000);
  };
  const stops = [api.watch<Service>("services", "", {}, track(services)), api.watch<EndpointSlice>("endpointslices", "", {}, track(slices))];
  const onAbort = () => {
    sock.close();
    listener?.close();
  };
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  ctx.stdout.write(`.:${cfg.port}\nCoreDNS-1.11.1\nlinux/amd64, go1.20.7, ae2bbc2\n`);
  const state: DnsClusterState = {
    services: { [Symbol.iterator]: () => services.values() },
    endpointSlices: { [Symbol.iterator]: () => slices.values() },
    get serial() {
      return serial;
    },
  };
  if (listener !== undefined) {
    const l = listener;
    void (async () => {
      for (;;) {
        const conn = await l.accept();
        if (conn === undefined) break;
        void serveTcp(ctx, cfg, state, conn);
      }
    })();
  }
  try {
    for (;;) {
      const d = await sock.mailbox.receive();
      if (d === undefined) break;
      let query: DnsMessage;
      try {
        query = parseDns(d.data);
      } catch {
        continue;
      }
      if (query.qr) continue;
      void answerOne(ctx, cfg, state, query).then((reply) => {
        if (reply !== undefined && !sock.mailbox.closed) sock.sendTo(d.src, d.srcPort, buildDns(reply));
      });
    }
  } finally {
    for (const s of stops) s();
    ctx.signal.removeEventListener("abort", onAbort);
    sock.close();
    listener?.close();
  }
  return ctx.signal.aborted ? 143 : 0;
};

/** One DNS-over-TCP client: length-prefixed queries in, length-prefixed replies out, until it closes. */
async function serveTcp(ctx: ProcessContext, cfg: KubernetesPluginConfig, state: DnsClusterState, conn: TcpConnection): Promise<void> {
  let buf = new Uint8Array(0);
  try {
    for (;;) {
      while (buf.length >= 2 && buf.length >= 2 + ((buf[0]! << 8) | buf[1]!)) {
        const len = (buf[0]! << 8) | buf[1]!;
        const msg = buf.slice(2, 2 + len);
        buf = buf.slice(2 + len);
        let query: DnsMessage;
        try {
          query = parseDns(msg);
        } catch {
          conn.close();
          return;
        }
        const reply = await answerOne(ctx, cfg, state, query);
        if (reply === undefined) continue;
        const out = buildDns(reply);
        const framed = new Uint8Array(2 + out.length);
        framed[0] = out.length >> 8;
        framed[1] = out.length & 255;
        framed.set(out, 2);
        await conn.write(framed, { signal: ctx.signal });
      }
      const chunk = await conn.read(undefined, { signal: ctx.signal });
      if (chunk === undefined) break;
      const next = new Uint8Array(buf.length + chunk.length);
      next.set(buf);
      next.set(chunk, buf.length);
      buf = next;
    }
  } catch {
    // Reset or killed.
  }
  conn.close();
}

/** The reply to one query: the kubernetes plugin, else `forward` to the pod's resolv.conf servers. */
async function answerOne(ctx: ProcessContext, cfg: KubernetesPluginConfig, state: DnsClusterState, query: DnsMessage): Promise<DnsMessage | undefined> {
  const q = query.questions[0];
  const base = { id: query.id, qr: true, opcode: query.opcode, aa: false, tc: false, rd: query.rd, ra: true, questions: query.questions, answers: [], authorities: [], additionals: [] };
  if (q === undefined || query.opcode !== 0) return { ...base, rcode: DNS_RCODE_REFUSED };
  const answer = kubernetesAnswer(cfg, state, q.name, q.type);
  if (answer !== "fallthrough") return replyFor(query, cfg, answer, state.serial);
  if (!cfg.forward) return { ...base, rcode: DNS_RCODE_REFUSED };
  const conf = readResolvConf(ctx);
  for (const s of conf.nameservers) {
    const addr = parseIpv4Addr(s);
    // An upstream that is this very server (127.0.0.53 from a systemd-resolved
    // host's resolv.conf, in our own namespace) would loop: the loop plugin's case.
    if (addr === undefined || (cfg.port === DNS_PORT && ctx.netns.isLocalAddress(addr))) continue;
    const { replies } = await dnsExchange(ctx, addr, [{ ...query, id: ctx.host.kernel.rng.below(65536) }], { timeoutMs: 2000, attempts: 1 });
    const r = replies[0];
    if (r !== undefined) return { ...r, id: query.id };
  }
  return { ...base, rcode: DNS_RCODE_SERVFAIL };
}

/** The coredns image's program. */
export const corednsCommands: Record<string, Command> = { coredns };
