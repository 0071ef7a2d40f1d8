/**
 * Addresses as numbers: an IPv4 address is an unsigned 32-bit integer and a
 * MAC address a 48-bit integer, so that tables key on them without strings.
 */

/** An IPv4 address as an unsigned 32-bit integer (10.0.0.1 is 0x0a000001). */
export type Ipv4Addr = number;
/** A MAC address as a 48-bit integer (02:42:ac:11:00:02 is 0x0242ac110002). */
export type MacAddr = number;

/** The broadcast MAC ff:ff:ff:ff:ff:ff. */
export const MAC_BROADCAST: MacAddr = 0xffff_ffff_ffff;
/** The all-zero MAC, as ARP requests carry for the unknown target. */
export const MAC_ZERO: MacAddr = 0;

const IPV4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Parses dotted-quad text; returns undefined for anything else. */
export function parseIpv4Addr(text: string): Ipv4Addr | undefined {
  const m = IPV4_RE.exec(text);
  if (!m) return undefined;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) return undefined;
    n = n * 256 + octet;
  }
  return n;
}

/** Formats an address as dotted-quad text. */
export function formatIpv4Addr(addr: Ipv4Addr): string {
  return `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`;
}

/** The netmask of a prefix length: 24 gives 0xffffff00. */
export function prefixMask(len: number): number {
  return len === 0 ? 0 : (0xffff_ffff << (32 - len)) >>> 0;
}

/**
 * The directed broadcast address of `addr/len` (undefined for /31 and /32),
 * as netlink libraries fill in IFA_BROADCAST when adding an address.
 */
export function broadcastOf(addr: Ipv4Addr, len: number): Ipv4Addr | undefined {
  return len >= 31 ? undefined : (addr | (~prefixMask(len) >>> 0)) >>> 0;
}

/** An IPv4 prefix such as 10.244.0.0/16, the address already masked. */
export interface Ipv4Cidr {
  readonly addr: Ipv4Addr;
  readonly len: number;
}

/**
 * Parses `a.b.c.d/len` (or a bare address, taken as /32). With `mask` the
 * address is masked to the prefix, as iptables and `ip route` store it.
 */
export function parseCidr(text: string, options: { mask?: boolean } = {}): Ipv4Cidr | undefined {
  const slash = text.indexOf("/");
  const addr = parseIpv4Addr(slash < 0 ? text : text.slice(0, slash));
  if (addr === undefined) return undefined;
  let len = 32;
  if (slash >= 0) {
    const lenText = text.slice(slash + 1);
    if (!/^\d{1,2}$/.test(lenText)) return undefined;
    len = Number(lenText);
    if (len > 32) return undefined;
  }
  return { addr: options.mask ? (addr & prefixMask(len)) >>> 0 : addr, len };
}

/** Formats a prefix as `a.b.c.d/len`. */
export function formatCidr(cidr: Ipv4Cidr): string {
  return `${formatIpv4Addr(cidr.addr)}/${cidr.len}`;
}

/** True when `addr` lies inside `cidr`. */
export function cidrContains(cidr: Ipv4Cidr, addr: Ipv4Addr): boolean {
  const mask = prefixMask(cidr.len);
  return ((addr & mask) >>> 0) === ((cidr.addr & mask) >>> 0);
}

const MAC_RE = /^([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2})$/i;

/** Parses `aa:bb:cc:dd:ee:ff`; returns undefined for anything else. */
export function parseMacAddr(text: string): MacAddr | undefined {
  const m = MAC_RE.exec(text);
  if (!m) return undefined;
  let n = 0;
  for (let i = 1; i <= 6; i++) n = n * 256 + parseInt(m[i]!, 16);
  return n;
}

/** Formats a MAC in lower-case colon form, as iproute2 prints it. */
export function formatMacAddr(mac: MacAddr): string {
  const parts: string[] = [];
  for (let shift = 40; shift >= 0; shift -= 8) {
    parts.push((Math.floor(mac / 2 ** shift) % 256).toString(16).padStart(2, "0"));
  }
  return parts.join(":");
}

/** True for a group (multicast or broadcast) MAC: the low bit of the first octet. */
export function isMulticastMac(mac: MacAddr): boolean {
  return Math.floor(mac / 2 ** 40) % 2 === 1;
}

/** Reads a 48-bit MAC at `offset`. */
export function readMac(buf: Uint8Array, offset: number): MacAddr {
  return (
    ((buf[offset]! << 8) | buf[offset + 1]!) * 0x1_0000_0000 +
    (((buf[offset + 2]! << 24) | (buf[offset + 3]! << 16) | (buf[offset + 4]! << 8) | buf[offset + 5]!) >>> 0)
  );
}

/** Writes a 48-bit MAC at `offset`. */
export function writeMac(buf: Uint8Array, offset: number, mac: MacAddr): void {
  const hi = Math.floor(mac / 0x1_0000_0000);
  const lo = mac >>> 0;
  buf[offset] = hi >>> 8;
  buf[offset + 1] = hi & 255;
  buf[offset + 2] = lo >>> 24;
  buf[offset + 3] = (lo >>> 16) & 255;
  buf[offset + 4] = (lo >>> 8) & 255;
  buf[offset + 5] = lo & 255;
}

/** Reads a big-endian IPv4 address at `offset`. */
export function readIpv4(buf: Uint8Array, offset: number): Ipv4Addr {
  return ((buf[offset]! << 24) | (buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!) >>> 0;
}

/** Writes a big-endian IPv4 address at `offset`. */
export function writeIpv4(buf: Uint8Array, offset: number, addr: Ipv4Addr): void {
  buf[offset] = addr >>> 24;
  buf[offset + 1] = (addr >>> 16) & 255;
  buf[offset + 2] = (addr >>> 8) & 255;
  buf[offset + 3] = addr & 255;
}

/** Reads a big-endian 16-bit field. */
export function readU16(buf: Uint8Array, offset: number): number {
  return (buf[offset]! << 8) | buf[offset + 1]!;
}

/** Writes a big-endian 16-bit field. */
export function writeU16(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = (value >>> 8) & 255;
  buf[offset + 1] = value & 255;
}

/** Reads a big-endian 32-bit field as an unsigned number. */
export function readU32(buf: Uint8Array, offset: number): number {
  return ((buf[offset]! << 24) | (buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!) >>> 0;
}

/** Writes a big-endian 32-bit field. */
export function writeU32(buf: Uint8Array, offset: number, value: number): void {
  writeIpv4(buf, offset, value >>> 0);
}
