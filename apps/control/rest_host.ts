/**
 * Serving the REST API from the control host's worker (real time only):
 * HTTPS on 127.0.0.1 with a self-signed certificate, a bearer token from
 * node:crypto, exec and logs reaching the pod's node over the host bus, and
 * a kubeconfig (trusting the certificate) for the user's own kubectl.
 */
import { randomBytes } from "node:crypto";
import { renameSync, writeFileSync } from "node:fs";
import type { ApiServer } from "./server.ts";
import type { Bus, Host, SshService } from "@kemu/node";
import { type RestServer, startRestServer } from "./rest.ts";
import { selfSignedCert } from "./rest_tls.ts";

/** The kubeconfig of a REST server: cluster (trusting `caPem`), user `kemu-admin` with the token, context `kemu`. */
export function kubeconfigText(port: number, token: string, caPem: string): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- cluster:",
    `    certificate-authority-data: ${Buffer.from(caPem).toString("base64")}`,
    `    server: https://127.0.0.1:${port}`,
    "  name: kemu",
    "contexts:",
    "- context:",
    "    cluster: kemu",
    "    namespace: default",
    "    user: kemu-admin",
    "  name: kemu",
    "current-context: kemu",
    "preferences: {}",
    "users:",
    "- name: kemu-admin",
    "  user:",
    `    token: ${token}`,
    "",
  ].join("\n");
}

/**
 * Starts the REST API for `server` on 127.0.0.1 with a fresh token, exec
 * and logs going to the pod's node over `bus`, and writes the kubeconfig to
 * `kubeconfigPath` (mode 0600) once it listens.
 */
export async function serveRestFromHost(host: Host, bus: Bus, server: ApiServer, kubeconfigPath: string): Promise<RestServer> {
  // The one place real randomness is right: a secret for the user's kubectl.
  const token = randomBytes(32).toString("base64url");
  const remote = host.service<SshService>("ssh")?.client;
  const tls = selfSignedCert();
  const rest = await startRestServer(server, {
    token,
    tls,
    host: "127.0.0.1",
    logs: async (pod, container) => {
      const node = pod.spec.nodeName;
      if (!node) return "";
      return (await bus.request(node, "logs", { namespace: pod.metadata.namespace ?? "default", pod: pod.metadata.name ?? "", container })) as string;
    },
    exec: (pod, container, argv, io, signal) => {
      const node = pod.spec.nodeName;
      if (!node || remote === undefined) {
        io.stderr.write(`error: pod ${pod.metadata.name} does not have a host assigned\n`);
        return Promise.resolve(1);
      }
      const target = { pod: { namespace: pod.metadata.namespace ?? "default", name: pod.metadata.name ?? "", container } };
      // A shell on a terminal is interactive (prompts), as isatty makes it.
      const shell = io.tty && argv.length === 1 && /(^|\/)(sh|ash|bash)$/.test(argv[0]!);
      return remote.run(node, { target, argv: shell ? [...argv, "-i"] : argv, interactive: io.stdinOpen }, io, signal);
    },
  });
  const tmp = `${kubeconfigPath}.tmp`;
  writeFileSync(tmp, kubeconfigText(rest.port, token, tls.cert), { mode: 0o600 });
  renameSync(tmp, kubeconfigPath);
  return rest;
}
