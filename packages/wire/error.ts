/** Why a parser refused its input. */
export type WireErrorKind = "truncated" | "malformed" | "checksum" | "unsupported";

/**
 * The one error a wire parser throws: the protocol whose bytes were refused
 * and why. A kernel path catches it, drops the frame and counts the drop.
 */
export class WireError extends Error {
  override readonly name = "WireError";
  constructor(
    readonly protocol: string,
    readonly kind: WireErrorKind,
    message: string,
  ) {
    super(`${protocol}: ${message}`);
  }
}

/** Throws a truncated-input WireError unless `buf` holds at least `need` bytes. */
export function needBytes(protocol: string, buf: Uint8Array, need: number): void {
  if (buf.length < need) {
    throw new WireError(protocol, "truncated", `need ${need} bytes, have ${buf.length}`);
  }
}
