import { formatMacAddr } from "@kemu/wire";
import { Bridge } from "./bridge.ts";
import type { NetDevice } from "./device.ts";
import type { NetNs } from "./netns.ts";

/** ARPHRD_* numbers, /sys/class/net/X/type. */
const ARPHRD: Record<string, number> = { loopback: 772, tun: 65534 };

/** IFF_* bits as /sys/class/net/X/flags shows them. */
function flags(dev: NetDevice): number {
  let f = 0;
  if (dev.adminUp) f |= 0x1; // IFF_UP
  if (dev.kind !== "loopback" && dev.kind !== "tun") f |= 0x2; // IFF_BROADCAST
  if (dev.kind === "loopback") f |= 0x8; // IFF_LOOPBACK
  if (dev.kind === "tun") f |= 0x10; // IFF_POINTOPOINT
  if (!dev.arp) f |= 0x80; // IFF_NOARP
  if (dev.promisc) f |= 0x100;
  if (dev.kind !== "loopback") f |= 0x1000; // IFF_MULTICAST (a tun has it too)
  return f;
}

/** The files under /sys/class/net/<dev>/ that the model serves, by name. */
function deviceFiles(dev: NetDevice): Record<string, () => string> {
  const files: Record<string, () => string> = {
    ifindex: () => `${dev.ifindex}`,
    iflink: () => `${dev.iflink}`,
    address: () => formatMacAddr(dev.mac),
    broadcast: () => (dev.kind === "loopback" ? "00:00:00:00:00:00" : "ff:ff:ff:ff:ff:ff"),
    mtu: () => `${dev.mtu}`,
    operstate: () => dev.operstate.toLowerCase(),
    carrier: () => (dev.adminUp ? (dev.carrier ? "1" : "0") : ""),
    type: () => `${ARPHRD[dev.kind] ?? 1}`,
    tx_queue_len: () => `${dev.txqlen}`,
    flags: () => `0x${flags(dev).toString(16)}`,
    ifalias: () => dev.alias,
    addr_len: () => "6",
  };
  if (dev.master) files["master"] = () => `../${dev.master!.name}`;
  return files;
}

/** Files under /sys/class/net/<br>/bridge/ for a bridge. */
function bridgeFiles(br: Bridge): Record<string, () => string> {
  return {
    ageing_time: () => `${Math.round(br.ageingMs / 10)}`,
    stp_state: () => "0",
    forward_delay: () => "1500",
    hello_time: () => "200",
    max_age: () => "2000",
    priority: () => "32768",
    bridge_id: () => `8000.${formatMacAddr(br.mac).replaceAll(":", "")}`,
  };
}

/**
 * Reads a file of /sys/class/net as the namespace sees it; `path` is the
 * part after /sys/class/net/. Returns undefined when there is no such file,
 * a string[] for a directory.
 */
export function readSysClassNet(ns: NetNs, path: string): string | string[] | undefined {
  const parts = path.split("/").filter((p) => p !== "");
  if (parts.length === 0) return ns.devices().map((d) => d.name);
  const dev = ns.deviceByName(parts[0]!);
  if (!dev) return undefined;
  const files = deviceFiles(dev);
  if (parts.length === 1) {
    const names = Object.keys(files);
    if (dev instanceof Bridge) names.push("bridge", "brif");
    if (dev.master) names.push("brport");
    names.push("statistics");
    return names.sort();
  }
  const [, sub, leaf, leaf2] = parts;
  if (parts.length === 2) {
    const f = files[sub!];
    if (f) return `${f()}\n`;
  }
  if (sub === "statistics") {
    const stats: Record<string, number> = {
      rx_packets: dev.stats.rxPackets,
      tx_packets: dev.stats.txPackets,
      rx_bytes: dev.stats.rxBytes,
      tx_bytes: dev.stats.txBytes,
      rx_errors: dev.stats.rxErrors,
      tx_errors: dev.stats.txErrors,
      rx_dropped: dev.stats.rxDropped,
      tx_dropped: dev.stats.txDropped,
      multicast: dev.stats.multicast,
    };
    if (leaf === undefined) return Object.keys(stats).sort();
    return leaf in stats ? `${stats[leaf]}\n` : undefined;
  }
  if (dev instanceof Bridge && sub === "bridge") {
    const bf = bridgeFiles(dev);
    if (leaf === undefined) return Object.keys(bf).sort();
    const f = bf[leaf];
    return f ? `${f()}\n` : undefined;
  }
  if (dev instanceof Bridge && sub === "brif") {
    const ports = [...dev.ports.keys()];
    if (leaf === undefined) return ports.map((p) => p.name).sort();
    const port = ports.find((p) => p.name === leaf);
    if (!port) return undefined;
    const opts = dev.ports.get(port)!;
    const pf: Record<string, string> = {
      hairpin_mode: opts.hairpin ? "1" : "0",
      learning: opts.learning ? "1" : "0",
      unicast_flood: opts.flood ? "1" : "0",
      state: "3",
    };
    if (leaf2 === undefined) return Object.keys(pf).sort();
    return leaf2 in pf ? `${pf[leaf2]}\n` : undefined;
  }
  return undefined;
}
