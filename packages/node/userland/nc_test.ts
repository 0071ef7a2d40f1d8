import test from "ava";
import { runCommand } from "../_testing.ts";
import type { DockerRuntime } from "../docker/runtime.ts";
import type { Host } from "../host.ts";
import { bootHost } from "../node.ts";

function node(): { host: Host; docker: DockerRuntime } {
  const host = bootHost({ name: "node1", seed: 7, role: "node", nics: [{ ifname: "eth0", mac: 0x525400000001, cidr: "192.168.0.11/24" }], gateway: "192.168.0.1" });
  return { host, docker: host.service<DockerRuntime>("docker")! };
}

test("nc -l -p in one container prints what nc in another sends", async (t) => {
  const { host } = node();
  await runCommand(host, ["docker", "run", "-d", "--name", "srv", "busybox", "nc", "-l", "-p", "5000"]);
  await host.advance(1);
  const client = await runCommand(host, ["docker", "run", "-i", "--rm", "busybox", "nc", "172.17.0.2", "5000"], { stdin: "hello\nworld\n" });
  t.is(client.exit, 0, client.stderr);
  await host.advance(10);
  const logs = await runCommand(host, ["docker", "logs", "srv"]);
  t.is(logs.stdout, "hello\nworld\n");
  t.is(host.service<DockerRuntime>("docker")!.find("srv")!.state, "exited");
});

test("OpenBSD nc on the host talks to a busybox listener and gets its answer", async (t) => {
  const { host } = node();
  await runCommand(host, ["docker", "run", "-d", "--name", "srv", "-i", "busybox", "nc", "-l", "-p", "7"], { stdin: "pong\n" });
  await host.advance(1);
  const r = await runCommand(host, ["nc", "172.17.0.2", "7"], { stdin: "ping\n" });
  t.is(r.exit, 0, r.stderr);
  t.is(r.stdout, "pong\n");
});

test("nc -z -v reports open and refused ports in each flavour's words", async (t) => {
  const { host } = node();
  await runCommand(host, ["docker", "run", "-d", "--name", "web", "nginx"]);
  await host.advance(1);
  const bbOpen = await runCommand(host, ["docker", "run", "--rm", "busybox", "nc", "-z", "-v", "172.17.0.2", "80"]);
  t.is(bbOpen.exit, 0);
  t.is(bbOpen.stderr, "172.17.0.2 (172.17.0.2:80) open\n");
  const bbClosed = await runCommand(host, ["docker", "run", "--rm", "busybox", "nc", "-z", "-vv", "172.17.0.2", "81"]);
  t.is(bbClosed.exit, 1);
  t.is(bbClosed.stderr, "nc: 172.17.0.2 (172.17.0.2:81): Connection refused\n");
  const hostScan = await runCommand(host, ["nc", "-zv", "172.17.0.2", "79-81"]);
  t.is(hostScan.exit, 1);
  t.is(
    hostScan.stderr,
    "nc: connect to 172.17.0.2 port 79 (tcp) failed: Connection refused\n" +
      "Connection to 172.17.0.2 80 port [tcp/http] succeeded!\n" +
      "nc: connect to 172.17.0.2 port 81 (tcp) failed: Connection refused\n",
  );
});

test("nc -u sends datagrams to a UDP listener", async (t) => {
  const { host } = node();
  await runCommand(host, ["docker", "run", "-d", "--name", "udp", "busybox", "nc", "-u", "-l", "-p", "5353"]);
  await host.advance(1);
  const r = await runCommand(host, ["nc", "-u", "-w", "1", "172.17.0.2", "5353"], { stdin: "over udp\n" });
  t.is(r.exit, 0, r.stderr);
  const logs = await runCommand(host, ["docker", "logs", "udp"]);
  t.is(logs.stdout, "over udp\n");
});
