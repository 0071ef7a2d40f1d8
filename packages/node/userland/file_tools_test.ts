import test from "ava";
import { runCommand, testHost } from "../_testing.ts";
import type { Host } from "../host.ts";

function run(argv: string[], options: { stdin?: string; busybox?: boolean; host?: Host } = {}) {
  const host = options.host ?? testHost();
  return runCommand(host, argv, { ...(options.stdin !== undefined ? { stdin: options.stdin } : {}), ...(options.busybox ? { busybox: true } : {}) });
}

test("cat prints files, stdin for - or no operand, and numbers with -n", async (t) => {
  const host = testHost();
  host.fs.writeFile("/tmp/a", "a b\nc\n");
  t.is((await run(["cat", "/tmp/a", "-", "/tmp/a"], { host, stdin: "in\n" })).stdout, "a b\nc\nin\na b\nc\n");
  t.is((await run(["cat"], { stdin: "no newline" })).stdout, "no newline");
  t.is((await run(["cat", "-n", "/tmp/a"], { host })).stdout, "     1\ta b\n     2\tc\n");
  t.is((await run(["cat", "/sys/class/net/lo/mtu"])).stdout, "65536\n");
});

test("cat errors in GNU and busybox words (recorded samples)", async (t) => {
  t.deepEqual(await run(["cat", "/nope"]), { exit: 1, stdout: "", stderr: "cat: /nope: No such file or directory\n" });
  t.is((await run(["cat", "/tmp"])).stderr, "cat: /tmp: Is a directory\n");
  t.is((await run(["cat", "/nope"], { busybox: true })).stderr, "cat: can't open '/nope': No such file or directory\n");
  t.is((await run(["cat", "/tmp"], { busybox: true })).stderr, "cat: read error: Is a directory\n");
  t.is((await run(["cat", "-z"])).stderr, "cat: invalid option -- 'z'\nTry 'cat --help' for more information.\n");
});

test("ls lists names one per line; -a adds . and ..; -l long form; missing paths are errors", async (t) => {
  const host = testHost();
  host.fs.writeFile("/d/f", "hi\n");
  host.fs.mkdir("/d/sub");
  t.is((await run(["ls", "/d"], { host })).stdout, "f\nsub\n");
  t.is((await run(["ls", "-a", "/d"], { host })).stdout, ".\n..\nf\nsub\n");
  t.is((await run(["ls", "-l", "/d"], { host })).stdout, "total 8\n-rw-r--r-- 1 root root    3 Jan  1 00:00 f\ndrwxr-xr-x 2 root root 4096 Jan  1 00:00 sub\n");
  t.is((await run(["ls", "-l", "/d"], { host, busybox: true })).stdout, "total 8\n-rw-r--r--    1 root     root             3 Jan  1 00:00 f\ndrwxr-xr-x    2 root     root          4096 Jan  1 00:00 sub\n");
  t.is((await run(["ls", "/d", "/d/f"], { host })).stdout, "/d/f\n\n/d:\nf\nsub\n");
  t.deepEqual(await run(["ls", "/nope"]), { exit: 2, stdout: "", stderr: "ls: cannot access '/nope': No such file or directory\n" });
  t.deepEqual(await run(["ls", "/nope"], { busybox: true }), { exit: 1, stdout: "", stderr: "ls: /nope: No such file or directory\n" });
});

test("mkdir, -p, and its errors (recorded samples)", async (t) => {
  const host = testHost();
  t.is((await run(["mkdir", "/tmp/new"], { host })).exit, 0);
  t.is(host.fs.stat("/tmp/new"), "dir");
  t.is((await run(["mkdir", "/tmp"], { host })).stderr, "mkdir: cannot create directory ‘/tmp’: File exists\n");
  t.is((await run(["mkdir", "/a/b/c"], { host })).stderr, "mkdir: cannot create directory ‘/a/b/c’: No such file or directory\n");
  t.is((await run(["mkdir", "/tmp"], { host, busybox: true })).stderr, "mkdir: can't create directory '/tmp': File exists\n");
  t.is((await run(["mkdir", "-p", "/a/b/c"], { host })).exit, 0);
  t.is(host.fs.stat("/a/b/c"), "dir");
});

test("rm, rm -r, rm -f, rmdir and touch", async (t) => {
  const host = testHost();
  host.fs.writeFile("/w/x/y", "1");
  t.is((await run(["rm", "/w"], { host })).stderr, "rm: cannot remove '/w': Is a directory\n");
  t.is((await run(["rm", "/w"], { host, busybox: true })).stderr, "rm: '/w' is a directory\n");
  t.is((await run(["rmdir", "/w"], { host })).stderr, "rmdir: failed to remove '/w': Directory not empty\n");
  t.is((await run(["rm", "-r", "/w"], { host })).exit, 0);
  t.is(host.fs.stat("/w"), undefined);
  t.is(host.fs.stat("/w/x/y"), undefined);
  t.is((await run(["rm", "/nope"], { host })).stderr, "rm: cannot remove '/nope': No such file or directory\n");
  t.deepEqual(await run(["rm", "-f", "/nope"], { host }), { exit: 0, stdout: "", stderr: "" });
  t.is((await run(["touch", "/tmp/t"], { host })).exit, 0);
  t.is(host.fs.readFile("/tmp/t"), "");
  t.is((await run(["touch", "/nope/x"], { host })).stderr, "touch: cannot touch '/nope/x': No such file or directory\n");
  t.is((await run(["touch", "/nope/x"], { host, busybox: true })).stderr, "touch: /nope/x: No such file or directory\n");
});

test("cp and mv copy and move files", async (t) => {
  const host = testHost();
  host.fs.writeFile("/tmp/src", "data\n");
  await run(["cp", "/tmp/src", "/tmp/copy"], { host });
  t.is(host.fs.readFile("/tmp/copy"), "data\n");
  await run(["mv", "/tmp/copy", "/root"], { host });
  t.is(host.fs.readFile("/root/copy"), "data\n");
  t.is(host.fs.stat("/tmp/copy"), undefined);
  t.is((await run(["cp", "/nope", "/tmp/x"], { host })).stderr, "cp: cannot stat '/nope': No such file or directory\n");
});

test("basename and dirname", async (t) => {
  t.is((await run(["basename", "/usr/lib/libc.so", ".so"])).stdout, "libc\n");
  t.is((await run(["basename", "/usr/bin/"])).stdout, "bin\n");
  t.is((await run(["dirname", "/usr/bin/ls"])).stdout, "/usr/bin\n");
  t.is((await run(["dirname", "ls"])).stdout, ".\n");
  t.is((await run(["basename"])).stderr, "basename: missing operand\nTry 'basename --help' for more information.\n");
});
