/**
 * kemu's control plane: the API server (a store of Kubernetes objects with
 * resourceVersions and watch, validation and defaulting as kube-apiserver
 * does them), the controllers and the scheduler, all on the run's Clock and Rng.
 *
 * ```ts
 * import { ApiServer, bootstrap, startControlPlane } from "@kemu/control";
 * import { EventLoop, Rng } from "@kemu/kernel";
 * const clock = new EventLoop();
 * const server = new ApiServer(clock, new Rng(1));           // implements ApiClient
 * bootstrap(server, { controlAddress: "192.168.56.10" });     // namespaces, the kubernetes Service
 * const controllers = startControlPlane(server);             // controllers + scheduler, on the clock
 * await server.create("deployments", "default", manifest, { fieldValidation: "Strict" });
 * clock.runUntil(5_000);                                      // ReplicaSet, pods, bindings…
 * ```
 * @module
 */
export * from "./errors.ts";
export * from "./selector.ts";
export * from "./server.ts";
export * from "./store.ts";
export * from "./addons.ts";
export * from "./bootstrap.ts";
export * from "./control_plane.ts";
export * from "./scheduler.ts";
export * from "./validation.ts";
export * from "./quantity.ts";
export * from "./allocator.ts";
export * from "./patch.ts";
export { type Controller, WorkQueue } from "./controllers/_queue.ts";
export { recordEvent, type EventRecord, type EventSource } from "./controllers/_events.ts";
export * from "./controllers/deployment.ts";
export * from "./controllers/endpoints.ts";
export * from "./controllers/garbage_collector.ts";
export * from "./controllers/namespace.ts";
export * from "./controllers/node_ipam.ts";
export * from "./controllers/node_lifecycle.ts";
export * from "./controllers/replicaset.ts";
export * from "./kubectl/mod.ts";
export { MAX_BODY_BYTES, type RestServer, type RestServerOptions, startRestServer } from "./rest.ts";
export type { ExecBackend } from "./rest_exec.ts";
export { kubeconfigText, serveRestFromHost } from "./rest_host.ts";
export { type ServingCert, selfSignedCert } from "./rest_tls.ts";
