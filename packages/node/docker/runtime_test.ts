import test from "ava";
import { readSysClassNet } from "@kemu/kernel";
import { formatMacAddr } from "@kemu/wire";
import { runCommand } from "../_testing.ts";
import type { Host } from "../host.ts";
import { bootHost } from "../node.ts";
import type { DockerRuntime } from "./runtime.ts";

function node(): { host: Host; docker: DockerRuntime } {
  const host = bootHost({ name: "node1", seed: 7, role: "node", nics: [{ ifname: "eth0", mac: 0x525400000001, cidr: "192.168.0.11/24" }], gateway: "192.168.0.1" });
  return { host, docker: host.service<DockerRuntime>("docker")! };
}

const run = (host: Host, ...argv: string[]) => runCommand(host, argv);

test("docker0 is 172.17.0.1/16 and forwarding is on", (t) => {
  const { host, docker } = node();
  const root = host.kernel.root;
  t.is(docker.bridge.name, "docker0");
  t.deepEqual(docker.bridge.addrs.map((a) => a.prefixLen), [16]);
  t.is(root.sysctl.get("net.ipv4.ip_forward"), "1");
  t.is(root.sysctl.get("net.bridge.bridge-nf-call-iptables"), "1");
  t.is(formatMacAddr(docker.bridge.mac).slice(0, 5), "02:42");
});

test("a bridged container gets eth0 whose iflink is the host veth's ifindex, on docker0", async (t) => {
  const { host, docker } = node();
  const r = await run(host, "docker", "run", "-d", "--name", "busybox-1", "busybox", "sleep", "3600");
  t.is(r.exit, 0, r.stderr);
  t.regex(r.stdout, /^[0-9a-f]{64}\n$/);
  const c = docker.find("busybox-1")!;
  const eth0 = c.netns.deviceByName("eth0")!;
  const veth = host.kernel.root.deviceByName(c.endpoint!.hostVeth)!;
  t.regex(veth.name, /^veth[0-9a-f]{7}$/);
  t.is(readSysClassNet(c.netns, "eth0/iflink"), `${veth.ifindex}\n`);
  t.is(readSysClassNet(host.kernel.root, `${veth.name}/iflink`), `${eth0.ifindex}\n`);
  t.is(veth.master, docker.bridge);
  t.is(formatMacAddr(eth0.mac), "02:42:ac:11:00:02");
  t.deepEqual(eth0.addrs.map((a) => a.addr >>> 0), [0xac110002]);
});

test("addresses are handed out from 172.17.0.2 upward and a freed one is reused", async (t) => {
  const { host, docker } = node();
  for (const n of ["a", "b", "c"]) await run(host, "docker", "run", "-d", "--name", n, "busybox", "sleep", "3600");
  const ip = (n: string) => docker.find(n)!.endpoint!.ip & 0xff;
  t.deepEqual(["a", "b", "c"].map(ip), [2, 3, 4]);
  t.is((await run(host, "docker", "rm", "-f", "b")).exit, 0);
  await run(host, "docker", "run", "-d", "--name", "d", "busybox", "sleep", "3600");
  t.is(ip("d"), 3);
});

test("host mode shares the host's namespace; none has only lo; container: shares the other's", async (t) => {
  const { host, docker } = node();
  await run(host, "docker", "run", "-d", "--name", "web", "busybox", "sleep", "3600");
  await run(host, "docker", "run", "-d", "--name", "h", "--network", "host", "busybox", "sleep", "3600");
  await run(host, "docker", "run", "-d", "--name", "n", "--net=none", "busybox", "sleep", "3600");
  await run(host, "docker", "run", "-d", "--name", "s", "--network", "container:web", "busybox", "sleep", "3600");
  t.is(docker.find("h")!.netns, host.kernel.root);
  t.deepEqual(docker.find("n")!.netns.devices().map((d) => d.name), ["lo"]);
  t.is(docker.find("s")!.netns, docker.find("web")!.netns);
  t.is(docker.find("h")!.hostname, "node1");
});

test("a removed container's veth and namespace are gone", async (t) => {
  const { host, docker } = node();
  await run(host, "docker", "run", "-d", "--name", "x", "busybox", "sleep", "3600");
  const veth = docker.find("x")!.endpoint!.hostVeth;
  const before = host.kernel.namespaces().length;
  await run(host, "docker", "rm", "-f", "x");
  t.is(host.kernel.root.deviceByName(veth), undefined);
  t.is(host.kernel.namespaces().length, before - 1);
  t.is(docker.bridge.ports.size, 0);
});

test("docker errors use Docker's words and exit codes", async (t) => {
  const { host } = node();
  await run(host, "docker", "run", "-d", "--name", "dup", "busybox", "sleep", "3600");
  const dup = await run(host, "docker", "run", "-d", "--name", "dup", "busybox", "sleep", "1");
  t.is(dup.exit, 125);
  t.regex(dup.stderr, /Conflict\. The container name "\/dup" is already in use by container "[0-9a-f]{64}"/);
  const img = await run(host, "docker", "run", "nosuchimage");
  t.is(img.exit, 125);
  t.regex(img.stderr, /^Unable to find image 'nosuchimage:latest' locally\n/);
  const rm = await run(host, "docker", "rm", "ghost");
  t.is(rm.exit, 1);
  t.is(rm.stderr, "Error response from daemon: No such container: ghost\n");
  const sub = await run(host, "docker", "rnu");
  t.is(sub.exit, 1);
  t.is(sub.stderr, "docker: 'rnu' is not a docker command.\nSee 'docker --help'\n");
  const running = await run(host, "docker", "rm", "dup");
  t.regex(running.stderr, /container is running: stop the container before removing or force remove/);
  const flag = await run(host, "docker", "run", "--bogus", "busybox");
  t.is(flag.exit, 125);
  t.is(flag.stderr, "unknown flag: --bogus\nSee 'docker run --help'.\n");
});

test("docker ps lists running containers in tabwriter columns", async (t) => {
  const { host } = node();
  await run(host, "docker", "run", "-d", "--name", "busybox-1", "busybox", "sleep", "3600");
  await host.advance(5000);
  const ps = await run(host, "docker", "ps");
  const lines = ps.stdout.split("\n");
  t.is(lines[0], "CONTAINER ID   IMAGE     COMMAND        CREATED         STATUS         PORTS     NAMES");
  t.regex(lines[1]!, /^[0-9a-f]{12}   busybox   "sleep 3600"   5 seconds ago   Up 5 seconds             busybox-1$/);
});

test("docker inspect -f reads the network settings", async (t) => {
  const { host } = node();
  await run(host, "docker", "run", "-d", "--name", "b1", "busybox", "sleep", "3600");
  const r = await run(host, "docker", "inspect", "-f", "{{.NetworkSettings.IPAddress}} {{range .NetworkSettings.Networks}}{{.Gateway}} {{.MacAddress}}{{end}}", "b1");
  t.is(r.stdout, "172.17.0.2 172.17.0.1 02:42:ac:11:00:02\n");
  const json = JSON.parse((await run(host, "docker", "inspect", "b1")).stdout) as Array<{ Name: string; NetworkSettings: { IPPrefixLen: number } }>;
  t.is(json[0]!.Name, "/b1");
  t.is(json[0]!.NetworkSettings.IPPrefixLen, 16);
});

test("an attached container's exit status is docker run's", async (t) => {
  const { host, docker } = node();
  const r = await run(host, "docker", "run", "--name", "once", "busybox", "sleep", "1");
  t.is(r.exit, 0);
  t.is(docker.find("once")!.state, "exited");
  const missing = await run(host, "docker", "run", "busybox", "nosuchcmd");
  t.is(missing.exit, 127);
  t.regex(missing.stderr, /exec: "nosuchcmd": executable file not found in \$PATH/);
});
