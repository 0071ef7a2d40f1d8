/**
 * The node IPAM controller (range allocator): gives each node a podCIDR from
 * the cluster CIDR, in node creation order — 10.244.0.0/24 to the first node,
 * 10.244.1.0/24 to the next — and takes it back when the node goes.
 */
import type { Node } from "@kemu/api";
import { clone } from "../_meta.ts";
import { numberToIp, parseCidr } from "../allocator.ts";
import type { ApiServer } from "../server.ts";
import { recordEvent } from "./_events.ts";
import { type Controller, WorkQueue } from "./_queue.ts";

/** Options of the node IPAM controller. */
export interface NodeIpamOptions {
  /** The cluster (pod) CIDR (`--cluster-cidr`). Default 10.244.0.0/16, as flannel's manifests. */
  clusterCIDR?: string;
  /** The prefix length of each node's podCIDR (`--node-cidr-mask-size`). Default 24. */
  nodeCIDRMaskSize?: number;
}

/** Starts the node IPAM controller. */
export function startNodeIpamController(server: ApiServer, options: NodeIpamOptions = {}): Controller {
  const store = server.store;
  const cluster = parseCidr(options.clusterCIDR ?? "10.244.0.0/16");
  const mask = options.nodeCIDRMaskSize ?? 24;
  if (mask < cluster.prefix || mask > 32) throw new Error(`node CIDR mask size ${mask} does not fit in ${cluster.text}`);
  const count = 2 ** (mask - cluster.prefix);
  const step = 2 ** (32 - mask);
  const used = new Map<number, string>();
  /** Where the next search starts (cidrset's nextCandidate): freed blocks are not reused at once. */
  let next = 0;
  const indexOf = (cidr: string): number | undefined => {
    const c = parseCidr(cidr);
    if (c.prefix !== mask) return undefined;
    const i = (c.base - cluster.base) / step;
    return Number.isInteger(i) && i >= 0 && i < count ? i : undefined;
  };
  for (const n of store.list("nodes") as Node[]) {
    const i = n.spec?.podCIDR ? indexOf(n.spec.podCIDR) : undefined;
    if (i !== undefined) used.set(i, n.metadata.name ?? "");
  }
  const queue = new WorkQueue(server.clock, sync);
  const stop = store.watch("nodes", "", undefined, (e) => {
    const node = e.object as Node;
    if (e.type === "DELETED") {
      const i = node.spec?.podCIDR ? indexOf(node.spec.podCIDR) : undefined;
      if (i !== undefined && used.get(i) === node.metadata.name) used.delete(i);
      return;
    }
    if (!node.spec?.podCIDR) queue.add(node.metadata.name ?? "");
    else {
      const i = indexOf(node.spec.podCIDR);
      if (i !== undefined) used.set(i, node.metadata.name ?? "");
    }
  });
  for (const n of store.list("nodes") as Node[]) if (!n.spec?.podCIDR) queue.add(n.metadata.name ?? "");

  function sync(name: string): void {
    const node = store.get("nodes", "", name) as Node | undefined;
    if (node === undefined || node.spec?.podCIDR) return;
    let found: number | undefined;
    for (let k = 0; k < count; k++) {
      const i = (next + k) % count;
      if (!used.has(i)) {
        found = i;
        break;
      }
    }
    if (found === undefined) {
      recordEvent(server, { involved: node, type: "Normal", reason: "CIDRNotAvailable", message: `Node ${name} status is now: CIDRNotAvailable`, source: { component: "cidrAllocator" } });
      return;
    }
    const cidr = `${numberToIp(cluster.base + found * step)}/${mask}`;
    const o = clone(node);
    o.spec = { ...(o.spec ?? {}), podCIDR: cidr, podCIDRs: [cidr] };
    server.direct.update("nodes", "", o);
    used.set(found, name);
    next = (found + 1) % count;
    recordEvent(server, { involved: node, type: "Normal", reason: "CIDRAssignmentSucceeded", message: `Node ${name} has been assigned CIDR ${cidr}`, source: { component: "cidrAllocator" } });
  }

  return {
    stop() {
      stop();
      queue.stop();
    },
  };
}
