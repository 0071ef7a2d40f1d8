/**
 * Messages between the main thread and host workers: msgpackr bytes, posted
 * in a buffer of their own and transferred, not copied. msgpackr packs into
 * one long-lived buffer (grown to the largest message yet) and returns a
 * view of it; posting that view would clone the whole buffer with it, so a
 * ten-byte reply after a megabyte report would carry the megabyte too.
 */
import type { MessagePort, Worker } from "node:worker_threads";
import { pack } from "msgpackr";

/** Posts `value` msgpackr-encoded to `port`, moving (not copying) its bytes. */
export function postPacked(port: MessagePort | Worker, value: unknown): void {
  const bytes = packOwn(value);
  port.postMessage(bytes, [bytes.buffer as ArrayBuffer]);
}

/** `value` msgpackr-encoded, in an ArrayBuffer that holds just these bytes. */
export function packOwn(value: unknown): Uint8Array {
  return new Uint8Array(pack(value));
}
