import test from "ava";
import { TcpConnection, TcpListener } from "@kemu/kernel";
import { parseIpv4Addr } from "@kemu/wire";
import { runCommand, testHost } from "../_testing.ts";

/** A host with a listener on :80 and one connection to it from 127.0.0.1. */
async function busyHost() {
  const host = testHost();
  const root = host.kernel.root;
  const listener = TcpListener.listen(root, 0, 80, { backlog: 511 });
  const client = await host.runToCompletion(TcpConnection.connect(root, parseIpv4Addr("127.0.0.1")!, 80));
  const server = await host.runToCompletion(listener.accept());
  await host.advance(1);
  return { host, listener, client, server };
}

test("ss -tan lays its columns out over 80 columns as iproute2 6.1 does", async (t) => {
  const { host, client } = await busyHost();
  const r = await runCommand(host, ["ss", "-tan"]);
  t.is(r.exit, 0);
  const lines = r.stdout.split("\n");
  t.is(lines.length, 5);
  for (const l of lines.slice(0, 4)) t.is(l.length, 80, JSON.stringify(l));
  // Widest cells 6+7+7+15+5+14+5+7 = 66 columns; the 14 left over go one each
  // to every column and the remaining six to the last six.
  t.is(lines[0], "State   Recv-Q  Send-Q     Local Address:Port      Peer Address:Port   Process  ");
  t.is(lines[1], "LISTEN  0       511              0.0.0.0:80             0.0.0.0:*               ");
  const p = String(client.localPort);
  t.is(lines[2], `ESTAB   0       0              127.0.0.1:${p.padEnd(7)}      127.0.0.1:80              `);
  t.is(lines[3], `ESTAB   0       0              127.0.0.1:80           127.0.0.1:${p.padEnd(16)}`);
});

test("ss without -a hides listeners; -l shows only them; service names without -n", async (t) => {
  const { host } = await busyHost();
  const established = await runCommand(host, ["ss", "-t"]);
  t.false(established.stdout.includes("LISTEN"));
  t.true(established.stdout.includes("127.0.0.1:http"));
  const listening = await runCommand(host, ["ss", "-tln"]);
  t.deepEqual(
    listening.stdout.split("\n").slice(1).filter(Boolean).map((l) => l.trim().split(/\s+/)),
    [["LISTEN", "0", "511", "0.0.0.0:80", "0.0.0.0:*"]],
  );
});

test("COLUMNS sets the width ss fills", async (t) => {
  const { host } = await busyHost();
  host.commands.get("ss");
  const r = await runCommand(host, ["ss", "-tln"], { spec: { env: new Map([["COLUMNS", "100"]]) } });
  t.is(r.stdout.split("\n")[0]!.length, 100);
});

test("netstat -tan prints net-tools' columns, busybox's in containers", async (t) => {
  const { host, client } = await busyHost();
  const r = await runCommand(host, ["netstat", "-tan"]);
  const p = client.localPort;
  t.is(
    r.stdout,
    "Active Internet connections (servers and established)\n" +
      "Proto Recv-Q Send-Q Local Address           Foreign Address         State      \n" +
      "tcp        0      0 0.0.0.0:80              0.0.0.0:*               LISTEN     \n" +
      `tcp        0      0 ${`127.0.0.1:${p}`.padEnd(23)} 127.0.0.1:80            ESTABLISHED\n` +
      `tcp        0      0 127.0.0.1:80            ${`127.0.0.1:${p}`.padEnd(23)} ESTABLISHED\n`,
  );
  const bb = await runCommand(host, ["netstat", "-ln"], { busybox: true });
  t.is(
    bb.stdout,
    "Active Internet connections (only servers)\n" +
      "Proto Recv-Q Send-Q Local Address           Foreign Address         State       \n" +
      "tcp        0      0 0.0.0.0:80              0.0.0.0:*               LISTEN      \n",
  );
});
