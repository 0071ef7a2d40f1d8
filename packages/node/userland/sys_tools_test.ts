import test from "ava";
import { runCommand, testHost } from "../_testing.ts";
import type { Host } from "../host.ts";
import { parseIpv4Addr } from "@kemu/wire";
import { strftime } from "./sys_tools.ts";

function run(argv: string[], options: { stdin?: string; busybox?: boolean; host?: Host } = {}) {
  const host = options.host ?? testHost();
  return runCommand(host, argv, { ...(options.stdin !== undefined ? { stdin: options.stdin } : {}), ...(options.busybox ? { busybox: true } : {}) });
}

test("date starts at 2026-01-01 UTC and follows the emulated clock", async (t) => {
  const host = testHost();
  t.is((await run(["date"], { host })).stdout, "Thu Jan  1 00:00:00 UTC 2026\n");
  await host.advance(90_061_000);
  t.is((await run(["date"], { host })).stdout, "Fri Jan  2 01:01:01 UTC 2026\n");
  t.is((await run(["date", "+%Y-%m-%d %H:%M:%S %s"], { host })).stdout, "2026-01-02 01:01:01 1767315661\n");
  t.is((await run(["date", "-R"], { host })).stdout, "Fri, 02 Jan 2026 01:01:01 +0000\n");
  t.is((await run(["date", "-d", "@0", "+%F"], { host })).stdout, "1970-01-01\n");
});

test("strftime directives match GNU date (recorded: 2026-11-21 15:30:42 UTC)", (t) => {
  const d = new Date(Date.UTC(2026, 10, 21, 15, 30, 42));
  t.is(strftime("%Y-%m-%d %H:%M:%S %s %j %a %b %e %Z %z %T %F %D %p %I %u %w %y %%", d), "2026-11-21 15:30:42 1795275042 325 Sat Nov 21 UTC +0000 15:30:42 2026-11-21 11/21/26 PM 03 6 6 26 %");
});

test("uname, id, whoami, hostname", async (t) => {
  t.is((await run(["uname"])).stdout, "Linux\n");
  t.is((await run(["uname", "-r"])).stdout, "6.1.0-kemu\n");
  t.is((await run(["uname", "-a"])).stdout, "Linux node1 6.1.0-kemu #1 SMP PREEMPT_DYNAMIC Thu Jan  1 00:00:00 UTC 2026 x86_64 GNU/Linux\n");
  t.is((await run(["uname", "-nm"])).stdout, "node1 x86_64\n");
  t.is((await run(["id"])).stdout, "uid=0(root) gid=0(root) groups=0(root)\n");
  t.is((await run(["id"], { busybox: true })).stdout, "uid=0(root) gid=0(root) groups=0(root),10(wheel)\n");
  t.is((await run(["whoami"])).stdout, "root\n");
  t.is((await run(["hostname"])).stdout, "node1\n");
  t.is((await run(["hostname", "-i"])).stdout, "127.0.1.1 \n");
  const host = testHost();
  host.kernel.root.addAddress(host.kernel.root.lo, { addr: parseIpv4Addr("10.0.0.5")!, prefixLen: 24 });
  t.is((await run(["hostname", "-I"], { host })).stdout, "10.0.0.5 \n");
  t.deepEqual(await run(["hostname", "other"]), { exit: 1, stdout: "", stderr: "hostname: you must be root to change the host name\n" });
});

test("ps lists the processes of the caller's namespace in each flavour's format", async (t) => {
  const host = testHost();
  const gnu = await runCommand(host, ["sh", "-c", "sleep 10 & ps"]);
  t.is(gnu.stdout, "    PID TTY          TIME CMD\n      1 pts/0    00:00:00 sh\n      2 pts/0    00:00:00 sleep\n      3 pts/0    00:00:00 ps\n");
  const bb = await runCommand(testHost(), ["sh", "-c", "sleep 10 & ps"], { busybox: true });
  t.is(bb.stdout, "PID   USER     TIME  COMMAND\n    1 root      0:00 sh -c sleep 10 & ps\n    2 root      0:00 sleep 10\n    3 root      0:00 ps\n");
  const other = testHost();
  const ns = other.kernel.createNetns();
  const container = await runCommand(other, ["ps"], { busybox: true, spec: { netns: ns } });
  t.is(container.stdout, "PID   USER     TIME  COMMAND\n    1 root      0:00 ps\n");
  const aux = await runCommand(testHost(), ["ps", "aux"]);
  t.regex(aux.stdout, /^USER {9}PID %CPU %MEM {4}VSZ {3}RSS TTY {6}STAT START {3}TIME COMMAND\nroot {11}1 {2}0\.0 {2}0\.0 .* ps aux\n$/);
});

test("kill sends TERM (143) or the named signal; unknown pids are errors", async (t) => {
  const r = await run(["sh", "-c", "sleep 100 & kill $!; wait $!; echo $?; sleep 100 & kill -9 $!; wait $!; echo $?"]);
  t.is(r.stdout, "143\n137\n");
  t.deepEqual(await run(["kill", "99999"]), { exit: 1, stdout: "", stderr: "kill: (99999) - No such process\n" });
  t.is((await run(["kill", "99999"], { busybox: true })).stderr, "kill: can't kill pid 99999: No such process\n");
  t.is((await run(["sh", "-c", "kill 99999"], { busybox: true })).stderr, "sh: can't kill pid 99999: No such process\n");
});

test("dmesg prints the kernel log with timestamps; a container may not read it", async (t) => {
  const host = testHost();
  await host.advance(1234.5678);
  host.kernel.printk("docker0: port 1(veth0) entered forwarding state");
  t.is((await run(["dmesg"], { host })).stdout, "[    1.234568] docker0: port 1(veth0) entered forwarding state\n");
  const denied = await runCommand(host, ["dmesg"], { busybox: true, spec: { netns: host.kernel.createNetns() } });
  t.deepEqual(denied, { exit: 1, stdout: "", stderr: "dmesg: klogctl: Operation not permitted\n" });
});

test("sleep waits emulated time: N, Ns, Nm, fractions; bad input is an error", async (t) => {
  const host = testHost();
  await run(["sleep", "1.5"], { host });
  t.is(host.clock.now(), 1500);
  await run(["sleep", "1m", "2s"], { host });
  t.is(host.clock.now(), 63_500);
  t.is((await run(["sleep", "x"])).stderr, "sleep: invalid time interval ‘x’\nTry 'sleep --help' for more information.\n");
  t.is((await run(["sleep", "x"], { busybox: true })).stderr, "sleep: invalid number 'x'\n");
  t.is((await run(["sleep"])).stderr, "sleep: missing operand\nTry 'sleep --help' for more information.\n");
});

test("env prints the environment or runs a command with additions", async (t) => {
  t.regex((await run(["env"])).stdout, /^HOME=\/root\nPATH=.*\nUSER=root\nHOSTNAME=node1\n$/);
  t.is((await run(["env", "A=1", "sh", "-c", "echo $A"])).stdout, "1\n");
  t.deepEqual(await run(["env", "nope"]), { exit: 127, stdout: "", stderr: "env: ‘nope’: No such file or directory\n" });
  t.is((await run(["env", "nope"], { busybox: true })).stderr, "env: can't execute 'nope': No such file or directory\n");
});

test("which prints paths of known programs and fails quietly for others", async (t) => {
  t.deepEqual(await run(["which", "ls", "ip", "nope"]), { exit: 1, stdout: "/usr/bin/ls\n/usr/sbin/ip\n", stderr: "" });
  t.is((await run(["which", "ls"], { busybox: true })).stdout, "/bin/ls\n");
});

test("xargs appends input words to the command", async (t) => {
  t.is((await run(["xargs", "echo", "x"], { stdin: "a b\nc\n" })).stdout, "x a b c\n");
  t.is((await run(["xargs", "-n", "1", "echo"], { stdin: "a b\n" })).stdout, "a\nb\n");
  t.is((await run(["xargs", "-I", "{}", "echo", "<{}>"], { stdin: "one\ntwo\n" })).stdout, "<one>\n<two>\n");
  t.deepEqual(await run(["xargs", "nope"], { stdin: "a\n" }), { exit: 127, stdout: "", stderr: "xargs: nope: No such file or directory\n" });
});

test("external echo, printf, test and [ behave like the builtins", async (t) => {
  t.is((await run(["echo", "-n", "a"])).stdout, "a");
  t.is((await run(["printf", "%s-%s\\n", "a", "b"])).stdout, "a-b\n");
  t.is((await run(["printf", "%d", "abc"])).stderr, "printf: ‘abc’: expected a numeric value\n");
  t.is((await run(["test", "1", "-eq", "1"])).exit, 0);
  t.is((await run(["[", "1", "=", "2", "]"])).exit, 1);
  t.is((await run(["test", "abc", "-eq", "1"])).stderr, "test: invalid integer ‘abc’\n");
  t.is((await run(["test", "abc", "-eq", "1"], { busybox: true })).stderr, "test: abc: bad number\n");
  t.is((await run(["true"])).exit, 0);
  t.is((await run(["false"])).exit, 1);
});
