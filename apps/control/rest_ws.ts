/**
 * WebSocket (RFC 6455) by hand over node:net sockets: the handshake's
 * accept key, frame encoding (server frames unmasked) and a frame reader
 * for client frames (masked, possibly fragmented), enough for the
 * `v5.channel.k8s.io` streams of `pods/exec`.
 */
import { createHash } from "node:crypto";
import type { Duplex } from "node:stream";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** The `Sec-WebSocket-Accept` value for a client's `Sec-WebSocket-Key`. */
export function acceptKey(key: string): string {
  return createHash("sha1").update(key + GUID).digest("base64");
}

/** Frame opcodes. */
export const OP = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

/** One frame as bytes: FIN set, unmasked unless `mask` is given (clients mask). */
export function encodeFrame(opcode: number, payload: Uint8Array, mask?: Uint8Array): Buffer {
  const len = payload.length;
  const headerLen = 2 + (len < 126 ? 0 : len < 65536 ? 2 : 8) + (mask ? 4 : 0);
  const out = Buffer.alloc(headerLen + len);
  out[0] = 0x80 | opcode;
  let o = 2;
  if (len < 126) out[1] = len;
  else if (len < 65536) {
    out[1] = 126;
    out.writeUInt16BE(len, 2);
    o = 4;
  } else {
    out[1] = 127;
    out.writeBigUInt64BE(BigInt(len), 2);
    o = 10;
  }
  if (mask) {
    out[1] = out[1]! | 0x80;
    out.set(mask, o);
    o += 4;
    for (let i = 0; i < len; i++) out[o + i] = payload[i]! ^ mask[i % 4]!;
  } else out.set(payload, o);
  return out;
}

/** A whole message received: its opcode (text, binary, close, ping, pong) and payload. */
export interface WsMessage {
  opcode: number;
  data: Buffer;
}

/**
 * Reads frames from bytes as they come, joining fragments into messages.
 * Throws on a frame larger than `maxPayload`.
 */
export class FrameReader {
  #buf: Buffer = Buffer.alloc(0);
  #fragments: Buffer[] = [];
  #fragmentOp = 0;

  constructor(private readonly maxPayload = 16 << 20) {}

  /** Feeds bytes; returns the messages completed by them. */
  push(chunk: Buffer): WsMessage[] {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const out: WsMessage[] = [];
    for (;;) {
      const b = this.#buf;
      if (b.length < 2) break;
      const fin = (b[0]! & 0x80) !== 0;
      const opcode = b[0]! & 0x0f;
      const masked = (b[1]! & 0x80) !== 0;
      let len = b[1]! & 0x7f;
      let o = 2;
      if (len === 126) {
        if (b.length < 4) break;
        len = b.readUInt16BE(2);
        o = 4;
      } else if (len === 127) {
        if (b.length < 10) break;
        const big = b.readBigUInt64BE(2);
        if (big > BigInt(this.maxPayload)) throw new Error("frame too large");
        len = Number(big);
        o = 10;
      }
      if (len > this.maxPayload) throw new Error("frame too large");
      const maskAt = o;
      if (masked) o += 4;
      if (b.length < o + len) break;
      const payload = Buffer.from(b.subarray(o, o + len));
      if (masked) for (let i = 0; i < len; i++) payload[i] = payload[i]! ^ b[maskAt + (i % 4)]!;
      this.#buf = b.subarray(o + len);
      if (opcode >= 8) {
        out.push({ opcode, data: payload });
        continue;
      }
      if (opcode !== OP.continuation) this.#fragmentOp = opcode;
      this.#fragments.push(payload);
      if (fin) {
        out.push({ opcode: this.#fragmentOp, data: Buffer.concat(this.#fragments) });
        this.#fragments = [];
      }
    }
    return out;
  }
}

/** A server-side WebSocket connection on an upgraded socket. */
export class WsConnection {
  #closed = false;
  readonly #reader = new FrameReader();

  /** `onMessage` hears data messages; `onClose` once, when the peer closes or the socket ends. */
  constructor(
    readonly socket: Duplex,
    onMessage: (m: WsMessage) => void,
    onClose: () => void,
  ) {
    let closedOnce = false;
    const closed = (): void => {
      if (closedOnce) return;
      closedOnce = true;
      this.#closed = true;
      onClose();
    };
    socket.on("data", (chunk: Buffer) => {
      let messages: WsMessage[];
      try {
        messages = this.#reader.push(chunk);
      } catch {
        this.close(1009);
        closed();
        return;
      }
      for (const m of messages) {
        if (m.opcode === OP.ping) this.#send(OP.pong, m.data);
        else if (m.opcode === OP.close) {
          this.close(1000);
          closed();
        } else if (m.opcode === OP.pong) continue;
        else onMessage(m);
      }
    });
    socket.on("close", closed);
    socket.on("error", closed);
  }

  /** Whether the connection is closed (or closing). */
  get closed(): boolean {
    return this.#closed;
  }

  #send(opcode: number, payload: Uint8Array): void {
    if (this.socket.writable) this.socket.write(encodeFrame(opcode, payload));
  }

  /** Sends a binary message. */
  sendBinary(payload: Uint8Array): void {
    if (!this.#closed) this.#send(OP.binary, payload);
  }

  /** Sends a close frame with a code and ends the socket. */
  close(code = 1000): void {
    if (this.socket.writable) {
      const p = Buffer.alloc(2);
      p.writeUInt16BE(code, 0);
      this.socket.write(encodeFrame(OP.close, p));
      this.socket.end();
    }
    this.#closed = true;
  }
}
