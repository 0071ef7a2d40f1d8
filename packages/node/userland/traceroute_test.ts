import test from "ava";
import { parseIpv4Addr } from "@kemu/wire";
import { runCommand, testHost } from "../_testing.ts";

/** node1 — router — far, each pair on a veth; forwarding on the router. */
function topology() {
  const host = testHost();
  const k = host.kernel;
  const root = k.root;
  const router = k.createNetns();
  const far = k.createNetns();
  const ip = (s: string) => parseIpv4Addr(s)!;
  const [a, r0] = k.createVeth(root, "eth1", "eth0", { peerNs: router });
  const [r1, f] = k.createVeth(router, "eth1", "eth0", { peerNs: far });
  root.addAddress(a, { addr: ip("10.1.0.2"), prefixLen: 24 });
  router.addAddress(r0, { addr: ip("10.1.0.1"), prefixLen: 24 });
  router.addAddress(r1, { addr: ip("10.2.0.1"), prefixLen: 24 });
  far.addAddress(f, { addr: ip("10.2.0.2"), prefixLen: 24 });
  for (const [ns, d] of [[root, a], [router, r0], [router, r1], [far, f]] as const) ns.setUp(d, true);
  router.setUp(router.lo, true);
  far.setUp(far.lo, true);
  root.addRoute({ dst: ip("10.2.0.0"), dstLen: 24, gateway: ip("10.1.0.1") });
  far.addRoute({ dst: 0, dstLen: 0, gateway: ip("10.2.0.1") });
  router.sysctl.set("net.ipv4.ip_forward", "1");
  return host;
}

test("traceroute lists each hop, then the destination, as Linux traceroute prints it", async (t) => {
  const r = await runCommand(topology(), ["traceroute", "-n", "10.2.0.2"]);
  t.is(r.exit, 0, r.stderr);
  const lines = r.stdout.split("\n");
  t.is(lines[0], "traceroute to 10.2.0.2 (10.2.0.2), 30 hops max, 60 byte packets");
  t.regex(lines[1]!, /^ 1  10\.1\.0\.1  \d+\.\d{3} ms  \d+\.\d{3} ms  \d+\.\d{3} ms$/);
  t.regex(lines[2]!, /^ 2  10\.2\.0\.2  \d+\.\d{3} ms  \d+\.\d{3} ms  \d+\.\d{3} ms$/);
  t.is(lines.length, 4);
});

test("a hop that does not answer shows stars; an unknown host is refused in busybox's words", async (t) => {
  const host = topology();
  host.kernel.namespaces()[1]!.sysctl.set("net.ipv4.ip_forward", "0");
  const r = await runCommand(host, ["traceroute", "-n", "-m", "2", "-w", "1", "10.2.0.2"]);
  t.regex(r.stdout, /^ 1  \* \* \*\n 2  \* \* \*\n$/m);
  const bad = await runCommand(host, ["traceroute", "nosuchhost"], { busybox: true });
  t.is(bad.exit, 1);
  t.is(bad.stderr, "traceroute: bad address 'nosuchhost'\n");
});
