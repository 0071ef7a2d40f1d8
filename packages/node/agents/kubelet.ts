import { ApiError, type ApiClient, type Container, type ContainerStatus, type Node, type Pod, type PodCondition } from "@kemu/api";
import type { NetNs, Timer } from "@kemu/kernel";
import { formatIpv4Addr, parseIpv4Addr } from "@kemu/wire";
import type { DockerRuntime, Image } from "../docker/runtime.ts";
import type { Host, ProcessSpec } from "../host.ts";
import { BufferOutput, type Input, type Output } from "../process.ts";
import { Vfs } from "../vfs.ts";
import { BridgeCni, CNI_CONF_DIR, CniError } from "./cni.ts";

/** Emulated time 0 as a wall-clock instant: 2026-01-01T00:00:00Z. */
const EPOCH_MS = Date.UTC(2026, 0, 1);

/** RFC 3339 with seconds, as the API prints timestamps. */
export function apiTime(ms: number): string {
  return new Date(EPOCH_MS + Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/** How a kubelet is configured. */
export interface KubeletOptions {
  nodeName: string;
  nodeIP: string;
  /** The cluster DNS server written into pods' resolv.conf. */
  clusterDNS?: string;
  clusterDomain?: string;
  /** Node status update period, ms (kubelet's nodeStatusUpdateFrequency). */
  statusPeriodMs?: number;
  capacity?: Record<string, string>;
}

/** One running container of a pod. */
interface RunningContainer {
  readonly spec: Container;
  readonly fs: Vfs;
  readonly logs: BufferOutput;
  controller: AbortController;
  restartCount: number;
  state: ContainerStatus["state"];
  lastState: ContainerStatus["state"] | undefined;
  backoffMs: number;
  timer: Timer | undefined;
  startedAt: number;
}

/** A pod this kubelet runs: its sandbox namespace and its containers. */
interface PodRecord {
  pod: Pod;
  readonly key: string;
  readonly netns: NetNs;
  readonly ip: string;
  readonly containers: Map<string, RunningContainer>;
  stopped: boolean;
}

/**
 * The kubelet of one node: registers the Node, posts its status every 10 s,
 * and runs the pods bound to it — a sandbox namespace per pod (every
 * container joins it: shared eth0, IP and localhost), CNI for its network,
 * /etc/resolv.conf and /etc/hosts per pod, restarts with back-off, status.
 */
export class Kubelet {
  readonly pods = new Map<string, PodRecord>();
  readonly #cni: BridgeCni;
  #stopWatch: (() => void) | undefined;
  #statusTimer: Timer | undefined;
  #podCIDR: string | undefined;

  constructor(
    private readonly host: Host,
    private readonly api: ApiClient,
    private readonly options: KubeletOptions,
  ) {
    this.#cni = new BridgeCni(host);
  }

  get nodeName(): string {
    return this.options.nodeName;
  }

  /** Registers the node and starts watching its pods. */
  async start(): Promise<void> {
    await this.#register();
    this.#stopWatch = this.api.watch<Pod>("pods", "", { fieldSelector: `spec.nodeName=${this.nodeName}` }, (ev) => {
      if (ev.type === "ADDED" || ev.type === "MODIFIED") void this.#sync(ev.object);
      else if (ev.type === "DELETED") void this.#teardown(podKey(ev.object), false);
    });
    this.api.watch<Node>("nodes", "", { fieldSelector: `metadata.name=${this.nodeName}` }, (ev) => {
      if (ev.type !== "DELETED") this.#onNode(ev.object);
    });
    this.#scheduleStatus();
  }

  /** Stops the kubelet (its pods keep running, as when the kubelet process dies). */
  stop(): void {
    this.#stopWatch?.();
    this.#statusTimer?.cancel();
  }

  /** How to start a process in a pod's container (kubectl exec, a scenario's `in:`). */
  specFor(namespace: string, name: string, container: string | undefined, io: { stdin: Input; stdout: Output; stderr: Output }): ProcessSpec | string {
    const rec = this.pods.get(`${namespace}/${name}`);
    if (!rec) return `Error from server (NotFound): pods "${name}" not found`;
    const c = container === undefined ? [...rec.containers.values()][0] : rec.containers.get(container);
    if (!c) return `error: unable to upgrade connection: container not found ("${container}")`;
    if (!c.state.running) return `error: unable to upgrade connection: container not found ("${c.spec.name}")`;
    const image = this.#image(c.spec.image);
    return {
      netns: rec.netns,
      fs: c.fs,
      commands: image?.commands ?? this.host.commands,
      flavour: "busybox",
      hostname: rec.pod.metadata.name ?? "",
      env: this.#env(rec, c.spec),
      ...io,
      group: `${rec.pod.metadata.uid}/${c.spec.name}`,
    };
  }

  /** A container's log (kubectl logs). */
  logs(namespace: string, name: string, container: string | undefined): string | undefined {
    const rec = this.pods.get(`${namespace}/${name}`);
    const c = rec && (container === undefined ? [...rec.containers.values()][0] : rec.containers.get(container));
    return c?.logs.text;
  }

  async #register(): Promise<void> {
    const node: Node = {
      apiVersion: "v1",
      kind: "Node",
      metadata: {
        name: this.nodeName,
        labels: {
          "beta.kubernetes.io/arch": "amd64",
          "beta.kubernetes.io/os": "linux",
          "kubernetes.io/arch": "amd64",
          "kubernetes.io/hostname": this.nodeName,
          "kubernetes.io/os": "linux",
        },
        annotations: { "node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true" },
      },
      spec: {},
    };
    try {
      await this.api.create("nodes", "", node);
    } catch (err) {
      if (!(err instanceof ApiError) || err.reason !== "AlreadyExists") throw err;
    }
    await this.#postStatus();
  }

  #capacity(): Record<string, string> {
    return this.options.capacity ?? { cpu: "2", "ephemeral-storage": "61255492Ki", memory: "4025000Ki", pods: "110" };
  }

  async #postStatus(): Promise<void> {
    const now = apiTime(this.host.clock.now());
    let node: Node;
    try {
      node = await this.api.get<Node>({ resource: "nodes", namespace: "", name: this.nodeName });
    } catch {
      return;
    }
    const old = node.status?.conditions ?? [];
    const cond = (type: string, status: "True" | "False", reason: string, message: string) => {
      const prev = old.find((c) => c.type === type);
      return {
        type,
        status,
        lastHeartbeatTime: now,
        lastTransitionTime: prev && prev.status === status ? (prev.lastTransitionTime ?? now) : now,
        reason,
        message,
      };
    };
    const ready = this.#podCIDR !== undefined;
    node.status = {
      ...node.status,
      capacity: this.#capacity(),
      allocatable: this.#capacity(),
      conditions: [
        cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        ready
          ? cond("Ready", "True", "KubeletReady", "kubelet is posting ready status")
          : cond("Ready", "False", "KubeletNotReady", "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized"),
      ],
      addresses: [
        { type: "InternalIP", address: this.options.nodeIP },
        { type: "Hostname", address: this.nodeName },
      ],
      nodeInfo: {
        architecture: "amd64",
        bootID: "",
        containerRuntimeVersion: "containerd://1.7.13",
        kernelVersion: "6.1.0-kemu",
        kubeProxyVersion: "v1.30.2",
        kubeletVersion: "v1.30.2",
        machineID: "",
        operatingSystem: "linux",
        osImage: "Debian GNU/Linux 12 (bookworm)",
        systemUUID: "",
      },
    };
    try {
      await this.api.updateStatus("nodes", "", node);
    } catch {
      // A conflict or a lost node: the next period tries again.
    }
  }

  #scheduleStatus(): void {
    this.#statusTimer = this.host.clock.setTimer(this.options.statusPeriodMs ?? 10_000, () => {
      void this.#postStatus().then(() => this.#scheduleStatus());
    });
  }

  /** The node's podCIDR arrived: write the CNI configuration (unless a network plugin wrote its own). */
  #onNode(node: Node): void {
    const cidr = node.spec.podCIDR;
    if (!cidr || cidr === this.#podCIDR) return;
    this.#podCIDR = cidr;
    this.host.fs.writeFile(
      `${CNI_CONF_DIR}/99-kemu-bridge.conflist`,
      `${JSON.stringify(
        {
          cniVersion: "0.3.1",
          name: "kemu",
          plugins: [
            {
              type: "bridge",
              bridge: "cni0",
              isGateway: true,
              isDefaultGateway: true,
              hairpinMode: true,
              ipMasq: false,
              ipam: { type: "host-local", ranges: [[{ subnet: cidr }]], routes: [{ dst: "0.0.0.0/0" }] },
            },
            { type: "portmap", capabilities: { portMappings: true } },
          ],
        },
        null,
        2,
      )}\n`,
    );
    void this.#postStatus();
    for (const rec of this.pods.values()) void this.#sync(rec.pod);
  }

  async #sync(pod: Pod): Promise<void> {
    const key = podKey(pod);
    if (pod.metadata.deletionTimestamp) {
      await this.#teardown(key, true);
      return;
    }
    const rec = this.pods.get(key);
    if (rec) {
      rec.pod = pod;
      return;
    }
    if (pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed") return;
    await this.#startPod(pod);
  }

  async #startPod(pod: Pod): Promise<void> {
    const key = podKey(pod);
    const kernel = this.host.kernel;
    const hostNetwork = pod.spec.hostNetwork === true;
    let netns: NetNs;
    let ip: string;
    if (hostNetwork) {
      netns = kernel.root;
      ip = this.options.nodeIP;
    } else {
      netns = kernel.createNetns();
      netns.setUp(netns.lo, true);
      try {
        const result = this.#cni.add(pod.metadata.uid ?? key, netns);
        ip = formatIpv4Addr(result.ip);
      } catch (err) {
        kernel.destroyNetns(netns);
        const message = err instanceof CniError ? err.message : String(err);
        await this.#status(pod, {
          phase: "Pending",
          conditions: [{ type: "PodScheduled", status: "True", lastTransitionTime: apiTime(this.host.clock.now()) }],
          containerStatuses: pod.spec.containers.map((c) => ({
            name: c.name,
            ready: false,
            restartCount: 0,
            image: c.image,
            started: false,
            state: { waiting: { reason: "ContainerCreating", message } },
          })),
        });
        // Try again once the network is ready.
        return;
      }
    }
    const rec: PodRecord = { pod, key, netns, ip, containers: new Map(), stopped: false };
    this.pods.set(key, rec);
    for (const c of pod.spec.containers) this.#startContainer(rec, c);
    await this.#report(rec);
  }

  #image(ref: string): Image | undefined {
    const docker = this.host.service<DockerRuntime>("docker");
    const name = ref.replace(/^docker\.io\/(library\/)?/, "").replace(/:[^/:]+$/, "");
    return docker?.images.get(name);
  }

  #env(rec: PodRecord, c: Container): Map<string, string> {
    const env = new Map<string, string>([
      ["PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
      ["HOSTNAME", rec.pod.metadata.name ?? ""],
      ["HOME", "/root"],
      ["KUBERNETES_SERVICE_HOST", "10.96.0.1"],
      ["KUBERNETES_SERVICE_PORT", "443"],
    ]);
    // The downward API's fieldRefs that manifests use (ingress-nginx's POD_NAME and POD_NAMESPACE).
    const fields: Record<string, string | undefined> = {
      "metadata.name": rec.pod.metadata.name,
      "metadata.namespace": rec.pod.metadata.namespace,
      "metadata.uid": rec.pod.metadata.uid,
      "spec.nodeName": rec.pod.spec.nodeName,
      "spec.serviceAccountName": rec.pod.spec["serviceAccountName"] as string | undefined,
      "status.hostIP": rec.pod.status?.hostIP,
      "status.podIP": rec.pod.status?.podIP,
    };
    for (const e of c.env ?? []) {
      const ref = (e as { valueFrom?: { fieldRef?: { fieldPath?: string } } }).valueFrom?.fieldRef?.fieldPath;
      env.set(e.name, ref !== undefined ? (fields[ref] ?? "") : (e.value ?? ""));
    }
    return env;
  }

  #podFiles(rec: PodRecord, fs: Vfs): void {
    const pod = rec.pod;
    const ns = pod.metadata.namespace ?? "default";
    const domain = this.options.clusterDomain ?? "cluster.local";
    const policy = pod.spec.dnsPolicy ?? "ClusterFirst";
    const hostNet = pod.spec.hostNetwork === true;
    if ((policy === "ClusterFirst" && !hostNet) || policy === "ClusterFirstWithHostNet") {
      fs.writeFile("/etc/resolv.conf", `search ${ns}.svc.${domain} svc.${domain} ${domain}\nnameserver ${this.options.clusterDNS ?? "10.96.0.10"}\noptions ndots:5\n`);
    } else {
      fs.writeFile("/etc/resolv.conf", this.host.fs.readFile("/etc/resolv.conf"));
    }
    const name = pod.metadata.name ?? "";
    fs.writeFile(
      "/etc/hosts",
      hostNet
        ? this.host.fs.readFile("/etc/hosts")
        : `# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n${rec.ip}\t${name}\n`,
    );
    fs.writeFile("/etc/hostname", `${hostNet ? this.host.name : name}\n`);
    fs.mkdir("/tmp");
    fs.mkdir("/root");
  }

  #startContainer(rec: PodRecord, spec: Container): void {
    const fs = new Vfs();
    this.#podFiles(rec, fs);
    const c: RunningContainer = {
      spec,
      fs,
      logs: new BufferOutput(),
      controller: new AbortController(),
      restartCount: 0,
      state: { waiting: { reason: "ContainerCreating" } },
      lastState: undefined,
      backoffMs: 10_000,
      timer: undefined,
      startedAt: 0,
    };
    rec.containers.set(spec.name, c);
    this.#run(rec, c);
  }

  #run(rec: PodRecord, c: RunningContainer): void {
    if (rec.stopped) return;
    const image = this.#image(c.spec.image);
    if (!image) {
      c.state = { waiting: { reason: "ErrImagePull", message: `failed to pull and unpack image "docker.io/library/${c.spec.image}": failed to resolve reference "docker.io/library/${c.spec.image}": pull access denied, repository does not exist or may require authorization` } };
      void this.#report(rec);
      return;
    }
    // Kubernetes: command replaces the image's ENTRYPOINT (and drops its CMD), args its CMD.
    const argv = c.spec.command ? [...c.spec.command, ...(c.spec.args ?? [])] : [...(image.entrypoint ?? []), ...(c.spec.args ?? image.defaultCmd)];
    c.controller = new AbortController();
    const spec: ProcessSpec = {
      netns: rec.netns,
      fs: c.fs,
      commands: image.commands,
      flavour: "busybox",
      hostname: rec.pod.spec.hostNetwork ? this.host.name : (rec.pod.metadata.name ?? ""),
      env: this.#env(rec, c.spec),
      stdin: { readLine: async () => undefined, readAll: async () => "" },
      stdout: c.logs,
      stderr: c.logs,
      group: `${rec.pod.metadata.uid}/${c.spec.name}`,
      parentSignal: c.controller.signal,
    };
    c.startedAt = this.host.clock.now();
    c.state = { running: { startedAt: apiTime(c.startedAt) } };
    let running: Promise<number>;
    try {
      running = this.host.spawn(argv, spec);
    } catch {
      c.state = {
        waiting: {
          reason: "RunContainerError",
          message: `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "${argv[0]}": executable file not found in $PATH: unknown`,
        },
      };
      this.#backoff(rec, c);
      return;
    }
    void running.then((code) => {
      if (rec.stopped) return;
      const finishedAt = apiTime(this.host.clock.now());
      c.lastState = { terminated: { exitCode: code, reason: code === 0 ? "Completed" : "Error", startedAt: apiTime(c.startedAt), finishedAt } };
      const policy = rec.pod.spec.restartPolicy ?? "Always";
      if (policy === "Never" || (policy === "OnFailure" && code === 0)) {
        c.state = c.lastState;
        c.lastState = undefined;
        void this.#report(rec);
        return;
      }
      c.state = { waiting: { reason: "CrashLoopBackOff", message: `back-off ${c.backoffMs / 1000}s restarting failed container=${c.spec.name} pod=${rec.pod.metadata.name}_${rec.pod.metadata.namespace}(${rec.pod.metadata.uid})` } };
      this.#backoff(rec, c);
    });
    void this.#report(rec);
  }

  /** Restarts after 10 s, 20 s, 40 s … up to 5 minutes, as kubelet's back-off does. */
  #backoff(rec: PodRecord, c: RunningContainer): void {
    void this.#report(rec);
    const wait = c.backoffMs;
    c.backoffMs = Math.min(c.backoffMs * 2, 300_000);
    c.timer = this.host.clock.setTimer(wait, () => {
      c.restartCount++;
      this.#run(rec, c);
    });
  }

  async #teardown(key: string, confirmDelete: boolean): Promise<void> {
    const rec = this.pods.get(key);
    if (rec) {
      rec.stopped = true;
      for (const c of rec.containers.values()) {
        c.timer?.cancel();
        c.controller.abort();
      }
      if (rec.netns !== this.host.kernel.root) {
        this.#cni.del(rec.pod.metadata.uid ?? key);
        this.host.kernel.destroyNetns(rec.netns);
      }
      this.pods.delete(key);
    }
    if (confirmDelete) {
      const [namespace, name] = key.split("/") as [string, string];
      try {
        await this.api.delete({ resource: "pods", namespace, name }, { gracePeriodSeconds: 0 });
      } catch {
        // Already gone.
      }
    }
  }

  async #report(rec: PodRecord): Promise<void> {
    const now = apiTime(this.host.clock.now());
    const statuses: ContainerStatus[] = rec.pod.spec.containers.map((spec) => {
      const c = rec.containers.get(spec.name);
      const running = c?.state.running !== undefined;
      return {
        name: spec.name,
        ready: running,
        restartCount: c?.restartCount ?? 0,
        image: spec.image.includes(":") || spec.image.includes("/") ? spec.image : `docker.io/library/${spec.image}:latest`,
        imageID: "",
        containerID: `containerd://${(rec.pod.metadata.uid ?? "").replaceAll("-", "")}${spec.name}`.slice(0, 77),
        started: running,
        state: c?.state ?? { waiting: { reason: "ContainerCreating" } },
        ...(c?.lastState ? { lastState: c.lastState } : {}),
      };
    });
    const allReady = statuses.every((s) => s.ready);
    const terminated = statuses.every((s) => s.state.terminated !== undefined);
    const phase = terminated ? (statuses.every((s) => s.state.terminated!.exitCode === 0) ? "Succeeded" : "Failed") : statuses.some((s) => s.state.running || s.lastState) ? "Running" : "Pending";
    const cond = (type: PodCondition["type"], ok: boolean): PodCondition => {
      const prev = rec.pod.status?.conditions?.find((c) => c.type === type);
      const status = ok ? "True" : "False";
      return {
        type,
        status,
        lastProbeTime: null,
        lastTransitionTime: prev && prev.status === status ? (prev.lastTransitionTime ?? now) : now,
        ...(ok || type === "PodScheduled" ? {} : { reason: "ContainersNotReady", message: `containers with unready status: [${statuses.filter((s) => !s.ready).map((s) => s.name).join(" ")}]` }),
      };
    };
    await this.#status(rec.pod, {
      phase,
      conditions: [
        cond("PodReadyToStartContainers", true),
        cond("Initialized", true),
        cond("Ready", allReady),
        cond("ContainersReady", allReady),
        cond("PodScheduled", true),
      ],
      hostIP: this.options.nodeIP,
      hostIPs: [{ ip: this.options.nodeIP }],
      podIP: rec.ip,
      podIPs: [{ ip: rec.ip }],
      startTime: rec.pod.status?.startTime ?? now,
      containerStatuses: statuses,
      qosClass: "BestEffort",
    }, rec);
  }

  async #status(pod: Pod, status: NonNullable<Pod["status"]>, rec?: PodRecord): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fresh = await this.api.get<Pod>({ resource: "pods", namespace: pod.metadata.namespace ?? "default", name: pod.metadata.name ?? "" });
        if (rec) rec.pod = fresh;
        fresh.status = status;
        const saved = await this.api.updateStatus<Pod>("pods", fresh.metadata.namespace ?? "default", fresh);
        if (rec) rec.pod = saved;
        return;
      } catch (err) {
        if (err instanceof ApiError && err.reason === "Conflict") continue;
        return;
      }
    }
  }
}

function podKey(pod: Pod): string {
  return `${pod.metadata.namespace ?? "default"}/${pod.metadata.name ?? ""}`;
}
