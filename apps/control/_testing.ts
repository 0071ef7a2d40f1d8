/** Test helpers: a control plane on an emulated clock, nodes, and a stand-in kubelet. */
import type { Node, Pod } from "@kemu/api";
import { EventLoop, Rng } from "@kemu/kernel";
import { clone } from "./_meta.ts";
import { bootstrap } from "./bootstrap.ts";
import { type ControlPlaneOptions, startControlPlane } from "./control_plane.ts";
import { type ApiServerOptions, ApiServer } from "./server.ts";

/** Options of a test cluster. */
export interface TestClusterOptions {
  seed?: number;
  server?: ApiServerOptions;
  control?: ControlPlaneOptions;
  /** Start the control plane (default true). */
  controllers?: boolean;
  /** Run stand-in kubelets that post heartbeats and make bound pods Running and Ready (default true). */
  kubelets?: boolean;
}

/** Options of a test node. */
export interface TestNodeOptions {
  cpu?: string;
  memory?: string;
  pods?: string;
  labels?: Record<string, string>;
  ready?: boolean;
}

/** A control plane on an emulated clock, with helpers. */
export class TestCluster {
  readonly clock = new EventLoop();
  readonly server: ApiServer;
  /** Nodes whose kubelet has stopped. */
  readonly dead = new Set<string>();
  /** Pods the stand-in kubelet keeps not ready. */
  readonly notReady = new Set<string>();
  #ips = new Map<string, number>();
  #stops: Array<() => void> = [];

  constructor(options: TestClusterOptions = {}) {
    this.server = new ApiServer(this.clock, new Rng(options.seed ?? 1), options.server);
    bootstrap(this.server, { controlAddress: "192.168.56.10" });
    if (options.controllers ?? true) {
      const cp = startControlPlane(this.server, options.control);
      this.#stops.push(() => cp.stop());
    }
    if (options.kubelets ?? true) this.#startKubelets();
  }

  get api(): ApiServer["direct"] {
    return this.server.direct;
  }

  /** Runs the clock forward. */
  run(ms: number): void {
    this.clock.runUntil(this.clock.now() + ms);
  }

  /** Registers a Ready node. */
  addNode(name: string, options: TestNodeOptions = {}): Node {
    const t = this.server.timestamp();
    const resources = { cpu: options.cpu ?? "2", memory: options.memory ?? "4Gi", pods: options.pods ?? "110" };
    return this.api.create<Node>("nodes", "", {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name, labels: { "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", ...(options.labels ?? {}) } },
      spec: {},
      status: {
        capacity: resources,
        allocatable: resources,
        conditions: [
          {
            type: "Ready",
            status: options.ready === false ? "False" : "True",
            reason: options.ready === false ? "KubeletNotReady" : "KubeletReady",
            message: options.ready === false ? "container runtime network not ready" : "kubelet is posting ready status",
            lastHeartbeatTime: t,
            lastTransitionTime: t,
          },
        ],
        addresses: [{ type: "InternalIP", address: `192.168.56.${11 + this.server.store.list("nodes").length}` }, { type: "Hostname", address: name }],
      },
    });
  }

  /** Pods by node name. */
  podsPerNode(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const p of this.server.store.list("pods") as Pod[]) {
      if (p.metadata.deletionTimestamp !== undefined) continue;
      const n = p.spec.nodeName ?? "";
      out[n] = (out[n] ?? 0) + 1;
    }
    return out;
  }

  /** Stops everything. */
  stop(): void {
    for (const s of this.#stops) s();
  }

  #startKubelets(): void {
    const store = this.server.store;
    const beat = (): void => {
      for (const n of store.list("nodes") as Node[]) {
        const name = n.metadata.name ?? "";
        if (this.dead.has(name)) continue;
        const o = clone(n);
        const ready = o.status?.conditions?.find((c) => c.type === "Ready");
        if (ready === undefined) continue;
        ready.lastHeartbeatTime = this.server.timestamp();
        if (ready.status !== "True" && ready.reason !== "KubeletNotReady") {
          ready.status = "True";
          ready.reason = "KubeletReady";
          ready.message = "kubelet is posting ready status";
          ready.lastTransitionTime = this.server.timestamp();
        }
        this.api.updateStatus("nodes", "", o);
      }
      timer = this.clock.setTimer(10_000, beat);
    };
    let timer = this.clock.setTimer(10_000, beat);
    const pending = new Set<string>();
    const syncPods = (): void => {
      scheduled = false;
      for (const key of [...pending]) {
        pending.delete(key);
        const [ns, name] = key.split("/") as [string, string];
        const p = store.get("pods", ns, name) as Pod | undefined;
        if (p === undefined || !p.spec.nodeName || this.dead.has(p.spec.nodeName)) continue;
        if (p.metadata.deletionTimestamp !== undefined) {
          this.api.delete({ resource: "pods", namespace: ns, name }, { gracePeriodSeconds: 0 });
          continue;
        }
        const o = clone(p);
        const node = store.get("nodes", "", p.spec.nodeName) as Node | undefined;
        const status = (o.status ??= {});
        if (status.podIP === undefined && node?.spec.podCIDR) {
          const n = (this.#ips.get(p.spec.nodeName) ?? 1) + 1;
          this.#ips.set(p.spec.nodeName, n);
          const base = node.spec.podCIDR.split("/")[0]!.split(".").slice(0, 3).join(".");
          status.podIP = `${base}.${n}`;
          status.podIPs = [{ ip: status.podIP }];
        }
        status.phase = "Running";
        const ready = !this.notReady.has(key);
        const t = this.server.timestamp();
        const conds = (status.conditions ?? []).filter((c) => c.type === "PodScheduled");
        for (const type of ["Initialized", "Ready", "ContainersReady"] as const) {
          const prev = p.status?.conditions?.find((c) => c.type === type);
          const st = type === "Initialized" || ready ? "True" : "False";
          conds.push({ type, status: st, lastProbeTime: null, lastTransitionTime: prev?.status === st ? (prev.lastTransitionTime ?? t) : t });
        }
        status.conditions = conds;
        if (JSON.stringify(o.status) !== JSON.stringify(p.status)) this.api.updateStatus("pods", ns, o);
      }
    };
    let scheduled = false;
    const stopWatch = store.watch("pods", "", undefined, (e) => {
      if (e.type === "DELETED") return;
      pending.add(`${e.object.metadata.namespace}/${e.object.metadata.name}`);
      if (!scheduled) {
        scheduled = true;
        this.clock.setTimer(1, syncPods);
      }
    });
    this.#stops.push(() => {
      timer.cancel();
      stopWatch();
    });
  }

  /** Makes the stand-in kubelet re-report a pod (after changing `notReady`). */
  touch(namespace: string, name: string): void {
    const p = this.server.store.get("pods", namespace, name);
    if (p === undefined) return;
    const o = clone(p);
    o.metadata.annotations = { ...(o.metadata.annotations ?? {}), "test/touch": String(this.clock.now()) };
    this.api.update("pods", namespace, o);
  }
}
