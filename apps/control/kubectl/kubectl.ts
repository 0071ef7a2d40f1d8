/**
 * kubectl as a userland command of the `control` host: finds the verb the
 * way cobra does (global flags may come first), parses flags the way pflag
 * does, runs the subcommand against the API and reports errors the way
 * kubectl's CheckErr does.
 */
import { type ApiClient, type KubeObject, RESOURCES, apiVersionOf } from "@kemu/api";
import type { Command, ProcessContext } from "@kemu/node";
import { type Env, type PodExec, type PodLogs, kindPrefix, listObjects, mustResource } from "./_env.ts";
import { TABLE_TABS, alignTabs } from "./_tabwriter.ts";
import { runApply, runCreate, runDelete, runLabel, runRun, runScale } from "./apply.ts";
import { runDescribe } from "./describe.ts";
import { CmdError, reportError } from "./errors.ts";
import { runExec, runLogs } from "./exec.ts";
import { FlagError, type FlagSpec, Flags, GLOBAL_FLAGS, findVerb, parseFlags } from "./flags.ts";
import { runGet } from "./get.ts";
import { runRollout, runWait } from "./wait.ts";
import { toYaml } from "./yaml_out.ts";

export type { PodExec, PodLogs } from "./_env.ts";

/** The client and server version kemu's kubectl reports. */
export const KUBECTL_VERSION = "v1.30.1";

/** How kubectl is wired into a host. */
export interface KubectlOptions {
  /** The API server to talk to (called once per invocation). */
  api: () => ApiClient;
  /** Runs commands in pod containers (kubectl exec). */
  exec?: PodExec;
  /** Reads container logs (kubectl logs). */
  logs?: PodLogs;
  /** The API server URL cluster-info prints (default `https://127.0.0.1:6443`). */
  server?: string;
}

type Runner = (env: Env) => Promise<number | void>;

interface CommandDef {
  flags: FlagSpec[];
  run: Runner;
  usage: string;
  short: string;
}

const b = (long: string, short?: string): FlagSpec => ({ long, kind: "bool", ...(short ? { short } : {}) });
const s = (long: string, short?: string): FlagSpec => ({ long, kind: "string", ...(short ? { short } : {}) });
const a = (long: string, short?: string): FlagSpec => ({ long, kind: "array", ...(short ? { short } : {}) });
const i = (long: string, short?: string): FlagSpec => ({ long, kind: "int", ...(short ? { short } : {}) });

const FILES = [a("filename", "f"), b("recursive", "R"), s("kustomize", "k")];
const OUTPUT = [s("output", "o"), b("show-managed-fields"), s("template"), b("allow-missing-template-keys")];

const COMMANDS: Record<string, CommandDef> = {
  get: {
    flags: [...FILES, ...OUTPUT, b("all-namespaces", "A"), s("selector", "l"), s("field-selector"), b("watch", "w"), b("watch-only"), b("show-labels"), b("no-headers"), a("label-columns", "L"), s("sort-by"), b("ignore-not-found"), b("show-kind"), i("chunk-size"), b("output-watch-events"), s("subresource"), s("raw")],
    run: runGet,
    usage: "kubectl get [(-o|--output=)json|yaml|name|go-template|go-template-file|template|templatefile|jsonpath|jsonpath-as-json|jsonpath-file|custom-columns|custom-columns-file|wide] (TYPE[.VERSION][.GROUP] [NAME | -l label] | TYPE[.VERSION][.GROUP]/NAME ...) [flags] [options]",
    short: "Display one or many resources",
  },
  describe: {
    flags: [...FILES, b("all-namespaces", "A"), s("selector", "l"), b("show-events"), i("chunk-size")],
    run: runDescribe,
    usage: "kubectl describe (-f FILENAME | TYPE [NAME_PREFIX | -l label] | TYPE/NAME) [options]",
    short: "Show details of a specific resource or group of resources",
  },
  apply: {
    flags: [...FILES, ...OUTPUT, s("selector", "l"), b("all"), b("overwrite"), b("prune"), b("server-side"), b("force-conflicts"), s("field-manager"), s("validate"), s("dry-run"), b("force"), i("grace-period"), b("wait"), s("timeout"), b("record"), s("cascade")],
    run: runApply,
    usage: "kubectl apply (-f FILENAME | -k DIRECTORY) [options]",
    short: "Apply a configuration to a resource by file name or stdin",
  },
  create: {
    flags: [...FILES, ...OUTPUT, b("save-config"), s("validate"), s("dry-run"), b("edit"), b("record"), s("image"), i("replicas", "r"), i("port"), a("from-literal"), s("field-manager")],
    run: runCreateCommand,
    usage: "kubectl create -f FILENAME [options]",
    short: "Create a resource from a file or from stdin",
  },
  delete: {
    flags: [...FILES, s("output", "o"), s("selector", "l"), s("field-selector"), b("all"), b("all-namespaces", "A"), b("ignore-not-found"), b("now"), b("force"), i("grace-period"), b("wait"), s("timeout"), s("cascade"), s("dry-run"), b("interactive", "i"), s("raw")],
    run: runDeleteCommand,
    usage: "kubectl delete ([-f FILENAME] | [-k DIRECTORY] | TYPE [(NAME | -l label | --all)]) [options]",
    short: "Delete resources by file names, stdin, resources and names, or by resources and label selector",
  },
  exec: {
    flags: [a("filename", "f"), s("container", "c"), b("stdin", "i"), b("tty", "t"), b("quiet", "q"), s("pod-running-timeout")],
    run: runExec,
    usage: "kubectl exec (POD | TYPE/NAME) [-c CONTAINER] [flags] -- COMMAND [args...] [options]",
    short: "Execute a command in a container",
  },
  logs: {
    flags: [s("container", "c"), b("follow", "f"), i("tail"), s("selector", "l"), b("all-containers"), b("previous", "p"), b("prefix"), b("timestamps"), s("since"), s("since-time"), i("limit-bytes"), i("max-log-requests"), b("ignore-errors"), s("pod-running-timeout")],
    run: runLogs,
    usage: "kubectl logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER] [options]",
    short: "Print the logs for a container in a pod",
  },
  scale: {
    flags: [...FILES, s("output", "o"), i("replicas"), i("current-replicas"), s("selector", "l"), b("all"), b("all-namespaces", "A"), s("resource-version"), s("timeout"), s("dry-run")],
    run: runScale,
    usage: "kubectl scale [--resource-version=version] [--current-replicas=count] --replicas=COUNT (-f FILENAME | TYPE NAME) [options]",
    short: "Set a new size for a deployment, replica set, or replication controller",
  },
  wait: {
    flags: [...FILES, s("output", "o"), s("for"), s("timeout"), s("selector", "l"), s("field-selector"), b("all"), b("all-namespaces", "A"), b("local")],
    run: runWait,
    usage: "kubectl wait ([-f FILENAME] | resource.group/resource.name | resource.group [(-l label | --all)]) [--for=delete|--for condition=available|--for=jsonpath='{}'[=value]] [options]",
    short: "Experimental: Wait for a specific condition on one or many resources",
  },
  rollout: {
    flags: [...FILES, b("watch", "w"), s("timeout"), i("revision"), s("selector", "l")],
    run: runRollout,
    usage: "kubectl rollout SUBCOMMAND [options]",
    short: "Manage the rollout of a resource",
  },
  version: {
    flags: [b("client"), s("output", "o"), b("short")],
    run: runVersion,
    usage: "kubectl version [flags] [options]",
    short: "Print the client and server version information",
  },
  "cluster-info": {
    flags: [],
    run: runClusterInfo,
    usage: "kubectl cluster-info [flags] [options]",
    short: "Display cluster information",
  },
  "api-resources": {
    flags: [s("output", "o"), b("namespaced"), s("api-group"), b("no-headers"), s("sort-by"), a("verbs"), a("categories"), b("cached")],
    run: runApiResources,
    usage: "kubectl api-resources [flags] [options]",
    short: "Print the supported API resources on the server",
  },
  "api-versions": {
    flags: [],
    run: runApiVersions,
    usage: "kubectl api-versions [flags] [options]",
    short: 'Print the supported API versions on the server, in the form of "group/version"',
  },
  run: {
    flags: [s("image"), i("port"), a("env"), s("labels", "l"), s("restart"), b("command"), b("stdin", "i"), b("tty", "t"), b("rm"), s("dry-run"), s("output", "o"), b("attach"), s("image-pull-policy"), s("overrides")],
    run: runRun,
    usage: "kubectl run NAME --image=image [--env=\"key=value\"] [--port=port] [--dry-run=server|client] [--overrides=inline-json] [--command] -- [COMMAND] [args...] [options]",
    short: "Run a particular image on the cluster",
  },
  label: {
    flags: [...FILES, s("output", "o"), b("overwrite"), s("selector", "l"), b("all"), b("all-namespaces", "A"), b("list"), s("resource-version"), s("field-selector"), s("dry-run")],
    run: (env) => runLabel(env, "labels"),
    usage: "kubectl label [--overwrite] (-f FILENAME | TYPE NAME) KEY_1=VAL_1 ... KEY_N=VAL_N [--resource-version=version] [options]",
    short: "Update the labels on a resource",
  },
  annotate: {
    flags: [...FILES, s("output", "o"), b("overwrite"), s("selector", "l"), b("all"), b("all-namespaces", "A"), b("list"), s("resource-version"), s("field-selector"), s("dry-run")],
    run: (env) => runLabel(env, "annotations"),
    usage: "kubectl annotate [--overwrite] (-f FILENAME | TYPE NAME) KEY_1=VAL_1 ... KEY_N=VAL_N [--resource-version=version] [options]",
    short: "Update the annotations on a resource",
  },
};

/** Every command real kubectl has (for "Did you mean this?" and for naming the ones kemu leaves out). */
const KUBECTL_COMMANDS = [
  "annotate", "api-resources", "api-versions", "apply", "attach", "auth", "autoscale", "certificate", "cluster-info",
  "completion", "config", "cordon", "cp", "create", "debug", "delete", "describe", "diff", "drain", "edit", "events",
  "exec", "explain", "expose", "get", "help", "kustomize", "label", "logs", "options", "patch", "plugin",
  "port-forward", "proxy", "replace", "rollout", "run", "scale", "set", "taint", "top", "uncordon", "version", "wait",
];

const ROOT_HELP = `kubectl controls the Kubernetes cluster manager.

 Find more information at: https://kubernetes.io/docs/reference/kubectl/

Basic Commands (Beginner):
  create          Create a resource from a file or from stdin
  expose          Take a replication controller, service, deployment or pod and expose it as a new Kubernetes service
  run             Run a particular image on the cluster
  set             Set specific features on objects

Basic Commands (Intermediate):
  explain         Get documentation for a resource
  get             Display one or many resources
  edit            Edit a resource on the server
  delete          Delete resources by file names, stdin, resources and names, or by resources and label selector

Deploy Commands:
  rollout         Manage the rollout of a resource
  scale           Set a new size for a deployment, replica set, or replication controller
  autoscale       Auto-scale a deployment, replica set, stateful set, or replication controller

Cluster Management Commands:
  certificate     Modify certificate resources
  cluster-info    Display cluster information
  top             Display resource (CPU/memory) usage
  cordon          Mark node as unschedulable
  uncordon        Mark node as schedulable
  drain           Drain node in preparation for maintenance
  taint           Update the taints on one or more nodes

Troubleshooting and Debugging Commands:
  describe        Show details of a specific resource or group of resources
  logs            Print the logs for a container in a pod
  attach          Attach to a running container
  exec            Execute a command in a container
  port-forward    Forward one or more local ports to a pod
  proxy           Run a proxy to the Kubernetes API server
  cp              Copy files and directories to and from containers
  auth            Inspect authorization
  debug           Create debugging sessions for troubleshooting workloads and nodes
  events          List events

Advanced Commands:
  diff            Diff the live version against a would-be applied version
  apply           Apply a configuration to a resource by file name or stdin
  patch           Update fields of a resource
  replace         Replace a resource by file name or stdin
  wait            Experimental: Wait for a specific condition on one or many resources
  kustomize       Build a kustomization target from a directory or URL

Settings Commands:
  label           Update the labels on a resource
  annotate        Update the annotations on a resource
  completion      Output shell completion code for the specified shell (bash, zsh, fish, or powershell)

Subcommands provided by plugins:

Other Commands:
  api-resources   Print the supported API resources on the server
  api-versions    Print the supported API versions on the server, in the form of "group/version"
  config          Modify kubeconfig files
  plugin          Provides utilities for interacting with plugins
  version         Print the client and server version information

Usage:
  kubectl [flags] [options]

Use "kubectl <command> --help" for more information about a given command.
Use "kubectl options" for a list of global command-line options (applies to all commands).
`;

/**
 * The kubectl command, talking to `options.api()`; exec and logs go through
 * the runtime's hooks.
 *
 * ```ts
 * host.commands.set("kubectl", makeKubectl({ api: () => server }));
 * ```
 */
export function makeKubectl(options: KubectlOptions): Command {
  return async (ctx: ProcessContext): Promise<number> => {
    const argv = ctx.argv.slice(1);
    const { verb, index } = findVerb(argv);
    if (verb === undefined) {
      try {
        const flags = parseFlags(argv, GLOBAL_FLAGS);
        void flags;
      } catch (err) {
        return fail(ctx, err instanceof FlagError ? new CmdError(`${err.message}\nSee 'kubectl --help' for usage.`) : err);
      }
      ctx.stdout.write(ROOT_HELP);
      return 0;
    }
    const def = COMMANDS[verb];
    if (def === undefined) {
      if (KUBECTL_COMMANDS.includes(verb)) return fail(ctx, new CmdError(`kemu: "kubectl ${verb}" is not part of kemu's kubectl`));
      return fail(ctx, new CmdError(`unknown command "${verb}" for "kubectl"${suggestions(verb)}`));
    }
    const rest = [...argv.slice(0, index), ...argv.slice(index + 1)];
    let flags: Flags;
    try {
      flags = parseFlags(rest, [...def.flags, ...GLOBAL_FLAGS.filter((g) => !def.flags.some((d) => d.long === g.long || (d.short && d.short === g.short)))]);
    } catch (err) {
      if (err instanceof FlagError) return fail(ctx, new CmdError(`${err.message}\nSee 'kubectl ${verb} --help' for usage.`));
      return fail(ctx, err);
    }
    if (flags.bool("help")) {
      ctx.stdout.write(`${def.short}.\n\nUsage:\n  ${def.usage}\n\nUse "kubectl options" for a list of global command-line options (applies to all commands).\n`);
      return 0;
    }
    const split = new Map(flags.values);
    if (flags.has("filename")) split.set("filename", flags.array("filename").flatMap((f) => f.split(",")).filter((f) => f !== ""));
    flags = new Flags(split, flags.args, flags.dashAt);
    const env: Env = {
      ctx,
      api: options.api(),
      namespace: flags.string("namespace") || "default",
      explicitNamespace: flags.string("namespace") !== "",
      flags,
      exec: options.exec,
      logs: options.logs,
      server: options.server ?? "https://127.0.0.1:6443",
      now: () => ctx.clock.now(),
      out: (t) => ctx.stdout.write(t),
      err: (t) => ctx.stderr.write(t),
    };
    try {
      const code = await def.run(env);
      return typeof code === "number" ? code : 0;
    } catch (err) {
      return fail(ctx, err);
    }
  };
}

function fail(ctx: ProcessContext, err: unknown): number {
  const { text, code } = reportError(err);
  if (text !== "") ctx.stderr.write(text.endsWith("\n") ? text : `${text}\n`);
  return code;
}

/** cobra's "Did you mean this?" block for an unknown command. */
function suggestions(typed: string): string {
  const found = KUBECTL_COMMANDS.filter((c) => levenshtein(typed.toLowerCase(), c.toLowerCase()) <= 2 || c.toLowerCase().startsWith(typed.toLowerCase()));
  if (found.length === 0) return "";
  return `\n\nDid you mean this?\n${found.map((c) => `\t${c}\n`).join("")}`;
}

function levenshtein(x: string, y: string): number {
  const d: number[][] = [];
  for (let p = 0; p <= x.length; p++) d.push([p]);
  for (let q = 0; q <= y.length; q++) d[0]![q] = q;
  for (let p = 1; p <= x.length; p++) {
    for (let q = 1; q <= y.length; q++) {
      const cost = x[p - 1] === y[q - 1] ? 0 : 1;
      d[p]![q] = Math.min(d[p - 1]![q]! + 1, d[p]![q - 1]! + 1, d[p - 1]![q - 1]! + cost);
    }
  }
  return d[x.length]![y.length]!;
}

async function runCreateCommand(env: Env): Promise<void> {
  const [sub, name, ...more] = env.flags.args;
  if (env.flags.array("filename").length > 0 || sub === undefined) return runCreate(env);
  if (name === undefined) throw new CmdError(`exactly one NAME is required, got 0\nSee 'kubectl create ${sub} -h' for help and examples`);
  if (more.length > 0) throw new CmdError(`exactly one NAME is required, got ${more.length + 1}\nSee 'kubectl create ${sub} -h' for help and examples`);
  let obj: KubeObject;
  let resource = sub;
  switch (sub) {
    case "namespace":
    case "ns":
      resource = "namespaces";
      obj = { apiVersion: "v1", kind: "Namespace", metadata: { name }, spec: {}, status: {} };
      break;
    case "deployment":
    case "deploy": {
      resource = "deployments";
      const image = env.flags.string("image");
      if (image === "") throw new CmdError("required flag(s) \"image\" not set");
      const base = image.replace(/[@:].*$/, "").replace(/^.*\//, "");
      const container: Record<string, unknown> = { name: base, image, resources: {} };
      const port = env.flags.int("port");
      if (port !== undefined) container["ports"] = [{ containerPort: port }];
      obj = {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name, labels: { app: name } },
        spec: {
          replicas: env.flags.int("replicas") ?? 1,
          selector: { matchLabels: { app: name } },
          strategy: {},
          template: { metadata: { labels: { app: name } }, spec: { containers: [container] } },
        },
        status: {},
      };
      break;
    }
    case "configmap":
    case "cm": {
      resource = "configmaps";
      const data: Record<string, string> = {};
      for (const kv of env.flags.array("from-literal")) {
        const eq = kv.indexOf("=");
        if (eq <= 0) throw new CmdError(`invalid literal source ${kv}, expected key=value`);
        data[kv.slice(0, eq)] = kv.slice(eq + 1);
      }
      obj = { apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data };
      break;
    }
    default:
      throw new CmdError(`kemu: "kubectl create ${sub}" is not supported; use create -f, create namespace, create deployment or create configmap`);
  }
  const r = mustResource(resource);
  const created = await env.api.create(r.plural, r.namespaced ? env.namespace : "", obj, { fieldValidation: "Strict" });
  env.out(`${kindPrefix(r)}/${created.metadata?.name ?? name} created\n`);
}

async function runDeleteCommand(env: Env): Promise<void> {
  if (env.flags.bool("now") && !env.flags.has("grace-period")) {
    const values = new Map(env.flags.values);
    values.set("grace-period", 1);
    return runDelete({ ...env, flags: new Flags(values, env.flags.args, env.flags.dashAt) });
  }
  return runDelete(env);
}

async function runVersion(env: Env): Promise<void> {
  const client = versionInfo();
  const out = env.flags.string("output");
  const clientOnly = env.flags.bool("client");
  const info: Record<string, unknown> = { clientVersion: client, kustomizeVersion: "v5.0.4-0.20230601165947-6ce0bf390ce3" };
  if (!clientOnly) info["serverVersion"] = versionInfo();
  if (out === "json") env.out(`${JSON.stringify(info, null, 2)}\n`);
  else if (out === "yaml") env.out(`${toYaml(info)}\n`);
  else if (out !== "") throw new CmdError(`--output must be 'yaml' or 'json'`);
  else {
    env.out(`Client Version: ${KUBECTL_VERSION}\nKustomize Version: v5.0.4-0.20230601165947-6ce0bf390ce3\n`);
    if (!clientOnly) env.out(`Server Version: ${KUBECTL_VERSION}\n`);
  }
}

function versionInfo(): Record<string, string> {
  return {
    major: "1",
    minor: "30",
    gitVersion: KUBECTL_VERSION,
    gitCommit: "6911225c3f747e1cd9d109c305436d08b668f086",
    gitTreeState: "clean",
    buildDate: "2024-05-14T10:42:02Z",
    goVersion: "go1.22.2",
    compiler: "gc",
    platform: "linux/amd64",
  };
}

async function runClusterInfo(env: Env): Promise<void> {
  if (env.flags.args[0] === "dump") throw new CmdError('kemu: "kubectl cluster-info dump" is not supported');
  const server = env.server;
  const green = (t: string) => `\x1b[0;32m${t}\x1b[0m`;
  const yellow = (t: string) => `\x1b[0;33m${t}\x1b[0m`;
  const ns = env.explicitNamespace ? env.namespace : "kube-system";
  env.out(`${green("Kubernetes control plane")} is running at ${yellow(server)}\n`);
  const services = await listObjects(env, mustResource("services"), ns, { labelSelector: "kubernetes.io/cluster-service=true" });
  for (const svc of services) {
    const spec = (svc.spec ?? {}) as { ports?: Array<{ name?: string; port: number }> };
    let name = svc.metadata.name ?? "";
    const port = spec.ports?.[0];
    if (port !== undefined) {
      const scheme = port.name === "https" || port.port === 443 ? "https" : "";
      const portName = port.name ?? "";
      name = scheme !== "" ? `${scheme}:${name}:${portName}` : portName !== "" ? `${name}:${portName}` : name;
    }
    const shown = svc.metadata.labels?.["kubernetes.io/name"] || svc.metadata.name || "";
    env.out(`${green(shown)} is running at ${yellow(`${server}/api/v1/namespaces/${svc.metadata.namespace ?? ns}/services/${name}/proxy`)}\n`);
  }
  env.out("\nTo further debug and diagnose cluster problems, use 'kubectl cluster-info dump'.\n");
}

async function runApiResources(env: Env): Promise<void> {
  const out = env.flags.string("output");
  const wide = out === "wide";
  const categories: Record<string, string> = { Pod: "all", Service: "all", Deployment: "all", ReplicaSet: "all" };
  let list = [...RESOURCES];
  if (env.flags.has("namespaced")) list = list.filter((r) => r.namespaced === env.flags.bool("namespaced"));
  if (env.flags.has("api-group")) list = list.filter((r) => r.group === env.flags.string("api-group"));
  list.sort((x, y) => (x.group < y.group ? -1 : x.group > y.group ? 1 : x.plural < y.plural ? -1 : x.plural > y.plural ? 1 : 0));
  if (out === "name") {
    env.out(list.map((r) => `${r.plural}${r.group ? `.${r.group}` : ""}\n`).join(""));
    return;
  }
  let text = env.flags.bool("no-headers") ? "" : `NAME\tSHORTNAMES\tAPIVERSION\tNAMESPACED\tKIND${wide ? "\tVERBS\tCATEGORIES" : ""}\n`;
  for (const r of list) {
    text += `${r.plural}\t${r.shortNames.join(",")}\t${apiVersionOf(r)}\t${r.namespaced}\t${r.kind}`;
    if (wide) text += `\tcreate,delete,deletecollection,get,list,patch,update,watch\t${categories[r.kind] ?? ""}`;
    text += "\n";
  }
  env.out(alignTabs(text, TABLE_TABS));
}

async function runApiVersions(env: Env): Promise<void> {
  const versions = [...new Set(RESOURCES.map(apiVersionOf))].sort();
  env.out(versions.map((v) => `${v}\n`).join(""));
}
