import test from "ava";
import { runCommand, testHost } from "../_testing.ts";

function sh(line: string, options: { busybox?: boolean; stdin?: string } = {}) {
  return runCommand(testHost(), ["sh", "-c", line], { ...(options.busybox ? { busybox: true } : {}), ...(options.stdin !== undefined ? { stdin: options.stdin } : {}) });
}

test("export -p lists exported variables in bash's and busybox's forms (recorded)", async (t) => {
  t.regex((await sh('export B="q\\"z"; export -p')).stdout, /^declare -x B="q\\"z"$/m);
  t.regex((await sh("export B='q\"z'; export -p", { busybox: true })).stdout, /^export B='q"z'$/m);
});

test("set with no arguments lists variables, quoting values that need it", async (t) => {
  t.regex((await sh('x="a b"; set')).stdout, /^x='a b'$/m);
});

test("invalid names for export and unset (recorded from bash 5.2 and busybox 1.35)", async (t) => {
  const bash = await sh("export 1x=2");
  t.is(bash.stderr, "bash: line 1: export: `1x=2': not a valid identifier\n");
  t.is(bash.exit, 1);
  const bb = await sh("unset -v 1x", { busybox: true });
  t.is(bb.stderr, "sh: unset: line 0: 1x: bad variable name\n");
  t.is(bb.exit, 2);
});

test("shift, unset, read -r, and $# after set --", async (t) => {
  t.is((await sh("set -- a b c; shift; echo $# $1; shift 5; echo $?")).stdout, "2 b\n1\n");
  t.is((await sh("x=1; unset x; echo [${x-unset}]")).stdout, "[unset]\n");
  t.is((await sh("read -r l; echo \"$l\"", { stdin: "a\\tb\n" })).stdout, "a\\tb\n");
  t.is((await sh("read l; echo \"$l\"", { stdin: "a\\tb\n" })).stdout, "atb\n");
});

test("loop and function builtins outside their place", async (t) => {
  t.is((await sh("break")).stderr, "bash: line 1: break: only meaningful in a `for', `while', or `until' loop\n");
  t.is((await sh("local x")).stderr, "bash: line 1: local: can only be used in a function\n");
  t.is((await sh("return")).stderr, "bash: line 1: return: can only `return' from a function or sourced script\n");
  t.is((await sh("exit abc")).stderr, "bash: line 1: exit: abc: numeric argument required\n");
  t.is((await sh("exit 3 4")).exit, 1);
});

test("eval and source run text as commands", async (t) => {
  const host = testHost();
  host.fs.writeFile("/root/lib.sh", "greet() { echo hello $1; }\nV=from-lib\n");
  const r = await runCommand(host, ["sh", "-c", "cmd='echo evaluated'; eval $cmd; . /root/lib.sh; greet you; echo $V; source /nope"]);
  t.is(r.stdout, "evaluated\nhello you\nfrom-lib\n");
  t.is(r.stderr, "bash: line 1: /nope: No such file or directory\n");
});

test("exec with redirections only redirects the rest of the shell", async (t) => {
  const host = testHost();
  const r = await runCommand(host, ["sh", "-c", "exec > /tmp/log; echo one; echo two"]);
  t.is(r.stdout, "");
  t.is(host.fs.readFile("/tmp/log"), "one\ntwo\n");
});

test("jobs lists running background jobs as bash does", async (t) => {
  t.is((await sh("sleep 5 & jobs")).stdout, "[1]+  Running                 sleep 5 &\n");
});
