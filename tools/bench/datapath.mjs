// Figure 2: the in-thread data path — two namespaces on a bridge over veth,
// in one kernel on an EventLoop driven as fast as the CPU allows.
import { EventLoop, Kernel, Rng, TcpConnection, TcpListener, UdpSocket } from "@kemu/kernel";
import { parseCidr } from "@kemu/wire";

const ip = (s) => parseCidr(s).addr;

function configure(ns, dev, cidr) {
  const c = parseCidr(cidr);
  ns.setUp(ns.lo, true);
  ns.addAddress(dev, { addr: c.addr, prefixLen: c.len });
  ns.setUp(dev, true);
}

/** Two pods (10.0.0.2, 10.0.0.3) on a bridge in the root namespace, as docker0/cni0 makes them. */
export function twoPods(seed = 1) {
  const clock = new EventLoop();
  const kernel = new Kernel({ clock, rng: new Rng(seed) });
  const root = kernel.root;
  const br = kernel.createBridge(root, "br0");
  configure(root, br, "10.0.0.1/24");
  const pods = [];
  for (let i = 0; i < 2; i++) {
    const [h, c] = kernel.createVeth(root, `veth${i}`, "eth0", { peerNs: kernel.createNetns() });
    br.addPort(h);
    root.setUp(h, true);
    configure(c.netns, c, `10.0.0.${i + 2}/24`);
    pods.push(c.netns);
  }
  return { clock, kernel, a: pods[0], b: pods[1] };
}

/** UDP datagrams/s, 64-byte payloads, a → b, each delivered to b's socket. */
export function udpPps({ packets = 200_000, batch = 256 } = {}) {
  const { clock, a, b } = twoPods();
  const rx = new UdpSocket(b);
  rx.bind(0, 9000);
  const tx = new UdpSocket(a);
  const payload = new Uint8Array(64);
  const dst = ip("10.0.0.3");
  let got = 0;
  const pump = (n) => {
    for (let i = 0; i < n; i++) tx.sendTo(dst, 9000, payload);
    clock.runUntil(clock.now() + 0.5);
    while (rx.mailbox.tryReceive() !== undefined) got++;
  };
  // Warm up: ARP resolved, bridge learned, JIT warm.
  for (let i = 0; i < 20; i++) pump(batch);
  got = 0;
  globalThis.gc?.();
  const t0 = performance.now();
  for (let sent = 0; sent < packets; sent += batch) pump(batch);
  const ms = performance.now() - t0;
  if (got < packets * 0.99) throw new Error(`udp: ${got} of ${packets} delivered`);
  return got / (ms / 1000);
}

/** Drives the clock like Host.runToCompletion: promise continuations between timers. */
async function settle(clock, work) {
  let done = false;
  const watched = work.finally(() => {
    done = true;
  });
  while (!done) {
    await new Promise((r) => setImmediate(r));
    if (done) break;
    const next = clock.nextAt();
    if (next === undefined) throw new Error("tcp bench stuck");
    clock.runUntil(next);
  }
  return watched;
}

/** TCP bulk transfer a → b through the kernel's TcpConnection API, Mbit/s of wall time. */
export async function tcpMbps({ bytes = 16 << 20, chunk = 64 << 10 } = {}) {
  const { clock, a, b } = twoPods();
  const listener = TcpListener.listen(b, 0, 5001);
  const accepted = listener.accept();
  const conn = await settle(clock, TcpConnection.connect(a, ip("10.0.0.3"), 5001));
  const server = await settle(clock, accepted);
  const data = new Uint8Array(chunk);
  const t0 = performance.now();
  const writer = (async () => {
    for (let off = 0; off < bytes; off += chunk) await conn.write(data);
    conn.shutdownWrite();
  })();
  const reader = (async () => {
    let n = 0;
    for (;;) {
      const d = await server.read();
      if (d === undefined) return n;
      n += d.length;
    }
  })();
  const [, got] = await settle(clock, Promise.all([writer, reader]));
  const ms = performance.now() - t0;
  if (got !== bytes) throw new Error(`tcp: ${got} of ${bytes} bytes`);
  conn.close();
  server.close();
  listener.close();
  return { mbps: (bytes * 8) / 1e6 / (ms / 1000), virtualMbps: (bytes * 8) / 1e6 / (clock.now() / 1000) };
}
