import test from "ava";
import { configure, pingOnce, testKernel } from "../_testing.ts";
import type { NetNs } from "../netns.ts";
import { netfilterOf } from "./engine.ts";
import { bytes, drain, ip, ipt, settle, udpSocket } from "./_testing.ts";

/** docker0 172.17.0.1/16 in the root namespace with containers 172.17.0.2, .3 on it. */
function bridged() {
  const { kernel, clock } = testKernel();
  const root = kernel.root;
  const br = kernel.createBridge(root, "docker0");
  configure(root, br, "172.17.0.1/16");
  const pods: NetNs[] = [];
  for (let i = 0; i < 2; i++) {
    const [h, c] = kernel.createVeth(root, `veth${i}`, "eth0", { peerNs: kernel.createNetns() });
    br.addPort(h);
    root.setUp(h, true);
    configure(c.netns, c, `172.17.0.${i + 2}/16`);
    c.netns.addRoute({ dst: 0, dstLen: 0, gateway: ip("172.17.0.1") });
    pods.push(c.netns);
  }
  root.sysctl.set("net.ipv4.ip_forward", "1");
  return { kernel, clock, root, pods };
}

test("without br_netfilter, frames bridged port to port skip iptables", async (t) => {
  const { clock, root, pods } = bridged();
  ipt(root, "-P FORWARD DROP");
  t.is((await pingOnce(clock, pods[0]!, ip("172.17.0.3")))?.kind, "echo-reply");
});

test("with bridge-nf-call-iptables, bridged frames pass FORWARD with the bridge as -i/-o and the ports as physdev", async (t) => {
  const { clock, root, pods } = bridged();
  root.sysctl.loadBrNetfilter();
  ipt(root, "-P FORWARD DROP");
  t.is(await pingOnce(clock, pods[0]!, ip("172.17.0.3"), { waitMs: 1000 }), undefined, "the DROP policy applies to bridged traffic");
  ipt(root, "-A FORWARD -i docker0 -o docker0 -m physdev --physdev-in veth0 --physdev-out veth1 --physdev-is-bridged -j ACCEPT");
  ipt(root, "-A FORWARD -i docker0 -o docker0 -m physdev --physdev-in veth1 --physdev-out veth0 -j ACCEPT");
  t.is((await pingOnce(clock, pods[0]!, ip("172.17.0.3")))?.kind, "echo-reply");
  const rules = netfilterOf(root).table("filter")!.chain("FORWARD")!.rules;
  t.true(rules[0]!.counters.packets >= 1);
  t.true(rules[1]!.counters.packets >= 1);
  root.sysctl.set("net.bridge.bridge-nf-call-iptables", "0");
  const before = rules[0]!.counters.packets;
  await pingOnce(clock, pods[0]!, ip("172.17.0.3"));
  t.is(rules[0]!.counters.packets, before, "switched off again");
});

test("a pod's reply to a DNATed service address is un-DNATed only when br_netfilter sees the bridged reply", (t) => {
  for (const brnf of [false, true]) {
    const { clock, root, pods } = bridged();
    if (brnf) root.sysctl.loadBrNetfilter();
    ipt(root, "-t nat -A PREROUTING -d 10.96.0.10 -p udp --dport 53 -j DNAT --to-destination 172.17.0.3:53");
    const server = udpSocket(pods[1]!, 53);
    const client = udpSocket(pods[0]!, 40053);
    client.sendTo(ip("10.96.0.10"), 53, bytes("query"));
    settle(clock);
    const q = server.mailbox.tryReceive()!;
    t.is(q.src, ip("172.17.0.2"));
    server.sendTo(q.src, q.srcPort, bytes("answer"));
    settle(clock);
    // The reply goes straight across the bridge: only br_netfilter lets conntrack fix its source.
    t.deepEqual(drain(client), brnf ? ["10.96.0.10:53 answer"] : ["172.17.0.3:53 answer"], `br_netfilter ${brnf}`);
  }
});
