/**
 * The topology the network tools' golden samples were recorded on: a host
 * namespace "kth" with docker0 (02:42:5e:2b:1c:0a, 172.17.0.1/16) and a
 * veth "vethkt1" (9a:3c:11:22:33:44) whose peer is eth0 (02:42:ac:11:00:02,
 * 172.17.0.2/16, default via 172.17.0.1) in namespace "ktc". It is built with
 * the same commands typed on the real machine. Private to the tests.
 */
import type { NetNs } from "@kemu/kernel";
import { runCommand, testHost } from "../_testing.ts";
import type { Host } from "../host.ts";

/** The recording session's setup, as typed on the real host. */
export const SETUP = [
  "ip netns add ktc",
  "ip link add docker0 type bridge",
  "ip link set docker0 address 02:42:5e:2b:1c:0a",
  "ip addr add 172.17.0.1/16 brd + dev docker0",
  "ip link set docker0 up",
  "ip link add vethkt1 type veth peer name eth0 netns ktc",
  "ip link set vethkt1 address 9a:3c:11:22:33:44",
  "ip -n ktc link set eth0 address 02:42:ac:11:00:02",
  "ip link set vethkt1 master docker0",
  "ip link set vethkt1 up",
  "ip -n ktc link set lo up",
  "ip -n ktc addr add 172.17.0.2/16 dev eth0",
  "ip -n ktc link set eth0 up",
  "ip -n ktc route add default via 172.17.0.1",
];

/** A host set up like the recording session; its root namespace is named "kth" as it was there. */
export async function recordedHost(): Promise<{ host: Host; ktc: NetNs }> {
  const host = testHost();
  host.namedNetns.set("kth", host.kernel.root);
  for (const line of SETUP) {
    const r = await runCommand(host, line.split(" "));
    if (r.exit !== 0) throw new Error(`${line}: ${r.stderr}`);
  }
  return { host, ktc: host.namedNetns.get("ktc")! };
}

/** Runs a command line (split on spaces) on the host, or in a namespace / with busybox. */
export function sh(
  host: Host,
  line: string,
  options: { netns?: NetNs; busybox?: boolean; stdin?: string } = {},
): Promise<{ exit: number; stdout: string; stderr: string }> {
  const spec = options.netns !== undefined ? { netns: options.netns } : {};
  return runCommand(host, line.split(" ").filter((w) => w !== ""), {
    spec,
    ...(options.busybox ? { busybox: true } : {}),
    ...(options.stdin !== undefined ? { stdin: options.stdin } : {}),
  });
}

/** Joins lines with newlines and a final newline: golden samples read line by line. */
export function lines(...ls: string[]): string {
  return ls.map((l) => `${l}\n`).join("");
}
