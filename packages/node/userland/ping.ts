import type { Command } from "../process.ts";

/** ping, in the flavour of the process's userland (busybox or iputils). */
export const pingCommands: Record<string, Command> = {};
