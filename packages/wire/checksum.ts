/**
 * The Internet checksum (RFC 1071): the ones'-complement of the
 * ones'-complement sum of 16-bit words, used by IPv4, ICMP, UDP and TCP.
 */

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Adds the bytes `buf[start..end)` as big-endian 16-bit words to `sum` (not folded). */
export function sumWords(buf: Uint8Array, start: number, end: number, sum = 0): number {
  if (end - start < 64 || !LITTLE_ENDIAN) return sumBytes(buf, start, end, sum);
  // Long: add the bytes up to a 4-byte boundary one by one, the rest as native 32-bit words.
  const pre = (4 - ((buf.byteOffset + start) & 3)) & 3;
  if (pre !== 0) sum = sumBytes(buf, start, start + pre, sum);
  const from = start + pre;
  const n = (Math.min(end, buf.length) - from) >>> 2;
  const words = new Uint32Array(buf.buffer, buf.byteOffset + from, n);
  let s = 0;
  for (let k = 0; k < n; k++) s += words[k]!;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  // The native words' ones'-complement sum, folded, is the sum of little-endian
  // 16-bit words; swapping its bytes gives the big-endian sum (RFC 1071, 2(B)).
  // After an odd prefix the words straddle the big-endian pairs: swap back.
  if ((pre & 1) === 0) s = ((s & 0xff) << 8) | (s >>> 8);
  const tail = sumBytes(buf, from + n * 4, end, 0);
  // The tail starts on the same parity as `from`; an odd start pairs its first byte low.
  if ((pre & 1) === 0) return sum + s + tail;
  return sum + s + swapFolded(tail);
}

/** Folds `s` to 16 bits and swaps its bytes: a sum taken one byte out of step, put back in step. */
function swapFolded(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ((s & 0xff) << 8) | (s >>> 8);
}

function sumBytes(buf: Uint8Array, start: number, end: number, sum: number): number {
  let i = start;
  for (; i + 3 < end; i += 4) sum += ((buf[i]! << 8) | buf[i + 1]!) + ((buf[i + 2]! << 8) | buf[i + 3]!);
  for (; i + 1 < end; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (i < end) sum += buf[i]! << 8;
  return sum;
}

/** Folds a running sum to 16 bits and complements it. */
export function finishChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** The checksum of `buf[start..end)`. Over bytes that include a correct checksum it is 0. */
export function checksum(buf: Uint8Array, start = 0, end = buf.length): number {
  return finishChecksum(sumWords(buf, start, end));
}

/** The partial sum of the IPv4 pseudo-header that UDP and TCP checksums cover. */
export function pseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}

/**
 * Incrementally updates a checksum after a 16-bit field changed from `oldWord`
 * to `newWord` (RFC 1624, eqn. 3), as NAT and TTL decrement do.
 */
export function updateChecksum16(check: number, oldWord: number, newWord: number): number {
  let sum = (~check & 0xffff) + (~oldWord & 0xffff) + newWord;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** As updateChecksum16, for a 32-bit field such as an IPv4 address. */
export function updateChecksum32(check: number, oldValue: number, newValue: number): number {
  check = updateChecksum16(check, oldValue >>> 16, newValue >>> 16);
  return updateChecksum16(check, oldValue & 0xffff, newValue & 0xffff);
}
