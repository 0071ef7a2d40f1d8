/**
 * One emulated host: kernel, agents and userland, run in a worker thread.
 *
 * ```ts
 * import { Host, hostCommands } from "@kemu/node";
 * const host = new Host("node1", { seed: 1 });
 * host.commands = hostCommands();
 * const { stdout } = await host.exec("ip addr");
 * ```
 * @module
 */
export * from "./host.ts";
export * from "./process.ts";
export * from "./vfs.ts";
export * from "./userland/tables.ts";
export * from "./client.ts";
export * from "./node.ts";
export * from "./protocol.ts";
export * from "./docker/runtime.ts";
export * from "./bus.ts";
export * from "./remote_exec.ts";
export * from "./host_worker.ts";
export * from "./api_bus.ts";
export * from "./agents/kubelet.ts";
export * from "./agents/cni.ts";
export type { SshService } from "./userland/ssh.ts";
export * from "./agents/flannel_config.ts";
export { DEFAULT_COREFILE } from "./userland/coredns.ts";
export { workerEntry } from "./worker_entry.ts";
