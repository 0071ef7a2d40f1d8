import test from "ava";
import { runCommand, testHost } from "../_testing.ts";

async function sh(host: ReturnType<typeof testHost>, script: string) {
  return runCommand(host, ["sh", "-c", script]);
}

test("ipvsadm -Ln lists services by protocol number, address and port, real servers sorted, in ipvsadm's columns", async (t) => {
  const host = testHost();
  const r = await sh(
    host,
    [
      "ipvsadm -A -u 10.96.0.10:53 -s rr",
      "ipvsadm -A -t 10.96.0.10:53 -s rr",
      "ipvsadm -A -t 10.96.0.1:443 -s rr",
      "ipvsadm -a -t 10.96.0.1:443 -r 172.18.0.2:6443 -m -w 1",
      "ipvsadm -a -t 10.96.0.10:53 -r 10.244.0.3:53 -m",
      "ipvsadm -a -t 10.96.0.10:53 -r 10.244.0.2:53 -m",
      "ipvsadm -Ln",
    ].join(" && "),
  );
  t.is(r.exit, 0, r.stderr);
  t.is(
    r.stdout,
    [
      "IP Virtual Server version 1.2.1 (size=4096)",
      "Prot LocalAddress:Port Scheduler Flags",
      "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn",
      "TCP  10.96.0.1:443 rr",
      "  -> 172.18.0.2:6443              Masq    1      0          0         ",
      "TCP  10.96.0.10:53 rr",
      "  -> 10.244.0.2:53                Masq    1      0          0         ",
      "  -> 10.244.0.3:53                Masq    1      0          0         ",
      "UDP  10.96.0.10:53 rr",
      "",
    ].join("\n"),
  );
});

test("persistence shows as kube-proxy's ClientIP affinity does; -S saves commands that rebuild the table", async (t) => {
  const host = testHost();
  const r = await sh(host, "ipvsadm -A -t 10.0.0.1:443 -s rr -p 10800 && ipvsadm -a -t 10.0.0.1:443 -r 10.244.1.5:8443 -m -w 1 && ipvsadm -Ln && ipvsadm -Sn");
  t.is(r.exit, 0, r.stderr);
  t.regex(r.stdout, /^TCP {2}10\.0\.0\.1:443 rr persistent 10800$/m);
  t.regex(r.stdout, /^-A -t 10\.0\.0\.1:443 -s rr -p 10800\n-a -t 10\.0\.0\.1:443 -r 10\.244\.1\.5:8443 -m -w 1\n$/m);
});

test("the kernel's refusals and ipvsadm's own, with non-zero exits and nothing changed", async (t) => {
  const host = testHost();
  t.is((await sh(host, "ipvsadm -A -t 10.0.0.1:80 -s rr")).exit, 0);
  const cases: Array<[string, string]> = [
    ["ipvsadm -A -t 10.0.0.1:80 -s rr", "Service already exists\n"],
    ["ipvsadm -D -t 10.0.0.2:80", "No such service\n"],
    ["ipvsadm -a -t 10.0.0.2:80 -r 10.244.0.2:80", "Service not defined\n"],
    ["ipvsadm -d -t 10.0.0.1:80 -r 10.244.0.9:80", "No such destination\n"],
    ["ipvsadm -A -t 10.0.0.3:80 -s fastest", "Scheduler or persistence engine not found\n"],
    ["ipvsadm -A -t 300.0.0.1:80", "Illegal virtual server address[:port] specified\n"],
    ["ipvsadm -a -t 10.0.0.1:80 -r 10.244.0.2:80 -w lots", "illegal weight specified\n"],
    ["ipvsadm -A -s rr", "You need to supply the 'service-address' option for the 'add-service' command\n"],
  ];
  for (const [cmd, err] of cases) {
    const r = await sh(host, cmd);
    t.not(r.exit, 0, cmd);
    t.is(r.stderr, err, cmd);
  }
  const saved = await sh(host, "ipvsadm -Sn");
  t.is(saved.stdout, "-A -t 10.0.0.1:80 -s rr\n");
});
