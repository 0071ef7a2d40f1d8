/**
 * Bytes on the wire. Each protocol has a view over bytes (`XxxPacket.checked`)
 * and a value type (`XxxRepr`) with `parseXxx` / `emitXxx`.
 *
 * ```ts
 * import { EthernetFrame, parseEthernet, formatMacAddr } from "@kemu/wire";
 * const eth = parseEthernet(EthernetFrame.checked(frameBytes));
 * console.log(formatMacAddr(eth.src));
 * ```
 * @module
 */
export * from "./address.ts";
export * from "./checksum.ts";
export * from "./error.ts";
export * from "./ethernet.ts";
export * from "./headroom.ts";
export * from "./arp.ts";
export * from "./ipv4.ts";
export * from "./icmp.ts";
export * from "./udp.ts";
export * from "./tcp.ts";
export * from "./vxlan.ts";
export * from "./dns.ts";
export * from "./pcap.ts";
