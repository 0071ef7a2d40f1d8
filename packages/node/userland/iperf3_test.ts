import test from "ava";
import { runCommand, testHost } from "../_testing.ts";
import { bootHost } from "../node.ts";
import type { Host } from "../host.ts";
import { recordedHost } from "./_net_fixture.ts";

const USAGE = "Usage: iperf3 [-s|-c host] [options]\nTry `iperf3 --help' for more information.\n";

test("iperf3 without -s or -c is a parameter error, in iperf3's words", async (t) => {
  const r = await runCommand(testHost(), ["iperf3"]);
  t.is(r.exit, 1);
  t.is(r.stdout, "");
  t.is(r.stderr, `iperf3: parameter error - must either be a client (-c) or server (-s)\n\n${USAGE}`);
});

test("iperf3 rejects conflicting and out-of-range options as the real one does", async (t) => {
  const host = testHost();
  const cases: Array<[string[], string]> = [
    [["-s", "-c", "10.0.0.1"], "cannot be both server and client"],
    [["-c", "10.0.0.1", "-p", "70000"], "port number must be between 1 and 65535 inclusive"],
    [["-c", "10.0.0.1", "-t", "5", "-n", "1M"], "only one test end condition (-t, -n, -k) may be specified"],
    [["-c", "10.0.0.1", "-l", "2M"], "block size too large (maximum = 1048576 bytes)"],
    [["-s", "-R"], "some option you are trying to set is client only"],
    [["-c", "10.0.0.1", "-1"], "some option you are trying to set is server only"],
  ];
  for (const [args, text] of cases) {
    const r = await runCommand(host, ["iperf3", ...args]);
    t.is(r.exit, 1, args.join(" "));
    t.is(r.stderr, `iperf3: parameter error - ${text}\n\n${USAGE}`, args.join(" "));
  }
  const bad = await runCommand(host, ["iperf3", "-x"]);
  t.is(bad.exit, 1);
  t.is(bad.stderr, `iperf3: invalid option -- 'x'\n\n${USAGE}`);
});

test("iperf3 -c to a port nobody listens on fails as iperf3 does", async (t) => {
  const { host } = await recordedHost();
  const r = await runCommand(host, ["iperf3", "-c", "172.17.0.2"], { spec: { netns: host.kernel.root } });
  t.is(r.exit, 1);
  t.is(r.stdout, "");
  t.is(r.stderr, "iperf3: error - unable to connect to server - server may have stopped running or use a different port, firewall issue, etc.: Connection refused\n");
});

/** Starts `iperf3 -s -1` in the namespace ktc, runs the client in the host's, and returns both outputs. */
async function run(host: Host, serverArgs: string[], clientArgs: string[]) {
  const ktc = host.namedNetns.get("ktc")!;
  const out = { text: "" };
  const srv = host.spawn(["iperf3", "-s", "-1", ...serverArgs], { ...host.rootSpec({ stdout: { write: (s) => void (out.text += s) }, stderr: { write: (s) => void (out.text += s) } }), netns: ktc });
  await host.advance(1);
  const client = await runCommand(host, ["iperf3", "-c", "172.17.0.2", ...clientArgs]);
  const serverExit = await host.runToCompletion(srv);
  return { client, server: { exit: serverExit, stdout: out.text } };
}

/** The output with every figure blanked: what stays is iperf3's layout. */
function shape(text: string): string {
  return text
    .replace(/port \d+/g, "port N")
    .replace(/ +\d+\.\d+-\d+\.\d+ +sec/g, " T-T sec")
    .replace(/ +[\d.]+ (Bytes|KBytes|MBytes|GBytes)/g, " X $1")
    .replace(/ +[\d.]+ (bits|Kbits|Mbits|Gbits)\/sec/g, " R bits/sec")
    .replace(/(sec) +\d+ +(\S)/g, "$1 retr $2")
    .replace(/(sec) +\d+ +$/gm, "$1 retr");
}

test("iperf3 -n moves exactly the bytes asked for and prints iperf3's client and server reports", async (t) => {
  const { host } = await recordedHost();
  const { client, server } = await run(host, [], ["-n", "4M"]);
  t.is(client.exit, 0, client.stderr);
  t.is(server.exit, 0);
  const lines = client.stdout.split("\n");
  t.is(lines[0], "Connecting to host 172.17.0.2, port 5201");
  t.regex(lines[1]!, /^\[  5\] local 172\.17\.0\.1 port \d+ connected to 172\.17\.0\.2 port 5201$/);
  t.is(lines[2], "[ ID] Interval           Transfer     Bitrate         Retr  Cwnd");
  t.regex(lines[3]!, /^\[  5\]   0\.00-\d+\.\d\d +sec {2}4\.00 MBytes +[\d.]+ [KMGT]?bits\/sec {4}0 +[\d.]+ [KM]?Bytes {7}$/);
  t.is(lines[4], "- - - - - - - - - - - - - - - - - - - - - - - - -");
  t.is(lines[5], "[ ID] Interval           Transfer     Bitrate         Retr");
  t.regex(lines[6]!, /^\[  5\]   0\.00-\d+\.\d\d +sec {2}4\.00 MBytes +[\d.]+ [KMGT]?bits\/sec {4}0 {13}sender$/);
  t.regex(lines[7]!, /^\[  5\]   0\.00-\d+\.\d\d +sec {2}4\.00 MBytes +[\d.]+ [KMGT]?bits\/sec {18}receiver$/);
  t.deepEqual(lines.slice(8), ["", "iperf Done.", ""]);
  t.is(
    shape(server.stdout),
    [
      "-----------------------------------------------------------",
      "Server listening on 5201 (test #1)",
      "-----------------------------------------------------------",
      "Accepted connection from 172.17.0.1, port N",
      "[  5] local 172.17.0.2 port N connected to 172.17.0.1 port N",
      "[ ID] Interval           Transfer     Bitrate",
      "[  5] T-T sec X MBytes R bits/sec                  ",
      "- - - - - - - - - - - - - - - - - - - - - - - - -",
      "[ ID] Interval           Transfer     Bitrate         Retr",
      "[  5] T-T sec X MBytes R bits/sec                  receiver",
      "",
    ].join("\n"),
    server.stdout,
  );
  t.regex(server.stdout, /sec {2}4\.00 MBytes .*receiver\n$/);
});

test("iperf3 -R has the server send and the client receive", async (t) => {
  const { host } = await recordedHost();
  const { client, server } = await run(host, [], ["-R", "-n", "1M", "-l", "64K"]);
  t.is(client.exit, 0, client.stderr);
  t.is(server.exit, 0);
  const lines = client.stdout.split("\n");
  t.is(lines[0], "Connecting to host 172.17.0.2, port 5201");
  t.is(lines[1], "Reverse mode, remote host 172.17.0.2 is sending");
  t.is(lines[3], "[ ID] Interval           Transfer     Bitrate");
  t.regex(client.stdout, /sec {2}1\.00 MBytes .* {13}sender\n/);
  t.regex(client.stdout, /sec {2}1\.00 MBytes .* {18}receiver\n\niperf Done\.\n$/);
  t.regex(server.stdout, /\[ ID\] Interval {11}Transfer {5}Bitrate {9}Retr  Cwnd\n/);
  t.regex(server.stdout, /sec {2}1\.00 MBytes .* {13}sender\n$/);
});

test("the networkstatic/iperf3 image runs iperf3 as its entrypoint", async (t) => {
  const host = bootHost({ name: "node1", seed: 7, role: "node", nics: [{ ifname: "eth0", mac: 0x525400000001, cidr: "192.168.0.11/24" }], gateway: "192.168.0.1" });
  const bare = await runCommand(host, ["docker", "run", "--rm", "networkstatic/iperf3"]);
  t.is(bare.exit, 1);
  t.is(bare.stderr, `iperf3: parameter error - must either be a client (-c) or server (-s)\n\n${USAGE}`);
  await runCommand(host, ["docker", "run", "-d", "--name", "srv", "networkstatic/iperf3", "-s"]);
  await host.advance(1);
  const r = await runCommand(host, ["docker", "run", "--rm", "networkstatic/iperf3", "-c", "172.17.0.2", "-n", "256K"]);
  t.is(r.exit, 0, r.stderr);
  t.regex(r.stdout, /^Connecting to host 172\.17\.0\.2, port 5201\n/);
  t.regex(r.stdout, /sec {2} 256 KBytes .*receiver\n\niperf Done\.\n$/);
  const ps = await runCommand(host, ["docker", "ps"]);
  t.regex(ps.stdout, / networkstatic\/iperf3 +"iperf3 -s" /);
});
