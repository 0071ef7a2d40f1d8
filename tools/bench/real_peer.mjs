// The real-kernel side of figure 2: a tiny UDP/TCP sender or receiver, run
// inside `ip netns exec`. argv: mode (udp-rx|udp-tx|udp-echo|udp-rtt|tcp-rx|tcp-tx) host port seconds
import dgram from "node:dgram";
import net from "node:net";

const [mode, host, portText, secondsText] = process.argv.slice(2);
const port = Number(portText);
const seconds = Number(secondsText);

if (mode === "udp-echo") {
  // Answers every datagram with itself, for `seconds`.
  const s = dgram.createSocket("udp4");
  s.on("message", (m, from) => s.send(m, from.port, from.address));
  s.bind(port, host, () => process.stdout.write("ready\n"));
  setTimeout(() => process.exit(0), seconds * 1000);
} else if (mode === "udp-rtt") {
  // 50 round trips one after another; prints the mean RTT in µs.
  const s = dgram.createSocket("udp4");
  const rtts = [];
  let t0 = 0;
  const ping = () => {
    t0 = performance.now();
    s.send(Buffer.alloc(56), port, host);
  };
  s.on("message", () => {
    rtts.push((performance.now() - t0) * 1000);
    if (rtts.length < 50) setTimeout(ping, 10);
    else {
      process.stdout.write(`${JSON.stringify({ us: rtts.reduce((a, b) => a + b, 0) / rtts.length })}\n`);
      process.exit(0);
    }
  });
  s.bind(0, () => ping());
} else if (mode === "udp-rx") {
  const s = dgram.createSocket({ type: "udp4", recvBufferSize: 4 << 20 });
  let n = 0;
  let t0 = 0;
  let tLast = 0;
  s.on("message", () => {
    if (n === 0) t0 = performance.now();
    n++;
    tLast = performance.now();
  });
  s.bind(port, host, () => process.stdout.write("ready\n"));
  setTimeout(() => {
    process.stdout.write(`${JSON.stringify({ packets: n, ms: tLast - t0 })}\n`);
    process.exit(0);
  }, seconds * 1000);
} else if (mode === "udp-tx") {
  const s = dgram.createSocket("udp4");
  const buf = Buffer.alloc(64);
  const end = performance.now() + seconds * 1000;
  let inflight = 0;
  let sent = 0;
  s.connect(port, host, () => {
    const pump = () => {
      while (inflight < 256 && performance.now() < end) {
        inflight++;
        sent++;
        s.send(buf, () => {
          inflight--;
          if (inflight === 0) pump();
        });
      }
      if (performance.now() >= end && inflight === 0) {
        process.stdout.write(`${JSON.stringify({ sent })}\n`);
        s.close();
      }
    };
    pump();
  });
} else if (mode === "tcp-rx") {
  const srv = net.createServer((c) => {
    let n = 0;
    const t0 = performance.now();
    c.on("data", (d) => (n += d.length));
    c.on("end", () => {
      process.stdout.write(`${JSON.stringify({ bytes: n, ms: performance.now() - t0 })}\n`);
      process.exit(0);
    });
  });
  srv.listen(port, host, () => process.stdout.write("ready\n"));
} else if (mode === "tcp-tx") {
  const c = net.connect(port, host, () => {
    const chunk = Buffer.alloc(64 << 10);
    const end = performance.now() + seconds * 1000;
    const write = () => {
      while (performance.now() < end) if (!c.write(chunk)) return void c.once("drain", write);
      c.end();
    };
    write();
  });
}
