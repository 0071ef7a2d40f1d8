/**
 * A model of the Linux network stack for one emulated host. Everything reads
 * time from the Clock it is given, and randomness from its Rng.
 *
 * ```ts
 * import { EventLoop, Kernel, Rng } from "@kemu/kernel";
 * const clock = new EventLoop();
 * const kernel = new Kernel({ clock, rng: new Rng(1) });
 * const [a, b] = kernel.createVeth(kernel.root, "veth0", "veth1");
 * ```
 * @module
 */
export * from "./bridge.ts";
export * from "./clock.ts";
export * from "./device.ts";
export * from "./errno.ts";
export * from "./ipv4.ts";
export * from "./kernel.ts";
export * from "./links.ts";
export * from "./mailbox.ts";
export * from "./neigh.ts";
export * from "./netem.ts";
export * from "./netns.ts";
export * from "./random.ts";
export * from "./route.ts";
export * from "./socket.ts";
export * from "./sysctl.ts";
export * from "./sysfs.ts";
export * from "./tunnel.ts";
export * from "./tcp/tcb.ts";
export * from "./tcp/tcp.ts";
export * from "./tcp/tcp_socket.ts";
export * from "./netfilter/command.ts";
export * from "./netfilter/conntrack.ts";
export * from "./netfilter/engine.ts";
export * from "./netfilter/extension.ts";
export * from "./netfilter/ipset.ts";
export * from "./netfilter/ipvs.ts";
export * from "./netfilter/list.ts";
export * from "./netfilter/log.ts";
export * from "./netfilter/matches.ts";
export * from "./netfilter/nat.ts";
export * from "./netfilter/parse.ts";
export * from "./netfilter/recent.ts";
export * from "./netfilter/rule.ts";
export * from "./netfilter/save.ts";
export * from "./netfilter/table.ts";
export * from "./netfilter/targets.ts";
export { setRuleCompilation } from "./netfilter/compile.ts";
