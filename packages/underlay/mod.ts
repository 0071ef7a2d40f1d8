/**
 * Frames between hosts. Each host (worker thread) owns one inbound ring in
 * shared memory per segment it is on; senders write straight into the
 * receiver's ring, switching by learned MAC.
 *
 * ```ts
 * import { createSegment, SegmentPort } from "@kemu/underlay";
 * const seg = createSegment("underlay", 3);      // in the main thread
 * const port = new SegmentPort(seg, 0);          // in member 0's worker
 * port.send(frameBytes, clock.now());
 * for (const a of port.drain()) deliver(a.frame, a.arriveAt);
 * ```
 * @module
 */
export * from "./ring.ts";
export * from "./segment.ts";
