import test from "ava";
import { lines, recordedHost, sh } from "./_net_fixture.ts";

// Recorded with net-tools 2.10 and busybox 1.35 in the SETUP container
// after the routes of the ip_test "routedContainer" session were added.

async function routed() {
  const { host, ktc } = await recordedHost();
  for (const line of [
    "ip route add blackhole 10.9.0.0/16",
    "ip route add unreachable 10.8.0.0/16",
    "ip route add prohibit 10.7.0.0/16",
    "ip route add 10.6.0.0/16 via 172.17.0.1 metric 100 proto static",
    "ip route add 10.5.0.0/16 dev eth0 src 172.17.0.2",
  ]) {
    await sh(host, line, { netns: ktc });
  }
  return { host, ktc };
}

test("route -n prints the main table like net-tools, reject routes with dashes", async (t) => {
  const { host, ktc } = await routed();
  t.is(
    (await sh(host, "route -n", { netns: ktc })).stdout,
    lines(
      "Kernel IP routing table",
      "Destination     Gateway         Genmask         Flags Metric Ref    Use Iface",
      "0.0.0.0         172.17.0.1      0.0.0.0         UG    0      0        0 eth0",
      "10.5.0.0        0.0.0.0         255.255.0.0     U     0      0        0 eth0",
      "10.6.0.0        172.17.0.1      255.255.0.0     UG    100    0        0 eth0",
      "10.7.0.0        -               255.255.0.0     !     0      -        0 -",
      "10.8.0.0        -               255.255.0.0     !     0      -        0 -",
      "10.9.0.0        0.0.0.0         255.255.0.0     U     0      0        0 *",
      "172.17.0.0      0.0.0.0         255.255.0.0     U     0      0        0 eth0",
    ),
  );
  t.is(
    (await sh(host, "route", { netns: ktc })).stdout.split("\n")[2],
    "default         172.17.0.1      0.0.0.0         UG    0      0        0 eth0",
  );
});

test("busybox route prints its own columns: * for no gateway without -n", async (t) => {
  const { host, ktc } = await routed();
  t.is(
    (await sh(host, "route -n", { netns: ktc, busybox: true })).stdout,
    lines(
      "Kernel IP routing table",
      "Destination     Gateway         Genmask         Flags Metric Ref    Use Iface",
      "0.0.0.0         172.17.0.1      0.0.0.0         UG    0      0        0 eth0",
      "10.5.0.0        0.0.0.0         255.255.0.0     U     0      0        0 eth0",
      "10.6.0.0        172.17.0.1      255.255.0.0     UG    100    0        0 eth0",
      "10.7.0.0        0.0.0.0         255.255.0.0     !     0      0        0 *",
      "10.8.0.0        0.0.0.0         255.255.0.0     !     0      0        0 *",
      "10.9.0.0        0.0.0.0         255.255.0.0     U     0      0        0 *",
      "172.17.0.0      0.0.0.0         255.255.0.0     U     0      0        0 eth0",
    ),
  );
  t.is(
    (await sh(host, "route", { busybox: true, netns: host.kernel.root })).stdout,
    lines(
      "Kernel IP routing table",
      "Destination     Gateway         Genmask         Flags Metric Ref    Use Iface",
      "172.17.0.0      *               255.255.0.0     U     0      0        0 docker0",
    ),
  );
});

test("route add and del change the main table", async (t) => {
  const { host, ktc } = await recordedHost();
  const c = (line: string) => sh(host, line, { netns: ktc });
  t.is((await c("route add -net 10.20.0.0 netmask 255.255.0.0 gw 172.17.0.1")).exit, 0);
  t.is((await c("ip route show 10.20.0.0/16")).stdout, "10.20.0.0/16 via 172.17.0.1 dev eth0 \n");
  t.deepEqual(await c("route add -net 10.20.0.0 netmask 255.255.0.0 gw 172.17.0.1"), { exit: 7, stdout: "", stderr: "SIOCADDRT: File exists\n" });
  t.is((await c("route del -net 10.20.0.0 netmask 255.255.0.0")).exit, 0);
  t.deepEqual(await c("route del -net 10.20.0.0 netmask 255.255.0.0"), { exit: 7, stdout: "", stderr: "SIOCDELRT: No such process\n" });
});

test("arp -n and arp -a show /proc/net/arp without NOARP entries, busybox in BSD style", async (t) => {
  const { host, ktc } = await recordedHost();
  const c = (line: string, busybox = false) => sh(host, line, { netns: ktc, busybox });
  await c("ip neigh add 172.17.0.50 lladdr 02:00:00:00:00:50 dev eth0");
  await c("ip neigh add 172.17.0.1 lladdr 02:42:5e:2b:1c:0a dev eth0 nud reachable");
  await c("ip neigh add 172.17.0.51 dev eth0 nud noarp lladdr 02:00:00:00:00:51");
  await c("ip neigh add 172.17.0.52 dev eth0 nud stale lladdr 02:00:00:00:00:52");
  t.is(
    (await c("arp -n")).stdout,
    lines(
      "Address                  HWtype  HWaddress           Flags Mask            Iface",
      "172.17.0.50              ether   02:00:00:00:00:50   CM                    eth0",
      "172.17.0.1               ether   02:42:5e:2b:1c:0a   C                     eth0",
      "172.17.0.52              ether   02:00:00:00:00:52   C                     eth0",
    ),
  );
  t.is((await c("arp")).stdout, (await c("arp -n")).stdout);
  t.is(
    (await c("arp -an")).stdout,
    lines(
      "? (172.17.0.50) at 02:00:00:00:00:50 [ether] PERM on eth0",
      "? (172.17.0.1) at 02:42:5e:2b:1c:0a [ether] on eth0",
      "? (172.17.0.52) at 02:00:00:00:00:52 [ether] on eth0",
    ),
  );
  t.is(
    (await c("arp -n", true)).stdout,
    lines(
      "? (172.17.0.50) at 02:00:00:00:00:50 [ether] PERM on eth0",
      "? (172.17.0.1) at 02:42:5e:2b:1c:0a [ether]  on eth0",
      "? (172.17.0.52) at 02:00:00:00:00:52 [ether]  on eth0",
    ),
  );
  t.is((await c("arp -n 172.17.0.50")).stdout, lines("Address                  HWtype  HWaddress           Flags Mask            Iface", "172.17.0.50              ether   02:00:00:00:00:50   CM                    eth0"));
  t.is((await c("arp -n 1.2.3.4")).stdout, "1.2.3.4 (1.2.3.4) -- no entry\n");
});

test("arp prints nothing for an empty cache; arp -s and -d manage entries", async (t) => {
  const { host, ktc } = await recordedHost();
  const c = (line: string) => sh(host, line, { netns: ktc });
  t.deepEqual(await c("arp -n"), { exit: 0, stdout: "", stderr: "" });
  t.is((await c("arp -s 172.17.0.9 02:00:00:00:00:09")).exit, 0);
  t.is((await c("ip neigh")).stdout, "172.17.0.9 dev eth0 lladdr 02:00:00:00:00:09 PERMANENT \n");
  t.is((await c("arp -d 172.17.0.9")).exit, 0);
  t.is((await c("ip neigh")).stdout, "");
  t.deepEqual(await c("arp -d 172.17.0.9"), { exit: 255, stdout: "No ARP entry for 172.17.0.9\n", stderr: "" });
});
