import { type HostRole, type LinkInit, workerEntry } from "@kemu/node";
import { createSegment, type SegmentLayout } from "@kemu/underlay";

/** Where every host sits: documented in the README, stable across runs. */
export const ADDRESSES = {
  underlay: "192.168.0.0/24",
  gateway: "192.168.0.1",
  /** The second underlay segment of the routed topology (even nodes). */
  underlay2: "192.168.1.0/24",
  gateway2: "192.168.1.1",
  /** The control host (API server, kubectl). */
  control: "192.168.0.10",
  /** node N is 192.168.0.(10+N). */
  nodeBase: 10,
  external: "198.51.100.0/24",
  gatewayExternal: "198.51.100.1",
  outside: "198.51.100.10",
} as const;

/** One host of the cluster and how it is wired. */
export interface HostPlan {
  name: string;
  index: number;
  role: HostRole;
  links: LinkInit[];
  gateway?: string;
  /** The worker script, when not a node's. */
  entry?: URL;
}

/** The hosts and segments of a cluster of `nodes` nodes. */
export interface Topology {
  hosts: HostPlan[];
  segments: SegmentLayout[];
}

/** How the nodes sit on the underlay: one L2 segment, or two behind the gateway. */
export type UnderlayLayout = "flat" | "routed";

/**
 * Lays out a cluster: the `control` host at 192.168.0.10 and node1…nodeN on
 * the underlay segment 192.168.0.0/24 (node N at .10+N, MAC
 * 52:54:00:00:00:NN), a `gateway` router at .1 that also sits on an external
 * segment 198.51.100.0/24, and the `outside` host at 198.51.100.10 beyond it.
 * With `routed`, even nodes sit on a second segment 192.168.1.0/24 instead
 * (node N at 192.168.1.(10+N)), reached through the gateway's eth2 at .1.
 */
export function planTopology(nodes: number, layout: UnderlayLayout = "flat"): Topology {
  const routed = layout === "routed";
  const second = (i: number) => routed && i % 2 === 0;
  const evens = routed ? Math.floor(nodes / 2) : 0;
  const underlay = createSegment("underlay", nodes - evens + 2);
  const underlay2 = routed ? createSegment("underlay2", evens + 1) : undefined;
  const external = createSegment("external", 2);
  const hosts: HostPlan[] = [];
  let member1 = 0;
  let member2 = 0;
  for (let i = 1; i <= nodes; i++) {
    const onSecond = second(i);
    hosts.push({
      name: `node${i}`,
      index: i,
      role: "node",
      links: [
        onSecond
          ? { ifname: "eth0", mac: 0x5254_0000_0000 + i, cidr: `192.168.1.${ADDRESSES.nodeBase + i}/24`, segment: underlay2!, member: member2++ }
          : { ifname: "eth0", mac: 0x5254_0000_0000 + i, cidr: `192.168.0.${ADDRESSES.nodeBase + i}/24`, segment: underlay, member: member1++ },
      ],
      gateway: onSecond ? ADDRESSES.gateway2 : ADDRESSES.gateway,
      entry: workerEntry(new URL(import.meta.resolve("@kemu/control/node-worker"))),
    });
  }
  hosts.push({
    name: "control",
    index: 0,
    role: "control",
    links: [{ ifname: "eth0", mac: 0x5254_0000_0000 + 0xfe, cidr: `${ADDRESSES.control}/24`, segment: underlay, member: member1 + 1 }],
    gateway: ADDRESSES.gateway,
    entry: workerEntry(new URL(import.meta.resolve("@kemu/control/worker"))),
  });
  hosts.push({
    name: "gateway",
    index: nodes + 1,
    role: "router",
    links: [
      { ifname: "eth0", mac: 0x5254_00ff_0001, cidr: `${ADDRESSES.gateway}/24`, segment: underlay, member: member1 },
      { ifname: "eth1", mac: 0x5254_00ff_0101, cidr: `${ADDRESSES.gatewayExternal}/24`, segment: external, member: 0 },
      ...(underlay2 ? [{ ifname: "eth2", mac: 0x5254_00ff_0201, cidr: `${ADDRESSES.gateway2}/24`, segment: underlay2, member: member2 }] : []),
    ],
  });
  hosts.push({
    name: "outside",
    index: nodes + 2,
    role: "outside",
    links: [{ ifname: "eth0", mac: 0x5254_00ff_0102, cidr: `${ADDRESSES.outside}/24`, segment: external, member: 1 }],
    gateway: ADDRESSES.gatewayExternal,
  });
  return { hosts, segments: underlay2 ? [underlay, underlay2, external] : [underlay, external] };
}
