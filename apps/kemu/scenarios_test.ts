/**
 * The shipped scenarios, run end to end through the real `kemu` binary, one
 * worker thread per host. The docker0 scenario's pcaps are opened with tshark.
 */
import test from "ava";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..", "..");
const main = join(here, "main.js");
const scenarios = readdirSync(join(root, "scenarios"))
  .filter((f) => f.endsWith(".yaml"))
  .sort();

interface JsonReport {
  passed: boolean;
  steps: Array<{ location: string | null; command: string; exit: number; stdout: string; stderr: string; passed: boolean }>;
}

function kemu(args: string[]): { status: number | null; report: JsonReport; stderr: string } {
  const r = spawnSync(process.execPath, [main, ...args], { cwd: root, encoding: "utf8", timeout: 120_000 });
  let report: JsonReport;
  try {
    report = JSON.parse(r.stdout) as JsonReport;
  } catch {
    throw new Error(`kemu ${args.join(" ")} printed no JSON:\n${r.stdout}\n${r.stderr}`);
  }
  return { status: r.status, report, stderr: r.stderr };
}

// The Service scenarios that do not read kube-proxy's iptables rules must hold in ipvs mode too.
const modeNeutral = scenarios.filter((f) => {
  const text = readFileSync(join(root, "scenarios", f), "utf8");
  return text.includes("kind: Service") && !/KUBE-|iptables-save|proxyMode/.test(text);
});

for (const file of modeNeutral) {
  test.serial(`shipped scenario ${file} passes with --proxy-mode ipvs`, (t) => {
    const { status, report } = kemu(["run", join("scenarios", file), "--json", "--proxy-mode", "ipvs"]);
    t.deepEqual(
      report.steps.filter((s) => !s.passed).map((s) => `${s.location} $ ${s.command}\nexit ${s.exit}\n${s.stdout}${s.stderr}`),
      [],
    );
    t.is(status, 0);
  });
}

for (const file of scenarios) {
  test.serial(`shipped scenario ${file} passes`, (t) => {
    const { status, report } = kemu(["run", join("scenarios", file), "--json"]);
    const failed = report.steps.filter((s) => !s.passed);
    t.deepEqual(
      failed.map((s) => `${s.location} $ ${s.command}\nexit ${s.exit}\n${s.stdout}${s.stderr}`),
      [],
    );
    t.true(report.passed);
    t.is(status, 0);
  });
}

test.serial("the same seed gives the same output, byte for byte", (t) => {
  const a = kemu(["run", "scenarios/docker-bridge-ping.yaml", "--json", "--seed", "42"]);
  const b = kemu(["run", "scenarios/docker-bridge-ping.yaml", "--json", "--seed", "42"]);
  t.deepEqual(a.report, b.report);
  const c = kemu(["run", "scenarios/docker-bridge-ping.yaml", "--json", "--seed", "43"]);
  t.notDeepEqual(
    a.report.steps.map((s) => s.stdout),
    c.report.steps.map((s) => s.stdout),
    "another seed draws other container IDs and veth names",
  );
});

const tshark = ["/usr/bin/tshark", "/usr/local/bin/tshark"].find((p) => existsSync(p));

(tshark ? test.serial : test.skip)("tshark decodes the docker0 pcaps: ARP, ICMP echo, good checksums, nothing malformed", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "kemu-pcap-"));
  const { status, stderr } = kemu(["run", "scenarios/docker-bridge-ping.yaml", "--json", "--pcap", dir]);
  t.is(status, 0, stderr);
  const files = readdirSync(dir).filter((f) => f.endsWith(".pcap"));
  t.true(files.includes("node1-busybox-1-eth0.pcap"), files.join(", "));
  t.true(files.includes("node1-root-docker0.pcap"), files.join(", "));
  t.true(files.some((f) => /^node1-root-veth[0-9a-f]{7}\.pcap$/.test(f)), files.join(", "));
  for (const f of files) {
    const path = join(dir, f);
    const malformed = execFileSync(tshark!, ["-r", path, "-Y", "_ws.malformed || _ws.expert.severity >= warning"], { encoding: "utf8" });
    t.is(malformed, "", `${f} has malformed or warned frames`);
  }
  const eth0 = join(dir, "node1-busybox-1-eth0.pcap");
  const fields = execFileSync(
    tshark!,
    ["-r", eth0, "-o", "ip.check_checksum:TRUE", "-T", "fields", "-E", "separator=|", "-e", "frame.protocols", "-e", "ip.checksum.status", "-e", "icmp.checksum.status", "-e", "icmp.type", "-e", "arp.opcode"],
    { encoding: "utf8" },
  )
    .trim()
    .split("\n")
    .map((l) => l.split("|"));
  const arp = fields.filter((f) => f[0]!.includes("arp"));
  t.true(arp.some((f) => f[4] === "1") && arp.some((f) => f[4] === "2"), "an ARP request and a reply");
  const icmp = fields.filter((f) => f[0]!.includes("icmp"));
  t.true(icmp.some((f) => f[3] === "8") && icmp.some((f) => f[3] === "0"), "echo request and reply");
  for (const f of icmp) {
    // Wireshark's checksum status values: 0 Bad, 1 Good, 2 Unverified.
    t.is(f[1], "1", "IPv4 header checksum good");
    t.is(f[2], "1", "ICMP checksum good");
  }
});

(tshark ? test.serial : test.skip)("tshark decodes node1's eth0 on the underlay: ARP, ICMP, TCP/HTTP, good checksums", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "kemu-pcap-"));
  const { status, stderr } = kemu(["run", "scenarios/underlay-hosts.yaml", "--json", "--pcap", dir]);
  t.is(status, 0, stderr);
  const eth0 = join(dir, "node1-root-eth0.pcap");
  t.true(existsSync(eth0));
  const bad = execFileSync(tshark!, ["-r", eth0, "-Y", "_ws.malformed || _ws.expert.severity >= error"], { encoding: "utf8" });
  t.is(bad, "");
  const rows = execFileSync(
    tshark!,
    ["-r", eth0, "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-T", "fields", "-E", "separator=|", "-e", "frame.protocols", "-e", "ip.checksum.status", "-e", "tcp.checksum.status", "-e", "http.request.method"],
    { encoding: "utf8" },
  )
    .trim()
    .split("\n")
    .map((l) => l.split("|"));
  t.true(rows.some((r) => r[0]!.includes("arp")), "ARP");
  t.true(rows.some((r) => r[0]!.includes("icmp")), "ICMP");
  t.true(rows.some((r) => r[3] === "GET"), "an HTTP GET");
  for (const r of rows.filter((x) => x[0]!.includes(":ip:"))) t.is(r[1], "1", `IPv4 checksum good in ${r[0]}`);
  for (const r of rows.filter((x) => x[0]!.includes(":tcp"))) t.is(r[2], "1", `TCP checksum good in ${r[0]}`);
});

(tshark ? test.serial : test.skip)("on node1's eth0 the NATed flows carry the translated addresses, with good TCP checksums", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "kemu-pcap-"));
  const { status, stderr } = kemu(["run", "scenarios/docker-port-mapping.yaml", "--json", "--pcap", dir]);
  t.is(status, 0, stderr);
  const rows = execFileSync(
    tshark!,
    ["-r", join(dir, "node1-root-eth0.pcap"), "-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE", "-Y", "tcp", "-T", "fields", "-E", "separator=|", "-e", "ip.src", "-e", "tcp.srcport", "-e", "ip.dst", "-e", "tcp.dstport", "-e", "tcp.checksum.status", "-e", "ip.checksum.status"],
    { encoding: "utf8" },
  )
    .trim()
    .split("\n")
    .map((l) => l.split("|"));
  // Inbound to the published port: the wire shows the node's address, never the container's.
  t.true(rows.some((r) => r[0] === "198.51.100.10" && r[2] === "192.168.0.11" && r[3] === "1234"));
  // Egress from the container: masqueraded to the node's address.
  t.true(rows.some((r) => r[0] === "192.168.0.11" && r[2] === "198.51.100.10" && r[3] === "80"));
  t.false(rows.some((r) => r[0] === "172.17.0.2" || r[2] === "172.17.0.2"), "no container address leaves the node");
  for (const r of rows) {
    t.is(r[4], "1", `TCP checksum good: ${r.join(" ")}`);
    t.is(r[5], "1", `IPv4 checksum good: ${r.join(" ")}`);
  }
});

test.serial("the same seed gives byte-identical pcap files, across every worker thread", async (t) => {
  const { readFileSync } = await import("node:fs");
  const capture = () => {
    const dir = mkdtempSync(join(tmpdir(), "kemu-pcap-"));
    const { status, stderr } = kemu(["run", "scenarios/fault-link-partition.yaml", "--json", "--seed", "7", "--pcap", dir]);
    t.is(status, 0, stderr);
    return new Map(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f))]));
  };
  const a = capture();
  const b = capture();
  t.deepEqual([...a.keys()], [...b.keys()]);
  t.true(a.size >= 4);
  for (const [name, bytes] of a) t.true(bytes.equals(b.get(name)!), `${name} differs between runs`);
});
