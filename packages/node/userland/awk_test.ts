import test from "ava";
import { runCommand, testHost } from "../_testing.ts";

function awk(args: string[], stdin: string, busybox = false) {
  return runCommand(testHost(), ["awk", ...args], { stdin, ...(busybox ? { busybox: true } : {}) });
}

test("print fields, NF and NR", async (t) => {
  t.is((await awk(["{print $1}"], "a b c\nd e\n")).stdout, "a\nd\n");
  t.is((await awk(["{print $NF, NF, NR}"], "a b c\nd e\n")).stdout, "c 3 1\ne 2 2\n");
  t.is((await awk(["{print $(NF-1)}"], "a b c\n")).stdout, "b\n");
  t.is((await awk(["{print}"], "  keep  spacing \n")).stdout, "  keep  spacing \n");
});

test("-F and OFS, field assignment rebuilds $0", async (t) => {
  t.is((await awk(["-F:", "{print $1, $3}"], "root:x:0:0\n")).stdout, "root 0\n");
  t.is((await awk(["-F", ":", "-v", "OFS=-", "{$2=\"y\"; print}"], "a:b:c\n")).stdout, "a-y-c\n");
  t.is((await awk(["BEGIN{FS=\",\"} {print $2}"], "1,2,3\n")).stdout, "2\n");
});

test("patterns: /regex/, expressions, BEGIN/END, ranges", async (t) => {
  const input = "eth0 up\nlo up\neth1 down\n";
  t.is((await awk(["/^eth/ {print $1}"], input)).stdout, "eth0\neth1\n");
  t.is((await awk(["$2 == \"down\""], input)).stdout, "eth1 down\n");
  t.is((await awk(["NR==2"], input)).stdout, "lo up\n");
  t.is((await awk(["BEGIN {print \"start\"} END {print NR}"], input)).stdout, "start\n3\n");
  t.is((await awk(["/lo/,/eth1/ {print $1}"], input)).stdout, "lo\neth1\n");
  t.is((await awk(["$1 ~ /[0-9]$/ && $2 !~ /down/"], input)).stdout, "eth0 up\n");
});

test("sums, arrays, for-in, if/else, printf and string functions", async (t) => {
  t.is((await awk(["{s += $1} END {print s, s/NR}"], "1\n2\n3\n4\n")).stdout, "10 2.5\n");
  t.is((await awk(["{c[$1]++} END {for (k in c) print k, c[k]}"], "a\nb\na\n")).stdout, "a 2\nb 1\n");
  t.is((await awk(["{if ($1 > 5) print \"big\"; else print \"small\"}"], "3\n10\n")).stdout, "small\nbig\n");
  t.is((await awk(["{printf \"%-5s|%3d\\n\", $1, $2}"], "ab 7\n")).stdout, "ab   |  7\n");
  t.is((await awk(["{print length($1), substr($1, 2, 3), index($1, \"c\"), toupper($1)}"], "abcdef\n")).stdout, "6 bcd 3 ABCDEF\n");
  t.is((await awk(["{n = split($1, p, \".\"); print n, p[4]}"], "10.0.0.7\n")).stdout, "4 7\n");
  t.is((await awk(["{gsub(/o/, \"0\"); sub(/h/, \"H\"); print}"], "hello world\n")).stdout, "Hell0 w0rld\n");
  t.is((await awk(["{x = $1 $2; print x + 1}"], "1 2\n")).stdout, "13\n");
});

test("numbers compare as numbers when fields look numeric", async (t) => {
  t.is((await awk(["$1 > 9"], "10\n9\n100\nabc\n")).stdout, "10\n100\nabc\n");
});

test("next and exit", async (t) => {
  t.is((await awk(["/skip/ {next} {print}"], "a\nskip\nb\n")).stdout, "a\nb\n");
  const r = await awk(["{print; exit 3} END {print \"end\"}"], "a\nb\n");
  t.is(r.stdout, "a\nend\n");
  t.is(r.exit, 3);
});

test("syntax errors are reported and exit 2", async (t) => {
  const r = await awk(["{print $1"], "");
  t.is(r.exit, 2);
  t.is(r.stderr, "awk: line 2: missing } near end of file\n");
  t.is((await awk(["BEGIN { x"], "", true)).stderr, "awk: cmd. line:1: Unexpected token\n");
});
