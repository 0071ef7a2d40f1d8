import test from "ava";
import type { Bridge } from "@kemu/kernel";
import { parseMacAddr } from "@kemu/wire";
import { testHost } from "../_testing.ts";
import { lines, recordedHost, sh } from "./_net_fixture.ts";

// Recorded with bridge-utils 1.7.1 and iproute2 6.1.0's `bridge` on the
// SETUP topology (plus a second port, vethkt9, index 50, peer index 60).
// The 33:33:… `self permanent` entries (IPv6 multicast) are left out.

/** The recorded host with a learned entry for the container's MAC, 2.59 s old. */
async function withLearned() {
  const { host, ktc } = await recordedHost();
  const br = host.kernel.root.deviceByName("docker0") as Bridge;
  const port = host.kernel.root.deviceByName("vethkt1")!;
  const mac = parseMacAddr("02:42:ac:11:00:02")!;
  host.clock.runUntil(host.clock.now() + 10_000);
  br.fdb.set(mac, { mac, port, local: false, static: false, updatedAt: host.clock.now() - 2590 });
  return { host, ktc, br };
}

test("brctl show lists the bridge id, STP and the ports, later ports on tab-indented lines", async (t) => {
  const { host } = await recordedHost();
  t.is((await sh(host, "brctl show")).stdout, "bridge name\tbridge id\t\tSTP enabled\tinterfaces\ndocker0\t\t8000.02425e2b1c0a\tno\t\tvethkt1\n");
  await sh(host, "ip link add vethkt9 type veth peer name e9");
  await sh(host, "ip link set vethkt9 master docker0");
  t.is(
    (await sh(host, "brctl show")).stdout,
    "bridge name\tbridge id\t\tSTP enabled\tinterfaces\ndocker0\t\t8000.02425e2b1c0a\tno\t\tvethkt1\n\t\t\t\t\t\t\tvethkt9\n",
  );
  t.is((await sh(host, "brctl show docker0")).stdout, (await sh(host, "brctl show")).stdout);
});

test("after ip link set X master docker0, brctl show lists X; nomaster takes it away", async (t) => {
  const host = testHost();
  await sh(host, "ip link add docker0 type bridge");
  await sh(host, "ip link add veth1 type veth peer name ceth1");
  t.regex((await sh(host, "brctl show")).stdout, /^docker0\t\t8000\.[0-9a-f]{12}\tno\t\t\n$/m);
  await sh(host, "ip link set veth1 master docker0");
  t.regex((await sh(host, "brctl show")).stdout, /^docker0\t\t8000\.[0-9a-f]{12}\tno\t\tveth1\n$/m);
  await sh(host, "ip link set veth1 nomaster");
  t.regex((await sh(host, "brctl show")).stdout, /^docker0\t\t8000\.[0-9a-f]{12}\tno\t\t\n$/m);
});

test("brctl showmacs sorts by MAC and shows the learned entry's age", async (t) => {
  const { host } = await withLearned();
  t.is(
    (await sh(host, "brctl showmacs docker0")).stdout,
    "port no\tmac addr\t\tis local?\tageing timer\n  1\t02:42:ac:11:00:02\tno\t\t   2.59\n  1\t9a:3c:11:22:33:44\tyes\t\t   0.00\n",
  );
});

test("brctl addbr/addif/delif/delbr change the model and report bridge-utils' errors", async (t) => {
  const { host } = await recordedHost();
  await sh(host, "ip link add va type veth peer name vb");
  const cases: Array<[string, string, string, number]> = [
    ["brctl addbr docker0", "", "device docker0 already exists; can't create bridge with the same name\n", 1],
    ["brctl addbr ktbr2", "", "", 0],
    ["brctl delbr nope", "", "bridge nope doesn't exist; can't delete it\n", 1],
    ["brctl delbr docker0", "", "bridge docker0 is still up; can't delete it\n", 1],
    ["brctl delbr vethkt1", "", "can't delete bridge vethkt1: Operation not permitted\n", 1],
    ["brctl addif ktbr2 nope", "", "interface nope does not exist!\n", 1],
    ["brctl addif nope vb", "", "bridge nope does not exist!\n", 1],
    ["brctl addif ktbr2 vb", "", "", 0],
    ["brctl addif ktbr2 vb", "", "device vb is already a member of a bridge; can't add it to bridge ktbr2.\n", 1],
    ["brctl addif docker0 lo", "", "can't add lo to bridge docker0: Invalid argument\n", 1],
    ["brctl addif docker0 docker0", "", "device docker0 is a bridge device itself; can't add a bridge device to a bridge device.\n", 1],
    ["brctl delif ktbr2 va", "", "device va is not a port of ktbr2\n", 1],
    ["brctl delif ktbr2 vb", "", "", 0],
    ["brctl delif ktbr2 nope", "", "interface nope does not exist!\n", 1],
    ["brctl show nope", "bridge name\tbridge id\t\tSTP enabled\tinterfaces\n", "bridge nope does not exist!\n", 1],
    ["brctl show vethkt1", "bridge name\tbridge id\t\tSTP enabled\tinterfaces\n", "device vethkt1 is not a bridge!\n", 1],
    ["brctl showmacs nope", "", "read of forward table failed: No such device\n", 1],
    ["brctl showmacs", "Incorrect number of arguments for command\nUsage: brctl showmacs <bridge>\t\tshow a list of mac addrs\n", "", 1],
    ["brctl addbr", "Incorrect number of arguments for command\nUsage: brctl addbr <bridge>\t\tadd bridge\n", "", 1],
    ["brctl delbr ktbr2", "", "", 0],
  ];
  for (const [line, stdout, stderr, exit] of cases) t.deepEqual(await sh(host, line), { exit, stdout, stderr }, line);
  const foo = await sh(host, "brctl foo");
  t.is(foo.stderr, "never heard of command [foo]\n");
  t.true(foo.stdout.startsWith("Usage: brctl [commands]\ncommands:\n\taddbr     \t<bridge>\t\tadd bridge\n"));
  t.is(foo.exit, 1);
});

test("bridge fdb show: learned entries end in a space, local ones are permanent, multicast self entries per device", async (t) => {
  const { host } = await withLearned();
  t.is(
    (await sh(host, "bridge fdb show")).stdout,
    lines(
      "01:00:5e:00:00:6a dev docker0 self permanent",
      "01:00:5e:00:00:01 dev docker0 self permanent",
      "02:42:5e:2b:1c:0a dev docker0 master docker0 permanent",
      "02:42:ac:11:00:02 dev vethkt1 master docker0 ",
      "9a:3c:11:22:33:44 dev vethkt1 master docker0 permanent",
      "01:00:5e:00:00:01 dev vethkt1 self permanent",
    ),
  );
  t.is((await sh(host, "bridge fdb show br docker0")).stdout, (await sh(host, "bridge fdb show")).stdout);
  t.is(
    (await sh(host, "bridge fdb show dev vethkt1")).stdout,
    lines("02:42:ac:11:00:02 master docker0 ", "9a:3c:11:22:33:44 master docker0 permanent", "01:00:5e:00:00:01 self permanent"),
  );
});

test("bridge fdb on down devices has no multicast entries, and a bridge without its own address shows none", async (t) => {
  const host = testHost();
  const ns = host.kernel.createNetns();
  host.namedNetns.set("ktx", ns);
  const x = (line: string) => sh(host, line, { netns: ns });
  await x("ip link add br0 type bridge");
  await x("ip link add va type veth peer name vb");
  await x("ip link set br0 address 2e:59:94:37:e0:bf");
  t.is((await x("bridge fdb show")).stdout, lines("2e:59:94:37:e0:bf dev br0 master br0 permanent"));
  await x("ip link set br0 up");
  await x("ip link set va up");
  t.is(
    (await x("bridge fdb show")).stdout,
    lines(
      "01:00:5e:00:00:6a dev br0 self permanent",
      "01:00:5e:00:00:01 dev br0 self permanent",
      "2e:59:94:37:e0:bf dev br0 master br0 permanent",
      "01:00:5e:00:00:01 dev va self permanent",
    ),
  );
});

test("bridge link shows each port with the name of its iflink index in this namespace", async (t) => {
  const { host } = await recordedHost();
  t.is(
    (await sh(host, "bridge link")).stdout,
    "3: vethkt1@docker0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 master docker0 state forwarding priority 32 cost 2 \n",
  );
  t.is((await sh(host, "bridge link show")).stdout, (await sh(host, "bridge link")).stdout);
  await sh(host, "ip link set vethkt1 down");
  t.is(
    (await sh(host, "bridge link")).stdout,
    "3: vethkt1@docker0: <BROADCAST,MULTICAST> mtu 1500 master docker0 state disabled priority 32 cost 2 \n",
  );
});

test("bridge's errors are iproute2's", async (t) => {
  const { host } = await recordedHost();
  const cases: Array<[string, string, number]> = [
    ["bridge foo", 'Object "foo" is unknown, try "bridge help".\n', 255],
    ["bridge fdb show dev nope", 'Cannot find device "nope"\n', 255],
    ["bridge fdb show br nope", 'Cannot find bridge device "nope"\n', 255],
    ["bridge fdb foo", 'Command "foo" is unknown, try "bridge fdb help".\n', 255],
    ["bridge link show dev nope", 'Cannot find device "nope"\n', 255],
    ["bridge link foo", 'Command "foo" is unknown, try "bridge link help".\n', 255],
  ];
  for (const [line, stderr, exit] of cases) t.deepEqual(await sh(host, line), { exit, stdout: "", stderr }, line);
  t.is((await sh(host, "bridge -V")).stdout, "bridge utility, 6.1.0\n");
});

test("busybox brctl shows bridges in the same layout and words its errors as busybox", async (t) => {
  const { host } = await recordedHost();
  const bb = (line: string) => sh(host, line, { busybox: true, netns: host.kernel.root });
  t.is((await bb("brctl show")).stdout, "bridge name\tbridge id\t\tSTP enabled\tinterfaces\ndocker0\t\t8000.02425e2b1c0a\tno\t\tvethkt1\n");
  t.deepEqual(await bb("brctl foo"), { exit: 1, stdout: "", stderr: "brctl: invalid argument 'foo' to 'brctl'\n" });
  t.deepEqual(await bb("brctl addif docker0 nope"), { exit: 1, stdout: "", stderr: "brctl: iface nope not found\n" });
  t.is((await bb("brctl addbr br1")).exit, 0);
  t.truthy(host.kernel.root.deviceByName("br1"));
});
