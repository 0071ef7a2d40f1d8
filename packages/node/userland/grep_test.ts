import test from "ava";
import { runCommand, testHost } from "../_testing.ts";
import type { Host } from "../host.ts";
import { posixToJs } from "./grep.ts";

function run(argv: string[], options: { stdin?: string; busybox?: boolean; host?: Host } = {}) {
  const host = options.host ?? testHost();
  host.fs.writeFile("/tmp/g.txt", "a1\nb2\nfoo bar\nbaz\n");
  return runCommand(host, argv, { ...(options.stdin !== undefined ? { stdin: options.stdin } : {}), ...(options.busybox ? { busybox: true } : {}) });
}

test("basic regular expressions map onto JavaScript", (t) => {
  t.is(posixToJs("a\\(b\\)*c", false), "a(b)*c");
  t.is(posixToJs("a+b?(c)|d", false), "a\\+b\\?\\(c\\)\\|d");
  t.is(posixToJs("x\\{2,3\\}", false), "x{2,3}");
  t.is(posixToJs("^*a$", false), "^\\*a$");
  t.is(posixToJs("[[:digit:]]\\+", false), "[0-9]+");
  t.is(posixToJs("a(b)+|c{2}", true), "a(b)+|c{2}");
  t.is(posixToJs("\\<word\\>", true), "\\b(?=\\w)word\\b(?<=\\w)");
});

test("grep prints matching lines and exits 1 when none match", async (t) => {
  t.deepEqual(await run(["grep", "o", "/tmp/g.txt"]), { exit: 0, stdout: "foo bar\n", stderr: "" });
  t.deepEqual(await run(["grep", "zz", "/tmp/g.txt"]), { exit: 1, stdout: "", stderr: "" });
  t.is((await run(["grep", "ttl"], { stdin: "64 bytes: ttl=64\nno\n" })).stdout, "64 bytes: ttl=64\n");
});

test("-i -v -c -n -w -x -o -q -e -F -E", async (t) => {
  t.is((await run(["grep", "-i", "FOO", "/tmp/g.txt"])).stdout, "foo bar\n");
  t.is((await run(["grep", "-vc", "a", "/tmp/g.txt"])).stdout, "1\n");
  t.is((await run(["grep", "-n", "b", "/tmp/g.txt"])).stdout, "2:b2\n3:foo bar\n4:baz\n");
  t.is((await run(["grep", "-w", "ba", "/tmp/g.txt"])).stdout, "");
  t.is((await run(["grep", "-x", "baz", "/tmp/g.txt"])).stdout, "baz\n");
  t.is((await run(["grep", "-o", "[0-9]", "/tmp/g.txt"])).stdout, "1\n2\n");
  t.deepEqual(await run(["grep", "-q", "baz", "/tmp/g.txt"]), { exit: 0, stdout: "", stderr: "" });
  t.is((await run(["grep", "-e", "a1", "-e", "b2", "/tmp/g.txt"])).stdout, "a1\nb2\n");
  t.is((await run(["grep", "-F", "a.", "-"], { stdin: "a.\nab\n" })).stdout, "a.\n");
  t.is((await run(["grep", "-E", "^(a|b)[0-9]$", "/tmp/g.txt"])).stdout, "a1\nb2\n");
  t.is((await run(["grep", "^\\(a\\|b\\)[0-9]$", "/tmp/g.txt"])).stdout, "a1\nb2\n");
});

test("several files get name prefixes; -c counts per file; -l lists names (recorded from GNU grep 3.8)", async (t) => {
  const host = testHost();
  host.fs.writeFile("/tmp/f1", "a b\nc\nhello world foo\n");
  host.fs.writeFile("/tmp/f2", "x\n");
  t.is((await run(["grep", "-n", "o", "/tmp/f1", "/tmp/f2"], { host })).stdout, "/tmp/f1:3:hello world foo\n");
  t.is((await run(["grep", "-c", "o", "/tmp/f1", "/tmp/f2"], { host })).stdout, "/tmp/f1:1\n/tmp/f2:0\n");
  t.is((await run(["grep", "-l", "x", "/tmp/f1", "/tmp/f2"], { host })).stdout, "/tmp/f2\n");
});

test("context lines: -A, -B, -C with -- between groups (recorded from GNU grep 3.8)", async (t) => {
  t.is((await run(["grep", "-n", "-A1", "b", "/tmp/g.txt"])).stdout, "2:b2\n3:foo bar\n4:baz\n");
  t.is((await run(["grep", "-C1", "foo", "/tmp/g.txt", "/tmp/g.txt"])).stdout, "/tmp/g.txt-b2\n/tmp/g.txt:foo bar\n/tmp/g.txt-baz\n--\n/tmp/g.txt-b2\n/tmp/g.txt:foo bar\n/tmp/g.txt-baz\n");
});

test("errors: missing file, bad regex, no pattern — exit 2 in GNU and busybox words", async (t) => {
  t.deepEqual(await run(["grep", "x", "/nope"]), { exit: 2, stdout: "", stderr: "grep: /nope: No such file or directory\n" });
  t.deepEqual(await run(["grep", "a\\(", "/tmp/g.txt"]), { exit: 2, stdout: "", stderr: "grep: Unmatched ( or \\(\n" });
  t.is((await run(["grep", "a\\(", "/tmp/g.txt"], { busybox: true })).stderr, "grep: bad regex 'a\\('\n");
  t.deepEqual(await run(["grep"]), { exit: 2, stdout: "", stderr: "Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n" });
  t.is((await run(["grep", "x", "/tmp"])).stderr, "grep: /tmp: Is a directory\n");
});

test("grep -r walks directories", async (t) => {
  const host = testHost();
  host.fs.writeFile("/srv/a/x.conf", "listen 80\n");
  host.fs.writeFile("/srv/b.conf", "listen 443\n");
  t.is((await run(["grep", "-r", "listen", "/srv"], { host })).stdout, "/srv/a/x.conf:listen 80\n/srv/b.conf:listen 443\n");
});
