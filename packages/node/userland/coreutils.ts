/**
 * The file and text tools of both userlands. Each program reads
 * `ctx.flavour` to word its output and errors as GNU coreutils (hosts) or
 * busybox (containers) do; relative paths resolve against `PWD`.
 */
import type { Command } from "../process.ts";
import { awkCommands } from "./awk.ts";
import { fileTools } from "./file_tools.ts";
import { grepCommands } from "./grep.ts";
import { hashTools } from "./hash_tools.ts";
import { sysTools } from "./sys_tools.ts";
import { textTools } from "./text_tools.ts";

const all: Record<string, Command> = { ...fileTools, ...textTools, ...grepCommands, ...awkCommands, ...sysTools, ...hashTools };

/** Host (GNU-flavoured) programs of this file: cat, echo, grep, head, wc, sort, awk, ps, date… (file and text tools). */
export const coreutilsHost: Record<string, Command> = { ...all };

/** Busybox programs of this file: the same applets, worded as busybox. */
export const coreutilsBusybox: Record<string, Command> = { ...all };
