import test from "ava";
import { runCommand, testHost } from "../_testing.ts";
import type { Host } from "../host.ts";

function run(argv: string[], options: { stdin?: string; busybox?: boolean; host?: Host } = {}) {
  const host = options.host ?? testHost();
  host.fs.writeFile("/tmp/f1", "a b\nc\nhello world foo\n");
  host.fs.writeFile("/tmp/f2", "x\n");
  return runCommand(host, argv, { ...(options.stdin !== undefined ? { stdin: options.stdin } : {}), ...(options.busybox ? { busybox: true } : {}) });
}

test("wc column widths as GNU wc prints them (recorded from coreutils 9.1)", async (t) => {
  t.is((await run(["wc"], { stdin: "a b\nc\n" })).stdout, "      2       3       6\n");
  t.is((await run(["wc", "-l"], { stdin: "a b\nc\n" })).stdout, "2\n");
  t.is((await run(["wc", "-lw"], { stdin: "a b\nc\n" })).stdout, "      2       3\n");
  t.is((await run(["wc", "/tmp/f1"])).stdout, " 3  6 22 /tmp/f1\n");
  t.is((await run(["wc", "-l", "/tmp/f1"])).stdout, "3 /tmp/f1\n");
  t.is((await run(["wc", "/tmp/f1", "/tmp/f2"])).stdout, " 3  6 22 /tmp/f1\n 1  1  2 /tmp/f2\n 4  7 24 total\n");
  t.is((await run(["wc", "-c", "/tmp/f1", "/tmp/f2"])).stdout, "22 /tmp/f1\n 2 /tmp/f2\n24 total\n");
  t.is((await run(["wc", "-", "/tmp/f1"], { stdin: "a b\nc\n" })).stdout, "      2       3       6 -\n      3       6      22 /tmp/f1\n      5       9      28 total\n");
});

test("wc column widths as busybox wc prints them (recorded from busybox 1.35)", async (t) => {
  t.is((await run(["wc"], { stdin: "a b\nc\n", busybox: true })).stdout, "        2         3         6\n");
  t.is((await run(["wc", "-l"], { stdin: "a b\nc\n", busybox: true })).stdout, "2\n");
  t.is((await run(["wc", "-l", "/tmp/f1"], { busybox: true })).stdout, "3 /tmp/f1\n");
  t.is((await run(["wc", "-c", "/tmp/f1", "/tmp/f2"], { busybox: true })).stdout, "       22 /tmp/f1\n        2 /tmp/f2\n       24 total\n");
});

test("head and tail: -n N, -N, +N, -c, headers for several files", async (t) => {
  const nums = "1\n2\n3\n4\n5\n";
  t.is((await run(["head", "-n", "2"], { stdin: nums })).stdout, "1\n2\n");
  t.is((await run(["head", "-3"], { stdin: nums })).stdout, "1\n2\n3\n");
  t.is((await run(["head", "-n", "-2"], { stdin: nums })).stdout, "1\n2\n3\n");
  t.is((await run(["head", "-c", "3"], { stdin: "abcdef" })).stdout, "abc");
  t.is((await run(["tail", "-n", "2"], { stdin: nums })).stdout, "4\n5\n");
  t.is((await run(["tail", "-1"], { stdin: nums })).stdout, "5\n");
  t.is((await run(["tail", "-n", "+4"], { stdin: nums })).stdout, "4\n5\n");
  t.is((await run(["head", "-n1", "/tmp/f1", "/tmp/f2"])).stdout, "==> /tmp/f1 <==\na b\n\n==> /tmp/f2 <==\nx\n");
});

test("head and tail errors in each flavour's words", async (t) => {
  t.is((await run(["head", "/nope"])).stderr, "head: cannot open '/nope' for reading: No such file or directory\n");
  t.is((await run(["head", "/nope"], { busybox: true })).stderr, "head: /nope: No such file or directory\n");
  t.is((await run(["tail", "/nope"], { busybox: true })).stderr, "tail: can't open '/nope': No such file or directory\ntail: no files\n");
  t.is((await run(["head", "-n", "x", "/tmp/f1"])).stderr, "head: invalid number of lines: ‘x’\n");
  t.is((await run(["tail", "-n", "x", "/tmp/f1"], { busybox: true })).stderr, "tail: invalid number 'x'\n");
});

test("tail -f follows a file as it grows until killed", async (t) => {
  const host = testHost();
  host.fs.writeFile("/var/log/app", "first\n");
  const r = await runCommand(host, ["sh", "-c", "tail -f /var/log/app & sleep 1; echo second >> /var/log/app; sleep 2; kill $!"]);
  t.is(r.stdout, "first\nsecond\n");
});

test("sort: plain, -n, -r, -u, -k with -t", async (t) => {
  t.is((await run(["sort"], { stdin: "b\na\nC\n" })).stdout, "C\na\nb\n");
  t.is((await run(["sort", "-n"], { stdin: "10\n9\n100\n" })).stdout, "9\n10\n100\n");
  t.is((await run(["sort", "-rn"], { stdin: "10\n9\n100\n" })).stdout, "100\n10\n9\n");
  t.is((await run(["sort", "-u"], { stdin: "b\na\nb\n" })).stdout, "a\nb\n");
  t.is((await run(["sort", "-t:", "-k2", "-n"], { stdin: "x:3\ny:1\nz:2\n" })).stdout, "y:1\nz:2\nx:3\n");
  t.is((await run(["sort", "-k2,2"], { stdin: "a z 1\nb y 2\nc x 3\n" })).stdout, "c x 3\nb y 2\na z 1\n");
  t.is((await run(["sort", "/nope"])).stderr, "sort: cannot read: /nope: No such file or directory\n");
});

test("uniq -c counts adjacent duplicates (recorded from coreutils 9.1)", async (t) => {
  t.is((await run(["uniq", "-c"], { stdin: "3\n1\n1\n2\n" })).stdout, "      1 3\n      2 1\n      1 2\n");
  t.is((await run(["uniq"], { stdin: "a\na\nb\na\n" })).stdout, "a\nb\na\n");
  t.is((await run(["uniq", "-d"], { stdin: "a\na\nb\n" })).stdout, "a\n");
});

test("cut by fields and characters", async (t) => {
  t.is((await run(["cut", "-d:", "-f1,3"], { stdin: "root:x:0:0\n" })).stdout, "root:0\n");
  t.is((await run(["cut", "-d", " ", "-f2-"], { stdin: "a b c\nnodelim\n" })).stdout, "b c\nnodelim\n");
  t.is((await run(["cut", "-s", "-d", " ", "-f2"], { stdin: "a b\nnodelim\n" })).stdout, "b\n");
  t.is((await run(["cut", "-c", "1-3"], { stdin: "abcdef\n" })).stdout, "abc\n");
  t.is((await run(["cut"], {})).stderr, "cut: you must specify a list of bytes, characters, or fields\nTry 'cut --help' for more information.\n");
});

test("tr translates, deletes, squeezes, with ranges and classes", async (t) => {
  t.is((await run(["tr", "a-z", "A-Z"], { stdin: "hello\n" })).stdout, "HELLO\n");
  t.is((await run(["tr", "-d", "0-9"], { stdin: "a1b22c\n" })).stdout, "abc\n");
  t.is((await run(["tr", "-s", " "], { stdin: "a   b  c\n" })).stdout, "a b c\n");
  t.is((await run(["tr", "[:lower:]", "[:upper:]"], { stdin: "x\n" })).stdout, "X\n");
  t.is((await run(["tr", " ", "\\n"], { stdin: "a b" })).stdout, "a\nb");
  t.is((await run(["tr", "a"])).stderr, "tr: missing operand after ‘a’\nTwo strings must be given when translating.\nTry 'tr --help' for more information.\n");
});

test("tee copies to stdout and files; -a appends; /proc/sys takes the value", async (t) => {
  const host = testHost();
  host.fs.writeFile("/tmp/log", "old\n");
  const r = await run(["tee", "/tmp/out", "-a", "/tmp/log"], { stdin: "line\n", host });
  t.is(r.stdout, "line\n");
  t.is(host.fs.readFile("/tmp/out"), "line\n");
  t.is(host.fs.readFile("/tmp/log"), "old\nline\n");
  await run(["tee", "/proc/sys/net/ipv4/ip_forward"], { stdin: "1\n", host });
  t.is(host.kernel.root.sysctl.get("net.ipv4.ip_forward"), "1");
});

test("seq: last, first last, first inc last, -s, -w, decimals", async (t) => {
  t.is((await run(["seq", "3"])).stdout, "1\n2\n3\n");
  t.is((await run(["seq", "1", "2", "7"])).stdout, "1\n3\n5\n7\n");
  t.is((await run(["seq", "-s", ",", "3"])).stdout, "1,2,3\n");
  t.is((await run(["seq", "-w", "8", "10"])).stdout, "08\n09\n10\n");
  t.is((await run(["seq", "0", "0.5", "1"])).stdout, "0.0\n0.5\n1.0\n");
  t.is((await run(["seq", "3", "1"])).stdout, "");
  t.is((await run(["seq"])).stderr, "seq: missing operand\nTry 'seq --help' for more information.\n");
});
