import { SERVICES } from "./_services.ts";

/**
 * Helpers that reproduce libxtables' parsing and printing: numbers with C's
 * base-0 rules, addresses with autocompletion, ports and service names,
 * quoting of saved strings.
 */

/**
 * An iptables error: the message and the exit status iptables would use
 * (1 OTHER_PROBLEM, 2 PARAMETER_PROBLEM, 3 VERSION_PROBLEM, 4 RESOURCE_PROBLEM).
 * `style` says how the tool prints it: "param" as `iptables v…: msg` plus the
 * try-help line, "plain" as the bare message plus try-help (`Bad argument`),
 * "nft" as `iptables: msg.` (the nft_strerror wordings), "raw" as is.
 */
export class XtablesError extends Error {
  override readonly name = "XtablesError";
  constructor(
    message: string,
    readonly status: 0 | 1 | 2 | 3 | 4 = 2,
    readonly style: "param" | "plain" | "nft" | "raw" = "param",
  ) {
    super(message);
  }
}

/** A PARAMETER_PROBLEM (exit 2) in xtables_error's words. */
export function paramError(message: string): XtablesError {
  return new XtablesError(message, 2, "param");
}

/**
 * C strtoul with base 0 (decimal, 0x hex, leading-0 octal), the whole string,
 * within [min, max]; undefined otherwise (xtables_strtoui).
 */
export function strtoui(text: string, min = 0, max = 0xffffffff, base = 0): number | undefined {
  // The common case, a short decimal without a leading zero, without regular expressions.
  if (base === 0 || base === 10) {
    const d = plainDecimal(text, 0, text.length);
    if (d >= 0) return d < min || d > max ? undefined : d;
  }
  const t = text.trim() === text ? text : "";
  if (t === "") return undefined;
  let n: number;
  if (base === 0) {
    if (/^0[xX][0-9a-fA-F]+$/.test(t)) n = parseInt(t.slice(2), 16);
    else if (/^0[0-7]*$/.test(t)) n = parseInt(t, 8);
    else if (/^[1-9][0-9]*$/.test(t)) n = Number(t);
    else return undefined;
  } else if (base === 10) {
    if (!/^[0-9]+$/.test(t)) return undefined;
    n = Number(t);
  } else {
    if (!/^[0-9a-fA-F]+$/.test(t)) return undefined;
    n = parseInt(t, base);
  }
  if (!Number.isFinite(n) || n < min || n > max) return undefined;
  return n;
}

/**
 * The value of `text[from, to)` when it is 1 to 9 decimal digits without a
 * leading zero (or a lone "0"), which every base but 16 reads the same way;
 * -1 for anything else.
 */
function plainDecimal(text: string, from: number, to: number): number {
  const len = to - from;
  if (len < 1 || len > 9) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9 || (c === 0 && i === from && len > 1)) return -1;
    n = n * 10 + c;
  }
  return n;
}

/** Parses a dotted address the way xtables does: missing trailing parts are 0 ("10" is 10.0.0.0). */
export function numericToIpaddr(text: string, isMask = false): number | undefined {
  // Plain dotted decimal (the common case) without splitting; anything else takes the general way.
  let addr = 0;
  let parts = 0;
  let from = 0;
  for (let i = 0; i <= text.length; i++) {
    if (i < text.length && text.charCodeAt(i) !== 46) continue;
    const v = plainDecimal(text, from, i);
    if (v < 0 || v > 255 || ++parts > 4) {
      parts = -1;
      break;
    }
    addr = addr * 256 + v;
    from = i + 1;
  }
  if (parts === 4) return addr;
  if (parts > 0 && !isMask) return addr * 256 ** (4 - parts);
  return numericToIpaddrSlow(text, isMask);
}

function numericToIpaddrSlow(text: string, isMask: boolean): number | undefined {
  const parts = text.split(".");
  if (parts.length > 4 || parts.length === 0) return undefined;
  if (isMask && parts.length !== 4) return undefined;
  let addr = 0;
  for (let i = 0; i < 4; i++) {
    const part = parts[i];
    let byte = 0;
    if (part !== undefined) {
      const v = strtoui(part, 0, 255);
      if (v === undefined) return undefined;
      byte = v;
    }
    addr = addr * 256 + byte;
  }
  return addr;
}

/** The mask of a prefix length. */
export function maskOf(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

/** The prefix length of a contiguous mask, or -1. */
export function maskLen(mask: number): number {
  if (mask === 0xffffffff) return 32;
  for (let len = 0; len <= 32; len++) if (maskOf(len) === mask >>> 0) return len;
  return -1;
}

/** Formats an address as dotted quad. */
export function ntoa(addr: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`;
}

/** Resolves a host name to addresses (the tool passes /etc/hosts); undefined when unknown. */
export type HostResolver = (name: string) => number[] | undefined;

/**
 * `-s`/`-d` argument: one or more comma-separated `host[/mask]`, each masked
 * (xtables_ipparse_multiple). Throws `host/network `x' not found`.
 */
export function parseAddressList(text: string, resolve?: HostResolver): Array<{ addr: number; mask: number }> {
  const out: Array<{ addr: number; mask: number }> = [];
  for (const item of text.split(",")) {
    const slash = item.indexOf("/");
    const hostPart = slash < 0 ? item : item.slice(0, slash);
    let mask = 0xffffffff;
    if (slash >= 0) {
      const m = item.slice(slash + 1);
      if (m.includes(".")) {
        const dotted = numericToIpaddr(m, true);
        if (dotted === undefined) throw paramError(`host/network \`${m}' not found`);
        mask = dotted;
      } else {
        const bits = strtoui(m, 0, 32, 10);
        if (bits === undefined) throw paramError(`invalid mask \`${m}' specified`);
        mask = maskOf(bits);
      }
    }
    let addrs: number[];
    const numeric = hostPart === "" ? undefined : numericToIpaddr(hostPart);
    if (numeric !== undefined) addrs = [numeric];
    else {
      const resolved = hostPart === "" ? undefined : resolve?.(hostPart);
      if (resolved === undefined || resolved.length === 0) throw paramError(`host/network \`${hostPart}' not found`);
      addrs = resolved;
    }
    for (const a of addrs) {
      const addr = (a & mask) >>> 0;
      if (!out.some((o) => o.addr === addr && o.mask === mask)) out.push({ addr, mask });
    }
  }
  return out;
}

/** The service name of a port for a protocol (getservbyport), or undefined. */
export function portToService(port: number, proto: "tcp" | "udp" = "tcp"): string | undefined {
  for (const e of SERVICES) {
    if (e[0] !== port) continue;
    return proto === "tcp" ? e[1] : e.length === 3 ? e[2] : e[1];
  }
  return undefined;
}

/** The port of a service name for a protocol (getservbyname; any protocol when undefined). */
export function serviceToPort(name: string, proto?: "tcp" | "udp"): number | undefined {
  for (const e of SERVICES) {
    const tcp = e[1];
    const udp = e.length === 3 ? e[2] : e[1];
    if ((proto !== "udp" && tcp === name) || (proto !== "tcp" && udp === name)) return e[0];
  }
  return undefined;
}

/** xtables_parse_port: a number or a service name, else `invalid port/service `x' specified`. */
export function parsePort(text: string, proto: "tcp" | "udp" = "tcp"): number {
  const n = strtoui(text, 0, 65535);
  if (n !== undefined) return n;
  const s = serviceToPort(text, proto);
  if (s !== undefined) return s;
  throw paramError(`invalid port/service \`${text}' specified`);
}

/** `N`, `N:M`, `:M`, `N:` as tcp/udp take them. */
export function parsePortRange(text: string, proto: "tcp" | "udp" = "tcp"): [number, number] {
  const colon = text.indexOf(":");
  if (colon < 0) {
    const p = parsePort(text, proto);
    return [p, p];
  }
  const lo = colon === 0 ? 0 : parsePort(text.slice(0, colon), proto);
  const hiText = text.slice(colon + 1);
  const hi = hiText === "" ? 0xffff : parsePort(hiText, proto);
  if (lo > hi) throw paramError("invalid portrange (min > max)");
  return [lo, hi];
}

/** xtables_save_string: bare when only [_-0-9a-zA-Z], else double-quoted with \", \\ and \' escaped. */
export function saveString(value: string): string {
  if (/^[_\-0-9a-zA-Z]+$/.test(value)) return ` ${value}`;
  return ` "${value.replace(/["\\']/g, (c) => `\\${c}`)}"`;
}

/** printf("%-Ns", s). */
export function padEnd(s: string, n: number): string {
  return s.length >= n ? s : s + " ".repeat(n - s.length);
}

/** printf("%Ns", s). */
export function padStart(s: string, n: number): string {
  return s.length >= n ? s : " ".repeat(n - s.length) + s;
}

/** Hex without padding, as %x. */
export function hex(n: number): string {
  return (n >>> 0).toString(16);
}

/** Case-insensitive prefix comparison as strncasecmp(name, arg, strlen(arg)) == 0. */
export function prefixMatch(name: string, arg: string): boolean {
  return arg.length <= name.length && name.slice(0, arg.length).toLowerCase() === arg.toLowerCase();
}
