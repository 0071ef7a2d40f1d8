import type { ApiClient, Pod } from "@kemu/api";
import type { Bus, Host, SshService } from "@kemu/node";
import { makeKubectl } from "./kubectl/mod.ts";

/** Where the API server listens: the control host's address. */
export const CONTROL_ADDRESS = "192.168.0.10";

/**
 * Puts kubectl in a host's userland, talking to `api`; `kubectl exec` and
 * `kubectl logs` reach the pod's node over the host bus.
 */
export function installKubectl(host: Host, bus: Bus, api: ApiClient): void {
  const remote = host.service<SshService>("ssh")!.client;
  host.commands.set(
    "kubectl",
    makeKubectl({
      api: () => api,
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
}
