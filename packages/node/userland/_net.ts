/**
 * What the network tools share: how a model device looks through the
 * kernel's user interfaces (IFF_* flags, operstate, qdisc, link type), the
 * iproute2 keyword matcher, number and address parsers that accept what the
 * C tools accept, and the early-exit error the tools' `exit()` calls become.
 * Private to the userland.
 */
import { Bridge, type NetDevice, type NetNs, Veth } from "@kemu/kernel";
import { formatMacAddr } from "@kemu/wire";
import type { ProcessContext } from "../process.ts";

/** The banner busybox applets print above their usage text (the docker `busybox` image's build). */
export const BUSYBOX_BANNER = "BusyBox v1.36.1 (2023-05-18 22:34:17 UTC) multi-call binary.";

/** A C tool calling exit(code) from deep inside its parser: the command returns `code`. */
export class ToolExit extends Error {
  override readonly name = "ToolExit";
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** Writes `text` (a whole line or more, newline included) to stderr and exits with `code`. */
export function die(ctx: ProcessContext, text: string, code: number): never {
  ctx.stderr.write(text);
  throw new ToolExit(code);
}

/** Runs a tool body, turning a ToolExit into its status. */
export async function runTool(body: () => Promise<number> | number): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof ToolExit) return err.code;
    throw err;
  }
}

/** iproute2's matches(): true when `prefix` is a non-empty prefix of `word` ("a" matches "add"). */
export function matches(prefix: string, word: string): boolean {
  return prefix.length > 0 && word.startsWith(prefix);
}

/** IFF_* bits (include/uapi/linux/if.h). */
export const IFF = {
  UP: 0x1,
  BROADCAST: 0x2,
  DEBUG: 0x4,
  LOOPBACK: 0x8,
  POINTOPOINT: 0x10,
  NOTRAILERS: 0x20,
  RUNNING: 0x40,
  NOARP: 0x80,
  PROMISC: 0x100,
  ALLMULTI: 0x200,
  MASTER: 0x400,
  SLAVE: 0x800,
  MULTICAST: 0x1000,
  LOWER_UP: 0x10000,
  DORMANT: 0x20000,
} as const;

/** Whether the device has carrier as the kernel reports it (netif_carrier_ok on a running device). */
export function hasCarrier(dev: NetDevice): boolean {
  return dev.adminUp && dev.carrier;
}

/**
 * The device's flags as SIOCGIFFLAGS / RTM_NEWLINK report them. The static
 * part follows each driver's setup: dummy clears IFF_MULTICAST and sets
 * IFF_NOARP, tun is point-to-point.
 */
export function ifFlags(dev: NetDevice): number {
  let f = 0;
  switch (dev.kind) {
    case "loopback":
      f |= IFF.LOOPBACK;
      break;
    case "dummy":
      f |= IFF.BROADCAST | IFF.NOARP;
      break;
    case "tun":
      f |= IFF.POINTOPOINT | IFF.NOARP | IFF.MULTICAST;
      break;
    default:
      f |= IFF.BROADCAST | IFF.MULTICAST;
  }
  if (dev.promisc) f |= IFF.PROMISC;
  if (dev.adminUp) {
    f |= IFF.UP;
    const op = dev.operstate;
    if (op === "UP" || op === "UNKNOWN") f |= IFF.RUNNING;
    if (dev.carrier) f |= IFF.LOWER_UP;
  }
  return f;
}

/**
 * Devices seen up. The kernel attaches a device's qdisc when it first comes
 * up and keeps it when it goes down; the model does not record that, so the
 * tools remember what they saw (a device brought up and down again with no
 * tool looking in between still shows `noop`).
 */
const everUp = new WeakSet<NetDevice>();

/** The qdisc `ip link` names: none attached (noop) until the device first comes up. */
export function qdiscName(dev: NetDevice): string {
  if (dev.adminUp) everUp.add(dev);
  if (!everUp.has(dev)) return "noop";
  return dev.kind === "ether" || dev.kind === "tun" ? "fq_codel" : "noqueue";
}

/** ARPHRD_* of the device, as /sys/class/net/X/type and `link/…` show it. */
export function linkType(dev: NetDevice): "loopback" | "ether" | "none" {
  if (dev.kind === "loopback") return "loopback";
  if (dev.kind === "tun") return "none";
  return "ether";
}

/** The link-layer broadcast address (`brd …` in `ip link`). */
export function linkBroadcast(dev: NetDevice): string {
  return dev.kind === "loopback" ? "00:00:00:00:00:00" : "ff:ff:ff:ff:ff:ff";
}

/** The device's MAC in iproute2's lower-case form. */
export function mac(dev: NetDevice): string {
  return formatMacAddr(dev.mac);
}

/** The peer of a veth, when the device is one. */
export function vethPeer(dev: NetDevice): Veth | undefined {
  return dev instanceof Veth ? dev.peer : undefined;
}

/** The peer's namespace when it is not the device's own (IFLA_LINK_NETNSID is sent then). */
export function peerNetns(dev: NetDevice): NetNs | undefined {
  const peer = vethPeer(dev);
  if (peer === undefined || peer.netns === dev.netns) return undefined;
  return peer.netns;
}

/** Whether the device is a bridge. */
export function isBridge(dev: NetDevice | undefined): dev is Bridge {
  return dev instanceof Bridge;
}

/** The name a named namespace (ip netns add) has, as seen by `ns`'s ids; undefined if none. */
export function netnsName(ctx: ProcessContext, target: NetNs): string | undefined {
  for (const [name, ns] of ctx.host.namedNetns) if (ns === target) return name;
  return undefined;
}

/**
 * strtoul(s, &end, 0) over the whole string: decimal, 0x hex or 0 octal;
 * undefined when anything is left over or nothing was read.
 */
export function parseCNumber(text: string): number | undefined {
  const t = text.trim();
  let m: RegExpExecArray | null;
  if ((m = /^[+]?0[xX]([0-9a-fA-F]+)$/.exec(t))) return parseInt(m[1]!, 16);
  if ((m = /^[+]?0([0-7]*)$/.exec(t))) return m[1] === "" ? 0 : parseInt(m[1]!, 8);
  if ((m = /^[+]?([1-9][0-9]*)$/.exec(t))) return Number(m[1]);
  return undefined;
}

/** get_unsigned/get_u32: a C number up to 2^32-1. */
export function parseU32(text: string): number | undefined {
  const n = parseCNumber(text);
  return n !== undefined && n <= 0xffffffff ? n : undefined;
}

/** get_integer: an int, sign allowed. */
export function parseInteger(text: string): number | undefined {
  if (/^-/.test(text)) {
    const n = parseCNumber(text.slice(1));
    return n !== undefined && n <= 0x80000000 ? -n : undefined;
  }
  const n = parseCNumber(text);
  return n !== undefined && n <= 0x7fffffff ? n : undefined;
}

/**
 * iproute2's get_addr_ipv4: one to four dot-separated C numbers, each up to
 * 255; missing trailing bytes are zero ("10" is 10.0.0.0).
 */
export function parseInetLoose(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length < 1 || parts.length > 4) return undefined;
  let addr = 0;
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    let n = 0;
    if (p !== undefined) {
      const v = /^[0-9a-fA-FxX]+$/.test(p) ? parseCNumber(p) : undefined;
      if (v === undefined || v > 255) return undefined;
      n = v;
    }
    addr = addr * 256 + n;
  }
  return addr;
}

/** A dotted-quad netmask to its prefix length; undefined if the ones are not contiguous. */
export function maskToLen(mask: number): number | undefined {
  let len = 0;
  while (len < 32 && ((mask >>> (31 - len)) & 1) === 1) len++;
  const rest = len === 32 ? 0 : (mask << len) >>> 0;
  return rest === 0 ? len : undefined;
}

/**
 * ll_addr_a2n: hex bytes separated by colons ("02:42:ac:11:00:02");
 * undefined when a byte is not hex.
 */
export function parseLlAddr(text: string): number[] | undefined {
  const parts = text.split(":");
  const bytes: number[] = [];
  for (const p of parts) {
    if (!/^[0-9a-fA-F]{1,2}$/.test(p)) return undefined;
    bytes.push(parseInt(p, 16));
  }
  return bytes.length > 0 && bytes.length <= 32 ? bytes : undefined;
}

/** Six bytes as a 48-bit MAC number. */
export function bytesToMac(bytes: readonly number[]): number {
  let n = 0;
  for (const b of bytes) n = n * 256 + b;
  return n;
}

/**
 * net-tools' nstrcmp: compares interface names so that "eth2" sorts before
 * "eth10" and "eth0:1" after "eth0".
 */
export function nstrcmp(a: string, b: string): number {
  const cut = (s: string): [string, string | undefined] => {
    const m = /^(.*):(\d+)$/.exec(s);
    return m ? [m[1]!, m[2]] : [s, undefined];
  };
  const [an, aal] = cut(a);
  const [bn, bal] = cut(b);
  const ai = an.search(/\d*$/);
  const bi = bn.search(/\d*$/);
  const common = Math.min(ai, bi);
  const head = cmp(an.slice(0, common), bn.slice(0, common));
  if (head !== 0) return head;
  if (ai !== bi) return ai > bi ? 1 : -1;
  const av = Number(an.slice(ai) || "0");
  const bv = Number(bn.slice(bi) || "0");
  if (av !== bv) return av < bv ? -1 : 1;
  const whole = cmp(an, bn);
  if (whole !== 0) return whole;
  const aa = aal === undefined ? -1 : Number(aal);
  const ba = bal === undefined ? -1 : Number(bal);
  return aa === ba ? 0 : aa < ba ? -1 : 1;
}

/** strcmp: byte order. */
export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The kernel's dev_valid_name: what a device may be called. */
export function validIfName(name: string): boolean {
  return name.length > 0 && name.length < 16 && name !== "." && name !== ".." && !/[/:\s]/.test(name);
}

/** The first free `vethN` name in a namespace, as the veth driver picks one for an unnamed peer. */
export function freeVethName(ns: NetNs, also: readonly string[] = []): string {
  for (let i = 0; ; i++) {
    const name = `veth${i}`;
    if (!ns.deviceByName(name) && !also.includes(name)) return name;
  }
}

/**
 * Sets a device up or down as SIOCSIFFLAGS / RTM_NEWLINK do (the kernel
 * gives loopback 127.0.0.1/8 as it comes up).
 */
export function setLinkUp(dev: NetDevice, up: boolean): void {
  const ns = dev.netns;
  if (up) everUp.add(dev);
  ns.setUp(dev, up);
}
