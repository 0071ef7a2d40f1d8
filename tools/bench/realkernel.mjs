// Figure 2, real kernel: the same path (two namespaces, veth, a bridge) built
// with `ip`, measured with Node's dgram/net inside `ip netns exec`. Creates
// only namespaces named kb…, and deletes them.
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const PEER = fileURLToPath(new URL("./real_peer.mjs", import.meta.url));
const NS = ["kbbr", "kba", "kbb"];

function sh(args) {
  const r = spawnSync("ip", args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr || r.error}`);
}

export function realKernelAvailable() {
  if (process.platform !== "linux" || (process.getuid?.() ?? 1) !== 0) return "not root on Linux";
  const r = spawnSync("ip", ["netns", "list"], { encoding: "utf8" });
  if (r.status !== 0) return "no `ip netns`";
  return undefined;
}

export function setUp() {
  tearDown();
  for (const ns of NS) sh(["netns", "add", ns]);
  sh(["-n", "kbbr", "link", "add", "br0", "type", "bridge"]);
  sh(["-n", "kbbr", "link", "set", "br0", "up"]);
  ["kba", "kbb"].forEach((ns, i) => {
    sh(["-n", "kbbr", "link", "add", `veth${i}`, "type", "veth", "peer", "name", "eth0", "netns", ns]);
    sh(["-n", "kbbr", "link", "set", `veth${i}`, "master", "br0", "up"]);
    sh(["-n", ns, "addr", "add", `10.0.0.${i + 2}/24`, "dev", "eth0"]);
    sh(["-n", ns, "link", "set", "eth0", "up"]);
    sh(["-n", ns, "link", "set", "lo", "up"]);
  });
}

export function tearDown() {
  for (const ns of NS) spawnSync("ip", ["netns", "del", ns], { stdio: "ignore" });
}

function peer(ns, args) {
  const p = spawn("ip", ["netns", "exec", ns, process.execPath, PEER, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  const lines = [];
  let onLine;
  p.stdout.setEncoding("utf8");
  p.stdout.on("data", (d) => {
    out += d;
    let i;
    while ((i = out.indexOf("\n")) >= 0) {
      lines.push(out.slice(0, i));
      out = out.slice(i + 1);
      onLine?.();
    }
  });
  const next = () =>
    new Promise((resolve, reject) => {
      const take = () => {
        if (lines.length > 0) {
          onLine = undefined;
          resolve(lines.shift());
        }
      };
      onLine = take;
      p.once("exit", () => (lines.length ? take() : reject(new Error(`peer ${args[0]} exited`))));
      take();
    });
  return { next, done: new Promise((r) => p.once("exit", r)) };
}

/** Packets/s a Node dgram receiver gets from a Node dgram sender across the real veth+bridge. */
export async function realUdpPps(seconds = 2) {
  const rx = peer("kbb", ["udp-rx", "10.0.0.3", "9000", String(seconds + 1.5)]);
  await rx.next();
  const tx = peer("kba", ["udp-tx", "10.0.0.3", "9000", String(seconds)]);
  const sent = JSON.parse(await tx.next()).sent;
  const got = JSON.parse(await rx.next());
  await Promise.all([rx.done, tx.done]);
  return { pps: got.packets / (got.ms / 1000), sent, received: got.packets };
}

/** Mean RTT (µs) of 56-byte UDP echoes across the real veth+bridge, Node on both sides (for machines without ping). */
let echoPort = 9100;
export async function realUdpRttUs() {
  // A port of its own each time: the last echo peer may still hold its port.
  const port = String(echoPort++);
  const echo = peer("kbb", ["udp-echo", "10.0.0.3", port, "5"]);
  await echo.next();
  const rtt = peer("kba", ["udp-rtt", "10.0.0.3", port, "0"]);
  const got = JSON.parse(await rtt.next());
  await rtt.done;
  return got.us;
}

/** Mbit/s of a Node net bulk transfer across the real veth+bridge. */
export async function realTcpMbps(seconds = 2) {
  const rx = peer("kbb", ["tcp-rx", "10.0.0.3", "5001", "0"]);
  await rx.next();
  const tx = peer("kba", ["tcp-tx", "10.0.0.3", "5001", String(seconds)]);
  const got = JSON.parse(await rx.next());
  await Promise.all([rx.done, tx.done]);
  return (got.bytes * 8) / 1e6 / (got.ms / 1000);
}

/**
 * The real iptables-restore loading `text` into a fresh namespace made for it
 * (kbipt, deleted after): wall ms of the restore alone, or undefined when
 * there is no iptables or no namespace.
 */
export function realRestoreMs(text) {
  if (realKernelAvailable() !== undefined) return undefined;
  if (spawnSync("iptables-restore", ["--version"], { stdio: "ignore" }).status !== 0) return undefined;
  spawnSync("ip", ["netns", "del", "kbipt"], { stdio: "ignore" });
  if (spawnSync("ip", ["netns", "add", "kbipt"], { stdio: "ignore" }).status !== 0) return undefined;
  try {
    const t0 = performance.now();
    const r = spawnSync("ip", ["netns", "exec", "kbipt", "iptables-restore"], { input: text, encoding: "utf8" });
    const ms = performance.now() - t0;
    return r.status === 0 ? ms : undefined;
  } finally {
    spawnSync("ip", ["netns", "del", "kbipt"], { stdio: "ignore" });
  }
}

/** The real kernel's ping RTT (µs, as ping reports its average) from kba to kbb across the bridge; set up first. */
export function realPingUs(count = 50) {
  const r = spawnSync("ip", ["netns", "exec", "kba", "ping", "-c", String(count), "-i", "0.01", "-q", "10.0.0.3"], { encoding: "utf8" });
  const m = /= ([\d.]+)\/([\d.]+)\//.exec(r.stdout ?? "");
  if (!m) throw new Error(`ping: ${r.stdout}${r.stderr}`);
  return Number(m[2]) * 1000;
}
