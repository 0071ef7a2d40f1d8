/**
 * The entry of the control host's worker thread: a host (with its own
 * kernel on the underlay) that runs the API server, the controllers and the
 * scheduler, serves the API to the nodes' agents over the host bus, and has
 * kubectl in its userland.
 */
import { decodeObject, encodeObject, type Pod } from "@kemu/api";
import { type Bus, type Host, runHostWorker, serveApiOnBus, type SshService } from "@kemu/node";
import { bootstrap } from "./bootstrap.ts";
import { startControlPlane } from "./control_plane.ts";
import { makeKubectl } from "./kubectl/mod.ts";
import { ApiServer } from "./server.ts";

/** Where the API server listens: the control host's address. */
export const CONTROL_ADDRESS = "192.168.0.10";

runHostWorker((host: Host, bus: Bus) => {
  const server = new ApiServer(host.clock, host.rng.fork());
  bootstrap(server, { controlAddress: CONTROL_ADDRESS });
  startControlPlane(server);
  serveApiOnBus(bus, server, { encode: encodeObject, decode: decodeObject });
  host.provide("apiserver", server);
  const remote = host.service<SshService>("ssh")!.client;
  host.commands.set(
    "kubectl",
    makeKubectl({
      api: () => server,
      server: `https://${CONTROL_ADDRESS}:6443`,
      exec: (pod: Pod, container, argv, io) => {
        const node = pod.spec.nodeName;
        if (!node) {
          io.stderr.write(`error: pod ${pod.metadata.name} does not have a host assigned\n`);
          return Promise.resolve(1);
        }
        const target = { pod: { namespace: pod.metadata.namespace ?? "default", name: pod.metadata.name ?? "", container } };
        return remote.run(node, { target, argv, interactive: io.tty }, io);
      },
      logs: async (pod: Pod, container) => {
        const node = pod.spec.nodeName;
        if (!node) return "";
        return (await bus.request(node, "logs", {
          namespace: pod.metadata.namespace ?? "default",
          pod: pod.metadata.name ?? "",
          container,
        })) as string;
      },
    }),
  );
});
