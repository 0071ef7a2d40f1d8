/**
 * The entry of a cluster node's worker thread when the cluster has a
 * control plane: the node (kubelet, Docker…) plus kubectl, which talks to
 * the API server through the same client as the kubelet.
 */
import type { ApiClient } from "@kemu/api";
import { type Bus, type Host, runHostWorker } from "@kemu/node";
import { installKubectl } from "./kubectl_install.ts";

runHostWorker((host: Host, bus: Bus) => {
  const api = host.service<ApiClient>("api");
  if (api) installKubectl(host, bus, api);
});
