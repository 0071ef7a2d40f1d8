/**
 * `ifconfig`: net-tools 2.10 on hosts (lib/interface.c ife_print_long,
 * ifconfig.c), busybox's applet in containers (networking/interface.c).
 * Shows interfaces (up ones, or all with -a, or one), and sets address,
 * netmask, broadcast, mtu, txqueuelen, hw ether, promisc and up/down.
 * The model has no IPv6, so no inet6 line is printed.
 */
import { type IfAddr, KernelError, type NetDevice, type NetNs } from "@kemu/kernel";
import { formatIpv4Addr, formatMacAddr, prefixMask } from "@kemu/wire";
import type { Command, ProcessContext } from "../process.ts";
import {
  BUSYBOX_BANNER,
  bytesToMac,
  cmp,
  die,
  IFF,
  ifFlags,
  maskToLen,
  nstrcmp,
  parseInetLoose,
  parseInteger,
  parseLlAddr,
  runTool,
  setLinkUp,
} from "./_net.ts";
import { BUSYBOX_IFCONFIG_USAGE } from "./ip_usage.ts";

/** One line of the interface list: a device, or one of its labelled aliases (eth0:1). */
interface IfEntry {
  name: string;
  dev: NetDevice;
  addr: IfAddr | undefined;
  alias: boolean;
}

function entries(ns: NetNs): IfEntry[] {
  const out: IfEntry[] = [];
  for (const dev of ns.devices()) {
    out.push({ name: dev.name, dev, addr: dev.addrs.find((a) => a.label === dev.name), alias: false });
    const labels = new Set(dev.addrs.map((a) => a.label).filter((l) => l !== dev.name));
    for (const label of labels) out.push({ name: label, dev, addr: dev.addrs.find((a) => a.label === label), alias: true });
  }
  return out;
}

function mask(a: IfAddr): string {
  return formatIpv4Addr(prefixMask(a.prefixLen));
}

/** net-tools' ife_unit: "(1.2 KiB)". */
function netToolsUnit(value: number): string {
  const units: Array<[number, string]> = [
    [1073741824, "GiB"],
    [1048576, "MiB"],
    [1024, "KiB"],
  ];
  for (const [size, unit] of units) {
    if (value > size) {
      const tenths = Math.floor((value * 10) / size);
      return `${Math.floor(tenths / 10)}.${tenths % 10} ${unit}`;
    }
  }
  return `${value}.0 B`;
}

/** net-tools' flags word: `flags=4163<UP,BROADCAST,RUNNING,MULTICAST>`. */
function netToolsFlags(flags: number): string {
  const names: Array<[string, number]> = [
    ["UP", IFF.UP],
    ["BROADCAST", IFF.BROADCAST],
    ["DEBUG", IFF.DEBUG],
    ["LOOPBACK", IFF.LOOPBACK],
    ["POINTOPOINT", IFF.POINTOPOINT],
    ["NOTRAILERS", IFF.NOTRAILERS],
    ["RUNNING", IFF.RUNNING],
    ["NOARP", IFF.NOARP],
    ["PROMISC", IFF.PROMISC],
    ["ALLMULTI", IFF.ALLMULTI],
    ["SLAVE", IFF.SLAVE],
    ["MASTER", IFF.MASTER],
    ["MULTICAST", IFF.MULTICAST],
  ];
  const low = flags & 0xffff;
  const set = names.filter(([, bit]) => low & bit).map(([n]) => n);
  return `flags=${low}<${set.join(",")}>`;
}

/** One interface in net-tools' long format, blank line included. */
function netToolsLong(e: IfEntry): string {
  const { dev } = e;
  const flags = ifFlags(dev);
  let text = `${e.name}: ${netToolsFlags(flags)}  mtu ${dev.mtu}\n`;
  if (e.addr !== undefined) {
    text += `        inet ${formatIpv4Addr(e.addr.addr)}  netmask ${mask(e.addr)}`;
    if (flags & IFF.BROADCAST) text += `  broadcast ${formatIpv4Addr(e.addr.broadcast ?? 0)}`;
    text += "\n";
  }
  if (dev.kind === "loopback") text += `        loop  txqueuelen ${dev.txqlen}  (Local Loopback)\n`;
  else if (dev.kind === "tun") text += `        unspec 00-00-00-00-00-00-00-00-00-00-00-00-00-00-00-00  txqueuelen ${dev.txqlen}  (UNSPEC)\n`;
  else text += `        ether ${formatMacAddr(dev.mac)}  txqueuelen ${dev.txqlen}  (Ethernet)\n`;
  if (!e.alias) {
    const s = dev.stats;
    text += `        RX packets ${s.rxPackets}  bytes ${s.rxBytes} (${netToolsUnit(s.rxBytes)})\n`;
    text += `        RX errors ${s.rxErrors}  dropped ${s.rxDropped}  overruns 0  frame 0\n`;
    text += `        TX packets ${s.txPackets}  bytes ${s.txBytes} (${netToolsUnit(s.txBytes)})\n`;
    text += `        TX errors ${s.txErrors}  dropped ${s.txDropped} overruns 0  carrier 0  collisions 0\n`;
  }
  return `${text}\n`;
}

/** net-tools' `ifconfig -s` table row. */
function netToolsShort(e: IfEntry): string {
  const { dev } = e;
  const s = dev.stats;
  const flags = ifFlags(dev);
  const letters: Array<[string, number]> = [
    ["A", IFF.ALLMULTI],
    ["B", IFF.BROADCAST],
    ["D", IFF.DEBUG],
    ["L", IFF.LOOPBACK],
    ["M", IFF.MULTICAST],
    ["P", IFF.PROMISC],
    ["N", IFF.NOTRAILERS],
    ["O", IFF.NOARP],
    ["p", IFF.POINTOPOINT],
    ["s", IFF.SLAVE],
    ["m", IFF.MASTER],
    ["R", IFF.RUNNING],
    ["U", IFF.UP],
  ];
  const low = flags & 0xffff;
  const f = low === 0 ? "[NO FLAGS]" : letters.filter(([, bit]) => low & bit).map(([l]) => l).join("");
  return (
    `${e.name.slice(0, 15).padEnd(15)} ${String(dev.mtu).padStart(5)} ` +
    `${String(s.rxPackets).padStart(8)} ${String(s.rxErrors).padStart(6)} ${String(s.rxDropped).padStart(6)} ${"0".padEnd(6)} ` +
    `${String(s.txPackets).padStart(8)} ${String(s.txErrors).padStart(6)} ${String(s.txDropped).padStart(6)} ${"0".padStart(6)} ${f}\n`
  );
}

/** busybox's print_bytes_scaled: "X bytes:1586 (1.5 KiB)". */
function busyboxBytes(value: number): string {
  let int = value;
  let frac = 0;
  let ext = "";
  for (const unit of ["Ki", "Mi", "Gi", "Ti"]) {
    if (int >= 1024) {
      frac = Math.floor(((int % 1024) * 10) / 1024);
      int = Math.floor(int / 1024);
      ext = unit;
    }
  }
  return `${value} (${int}.${frac} ${ext}B)`;
}

/** One interface in busybox's format, blank line included. */
function busyboxLong(e: IfEntry): string {
  const { dev } = e;
  const flags = ifFlags(dev);
  let text = `${e.name.padEnd(9)} `;
  if (dev.kind === "loopback") text += "Link encap:Local Loopback  \n";
  else if (dev.kind === "tun") text += "Link encap:UNSPEC  HWaddr 00-00-00-00-00-00-00-00-00-00-00-00-00-00-00-00  \n";
  else text += `Link encap:Ethernet  HWaddr ${formatMacAddr(dev.mac).toUpperCase()}  \n`;
  if (e.addr !== undefined) {
    text += `          inet addr:${formatIpv4Addr(e.addr.addr)} `;
    if (flags & IFF.BROADCAST) text += ` Bcast:${formatIpv4Addr(e.addr.broadcast ?? 0)} `;
    text += ` Mask:${mask(e.addr)}\n`;
  }
  const names: Array<[string, number]> = [
    ["UP", IFF.UP],
    ["BROADCAST", IFF.BROADCAST],
    ["DEBUG", IFF.DEBUG],
    ["LOOPBACK", IFF.LOOPBACK],
    ["POINTOPOINT", IFF.POINTOPOINT],
    ["NOTRAILERS", IFF.NOTRAILERS],
    ["RUNNING", IFF.RUNNING],
    ["NOARP", IFF.NOARP],
    ["PROMISC", IFF.PROMISC],
    ["ALLMULTI", IFF.ALLMULTI],
    ["SLAVE", IFF.SLAVE],
    ["MASTER", IFF.MASTER],
    ["MULTICAST", IFF.MULTICAST],
  ];
  const low = flags & 0xffff;
  text += "          ";
  text += low === 0 ? "[NO FLAGS] " : names.filter(([, b]) => low & b).map(([n]) => `${n} `).join("");
  text += ` MTU:${dev.mtu}  Metric:1\n`;
  if (!e.alias) {
    const s = dev.stats;
    text += `          RX packets:${s.rxPackets} errors:${s.rxErrors} dropped:${s.rxDropped} overruns:0 frame:0\n`;
    text += `          TX packets:${s.txPackets} errors:${s.txErrors} dropped:${s.txDropped} overruns:0 carrier:0\n`;
    text += `          collisions:0 txqueuelen:${dev.txqlen} \n`;
    text += `          RX bytes:${busyboxBytes(s.rxBytes)}  TX bytes:${busyboxBytes(s.txBytes)}\n`;
  }
  return `${text}\n`;
}

/** inet_abc_len: the classful prefix length SIOCSIFADDR gives a new address. */
function classfulLen(addr: number): number {
  if (addr === 0) return 0;
  const top = addr >>> 24;
  if (top < 128) return 8;
  if (top < 192) return 16;
  if (top < 224) return 24;
  return 32;
}

/** The device (and label) an interface name means: `eth0:1` is an alias of eth0. */
function lookup(ns: NetNs, name: string): { dev: NetDevice; label: string } | undefined {
  const base = name.includes(":") ? name.slice(0, name.indexOf(":")) : name;
  const dev = ns.deviceByName(base);
  return dev === undefined ? undefined : { dev, label: name };
}

/** SIOCSIFADDR: replaces the address labelled `label` (classful length, derived broadcast). */
function setAddress(dev: NetDevice, label: string, addr: number): void {
  const ns = dev.netns;
  const old = dev.addrs.find((a) => a.label === label);
  if (old !== undefined) {
    if (old.addr === addr) return;
    ns.deleteAddress(dev, old.addr, old.prefixLen);
  }
  if (addr === 0) return;
  const len = classfulLen(addr);
  const broadcast = ifFlags(dev) & IFF.BROADCAST && len < 31 ? (addr | (~prefixMask(len) >>> 0)) >>> 0 : undefined;
  ns.addAddress(dev, { addr, prefixLen: len, broadcast, label });
}

/** SIOCSIFNETMASK: a new prefix length; a broadcast that was derived follows it. */
function setNetmask(dev: NetDevice, label: string, len: number): void {
  const ns = dev.netns;
  const old = dev.addrs.find((a) => a.label === label);
  if (old === undefined) throw new KernelError("EADDRNOTAVAIL");
  if (old.prefixLen === len) return;
  const derived = old.broadcast === ((old.addr | (~prefixMask(old.prefixLen) >>> 0)) >>> 0);
  const broadcast = derived && len < 31 ? (old.addr | (~prefixMask(len) >>> 0)) >>> 0 : old.broadcast;
  ns.deleteAddress(dev, old.addr, old.prefixLen);
  ns.addAddress(dev, { addr: old.addr, prefixLen: len, broadcast, scope: old.scope, label });
}

/** SIOCSIFBRDADDR. */
function setBroadcast(dev: NetDevice, label: string, bcast: number): void {
  const ns = dev.netns;
  const old = dev.addrs.find((a) => a.label === label);
  if (old === undefined) throw new KernelError("EADDRNOTAVAIL");
  ns.deleteAddress(dev, old.addr, old.prefixLen);
  ns.addAddress(dev, { addr: old.addr, prefixLen: old.prefixLen, broadcast: bcast, scope: old.scope, label });
}

function errnoText(err: unknown): string {
  if (err instanceof KernelError) return err.text;
  throw err;
}

/** `ifconfig …` */
export const ifconfig: Command = (ctx) => runTool(() => (ctx.flavour === "busybox" ? busyboxMain(ctx) : netToolsMain(ctx)));

function show(ctx: ProcessContext, list: IfEntry[], format: (e: IfEntry) => string): void {
  ctx.stdout.write(list.map(format).join(""));
}

function netToolsMain(ctx: ProcessContext): number {
  let argv = ctx.argv.slice(1);
  let all = false;
  let short = false;
  while (argv[0]?.startsWith("-")) {
    const o = argv[0];
    if (o === "-a") all = true;
    else if (o === "-s") short = true;
    else if (o === "-v") {
      // verbose: nothing more to say
    } else if (o === "-V" || o === "-version" || o === "--version") {
      ctx.stdout.write("net-tools 2.10\n");
      return 0;
    } else {
      die(ctx, `ifconfig: option \`${o}' not recognised.\nifconfig: \`--help' gives usage information.\n`, 1);
    }
    argv = argv.slice(1);
  }
  const list = entries(ctx.netns).sort((a, b) => nstrcmp(a.name, b.name));
  const format = short ? netToolsShort : netToolsLong;
  if (short) ctx.stdout.write("Iface      MTU    RX-OK RX-ERR RX-DRP RX-OVR    TX-OK TX-ERR TX-DRP TX-OVR Flg\n");
  if (argv.length === 0) {
    show(ctx, list.filter((e) => all || e.dev.adminUp), format);
    return 0;
  }
  const name = argv[0]!;
  if (argv.length === 1) {
    const e = list.find((x) => x.name === name);
    if (e === undefined) die(ctx, `${name}: error fetching interface information: Device not found\n`, 1);
    show(ctx, [e], format);
    return 0;
  }
  const target = lookup(ctx.netns, name);
  let status = 0;
  const fail = (text: string, code: number) => {
    ctx.stderr.write(text);
    status = status === -1 || code === -1 ? -1 : status | code;
  };
  const noFlags = () => fail(`${name}: ERROR while getting interface flags: No such device\n`, -1);
  const resolve = (host: string): number => {
    const a = host === "default" ? 0 : /^[0-9.]+$/.test(host) ? parseInetLoose(host) : undefined;
    if (a === undefined) die(ctx, `${host}: Host name lookup failure\nifconfig: \`--help' gives usage information.\n`, 1);
    return a;
  };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    const dev = target?.dev;
    const arg = (): string => {
      const v = argv[++i];
      if (v === undefined) die(ctx, "ifconfig: `--help' gives usage information.\n", 1);
      return v;
    };
    if (a === "up" || a === "down") {
      if (dev === undefined) noFlags();
      else setLinkUp(dev, a === "up");
    } else if (a === "promisc" || a === "-promisc") {
      if (dev === undefined) noFlags();
      else dev.promisc = a === "promisc";
    } else if (["arp", "-arp", "allmulti", "-allmulti", "multicast", "-multicast", "trailers", "-trailers", "dynamic", "-dynamic"].includes(a)) {
      if (dev === undefined) noFlags();
      else fail("SIOCSIFFLAGS: Operation not supported\n", 1);
    } else if (a === "mtu" || a === "txqueuelen") {
      const v = parseInteger(arg());
      if (v === undefined) die(ctx, "ifconfig: `--help' gives usage information.\n", 1);
      const ioctl = a === "mtu" ? "SIOCSIFMTU" : "SIOCSIFTXQLEN";
      if (dev === undefined) fail(`${ioctl}: No such device\n`, 1);
      else if (a === "mtu" && dev.kind !== "loopback" && (v < 68 || v > 65535)) fail(`${ioctl}: Invalid argument\n`, 1);
      else if (a === "mtu") dev.mtu = v;
      else dev.txqlen = v;
    } else if (a === "netmask") {
      const m = resolve(arg());
      const len = maskToLen(m);
      if (dev === undefined) fail("SIOCSIFNETMASK: No such device\n", 1);
      else if (len === undefined) fail("SIOCSIFNETMASK: Invalid argument\n", 1);
      else {
        try {
          setNetmask(dev, target!.label, len);
        } catch (err) {
          fail(`SIOCSIFNETMASK: ${errnoText(err)}\n`, 1);
        }
      }
    } else if (a === "broadcast" || a === "-broadcast") {
      if (a === "-broadcast") continue;
      const b = resolve(arg());
      if (dev === undefined) fail("SIOCSIFBRDADDR: No such device\n", 1);
      else {
        try {
          setBroadcast(dev, target!.label, b);
        } catch (err) {
          fail(`SIOCSIFBRDADDR: ${errnoText(err)}\n`, 1);
        }
      }
    } else if (a === "hw") {
      const cls = arg();
      const value = arg();
      const bytes = cls === "ether" ? parseLlAddr(value) : undefined;
      if (bytes === undefined || bytes.length !== 6) die(ctx, `${value}: invalid ether address.\n`, 1);
      if (dev === undefined) fail("SIOCSIFHWADDR: No such device\n", 1);
      else if (dev.adminUp && dev.kind !== "veth") fail("SIOCSIFHWADDR: Device or resource busy - you may need to down the interface\n", 1);
      else dev.mac = bytesToMac(bytes);
    } else if (a === "name") {
      const newName = arg();
      if (dev === undefined) fail("SIOCSIFNAME: No such device\n", 1);
      else {
        try {
          dev.netns.renameDevice(dev, newName);
        } catch (err) {
          fail(`SIOCSIFNAME: ${errnoText(err)}\n`, 1);
        }
      }
    } else if (a === "metric" || a === "pointopoint" || a === "dstaddr" || a === "add" || a === "del") {
      arg();
    } else {
      let host = a;
      let len: number | undefined;
      if (host.includes("/")) {
        len = Number(host.slice(host.indexOf("/") + 1));
        host = host.slice(0, host.indexOf("/"));
        if (!Number.isInteger(len) || len < 0 || len > 32) die(ctx, "ifconfig: `--help' gives usage information.\n", 1);
      }
      const addr = resolve(host);
      if (dev === undefined) {
        fail("SIOCSIFADDR: No such device\n", 1);
        noFlags();
        continue;
      }
      try {
        setAddress(dev, target!.label, addr);
        if (len !== undefined) setNetmask(dev, target!.label, len);
      } catch (err) {
        fail(`SIOCSIFADDR: ${errnoText(err)}\n`, 1);
      }
      if (!(target!.label.includes(":") && addr === 0)) setLinkUp(dev, true);
    }
  }
  return status === -1 ? 255 : status;
}

function busyboxMain(ctx: ProcessContext): number {
  let argv = ctx.argv.slice(1);
  let all = false;
  if (argv[0] === "-a") {
    all = true;
    argv = argv.slice(1);
  }
  if (argv[0] === "--help" || argv[0] === "-h") die(ctx, `${BUSYBOX_BANNER}\n\n${BUSYBOX_IFCONFIG_USAGE}`, 1);
  const list = entries(ctx.netns).sort((a, b) => cmp(a.name, b.name));
  if (argv.length === 0) {
    show(ctx, list.filter((e) => all || e.dev.adminUp), busyboxLong);
    return 0;
  }
  const name = argv[0]!;
  if (argv.length === 1) {
    const e = list.find((x) => x.name === name);
    if (e === undefined) die(ctx, `ifconfig: ${name}: error fetching interface information: Device not found\n`, 1);
    show(ctx, [e], busyboxLong);
    return 0;
  }
  const target = lookup(ctx.netns, name);
  const need = (): { dev: NetDevice; label: string } => target ?? die(ctx, "ifconfig: SIOCGIFFLAGS: No such device\n", 1);
  let bringUp = false;
  for (let i = 1; i < argv.length; i++) {
    let a = argv[i]!;
    const arg = (): string => argv[++i] ?? die(ctx, `${BUSYBOX_BANNER}\n\n${BUSYBOX_IFCONFIG_USAGE}`, 1);
    const resolve = (host: string): number => {
      const v = host === "default" ? 0 : /^[0-9.]+$/.test(host) ? parseInetLoose(host) : undefined;
      if (v === undefined) die(ctx, `ifconfig: bad address '${host}'\n`, 1);
      return v;
    };
    const clear = a.startsWith("-");
    if (clear) a = a.slice(1);
    if (a === "up" || a === "down") setLinkUp(need().dev, a === "up");
    else if (a === "promisc") need().dev.promisc = !clear;
    else if (["arp", "trailers", "multicast", "allmulti", "dynamic"].includes(a)) {
      need();
      die(ctx, "ifconfig: SIOCSIFFLAGS: Operation not supported\n", 1);
    } else if (a === "mtu" || a === "txqueuelen" || a === "metric") {
      const v = parseInteger(arg());
      if (v === undefined) die(ctx, `ifconfig: invalid number '${argv[i]}'\n`, 1);
      const t = need();
      if (a === "mtu") {
        if (t.dev.kind !== "loopback" && (v < 68 || v > 65535)) die(ctx, "ifconfig: SIOCSIFMTU: Invalid argument\n", 1);
        t.dev.mtu = v;
      } else if (a === "txqueuelen") t.dev.txqlen = v;
    } else if (a === "netmask") {
      const m = resolve(arg());
      const t = need();
      const len = maskToLen(m);
      try {
        if (len === undefined) throw new KernelError("EINVAL");
        setNetmask(t.dev, t.label, len);
      } catch (err) {
        die(ctx, `ifconfig: SIOCSIFNETMASK: ${errnoText(err)}\n`, 1);
      }
    } else if (a === "broadcast") {
      const t = need();
      if (clear) continue;
      const v = arg();
      const own = t.dev.addrs.find((x) => x.label === t.label);
      const b = v === "+" && own ? (own.addr | (~prefixMask(own.prefixLen) >>> 0)) >>> 0 : resolve(v);
      try {
        setBroadcast(t.dev, t.label, b);
      } catch (err) {
        die(ctx, `ifconfig: SIOCSIFBRDADDR: ${errnoText(err)}\n`, 1);
      }
      bringUp = true;
    } else if (a === "hw") {
      const cls = arg();
      const value = arg();
      const bytes = cls === "ether" ? parseLlAddr(value) : undefined;
      if (bytes === undefined || bytes.length !== 6) die(ctx, `ifconfig: invalid hw-addr ${value}\n`, 1);
      need().dev.mac = bytesToMac(bytes);
    } else if (a === "pointopoint" || a === "dstaddr" || a === "add" || a === "del" || a === "keepalive" || a === "outfill") {
      arg();
    } else {
      let host = a;
      if (host === "inet") continue;
      let len: number | undefined;
      if (host.includes("/")) {
        len = Number(host.slice(host.indexOf("/") + 1));
        host = host.slice(0, host.indexOf("/"));
        if (!Number.isInteger(len) || len < 0 || len > 32) die(ctx, `ifconfig: invalid number '${a.slice(a.indexOf("/") + 1)}'\n`, 1);
      }
      const addr = resolve(host);
      const t = need();
      try {
        setAddress(t.dev, t.label, addr);
        if (len !== undefined) setNetmask(t.dev, t.label, len);
      } catch (err) {
        die(ctx, `ifconfig: SIOCSIFADDR: ${errnoText(err)}\n`, 1);
      }
      bringUp = true;
    }
  }
  if (bringUp && target !== undefined) setLinkUp(target.dev, true);
  return 0;
}
