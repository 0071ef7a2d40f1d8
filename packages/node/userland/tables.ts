import type { Command, CommandTable } from "../process.ts";
import { coreutilsBusybox, coreutilsHost } from "./coreutils.ts";
import { netToolsBusybox, netToolsHost } from "./net_tools.ts";
import { pingCommands } from "./ping.ts";
import { shellBusybox, shellHost } from "./shell.ts";

/** The host's own programs: a bash-like sh, coreutils, iproute2, iputils ping, bridge-utils, procps sysctl. */
export function hostCommands(extra: Record<string, Command> = {}): Map<string, Command> {
  return new Map(Object.entries({ ...coreutilsHost, ...shellHost, ...netToolsHost, ...pingCommands, ...extra }));
}

/** The busybox image's programs (one binary, many applets). */
export function busyboxCommands(extra: Record<string, Command> = {}): CommandTable {
  return new Map(Object.entries({ ...coreutilsBusybox, ...shellBusybox, ...netToolsBusybox, ...pingCommands, ...extra }));
}
