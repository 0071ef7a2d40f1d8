import test from "ava";
import { runCommand, testHost } from "../_testing.ts";

const sh = (host: ReturnType<typeof testHost>, cmd: string) => runCommand(host, ["sh", "-c", cmd]);

test("flannel's vxlan device by hand: ip link add type vxlan, ip -d link, bridge fdb append/show/del", async (t) => {
  const host = testHost("node1");
  const root = host.kernel.root;
  const eth0 = host.kernel.createEther(root, "eth0", 0x525400000001);
  eth0.wire = () => {};
  t.is((await sh(host, "ip addr add 192.168.0.11/24 dev eth0 && ip link set eth0 up")).exit, 0);
  const add = await sh(host, "ip link add flannel.1 type vxlan id 1 local 192.168.0.11 dev eth0 dstport 8472 nolearning && ip link set flannel.1 up");
  t.is(add.stderr, "");
  const d = await sh(host, "ip -d link show flannel.1");
  t.regex(d.stdout, /^\d+: flannel\.1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\n/);
  t.regex(d.stdout, /\n {4}vxlan id 1 local 192\.168\.0\.11 dev eth0 srcport 0 0 dstport 8472 nolearning ttl auto ageing 300 udpcsum noudp6zerocsumtx noudp6zerocsumrx /);
  t.is((await sh(host, "bridge fdb append 0a:58:0a:f4:01:00 dev flannel.1 dst 192.168.0.12 self permanent")).exit, 0);
  t.is((await sh(host, "bridge fdb show dev flannel.1")).stdout, "0a:58:0a:f4:01:00 dst 192.168.0.12 self permanent\n");
  t.is((await sh(host, "bridge fdb show")).stdout.includes("0a:58:0a:f4:01:00 dev flannel.1 dst 192.168.0.12 self permanent\n"), true);
  t.is((await sh(host, "bridge fdb del 0a:58:0a:f4:01:00 dev flannel.1")).exit, 0);
  t.is((await sh(host, "bridge fdb show dev flannel.1")).stdout, "");
  const missing = await sh(host, "ip link add vx9 type vxlan dev eth0");
  t.is(missing.stderr, "vxlan: missing virtual network identifier\n");
  t.is(await host.fs.readFile("/sys/class/net/flannel.1/mtu", root), "1450\n");
});
