import test from "ava";
import { SackScoreboard } from "./scoreboard.ts";

test("SACK blocks merge, clip to (SND.UNA, SND.MAX], and fall away as SND.UNA passes them", (t) => {
  const sb = new SackScoreboard();
  t.true(sb.update([[3000, 4000]], 1000, 10_000));
  t.true(sb.update([[5000, 6000], [4000, 4500]], 1000, 10_000));
  t.false(sb.update([[3000, 4000]], 1000, 10_000), "nothing new");
  t.true(sb.update([[500, 1500]], 1000, 10_000), "clipped at SND.UNA");
  t.is(sb.bytes, 500 + 1500 + 1000);
  t.is(sb.highest, 6000);
  t.is(sb.coveredUntil(3500), 4500);
  t.is(sb.coveredUntil(2000), undefined);
  t.is(sb.nextSacked(2000), 3000);
  t.is(sb.nextSacked(4500), 5000);
  sb.advance(4200);
  t.is(sb.bytes, 300 + 1000);
  t.is(sb.coveredUntil(4200), 4500);
  sb.advance(7000);
  t.is(sb.bytes, 0);
  t.is(sb.highest, undefined);
});

test("the scoreboard works across the sequence-number wrap", (t) => {
  const sb = new SackScoreboard();
  const una = 0xffff_fc00;
  sb.update([[0x0000_0100, 0x0000_0200], [0xffff_ff00, 0x0000_0010]], una, 0x0000_1000);
  t.is(sb.bytes, 0x100 + 0x110);
  t.is(sb.coveredUntil(0xffff_ff80), 0x10);
  t.is(sb.nextSacked(0x20), 0x100);
});
