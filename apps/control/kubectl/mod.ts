/**
 * kubectl for kemu's `control` host: the real kubectl's commands, flags,
 * tables, formats and error messages, against kemu's API server.
 *
 * ```ts
 * import { makeKubectl } from "@kemu/control";
 * host.commands.set("kubectl", makeKubectl({ api: () => server, exec, logs }));
 * ```
 * @module
 */
export * from "./kubectl.ts";
export { humanDuration } from "./age.ts";
