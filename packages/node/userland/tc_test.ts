import test from "ava";
import { runCommand, testHost } from "../_testing.ts";
import type { Host } from "../host.ts";

function vethHost(): Host {
  const host = testHost();
  const k = host.kernel;
  const ns = k.createNetns();
  const [a, b] = k.createVeth(k.root, "d0", "eth0", { peerNs: ns });
  k.root.addAddress(a, { addr: 0x0a000001, prefixLen: 24 });
  ns.addAddress(b, { addr: 0x0a000002, prefixLen: 24 });
  k.root.setUp(a, true);
  ns.setUp(b, true);
  ns.setUp(ns.lo, true);
  return host;
}

const tc = (host: Host, ...argv: string[]) => runCommand(host, ["tc", ...argv]);

test("tc qdisc show: noqueue on a veth, then the netem that was added, as iproute2 prints them", async (t) => {
  const host = vethHost();
  t.is((await tc(host, "qdisc", "show", "dev", "d0")).stdout, "qdisc noqueue 0: root refcnt 2 \n");
  t.is((await tc(host, "qdisc", "add", "dev", "d0", "root", "netem", "delay", "100ms", "10ms", "loss", "10%", "rate", "1mbit")).exit, 0);
  t.is(
    (await tc(host, "qdisc", "show", "dev", "d0")).stdout,
    "qdisc netem 8001: root refcnt 2 limit 1000 delay 100ms  10ms loss 10% rate 1Mbit\n",
  );
  t.is((await tc(host, "qdisc", "change", "dev", "d0", "root", "netem", "loss", "5%")).exit, 0);
  t.regex((await tc(host, "qdisc")).stdout, /^qdisc netem 8001: dev d0 root refcnt 2 limit 1000 delay 100ms  10ms loss 5% rate 1Mbit$/m);
});

test("netem's delay shows in ping's round trip; deleting it restores the link", async (t) => {
  const host = vethHost();
  await tc(host, "qdisc", "add", "dev", "d0", "root", "netem", "delay", "50ms");
  // The first probe also waits for ARP, whose request netem delays too (as on Linux): look at the second.
  const slow = await runCommand(host, ["ping", "-c", "2", "-i", "0.2", "10.0.0.2"]);
  t.regex(slow.stdout, /icmp_seq=2 ttl=64 time=50\.\d ms/);
  await tc(host, "qdisc", "del", "dev", "d0", "root");
  const fast = await runCommand(host, ["ping", "-c", "1", "10.0.0.2"]);
  t.regex(fast.stdout, /time=0\.\d{3} ms/);
});

test("tc errors in iproute2's words", async (t) => {
  const host = vethHost();
  t.deepEqual(await tc(host, "qdisc", "del", "dev", "d0", "root"), { exit: 2, stdout: "", stderr: "Error: Cannot delete qdisc with handle of zero.\n" });
  t.deepEqual(await tc(host, "qdisc", "add", "dev", "d9", "root", "netem", "loss", "1%"), { exit: 1, stdout: "", stderr: 'Cannot find device "d9"\n' });
  const bad = await tc(host, "qdisc", "add", "dev", "d0", "root", "netem", "lose", "1%");
  t.is(bad.exit, 1);
  t.true(bad.stderr.startsWith('What is "lose"?\nUsage: ... netem [ limit PACKETS ]\n'));
  t.is((await tc(host, "qdisc", "change", "dev", "d0", "root", "netem", "loss", "1%")).stderr, "Error: Qdisc not found. To create specify NLM_F_CREATE flag.\n");
  await tc(host, "qdisc", "add", "dev", "d0", "root", "netem", "loss", "1%");
  t.is((await tc(host, "qdisc", "add", "dev", "d0", "root", "netem", "loss", "1%")).stderr, "Error: Exclusivity flag on, cannot modify.\n");
});
