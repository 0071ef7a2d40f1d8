/**
 * The network tools of a userland: iproute2 (`ip`, `bridge`), net-tools
 * (`ifconfig`, `route`, `arp`), bridge-utils (`brctl`) and procps
 * (`sysctl`) on hosts; busybox's applets of the same names in containers.
 * Each command picks its flavour from the process it runs in.
 */
import type { Command } from "../process.ts";
import { bridge, brctl } from "./bridge_utils.ts";
import { ifconfig } from "./ifconfig.ts";
import { ip } from "./ip.ts";
import { arp, route } from "./route_arp.ts";
import { sysctl } from "./sysctl_cmd.ts";

/** Host (GNU/iproute2-flavoured) programs of this file: ip, ifconfig, brctl, bridge, sysctl, route, arp (the network tools). */
export const netToolsHost: Record<string, Command> = { ip, bridge, ifconfig, brctl, sysctl, route, arp };

/** Busybox programs of this file (busybox has no `bridge` applet). */
export const netToolsBusybox: Record<string, Command> = { ip, ifconfig, brctl, sysctl, route, arp };
