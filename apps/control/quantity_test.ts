import test from "ava";
import { formatQuantity, parseQuantity, quantityMilli, quantityValue } from "./quantity.ts";

test("quantities take the API server's canonical form", (t) => {
  const canon = (s: string | number): string => formatQuantity(parseQuantity(s)!);
  t.is(canon("0.5"), "500m");
  t.is(canon("1000m"), "1");
  t.is(canon("1.5Gi"), "1536Mi");
  t.is(canon("1024Mi"), "1Gi");
  t.is(canon("128974848"), "128974848");
  t.is(canon("129e6"), "129e6");
  t.is(canon("1G"), "1G");
  t.is(canon(2), "2");
  t.is(canon("100Ki"), "100Ki");
  t.is(canon("0.1"), "100m");
});

test("values: cores in milli, bytes with binary and decimal suffixes", (t) => {
  t.is(quantityMilli(parseQuantity("250m")!), 250);
  t.is(quantityMilli(parseQuantity("1.5")!), 1500);
  t.is(quantityValue(parseQuantity("64Mi")!), 64 * 1024 * 1024);
  // Kubernetes has no "K" suffix (decimal kilo is "k").
  t.is(parseQuantity("1K"), undefined);
  t.is(quantityValue(parseQuantity("1k")!), 1000);
  t.is(quantityValue(parseQuantity("2G")!), 2e9);
  t.is(parseQuantity("lots"), undefined);
  t.is(parseQuantity("1Mb"), undefined);
});
