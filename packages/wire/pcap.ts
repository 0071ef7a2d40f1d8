/**
 * Classic libpcap capture files, as `tcpdump -w` writes and Wireshark reads:
 * a 24-byte global header, then a 16-byte record header before each frame.
 */
import { WireError } from "./error.ts";

/** Link type of Ethernet frames. */
export const LINKTYPE_ETHERNET = 1;
/** The magic number of microsecond-resolution pcap files. */
export const PCAP_MAGIC = 0xa1b2c3d4;
/** The magic number of nanosecond-resolution pcap files. */
export const PCAP_MAGIC_NANO = 0xa1b23c4d;
/** Default snapshot length, as tcpdump uses since 4.99. */
export const PCAP_DEFAULT_SNAPLEN = 262144;

const GLOBAL_HEADER_LEN = 24;
const RECORD_HEADER_LEN = 16;

/**
 * Accumulates frames into a little-endian microsecond pcap file in memory.
 * Appending is amortised O(1): the buffer doubles when full.
 */
export class PcapWriter {
  /** The snapshot length: frames longer than this are cut, keeping their real length. */
  readonly snaplen: number;
  /** The link type written in the global header. */
  readonly linktype: number;
  private buffer: Uint8Array;
  private view: DataView;
  private length = GLOBAL_HEADER_LEN;
  private frames = 0;

  /** Starts an empty capture; `snaplen` defaults to 262144 and `linktype` to Ethernet. */
  constructor(options: { snaplen?: number; linktype?: number } = {}) {
    this.snaplen = options.snaplen ?? PCAP_DEFAULT_SNAPLEN;
    this.linktype = options.linktype ?? LINKTYPE_ETHERNET;
    this.buffer = new Uint8Array(4096);
    this.view = new DataView(this.buffer.buffer);
    this.view.setUint32(0, PCAP_MAGIC, true);
    this.view.setUint16(4, 2, true);
    this.view.setUint16(6, 4, true);
    this.view.setInt32(8, 0, true); // thiszone
    this.view.setUint32(12, 0, true); // sigfigs
    this.view.setUint32(16, this.snaplen, true);
    this.view.setUint32(20, this.linktype, true);
  }

  /** The number of frames added so far. */
  get count(): number {
    return this.frames;
  }

  /**
   * Appends `frame` captured at `timestampMs` (milliseconds since the emulated
   * epoch, fractional allowed; rounded to the nearest microsecond).
   */
  add(timestampMs: number, frame: Uint8Array): void {
    if (!Number.isFinite(timestampMs) || timestampMs < 0) throw new RangeError(`pcap: bad timestamp ${timestampMs}`);
    const totalUs = Math.round(timestampMs * 1000);
    const sec = Math.floor(totalUs / 1_000_000);
    const usec = totalUs - sec * 1_000_000;
    const incl = Math.min(frame.length, this.snaplen);
    this.reserve(RECORD_HEADER_LEN + incl);
    const at = this.length;
    this.view.setUint32(at, sec, true);
    this.view.setUint32(at + 4, usec, true);
    this.view.setUint32(at + 8, incl, true);
    this.view.setUint32(at + 12, frame.length, true);
    this.buffer.set(incl === frame.length ? frame : frame.subarray(0, incl), at + RECORD_HEADER_LEN);
    this.length = at + RECORD_HEADER_LEN + incl;
    this.frames++;
  }

  /** The capture file so far (a copy). */
  toBytes(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
    this.view = new DataView(grown.buffer);
  }
}

/** One frame read from a capture file. */
export interface PcapPacket {
  /** Milliseconds since the epoch of the capture, with microsecond (or nanosecond) fraction. */
  timestampMs: number;
  /** The captured bytes (a view into the file). */
  data: Uint8Array;
  /** The frame's length on the wire, at least `data.length` unless the writer lied. */
  origLen: number;
}

/** A parsed capture file. */
export interface PcapFile {
  linktype: number;
  snaplen: number;
  packets: PcapPacket[];
}

/**
 * Reads a classic pcap file in either byte order, microsecond or nanosecond
 * resolution. Throws WireError "malformed" for an unknown magic number (a
 * pcapng file included) and "truncated" when a header or frame is cut short.
 */
export function readPcap(bytes: Uint8Array): PcapFile {
  if (bytes.length < GLOBAL_HEADER_LEN) {
    throw new WireError("pcap", "truncated", `need ${GLOBAL_HEADER_LEN} bytes for the global header, have ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let le: boolean;
  let nano: boolean;
  const magicLe = view.getUint32(0, true);
  const magicBe = view.getUint32(0, false);
  if (magicLe === PCAP_MAGIC || magicLe === PCAP_MAGIC_NANO) {
    le = true;
    nano = magicLe === PCAP_MAGIC_NANO;
  } else if (magicBe === PCAP_MAGIC || magicBe === PCAP_MAGIC_NANO) {
    le = false;
    nano = magicBe === PCAP_MAGIC_NANO;
  } else {
    throw new WireError("pcap", "malformed", `bad magic 0x${magicBe.toString(16).padStart(8, "0")}`);
  }
  const snaplen = view.getUint32(16, le);
  const linktype = view.getUint32(20, le);
  const packets: PcapPacket[] = [];
  let pos = GLOBAL_HEADER_LEN;
  while (pos < bytes.length) {
    if (pos + RECORD_HEADER_LEN > bytes.length) throw new WireError("pcap", "truncated", `record header at ${pos} cut short`);
    const sec = view.getUint32(pos, le);
    const frac = view.getUint32(pos + 4, le);
    const incl = view.getUint32(pos + 8, le);
    const origLen = view.getUint32(pos + 12, le);
    pos += RECORD_HEADER_LEN;
    if (pos + incl > bytes.length) throw new WireError("pcap", "truncated", `frame of ${incl} bytes at ${pos} cut short`);
    packets.push({ timestampMs: sec * 1000 + (nano ? frac / 1e6 : frac / 1e3), data: bytes.subarray(pos, pos + incl), origLen });
    pos += incl;
  }
  return { linktype, snaplen, packets };
}
