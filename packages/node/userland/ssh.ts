import type { RemoteExecClient } from "../remote_exec.ts";
import type { Command } from "../process.ts";
import { resolveHost } from "./resolve.ts";
import { formatIpv4Addr } from "@kemu/wire";

/** What ssh needs from its host: the other hosts by name and address, and a way to run commands there. */
export interface SshService {
  readonly client: RemoteExecClient;
  /** Host names with their addresses. */
  readonly hosts: ReadonlyMap<string, readonly string[]>;
}

/**
 * ssh HOST [COMMAND…]: runs a command on another emulated host, or opens a
 * login shell there (until `exit`). HOST is a host name or one of its addresses.
 */
export const ssh: Command = async (ctx) => {
  const svc = ctx.host.service<SshService>("ssh");
  const args = ctx.argv.slice(1).filter((a, i, all) => !(a.startsWith("-") && !all.slice(0, i).some((x) => !x.startsWith("-"))));
  const [target, ...command] = args;
  if (target === undefined) {
    ctx.stderr.write(
      "usage: ssh [-46AaCfGgKkMNnqsTtVvXxYy] [-B bind_interface] [-b bind_address]\n           [-c cipher_spec] [-D [bind_address:]port] [-E log_file]\n           [-e escape_char] [-F configfile] [-I pkcs11] [-i identity_file]\n           [-J destination] [-L address] [-l login_name] [-m mac_spec]\n           [-O ctl_cmd] [-o option] [-p port] [-Q query_option] [-R address]\n           [-S ctl_path] [-W host:port] [-w local_tun[:remote_tun]]\n           destination [command [argument ...]]\n",
    );
    return 255;
  }
  const hostPart = target.includes("@") ? target.slice(target.indexOf("@") + 1) : target;
  let name: string | undefined = svc?.hosts.has(hostPart) ? hostPart : undefined;
  if (name === undefined && svc) {
    const addr = await resolveHost(ctx, hostPart);
    const text = addr === undefined ? hostPart : formatIpv4Addr(addr);
    for (const [h, addrs] of svc.hosts) if (addrs.includes(text)) name = h;
  }
  if (!svc || name === undefined) {
    ctx.stderr.write(`ssh: Could not resolve hostname ${hostPart}: Name or service not known\n`);
    return 255;
  }
  const interactive = command.length === 0;
  const code = await svc.client.run(
    name,
    interactive ? { interactive: true, echo: ctx.env.get("KEMU_ECHO") === "1" } : { interactive: false, command: command.join(" ") },
    { stdin: ctx.stdin, stdout: ctx.stdout, stderr: ctx.stderr },
    ctx.signal,
  );
  if (interactive) ctx.stderr.write(`Connection to ${hostPart} closed.\n`);
  return code;
};
