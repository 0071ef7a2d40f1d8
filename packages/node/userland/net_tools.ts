import type { Command } from "../process.ts";

/** Host (GNU/iproute2-flavoured) programs of this file: ip, ifconfig, brctl, bridge, sysctl, route, arp (the network tools). */
export const netToolsHost: Record<string, Command> = {};

/** Busybox programs of this file. */
export const netToolsBusybox: Record<string, Command> = {};
