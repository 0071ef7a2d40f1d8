import test from "ava";
import { runCommand, testHost } from "../_testing.ts";
import type { Host } from "../host.ts";
import { BufferOutput, textInput } from "../process.ts";

/** Runs `line` through `sh -c` on a host (bash wording) or in busybox. */
function sh(line: string, options: { busybox?: boolean; stdin?: string; host?: Host } = {}) {
  const host = options.host ?? testHost();
  return runCommand(host, ["sh", "-c", line], {
    ...(options.busybox ? { busybox: true } : {}),
    ...(options.stdin !== undefined ? { stdin: options.stdin } : {}),
  });
}

test("a pipeline connects stages and its status is the last stage's", async (t) => {
  const r = await sh("printf 'b\\na\\nc\\n' | sort | head -n 2");
  t.is(r.stdout, "a\nb\n");
  t.is((await sh("false | true")).exit, 0);
  t.is((await sh("true | false")).exit, 1);
  t.is((await sh("set -o pipefail; false | true")).exit, 1);
});

test("redirections write into the Vfs: >, >>, <, 2>, 2>&1, &>, /dev/null", async (t) => {
  const host = testHost();
  const r = await sh(
    "echo one > /tmp/f; echo two >> /tmp/f; cat < /tmp/f; nope 2> /tmp/err; cat /nope > /tmp/both 2>&1; ls /nope &> /tmp/all; echo gone > /dev/null; cat /dev/null",
    { host },
  );
  t.is(r.stdout, "one\ntwo\n");
  t.is(r.stderr, "");
  t.is(host.fs.readFile("/tmp/f"), "one\ntwo\n");
  t.is(host.fs.readFile("/tmp/err"), "bash: line 1: nope: command not found\n");
  t.is(host.fs.readFile("/tmp/both"), "cat: /nope: No such file or directory\n");
  t.is(host.fs.readFile("/tmp/all"), "ls: cannot access '/nope': No such file or directory\n");
});

test("echo >&2 goes to stderr, and 2>&1 | merges both streams into the pipe", async (t) => {
  const r = await sh("echo err >&2; echo out");
  t.is(r.stdout, "out\n");
  t.is(r.stderr, "err\n");
  const merged = await sh("{ echo out; echo err >&2; } 2>&1 | wc -l");
  t.is(merged.stdout, "2\n");
});

test("redirection errors use each shell's words and skip the command", async (t) => {
  // Recorded: bash 5.2 `echo > /nope/x`, busybox 1.35 `echo > /nope/x` and `cat < /nope`.
  const bash = await sh("echo hi > /nope/x; echo status $?");
  t.is(bash.stderr, "bash: line 1: /nope/x: No such file or directory\n");
  t.is(bash.stdout, "status 1\n");
  t.is((await sh("echo hi > /tmp")).stderr, "bash: line 1: /tmp: Is a directory\n");
  t.is((await sh("echo > /nope/x", { busybox: true })).stderr, "sh: can't create /nope/x: nonexistent directory\n");
  t.is((await sh("cat < /nope", { busybox: true })).stderr, "sh: can't open /nope: no such file\n");
});

test("$? carries the last status; && and || short-circuit", async (t) => {
  t.is((await sh("false; echo $?; true; echo $?")).stdout, "1\n0\n");
  t.is((await sh("false && echo no || echo yes")).stdout, "yes\n");
  t.is((await sh("true && echo a && false || echo b")).stdout, "a\nb\n");
  t.is((await sh("! false; echo $?")).stdout, "0\n");
});

test("if/elif/else, for, while, until, case and break/continue", async (t) => {
  t.is((await sh("x=2; if [ $x = 1 ]; then echo one; elif [ $x = 2 ]; then echo two; else echo many; fi")).stdout, "two\n");
  t.is((await sh("for i in a b c; do echo $i; done")).stdout, "a\nb\nc\n");
  t.is((await sh("i=0; while [ $i -lt 3 ]; do echo $i; i=$((i+1)); done")).stdout, "0\n1\n2\n");
  t.is((await sh("i=0; until [ $i -ge 2 ]; do i=$((i+1)); done; echo $i")).stdout, "2\n");
  t.is((await sh("for i in 1 2 3 4; do [ $i = 2 ] && continue; [ $i = 4 ] && break; echo $i; done")).stdout, "1\n3\n");
  t.is((await sh("for w in web.1 db.2 x; do case $w in web.*) echo W;; db.*|cache.*) echo D;; *) echo other;; esac; done")).stdout, "W\nD\nother\n");
});

test("command substitution strips trailing newlines and splits unquoted", async (t) => {
  t.is((await sh("echo [$(printf 'a\\nb\\n\\n')]")).stdout, "[a b]\n");
  t.is((await sh('echo "[$(printf \'a\\nb\\n\\n\')]"')).stdout, "[a\nb]\n");
  t.is((await sh("for n in $(seq 3); do echo n$n; done")).stdout, "n1\nn2\nn3\n");
  t.is((await sh("x=`echo back`; echo $x")).stdout, "back\n");
  t.is((await sh("x=$(exit 3); echo $?")).stdout, "3\n");
});

test("parameter expansion: defaults, lengths, prefixes and suffixes, substrings", async (t) => {
  t.is((await sh("echo ${u:-def} ${#HOME}")).stdout, "def 5\n");
  t.is((await sh("f=archive.tar.gz; echo ${f%.*} ${f%%.*} ${f#*.} ${f##*.} ${f/tar/zip} ${f:0:7}")).stdout, "archive.tar archive tar.gz gz archive.zip.gz archive\n");
  t.is((await sh("x=a; : ${y:=b}; echo $x$y ${x:+set}")).stdout, "ab set\n");
});

test("field splitting and quoting: \"$@\" keeps arguments whole", async (t) => {
  t.is((await sh('x="a  b"; printf "[%s]" $x "$x"; echo')).stdout, "[a][b][a  b]\n");
  t.is((await sh('set -- one "two three"; for a in "$@"; do echo "<$a>"; done; echo $#')).stdout, "<one>\n<two three>\n2\n");
  t.is((await sh("e=; printf '[%s]' $e \"$e\"; echo")).stdout, "[]\n");
});

test("globs expand over the Vfs, sorted; no match stays literal", async (t) => {
  const host = testHost();
  host.fs.writeFile("/data/b.txt", "");
  host.fs.writeFile("/data/a.txt", "");
  host.fs.writeFile("/data/c.log", "");
  t.is((await sh("echo /data/*.txt; echo /data/*.none; cd /data; echo *.log", { host })).stdout, "/data/a.txt /data/b.txt\n/data/*.none\nc.log\n");
  t.is((await sh("cat /sys/class/net/*/mtu", { host })).stdout, "65536\n");
});

test("bash brace expansion; busybox ash leaves braces alone", async (t) => {
  t.is((await sh("echo a{b,c}d {1..3}")).stdout, "abd acd 1 2 3\n");
  t.is((await sh("echo a{b,c}d", { busybox: true })).stdout, "a{b,c}d\n");
});

test("functions take positional parameters, local variables and return", async (t) => {
  t.is((await sh("f() { local v=$1; echo in $v; return 4; }; v=outer; f x; echo $? $v")).stdout, "in x\n4 outer\n");
});

test("VAR=value cmd sets the variable for that command only", async (t) => {
  t.is((await sh("X=1 env | grep ^X=; echo [$X]")).stdout, "X=1\n[]\n");
  t.is((await sh("export Y=2; env | grep ^Y=")).stdout, "Y=2\n");
});

test("cd changes the working directory that relative paths and tools use", async (t) => {
  const host = testHost();
  const r = await sh("cd /tmp && pwd && echo x > rel && cat /tmp/rel && mkdir d && cd d && pwd && cd .. && ls && cd - ", { host });
  t.is(r.stdout, "/tmp\nx\n/tmp/d\nd\nrel\n/tmp/d\n");
  t.is(host.fs.readFile("/tmp/rel"), "x\n");
  t.is((await sh("cd /nope")).stderr, "bash: line 1: cd: /nope: No such file or directory\n");
  // Recorded from busybox 1.35: `sh -c 'cd /x'` says line 0 (it counts -c lines from 0) and exits 2.
  const bb = await sh("cd /x; echo $?", { busybox: true });
  t.is(bb.stderr, "sh: cd: line 0: can't cd to /x: No such file or directory\n");
  t.is(bb.stdout, "2\n");
});

test("an unknown command prints the shell's words and exits 127", async (t) => {
  // Recorded: bash 5.2 `bash -c foo`, busybox 1.35 `sh -c foo`.
  const bash = await sh("foo");
  t.is(bash.exit, 127);
  t.is(bash.stderr, "bash: line 1: foo: command not found\n");
  t.is((await sh("true\n/bin/nope")).stderr, "bash: line 2: /bin/nope: No such file or directory\n");
  const bb = await sh("foo", { busybox: true });
  t.is(bb.exit, 127);
  t.is(bb.stderr, "sh: foo: not found\n");
});

test("syntax errors are worded as bash -c and busybox sh -c word them, exit 2", async (t) => {
  // Recorded from bash 5.2.15 and busybox 1.35.0.
  const cases: Array<[string, string, string]> = [
    ["echo 'abc", "bash: -c: line 1: unexpected EOF while looking for matching `''\n", "sh: syntax error: unterminated quoted string\n"],
    ["if true; then", "bash: -c: line 2: syntax error: unexpected end of file\n", 'sh: syntax error: unexpected end of file (expecting "fi")\n'],
    ["echo a; fi", "bash: -c: line 1: syntax error near unexpected token `fi'\nbash: -c: line 1: `echo a; fi'\n", 'sh: syntax error: unexpected "fi"\n'],
    ["echo $(", "bash: -c: line 1: unexpected EOF while looking for matching `)'\n", 'sh: syntax error: unexpected end of file (expecting ")")\n'],
  ];
  for (const [line, bash, bb] of cases) {
    const b = await sh(line);
    t.is(b.exit, 2, line);
    t.is(b.stderr, bash, line);
    const x = await sh(line, { busybox: true });
    t.is(x.exit, 2, line);
    t.is(x.stderr, bb, line);
  }
});

test("commands before a later syntax error still run", async (t) => {
  const r = await sh("echo first\necho a; fi");
  t.is(r.stdout, "first\n");
  t.is(r.exit, 2);
});

test("exit N ends the shell with N; set -e stops at the first failure", async (t) => {
  const r = await sh("echo a; exit 3; echo b");
  t.is(r.exit, 3);
  t.is(r.stdout, "a\n");
  const e = await sh("set -e; true; false; echo never");
  t.is(e.exit, 1);
  t.is(e.stdout, "");
  t.is((await sh("set -e; false || echo rescued; if false; then :; fi; echo ok")).stdout, "rescued\nok\n");
  t.is((await sh("(exit 5); echo $?")).stdout, "5\n");
});

test("expansion errors: ${x:?} and $((1/0)) end a non-interactive shell", async (t) => {
  const a = await sh("echo ${x:?boom}; echo after");
  t.is(a.stderr, "bash: line 1: x: boom\n");
  t.is(a.exit, 127);
  const b = await sh("echo $((1/0)); echo after", { busybox: true });
  t.is(b.stderr, "sh: divide by zero\n");
  t.is(b.exit, 2);
  t.is(b.stdout, "");
});

test("here-documents expand variables unless the delimiter is quoted", async (t) => {
  t.is((await sh("X=v; cat <<EOF\nvalue=$X\nEOF")).stdout, "value=v\n");
  t.is((await sh("X=v; cat <<'EOF'\nvalue=$X\nEOF")).stdout, "value=$X\n");
  t.is((await sh("cat <<<'here string'")).stdout, "here string\n");
});

test("read takes a line from stdin into variables", async (t) => {
  t.is((await sh("read a b; echo [$a] [$b]", { stdin: "one two three\n" })).stdout, "[one] [two three]\n");
  t.is((await sh("while read l; do echo got $l; done", { stdin: "x\ny\n" })).stdout, "got x\ngot y\n");
  t.is((await sh("echo a,b | { IFS=, read x y; echo $y; }")).stdout, "b\n");
  t.is((await sh("read v < /dev/null; echo $?")).stdout, "1\n");
});

test("writing a value into /proc/sys sets the sysctl; a bad value is a write error", async (t) => {
  const host = testHost();
  const r = await sh("echo 1 > /proc/sys/net/ipv4/ip_forward; cat /proc/sys/net/ipv4/ip_forward; echo bad > /proc/sys/net/ipv4/ip_forward", { host });
  t.is(r.stdout, "1\n");
  t.is(host.kernel.root.sysctl.get("net.ipv4.ip_forward"), "1");
  t.is(r.stderr, "bash: line 1: echo: write error: Invalid argument\n");
  t.is(r.exit, 1);
});

test("a background job runs while the shell goes on; wait and $! find it", async (t) => {
  const r = await sh("sleep 2 & echo started; wait; date +%s; sleep 50 & kill $!; wait $!; echo $?");
  t.is(r.stdout, `started\n${Date.UTC(2026, 0, 1) / 1000 + 2}\n143\n`);
});

test("type and command -v tell builtins, keywords and programs apart", async (t) => {
  const r = await sh("type cd if ls; command -v cd ls; type nope");
  t.is(r.stdout, "cd is a shell builtin\nif is a shell keyword\nls is /usr/bin/ls\ncd\n/usr/bin/ls\n");
  t.is(r.stderr, "bash: line 1: type: nope: not found\n");
  t.is((await sh("type ls", { busybox: true })).stdout, "ls is /bin/ls\n");
});

test("printf and test builtins", async (t) => {
  t.is((await sh("printf '%5s|%-5d|%03d|%x|%s\\n' a 3 7 255 b c")).stdout, "    a|3    |007|ff|b\n    c|0    |000|0|\n");
  const bad = await sh("printf '%d\\n' abc");
  t.is(bad.stderr, "bash: line 1: printf: abc: invalid number\n");
  t.is(bad.exit, 1);
  t.is((await sh("[ 1 -lt 2 ] && [ -n x ] && [ ! -z x ] && [ -d /tmp ] && [ -f /etc/hosts ] && test a != b && echo ok")).stdout, "ok\n");
  t.is((await sh("[ abc -eq 1 ]")).stderr, "bash: line 1: [: abc: integer expression expected\n");
  t.is((await sh("[ 1 = 1")).stderr, "bash: line 1: [: missing `]'\n");
  t.is((await sh("[ abc -eq 1 ]", { busybox: true })).stderr, "sh: abc: bad number\n");
});

test("trap on EXIT runs when the shell ends", async (t) => {
  const r = await sh("trap 'echo bye $?' EXIT; echo hi; exit 4");
  t.is(r.stdout, "hi\nbye 4\n");
  t.is(r.exit, 4);
});

test("killing the shell stops the running command and the script", async (t) => {
  const host = testHost();
  const out = new BufferOutput();
  const controller = new AbortController();
  const spec = { ...host.rootSpec({ stdout: out, stderr: out }), parentSignal: controller.signal };
  const run = host.spawn(["sh", "-c", "sleep 100; echo never"], spec);
  await host.advance(5000);
  controller.abort();
  t.is(await host.runToCompletion(run), 137);
  t.is(out.text, "");
});

test("kill -INT on a child ends it with 130, and the script goes on", async (t) => {
  const host = testHost();
  const out = new BufferOutput();
  const run = host.spawn(["sh", "-c", "sleep 100; echo status $?"], host.rootSpec({ stdout: out, stderr: out, stdin: textInput("") }));
  await host.advance(1000);
  const sleeper = [...host.processes.values()].find((p) => p.argv[0] === "sleep")!;
  const killer = await runCommand(host, ["sh", "-c", `kill -INT ${sleeper.pid}`]);
  t.is(killer.exit, 0);
  t.is(await host.runToCompletion(run), 0);
  t.is(out.text, "status 130\n");
});

test("a busy loop yields to the clock instead of starving the host", async (t) => {
  const r = await sh("i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done; echo $i");
  t.is(r.stdout, "2000\n");
});

test("bash extensions: [[ ]], (( )), for (( )), function NAME", async (t) => {
  const r = await sh(
    '[[ -f /etc/hosts && "ab" == a* ]] && echo pattern; [[ abc =~ ^a(b|x)c$ ]] && echo regex; x="a*"; [[ abc == "$x" ]] || echo quoted-literal; i=0; (( i++ )); echo $? $i; (( 0 )) || echo zero-false; for ((j=0; j<3; j++)); do printf $j; done; echo; function f { echo fn; }; f',
  );
  t.is(r.stdout, "pattern\nregex\nquoted-literal\n1 1\nzero-false\n012\nfn\n");
  t.is(r.stderr, "");
});

test("busybox ash has no (( )): it reads as nested subshells (recorded from busybox 1.35)", async (t) => {
  const r = await sh("i=0; (( i++ )); echo $? $i", { busybox: true });
  t.is(r.stdout, "127 0\n");
  t.is(r.stderr, "sh: i++: not found\n");
});

test("$0 is the name the shell was started as", async (t) => {
  t.is((await runCommand(testHost(), ["bash", "-c", "echo $0"])).stdout, "bash\n");
  t.is((await runCommand(testHost(), ["sh", "-c", "echo $0"])).stdout, "sh\n");
});
