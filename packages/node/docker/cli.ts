import { formatIpv4Addr, formatMacAddr } from "@kemu/wire";
import type { Command, ProcessContext } from "../process.ts";
import { goTemplate, humanDuration, table } from "./humanize.ts";
import { parsePublish, type PortBinding } from "./iptables.ts";
import { type Container, DockerError, type DockerRuntime, shortId } from "./runtime.ts";

/** Programs that behave as interactive shells when given a terminal. */
export const SHELLS = new Set(["sh", "ash", "bash"]);

/** The emulated wall clock's epoch: emulated time 0 is this instant (UTC). */
export const EPOCH_MS = Date.UTC(2026, 0, 1);

function iso(ms: number): string {
  return new Date(EPOCH_MS + ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000000Z");
}

function runtime(ctx: ProcessContext): DockerRuntime | undefined {
  return ctx.host.service<DockerRuntime>("docker");
}

const USAGE = `
Usage:  docker [OPTIONS] COMMAND

A self-sufficient runtime for containers

Common Commands:
  run         Create and run a new container from an image
  exec        Execute a command in a running container
  ps          List containers
  images      List images

Management Commands:
  network     Manage networks

Commands:
  inspect     Return low-level information on Docker objects
  logs        Fetch the logs of a container
  rm          Remove one or more containers
  stop        Stop one or more running containers

Run 'docker COMMAND --help' for more information on a command.
`;

/** Splits docker-style flags from the positional arguments that follow them. */
function parseFlags(
  args: readonly string[],
  spec: Record<string, "bool" | "value">,
  aliases: Record<string, string> = {},
): { flags: Map<string, string[]>; rest: string[] } | string {
  const flags = new Map<string, string[]>();
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") {
      i++;
      break;
    }
    if (!a.startsWith("-") || a === "-") break;
    if (a.startsWith("--")) {
      const [rawName, inline] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
      const name = aliases[rawName] ?? rawName;
      const kind = spec[name];
      if (!kind) return `unknown flag: --${rawName}`;
      if (kind === "bool") flags.set(name, ["true"]);
      else {
        const v = inline ?? args[++i];
        if (v === undefined) return `flag needs an argument: --${rawName}`;
        flags.set(name, [...(flags.get(name) ?? []), v]);
      }
      continue;
    }
    // Short flags may be combined: -it, -dit, -p8080:80.
    for (let j = 1; j < a.length; j++) {
      const short = a[j]!;
      const name = aliases[short];
      const kind = name ? spec[name] : undefined;
      if (!name || !kind) return `unknown shorthand flag: '${short}' in ${a}`;
      if (kind === "bool") {
        flags.set(name, ["true"]);
        continue;
      }
      const v = j + 1 < a.length ? a.slice(j + 1) : args[++i];
      if (v === undefined) return `flag needs an argument: '${short}' in ${a}`;
      flags.set(name, [...(flags.get(name) ?? []), v]);
      break;
    }
  }
  return { flags, rest: args.slice(i) };
}

function flagError(ctx: ProcessContext, sub: string, message: string): number {
  ctx.stderr.write(`${message}\nSee 'docker ${sub} --help'.\n`);
  return 125;
}

async function run(ctx: ProcessContext, d: DockerRuntime, args: readonly string[]): Promise<number> {
  const parsed = parseFlags(
    args,
    { detach: "bool", interactive: "bool", tty: "bool", rm: "bool", name: "value", network: "value", net: "value", publish: "value", env: "value", hostname: "value" },
    { d: "detach", i: "interactive", t: "tty", p: "publish", e: "env", h: "hostname" },
  );
  if (typeof parsed === "string") return flagError(ctx, "run", parsed);
  const { flags, rest } = parsed;
  if (rest.length === 0) {
    ctx.stderr.write(`docker: 'docker run' requires at least 1 argument\n\nUsage:  docker run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nSee 'docker run --help' for more information\n`);
    return 1;
  }
  const ports: PortBinding[] = [];
  for (const spec of flags.get("publish") ?? []) {
    const p = parsePublish(spec, () => 32768 + ctx.host.kernel.rng.below(28232));
    if (typeof p === "string") {
      ctx.stderr.write(`docker: ${p}.\n\nRun 'docker run --help' for more information\n`);
      return 125;
    }
    ports.push(p);
  }
  const env = new Map<string, string>();
  for (const e of flags.get("env") ?? []) {
    const eq = e.indexOf("=");
    if (eq > 0) env.set(e.slice(0, eq), e.slice(eq + 1));
  }
  const detach = flags.has("detach");
  // With a terminal (-t) and stdin (-i) a shell is interactive: it prompts, as on a real TTY.
  const tty = flags.has("tty") && flags.has("interactive");
  if (tty && ctx.env.get("KEMU_ECHO") === "1") env.set("KEMU_ECHO", "1");
  try {
    const { container, exit } = await d.run({
      image: rest[0]!,
      cmd: rest.slice(1),
      tty,
      ports,
      name: flags.get("name")?.at(-1),
      network: flags.get("network")?.at(-1) ?? flags.get("net")?.at(-1),
      detach,
      interactive: flags.has("interactive"),
      autoRemove: flags.has("rm"),
      hostname: flags.get("hostname")?.at(-1),
      env,
      stdin: ctx.stdin,
      stdout: ctx.stdout,
      stderr: ctx.stderr,
      signal: ctx.signal,
    });
    if (detach) {
      ctx.stdout.write(`${container.id}\n`);
      return 0;
    }
    return exit ?? 0;
  } catch (err) {
    if (err instanceof DockerError) {
      ctx.stderr.write(`${err.message}\n`);
      return err.exit;
    }
    throw err;
  }
}

function status(c: Container, now: number): string {
  if (c.state === "created") return "Created";
  if (c.state === "running") return `Up ${humanDuration(now - c.startedAt)}`;
  return `Exited (${c.exitCode}) ${humanDuration(now - (c.finishedAt ?? now))} ago`;
}

function quoteCommand(cmd: readonly string[]): string {
  let text = cmd.join(" ");
  if (text.length > 20) text = `${text.slice(0, 19)}…`;
  return `"${text}"`;
}

function ps(ctx: ProcessContext, d: DockerRuntime, args: readonly string[]): number {
  const parsed = parseFlags(args, { all: "bool", quiet: "bool", "no-trunc": "bool" }, { a: "all", q: "quiet" });
  if (typeof parsed === "string") return flagError(ctx, "ps", parsed);
  const all = parsed.flags.has("all");
  const now = ctx.clock.now();
  const list = [...d.containers.values()].filter((c) => all || c.state === "running").reverse();
  if (parsed.flags.has("quiet")) {
    for (const c of list) ctx.stdout.write(`${shortId(c.id)}\n`);
    return 0;
  }
  const rows = [["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]];
  for (const c of list) {
    const ports = c.state === "running" ? c.ports.map((p) => `${p.hostIp}:${p.hostPort}->${p.containerPort}/${p.proto}`).join(", ") : "";
    rows.push([shortId(c.id), c.imageRef, quoteCommand(c.cmd), `${humanDuration(now - c.createdAt)} ago`, status(c, now), ports, c.name]);
  }
  ctx.stdout.write(table(rows));
  return 0;
}

/** The `docker inspect` document of a container (the fields users read). */
export function inspectContainer(d: DockerRuntime, c: Container): Record<string, unknown> {
  const ep = c.endpoint;
  const bridged = c.networkMode === "bridge";
  const network = {
    IPAMConfig: null,
    Links: null,
    Aliases: null,
    MacAddress: ep ? formatMacAddr(ep.mac) : "",
    DriverOpts: null,
    NetworkID: d.networkId,
    EndpointID: ep?.endpointId ?? "",
    Gateway: ep ? formatIpv4Addr(ep.gateway) : "",
    IPAddress: ep ? formatIpv4Addr(ep.ip) : "",
    IPPrefixLen: ep?.prefixLen ?? 0,
    IPv6Gateway: "",
    GlobalIPv6Address: "",
    GlobalIPv6PrefixLen: 0,
    DNSNames: null,
  };
  const networks: Record<string, unknown> = {};
  if (c.networkMode === "bridge") networks["bridge"] = network;
  if (c.networkMode === "host" || c.networkMode === "none") networks[c.networkMode] = { ...network, NetworkID: "", EndpointID: "", MacAddress: "" };
  return {
    Id: c.id,
    Created: iso(c.createdAt),
    Path: c.cmd[0] ?? "",
    Args: c.cmd.slice(1),
    State: {
      Status: c.state,
      Running: c.state === "running",
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      Pid: c.state === "running" ? c.pid : 0,
      ExitCode: c.exitCode,
      Error: "",
      StartedAt: iso(c.startedAt),
      FinishedAt: c.finishedAt === undefined ? "0001-01-01T00:00:00Z" : iso(c.finishedAt),
    },
    Image: c.image.id,
    Name: `/${c.name}`,
    HostConfig: { NetworkMode: c.networkMode === "bridge" ? "bridge" : c.networkMode, AutoRemove: c.autoRemove },
    Config: { Hostname: c.hostname, Image: c.imageRef, Cmd: c.cmd, Env: [...c.env].map(([k, v]) => `${k}=${v}`) },
    NetworkSettings: {
      Bridge: "",
      SandboxID: c.state === "running" ? c.sandboxId : "",
      SandboxKey: c.state === "running" && c.networkMode !== "host" ? `/var/run/docker/netns/${c.sandboxId.slice(0, 12)}` : "",
      Ports: bridged
        ? Object.fromEntries(c.ports.map((p) => [`${p.containerPort}/${p.proto}`, [{ HostIp: p.hostIp, HostPort: `${p.hostPort}` }]]))
        : {},
      EndpointID: ep?.endpointId ?? "",
      Gateway: network.Gateway,
      IPAddress: network.IPAddress,
      IPPrefixLen: network.IPPrefixLen,
      MacAddress: network.MacAddress,
      Networks: networks,
    },
  };
}

function inspect(ctx: ProcessContext, d: DockerRuntime, args: readonly string[]): number {
  const parsed = parseFlags(args, { format: "value", type: "value" }, { f: "format" });
  if (typeof parsed === "string") return flagError(ctx, "inspect", parsed);
  if (parsed.rest.length === 0) {
    ctx.stderr.write(`"docker inspect" requires at least 1 argument.\nSee 'docker inspect --help'.\n\nUsage:  docker inspect [OPTIONS] NAME|ID [NAME|ID...]\n\nReturn low-level information on Docker objects\n`);
    return 1;
  }
  const docs: unknown[] = [];
  let exit = 0;
  const format = parsed.flags.get("format")?.at(-1);
  for (const ref of parsed.rest) {
    const c = d.find(ref);
    if (!c) {
      ctx.stderr.write(`Error: No such object: ${ref}\n`);
      exit = 1;
      continue;
    }
    const doc = inspectContainer(d, c);
    if (format !== undefined) {
      try {
        ctx.stdout.write(`${goTemplate(format, doc)}\n`);
      } catch (err) {
        ctx.stderr.write(`${(err as Error).message}\n`);
        return 1;
      }
    } else docs.push(doc);
  }
  if (format === undefined) ctx.stdout.write(`${JSON.stringify(docs, null, 4)}\n`);
  return exit;
}

async function rm(ctx: ProcessContext, d: DockerRuntime, args: readonly string[]): Promise<number> {
  const parsed = parseFlags(args, { force: "bool", volumes: "bool" }, { f: "force", v: "volumes" });
  if (typeof parsed === "string") return flagError(ctx, "rm", parsed);
  if (parsed.rest.length === 0) {
    ctx.stderr.write(`"docker rm" requires at least 1 argument.\nSee 'docker rm --help'.\n\nUsage:  docker rm [OPTIONS] CONTAINER [CONTAINER...]\n\nRemove one or more containers\n`);
    return 1;
  }
  return eachContainer(ctx, parsed.rest, (ref) => d.remove(ref, parsed.flags.has("force")));
}

/** Applies `action` to each container named, printing each name done and each error; exit 1 if any failed. */
async function eachContainer(ctx: ProcessContext, refs: readonly string[], action: (ref: string) => Promise<unknown>): Promise<number> {
  let exit = 0;
  for (const ref of refs) {
    try {
      await action(ref);
      ctx.stdout.write(`${ref}\n`);
    } catch (err) {
      if (!(err instanceof DockerError)) throw err;
      ctx.stderr.write(`${err.message}\n`);
      exit = 1;
    }
  }
  return exit;
}

async function stop(ctx: ProcessContext, d: DockerRuntime, args: readonly string[]): Promise<number> {
  return eachContainer(ctx, args.filter((a) => !a.startsWith("-")), (ref) => d.stop(ref));
}

async function exec(ctx: ProcessContext, d: DockerRuntime, args: readonly string[]): Promise<number> {
  const parsed = parseFlags(args, { interactive: "bool", tty: "bool", detach: "bool", env: "value" }, { i: "interactive", t: "tty", d: "detach", e: "env" });
  if (typeof parsed === "string") return flagError(ctx, "exec", parsed);
  const [ref, ...cmd] = parsed.rest;
  if (ref === undefined || cmd.length === 0) {
    ctx.stderr.write(`docker: 'docker exec' requires at least 2 arguments\n\nUsage:  docker exec [OPTIONS] CONTAINER COMMAND [ARG...]\n\nSee 'docker exec --help' for more information\n`);
    return 1;
  }
  const c = d.find(ref);
  if (!c) {
    ctx.stderr.write(`Error response from daemon: No such container: ${ref}\n`);
    return 1;
  }
  if (c.state !== "running") {
    ctx.stderr.write(`Error response from daemon: container ${c.id} is not running\n`);
    return 1;
  }
  const spec = d.execSpec(c, {
    stdin: parsed.flags.has("interactive") ? ctx.stdin : { readLine: async () => undefined, readAll: async () => "" },
    stdout: ctx.stdout,
    stderr: ctx.stderr,
  });
  const tty = parsed.flags.has("tty") && parsed.flags.has("interactive");
  if (tty && ctx.env.get("KEMU_ECHO") === "1") spec.env.set("KEMU_ECHO", "1");
  if (tty && cmd.length === 1 && SHELLS.has(cmd[0]!.replace(/^.*\//, ""))) cmd.push("-i");
  for (const e of parsed.flags.get("env") ?? []) {
    const eq = e.indexOf("=");
    if (eq > 0) spec.env.set(e.slice(0, eq), e.slice(eq + 1));
  }
  try {
    return await d.host.spawn(cmd, { ...spec, parentSignal: ctx.signal });
  } catch {
    ctx.stderr.write(
      `OCI runtime exec failed: exec failed: unable to start container process: exec: "${cmd[0]}": executable file not found in $PATH: unknown\n`,
    );
    return 126;
  }
}

function logs(ctx: ProcessContext, d: DockerRuntime, args: readonly string[]): number {
  const ref = args.find((a) => !a.startsWith("-"));
  const c = ref === undefined ? undefined : d.find(ref);
  if (!c) {
    ctx.stderr.write(`Error response from daemon: No such container: ${ref ?? ""}\n`);
    return 1;
  }
  ctx.stdout.write(c.logs.join(""));
  return 0;
}

function network(ctx: ProcessContext, d: DockerRuntime, args: readonly string[]): number {
  const [sub, ...rest] = args;
  if (sub === "ls" || sub === "list") {
    const rows = [["NETWORK ID", "NAME", "DRIVER", "SCOPE"]];
    rows.push([d.networkId.slice(0, 12), "bridge", "bridge", "local"]);
    rows.push(["1c0b6e5a3f21", "host", "host", "local"]);
    rows.push(["7d3e2b9c0a14", "none", "null", "local"]);
    ctx.stdout.write(table(rows));
    return 0;
  }
  if (sub === "inspect" && rest[0] === "bridge") {
    const containers: Record<string, unknown> = {};
    for (const c of d.containers.values()) {
      if (!c.endpoint) continue;
      containers[c.id] = {
        Name: c.name,
        EndpointID: c.endpoint.endpointId,
        MacAddress: formatMacAddr(c.endpoint.mac),
        IPv4Address: `${formatIpv4Addr(c.endpoint.ip)}/${c.endpoint.prefixLen}`,
        IPv6Address: "",
      };
    }
    const doc = [
      {
        Name: "bridge",
        Id: d.networkId,
        Scope: "local",
        Driver: "bridge",
        IPAM: { Driver: "default", Options: null, Config: [{ Subnet: "172.17.0.0/16", Gateway: "172.17.0.1" }] },
        Containers: containers,
        Options: {
          "com.docker.network.bridge.default_bridge": "true",
          "com.docker.network.bridge.name": "docker0",
          "com.docker.network.driver.mtu": "1500",
        },
      },
    ];
    ctx.stdout.write(`${JSON.stringify(doc, null, 4)}\n`);
    return 0;
  }
  if (sub === "inspect") {
    ctx.stderr.write(`Error response from daemon: network ${rest[0] ?? ""} not found\n`);
    return 1;
  }
  ctx.stderr.write(`docker: 'network ${sub ?? ""}' is not a docker command.\nSee 'docker network --help'\n`);
  return 1;
}

function images(ctx: ProcessContext, d: DockerRuntime): number {
  const rows = [["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]];
  for (const img of d.images.values()) rows.push([img.name, "latest", img.id.slice(7, 19), "2 weeks ago", img.name === "busybox" ? "4.27MB" : "192MB"]);
  ctx.stdout.write(table(rows));
  return 0;
}

/** The docker CLI, talking to the host's DockerRuntime. */
export const docker: Command = async (ctx) => {
  const d = runtime(ctx);
  const [sub, ...args] = ctx.argv.slice(1);
  if (!d) {
    ctx.stderr.write("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n");
    return 1;
  }
  switch (sub) {
    case undefined:
    case "--help":
    case "help":
      ctx.stdout.write(USAGE);
      return 0;
    case "run":
      return run(ctx, d, args);
    case "ps":
      return ps(ctx, d, args);
    case "inspect":
      return inspect(ctx, d, args);
    case "rm":
      return rm(ctx, d, args);
    case "stop":
    case "kill":
      return stop(ctx, d, args);
    case "exec":
      return exec(ctx, d, args);
    case "logs":
      return logs(ctx, d, args);
    case "network":
      return network(ctx, d, args);
    case "images":
      return images(ctx, d);
    case "container":
      if (args[0] === "ls") return ps(ctx, d, args.slice(1));
      break;
    default:
      break;
  }
  ctx.stderr.write(`docker: '${sub}' is not a docker command.\nSee 'docker --help'\n`);
  return 1;
};
