import test from "ava";
import { recordedHost, sh } from "./_net_fixture.ts";

test("conntrack -L lists flows in the tool's format, the summary on stderr; -C counts; -F empties", async (t) => {
  const { host, ktc } = await recordedHost();
  await sh(host, "iptables -A INPUT -m conntrack --ctstate NEW,ESTABLISHED -j ACCEPT");
  const ping = await sh(host, "ping -c 1 172.17.0.1", { netns: ktc });
  t.is(ping.exit, 0, ping.stdout + ping.stderr);
  const list = await sh(host, "conntrack -L");
  t.regex(list.stdout, /^icmp {5}1 29 src=172\.17\.0\.2 dst=172\.17\.0\.1 type=8 code=0 id=\d+ src=172\.17\.0\.1 dst=172\.17\.0\.2 type=0 code=0 id=\d+ mark=0 use=1\n$/);
  t.is(list.stderr, "conntrack v1.4.7 (conntrack-tools): 1 flow entries have been shown.\n");
  t.is((await sh(host, "conntrack -L -p tcp")).stderr, "conntrack v1.4.7 (conntrack-tools): 0 flow entries have been shown.\n");
  t.is((await sh(host, "conntrack -L -o extended")).stdout.slice(0, 16), "ipv4     2 icmp ");
  t.is((await sh(host, "conntrack -C")).stdout, "1\n");
  t.is((await sh(host, "sysctl net.netfilter.nf_conntrack_count")).stdout, "net.netfilter.nf_conntrack_count = 1\n");
  t.deepEqual(await sh(host, "conntrack -F"), {
    exit: 0,
    stdout: "",
    stderr: "conntrack v1.4.7 (conntrack-tools): connection tracking table has been emptied.\n",
  });
  t.is((await sh(host, "conntrack -C")).stdout, "0\n");
});

test("conntrack -D deletes what matches and prints it; nothing matched is exit 1", async (t) => {
  const { host, ktc } = await recordedHost();
  await sh(host, "iptables -A INPUT -j ACCEPT");
  await sh(host, "ping -c 1 172.17.0.1", { netns: ktc });
  const none = await sh(host, "conntrack -D -s 10.9.9.9");
  t.deepEqual(none, { exit: 1, stdout: "", stderr: "conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.\n" });
  const del = await sh(host, "conntrack -D -p icmp");
  t.is(del.exit, 0);
  t.regex(del.stdout, /^icmp {5}1 /);
  t.is(del.stderr, "conntrack v1.4.7 (conntrack-tools): 1 flow entries have been deleted.\n");
});

test("conntrack refuses what the real one refuses", async (t) => {
  const host = (await recordedHost()).host;
  t.deepEqual(await sh(host, "conntrack -L -p foo"), {
    exit: 2,
    stdout: "",
    stderr: "conntrack v1.4.7 (conntrack-tools): `foo' unsupported protocol\nTry `conntrack -h' or 'conntrack --help' for more information.\n",
  });
  t.deepEqual(await sh(host, "conntrack -L --sport 80"), {
    exit: 2,
    stdout: "",
    stderr: "conntrack v1.4.7 (conntrack-tools): unknown option `--sport'\nTry `conntrack -h' or 'conntrack --help' for more information.\n",
  });
  t.is((await sh(host, "conntrack -V")).stdout, "conntrack v1.4.7 (conntrack-tools)\n");
});
