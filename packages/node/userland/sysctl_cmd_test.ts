import test from "ava";
import { testHost } from "../_testing.ts";
import { lines, recordedHost, sh } from "./_net_fixture.ts";

// Recorded with procps-ng 4.0.2 and busybox 1.35 in a fresh namespace.

test("sysctl reads a key as KEY = VALUE, -n only the value, slashes as dots", async (t) => {
  const host = testHost();
  t.deepEqual(await sh(host, "sysctl net.ipv4.ip_forward"), { exit: 0, stdout: "net.ipv4.ip_forward = 0\n", stderr: "" });
  t.is((await sh(host, "sysctl -n net.ipv4.ip_forward")).stdout, "0\n");
  t.is((await sh(host, "sysctl net/ipv4/ip_forward")).stdout, "net.ipv4.ip_forward = 0\n");
  t.is((await sh(host, "sysctl -N net.ipv4.ip_forward")).stdout, "net.ipv4.ip_forward\n");
  t.is((await sh(host, "sysctl net.ipv4.ip_local_port_range")).stdout, "net.ipv4.ip_local_port_range = 32768\t60999\n");
  t.is((await sh(host, "sysctl net.ipv4.ip_forward net.ipv4.ip_default_ttl")).stdout, lines("net.ipv4.ip_forward = 0", "net.ipv4.ip_default_ttl = 64"));
});

test("sysctl -w and KEY=VALUE write the namespace's key and echo it; forwarding follows", async (t) => {
  const { host, ktc } = await recordedHost();
  t.deepEqual(await sh(host, "sysctl -w net.ipv4.ip_forward=1"), { exit: 0, stdout: "net.ipv4.ip_forward = 1\n", stderr: "" });
  t.is(host.kernel.root.sysctl.get("net.ipv4.ip_forward"), "1");
  t.is(ktc.sysctl.get("net.ipv4.ip_forward"), "0", "each namespace has its own");
  t.is((await sh(host, "sysctl net.ipv4.ip_forward=0")).stdout, "net.ipv4.ip_forward = 0\n");
  t.is((await sh(host, "sysctl -q -w net.ipv4.ip_forward=1")).stdout, "");
  t.is((await sh(host, "sysctl -n net.ipv4.conf.docker0.forwarding")).stdout, "1\n");
  t.is((await sh(host, "sysctl -w net.ipv4.ip_forward=1 net.ipv4.ip_default_ttl=63")).stdout, lines("net.ipv4.ip_forward = 1", "net.ipv4.ip_default_ttl = 63"));
});

test("sysctl's errors are procps's, with exit status 1", async (t) => {
  const host = testHost();
  const cases: Array<[string, string, number]> = [
    ["sysctl net.ipv4.nope", "sysctl: cannot stat /proc/sys/net/ipv4/nope: No such file or directory\n", 1],
    ["sysctl -n net.ipv4.nope", "sysctl: cannot stat /proc/sys/net/ipv4/nope: No such file or directory\n", 1],
    ["sysctl -w net.ipv4.nope=1", "sysctl: cannot stat /proc/sys/net/ipv4/nope: No such file or directory\n", 1],
    ["sysctl -w net.ipv4.ip_forward=abc", 'sysctl: setting key "net.ipv4.ip_forward": Invalid argument\n', 1],
    ["sysctl net.ipv4.ip_forward=", 'sysctl: setting key "net.ipv4.ip_forward": Invalid argument\n', 1],
    ["sysctl -w net.ipv4.ip_forward", "sysctl: command line(0): invalid syntax, continuing...\n", 1],
    ["sysctl -x", "sysctl: no variables specified\nTry `sysctl --help' for more information.\n", 1],
    ["sysctl -p /nonexistent", 'sysctl: cannot open "/nonexistent": No such file or directory\n', 1],
    ["sysctl -e net.ipv4.nope", "", 0],
  ];
  for (const [line, stderr, exit] of cases) {
    const r = await sh(host, line);
    t.deepEqual({ stderr: r.stderr, exit: r.exit }, { stderr, exit }, line);
  }
  const usage = await sh(host, "sysctl");
  t.is(usage.exit, 1);
  t.true(usage.stderr.startsWith("\nUsage:\n sysctl [options] [variable[=value] ...]\n\nOptions:\n  -a, --all            display all variables\n"));
});

test("sysctl lists a directory's keys and -a the namespace's keys, sorted", async (t) => {
  const { host } = await recordedHost();
  const dir = (await sh(host, "sysctl net.ipv4.conf.docker0")).stdout.split("\n").filter((l) => l !== "");
  t.true(dir.length > 3);
  t.true(dir.every((l) => l.startsWith("net.ipv4.conf.docker0.")));
  t.deepEqual(dir, [...dir].sort());
  const all = (await sh(host, "sysctl -a")).stdout.split("\n").filter((l) => l !== "");
  t.true(all.includes("net.ipv4.ip_forward = 0"));
  t.true(all.includes("net.ipv4.conf.vethkt1.forwarding = 0"));
  t.deepEqual((await sh(host, "sysctl -a -r ip_forward")).stdout, "net.ipv4.ip_forward = 0\n");
});

test("sysctl -p loads key = value lines from a file", async (t) => {
  const host = testHost();
  host.fs.writeFile("/etc/sysctl.d/k8s.conf", "# kubernetes\nnet.ipv4.ip_forward = 1\n; comment\nnet.ipv4.ip_default_ttl=32\n");
  t.deepEqual(await sh(host, "sysctl -p /etc/sysctl.d/k8s.conf"), {
    exit: 0,
    stdout: lines("net.ipv4.ip_forward = 1", "net.ipv4.ip_default_ttl = 32"),
    stderr: "",
  });
  t.is(host.kernel.root.sysctl.get("net.ipv4.ip_default_ttl"), "32");
});

test("busybox sysctl words its errors as busybox does", async (t) => {
  const host = testHost();
  const bb = (line: string) => sh(host, line, { busybox: true, netns: host.kernel.root });
  t.deepEqual(await bb("sysctl net.ipv4.ip_forward"), { exit: 0, stdout: "net.ipv4.ip_forward = 0\n", stderr: "" });
  t.deepEqual(await bb("sysctl -w net.ipv4.ip_forward=1"), { exit: 0, stdout: "net.ipv4.ip_forward = 1\n", stderr: "" });
  t.deepEqual(await bb("sysctl net.ipv4.ip_forward=0"), { exit: 0, stdout: "net.ipv4.ip_forward = 0\n", stderr: "" });
  t.deepEqual(await bb("sysctl -n net.ipv4.ip_forward"), { exit: 0, stdout: "0\n", stderr: "" });
  t.deepEqual(await bb("sysctl net.ipv4.nope"), { exit: 1, stdout: "", stderr: "sysctl: error: 'net.ipv4.nope' is an unknown key\n" });
  t.deepEqual(await bb("sysctl -w net.ipv4.nope=1"), { exit: 1, stdout: "", stderr: "sysctl: error: 'net.ipv4.nope' is an unknown key\n" });
  t.deepEqual(await bb("sysctl -w net.ipv4.ip_forward=abc"), { exit: 1, stdout: "", stderr: "sysctl: write error: Invalid argument\n" });
  t.deepEqual(await bb("sysctl -e net.ipv4.nope"), { exit: 1, stdout: "", stderr: "" });
  t.deepEqual(await bb("sysctl -q -w net.ipv4.ip_forward=0"), { exit: 0, stdout: "", stderr: "" });
});
