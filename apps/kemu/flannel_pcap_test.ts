/**
 * flannel's vxlan backend on the wire: node1's eth0 capture from the shipped
 * vxlan scenario, decoded by tshark as outer IPv4/UDP 8472/VXLAN carrying the
 * inner pod-to-pod ICMP and TCP, both sets of checksums good.
 */
import test from "ava";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..", "..");
const tshark = ["/usr/bin/tshark", "/usr/local/bin/tshark"].find((p) => existsSync(p));

(tshark ? test : test.skip)("node1's eth0 pcap decodes as UDP 8472 / VXLAN VNI 1 around intact pod ICMP and TCP", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "kemu-pcap-"));
  const r = spawnSync(process.execPath, [join(here, "main.js"), "run", "scenarios/k8s-pod-to-pod-vxlan.yaml", "--json", "--pcap", dir], {
    cwd: root,
    encoding: "utf8",
    timeout: 120_000,
  });
  t.is(r.status, 0, r.stderr);
  const pcap = join(dir, "node1-root-eth0.pcap");
  const args = ["-r", pcap, "-d", "udp.port==8472,vxlan", "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE"];
  const bad = execFileSync(tshark!, [...args, "-Y", "_ws.malformed || _ws.expert.severity >= error"], { encoding: "utf8" });
  t.is(bad, "");
  const rows = execFileSync(
    tshark!,
    [...args, "-Y", "vxlan", "-T", "fields", "-E", "separator=|", "-E", "occurrence=a", "-E", "aggregator=,",
      "-e", "frame.protocols", "-e", "ip.src", "-e", "ip.dst", "-e", "ip.ttl", "-e", "ip.checksum.status", "-e", "udp.dstport", "-e", "udp.checksum",
      "-e", "vxlan.vni", "-e", "vxlan.flags", "-e", "tcp.checksum.status", "-e", "icmp.checksum.status"],
    { encoding: "utf8" },
  )
    .trim()
    .split("\n")
    .map((l) => l.split("|"));
  t.true(rows.length > 0, "VXLAN frames on node1's eth0");
  const icmp = rows.filter((x) => x[0]!.endsWith(":icmp:data") || x[0]!.endsWith(":icmp"));
  const tcp = rows.filter((x) => x[0]!.includes(":vxlan:eth:ethertype:ip:tcp"));
  t.true(icmp.length >= 6, "ping requests and replies inside");
  t.true(tcp.length >= 5, "the wget's TCP inside");
  for (const row of rows) {
    const [protocols, srcs, dsts, ttls, ipsums, dport, udpsum, vni, flags, tcpsum, icmpsum] = row;
    t.true(protocols!.startsWith("eth:ethertype:ip:udp:vxlan:eth:ethertype:ip:"), protocols);
    const [outerSrc, innerSrc] = srcs!.split(",");
    const [outerDst, innerDst] = dsts!.split(",");
    t.true(["192.168.0.11", "192.168.0.12"].includes(outerSrc!) && ["192.168.0.11", "192.168.0.12"].includes(outerDst!));
    t.regex(innerSrc!, /^10\.244\.\d+\.\d+$/);
    t.regex(innerDst!, /^10\.244\.\d+\.\d+$/);
    t.is(ttls!.split(",")[0], "64", "outer TTL 64");
    t.deepEqual(ipsums!.split(","), ["1", "1"], "outer and inner IPv4 checksums good");
    t.is(dport, "8472");
    t.is(udpsum, "0x0000", "outer UDP checksum 0, as Linux sends it");
    t.is(vni, "1");
    t.is(flags, "0x0800", "only the I flag");
    if (protocols!.includes(":tcp")) t.is(tcpsum, "1", "inner TCP checksum good");
    if (protocols!.includes(":icmp")) t.is(icmpsum, "1", "inner ICMP checksum good");
  }
});
