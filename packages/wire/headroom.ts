/**
 * Headroom, as the kernel's sk_buff has it: a packet built here gets free
 * bytes in front of it, so that each layer below writes its header in
 * place instead of copying the packet into a bigger buffer. The bytes in
 * front of a view are used only when they are known to be free: a buffer
 * records, for each packet cut from it, how many bytes before its start are
 * free; a second prepend to the same packet, or a prepend to a view that
 * starts elsewhere (a received frame's payload), copies, as before.
 *
 * Small packets are cut from shared slabs (fresh zeroed memory, never
 * reused), which costs a tenth of a buffer of their own.
 *
 * ```ts
 * const udp = withHeadroom(8 + data.length);   // 8 + data, free bytes before
 * const ip = prepend(udp, 20);                  // the same memory, 20 bytes earlier
 * ```
 */

/** Free bytes in front of a new packet: Ethernet + IPv4 + UDP + VXLAN twice over, rounded up. */
export const HEADROOM = 128;

/**
 * For each buffer packets are cut from: where a packet starts → how many
 * free bytes are in front of it. A view may grow into them only if it starts
 * exactly there, and then the room moves to the new start.
 */
const rooms = new WeakMap<ArrayBufferLike, Map<number, number>>();

const SLAB = 16 * 1024;
let slab = new ArrayBuffer(SLAB);
let slabRooms = new Map<number, number>();
rooms.set(slab, slabRooms);
let used = 0;

/** A zeroed view of `len` bytes with HEADROOM free bytes in front of it. */
export function withHeadroom(len: number): Uint8Array {
  const size = (HEADROOM + len + 7) & ~7;
  if (size > SLAB / 4) {
    const own = new ArrayBuffer(size);
    rooms.set(own, new Map([[HEADROOM, HEADROOM]]));
    return new Uint8Array(own, HEADROOM, len);
  }
  if (used + size > SLAB) {
    slab = new ArrayBuffer(SLAB);
    slabRooms = new Map();
    rooms.set(slab, slabRooms);
    used = 0;
  }
  const at = used + HEADROOM;
  used += size;
  slabRooms.set(at, HEADROOM);
  return new Uint8Array(slab, at, len);
}

/**
 * `payload` with `header` bytes in front of it for the caller to fill: in
 * place when there is that much free room right in front of it (the room
 * then belongs to the new view), otherwise a copy with headroom of its own.
 */
export function prepend(payload: Uint8Array, header: number): Uint8Array {
  const at = payload.byteOffset;
  const table = payload.buffer === slab ? slabRooms : rooms.get(payload.buffer);
  const room = table?.get(at);
  if (room !== undefined && room >= header) {
    table!.delete(at);
    table!.set(at - header, room - header);
    return new Uint8Array(payload.buffer, at - header, header + payload.length);
  }
  const out = withHeadroom(header + payload.length);
  out.set(payload, header);
  return out;
}
