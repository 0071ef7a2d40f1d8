import type { Command, CommandTable } from "../process.ts";
import { coreutilsBusybox, coreutilsHost } from "./coreutils.ts";
import { curlCommands } from "./curl.ts";
import { httpdCommands } from "./httpd.ts";
import { ncCommands } from "./nc.ts";
import { netToolsBusybox, netToolsHost } from "./net_tools.ts";
import { pingCommands } from "./ping.ts";
import { tcCommands } from "./tc.ts";
import { tracerouteCommands } from "./traceroute.ts";
import { shellBusybox, shellHost } from "./shell.ts";
import { socketToolsBusybox, socketToolsHost } from "./ss.ts";
import { wgetCommands } from "./wget.ts";
import { iptablesCommands } from "./iptables.ts";
import { conntrackCommands } from "./conntrack_cmd.ts";
import { ipsetCommands } from "./ipset_cmd.ts";
import { ipvsadmCommands } from "./ipvsadm.ts";
import { dnsCommands } from "./dns.ts";
import { iperf3Commands } from "./iperf3.ts";

/**
 * The host's own programs: a bash-like sh, coreutils, iproute2, iputils ping,
 * bridge-utils, procps sysctl; GNU wget, curl, OpenBSD nc, busybox httpd, ss
 * and netstat; iperf3.
 */
export function hostCommands(extra: Record<string, Command> = {}): Map<string, Command> {
  return new Map(Object.entries({ ...coreutilsHost, ...shellHost, ...netToolsHost, ...pingCommands, ...tracerouteCommands, ...tcCommands, ...wgetCommands, ...ncCommands, ...curlCommands, ...httpdCommands, ...socketToolsHost, ...iptablesCommands, ...conntrackCommands, ...ipsetCommands, ...ipvsadmCommands, ...iperf3Commands, ...extra }));
}

/** The busybox image's programs (one binary, many applets: wget, nc, httpd, netstat and nslookup among them). */
export function busyboxCommands(extra: Record<string, Command> = {}): CommandTable {
  return new Map(Object.entries({ ...coreutilsBusybox, ...shellBusybox, ...netToolsBusybox, ...pingCommands, ...tracerouteCommands, ...wgetCommands, ...ncCommands, ...httpdCommands, ...socketToolsBusybox, ...dnsCommands, ...extra }));
}
