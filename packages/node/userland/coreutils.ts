import type { Command } from "../process.ts";

/** Host (GNU/iproute2-flavoured) programs of this file: cat, echo, grep, head… (file and text tools). */
export const coreutilsHost: Record<string, Command> = {};

/** Busybox programs of this file. */
export const coreutilsBusybox: Record<string, Command> = {};
