import test from "ava";
import { formatMacAddr } from "@kemu/wire";
import { lines, recordedHost, sh } from "./_net_fixture.ts";
import { testHost } from "../_testing.ts";

// Golden samples recorded with iproute2 6.1.0 (Debian 12, Linux 6.18) in
// namespaces set up by SETUP. The model has no IPv6: the inet6 lines of the
// real output are left out.

test("ip addr on the host matches iproute2: bridge, veth with @ifN, master, link-netns", async (t) => {
  const { host } = await recordedHost();
  const r = await sh(host, "ip addr");
  t.is(r.exit, 0);
  t.is(
    r.stdout,
    lines(
      "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000",
      "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00",
      "    inet 127.0.0.1/8 scope host lo",
      "       valid_lft forever preferred_lft forever",
      "2: docker0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000",
      "    link/ether 02:42:5e:2b:1c:0a brd ff:ff:ff:ff:ff:ff",
      "    inet 172.17.0.1/16 brd 172.17.255.255 scope global docker0",
      "       valid_lft forever preferred_lft forever",
      "3: vethkt1@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master docker0 state UP group default qlen 1000",
      "    link/ether 9a:3c:11:22:33:44 brd ff:ff:ff:ff:ff:ff link-netns ktc",
    ),
  );
});

test("ip addr in the container namespace: eth0@if3, no brd when none was given, lo got 127.0.0.1 when brought up", async (t) => {
  const { host } = await recordedHost();
  const r = await sh(host, "ip netns exec ktc ip addr");
  t.is(
    r.stdout,
    lines(
      "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000",
      "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00",
      "    inet 127.0.0.1/8 scope host lo",
      "       valid_lft forever preferred_lft forever",
      "2: eth0@if3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000",
      "    link/ether 02:42:ac:11:00:02 brd ff:ff:ff:ff:ff:ff link-netns kth",
      "    inet 172.17.0.2/16 scope global eth0",
      "       valid_lft forever preferred_lft forever",
    ),
  );
});

test("a peer namespace without a name shows as link-netnsid", async (t) => {
  const { host } = await recordedHost();
  host.namedNetns.delete("kth");
  const r = await sh(host, "ip -n ktc link show eth0");
  t.is(
    r.stdout,
    lines(
      "2: eth0@if3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000",
      "    link/ether 02:42:ac:11:00:02 brd ff:ff:ff:ff:ff:ff link-netnsid 0",
    ),
  );
});

test("ip link, ip -o link, ip -br link and ip -br addr match iproute2", async (t) => {
  const { host } = await recordedHost();
  t.is(
    (await sh(host, "ip link")).stdout,
    lines(
      "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000",
      "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00",
      "2: docker0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000",
      "    link/ether 02:42:5e:2b:1c:0a brd ff:ff:ff:ff:ff:ff",
      "3: vethkt1@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master docker0 state UP mode DEFAULT group default qlen 1000",
      "    link/ether 9a:3c:11:22:33:44 brd ff:ff:ff:ff:ff:ff link-netns ktc",
    ),
  );
  t.is(
    (await sh(host, "ip -o link")).stdout,
    lines(
      "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00",
      "2: docker0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\\    link/ether 02:42:5e:2b:1c:0a brd ff:ff:ff:ff:ff:ff",
      "3: vethkt1@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master docker0 state UP mode DEFAULT group default qlen 1000\\    link/ether 9a:3c:11:22:33:44 brd ff:ff:ff:ff:ff:ff link-netns ktc",
    ),
  );
  t.is(
    (await sh(host, "ip -br link")).stdout,
    lines(
      "lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP> ",
      "docker0          UP             02:42:5e:2b:1c:0a <BROADCAST,MULTICAST,UP,LOWER_UP> ",
      "vethkt1@if2      UP             9a:3c:11:22:33:44 <BROADCAST,MULTICAST,UP,LOWER_UP> ",
    ),
  );
  t.is(
    (await sh(host, "ip -br addr")).stdout,
    lines("lo               UNKNOWN        127.0.0.1/8 ", "docker0          UP             172.17.0.1/16 ", "vethkt1@if2      UP             "),
  );
});

test("ip -4 addr leaves out links without IPv4 and the link/ether lines; -o puts each address on one line", async (t) => {
  const { host } = await recordedHost();
  t.is(
    (await sh(host, "ip -4 addr")).stdout,
    lines(
      "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000",
      "    inet 127.0.0.1/8 scope host lo",
      "       valid_lft forever preferred_lft forever",
      "2: docker0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000",
      "    inet 172.17.0.1/16 brd 172.17.255.255 scope global docker0",
      "       valid_lft forever preferred_lft forever",
    ),
  );
  t.is(
    (await sh(host, "ip -o addr")).stdout,
    lines(
      "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever",
      "2: docker0    inet 172.17.0.1/16 brd 172.17.255.255 scope global docker0\\       valid_lft forever preferred_lft forever",
    ),
  );
  t.is((await sh(host, "ip -4 -o addr show dev lo")).stdout, lines("1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever"));
});

test("ip -s link prints the counters in iproute2's sized columns", async (t) => {
  const { host } = await recordedHost();
  const docker0 = host.kernel.root.deviceByName("docker0")!;
  Object.assign(docker0.stats, { rxBytes: 488, rxPackets: 7, multicast: 7, txBytes: 720, txPackets: 8, txDropped: 1 });
  t.is(
    (await sh(host, "ip -s link show docker0")).stdout,
    lines(
      "2: docker0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000",
      "    link/ether 02:42:5e:2b:1c:0a brd ff:ff:ff:ff:ff:ff",
      "    RX:  bytes packets errors dropped  missed   mcast           ",
      "           488       7      0       0       0       7 ",
      "    TX:  bytes packets errors dropped carrier collsns           ",
      "           720       8      0       1       0       0 ",
    ),
  );
  const lo = host.kernel.root.lo;
  Object.assign(lo.stats, { rxBytes: 3193, rxPackets: 29, txBytes: 3193, txPackets: 29 });
  t.is(
    (await sh(host, "ip -s -s link show lo")).stdout,
    lines(
      "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000",
      "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00",
      "    RX:  bytes packets errors dropped  missed   mcast           ",
      "          3193      29      0       0       0       0 ",
      "    RX errors:  length    crc   frame    fifo overrun",
      "                     0      0       0       0       0 ",
      "    TX:  bytes packets errors dropped carrier collsns           ",
      "          3193      29      0       0       0       0 ",
      "    TX errors: aborted   fifo  window heartbt transns",
      "                     0      0       0       0       0 ",
    ),
  );
});

test("ip -d link shows the veth and bridge_slave details", async (t) => {
  const { host } = await recordedHost();
  const out = (await sh(host, "ip -d link show vethkt1")).stdout.split("\n");
  t.is(out[1], "    link/ether 9a:3c:11:22:33:44 brd ff:ff:ff:ff:ff:ff link-netns ktc promiscuity 1  allmulti 1 minmtu 68 maxmtu 65535 ");
  t.is(out[2], "    veth ");
  t.regex(out[3]!, /^ {4}bridge_slave state forwarding priority 32 cost 2 hairpin off guard off root_block off fastleave off learning on flood on port_id 0x8001 port_no 0x1 designated_port 32769 designated_cost 0 designated_bridge 8000.2:42:5e:2b:1c:a designated_root 8000.2:42:5e:2b:1c:a /);
  const lo = (await sh(host, "ip -d addr show lo")).stdout.split("\n");
  t.is(
    lo[1],
    "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00 promiscuity 0  allmulti 0 minmtu 0 maxmtu 0 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536 ",
  );
});

test("ip route and ip route show table local, host and container", async (t) => {
  const { host, ktc } = await recordedHost();
  t.is((await sh(host, "ip route")).stdout, lines("172.17.0.0/16 dev docker0 proto kernel scope link src 172.17.0.1 "));
  t.is(
    (await sh(host, "ip route show table local")).stdout,
    lines(
      "local 127.0.0.0/8 dev lo proto kernel scope host src 127.0.0.1 ",
      "local 127.0.0.1 dev lo proto kernel scope host src 127.0.0.1 ",
      "broadcast 127.255.255.255 dev lo proto kernel scope link src 127.0.0.1 ",
      "local 172.17.0.1 dev docker0 proto kernel scope host src 172.17.0.1 ",
      "broadcast 172.17.255.255 dev docker0 proto kernel scope link src 172.17.0.1 ",
    ),
  );
  t.is(
    (await sh(host, "ip route", { netns: ktc })).stdout,
    lines("default via 172.17.0.1 dev eth0 ", "172.17.0.0/16 dev eth0 proto kernel scope link src 172.17.0.2 "),
  );
});

/** The routes added in the container during the recording, then the listings. */
async function routedContainer() {
  const { host, ktc } = await recordedHost();
  for (const line of [
    "ip route add blackhole 10.9.0.0/16",
    "ip route add unreachable 10.8.0.0/16",
    "ip route add prohibit 10.7.0.0/16",
    "ip route add 10.6.0.0/16 via 172.17.0.1 metric 100 proto static",
    "ip route add 10.5.0.0/16 dev eth0 src 172.17.0.2",
    "ip route add local 10.3.0.1 dev eth0",
    "ip route add 10.2.0.0/16 via 172.17.0.1 table 100",
  ]) {
    const r = await sh(host, line, { netns: ktc });
    if (r.exit !== 0) throw new Error(`${line}: ${r.stderr}`);
  }
  return { host, ktc };
}

test("ip route lists route types, metrics and protocols in the FIB's order", async (t) => {
  const { host, ktc } = await routedContainer();
  t.is(
    (await sh(host, "ip route", { netns: ktc })).stdout,
    lines(
      "default via 172.17.0.1 dev eth0 ",
      "10.5.0.0/16 dev eth0 scope link src 172.17.0.2 ",
      "10.6.0.0/16 via 172.17.0.1 dev eth0 proto static metric 100 ",
      "prohibit 10.7.0.0/16 ",
      "unreachable 10.8.0.0/16 ",
      "blackhole 10.9.0.0/16 ",
      "172.17.0.0/16 dev eth0 proto kernel scope link src 172.17.0.2 ",
    ),
  );
  t.is(
    (await sh(host, "ip -d route", { netns: ktc })).stdout,
    lines(
      "unicast default via 172.17.0.1 dev eth0 proto boot scope global ",
      "unicast 10.5.0.0/16 dev eth0 proto boot scope link src 172.17.0.2 ",
      "unicast 10.6.0.0/16 via 172.17.0.1 dev eth0 proto static scope global metric 100 ",
      "prohibit 10.7.0.0/16 proto boot scope global ",
      "unreachable 10.8.0.0/16 proto boot scope global ",
      "blackhole 10.9.0.0/16 proto boot scope global ",
      "unicast 172.17.0.0/16 dev eth0 proto kernel scope link src 172.17.0.2 ",
    ),
  );
  t.is(
    (await sh(host, "ip route show dev eth0", { netns: ktc })).stdout,
    lines(
      "default via 172.17.0.1 ",
      "10.5.0.0/16 scope link src 172.17.0.2 ",
      "10.6.0.0/16 via 172.17.0.1 proto static metric 100 ",
      "172.17.0.0/16 proto kernel scope link src 172.17.0.2 ",
    ),
  );
  t.is((await sh(host, "ip route show 10.6.0.0/16", { netns: ktc })).stdout, lines("10.6.0.0/16 via 172.17.0.1 dev eth0 proto static metric 100 "));
  t.is(
    (await sh(host, "ip route show table all", { netns: ktc })).stdout,
    lines(
      "10.2.0.0/16 via 172.17.0.1 dev eth0 table 100 ",
      "default via 172.17.0.1 dev eth0 ",
      "10.5.0.0/16 dev eth0 scope link src 172.17.0.2 ",
      "10.6.0.0/16 via 172.17.0.1 dev eth0 proto static metric 100 ",
      "prohibit 10.7.0.0/16 ",
      "unreachable 10.8.0.0/16 ",
      "blackhole 10.9.0.0/16 ",
      "172.17.0.0/16 dev eth0 proto kernel scope link src 172.17.0.2 ",
      "local 10.3.0.1 dev eth0 table local scope host ",
      "local 127.0.0.0/8 dev lo table local proto kernel scope host src 127.0.0.1 ",
      "local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.1 ",
      "broadcast 127.255.255.255 dev lo table local proto kernel scope link src 127.0.0.1 ",
      "local 172.17.0.2 dev eth0 table local proto kernel scope host src 172.17.0.2 ",
      "broadcast 172.17.255.255 dev eth0 table local proto kernel scope link src 172.17.0.2 ",
    ),
  );
});

test("ip route get answers like the kernel, with its cache line", async (t) => {
  const { host, ktc } = await routedContainer();
  const get = async (addr: string) => sh(host, `ip route get ${addr}`, { netns: ktc });
  t.is((await get("8.8.8.8")).stdout, "8.8.8.8 via 172.17.0.1 dev eth0 src 172.17.0.2 uid 0 \n    cache \n");
  t.is((await get("172.17.0.1")).stdout, "172.17.0.1 dev eth0 src 172.17.0.2 uid 0 \n    cache \n");
  t.is((await get("172.17.0.2")).stdout, "local 172.17.0.2 dev lo src 172.17.0.2 uid 0 \n    cache <local> \n");
  t.is((await get("127.0.0.1")).stdout, "local 127.0.0.1 dev lo src 127.0.0.1 uid 0 \n    cache <local> \n");
  t.is((await get("172.17.255.255")).stdout, "broadcast 172.17.255.255 dev eth0 src 172.17.0.2 uid 0 \n    cache <local,brd> \n");
  t.is((await sh(host, "ip route get 10.0.0.1 from 172.17.0.2", { netns: ktc })).stdout, "10.0.0.1 from 172.17.0.2 via 172.17.0.1 dev eth0 uid 0 \n    cache \n");
  t.deepEqual(await get("10.9.1.1"), { exit: 2, stdout: "", stderr: "RTNETLINK answers: Invalid argument\n" });
  t.deepEqual(await get("10.8.1.1"), { exit: 2, stdout: "", stderr: "RTNETLINK answers: No route to host\n" });
  t.deepEqual(await get("10.7.1.1"), { exit: 2, stdout: "", stderr: "RTNETLINK answers: Permission denied\n" });
  t.deepEqual(await sh(host, "ip route get 8.8.8.8"), { exit: 2, stdout: "", stderr: "RTNETLINK answers: Network is unreachable\n" });
  t.deepEqual(await get("foo"), { exit: 1, stdout: "", stderr: 'Error: any valid prefix is expected rather than "foo".\n' });
});

test("routes through a device without carrier say linkdown; the local route does not", async (t) => {
  const host = testHost();
  for (const line of [
    "ip link add va type veth peer name vb",
    "ip addr add 10.0.0.1/24 dev va",
    "ip link set va up",
    "ip route add 10.1.0.0/16 via 10.0.0.5",
    "ip route add 10.2.0.0/16 dev va table 100",
  ]) {
    t.is((await sh(host, line)).exit, 0, line);
  }
  t.is((await sh(host, "ip route")).stdout, lines("10.0.0.0/24 dev va proto kernel scope link src 10.0.0.1 linkdown ", "10.1.0.0/16 via 10.0.0.5 dev va linkdown "));
  t.is((await sh(host, "ip route show table 100")).stdout, lines("10.2.0.0/16 dev va scope link linkdown "));
  const local = (await sh(host, "ip route show table local")).stdout;
  t.true(local.includes("local 10.0.0.1 dev va proto kernel scope host src 10.0.0.1 \n"));
  t.true(local.includes("broadcast 10.0.0.255 dev va proto kernel scope link src 10.0.0.1 linkdown \n"));
});

test("veth pairs, bridges and ports in every up/down combination show flags and states as iproute2 does", async (t) => {
  const host = testHost();
  const ns = host.kernel.createNetns();
  host.namedNetns.set("ktx", ns);
  const x = (line: string) => sh(host, line, { netns: ns });
  await x("ip link add br0 type bridge");
  await x("ip link add va type veth peer name vb");
  const macs = { br0: "2e:59:94:37:e0:bf", vb: "ae:fb:1b:5d:1f:5e", va: "0a:2b:8f:d0:5c:bd" };
  for (const [dev, mac] of Object.entries(macs)) await x(`ip link set ${dev} address ${mac}`);
  t.is(
    (await x("ip link")).stdout,
    lines(
      "1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN mode DEFAULT group default qlen 1000",
      "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00",
      "2: br0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000",
      "    link/ether 2e:59:94:37:e0:bf brd ff:ff:ff:ff:ff:ff",
      "3: vb@va: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000",
      "    link/ether ae:fb:1b:5d:1f:5e brd ff:ff:ff:ff:ff:ff",
      "4: va@vb: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000",
      "    link/ether 0a:2b:8f:d0:5c:bd brd ff:ff:ff:ff:ff:ff",
    ),
  );
  await x("ip link set va up");
  await x("ip link set va master br0");
  await x("ip link set br0 up");
  t.is(
    (await x("ip link")).stdout.split("\n").filter((l) => !l.startsWith(" ")).join("\n"),
    [
      "1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN mode DEFAULT group default qlen 1000",
      "2: br0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state DOWN mode DEFAULT group default qlen 1000",
      "3: vb@va: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000",
      "4: va@vb: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1500 qdisc noqueue master br0 state LOWERLAYERDOWN mode DEFAULT group default qlen 1000",
      "",
    ].join("\n"),
  );
  t.is(
    (await x("ip -br link")).stdout,
    lines(
      "lo               DOWN           00:00:00:00:00:00 <LOOPBACK> ",
      "br0              DOWN           2e:59:94:37:e0:bf <NO-CARRIER,BROADCAST,MULTICAST,UP> ",
      "vb@va            DOWN           ae:fb:1b:5d:1f:5e <BROADCAST,MULTICAST> ",
      "va@vb            LOWERLAYERDOWN 0a:2b:8f:d0:5c:bd <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> ",
    ),
  );
  await x("ip link set vb up");
  t.is(
    (await x("ip link")).stdout.split("\n").filter((l) => !l.startsWith(" ")).slice(1).join("\n"),
    [
      "2: br0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000",
      "3: vb@va: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000",
      "4: va@vb: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master br0 state UP mode DEFAULT group default qlen 1000",
      "",
    ].join("\n"),
  );
});

test("ip link add puts the veth peer first, names unnamed devices veth0…, and del takes the pair", async (t) => {
  const host = testHost();
  t.is((await sh(host, "ip link add kt1 type veth peer kt2")).exit, 0);
  t.is((await sh(host, "ip link add kt3 type veth")).exit, 0);
  t.is((await sh(host, "ip link add type veth")).exit, 0);
  const heads = (await sh(host, "ip link")).stdout.split("\n").filter((l) => /^\d/.test(l)).map((l) => l.split(":").slice(0, 2).join(":"));
  t.deepEqual(heads, ["1: lo", "2: kt2@kt1", "3: kt1@kt2", "4: veth0@kt3", "5: kt3@veth0", "6: veth1@veth2", "7: veth2@veth1"]);
  t.is((await sh(host, "ip link del kt3")).exit, 0);
  t.is(host.kernel.root.deviceByName("veth0"), undefined);
  t.deepEqual(await sh(host, "ip link add kt4 type veth peer name kt4"), { exit: 2, stdout: "", stderr: "RTNETLINK answers: File exists\n" });
});

/** [command line, stderr, exit status], recorded against iproute2 6.1.0 on Linux 6.18. */
const IP_ERRORS: Array<[string, string, number]> = [
  ["ip foo", 'Object "foo" is unknown, try "ip help".\n', 1],
  ["ip addr show dev eth9", 'Device "eth9" does not exist.\n', 1],
  ["ip addr show eth9", 'Device "eth9" does not exist.\n', 1],
  ["ip link show eth9", 'Device "eth9" does not exist.\n', 1],
  ["ip link set eth9 up", 'Cannot find device "eth9"\n', 1],
  ["ip link set dev eth9 up", 'Cannot find device "eth9"\n', 1],
  ["ip link set va bogus", 'Error: either "dev" is duplicate, or "bogus" is a garbage.\n', 255],
  ["ip addr add 10.0.0.1/24 dev eth9", 'Cannot find device "eth9"\n', 1],
  ["ip addr add x dev va", 'Error: any valid prefix is expected rather than "x".\n', 1],
  ["ip addr add 10.0.0.1/24 dev va", "Error: ipv4: Address already assigned.\n", 2],
  ["ip addr del 10.0.0.9/24 dev va", "Error: ipv4: Address not found.\n", 2],
  ["ip addr del 10.0.0.1/24", 'Not enough information: "dev" argument is required.\n', 1],
  ["ip addr add 10.0.0.1/33 dev va", 'Error: any valid prefix is expected rather than "10.0.0.1/33".\n', 1],
  ["ip addr add 10.0.0.2/24 dev va foo", 'Error: either "local" is duplicate, or "foo" is a garbage.\n', 255],
  ["ip route add 10.1.0.0/16 via 10.9.9.9", "Error: Nexthop has invalid gateway.\n", 2],
  ["ip route add 10.1.0.0/16 via 10.0.0.5", "RTNETLINK answers: File exists\n", 2],
  ["ip route add 10.1.0.0/16 dev eth9", 'Cannot find device "eth9"\n', 1],
  ["ip route add foo via 10.0.0.5", 'Error: any valid prefix is expected rather than "foo".\n', 1],
  ["ip route add 10.1.0.0/16 via foo", 'Error: inet address is expected rather than "foo".\n', 1],
  ["ip route add 10.1.0.0/16 via 10.0.0.5 bogus", 'Error: either "to" is duplicate, or "bogus" is a garbage.\n', 255],
  ["ip route add 10.1.2.3/16 dev va", "Error: Invalid prefix for given prefix length.\n", 2],
  ["ip route add 10.3.0.0/16", "RTNETLINK answers: No such device\n", 2],
  ["ip route add 10.4.0.0/16 via 10.0.0.9 onlink", "Error: Nexthop device required for onlink.\n", 2],
  ["ip route del 10.7.0.0/16", "RTNETLINK answers: No such process\n", 2],
  ["ip route show table bogus", 'Error: argument "bogus" is wrong: table id value is invalid\n\n', 255],
  ["ip route flush", '"ip route flush" requires arguments.\n', 1],
  ["ip neigh add 10.0.0.7 lladdr 02:00:00:00:00:07 dev va", "RTNETLINK answers: File exists\n", 2],
  ["ip neigh add 10.0.0.8 lladdr zz dev va", '"zz" is invalid lladdr.\n', 1],
  ["ip neigh add 10.0.0.9 dev va", "Error: No link layer address given.\n", 2],
  ["ip neigh del 10.0.0.99 dev va", "RTNETLINK answers: No such file or directory\n", 2],
  ["ip neigh change 10.0.0.99 dev va lladdr 02:00:00:00:00:01", "RTNETLINK answers: No such file or directory\n", 2],
  ["ip neigh flush", "Flush requires arguments.\n", 1],
  ["ip neigh del 10.0.0.7", "Device and destination are required arguments.\n", 255],
  ["ip addr flush", "Flush requires arguments.\n", 1],
  ["ip link add va type veth peer name vc", "RTNETLINK answers: File exists\n", 2],
  ["ip link add vx type bogus", "Error: Unknown device type.\n", 2],
  ["ip link add", 'Not enough information: "type" argument is required\n', 1],
  ["ip link add name ktq dev ktr type bridge", 'both "name" and "dev" cannot be used when creating devices.\n', 255],
  ["ip link add aaaaaaaaaaaaaaaaaaaaaa type bridge", "Error: Attribute failed policy validation.\n", 2],
  ["ip link add ktq type veth foo", "Usage: ip link <options> type veth [peer <options>]\nTo get <options> type 'ip link add help'\n", 1],
  ["ip link del eth9", 'Cannot find device "eth9"\n', 1],
  ["ip link del lo", "RTNETLINK answers: Operation not supported\n", 2],
  ["ip link set va mtu abc", 'Error: argument "abc" is wrong: Invalid "mtu" value\n\n', 255],
  ["ip link set va mtu 70000", "Error: mtu greater than device maximum.\n", 2],
  ["ip link set va mtu 20", "Error: mtu less than device minimum.\n", 2],
  ["ip link set va address zz", '"zz" is invalid lladdr.\n', 1],
  ["ip link set va address 01:00:00:00:00:01", "RTNETLINK answers: Cannot assign requested address\n", 2],
  ["ip link set va address 01:00:00", "Invalid address length 3 - must be 6 bytes\n", 1],
  ["ip link set va master nope", 'Error: argument "nope" is wrong: Device does not exist\n\n', 255],
  ["ip link set va master vb", "RTNETLINK answers: Operation not supported\n", 2],
  ["ip link set br0 master br0", "Error: Can not enslave a bridge to a bridge.\n", 2],
  ["ip link set lo master br0", "RTNETLINK answers: Invalid argument\n", 2],
  ["ip link set va netns nope", 'Error: argument "nope" is wrong: Invalid "netns" value\n\n', 255],
  ["ip link set lo netns ktc", "Error: The interface netns is immutable.\n", 2],
  ["ip link set br0 netns ktc", "Error: The interface netns is immutable.\n", 2],
  ["ip link set va promisc foo", 'Error: argument of "promisc" must be "on" or "off", not "foo"\n', 1],
  ["ip link set dev", 'Command line is not complete. Try option "help"\n', 255],
  ["ip link set", 'Not enough information: "dev" argument is required.\n', 255],
  ["ip addr frobnicate", 'Command "frobnicate" is unknown, try "ip address help".\n', 255],
  ["ip route frobnicate", 'Command "frobnicate" is unknown, try "ip route help".\n', 255],
  ["ip link frobnicate", 'Command "frobnicate" is unknown, try "ip link help".\n', 255],
  ["ip neigh frobnicate", 'Command "frobnicate" is unknown, try "ip neigh help".\n', 255],
  ["ip -q addr", 'Option "-q" is unknown, try "ip -help".\n', 255],
  ["ip -n nope link", 'Cannot open network namespace "nope": No such file or directory\n', 255],
  ["ip netns exec nope ls", 'Cannot open network namespace "nope": No such file or directory\n', 255],
  ["ip netns exec ktc nosuchcmd", 'exec of "nosuchcmd" failed: No such file or directory\n', 1],
  ["ip netns exec ktc", "No command specified\n", 1],
  ["ip netns exec", "No netns name specified\n", 1],
  ["ip netns add", "No netns name specified\n", 1],
  ["ip netns del", "No netns name specified\n", 1],
  ["ip netns del nope", 'Cannot remove namespace file "/run/netns/nope": No such file or directory\n', 1],
  ["ip netns add ktc", 'Cannot create namespace file "/run/netns/ktc": File exists\n', 1],
  ["ip netns add a/b", 'Invalid netns name "a/b"\n', 255],
  ["ip netns foo", 'Command "foo" is unknown, try "ip netns help".\n', 255],
];

test("ip's errors have iproute2's wording and exit status", async (t) => {
  const host = testHost();
  for (const line of [
    "ip netns add ktc",
    "ip link add br0 type bridge",
    "ip link add va type veth peer name vb",
    "ip link set va up",
    "ip addr add 10.0.0.1/24 dev va",
    "ip route add 10.1.0.0/16 via 10.0.0.5",
    "ip neigh add 10.0.0.7 lladdr 02:00:00:00:00:07 dev va",
  ]) {
    t.is((await sh(host, line)).exit, 0, line);
  }
  for (const [line, stderr, exit] of IP_ERRORS) {
    const r = await sh(host, line);
    t.deepEqual({ stderr: r.stderr, exit: r.exit }, { stderr, exit }, line);
  }
});

test("keywords abbreviate as iproute2 allows: ip a, ip r l, ip n, ip a s X, ip l s dev X up", async (t) => {
  const { host } = await recordedHost();
  const full = (await sh(host, "ip address show")).stdout;
  t.is((await sh(host, "ip a")).stdout, full);
  t.is((await sh(host, "ip ad")).stdout, full);
  t.is((await sh(host, "ip addr")).stdout, full);
  t.is((await sh(host, "ip a s docker0")).stdout, (await sh(host, "ip address show dev docker0")).stdout);
  t.is((await sh(host, "ip r l")).stdout, (await sh(host, "ip route list")).stdout);
  t.is((await sh(host, "ip ro sh")).stdout, (await sh(host, "ip route")).stdout);
  t.is((await sh(host, "ip n")).exit, 0);
  t.is((await sh(host, "ip nei")).exit, 0);
  t.is((await sh(host, "ip neighbour show")).exit, 0);
  t.is((await sh(host, "ip l s dev vethkt1 down")).exit, 0);
  t.false(host.kernel.root.deviceByName("vethkt1")!.adminUp);
  t.is((await sh(host, "ip r a 10.9.0.0/16 via 172.17.0.9")).exit, 0);
  t.is((await sh(host, "ip r d 10.9.0.0/16")).exit, 0);
});

test("ip neigh add, show with trailing spaces, flush keeps permanent entries", async (t) => {
  const { host, ktc } = await recordedHost();
  const c = (line: string) => sh(host, line, { netns: ktc });
  t.is((await c("ip neigh add 172.17.0.50 lladdr 02:00:00:00:00:50 dev eth0")).exit, 0);
  t.is((await c("ip neigh add 172.17.0.51 dev eth0 nud noarp lladdr 02:00:00:00:00:51")).exit, 0);
  t.is((await c("ip neigh add 172.17.0.52 dev eth0 nud stale lladdr 02:00:00:00:00:52")).exit, 0);
  t.is(
    (await c("ip neigh")).stdout,
    lines("172.17.0.50 dev eth0 lladdr 02:00:00:00:00:50 PERMANENT ", "172.17.0.52 dev eth0 lladdr 02:00:00:00:00:52 STALE "),
  );
  t.is(
    (await c("ip neigh show nud all")).stdout,
    lines(
      "172.17.0.50 dev eth0 lladdr 02:00:00:00:00:50 PERMANENT ",
      "172.17.0.51 dev eth0 lladdr 02:00:00:00:00:51 NOARP ",
      "172.17.0.52 dev eth0 lladdr 02:00:00:00:00:52 STALE ",
    ),
  );
  t.is((await c("ip neigh show dev eth0 172.17.0.50")).stdout, lines("172.17.0.50 lladdr 02:00:00:00:00:50 PERMANENT "));
  t.is((await c("ip neigh flush dev eth0")).exit, 0);
  t.is(
    (await c("ip neigh show nud all")).stdout,
    lines("172.17.0.50 dev eth0 lladdr 02:00:00:00:00:50 PERMANENT ", "172.17.0.51 dev eth0 lladdr 02:00:00:00:00:51 NOARP "),
  );
  t.is((await c("ip neigh del 172.17.0.50 dev eth0")).exit, 0);
  t.is((await c("ip neigh")).stdout, "");
});

test("ip netns list shows ids the caller's namespace has assigned; identify names the current one", async (t) => {
  const { host, ktc } = await recordedHost();
  t.is((await sh(host, "ip netns list")).stdout, lines("kth", "ktc (id: 0)"));
  t.is((await sh(host, "ip netns")).stdout, lines("kth", "ktc (id: 0)"));
  t.is((await sh(host, "ip netns exec ktc ip netns list")).stdout, lines("kth (id: 0)", "ktc"));
  t.is((await sh(host, "ip netns identify", { netns: ktc })).stdout, "ktc\n");
  t.is((await sh(host, "ip netns add kt3")).exit, 0);
  t.is((await sh(host, "ip netns set kt3 7")).exit, 0);
  t.is((await sh(host, "ip netns list")).stdout, lines("kth", "ktc (id: 0)", "kt3 (id: 7)"));
  t.is((await sh(host, "ip netns del kt3")).exit, 0);
  t.is((await sh(host, "ip netns list")).stdout, lines("kth", "ktc (id: 0)"));
});

test("moving a veth end with ip link set netns: it keeps its index, arrives down, and the ids appear", async (t) => {
  const host = testHost();
  await sh(host, "ip netns add blue");
  await sh(host, "ip link add veth0 type veth peer name ceth0");
  t.is((await sh(host, "ip link set ceth0 netns blue")).exit, 0);
  t.is((await sh(host, "ip netns list")).stdout, "blue (id: 0)\n");
  t.is(
    (await sh(host, "ip netns exec blue ip link show ceth0")).stdout,
    lines(
      `2: ceth0@if3: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000`,
      `    link/ether ${formatMacAddr(host.namedNetns.get("blue")!.deviceByName("ceth0")!.mac)} brd ff:ff:ff:ff:ff:ff link-netnsid 0`,
    ),
  );
  t.is((await sh(host, "ip netns del blue")).exit, 0);
  t.is(host.kernel.root.deviceByName("veth0"), undefined, "the namespace took the pair with it");
});

test("busybox ip prints without state/group, @ indexes resolved locally with M-DOWN, routes with double spaces", async (t) => {
  const { host, ktc } = await recordedHost();
  const bb = (line: string, netns = host.kernel.root) => sh(host, line, { netns, busybox: true });
  t.is(
    (await bb("ip addr")).stdout,
    lines(
      "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue qlen 1000",
      "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00",
      "    inet 127.0.0.1/8 scope host lo",
      "       valid_lft forever preferred_lft forever",
      "2: docker0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue qlen 1000",
      "    link/ether 02:42:5e:2b:1c:0a brd ff:ff:ff:ff:ff:ff",
      "    inet 172.17.0.1/16 brd 172.17.255.255 scope global docker0",
      "       valid_lft forever preferred_lft forever",
      "3: vethkt1@docker0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master docker0 qlen 1000",
      "    link/ether 9a:3c:11:22:33:44 brd ff:ff:ff:ff:ff:ff",
    ),
  );
  t.is(
    (await bb("ip -o link")).stdout,
    lines(
      "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00",
      "2: docker0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue qlen 1000\\    link/ether 02:42:5e:2b:1c:0a brd ff:ff:ff:ff:ff:ff",
      "3: vethkt1@docker0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master docker0 qlen 1000\\    link/ether 9a:3c:11:22:33:44 brd ff:ff:ff:ff:ff:ff",
    ),
  );
  t.is((await bb("ip route")).stdout, lines("172.17.0.0/16 dev docker0 scope link  src 172.17.0.1 "));
  t.is(
    (await bb("ip route show table local")).stdout,
    lines(
      "local 127.0.0.0/8 dev lo scope host  src 127.0.0.1 ",
      "local 127.0.0.1 dev lo scope host  src 127.0.0.1 ",
      "broadcast 127.255.255.255 dev lo scope link  src 127.0.0.1 ",
      "local 172.17.0.1 dev docker0 scope host  src 172.17.0.1 ",
      "broadcast 172.17.255.255 dev docker0 scope link  src 172.17.0.1 ",
    ),
  );
  t.is((await bb("ip route get 8.8.8.8", ktc)).stdout, "8.8.8.8 via 172.17.0.1 dev eth0  src 172.17.0.2 \n");
  t.is((await bb("ip route get 172.17.0.2", ktc)).stdout, "local 172.17.0.2 dev lo  src 172.17.0.2 \n");
  t.is(
    (await bb("ip -4 addr", ktc)).stdout.split("\n")[3],
    "2: eth0@if3: <BROADCAST,MULTICAST,UP,LOWER_UP,M-DOWN> mtu 1500 qdisc noqueue qlen 1000",
    "index 3 does not exist in the container: busybox calls the link down",
  );
  t.is(
    (await bb("ip -o -4 addr", ktc)).stdout,
    lines(
      "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever",
      "2: eth0    inet 172.17.0.2/16 scope global eth0\\       valid_lft forever preferred_lft forever",
    ),
  );
  t.is((await bb("ip rule")).stdout, "0:\tfrom all lookup local \n32766:\tfrom all lookup main \n32767:\tfrom all lookup default \n");
  t.is((await sh(host, "ip rule")).stdout, "0:\tfrom all lookup local\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n");
});

test("busybox ip errors are busybox's", async (t) => {
  const { host, ktc } = await recordedHost();
  const bb = (line: string) => sh(host, line, { netns: ktc, busybox: true });
  const cases: Array<[string, string, number]> = [
    ["ip addr show dev eth9", "ip: can't find device 'eth9'\n", 1],
    ["ip link show eth9", "ip: can't find device 'eth9'\n", 2],
    ["ip link set eth9 up", "ip: SIOCGIFFLAGS: No such device\n", 2],
    ["ip route add 10.1.0.0/16 via 10.9.9.9", "ip: RTNETLINK answers: Network is unreachable\n", 2],
    ["ip route add 172.17.0.0/16 dev eth0", "ip: RTNETLINK answers: File exists\n", 2],
    ["ip route add 10.1.0.0/16 via foo", 'ip: an inet address is expected rather than "foo"\n', 1],
    ["ip route add 10.1.0.0/16 via 172.17.0.1 bogus", 'ip: either "to" is duplicate, or "bogus" is garbage\n', 1],
    ["ip route del 10.77.0.0/16", "ip: RTNETLINK answers: No such process\n", 2],
    ["ip addr add 172.17.0.2/16 dev eth0", "ip: RTNETLINK answers: File exists\n", 2],
    ["ip addr add 10.0.0.1/24 dev eth0 foo", 'ip: either "local" is duplicate, or "foo" is garbage\n', 1],
    ["ip addr frob", "ip: invalid argument 'frob' to 'ip'\n", 1],
    ["ip link frob", "ip: invalid argument 'frob' to 'ip'\n", 2],
    ["ip route frob", "ip: invalid argument 'frob' to 'ip'\n", 1],
    ["ip neigh add 172.17.0.9 lladdr 02:00:00:00:00:09 dev eth0", "ip: invalid argument 'add' to 'ip'\n", 1],
  ];
  for (const [line, stderr, exit] of cases) {
    const r = await bb(line);
    t.deepEqual({ stderr: r.stderr, exit: r.exit }, { stderr, exit }, line);
  }
  const usage = await bb("ip foo");
  t.is(usage.exit, 1);
  t.regex(usage.stderr, /^BusyBox v1\.36\.1 .*multi-call binary\.\n\nUsage: ip \[OPTIONS\] address\|route\|link\|tunnel\|neigh\|rule \[ARGS\]\n/);
  t.is((await bb("ip -br addr")).exit, 1);
});

test("busybox ip neigh shows the cache info busybox always prints", async (t) => {
  const { host, ktc } = await recordedHost();
  await sh(host, "ip neigh add 172.17.0.50 lladdr 02:00:00:00:00:50 dev eth0", { netns: ktc });
  await sh(host, "ip neigh add 172.17.0.52 dev eth0 nud stale lladdr 02:00:00:00:00:52", { netns: ktc });
  t.is(
    (await sh(host, "ip neigh", { netns: ktc, busybox: true })).stdout,
    lines(
      "172.17.0.50 dev eth0 lladdr 02:00:00:00:00:50 used 0/0/0 probes 0 PERMANENT",
      "172.17.0.52 dev eth0 lladdr 02:00:00:00:00:52 used 0/0/0 probes 0 STALE",
    ),
  );
});

/** The comparison session of the report: two veth pairs, a bridge, secondary and labelled addresses. */
async function selectorHost() {
  const host = testHost();
  const ns = host.kernel.createNetns();
  host.namedNetns.set("ktcmp", ns);
  for (const line of [
    "ip link add ktbr type bridge",
    "ip link add kta type veth peer name ktb",
    "ip link add ktd type veth peer name kte",
    "ip addr add 10.0.0.1/24 dev kta",
    "ip addr add 10.0.0.2/24 dev kta",
    "ip addr add 10.0.0.3/24 brd + dev kta label kta:1",
    "ip addr add 192.168.5.1/16 brd 192.168.255.255 scope link dev ktb",
    "ip addr add 127.0.0.2/8 dev ktd",
    "ip link set kta up",
    "ip link set ktb up",
    "ip link set ktbr up",
    "ip link set ktd master ktbr",
    "ip link set ktd up",
    "ip route add 10.20.0.0/16 via 10.0.0.10 metric 5",
  ]) {
    const r = await sh(host, line, { netns: ns });
    if (r.exit !== 0) throw new Error(`${line}: ${r.stderr}`);
  }
  return { host, ns };
}

test("address selectors: scope, label (no link lines), to (inet only), secondary; -br -4", async (t) => {
  const { host, ns } = await selectorHost();
  const x = (line: string) => sh(host, line, { netns: ns });
  const kta = "4: kta@ktb: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000";
  t.is(
    (await x("ip -4 addr show scope global")).stdout,
    lines(
      kta,
      "    inet 10.0.0.1/24 scope global kta",
      "       valid_lft forever preferred_lft forever",
      "    inet 10.0.0.2/24 scope global secondary kta",
      "       valid_lft forever preferred_lft forever",
      "    inet 10.0.0.3/24 brd 10.0.0.255 scope global secondary kta:1",
      "       valid_lft forever preferred_lft forever",
    ),
  );
  t.is((await x("ip addr show label kta:1")).stdout, lines("    inet 10.0.0.3/24 brd 10.0.0.255 scope global secondary kta:1", "       valid_lft forever preferred_lft forever"));
  t.is((await x("ip addr show to 10.0.0.0/24")).stdout, (await x("ip -4 addr show scope global")).stdout);
  t.is(
    (await x("ip -br -4 addr")).stdout,
    lines("ktb@kta          UP             192.168.5.1/16 ", "kta@ktb          UP             10.0.0.1/24 10.0.0.2/24 10.0.0.3/24 ", "ktd@kte          LOWERLAYERDOWN 127.0.0.2/8 "),
  );
  t.is((await x("ip -6 addr")).stdout, "", "no IPv6 in the model");
  t.is((await x("ip -4 link show lo")).stdout, lines("1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN mode DEFAULT group default qlen 1000", "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00"));
});

test("route selectors leave out the fields they fix: proto, scope, a /32 via", async (t) => {
  const { host, ns } = await selectorHost();
  const x = (line: string) => sh(host, line, { netns: ns });
  t.is(
    (await x("ip route show table main proto kernel")).stdout,
    lines(
      "10.0.0.0/24 dev kta scope link src 10.0.0.1 ",
      "127.0.0.0/8 dev ktd scope link src 127.0.0.2 linkdown ",
      "192.168.0.0/16 dev ktb scope link src 192.168.5.1 ",
    ),
  );
  t.is(
    (await x("ip route show scope link")).stdout,
    lines("10.0.0.0/24 dev kta proto kernel src 10.0.0.1 ", "127.0.0.0/8 dev ktd proto kernel src 127.0.0.2 linkdown ", "192.168.0.0/16 dev ktb proto kernel src 192.168.5.1 "),
  );
  t.is((await x("ip route show via 10.0.0.10")).stdout, lines("10.20.0.0/16 dev kta metric 5 "));
});

test("ip link shows the alias line; a device that was up keeps its noqueue qdisc when down", async (t) => {
  const { host, ns } = await selectorHost();
  const x = (line: string) => sh(host, line, { netns: ns });
  for (const line of ["ip link set kta down", "ip link set kta name ktz", "ip link set ktz mtu 9000", "ip link set ktz txqueuelen 500", "ip link set ktz promisc on", "ip link set ktz alias hello"]) {
    t.is((await x(line)).exit, 0, line);
  }
  const mac = (await x("ip -br link show ktz")).stdout.split(/\s+/)[2];
  t.is(
    (await x("ip link show ktz")).stdout,
    lines(
      "4: ktz@ktb: <BROADCAST,MULTICAST,PROMISC> mtu 9000 qdisc noqueue state DOWN mode DEFAULT group default qlen 500",
      `    link/ether ${mac} brd ff:ff:ff:ff:ff:ff`,
      "    alias hello",
    ),
  );
});
