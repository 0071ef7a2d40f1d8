import test from "ava";
import { runCommand, testHost } from "../_testing.ts";
import type { Host } from "../host.ts";

/** Runs an interactive shell on `stdin`, as `kemu up` does with a piped transcript (KEMU_ECHO=1). */
function session(stdin: string, options: { busybox?: boolean; echo?: boolean; host?: Host; argv?: string[] } = {}) {
  const host = options.host ?? testHost();
  const env = new Map(host.rootSpec({ stdout: { write() {} }, stderr: { write() {} } }).env);
  if (options.echo ?? true) env.set("KEMU_ECHO", "1");
  return runCommand(host, options.argv ?? [options.busybox ? "sh" : "bash", "-i"], {
    stdin,
    spec: { env },
    ...(options.busybox ? { busybox: true } : {}),
  });
}

test("interactive bash prompts root@host:cwd# and echoes the transcript", async (t) => {
  const r = await session("echo hi\ncd /tmp\npwd\n");
  t.is(r.stdout, "root@node1:~# echo hi\nhi\nroot@node1:~# cd /tmp\nroot@node1:/tmp# pwd\n/tmp\nroot@node1:/tmp# exit\n");
  t.is(r.exit, 0);
});

test("interactive busybox sh prompts '<cwd> # ', with ~ for HOME", async (t) => {
  const r = await session("echo hi\ncd /root\ncd /tmp\n", { busybox: true });
  t.is(r.stdout, "/ # echo hi\nhi\n/ # cd /root\n~ # cd /tmp\n/tmp # \n");
});

test("without KEMU_ECHO only the prompts are printed between outputs", async (t) => {
  const r = await session("echo a\n", { echo: false });
  t.is(r.stdout, "root@node1:~# a\nroot@node1:~# exit\n");
});

test("continuation lines get the > prompt", async (t) => {
  const r = await session("if true\nthen echo yes\nfi\n");
  t.is(r.stdout, "root@node1:~# if true\n> then echo yes\n> fi\nyes\nroot@node1:~# exit\n");
});

test("exit N ends an interactive shell with N (bash says exit, busybox does not)", async (t) => {
  const bash = await session("exit 3\necho never\n");
  t.is(bash.exit, 3);
  t.is(bash.stdout, "root@node1:~# exit 3\nexit\n");
  const bb = await session("exit 4\necho never\n", { busybox: true });
  t.is(bb.exit, 4);
  t.is(bb.stdout, "/ # exit 4\n");
});

test("errors in an interactive session are reported and the session goes on", async (t) => {
  // Recorded from interactive bash 5.2 and busybox 1.35 ash.
  const bash = await session("foo\necho a; fi\ncd /nope\necho still here\n");
  t.is(bash.stderr, "bash: foo: command not found\nbash: syntax error near unexpected token `fi'\nbash: cd: /nope: No such file or directory\n");
  t.regex(bash.stdout, /still here\n/);
  t.is(bash.exit, 0);
  const bb = await session("foo\ncd /nope\n", { busybox: true });
  t.is(bb.stderr, "sh: foo: not found\nsh: cd: can't cd to /nope: No such file or directory\n");
  t.is(bb.exit, 2);
});

test("the last status is the exit status at end of input", async (t) => {
  t.is((await session("false\n")).exit, 1);
});

test("a script on stdin runs line by line; read takes the next script line", async (t) => {
  const host = testHost();
  const r = await runCommand(host, ["sh"], { stdin: "read x\nthis line is data\necho got: $x\nfoo\n" });
  t.is(r.stdout, "got: this line is data\n");
  // The shell counts the lines it read itself; the one `read` took is not among them.
  t.is(r.stderr, "bash: line 3: foo: command not found\n");
  t.is(r.exit, 127);
});

test("a syntax error ends a non-interactive script with status 2", async (t) => {
  const r = await runCommand(testHost(), ["sh"], { stdin: "echo one\necho a; fi\necho two\n" });
  t.is(r.stdout, "one\n");
  t.is(r.stderr, "bash: line 2: syntax error near unexpected token `fi'\nbash: line 2: `echo a; fi'\n");
  t.is(r.exit, 2);
});

test("a script file runs with its name in messages and $0, arguments in $1…", async (t) => {
  const host = testHost();
  host.fs.writeFile("/root/s.sh", "echo $0 $1 $#\nfoo\n");
  const r = await runCommand(host, ["bash", "/root/s.sh", "a"]);
  t.is(r.stdout, "/root/s.sh a 1\n");
  t.is(r.stderr, "/root/s.sh: line 2: foo: command not found\n");
  const missing = await runCommand(host, ["bash", "/x.sh"]);
  t.is(missing.stderr, "bash: /x.sh: No such file or directory\n");
  t.is(missing.exit, 127);
  const bbMissing = await runCommand(host, ["sh", "/x.sh"], { busybox: true });
  t.is(bbMissing.stderr, "sh: can't open '/x.sh': No such file or directory\n");
  t.is(bbMissing.exit, 2);
});

test("sh -c takes $0 and positional parameters after the command", async (t) => {
  t.is((await runCommand(testHost(), ["sh", "-c", "echo $0 $1 $2", "name", "x", "y"])).stdout, "name x y\n");
  const bad = await runCommand(testHost(), ["bash", "-c"]);
  t.is(bad.stderr, "bash: -c: option requires an argument\n");
  t.is(bad.exit, 2);
});

test("Host.exec runs a command line through the shell", async (t) => {
  const host = testHost();
  const r = await host.exec("echo one two | wc -w; nope");
  t.is(r.stdout, "2\n");
  t.is(r.stderr, "bash: line 1: nope: command not found\n");
  t.is(r.exit, 127);
});

test("a nested interactive shell reads from the same stdin until exit", async (t) => {
  const r = await session("echo outer\nsh -i\necho inner\nexit\necho back\n");
  t.is(r.stdout, "root@node1:~# echo outer\nouter\nroot@node1:~# sh -i\nroot@node1:~# echo inner\ninner\nroot@node1:~# exit\nexit\nroot@node1:~# echo back\nback\nroot@node1:~# exit\n");
});
