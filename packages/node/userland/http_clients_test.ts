import test from "ava";
import { runCommand } from "../_testing.ts";
import type { DockerRuntime } from "../docker/runtime.ts";
import type { Host } from "../host.ts";
import { bootHost } from "../node.ts";
import { BufferOutput, EMPTY_INPUT } from "../process.ts";
import { NGINX_INDEX_HTML, nginxErrorPage } from "./nginx.ts";

function node(): { host: Host; docker: DockerRuntime } {
  const host = bootHost({ name: "node1", seed: 7, role: "node", nics: [{ ifname: "eth0", mac: 0x525400000001, cidr: "192.168.0.11/24" }], gateway: "192.168.0.1" });
  return { host, docker: host.service<DockerRuntime>("docker")! };
}

const run = (host: Host, ...argv: string[]) => runCommand(host, argv);

async function withNginx(): Promise<{ host: Host; docker: DockerRuntime }> {
  const n = node();
  const r = await run(n.host, "docker", "run", "-d", "--name", "web", "nginx");
  if (r.exit !== 0) throw new Error(r.stderr);
  await n.host.advance(1);
  return n;
}

test("curl prints the page; -I the head nginx sends a keep-alive client", async (t) => {
  const { host } = await withNginx();
  const body = await run(host, "curl", "-s", "http://172.17.0.2/");
  t.is(body.exit, 0, body.stderr);
  t.is(body.stdout, NGINX_INDEX_HTML);
  t.is(body.stderr, "");
  const head = await run(host, "curl", "-I", "http://172.17.0.2/");
  t.is(
    head.stdout,
    "HTTP/1.1 200 OK\r\nServer: nginx/1.25.5\r\nDate: Thu, 01 Jan 2026 00:00:00 GMT\r\nContent-Type: text/html\r\n" +
      'Content-Length: 615\r\nLast-Modified: Tue, 16 Apr 2024 14:29:59 GMT\r\nConnection: keep-alive\r\nETag: "661e8b67-267"\r\n' +
      "Accept-Ranges: bytes\r\n\r\n",
  );
  const logs = await run(host, "docker", "logs", "web");
  t.regex(logs.stdout, /"HEAD \/ HTTP\/1.1" 200 0 "-" "curl\/8.5.0" "-"\n/);
});

test("curl's errors: (7) refused, (6) unresolved, -s silences them, -f fails on 404", async (t) => {
  const { host } = await withNginx();
  const refused = await run(host, "curl", "http://172.17.0.2:81/");
  t.is(refused.exit, 7);
  t.is(refused.stderr, "curl: (7) Failed to connect to 172.17.0.2 port 81 after 0 ms: Couldn't connect to server\n");
  const quiet = await run(host, "curl", "-s", "http://172.17.0.2:81/");
  t.is(quiet.exit, 7);
  t.is(quiet.stderr, "");
  const name = await run(host, "curl", "http://nowhere/");
  t.is(name.exit, 6);
  t.is(name.stderr, "curl: (6) Could not resolve host: nowhere\n");
  const missing = await run(host, "curl", "-s", "http://172.17.0.2/nope");
  t.is(missing.exit, 0);
  t.is(missing.stdout, nginxErrorPage(404));
  t.is(nginxErrorPage(404).length, 153);
  const failing = await run(host, "curl", "-sSf", "http://172.17.0.2/nope");
  t.is(failing.exit, 22);
  t.is(failing.stderr, "curl: (22) The requested URL returned error: 404\n");
});

test("curl -v shows the exchange", async (t) => {
  const { host } = await withNginx();
  const r = await run(host, "curl", "-v", "-o", "/tmp/page.html", "http://172.17.0.2/");
  t.is(r.exit, 0);
  t.true(
    r.stderr.startsWith(
      "*   Trying 172.17.0.2:80...\n* Connected to 172.17.0.2 (172.17.0.2) port 80\n> GET / HTTP/1.1\n> Host: 172.17.0.2\n" +
        "> User-Agent: curl/8.5.0\n> Accept: */*\n> \n< HTTP/1.1 200 OK\n< Server: nginx/1.25.5\n",
    ),
    r.stderr,
  );
  t.true(r.stderr.includes("  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n"));
  t.true(r.stderr.endsWith("* Connection #0 to host 172.17.0.2 left intact\n"));
  t.is(host.fs.readFile("/tmp/page.html"), NGINX_INDEX_HTML);
});

test("a daemonized nginx keeps serving after the command returns, until nginx -s stop", async (t) => {
  const { host } = node();
  await run(host, "docker", "run", "-d", "--name", "n", "nginx", "sleep", "3600");
  const started = await run(host, "docker", "exec", "n", "nginx");
  t.is(started.exit, 0, started.stderr);
  t.is(started.stdout + started.stderr, "");
  const page = await run(host, "curl", "-s", "http://172.17.0.2/");
  t.is(page.stdout, NGINX_INDEX_HTML);
  const twice = await run(host, "docker", "exec", "n", "nginx");
  t.is(twice.exit, 1);
  t.is(twice.stderr, "nginx: [emerg] bind() to 0.0.0.0:80 failed (98: Address already in use)\nnginx: [emerg] still could not bind()\n");
  t.is((await run(host, "docker", "exec", "n", "nginx", "-s", "stop")).exit, 0);
  await host.advance(1);
  const gone = await run(host, "curl", "-s", "http://172.17.0.2/");
  t.is(gone.exit, 7);
});

test("busybox httpd on the host serves a directory to a container and logs with -v", async (t) => {
  const { host } = node();
  host.fs.writeFile("/www/index.html", "<h1>outside</h1>\n");
  const log = new BufferOutput();
  void host.spawn(["httpd", "-f", "-v", "-p", "8000", "-h", "/www"], { ...host.rootSpec({ stdout: log, stderr: log }), stdin: EMPTY_INPUT });
  const r = await run(host, "docker", "run", "--rm", "busybox", "wget", "-q", "-O", "-", "http://172.17.0.1:8000/");
  t.is(r.exit, 0, r.stderr);
  t.is(r.stdout, "<h1>outside</h1>\n");
  t.regex(log.text, /^172\.17\.0\.2:\d+: response:200\n$/);
  const missing = await run(host, "curl", "-si", "http://127.0.0.1:8000/x");
  t.is(
    missing.stdout.replace(/Date: .*\r\n/, ""),
    "HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-type: text/html\r\n\r\n" +
      "<HTML><HEAD><TITLE>404 Not Found</TITLE></HEAD>\n<BODY><H1>404 Not Found</H1>\nThe requested URL was not found\n</BODY></HTML>\n",
  );
});
