import test from "ava";
import { TcpListener } from "@kemu/kernel";
import { runCommand } from "../_testing.ts";
import type { DockerRuntime } from "../docker/runtime.ts";
import type { Host } from "../host.ts";
import { bootHost } from "../node.ts";
import { BufferOutput, EMPTY_INPUT } from "../process.ts";
import { NGINX_INDEX_HTML } from "./nginx.ts";
import { busyboxProgressLine, smartUlltoa5 } from "./wget.ts";

function node(): { host: Host; docker: DockerRuntime } {
  const host = bootHost({ name: "node1", seed: 7, role: "node", nics: [{ ifname: "eth0", mac: 0x525400000001, cidr: "192.168.0.11/24" }], gateway: "192.168.0.1" });
  return { host, docker: host.service<DockerRuntime>("docker")! };
}

const run = (host: Host, ...argv: string[]) => runCommand(host, argv);

/** A node with an nginx container "web" at 172.17.0.2. */
async function withNginx(): Promise<{ host: Host; docker: DockerRuntime }> {
  const n = node();
  const r = await run(n.host, "docker", "run", "-d", "--name", "web", "nginx");
  if (r.exit !== 0) throw new Error(r.stderr);
  await n.host.advance(1);
  return n;
}

test("busybox's progress meter and size columns match libbb", (t) => {
  t.is(smartUlltoa5(615), "  615");
  t.is(smartUlltoa5(99999), "99999");
  t.is(smartUlltoa5(100000), "97.6k");
  t.is(smartUlltoa5(4 << 20), "4096k");
  t.is(smartUlltoa5(123 << 20), " 123M");
  t.is(busyboxProgressLine("-", 615, 615, 0), "-                    100% |********************************|   615  0:00:00 ETA\n");
  t.is(busyboxProgressLine("index.html", 0, 0, 0), "index.html               0 --:--:-- ETA\n");
});

test("wget -O - from one container fetches nginx's welcome page from another", async (t) => {
  const { host } = await withNginx();
  const r = await run(host, "docker", "run", "--rm", "busybox", "wget", "-O", "-", "http://172.17.0.2");
  t.is(r.exit, 0, r.stderr);
  t.is(r.stdout, NGINX_INDEX_HTML);
  t.is(
    r.stderr,
    "Connecting to 172.17.0.2 (172.17.0.2:80)\n" +
      "writing to stdout\n" +
      "-                    100% |********************************|   615  0:00:00 ETA\n" +
      "written to stdout\n",
  );
});

test("nginx logs each request in the image's main format on stdout (docker logs) and in access.log", async (t) => {
  const { host, docker } = await withNginx();
  await host.advance(5_000);
  await run(host, "docker", "run", "--rm", "busybox", "wget", "-q", "-O", "-", "172.17.0.2:80/");
  const logs = await run(host, "docker", "logs", "web");
  const line = '172.17.0.3 - - [01/Jan/2026:00:00:05 +0000] "GET / HTTP/1.1" 200 615 "-" "Wget" "-"';
  t.true(logs.stdout.includes(`${line}\n`), logs.stdout);
  t.regex(logs.stdout, /\[notice\] 1#1: nginx\/1\.25\.5\n/);
  t.is(docker.find("web")!.fs.readFile("/var/log/nginx/access.log"), `${line}\n`);
});

test("the response carries nginx's headers, dated by the emulated clock", async (t) => {
  const { host } = await withNginx();
  await host.advance(5_000);
  const r = await run(host, "docker", "run", "--rm", "busybox", "wget", "-S", "-O", "/dev/null", "http://172.17.0.2/");
  t.is(r.exit, 0, r.stderr);
  t.true(
    r.stderr.includes(
      "  HTTP/1.1 200 OK\n" +
        "  Server: nginx/1.25.5\n" +
        "  Date: Thu, 01 Jan 2026 00:00:05 GMT\n" +
        "  Content-Type: text/html\n" +
        "  Content-Length: 615\n" +
        "  Last-Modified: Tue, 16 Apr 2024 14:29:59 GMT\n" +
        "  Connection: close\n" +
        '  ETag: "661e8b67-267"\n' +
        "  Accept-Ranges: bytes\n" +
        "  \n",
    ),
    r.stderr,
  );
});

test("wget to a port nobody listens on: can't connect to remote host, Connection refused", async (t) => {
  const { host } = await withNginx();
  const r = await run(host, "docker", "run", "--rm", "busybox", "wget", "-O", "-", "http://172.17.0.2:8080/");
  t.is(r.exit, 1);
  t.is(r.stdout, "");
  t.is(r.stderr, "Connecting to 172.17.0.2:8080 (172.17.0.2:8080)\nwget: can't connect to remote host (172.17.0.2): Connection refused\n");
});

test("wget of a name nobody knows: bad address", async (t) => {
  const { host } = node();
  const r = await run(host, "docker", "run", "--rm", "busybox", "wget", "http://nowhere/");
  t.is(r.exit, 1);
  t.is(r.stderr, "wget: bad address 'nowhere'\n");
});

test("a 404 is reported as the server's error; nginx logs it in both logs", async (t) => {
  const { host, docker } = await withNginx();
  const r = await run(host, "docker", "run", "--rm", "busybox", "wget", "-O", "-", "http://172.17.0.2/missing.html");
  t.is(r.exit, 1);
  t.is(r.stderr, "Connecting to 172.17.0.2 (172.17.0.2:80)\nwget: server returned error: HTTP/1.1 404 Not Found\n");
  const logs = await run(host, "docker", "logs", "web");
  t.regex(logs.stdout, /"GET \/missing.html HTTP\/1.1" 404 153 "-" "Wget" "-"\n/);
  t.regex(
    logs.stdout,
    /\[error\] 29#29: \*1 open\(\) "\/usr\/share\/nginx\/html\/missing.html" failed \(2: No such file or directory\), client: 172\.17\.0\.3, server: localhost, request: "GET \/missing.html HTTP\/1.1", host: "172\.17\.0\.2"\n/,
  );
  void docker;
});

test("wget saves to index.html, and will not overwrite it without -O", async (t) => {
  const { host, docker } = await withNginx();
  await run(host, "docker", "run", "-d", "--name", "client", "busybox", "sleep", "3600");
  const c = docker.find("client")!;
  const exec = async (...argv: string[]) => {
    const stdout = new BufferOutput();
    const stderr = new BufferOutput();
    const exit = await host.runToCompletion(host.spawn(argv, docker.execSpec(c, { stdin: EMPTY_INPUT, stdout, stderr })));
    return { exit, stdout: stdout.text, stderr: stderr.text };
  };
  const first = await exec("wget", "http://172.17.0.2/");
  t.is(first.exit, 0, first.stderr);
  t.is(
    first.stderr,
    "Connecting to 172.17.0.2 (172.17.0.2:80)\nsaving to 'index.html'\n" +
      "index.html           100% |********************************|   615  0:00:00 ETA\n'index.html' saved\n",
  );
  t.is(c.fs.readFile("/index.html"), NGINX_INDEX_HTML);
  const again = await exec("wget", "http://172.17.0.2/");
  t.is(again.exit, 1);
  t.is(again.stderr, "Connecting to 172.17.0.2 (172.17.0.2:80)\nwget: can't open 'index.html': File exists\n");
  const forced = await exec("wget", "-q", "-O", "index.html", "http://172.17.0.2/");
  t.is(forced.exit, 0);
  t.is(forced.stderr, "");
});

test("wget -T gives up on a silent server with download timed out", async (t) => {
  const { host } = node();
  // A server on the host that accepts and then says nothing.
  const mute = TcpListener.listen(host.kernel.root, 0, 8081);
  const start = host.clock.now();
  const r = await run(host, "docker", "run", "--rm", "busybox", "wget", "-T", "2", "-O", "-", "http://172.17.0.1:8081/");
  mute.close();
  t.is(r.exit, 1);
  t.is(r.stderr, "Connecting to 172.17.0.1:8081 (172.17.0.1:8081)\nwget: download timed out\n");
  t.true(host.clock.now() - start >= 2_000);
});

test("GNU wget on the host fetches from a container", async (t) => {
  const { host } = await withNginx();
  const r = await run(host, "wget", "-O", "-", "http://172.17.0.2/");
  t.is(r.exit, 0, r.stderr);
  t.is(r.stdout, NGINX_INDEX_HTML);
  const lines = r.stderr.split("\n");
  t.is(lines[0], "--2026-01-01 00:00:00--  http://172.17.0.2/");
  t.is(lines[1], "Connecting to 172.17.0.2:80... connected.");
  t.is(lines[2], "HTTP request sent, awaiting response... 200 OK");
  t.is(lines[3], "Length: 615 [text/html]");
  t.is(lines[4], "Saving to: ‘STDOUT’");
  t.regex(lines[8]!, /^2026-01-01 00:00:00 \(.+\) - written to stdout \[615\/615\]$/);
  const refused = await run(host, "wget", "http://172.17.0.2:81/");
  t.is(refused.exit, 4);
  t.regex(refused.stderr, /Connecting to 172\.17\.0\.2:81\.\.\. failed: Connection refused\.\n$/);
});

test("wget and curl decode a chunked response", async (t) => {
  const { host } = node();
  const listener = TcpListener.listen(host.kernel.root, 0, 8082);
  const serve = async () => {
    const conn = (await listener.accept())!;
    await conn.read();
    await conn.write(new TextEncoder().encode("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n"));
    conn.close();
  };
  void serve();
  const r = await run(host, "docker", "run", "--rm", "busybox", "wget", "-O", "-", "http://172.17.0.1:8082/");
  t.is(r.exit, 0, r.stderr);
  t.is(r.stdout, "hello world");
  t.is(
    r.stderr,
    "Connecting to 172.17.0.1:8082 (172.17.0.1:8082)\nwriting to stdout\n" +
      "-                    100% |********************************|    11  0:00:00 ETA\nwritten to stdout\n",
  );
  void serve();
  const c = await run(host, "curl", "-s", "http://127.0.0.1:8082/");
  t.is(c.stdout, "hello world");
  listener.close();
});
