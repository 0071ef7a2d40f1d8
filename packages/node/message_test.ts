import test from "ava";
import { pack, unpack } from "msgpackr";
import { MessageChannel } from "node:worker_threads";
import { packOwn, postPacked } from "./message.ts";

test("a packed message owns its buffer, however large an earlier one was", (t) => {
  pack({ big: "x".repeat(1_000_000) });
  const bytes = packOwn({ small: 1 });
  t.is(bytes.buffer.byteLength, bytes.byteLength);
  t.deepEqual(unpack(bytes), { small: 1 });
});

test("a posted message arrives with just its bytes", async (t) => {
  const { port1, port2 } = new MessageChannel();
  pack({ big: "x".repeat(1_000_000) });
  const got = new Promise<Uint8Array>((resolve) => port2.once("message", resolve));
  postPacked(port1, { type: "reply", id: 7, ok: true, value: 42 });
  const bytes = await got;
  port1.close();
  t.deepEqual(unpack(bytes), { type: "reply", id: 7, ok: true, value: 42 });
  t.true(bytes.buffer.byteLength < 64, `${bytes.buffer.byteLength} bytes arrived`);
});
