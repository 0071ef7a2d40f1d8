import { type NetNs, TcpConnection, TcpListener } from "@kemu/kernel";
import { parseIpv4Addr } from "@kemu/wire";
import type { Command } from "../process.ts";

/** Copies one direction of a proxied connection until end of stream, then half-closes. */
async function pump(from: TcpConnection, to: TcpConnection): Promise<void> {
  try {
    for (let chunk = await from.read(); chunk !== undefined; chunk = await from.read()) await to.write(chunk);
    to.shutdownWrite();
  } catch {
    to.abort();
  }
}

/**
 * docker-proxy, Docker's userland proxy for a published TCP port: listens on
 * the host and splices every connection to the container. It carries what
 * iptables cannot DNAT, such as connections to localhost.
 * `docker-proxy -proto tcp -host-ip 0.0.0.0 -host-port 8080 -container-ip 172.17.0.2 -container-port 80`.
 */
export const dockerProxy: Command = async (ctx) => {
  const args = ctx.argv.slice(1);
  const flag = (name: string) => args[args.indexOf(`-${name}`) + 1];
  const hostIp = parseIpv4Addr(flag("host-ip") ?? "0.0.0.0") ?? 0;
  const hostPort = Number(flag("host-port"));
  const containerIp = parseIpv4Addr(flag("container-ip") ?? "");
  const containerPort = Number(flag("container-port"));
  if (flag("proto") !== "tcp" || containerIp === undefined || !hostPort || !containerPort) {
    ctx.stderr.write("docker-proxy: only TCP with -host-port, -container-ip and -container-port is supported\n");
    return 1;
  }
  const ns: NetNs = ctx.netns;
  const listener = TcpListener.listen(ns, hostIp, hostPort, { backlog: 128 });
  ctx.signal.addEventListener("abort", () => listener.close(), { once: true });
  for (;;) {
    const client = await listener.accept({ signal: ctx.signal });
    if (client === undefined) return 0;
    void (async () => {
      let upstream: TcpConnection;
      try {
        upstream = await TcpConnection.connect(ns, containerIp, containerPort, { signal: ctx.signal });
      } catch {
        client.abort();
        return;
      }
      await Promise.all([pump(client, upstream), pump(upstream, client)]);
      client.close();
      upstream.close();
    })();
  }
};
