/**
 * The two ways a step says where its command runs: `on: HOST` (a host's root
 * namespace) and `in: TARGET` (a container or a pod), read into a driver
 * Location.
 */
import type { Location } from "./driver.ts";
import { didYouMean } from "./suggest.ts";

/** The largest cluster a scenario may ask for. */
export const MAX_NODES = 200;

/** Hosts that exist in every cluster besides its nodes. */
export const EXTRA_HOSTS: readonly string[] = ["control", "gateway", "outside"];

/** A parsed location, or why the text is not one. */
export type LocationParse = { readonly location: Location } | { readonly error: string };

const NODE_RE = /^node([1-9]\d*)$/;
// Docker's rule for container names.
const CONTAINER_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
// A Kubernetes name: lower-case alphanumerics, '-' and '.', alphanumeric at both ends.
const K8S_NAME_RE = /^[a-z0-9](?:[-a-z0-9.]*[a-z0-9])?$/;

/** The host names of a cluster of `nodes` nodes: `node1`…`nodeN`, `control`, `gateway`, `outside`. */
export function hostNames(nodes: number): string[] {
  return [...Array.from({ length: nodes }, (_, i) => `node${i + 1}`), ...EXTRA_HOSTS];
}

/** Reads `on: HOST`; the host must exist in a cluster of `nodes` nodes. */
export function parseHost(text: string, nodes: number): LocationParse {
  const node = NODE_RE.exec(text);
  if (node) {
    const n = Number(node[1]);
    if (n <= nodes) return { location: { kind: "host", host: text } };
    const have = nodes === 1 ? "node1 only" : `node1 to node${nodes}`;
    return {
      error: `"${text}" is not a host of this cluster: it has ${nodes} node${nodes === 1 ? "" : "s"} (${have}); ` +
        `set cluster.nodes to ${n} or more to use it`,
    };
  }
  if (EXTRA_HOSTS.includes(text)) return { location: { kind: "host", host: text } };
  return {
    error: `"${text}" is not a host (use ${describeHosts(nodes)})` +
      didYouMean(text, hostNames(Math.min(nodes, 9))),
  };
}

function describeHosts(nodes: number): string {
  const nodeList = nodes <= 2 ? hostNames(nodes).slice(0, nodes).join(", ") : `node1…node${nodes}`;
  return `${nodeList}, control or outside`;
}

/**
 * Reads `in: TARGET`. A bare name (no `/` or `:`) is a container location:
 * the driver runs the command in the Docker container of that name, or, if
 * there is none, in the pod of that name in namespace `default`. With a `/`
 * or a `:` it is a pod: `NAMESPACE/POD`, `POD:CONTAINER` or
 * `NAMESPACE/POD:CONTAINER` (namespace `default` when left out).
 */
export function parseTarget(text: string): LocationParse {
  const usage = "(use NAME for a container, or NAMESPACE/POD[:CONTAINER] or POD:CONTAINER for a pod)";
  if (!text.includes("/") && !text.includes(":")) {
    if (CONTAINER_RE.test(text)) return { location: { kind: "container", name: text } };
    return { error: `"${text}" is not a container name ${usage}` };
  }
  const m = /^(?:([^/:]*)\/)?([^/:]*)(?::([^/:]*))?$/.exec(text);
  const [, namespace = "default", pod = "", container] = m ?? [];
  const parts = [namespace, pod, ...(container === undefined ? [] : [container])];
  if (!m || !parts.every((p) => K8S_NAME_RE.test(p))) {
    return { error: `"${text}" is not a pod ${usage}` };
  }
  return {
    location: container === undefined ? { kind: "pod", namespace, pod } : { kind: "pod", namespace, pod, container },
  };
}

/**
 * The prompt character a report shows before a command: `$` on a host, `#`
 * inside a container or pod (where commands run as root).
 */
export function promptOf(location: Location): "$" | "#" {
  return location.kind === "host" ? "$" : "#";
}
