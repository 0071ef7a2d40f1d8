import test from "ava";
import { testHost } from "../_testing.ts";
import { lines, sh } from "./_net_fixture.ts";

/** The random initval differs from run to run on the real tool: compare without it. */
const noInitval = (s: string): string => s.replace(/ initval 0x[0-9a-f]{8}/g, " initval 0x…");

test("ipset create/add/list print what ipset 7.17 prints", async (t) => {
  const host = testHost();
  for (const line of [
    "ipset create s1 hash:ip",
    "ipset add s1 10.0.0.1",
    "ipset add s1 10.0.0.2",
    "ipset create s3 hash:ip,port,ip",
    "ipset add s3 10.244.1.5,tcp:80,10.244.1.5",
    "ipset create s6 bitmap:port range 0-65535",
    "ipset add s6 30080",
    "ipset add s6 53",
  ]) {
    const r = await sh(host, line);
    t.is(r.exit, 0, `${line}: ${r.stderr}`);
  }
  // Recorded from the real ipset 7.17 (see the kernel's netfilter/testdata/README.md).
  t.is(
    noInitval((await sh(host, "ipset list")).stdout),
    lines(
      "Name: s1",
      "Type: hash:ip",
      "Revision: 6",
      "Header: family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x…",
      "Size in memory: 296",
      "References: 0",
      "Number of entries: 2",
      "Members:",
      "10.0.0.1",
      "10.0.0.2",
      "",
      "Name: s3",
      "Type: hash:ip,port,ip",
      "Revision: 6",
      "Header: family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x…",
      "Size in memory: 264",
      "References: 0",
      "Number of entries: 1",
      "Members:",
      "10.244.1.5,tcp:80,10.244.1.5",
      "",
      "Name: s6",
      "Type: bitmap:port",
      "Revision: 3",
      "Header: range 0-65535",
      "Size in memory: 8264",
      "References: 0",
      "Number of entries: 2",
      "Members:",
      "53",
      "30080",
    ),
  );
  t.is(noInitval((await sh(host, "ipset save s6")).stdout), lines("create s6 bitmap:port range 0-65535", "add s6 53", "add s6 30080"));
  t.is((await sh(host, "ipset list -n")).stdout, lines("s1", "s3", "s6"));
});

test("ipset test, add twice, del, destroy in use: the tool's messages and exit codes", async (t) => {
  const host = testHost();
  await sh(host, "ipset create s1 hash:ip");
  await sh(host, "ipset add s1 10.0.0.1");
  t.deepEqual(await sh(host, "ipset test s1 10.0.0.1"), { exit: 0, stdout: "", stderr: "Warning: 10.0.0.1 is in set s1.\n" });
  t.deepEqual(await sh(host, "ipset test s1 10.0.0.9"), { exit: 1, stdout: "", stderr: "10.0.0.9 is NOT in set s1.\n" });
  t.deepEqual(await sh(host, "ipset add s1 10.0.0.1"), { exit: 1, stdout: "", stderr: "ipset v7.17: Element cannot be added to the set: it's already added\n" });
  t.is((await sh(host, "ipset -exist add s1 10.0.0.1")).exit, 0);
  t.deepEqual(await sh(host, "ipset create s1 hash:ip"), { exit: 1, stdout: "", stderr: "ipset v7.17: Set cannot be created: set with the same name already exists\n" });
  t.deepEqual(await sh(host, "ipset del s1 10.0.0.99"), { exit: 1, stdout: "", stderr: "ipset v7.17: Element cannot be deleted from the set: it's not added\n" });
  t.deepEqual(await sh(host, "ipset list nosuch"), { exit: 1, stdout: "", stderr: "ipset v7.17: The set with the given name does not exist\n" });
  t.deepEqual(await sh(host, "ipset create x hash:foo"), { exit: 1, stdout: "", stderr: "ipset v7.17: Syntax error: typename 'hash:foo' is unknown\n" });
  await sh(host, "ipset create s2 hash:ip,port");
  t.deepEqual(await sh(host, "ipset add s2 1.2.3.4"), { exit: 1, stdout: "", stderr: "ipset v7.17: Syntax error: Second element is missing from 1.2.3.4.\n" });
  await sh(host, "iptables -A INPUT -m set --match-set s1 src -j ACCEPT");
  t.regex((await sh(host, "ipset list s1")).stdout, /\nReferences: 1\n/);
  t.deepEqual(await sh(host, "ipset destroy s1"), { exit: 1, stdout: "", stderr: "ipset v7.17: Set cannot be destroyed: it is in use by a kernel component\n" });
});
