/**
 * The entry of the control host's worker thread: a host (with its own
 * kernel on the underlay) that runs the API server, the controllers and the
 * scheduler, serves the API to the nodes' agents over the host bus, and has
 * kubectl in its userland.
 */
import { workerData } from "node:worker_threads";
import { decodeObject, encodeObject } from "@kemu/api";
import { type Bus, type Host, type WorkerInit, runHostWorker, serveApiOnBus } from "@kemu/node";
import { ADDONS_DIR, INGRESS_NGINX_MANIFEST } from "./addons.ts";
import { bootstrap } from "./bootstrap.ts";
import { startControlPlane } from "./control_plane.ts";
import { CONTROL_ADDRESS, installKubectl } from "./kubectl_install.ts";
import { serveRestFromHost } from "./rest_host.ts";
import { ApiServer } from "./server.ts";

runHostWorker((host: Host, bus: Bus) => {
  const server = new ApiServer(host.clock, host.rng.fork());
  bootstrap(server, { controlAddress: CONTROL_ADDRESS, coreDNS: true });
  // The pod network is node IPAM's cluster CIDR, cut into per-node subnets of flannel's SubnetLen.
  const net = (workerData as WorkerInit).flannelNetwork;
  startControlPlane(server, net ? { nodeIpam: { clusterCIDR: net.network, nodeCIDRMaskSize: net.subnetLen } } : {});
  serveApiOnBus(bus, server, { encode: encodeObject, decode: decodeObject });
  host.provide("apiserver", server);
  installKubectl(host, bus, server);
  host.fs.writeFile(`${ADDONS_DIR}/ingress-nginx.yaml`, INGRESS_NGINX_MANIFEST);
  // The Kubernetes REST API on loopback for the user's own kubectl: real time only (virtual-time runs open no sockets).
  const init = workerData as WorkerInit;
  if (init.time === "real" && init.kubeconfig !== undefined) {
    serveRestFromHost(host, bus, server, init.kubeconfig).catch((err: unknown) => {
      console.error(`kemu: the Kubernetes API could not be served: ${err instanceof Error ? err.message : String(err)}`);
    });
  }
});
