import type { Bridge, NetNs } from "@kemu/kernel";
import { broadcastOf, formatIpv4Addr, type Ipv4Addr, type MacAddr, parseIpv4Addr, readMac } from "@kemu/wire";
import type { Host, ProcessSpec } from "../host.ts";
import { EMPTY_INPUT, type CommandTable, type Input, type Output } from "../process.ts";
import { Vfs } from "../vfs.ts";
import { dockerProxy } from "./proxy.ts";
import { installDockerRules, type PortBinding, publishPorts, unpublishPorts } from "./iptables.ts";

/** A container image: a userland and the command it runs by default. */
export interface Image {
  readonly name: string;
  readonly commands: CommandTable;
  readonly defaultCmd: readonly string[];
  /** The image's ENTRYPOINT: the command line is this followed by the CMD (`defaultCmd` or what `docker run` was given). */
  readonly entrypoint?: readonly string[] | undefined;
  /** The image ID shown by `docker images`, `sha256:` + 64 hex. */
  readonly id: string;
}

/** How a container is networked (`--network`). */
export type NetworkMode = "bridge" | "host" | "none" | `container:${string}`;

/** A container, as `docker inspect` knows it. */
export interface Container {
  readonly id: string;
  readonly name: string;
  readonly image: Image;
  readonly imageRef: string;
  readonly cmd: readonly string[];
  readonly networkMode: NetworkMode;
  readonly createdAt: number;
  readonly hostname: string;
  readonly fs: Vfs;
  readonly env: Map<string, string>;
  readonly autoRemove: boolean;
  state: "created" | "running" | "exited";
  exitCode: number;
  startedAt: number;
  finishedAt: number | undefined;
  netns: NetNs;
  /** Set in bridge mode while running. */
  endpoint: Endpoint | undefined;
  sandboxId: string;
  /** Resolves with the main process's exit status. */
  done: Promise<number>;
  pid: number;
  /** What the main process printed (docker logs). */
  readonly logs: string[];
  /** Published ports (`-p`). */
  readonly ports: readonly PortBinding[];
}

/** A container's attachment to docker0. */
export interface Endpoint {
  readonly ip: Ipv4Addr;
  readonly prefixLen: number;
  readonly gateway: Ipv4Addr;
  readonly mac: MacAddr;
  readonly hostVeth: string;
  readonly endpointId: string;
  readonly networkId: string;
}

/** What `docker run` asks for. */
export interface RunOptions {
  image: string;
  cmd: readonly string[];
  name?: string | undefined;
  network?: string | undefined;
  detach: boolean;
  interactive: boolean;
  /** A terminal is attached (-it): a shell started as the command is interactive. */
  tty?: boolean;
  /** Ports to publish (`-p`). */
  ports?: readonly PortBinding[] | undefined;
  autoRemove: boolean;
  hostname?: string | undefined;
  env?: ReadonlyMap<string, string> | undefined;
  /** The caller's streams, used when attached. */
  stdin: Input;
  stdout: Output;
  stderr: Output;
  signal?: AbortSignal | undefined;
}

/** An error in Docker's words; the CLI prints it and exits with `exit`. */
export class DockerError extends Error {
  override readonly name = "DockerError";
  constructor(
    message: string,
    readonly exit = 125,
  ) {
    super(message);
  }
}

/** docker0's network: 172.17.0.0/16, gateway .1. */
const DOCKER0 = { net: parseIpv4Addr("172.17.0.0")!, prefixLen: 16, gateway: parseIpv4Addr("172.17.0.1")! };

/** Short container IDs, the first 12 hex digits. */
export function shortId(id: string): string {
  return id.slice(0, 12);
}

/**
 * The Docker engine of one host: docker0 at 172.17.0.1/16, a veth pair per
 * bridged container with addresses from 172.17.0.2 up and MACs 02:42 + the
 * IPv4 bytes (Docker ≤ 27), and the host, none and container: modes.
 */
export class DockerRuntime {
  readonly containers = new Map<string, Container>();
  readonly images = new Map<string, Image>();
  /** The container each namespace was made for, kept after the container is gone (pcap file names). */
  readonly netnsNames = new WeakMap<NetNs, string>();
  readonly bridge: Bridge;
  readonly networkId: string;
  readonly #used = new Set<Ipv4Addr>();

  constructor(readonly host: Host) {
    const kernel = host.kernel;
    const root = kernel.root;
    // ≤ v27: the bridge MAC is 02:42 + 4 random bytes.
    const rnd = host.rng.bytes(4);
    const mac = readMac(Uint8Array.from([0x02, 0x42, ...rnd]), 0);
    this.bridge = kernel.createBridge(root, "docker0", { mac });
    root.addAddress(this.bridge, { addr: DOCKER0.gateway, prefixLen: DOCKER0.prefixLen, broadcast: broadcastOf(DOCKER0.gateway, DOCKER0.prefixLen) });
    root.setUp(this.bridge, true);
    root.sysctl.set("net.ipv4.ip_forward", "1");
    root.sysctl.loadBrNetfilter();
    installDockerRules(root);
    this.networkId = this.#hex(64);
  }

  /** Makes an image available under `name` (and `name:latest`). */
  addImage(name: string, commands: CommandTable, defaultCmd: readonly string[]): void {
    const image: Image = { name, commands, defaultCmd, id: `sha256:${this.#hex(64)}` };
    this.images.set(name, image);
  }

  /** Finds a container by name, full ID or unique ID prefix. */
  find(ref: string): Container | undefined {
    const byName = [...this.containers.values()].find((c) => c.name === ref.replace(/^\//, ""));
    if (byName) return byName;
    const byId = [...this.containers.values()].filter((c) => c.id.startsWith(ref));
    return ref.length > 0 && byId.length === 1 ? byId[0] : undefined;
  }

  /** `docker run`: creates and starts a container. Resolves once started (detached) or exited (attached). */
  async run(o: RunOptions): Promise<{ container: Container; exit: number | undefined }> {
    const imageName = o.image.replace(/:latest$/, "");
    const image = this.images.get(imageName);
    if (!image) {
      const repo = imageName.split(":")[0]!;
      throw new DockerError(
        `Unable to find image '${o.image.includes(":") ? o.image : `${o.image}:latest`}' locally\n` +
          `docker: Error response from daemon: pull access denied for ${repo}, repository does not exist or may require 'docker login': denied: requested access to the resource is denied.\n\nRun 'docker run --help' for more information`,
      );
    }
    const name = o.name ?? this.#randomName();
    if (o.name !== undefined && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(o.name)) {
      throw new DockerError(`docker: Error response from daemon: Invalid container name (${o.name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed.\n\nRun 'docker run --help' for more information`);
    }
    const clash = this.find(name);
    if (clash && clash.name === name) {
      throw new DockerError(
        `docker: Error response from daemon: Conflict. The container name "/${name}" is already in use by container "${clash.id}". You have to remove (or rename) that container to be able to reuse that name.\n\nRun 'docker run --help' for more information`,
      );
    }
    const mode = this.#networkMode(o.network ?? "bridge");
    let joined: Container | undefined;
    if (mode.startsWith("container:")) {
      const ref = mode.slice("container:".length);
      joined = this.find(ref);
      if (!joined) throw new DockerError(`docker: Error response from daemon: No such container: ${ref}.\n\nRun 'docker run --help' for more information`);
      if (joined.state !== "running") {
        throw new DockerError(`docker: Error response from daemon: cannot join network of a non running container: ${joined.id}.\n\nRun 'docker run --help' for more information`);
      }
    }
    const ports = o.ports ?? [];
    for (const p of ports) {
      const taken = [...this.containers.values()].some(
        (c) => c.state === "running" && c.ports.some((q) => q.hostPort === p.hostPort && q.proto === p.proto),
      );
      if (taken) {
        throw new DockerError(
          `docker: Error response from daemon: driver failed programming external connectivity on endpoint ${name}: Bind for ${p.hostIp}:${p.hostPort} failed: port is already allocated.`,
        );
      }
    }
    const id = this.#hex(64);
    const hostname =
      o.hostname ?? (mode === "host" ? this.host.name : joined ? joined.hostname : shortId(id));
    let cmd = [...(image.entrypoint ?? []), ...(o.cmd.length > 0 ? o.cmd : image.defaultCmd)];
    if (o.tty && cmd.length === 1 && ["sh", "ash", "bash"].includes(cmd[0]!.replace(/^.*\//, ""))) cmd = [...cmd, "-i"];
    const fs = new Vfs();
    const env = new Map<string, string>([
      ["PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
      ["HOSTNAME", hostname],
      ["HOME", "/root"],
    ]);
    for (const [k, v] of o.env ?? []) env.set(k, v);
    const c: Container = {
      id,
      name,
      image,
      imageRef: o.image,
      cmd,
      networkMode: mode,
      createdAt: this.host.clock.now(),
      hostname,
      fs,
      env,
      autoRemove: o.autoRemove,
      state: "created",
      exitCode: 0,
      startedAt: 0,
      finishedAt: undefined,
      netns: this.host.kernel.root,
      endpoint: undefined,
      sandboxId: this.#hex(64),
      done: Promise.resolve(0),
      pid: 0,
      logs: [],
      ports: mode === "bridge" ? ports : [],
    };
    this.#setupNetwork(c, joined);
    if (c.endpoint && c.ports.length > 0) {
      const ip = formatIpv4Addr(c.endpoint.ip);
      publishPorts(this.host.kernel.root, ip, c.ports);
      for (const p of c.ports.filter((q) => q.proto === "tcp")) {
        const argv = ["docker-proxy", "-proto", "tcp", "-host-ip", p.hostIp, "-host-port", `${p.hostPort}`, "-container-ip", ip, "-container-port", `${p.containerPort}`];
        const sink = { write: () => {} };
        void this.host.spawn(argv, { ...this.host.rootSpec({ stdout: sink, stderr: sink }), commands: new Map([["docker-proxy", dockerProxy]]), group: c.id });
      }
    }
    this.#writeEtc(c);
    fs.mkdir("/root");
    fs.mkdir("/tmp");
    this.containers.set(id, c);
    // The main process writes to the caller when attached, and always to the log.
    const logOut: Output = { write: (t) => void c.logs.push(t) };
    const tee = (a: Output): Output => ({
      write: (t) => {
        logOut.write(t);
        if (!o.detach) a.write(t);
      },
    });
    c.state = "running";
    c.startedAt = this.host.clock.now();
    const spec: ProcessSpec = {
      ...this.execSpec(c, { stdin: o.interactive ? o.stdin : EMPTY_INPUT, stdout: tee(o.stdout), stderr: tee(o.stderr) }),
      parentSignal: o.detach ? undefined : o.signal,
    };
    let started: Promise<number>;
    try {
      started = this.host.spawn(cmd, spec);
    } catch {
      this.#teardown(c);
      c.state = "exited";
      c.exitCode = 127;
      throw new DockerError(
        `docker: Error response from daemon: failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "${cmd[0]}": executable file not found in $PATH: unknown.`,
        127,
      );
    }
    c.pid = [...this.host.processes.values()].at(-1)?.pid ?? 0;
    c.done = started.then((code) => {
      c.state = "exited";
      c.exitCode = code;
      c.finishedAt = this.host.clock.now();
      this.#teardown(c);
      if (c.autoRemove) this.containers.delete(c.id);
      return code;
    });
    if (o.detach) return { container: c, exit: undefined };
    return { container: c, exit: await c.done };
  }

  /** What a process inside container `c` is started with (docker exec, the main process). */
  execSpec(c: Container, io: { stdin: Input; stdout: Output; stderr: Output }): ProcessSpec {
    return {
      netns: c.netns,
      fs: c.fs,
      commands: c.image.commands,
      flavour: "busybox",
      hostname: c.hostname,
      env: new Map(c.env),
      stdin: io.stdin,
      stdout: io.stdout,
      stderr: io.stderr,
      group: c.id,
    };
  }

  /** `docker rm [-f]`: a running container needs force (it is killed first). */
  async remove(ref: string, force: boolean): Promise<Container> {
    const c = this.find(ref);
    if (!c) throw new DockerError(`Error response from daemon: No such container: ${ref}`, 1);
    if (c.state === "running") {
      if (!force) {
        throw new DockerError(
          `Error response from daemon: cannot remove container "/${c.name}": container is running: stop the container before removing or force remove`,
          1,
        );
      }
      this.host.killGroup(c.id);
      await c.done;
    }
    this.containers.delete(c.id);
    return c;
  }

  /** `docker stop`: kills the main process (SIGTERM then SIGKILL collapse to one kill here). */
  async stop(ref: string): Promise<Container> {
    const c = this.find(ref);
    if (!c) throw new DockerError(`Error response from daemon: No such container: ${ref}`, 1);
    if (c.state === "running") {
      this.host.killGroup(c.id);
      await c.done;
      c.exitCode = 137;
    }
    return c;
  }

  #networkMode(network: string): NetworkMode {
    if (network === "bridge" || network === "default") return "bridge";
    if (network === "host" || network === "none") return network;
    if (network.startsWith("container:")) return network as NetworkMode;
    throw new DockerError(`docker: Error response from daemon: network ${network} not found.\n\nRun 'docker run --help' for more information`);
  }

  #setupNetwork(c: Container, joined: Container | undefined): void {
    const kernel = this.host.kernel;
    if (c.networkMode === "host") {
      c.netns = kernel.root;
      return;
    }
    if (joined) {
      c.netns = joined.netns;
      c.endpoint = undefined;
      return;
    }
    const ns = kernel.createNetns();
    ns.setUp(ns.lo, true);
    c.netns = ns;
    this.netnsNames.set(ns, c.name);
    if (c.networkMode === "none") return;
    const ip = this.#allocate();
    const root = kernel.root;
    let vethName: string;
    do vethName = `veth${this.#hex(7)}`;
    while (root.deviceByName(vethName));
    const [hostEnd, contEnd] = kernel.createVeth(root, vethName, `tmp${this.#hex(7)}`);
    const mac = readMac(Uint8Array.from([0x02, 0x42, ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255]), 0);
    contEnd.mac = mac;
    this.bridge.addPort(hostEnd);
    root.setUp(hostEnd, true);
    root.moveDevice(contEnd, ns);
    ns.renameDevice(contEnd, "eth0");
    ns.addAddress(contEnd, { addr: ip, prefixLen: DOCKER0.prefixLen, broadcast: broadcastOf(ip, DOCKER0.prefixLen) });
    ns.setUp(contEnd, true);
    ns.addRoute({ dst: 0, dstLen: 0, gateway: DOCKER0.gateway, dev: contEnd });
    c.endpoint = {
      ip,
      prefixLen: DOCKER0.prefixLen,
      gateway: DOCKER0.gateway,
      mac,
      hostVeth: vethName,
      endpointId: this.#hex(64),
      networkId: this.networkId,
    };
  }

  #teardown(c: Container): void {
    const ep = c.endpoint;
    if (ep && c.ports.length > 0) unpublishPorts(this.host.kernel.root, formatIpv4Addr(ep.ip), c.ports);
    if (ep) {
      const dev = this.host.kernel.root.deviceByName(ep.hostVeth);
      if (dev) this.host.kernel.destroyDevice(dev);
      this.#used.delete(ep.ip);
      c.endpoint = undefined;
    }
    const sharing = [...this.containers.values()].some((o) => o !== c && o.state === "running" && o.netns === c.netns);
    if (c.netns !== this.host.kernel.root && !sharing) {
      this.host.kernel.destroyNetns(c.netns);
    }
  }

  /** The lowest free address of 172.17.0.0/16 after the gateway. */
  #allocate(): Ipv4Addr {
    const size = 2 ** (32 - DOCKER0.prefixLen);
    for (let i = 2; i < size - 1; i++) {
      const ip = (DOCKER0.net + i) >>> 0;
      if (!this.#used.has(ip)) {
        this.#used.add(ip);
        return ip;
      }
    }
    throw new DockerError("docker: Error response from daemon: no available IPv4 addresses on this network's address pools: bridge");
  }

  #writeEtc(c: Container): void {
    const hostsLines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback", "fe00::0\tip6-localnet", "ff00::0\tip6-mcastprefix", "ff02::1\tip6-allnodes", "ff02::2\tip6-allrouters"];
    if (c.networkMode === "host") {
      c.fs.writeFile("/etc/hosts", this.host.fs.readFile("/etc/hosts"));
    } else {
      if (c.endpoint) hostsLines.push(`${formatIpv4Addr(c.endpoint.ip)}\t${c.hostname}`);
      c.fs.writeFile("/etc/hosts", `${hostsLines.join("\n")}\n`);
    }
    c.fs.writeFile("/etc/hostname", `${c.hostname}\n`);
    // The default bridge copies the host's resolv.conf without localhost servers; if none remain, Google's.
    const hostResolv = this.host.fs.readFile("/etc/resolv.conf");
    const kept = hostResolv.split("\n").filter((l) => !/^nameserver\s+(127\.|::1)/.test(l) && l.trim() !== "");
    const hasServer = kept.some((l) => l.startsWith("nameserver"));
    const resolv = hasServer ? kept : ["nameserver 8.8.8.8", "nameserver 8.8.4.4", ...kept.filter((l) => !l.startsWith("nameserver"))];
    c.fs.writeFile("/etc/resolv.conf", `${(c.networkMode === "host" ? hostResolv.trimEnd().split("\n") : resolv).join("\n")}\n`);
  }

  #randomName(): string {
    const left = ["admiring", "brave", "clever", "dreamy", "eager", "focused", "gifted", "happy", "jolly", "keen", "loving", "nifty", "quirky", "sharp", "trusting", "vibrant"];
    const right = ["babbage", "curie", "darwin", "einstein", "feynman", "hopper", "lovelace", "newton", "pasteur", "ritchie", "shannon", "tesla", "turing", "wozniak", "yonath", "zhukovsky"];
    let name: string;
    do name = `${left[this.host.rng.below(left.length)]}_${right[this.host.rng.below(right.length)]}`;
    while (this.find(name));
    return name;
  }

  #hex(n: number): string {
    let s = "";
    while (s.length < n) s += this.host.rng.nextU32().toString(16).padStart(8, "0");
    return s.slice(0, n);
  }
}
