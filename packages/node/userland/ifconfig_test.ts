import test from "ava";
import type { NetDevice } from "@kemu/kernel";
import { lines, recordedHost, sh } from "./_net_fixture.ts";

// Recorded with net-tools 2.10 and busybox 1.35 (Debian 12) on the SETUP
// topology; counters set to the recorded ones. The inet6 lines of the real
// output are left out: the model has no IPv6.

function setStats(dev: NetDevice, s: Partial<NetDevice["stats"]>): void {
  Object.assign(dev.stats, s);
}

async function host() {
  const h = await recordedHost();
  const root = h.host.kernel.root;
  setStats(root.deviceByName("docker0")!, { rxPackets: 7, rxBytes: 488, txPackets: 8, txBytes: 720, txDropped: 1 });
  setStats(root.deviceByName("vethkt1")!, { rxPackets: 7, rxBytes: 586, txPackets: 15, txBytes: 1306 });
  return h;
}

const NET_TOOLS_ALL = lines(
  "docker0: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 1500",
  "        inet 172.17.0.1  netmask 255.255.0.0  broadcast 172.17.255.255",
  "        ether 02:42:5e:2b:1c:0a  txqueuelen 1000  (Ethernet)",
  "        RX packets 7  bytes 488 (488.0 B)",
  "        RX errors 0  dropped 0  overruns 0  frame 0",
  "        TX packets 8  bytes 720 (720.0 B)",
  "        TX errors 0  dropped 1 overruns 0  carrier 0  collisions 0",
  "",
  "lo: flags=73<UP,LOOPBACK,RUNNING>  mtu 65536",
  "        inet 127.0.0.1  netmask 255.0.0.0",
  "        loop  txqueuelen 1000  (Local Loopback)",
  "        RX packets 0  bytes 0 (0.0 B)",
  "        RX errors 0  dropped 0  overruns 0  frame 0",
  "        TX packets 0  bytes 0 (0.0 B)",
  "        TX errors 0  dropped 0 overruns 0  carrier 0  collisions 0",
  "",
  "vethkt1: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 1500",
  "        ether 9a:3c:11:22:33:44  txqueuelen 1000  (Ethernet)",
  "        RX packets 7  bytes 586 (586.0 B)",
  "        RX errors 0  dropped 0  overruns 0  frame 0",
  "        TX packets 15  bytes 1306 (1.2 KiB)",
  "        TX errors 0  dropped 0 overruns 0  carrier 0  collisions 0",
  "",
);

test("ifconfig lists up interfaces in net-tools' long format, sorted by name", async (t) => {
  const { host: h } = await host();
  t.deepEqual(await sh(h, "ifconfig"), { exit: 0, stdout: NET_TOOLS_ALL, stderr: "" });
});

test("ifconfig -a adds down interfaces; ifconfig X shows one even when down", async (t) => {
  const { host: h } = await host();
  await sh(h, "ip link add va type veth peer name vb");
  await sh(h, "ip link set va address 0a:2b:8f:d0:5c:bd");
  await sh(h, "ip link set va up");
  const va = lines(
    "va: flags=4099<UP,BROADCAST,MULTICAST>  mtu 1500",
    "        ether 0a:2b:8f:d0:5c:bd  txqueuelen 1000  (Ethernet)",
    "        RX packets 0  bytes 0 (0.0 B)",
    "        RX errors 0  dropped 0  overruns 0  frame 0",
    "        TX packets 0  bytes 0 (0.0 B)",
    "        TX errors 0  dropped 0 overruns 0  carrier 0  collisions 0",
    "",
  );
  t.is((await sh(h, "ifconfig va")).stdout, va);
  const all = (await sh(h, "ifconfig -a")).stdout;
  t.true(all.includes(va));
  t.true(all.includes("vb: flags=4098<BROADCAST,MULTICAST>  mtu 1500\n"));
  t.false((await sh(h, "ifconfig")).stdout.includes("vb:"));
});

test("ifconfig prints broadcast 0.0.0.0 for an address given without one", async (t) => {
  const { host: h } = await host();
  await sh(h, "ip link add va type veth peer name vb");
  await sh(h, "ip addr add 10.0.0.1/24 dev va");
  t.is((await sh(h, "ifconfig va")).stdout.split("\n")[1], "        inet 10.0.0.1  netmask 255.255.255.0  broadcast 0.0.0.0");
});

test("ifconfig X ADDR netmask M replaces the primary address, derives the broadcast and brings X up", async (t) => {
  const { host: h } = await host();
  await sh(h, "ip link add va type veth peer name vb");
  t.is((await sh(h, "ifconfig vb 10.1.0.1 netmask 255.255.255.0")).exit, 0);
  t.is((await sh(h, "ifconfig vb")).stdout.split("\n").slice(0, 2).join("\n"), "vb: flags=4099<UP,BROADCAST,MULTICAST>  mtu 1500\n        inet 10.1.0.1  netmask 255.255.255.0  broadcast 10.1.0.255");
  await sh(h, "ifconfig vb 10.1.0.2");
  t.is((await sh(h, "ifconfig vb")).stdout.split("\n")[1], "        inet 10.1.0.2  netmask 255.0.0.0  broadcast 10.255.255.255", "a new address takes its class's mask");
  await sh(h, "ifconfig vb 10.9.0.1/16");
  t.is((await sh(h, "ifconfig vb")).stdout.split("\n")[1], "        inet 10.9.0.1  netmask 255.255.0.0  broadcast 10.9.255.255");
  t.is((await sh(h, "ip -4 addr show vb")).stdout.split("\n")[1], "    inet 10.9.0.1/16 brd 10.9.255.255 scope global vb");
  t.is((await sh(h, "ifconfig vb mtu 1400")).exit, 0);
  t.is(h.kernel.root.deviceByName("vb")!.mtu, 1400);
  t.is((await sh(h, "ifconfig vb down")).exit, 0);
  t.false(h.kernel.root.deviceByName("vb")!.adminUp);
});

test("ifconfig's errors are net-tools'", async (t) => {
  const { host: h } = await host();
  t.deepEqual(await sh(h, "ifconfig nope"), { exit: 1, stdout: "", stderr: "nope: error fetching interface information: Device not found\n" });
  t.deepEqual(await sh(h, "ifconfig nope up"), { exit: 255, stdout: "", stderr: "nope: ERROR while getting interface flags: No such device\n" });
  t.deepEqual(await sh(h, "ifconfig docker0 foo"), {
    exit: 1,
    stdout: "",
    stderr: "foo: Host name lookup failure\nifconfig: `--help' gives usage information.\n",
  });
  t.deepEqual(await sh(h, "ifconfig docker0 netmask foo"), { exit: 1, stdout: "", stderr: "foo: Host name lookup failure\nifconfig: `--help' gives usage information.\n" });
  t.is((await sh(h, "ifconfig -x")).stderr, "ifconfig: option `-x' not recognised.\nifconfig: `--help' gives usage information.\n");
});

test("ifconfig -s prints the short table", async (t) => {
  const { host: h } = await host();
  t.is(
    (await sh(h, "ifconfig -s")).stdout,
    lines(
      "Iface      MTU    RX-OK RX-ERR RX-DRP RX-OVR    TX-OK TX-ERR TX-DRP TX-OVR Flg",
      "docker0          1500        7      0      0 0             8      0      1      0 BMRU",
      "lo              65536        0      0      0 0             0      0      0      0 LRU",
      "vethkt1          1500        7      0      0 0            15      0      0      0 BMRU",
    ),
  );
});

test("busybox ifconfig prints busybox's format: upper-case HWaddr, scaled bytes", async (t) => {
  const { host: h } = await host();
  const root = h.kernel.root;
  setStats(root.deviceByName("docker0")!, { rxPackets: 9, rxBytes: 600, txPackets: 10, txBytes: 860, txDropped: 1 });
  setStats(root.deviceByName("vethkt1")!, { rxPackets: 9, rxBytes: 726, txPackets: 19, txBytes: 1586 });
  const r = await sh(h, "ifconfig", { busybox: true, netns: root });
  t.is(
    r.stdout,
    lines(
      "docker0   Link encap:Ethernet  HWaddr 02:42:5E:2B:1C:0A  ",
      "          inet addr:172.17.0.1  Bcast:172.17.255.255  Mask:255.255.0.0",
      "          UP BROADCAST RUNNING MULTICAST  MTU:1500  Metric:1",
      "          RX packets:9 errors:0 dropped:0 overruns:0 frame:0",
      "          TX packets:10 errors:0 dropped:1 overruns:0 carrier:0",
      "          collisions:0 txqueuelen:1000 ",
      "          RX bytes:600 (600.0 B)  TX bytes:860 (860.0 B)",
      "",
      "lo        Link encap:Local Loopback  ",
      "          inet addr:127.0.0.1  Mask:255.0.0.0",
      "          UP LOOPBACK RUNNING  MTU:65536  Metric:1",
      "          RX packets:0 errors:0 dropped:0 overruns:0 frame:0",
      "          TX packets:0 errors:0 dropped:0 overruns:0 carrier:0",
      "          collisions:0 txqueuelen:1000 ",
      "          RX bytes:0 (0.0 B)  TX bytes:0 (0.0 B)",
      "",
      "vethkt1   Link encap:Ethernet  HWaddr 9A:3C:11:22:33:44  ",
      "          UP BROADCAST RUNNING MULTICAST  MTU:1500  Metric:1",
      "          RX packets:9 errors:0 dropped:0 overruns:0 frame:0",
      "          TX packets:19 errors:0 dropped:0 overruns:0 carrier:0",
      "          collisions:0 txqueuelen:1000 ",
      "          RX bytes:726 (726.0 B)  TX bytes:1586 (1.5 KiB)",
      "",
    ),
  );
});

test("busybox ifconfig sets an address and reports errors its way", async (t) => {
  const { host: h } = await host();
  await sh(h, "ip link add va type veth peer name vb");
  const bb = (line: string) => sh(h, line, { busybox: true, netns: h.kernel.root });
  t.is((await bb("ifconfig vb 10.9.0.1 netmask 255.255.0.0 mtu 1400")).exit, 0);
  t.is(
    (await bb("ifconfig vb")).stdout,
    lines(
      `vb        Link encap:Ethernet  HWaddr ${(await sh(h, "ip -br link show vb")).stdout.split(/\s+/)[2]!.toUpperCase()}  `,
      "          inet addr:10.9.0.1  Bcast:10.9.255.255  Mask:255.255.0.0",
      "          UP BROADCAST MULTICAST  MTU:1400  Metric:1",
      "          RX packets:0 errors:0 dropped:0 overruns:0 frame:0",
      "          TX packets:0 errors:0 dropped:0 overruns:0 carrier:0",
      "          collisions:0 txqueuelen:1000 ",
      "          RX bytes:0 (0.0 B)  TX bytes:0 (0.0 B)",
      "",
    ),
  );
  t.deepEqual(await bb("ifconfig nope"), { exit: 1, stdout: "", stderr: "ifconfig: nope: error fetching interface information: Device not found\n" });
  t.deepEqual(await bb("ifconfig vb foo"), { exit: 1, stdout: "", stderr: "ifconfig: bad address 'foo'\n" });
});
