import type { Command } from "../process.ts";

/** Host (GNU/iproute2-flavoured) programs of this file: sh, the shell interpreter. */
export const shellHost: Record<string, Command> = {};

/** Busybox programs of this file. */
export const shellBusybox: Record<string, Command> = {};
