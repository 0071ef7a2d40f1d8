/**
 * kube-controller-manager and kube-scheduler in one call: every controller
 * and the scheduler, started on an ApiServer.
 */
import { type Controller } from "./controllers/_queue.ts";
import { startDeploymentController } from "./controllers/deployment.ts";
import { startEndpointSliceController, startEndpointsController } from "./controllers/endpoints.ts";
import { startEndpointSliceMirroringController } from "./controllers/endpointslice_mirroring.ts";
import { startGarbageCollector } from "./controllers/garbage_collector.ts";
import { startNamespaceController } from "./controllers/namespace.ts";
import { type NodeIpamOptions, startNodeIpamController } from "./controllers/node_ipam.ts";
import { type NodeLifecycleOptions, startNodeLifecycleController } from "./controllers/node_lifecycle.ts";
import { type ReplicaSetControllerOptions, startReplicaSetController } from "./controllers/replicaset.ts";
import { type SchedulerOptions, startScheduler } from "./scheduler.ts";
import type { ApiServer } from "./server.ts";

/** Options of the control plane: each controller's, by name. */
export interface ControlPlaneOptions {
  nodeLifecycle?: NodeLifecycleOptions;
  nodeIpam?: NodeIpamOptions;
  replicaSet?: ReplicaSetControllerOptions;
  scheduler?: SchedulerOptions;
  /** Controllers not to start (`nodeipam`, `nodelifecycle`, `scheduler`…), like `--controllers=-name`. */
  disable?: readonly string[];
}

/**
 * Starts the controllers (deployment, replicaset, endpoints,
 * endpointslice, endpointslicemirroring, nodelifecycle, nodeipam, garbagecollector, namespace) and
 * the scheduler. They run on the server's clock.
 */
export function startControlPlane(server: ApiServer, options: ControlPlaneOptions = {}): Controller {
  const off = new Set(options.disable ?? []);
  const started: Controller[] = [];
  const start = (name: string, f: () => Controller): void => {
    if (!off.has(name)) started.push(f());
  };
  start("namespace", () => startNamespaceController(server));
  start("garbagecollector", () => startGarbageCollector(server));
  start("nodeipam", () => startNodeIpamController(server, options.nodeIpam));
  start("nodelifecycle", () => startNodeLifecycleController(server, options.nodeLifecycle));
  start("deployment", () => startDeploymentController(server));
  start("replicaset", () => startReplicaSetController(server, options.replicaSet));
  start("scheduler", () => startScheduler(server, options.scheduler));
  start("endpoints", () => startEndpointsController(server));
  start("endpointslice", () => startEndpointSliceController(server));
  start("endpointslicemirroring", () => startEndpointSliceMirroringController(server));
  return {
    stop() {
      for (const c of started.reverse()) c.stop();
    },
  };
}
