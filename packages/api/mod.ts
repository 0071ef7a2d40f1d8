/**
 * Kubernetes API objects for kemu: their types, the resources served, the
 * ApiClient contract (with Status errors), and their protobuf encoding
 * (`proto/k8s.proto`) with an ApiClient over it for other threads.
 *
 * ```ts
 * import { resourceForName, type ApiClient } from "@kemu/api";
 * const pods = resourceForName("po");   // { kind: "Pod", plural: "pods", … }
 * ```
 * @module
 */
export * from "./client.ts";
export * from "./resources.ts";
export * from "./types.ts";
export * from "./codec.ts";
export * from "./remote.ts";
export * from "./printing.ts";
