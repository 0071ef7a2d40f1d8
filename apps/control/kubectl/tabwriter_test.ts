import test from "ava";
import { DESCRIBE_TABS, TABLE_TABS, TabBuffer, alignTabs } from "./_tabwriter.ts";

test("columns are as wide as their widest cell plus three spaces, at least six", (t) => {
  t.is(alignTabs("a\tb\tc\naaa\tbbbbb\tc\n", TABLE_TABS), "a     b       c\naaa   bbbbb   c\n");
});

test("the cell after the last tab is not padded", (t) => {
  t.is(alignTabs("NAME\tAGE\nx\t5s\n", TABLE_TABS), "NAME   AGE\nx      5s\n");
});

test("a line without tabs ends the column block, as Go's tabwriter does", (t) => {
  const text = "Name:\tnginx\nService Account:\tdefault\nIPs:\n  IP:\t10.0.0.1\n";
  t.is(alignTabs(text, DESCRIBE_TABS), "Name:             nginx\nService Account:  default\nIPs:\n  IP:  10.0.0.1\n");
});

test("empty cells still take a column", (t) => {
  t.is(alignTabs("a\t\tb\naa\t\tc\n", DESCRIBE_TABS), "a     b\naa    c\n");
});

test("a TabBuffer aligns what was written before each flush on its own", (t) => {
  const w = new TabBuffer(DESCRIBE_TABS);
  w.write("Long key:\tv\n");
  w.flush();
  w.write("K:\tv\n");
  t.is(w.toString(), "Long key:  v\nK:  v\n");
});
