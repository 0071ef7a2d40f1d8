/**
 * The kernel's packet log lines (nf_log_syslog.c), as LOG and TRACE write
 * them: `<prefix>IN=eth0 OUT= MAC=… SRC=… DST=… LEN=… TOS=0x00 PREC=0x00
 * TTL=64 ID=… DF PROTO=TCP SPT=… DPT=… WINDOW=… RES=0x00 SYN URGP=0 `.
 */
import { formatIpv4Addr, formatMacAddr } from "@kemu/wire";
import type { NetDevice } from "../device.ts";
import type { PacketContext } from "./rule.ts";

/** Which optional fields a log line carries (XT_LOG_* flags). */
export interface LogFlags {
  /** SEQ= and ACK= for TCP. */
  tcpSeq?: boolean;
  /** OPT (…) for TCP options. */
  tcpOpt?: boolean;
}

const hex2 = (n: number): string => n.toString(16).toUpperCase().padStart(2, "0");

/** The whole log line for a packet at a hook, after `prefix`. */
export function formatPacketLog(p: PacketContext, prefix: string, flags: LogFlags = {}): string {
  let s = `${prefix}IN=${p.inDev?.name ?? ""} OUT=${p.outDev?.name ?? ""} `;
  const physIn = p.meta.physIn;
  const physOut = p.meta.physOut;
  if (physIn !== undefined && physIn !== p.inDev) s += `PHYSIN=${physIn.name} `;
  if (physOut !== undefined && physOut !== p.outDev) s += `PHYSOUT=${physOut.name} `;
  if (p.inDev !== undefined) s += macField(p, p.inDev);
  s += dumpIpv4(p.packet, 0, flags);
  if (p.meta.mark) s += `MARK=0x${p.meta.mark.toString(16)} `;
  return s;
}

/** `MAC=dst:src:type ` as the frame arrived, rebuilt from the device and the neighbour table. */
function macField(p: PacketContext, dev: NetDevice): string {
  if (!dev.arp && dev.kind !== "loopback") return "MAC= ";
  const dstMac = dev.kind === "loopback" ? 0 : isBroadcastDst(p) ? 0xffff_ffff_ffff : dev.mac;
  let srcMac = 0;
  if (dev.kind !== "loopback") {
    const route = p.ns.ipv4.routes.lookup(p.src, { oif: dev });
    const hop = route?.gateway ?? p.src;
    srcMac = p.ns.ipv4.neigh.get(dev, hop)?.mac ?? 0;
  }
  return `MAC=${formatMacAddr(dstMac)}:${formatMacAddr(srcMac)}:08:00 `;
}

function isBroadcastDst(p: PacketContext): boolean {
  return p.dst === 0xffffffff || (p.dst >>> 28) === 0xe;
}

/** dump_ipv4_packet: the IP header and transport fields at `off` (recursing once into ICMP errors). */
function dumpIpv4(b: Uint8Array, off: number, flags: LogFlags): string {
  if (b.length < off + 20) return `INCOMPLETE [${b.length - off} bytes] `;
  const rd16 = (o: number): number => ((b[o] ?? 0) << 8) | (b[o + 1] ?? 0);
  const rd32 = (o: number): number => (((b[o] ?? 0) << 24) | ((b[o + 1] ?? 0) << 16) | ((b[o + 2] ?? 0) << 8) | (b[o + 3] ?? 0)) >>> 0;
  const ihl = (b[off]! & 15) * 4;
  const tos = b[off + 1]!;
  const frag = rd16(off + 6);
  const proto = b[off + 9]!;
  let s = `SRC=${formatIpv4Addr(rd32(off + 12))} DST=${formatIpv4Addr(rd32(off + 16))} `;
  s += `LEN=${rd16(off + 2)} TOS=0x${hex2(tos & 0x1e)} PREC=0x${hex2(tos & 0xe0)} TTL=${b[off + 8]} ID=${rd16(off + 4)} `;
  if (frag & 0x8000) s += "CE ";
  if (frag & 0x4000) s += "DF ";
  if (frag & 0x2000) s += "MF ";
  const fragOff = frag & 0x1fff;
  if (fragOff) s += `FRAG:${fragOff} `;
  const l4 = off + ihl;
  switch (proto) {
    case 6: {
      s += "PROTO=TCP ";
      if (fragOff) break;
      if (b.length < l4 + 20) {
        s += `INCOMPLETE [${b.length - l4} bytes] `;
        break;
      }
      s += `SPT=${rd16(l4)} DPT=${rd16(l4 + 2)} `;
      if (flags.tcpSeq) s += `SEQ=${rd32(l4 + 4)} ACK=${rd32(l4 + 8)} `;
      s += `WINDOW=${rd16(l4 + 14)} `;
      s += `RES=0x${((b[l4 + 12]! & 0x0f) << 2).toString(16).padStart(2, "0")} `;
      const f = b[l4 + 13]!;
      const names: Array<[number, string]> = [
        [0x80, "CWR"],
        [0x40, "ECE"],
        [0x20, "URG"],
        [0x10, "ACK"],
        [0x08, "PSH"],
        [0x04, "RST"],
        [0x02, "SYN"],
        [0x01, "FIN"],
      ];
      for (const [bit, n] of names) if (f & bit) s += `${n} `;
      s += `URGP=${rd16(l4 + 18)} `;
      const doff = (b[l4 + 12]! >> 4) * 4;
      if (flags.tcpOpt && doff > 20) {
        let opt = "";
        for (let i = l4 + 20; i < l4 + doff && i < b.length; i++) opt += hex2(b[i]!);
        s += `OPT (${opt}) `;
      }
      break;
    }
    case 17:
    case 136: {
      s += proto === 17 ? "PROTO=UDP " : "PROTO=UDPLITE ";
      if (fragOff) break;
      if (b.length < l4 + 8) {
        s += `INCOMPLETE [${b.length - l4} bytes] `;
        break;
      }
      s += `SPT=${rd16(l4)} DPT=${rd16(l4 + 2)} LEN=${rd16(l4 + 4)} `;
      break;
    }
    case 1: {
      s += "PROTO=ICMP ";
      if (fragOff) break;
      if (b.length < l4 + 4) {
        s += `INCOMPLETE [${b.length - l4} bytes] `;
        break;
      }
      const type = b[l4]!;
      const code = b[l4 + 1]!;
      s += `TYPE=${type} CODE=${code} `;
      switch (type) {
        case 0:
        case 8:
          if (b.length >= l4 + 8) s += `ID=${rd16(l4 + 4)} SEQ=${rd16(l4 + 6)} `;
          break;
        case 12:
          s += `PARAMETER=${b[l4 + 4]} `;
          break;
        case 5:
        case 3:
        case 4:
        case 11:
          if (type === 5) s += `GATEWAY=${formatIpv4Addr(rd32(l4 + 4))} `;
          if (off === 0) s += `[${dumpIpv4(b, l4 + 8, flags)}] `;
          if (type === 3 && code === 4) s += `MTU=${rd16(l4 + 6)} `;
          break;
      }
      break;
    }
    default:
      s += `PROTO=${proto} `;
  }
  return s;
}
