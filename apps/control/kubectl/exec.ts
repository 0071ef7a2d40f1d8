/**
 * `kubectl exec` and `kubectl logs`: find the pod (or a workload's first
 * pod) and the container the way kubectl does, then hand over to the
 * runtime's PodExec / PodLogs hooks, with kubectl's and the kubelet's errors.
 */
import type { Deployment, Pod, ReplicaSet } from "@kemu/api";
import { type Env, getObject, isNotFound, listObjects, mustResource } from "./_env.ts";
import { CmdError, ExitCodeError, statusError } from "./errors.ts";
import { matches, selectorRequirements } from "./selector.ts";

/** The container names of a pod as kubectl lists them: `a, b, init (init)`. */
function allContainerNames(pod: Pod): string {
  return [
    ...(pod.spec?.containers ?? []).map((c) => c.name),
    ...((pod.spec?.["ephemeralContainers"] ?? []) as Array<{ name: string }>).map((c) => `${c.name} (ephem)`),
    ...(pod.spec?.initContainers ?? []).map((c) => `${c.name} (init)`),
  ].join(", ");
}

/** The pod an argument names: `nginx`, `pod/nginx`, or a workload (`deploy/web`) whose first pod is used. */
async function podFor(env: Env, arg: string): Promise<Pod> {
  if (!arg.includes("/")) return (await getObject(env, mustResource("pods"), env.namespace, arg)) as Pod;
  const [type, name] = arg.split("/", 2) as [string, string];
  const r = mustResource(type);
  const obj = await getObject(env, r, r.namespaced ? env.namespace : "", name);
  if (r.kind === "Pod") return obj as Pod;
  if (r.kind !== "Deployment" && r.kind !== "ReplicaSet") throw new CmdError(`cannot attach to ${r.kind}: not implemented`);
  const sel = (obj as Deployment | ReplicaSet).spec?.selector;
  const reqs = selectorRequirements(sel);
  const pods = ((await listObjects(env, mustResource("pods"), env.namespace)) as Pod[]).filter((p) => matches(reqs, p.metadata.labels));
  const active = pods.sort(rankPods);
  if (active.length === 0) throw new CmdError(`pods not found`);
  return active[0]!;
}

/** kubectl's ActivePods ordering: running and ready pods first, then the older. */
function rankPods(a: Pod, b: Pod): number {
  const score = (p: Pod) =>
    (p.spec?.nodeName ? 0 : 4) + (p.status?.phase === "Running" ? 0 : 2) + ((p.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True") ? 0 : 1);
  const d = score(a) - score(b);
  if (d !== 0) return d;
  return (a.metadata.creationTimestamp ?? "") < (b.metadata.creationTimestamp ?? "") ? -1 : 1;
}

/** Runs `kubectl exec`. */
export async function runExec(env: Env): Promise<number> {
  const f = env.flags;
  const args = f.args;
  const dash = f.dashAt;
  let podArg: string | undefined;
  let command: string[] = [];
  if (args.length > 0 && dash !== 0) podArg = args[0];
  if (dash === 0 || dash === 1) command = args.slice(dash);
  else if (args.length > 1 || (args.length > 0 && f.array("filename").length > 0)) {
    throw new CmdError("exec [POD] [COMMAND] is not supported anymore. Use exec [POD] -- [COMMAND] instead\nSee 'kubectl exec -h' for help and examples");
  }
  if (podArg === undefined && f.array("filename").length === 0) throw new CmdError("pod, type/name or --filename must be specified");
  if (command.length === 0) throw new CmdError("you must specify at least one command for the container");
  const pod = await podFor(env, podArg!);
  const phase = pod.status?.phase;
  if (phase === "Succeeded" || phase === "Failed") {
    throw new CmdError(`cannot exec into a container in a completed pod; current phase is ${phase}`);
  }
  let container = f.string("container");
  if (container === "") {
    const def = pod.metadata.annotations?.["kubectl.kubernetes.io/default-container"];
    const containers = pod.spec?.containers ?? [];
    if (containers.length === 0) throw new CmdError(`pod ${pod.metadata.namespace}/${pod.metadata.name} does not have any containers`);
    if (def !== undefined && containers.some((c) => c.name === def)) container = def;
    else {
      container = containers[0]!.name;
      if (!f.bool("quiet") && (containers.length > 1 || (pod.spec?.initContainers ?? []).length > 0)) {
        env.err(`Defaulted container "${container}" out of: ${allContainerNames(pod)}\n`);
      }
    }
  }
  if (!pod.spec?.nodeName) throw statusError("BadRequest", 400, `pod ${pod.metadata.name ?? ""} does not have a host assigned`);
  const status = [...(pod.status?.containerStatuses ?? []), ...((pod.status?.["initContainerStatuses"] ?? []) as NonNullable<Pod["status"]>["containerStatuses"] & object)].find(
    (s) => s.name === container,
  );
  const inSpec = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].some((c) => c.name === container);
  // a kubelet that reports no container statuses yet leaves it to the runtime once the pod runs
  const runs = status !== undefined ? status.state?.running !== undefined : inSpec && phase === "Running";
  if (!runs) throw new CmdError(`unable to upgrade connection: container not found ("${container}")`);
  const stdinWanted = f.bool("stdin");
  let tty = f.bool("tty");
  if (tty && !stdinWanted) tty = false;
  if (env.exec === undefined) throw new CmdError("unable to upgrade connection: kemu has no exec runtime wired to kubectl");
  const code = await env.exec(pod, container, command, {
    stdin: stdinWanted ? env.ctx.stdin : { readLine: () => Promise.resolve(undefined), readAll: () => Promise.resolve("") },
    stdout: env.ctx.stdout,
    stderr: env.ctx.stderr,
    tty,
  });
  if (code !== 0) throw new ExitCodeError(code);
  return 0;
}

/** Runs `kubectl logs`. */
export async function runLogs(env: Env): Promise<void> {
  const f = env.flags;
  const args = f.args;
  const selector = f.string("selector");
  const usage = "expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\nPOD or TYPE/NAME is a required argument for the logs command\nSee 'kubectl logs -h' for help and examples";
  let container = f.string("container");
  if (args.length === 0 && selector === "") throw new CmdError(usage);
  if (args.length === 1 && selector !== "") throw new CmdError("only a selector (-l) or a POD name is allowed\nSee 'kubectl logs -h' for help and examples");
  if (args.length === 2) {
    if (container !== "") throw new CmdError("only one of -c or an inline [CONTAINER] arg is allowed");
    container = args[1]!;
  }
  if (args.length > 2) throw new CmdError(usage);
  if (f.bool("all-containers") && container !== "") {
    throw new CmdError(`--all-containers=true should not be specified with container name ${container}`);
  }
  let pods: Pod[];
  if (selector !== "") {
    pods = (await listObjects(env, mustResource("pods"), env.namespace, { labelSelector: selector })) as Pod[];
    if (pods.length === 0) {
      env.err(`No resources found in ${env.namespace} namespace.\n`);
      return;
    }
  } else {
    try {
      pods = [await podFor(env, args[0]!)];
    } catch (err) {
      if (isNotFound(err)) throw new CmdError(`error from server (NotFound): ${(err as Error).message} in namespace "${env.namespace}"`);
      throw err;
    }
  }
  const tail = f.int("tail") ?? (selector !== "" ? 10 : -1);
  for (const pod of pods) {
    const names = f.bool("all-containers")
      ? [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c) => c.name)
      : [await pickLogContainer(env, pod, container)];
    for (const name of names) {
      const text = await containerLogs(env, pod, name, { follow: f.bool("follow"), ...(tail >= 0 ? { tail } : {}) });
      const prefix = f.bool("prefix") || (selector !== "" && f.bool("prefix", false)) ? `[pod/${pod.metadata.name ?? ""}/${name}] ` : "";
      env.out(prefix === "" ? text : text.replace(/^(?=.)/gm, prefix));
    }
  }
}

async function pickLogContainer(env: Env, pod: Pod, container: string): Promise<string> {
  if (container !== "") {
    const all = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
    if (!all.some((c) => c.name === container)) throw new CmdError(`container ${container} is not valid for pod ${pod.metadata.name ?? ""}`);
    return container;
  }
  const def = pod.metadata.annotations?.["kubectl.kubernetes.io/default-container"];
  const containers = pod.spec?.containers ?? [];
  if (def) {
    if (containers.some((c) => c.name === def)) return def;
    env.err(`Default container name "${def}" not found in pod ${pod.metadata.name ?? ""}\n`);
  }
  const first = containers[0]?.name ?? "";
  if (containers.length > 1 || (pod.spec?.initContainers ?? []).length > 0) env.err(`Defaulted container "${first}" out of: ${allContainerNames(pod)}\n`);
  return first;
}

async function containerLogs(env: Env, pod: Pod, container: string, options: { follow: boolean; tail?: number }): Promise<string> {
  const statuses = [...(pod.status?.containerStatuses ?? []), ...((pod.status?.["initContainerStatuses"] ?? []) as NonNullable<NonNullable<Pod["status"]>["containerStatuses"]>)];
  const st = statuses.find((s) => s.name === container);
  const started =
    st !== undefined
      ? st.state?.running !== undefined || st.state?.terminated !== undefined || st.lastState?.terminated !== undefined
      : ["Running", "Succeeded", "Failed"].includes(pod.status?.phase ?? "");
  if (!started) {
    const reason = st?.state?.waiting?.reason ?? "ContainerCreating";
    throw statusError("BadRequest", 400, `container "${container}" in pod "${pod.metadata.name ?? ""}" is waiting to start: ${reason}`);
  }
  if (env.logs === undefined) throw new CmdError("kemu has no log runtime wired to kubectl");
  return env.logs(pod, container, options);
}
