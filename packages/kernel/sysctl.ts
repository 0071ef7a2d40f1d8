import { KernelError } from "./errno.ts";
import type { NetNs } from "./netns.ts";

/** Per-interface keys under net.ipv4.conf.<if>. with their defaults. */
const CONF_DEFAULTS: Record<string, string> = {
  forwarding: "0",
  rp_filter: "0",
  accept_redirects: "1",
  send_redirects: "1",
  proxy_arp: "0",
  arp_ignore: "0",
  arp_announce: "0",
  route_localnet: "0",
  accept_local: "0",
};

/** Namespace-wide keys with their defaults (Linux 6.x). */
const NS_DEFAULTS: Record<string, string> = {
  "net.ipv4.ip_forward": "0",
  "net.ipv4.ip_default_ttl": "64",
  "net.ipv4.icmp_echo_ignore_all": "0",
  "net.ipv4.icmp_echo_ignore_broadcasts": "1",
  "net.ipv4.icmp_ratelimit": "1000",
  "net.ipv4.ip_local_port_range": "32768\t60999",
  "net.ipv4.ip_nonlocal_bind": "0",
  "net.ipv4.ping_group_range": "0\t2147483647",
  "net.ipv4.tcp_syn_retries": "6",
  "net.ipv4.tcp_synack_retries": "5",
  "net.ipv4.tcp_retries2": "15",
  "net.ipv4.tcp_fin_timeout": "60",
  "net.ipv4.tcp_rmem": "4096\t131072\t6291456",
  "net.ipv4.tcp_moderate_rcvbuf": "1",
  "net.ipv4.tcp_wmem": "4096\t16384\t4194304",
  "net.ipv4.tcp_sack": "1",
  "net.ipv4.tcp_timestamps": "1",
  "net.ipv4.tcp_window_scaling": "1",
  "net.ipv4.neigh.default.base_reachable_time_ms": "30000",
  "net.ipv4.neigh.default.gc_thresh1": "128",
  "net.ipv4.neigh.default.gc_thresh2": "512",
  "net.ipv4.neigh.default.gc_thresh3": "1024",
  "net.core.somaxconn": "4096",
  "net.core.rmem_max": "212992",
  "net.netfilter.nf_conntrack_max": "262144",
  "net.netfilter.nf_conntrack_count": "0",
  "net.netfilter.nf_conntrack_buckets": "65536",
  "net.netfilter.nf_conntrack_tcp_loose": "1",
  "net.netfilter.nf_conntrack_tcp_be_liberal": "0",
  "net.netfilter.nf_conntrack_tcp_timeout_syn_sent": "120",
  "net.netfilter.nf_conntrack_tcp_timeout_syn_recv": "60",
  "net.netfilter.nf_conntrack_tcp_timeout_established": "432000",
  "net.netfilter.nf_conntrack_tcp_timeout_fin_wait": "120",
  "net.netfilter.nf_conntrack_tcp_timeout_close_wait": "60",
  "net.netfilter.nf_conntrack_tcp_timeout_last_ack": "30",
  "net.netfilter.nf_conntrack_tcp_timeout_time_wait": "120",
  "net.netfilter.nf_conntrack_tcp_timeout_close": "10",
  "net.netfilter.nf_conntrack_udp_timeout": "30",
  "net.netfilter.nf_conntrack_udp_timeout_stream": "120",
  "net.netfilter.nf_conntrack_icmp_timeout": "30",
  "net.netfilter.nf_conntrack_generic_timeout": "600",
};

/** Keys that are read-only (mode 0444 in /proc/sys): writing them is EACCES. */
const READ_ONLY = new Set(["net.netfilter.nf_conntrack_count", "net.netfilter.nf_conntrack_buckets"]);

/** Keys whose value is several numbers separated by whitespace. */
const VECTOR_KEYS = new Set(["net.ipv4.ip_local_port_range", "net.ipv4.ping_group_range", "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"]);

/** Keys that exist once br_netfilter is loaded. */
const BR_NETFILTER_DEFAULTS: Record<string, string> = {
  "net.bridge.bridge-nf-call-arptables": "1",
  "net.bridge.bridge-nf-call-ip6tables": "1",
  "net.bridge.bridge-nf-call-iptables": "1",
  "net.bridge.bridge-nf-filter-pppoe-tagged": "0",
  "net.bridge.bridge-nf-filter-vlan-tagged": "0",
  "net.bridge.bridge-nf-pass-vlan-input-dev": "0",
};

/**
 * The sysctls of one network namespace (`sysctl`, /proc/sys/net). Keys are
 * dotted; per-interface keys exist for each device plus `all` and `default`.
 */
export class Sysctl {
  readonly #values = new Map<string, string>(Object.entries(NS_DEFAULTS));
  readonly #computed = new Map<string, () => string>();
  #brNetfilter = false;

  constructor(private readonly ns: NetNs) {
    for (const dev of ["all", "default"]) {
      for (const [k, v] of Object.entries(CONF_DEFAULTS)) this.#values.set(`net.ipv4.conf.${dev}.${k}`, v);
    }
  }

  /** Loads br_netfilter: its net.bridge.* keys appear, calls on. */
  loadBrNetfilter(): void {
    if (this.#brNetfilter) return;
    this.#brNetfilter = true;
    for (const [k, v] of Object.entries(BR_NETFILTER_DEFAULTS)) this.#values.set(k, v);
  }

  /** The keys that exist, sorted as `sysctl -a` prints them. */
  keys(): string[] {
    const keys = [...this.#values.keys()];
    for (const dev of this.ns.devices()) {
      for (const k of Object.keys(CONF_DEFAULTS)) keys.push(`net.ipv4.conf.${dev.name}.${k}`);
    }
    return keys.sort();
  }

  has(key: string): boolean {
    return this.#values.has(key) || this.#confKey(key) !== undefined;
  }

  /**
   * Makes the value of an existing key computed on every read, as the
   * kernel's own counters are (net.netfilter.nf_conntrack_count).
   */
  compute(key: string, getter: () => string): void {
    this.#computed.set(key, getter);
  }

  /** The value of `key`; throws ENOENT when no such key. */
  get(key: string): string {
    const computed = this.#computed.get(key);
    if (computed !== undefined) return computed();
    const v = this.#values.get(key);
    if (v !== undefined) return v;
    const conf = this.#confKey(key);
    if (conf === undefined) throw new KernelError("ENOENT");
    return this.#values.get(key) ?? this.#values.get(`net.ipv4.conf.default.${conf}`) ?? "0";
  }

  /** Sets `key`; throws ENOENT for no such key, EINVAL for a value of the wrong form. */
  set(key: string, value: string): void {
    if (!this.has(key)) throw new KernelError("ENOENT");
    if (READ_ONLY.has(key)) throw new KernelError("EACCES");
    const v = value.trim();
    if (VECTOR_KEYS.has(key)) {
      if (!/^-?\d+(\s+-?\d+)*$/.test(v)) throw new KernelError("EINVAL");
    } else if (!/^-?\d+$/.test(v)) {
      throw new KernelError("EINVAL");
    }
    this.#values.set(key, v);
    // ip_forward and conf.all.forwarding are one switch in Linux (devinet_sysctl_forward).
    if (key === "net.ipv4.ip_forward" || key === "net.ipv4.conf.all.forwarding") {
      this.#values.set("net.ipv4.ip_forward", v);
      this.#values.set("net.ipv4.conf.all.forwarding", v);
      this.#values.set("net.ipv4.conf.default.forwarding", v);
      for (const dev of this.ns.devices()) this.#values.set(`net.ipv4.conf.${dev.name}.forwarding`, v);
    }
  }

  /** A numeric value; 0 when absent. */
  num(key: string): number {
    return this.has(key) ? Number(this.get(key)) : 0;
  }

  /** True when the key is set to a non-zero value (absent keys are false). */
  on(key: string): boolean {
    return this.num(key) !== 0;
  }

  /** Drops per-device keys of a device that left the namespace. */
  forgetDevice(name: string): void {
    for (const k of Object.keys(CONF_DEFAULTS)) this.#values.delete(`net.ipv4.conf.${name}.${k}`);
  }

  #confKey(key: string): string | undefined {
    const m = /^net\.ipv4\.conf\.([^.]+)\.(.+)$/.exec(key);
    if (!m || !(m[2]! in CONF_DEFAULTS)) return undefined;
    if (m[1] === "all" || m[1] === "default" || this.ns.deviceByName(m[1]!)) return m[2];
    return undefined;
  }
}
