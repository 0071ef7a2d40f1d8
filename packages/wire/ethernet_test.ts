import test from "ava";
import { formatMacAddr, parseMacAddr } from "./address.ts";
import { WireError } from "./error.ts";
import { buildEthernet, ETHERTYPE_ARP, EthernetFrame, parseEthernet } from "./ethernet.ts";

// The first 14 bytes of a real ARP request captured on docker0:
// 02:42:ac:11:00:02 asking the broadcast address.
const ARP_HEADER = Uint8Array.from([
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x42, 0xac, 0x11, 0x00, 0x02, 0x08, 0x06,
]);

test("ethernet header parses field by field", (t) => {
  const repr = parseEthernet(EthernetFrame.checked(ARP_HEADER));
  t.is(formatMacAddr(repr.dst), "ff:ff:ff:ff:ff:ff");
  t.is(formatMacAddr(repr.src), "02:42:ac:11:00:02");
  t.is(repr.ethertype, ETHERTYPE_ARP);
});

test("ethernet header is rebuilt byte for byte", (t) => {
  const repr = parseEthernet(EthernetFrame.checked(ARP_HEADER));
  t.deepEqual(buildEthernet(repr, new Uint8Array(0)), ARP_HEADER);
});

test("a frame shorter than its header is refused as truncated", (t) => {
  const err = t.throws(() => EthernetFrame.checked(ARP_HEADER.subarray(0, 13)), { instanceOf: WireError });
  t.is(err?.kind, "truncated");
});

test("mac text round-trips and rejects junk", (t) => {
  t.is(formatMacAddr(parseMacAddr("02:42:AC:11:00:02")!), "02:42:ac:11:00:02");
  t.is(parseMacAddr("02:42:ac:11:00"), undefined);
});
