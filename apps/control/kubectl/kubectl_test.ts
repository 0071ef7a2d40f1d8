import test from "ava";
import type { ContainerStatus } from "@kemu/api";
import { KubectlHarness } from "./_testing.ts";

function withPods(): KubectlHarness {
  const h = new KubectlHarness();
  const run = (name: string): ContainerStatus => ({ name, image: name, ready: true, restartCount: 0, state: { running: { startedAt: h.at(0) } } });
  h.pod("nginx", { node: "node1", status: { phase: "Running", containerStatuses: [run("nginx")] } });
  h.pod("two", { node: "node1", containers: ["busybox", "nginx"], status: { phase: "Running", containerStatuses: [run("busybox"), run("nginx")] } });
  h.pod("creating", {
    node: "node1",
    status: { phase: "Pending", containerStatuses: [{ name: "nginx", image: "nginx", ready: false, restartCount: 0, state: { waiting: { reason: "ContainerCreating" } } }] },
  });
  h.pod("done", { node: "node1", status: { phase: "Succeeded" } });
  h.pod("unscheduled", { status: { phase: "Pending" } });
  h.pod("ns-pod", { namespace: "kube-system", node: "node1", status: { phase: "Running", containerStatuses: [run("nginx")] } });
  return h;
}

test("an unknown command gets cobra's suggestion", async (t) => {
  const h = new KubectlHarness();
  t.deepEqual(await h.kubectl("gte pods"), { exit: 1, stdout: "", stderr: 'error: unknown command "gte" for "kubectl"\n\nDid you mean this?\n\tget\n' });
  t.deepEqual(await h.kubectl("frobnicate"), { exit: 1, stdout: "", stderr: 'error: unknown command "frobnicate" for "kubectl"\n' });
});

test("flags may come before or after the verb; unknown ones are pflag's errors", async (t) => {
  const h = withPods();
  const before = await h.kubectl("-n kube-system get pods -o name");
  const after = await h.kubectl("get pods --namespace=kube-system -o=name");
  t.is(before.stdout, "pod/ns-pod\n");
  t.deepEqual(after, before);
  t.deepEqual(await h.kubectl("get pods --foo"), { exit: 1, stdout: "", stderr: "error: unknown flag: --foo\nSee 'kubectl get --help' for usage.\n" });
  t.deepEqual(await h.kubectl("get pods -x"), { exit: 1, stdout: "", stderr: "error: unknown shorthand flag: 'x' in -x\nSee 'kubectl get --help' for usage.\n" });
  t.deepEqual(await h.kubectl("get pods -n"), { exit: 1, stdout: "", stderr: "error: flag needs an argument: 'n' in -n\nSee 'kubectl get --help' for usage.\n" });
  t.is((await h.kubectl("--kubeconfig /etc/kubernetes/admin.conf get pod nginx -o name")).stdout, "pod/nginx\n");
});

test("exec runs the command in the pod's container through the runtime and passes its exit status on", async (t) => {
  const h = withPods();
  const calls: string[] = [];
  h.exec = async (pod, container, argv, io) => {
    calls.push(`${pod.metadata.name}/${container}: ${argv.join(" ")} tty=${io.tty}`);
    io.stdout.write("hello\n");
    return argv[0] === "false" ? 1 : 0;
  };
  t.deepEqual(await h.kubectl("exec nginx -- echo hello"), { exit: 0, stdout: "hello\n", stderr: "" });
  t.deepEqual(await h.kubectl("exec -it two -c nginx -- sh"), { exit: 0, stdout: "hello\n", stderr: "" });
  t.deepEqual(await h.kubectl("exec two -- false"), {
    exit: 1,
    stdout: "hello\n",
    stderr: 'Defaulted container "busybox" out of: busybox, nginx\ncommand terminated with exit code 1\n',
  });
  t.deepEqual(calls, ["nginx/nginx: echo hello tty=false", "two/nginx: sh tty=true", "two/busybox: false tty=false"]);
});

test("exec errors are kubectl's and the kubelet's", async (t) => {
  const h = withPods();
  t.deepEqual(await h.kubectl("exec nginx -c nope -- ls"), { exit: 1, stdout: "", stderr: 'error: unable to upgrade connection: container not found ("nope")\n' });
  t.deepEqual(await h.kubectl("exec creating -- ls"), { exit: 1, stdout: "", stderr: 'error: unable to upgrade connection: container not found ("nginx")\n' });
  t.deepEqual(await h.kubectl("exec missing -- ls"), { exit: 1, stdout: "", stderr: 'Error from server (NotFound): pods "missing" not found\n' });
  t.deepEqual(await h.kubectl("exec nginx ls"), {
    exit: 1,
    stdout: "",
    stderr: "error: exec [POD] [COMMAND] is not supported anymore. Use exec [POD] -- [COMMAND] instead\nSee 'kubectl exec -h' for help and examples\n",
  });
  t.deepEqual(await h.kubectl("exec nginx"), { exit: 1, stdout: "", stderr: "error: you must specify at least one command for the container\n" });
  t.deepEqual(await h.kubectl("exec done -- ls"), { exit: 1, stdout: "", stderr: "error: cannot exec into a container in a completed pod; current phase is Succeeded\n" });
  t.deepEqual(await h.kubectl("exec unscheduled -- ls"), { exit: 1, stdout: "", stderr: "Error from server (BadRequest): pod unscheduled does not have a host assigned\n" });
});

test("logs prints the container's log, defaulting to the first container", async (t) => {
  const h = withPods();
  h.logs = async (pod, container, options) => `${pod.metadata.name}/${container} follow=${options.follow} tail=${options.tail ?? "all"}\n`;
  t.deepEqual(await h.kubectl("logs nginx"), { exit: 0, stdout: "nginx/nginx follow=false tail=all\n", stderr: "" });
  t.deepEqual(await h.kubectl("logs two --tail 5"), { exit: 0, stdout: "two/busybox follow=false tail=5\n", stderr: 'Defaulted container "busybox" out of: busybox, nginx\n' });
  t.deepEqual(await h.kubectl("logs -f two -c nginx"), { exit: 0, stdout: "two/nginx follow=true tail=all\n", stderr: "" });
  t.deepEqual(await h.kubectl("logs two nope"), { exit: 1, stdout: "", stderr: "error: container nope is not valid for pod two\n" });
  t.deepEqual(await h.kubectl("logs creating"), {
    exit: 1,
    stdout: "",
    stderr: 'Error from server (BadRequest): container "nginx" in pod "creating" is waiting to start: ContainerCreating\n',
  });
  t.deepEqual(await h.kubectl("logs missing"), { exit: 1, stdout: "", stderr: 'error: error from server (NotFound): pods "missing" not found in namespace "default"\n' });
});

test("version, cluster-info, api-resources and api-versions", async (t) => {
  const h = new KubectlHarness();
  t.is((await h.kubectl("version")).stdout, "Client Version: v1.30.1\nKustomize Version: v5.0.4-0.20230601165947-6ce0bf390ce3\nServer Version: v1.30.1\n");
  t.is(
    (await h.kubectl("cluster-info")).stdout,
    "\x1b[0;32mKubernetes control plane\x1b[0m is running at \x1b[0;33mhttps://192.168.56.10:6443\x1b[0m\n\nTo further debug and diagnose cluster problems, use 'kubectl cluster-info dump'.\n",
  );
  const res = (await h.kubectl("api-resources")).stdout.split("\n");
  t.is(res[0], "NAME             SHORTNAMES   APIVERSION             NAMESPACED   KIND");
  t.true(res.includes("pods             po           v1                     true         Pod"));
  t.true(res.includes("deployments      deploy       apps/v1                true         Deployment"));
  t.true(res.includes("ingresses        ing          networking.k8s.io/v1   true         Ingress"));
  t.true(res.includes("ingressclasses                networking.k8s.io/v1   false        IngressClass"));
  t.is((await h.kubectl("api-versions")).stdout, "apps/v1\ndiscovery.k8s.io/v1\nnetworking.k8s.io/v1\nv1\n");
});

test("kubectl alone prints its help", async (t) => {
  const h = new KubectlHarness();
  const r = await h.kubectl([]);
  t.is(r.exit, 0);
  t.true(r.stdout.startsWith("kubectl controls the Kubernetes cluster manager.\n"));
  t.regex((await h.kubectl("get -h")).stdout, /Usage:\n  kubectl get /);
});
