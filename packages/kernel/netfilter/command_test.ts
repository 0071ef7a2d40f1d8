import test from "ava";
import { readFileSync } from "node:fs";
import { testKernel } from "../_testing.ts";
import { iptablesMain, runIptables, runRestore, tokenizeRuleLine } from "./command.ts";
import { netfilterOf } from "./engine.ts";
import { saveTable } from "./save.ts";

function sample(name: string): string {
  return readFileSync(new URL(`../../netfilter/testdata/${name}`, import.meta.url), "utf8");
}

function fresh() {
  const { kernel } = testKernel();
  return netfilterOf(kernel.createNetns());
}

test("iptables' messages and exit codes match the real tool, command after command", (t) => {
  // testdata/iptables-errors.txt: each `### ARGS` run in one namespace with the
  // real iptables (stdout and stderr together), then `rc=N`.
  const nf = fresh();
  const blocks = sample("iptables-errors.txt").split(/^### /m).slice(1);
  t.true(blocks.length > 100);
  for (const block of blocks) {
    const nl = block.indexOf("\n");
    const args = block.slice(0, nl);
    const rest = block.slice(nl + 1);
    const m = /rc=(\d+)\n$/.exec(rest)!;
    const expected = rest.slice(0, m.index);
    const argv = tokenizeRuleLine(args);
    const r = iptablesMain(nf, argv);
    t.is(r.stdout + r.stderr, expected, `iptables ${args}`);
    t.is(r.exit, Number(m[1]), `exit status of iptables ${args}`);
  }
});

test("iptables 1.8.10 says a missing chain listed by name does not exist (1.8.9 did not)", (t) => {
  const r = iptablesMain(fresh(), ["-L", "FOO"]);
  t.deepEqual(r, { exit: 1, stdout: "", stderr: "iptables: No chain/target/match by that name.\n" });
});

test("a table exists from its first write on, as with the nft backend", (t) => {
  const nf = fresh();
  for (const argv of [["-F"], ["-t", "nat", "-F"], ["-L"], ["-t", "mangle", "-S"], ["-D", "INPUT", "-j", "ACCEPT"]]) {
    iptablesMain(nf, argv);
  }
  t.deepEqual(nf.tables(), []);
  runIptables(nf, ["-P", "INPUT", "ACCEPT"]);
  runIptables(nf, ["-t", "mangle", "-N", "X"]);
  t.deepEqual(nf.tables().map((tb) => tb.name), ["mangle", "filter"]);
});

test("a rule a chain reached from the wrong hook cannot hold is refused as the kernel refuses it", (t) => {
  const nf = fresh();
  runIptables(nf, ["-t", "nat", "-N", "MASQ"]);
  runIptables(nf, ["-t", "nat", "-A", "MASQ", "-p", "tcp", "-j", "REDIRECT", "--to-ports", "8080"]);
  const r = iptablesMain(nf, ["-t", "nat", "-A", "POSTROUTING", "-j", "MASQ"]);
  t.deepEqual(r, { exit: 4, stdout: "", stderr: "iptables v1.8.10 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain MASQ\n" });
  t.is(runIptables(nf, ["-t", "nat", "-S", "POSTROUTING"]), "-P POSTROUTING ACCEPT\n", "nothing half-applied");
  const loop = iptablesMain(nf, ["-t", "nat", "-A", "MASQ", "-j", "MASQ"]);
  t.is(loop.exit, 4);
});

test("iptables-restore commits table by table; a bad line names its number and changes nothing of its table", (t) => {
  const nf = fresh();
  const good = "*filter\n:INPUT ACCEPT [0:0]\n:FOO - [0:0]\n-A INPUT -j FOO\n-A FOO -p tcp --dport 22 -j ACCEPT\nCOMMIT\n";
  t.deepEqual(runRestore(nf, good), { exit: 0, stdout: "", stderr: "" });
  const before = saveTable(nf.table("filter")!, { now: 0 });
  const cases: Array<[string, number, string]> = [
    [
      "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\n-A INPUT --bogus -j ACCEPT\nCOMMIT\n",
      2,
      "iptables-restore v1.8.10 (nf_tables): unknown option \"--bogus\"\nError occurred at line: 4\nTry `iptables-restore -h' or 'iptables-restore --help' for more information.\n",
    ],
    ["*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\n-A NOPE -j ACCEPT\nCOMMIT\n", 1, "iptables-restore: line 4 failed: No chain/target/match by that name.\n"],
    [
      "*filter\n-A INPUT -j ACCEPT\n-A INPUT -j NOPE\nCOMMIT\n",
      2,
      "iptables-restore v1.8.10 (nf_tables): Chain 'NOPE' does not exist\nError occurred at line: 3\nTry `iptables-restore -h' or 'iptables-restore --help' for more information.\n",
    ],
    ["*filter\n-A INPUT -j ACCEPT\n", 1, "iptables-restore: COMMIT expected at line 3\n"],
    [
      "*foo\nCOMMIT\n",
      2,
      "iptables-restore v1.8.10 (nf_tables): iptables-restore: line 1 table name 'foo' invalid\nError occurred at line: 1\nTry `iptables-restore -h' or 'iptables-restore --help' for more information.\n",
    ],
    ["*filter\nhello\nCOMMIT\n", 2, "Bad argument `hello'\nError occurred at line: 2\nTry `iptables-restore -h' or 'iptables-restore --help' for more information.\n"],
    ["*filter\n:INPUT FOO [0:0]\nCOMMIT\n", 1, "iptables-restore: line 2 failed: Bad policy name.\n"],
    ["-A INPUT -j ACCEPT\n", 1, "iptables-restore: line 1 failed\n"],
  ];
  for (const [input, exit, stderr] of cases) {
    t.deepEqual(runRestore(nf, input), { exit, stdout: "", stderr }, input);
    t.is(saveTable(nf.table("filter")!, { now: 0 }), before, "the filter table is unchanged");
  }
});

test("iptables-restore keeps the tables committed before the failing one", (t) => {
  const nf = fresh();
  const r = runRestore(nf, "*filter\n-A INPUT -s 10.0.0.1 -j ACCEPT\nCOMMIT\n*nat\n-A POSTROUTING -j MASQUERADE\n-A NOPE -j ACCEPT\nCOMMIT\n");
  t.is(r.stderr, "iptables-restore: line 6 failed: No chain/target/match by that name.\n");
  t.is(runIptables(nf, ["-S", "INPUT"]), "-P INPUT ACCEPT\n-A INPUT -s 10.0.0.1/32 -j ACCEPT\n");
  t.is(nf.table("nat"), undefined);
});

test("iptables-restore --noflush adds; :CHAIN lines flush a user chain; --counters takes counters", (t) => {
  const nf = fresh();
  runRestore(nf, "*filter\n:KUBE-X - [0:0]\n-A INPUT -j KUBE-X\n-A KUBE-X -j ACCEPT\nCOMMIT\n");
  runRestore(nf, "*filter\n:KUBE-X - [0:0]\n-A KUBE-X -s 10.0.0.2 -j DROP\n-A INPUT -s 10.0.0.3 -j ACCEPT\nCOMMIT\n", { noflush: true });
  t.is(runIptables(nf, ["-S"]), "-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n-N KUBE-X\n-A INPUT -j KUBE-X\n-A INPUT -s 10.0.0.3/32 -j ACCEPT\n-A KUBE-X -s 10.0.0.2/32 -j DROP\n");
  runRestore(nf, "*filter\n:INPUT ACCEPT [5:500]\n[3:300] -A INPUT -s 10.0.0.3 -j ACCEPT\nCOMMIT\n", { counters: true });
  t.is(runIptables(nf, ["-L", "INPUT", "-v", "-n", "-x"]).split("\n")[2], "       3      300 ACCEPT     0    --  *      *       10.0.0.3             0.0.0.0/0           ");
  t.regex(runIptables(nf, ["-L", "INPUT", "-v"]), /policy ACCEPT 5 packets, 500 bytes/);
});

test("restore lines are split like iptables-restore splits them: quotes and escapes", (t) => {
  t.deepEqual(tokenizeRuleLine('-A INPUT -m comment --comment "a b\\"c" -j ACCEPT'), ["-A", "INPUT", "-m", "comment", "--comment", 'a b"c', "-j", "ACCEPT"]);
  t.deepEqual(tokenizeRuleLine('-m comment --comment ""'), ["-m", "comment", "--comment", ""]);
  // A quoted part joins the unquoted text around it; outside quotes a backslash is an ordinary character.
  t.deepEqual(tokenizeRuleLine('a"b c"d e\\f\t  "x\\\\y'), ["ab cd", "e\\f", "x\\y"]);
  // A backslash ending the line inside an open quote escapes nothing.
  t.deepEqual(tokenizeRuleLine('--comment "ab\\'), ["--comment", "ab"]);
});

test("iptables-restore names the line of the first restored rule of a chain the commit refuses", (t) => {
  const nf = fresh();
  t.deepEqual(runRestore(nf, "*filter\n:INPUT ACCEPT [0:0]\n:FOO - [0:0]\n-A INPUT -j ACCEPT\n\n-A FOO -j ACCEPT\n-A FOO -j MASQUERADE\nCOMMIT\n"), {
    exit: 4,
    stdout: "",
    stderr: "iptables-restore v1.8.10 (nf_tables): \nline 6: RULE_APPEND failed (Invalid argument): rule in chain FOO\n",
  });
  t.is(runRestore(nf, "*nat\n-A POSTROUTING -j ACCEPT\nCOMMIT\n").exit, 0);
  // With --noflush the rules already there have no line: the first one this input added is named.
  const r = runRestore(nf, "*nat\n-A INPUT -j ACCEPT\n-I POSTROUTING -j ACCEPT\n-A POSTROUTING -j DNAT --to-destination 1.2.3.4\nCOMMIT\n", { noflush: true });
  t.is(r.stderr, "iptables-restore v1.8.10 (nf_tables): \nline 3: RULE_APPEND failed (Invalid argument): rule in chain POSTROUTING\n");
});
