import test from "ava";
import type { ContainerStatus, Pod } from "@kemu/api";
import { KubectlHarness } from "./_testing.ts";

const running = (h: KubectlHarness, name: string, at: number, extra: Partial<ContainerStatus> = {}): ContainerStatus => ({
  name,
  image: name,
  ready: true,
  restartCount: 0,
  started: true,
  state: { running: { startedAt: h.at(at) } },
  ...extra,
});

/** Pods in every state the STATUS column shows, created at 10 s; the clock at 70 s. */
function podsCluster(): KubectlHarness {
  const h = new KubectlHarness();
  h.advance(10_000);
  h.pod("running", {
    node: "node1",
    labels: { app: "web" },
    status: { phase: "Running", hostIP: "192.168.56.11", podIP: "10.244.1.2", podIPs: [{ ip: "10.244.1.2" }], containerStatuses: [running(h, "running", 11_000)] },
  });
  h.pod("pending", { labels: { app: "web" }, status: { phase: "Pending" } });
  h.pod("creating", {
    node: "node1",
    status: { phase: "Pending", containerStatuses: [{ name: "creating", image: "creating", ready: false, restartCount: 0, state: { waiting: { reason: "ContainerCreating" } } }] },
  });
  h.pod("crash", {
    node: "node1",
    status: {
      phase: "Running",
      podIP: "10.244.1.4",
      podIPs: [{ ip: "10.244.1.4" }],
      containerStatuses: [
        {
          name: "crash",
          image: "crash",
          ready: false,
          restartCount: 5,
          state: { waiting: { reason: "CrashLoopBackOff", message: "back-off 2m40s" } },
          lastState: { terminated: { exitCode: 1, reason: "Error", startedAt: h.at(49_000), finishedAt: h.at(50_000) } },
        },
      ],
    },
  });
  h.pod("done", {
    node: "node1",
    status: { phase: "Succeeded", containerStatuses: [{ name: "done", image: "done", ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: "Completed" } } }] },
  });
  h.pod("failed", {
    node: "node1",
    status: { phase: "Failed", containerStatuses: [{ name: "failed", image: "failed", ready: false, restartCount: 0, state: { terminated: { exitCode: 1, reason: "Error" } } }] },
  });
  const init = h.create<Pod>("pods", {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "init", namespace: "default" },
    spec: { nodeName: "node1", initContainers: [{ name: "setup", image: "busybox" }], containers: [{ name: "app", image: "nginx" }] },
  });
  h.cluster.server.direct.updateStatus("pods", "default", {
    ...init,
    status: {
      phase: "Pending",
      initContainerStatuses: [{ name: "setup", image: "busybox", ready: false, restartCount: 0, state: { running: { startedAt: h.at(12_000) } } }],
      containerStatuses: [{ name: "app", image: "nginx", ready: false, restartCount: 0, state: { waiting: { reason: "PodInitializing" } } }],
    },
  });
  h.pod("two", {
    node: "node1",
    containers: ["busybox", "nginx"],
    status: { phase: "Running", podIP: "10.244.1.9", podIPs: [{ ip: "10.244.1.9" }], containerStatuses: [running(h, "busybox", 11_000), running(h, "nginx", 11_000, { ready: false })] },
  });
  h.advance(60_000);
  return h;
}

test("get pods shows READY, STATUS, RESTARTS and AGE as kubectl computes them", async (t) => {
  const h = podsCluster();
  const r = await h.kubectl("get pods");
  t.is(r.exit, 0);
  t.is(r.stderr, "");
  t.is(
    r.stdout,
    `NAME       READY   STATUS              RESTARTS      AGE
crash      0/1     CrashLoopBackOff    5 (20s ago)   60s
creating   0/1     ContainerCreating   0             60s
done       0/1     Completed           0             60s
failed     0/1     Error               0             60s
init       0/1     Init:0/1            0             60s
pending    0/1     Pending             0             60s
running    1/1     Running             0             60s
two        1/2     Running             0             60s
`,
  );
});

test("get pods -o wide adds IP, NODE, NOMINATED NODE and READINESS GATES", async (t) => {
  const h = podsCluster();
  const r = await h.kubectl("get pods -o wide -l app=web");
  t.is(
    r.stdout,
    `NAME      READY   STATUS    RESTARTS   AGE   IP           NODE     NOMINATED NODE   READINESS GATES
pending   0/1     Pending   0          60s   <none>       <none>   <none>           <none>
running   1/1     Running   0          60s   10.244.1.2   node1    <none>           <none>
`,
  );
});

test("a pod being deleted shows Terminating", async (t) => {
  const h = podsCluster();
  h.cluster.server.direct.delete({ resource: "pods", namespace: "default", name: "running" });
  const r = await h.kubectl("get pod running");
  t.is(r.stdout, "NAME      READY   STATUS        RESTARTS   AGE\nrunning   1/1     Terminating   0          60s\n");
});

test("-A adds a NAMESPACE column; an empty namespace says so on stderr", async (t) => {
  const h = new KubectlHarness();
  h.pod("a", { namespace: "kube-system", status: { phase: "Pending" } });
  h.pod("b", { status: { phase: "Pending" } });
  h.advance(5_000);
  const all = await h.kubectl("get pods --all-namespaces");
  t.is(all.stdout, "NAMESPACE     NAME   READY   STATUS    RESTARTS   AGE\ndefault       b      0/1     Pending   0          5s\nkube-system   a      0/1     Pending   0          5s\n");
  const none = await h.kubectl("get pods -n kube-public");
  t.deepEqual(none, { exit: 0, stdout: "", stderr: "No resources found in kube-public namespace.\n" });
  const nodes = await h.kubectl("get nodes");
  t.deepEqual(nodes, { exit: 0, stdout: "", stderr: "No resources found\n" });
});

test("several types print kind/name groups separated by a blank line", async (t) => {
  const h = new KubectlHarness();
  h.advance(3_000);
  h.pod("web", { status: { phase: "Pending" } });
  h.advance(2_000);
  const r = await h.kubectl("get pods,svc,cm");
  t.is(
    r.stdout,
    `NAME      READY   STATUS    RESTARTS   AGE
pod/web   0/1     Pending   0          2s

NAME                 TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)   AGE
service/kubernetes   ClusterIP   10.96.0.1    <none>        443/TCP   5s
`,
  );
});

test("named objects that are missing are reported after the rest, exit 1", async (t) => {
  const h = podsCluster();
  const r = await h.kubectl("get pods running nope");
  t.is(r.exit, 1);
  t.is(r.stdout, "NAME      READY   STATUS    RESTARTS   AGE\nrunning   1/1     Running   0          60s\n");
  t.is(r.stderr, 'Error from server (NotFound): pods "nope" not found\n');
  t.deepEqual(await h.kubectl("get pdos"), { exit: 1, stdout: "", stderr: 'error: the server doesn\'t have a resource type "pdos"\n' });
  t.deepEqual(await h.kubectl("get deploy web"), { exit: 1, stdout: "", stderr: 'Error from server (NotFound): deployments.apps "web" not found\n' });
});

test("nodes show STATUS, ROLES and VERSION, and with -o wide addresses and node info", async (t) => {
  const h = new KubectlHarness();
  const info = { kubeletVersion: "v1.30.1", osImage: "Ubuntu 22.04.4 LTS", kernelVersion: "6.5.0-kemu", containerRuntimeVersion: "containerd://1.7.13" };
  const node = (name: string, labels: Record<string, string>, ready: string, ip: string) =>
    h.create(
      "nodes",
      { apiVersion: "v1", kind: "Node", metadata: { name, labels }, spec: name === "node2" ? { unschedulable: true } : {} },
      { conditions: [{ type: "Ready", status: ready }], addresses: [{ type: "InternalIP", address: ip }], nodeInfo: info },
    );
  node("control", { "node-role.kubernetes.io/control-plane": "" }, "True", "192.168.56.10");
  node("node1", {}, "False", "192.168.56.11");
  node("node2", {}, "True", "192.168.56.12");
  h.advance(3 * 3_600_000 + 120_000);
  t.is(
    (await h.kubectl("get nodes")).stdout,
    `NAME      STATUS                     ROLES           AGE    VERSION
control   Ready                      control-plane   3h2m   v1.30.1
node1     NotReady                   <none>          3h2m   v1.30.1
node2     Ready,SchedulingDisabled   <none>          3h2m   v1.30.1
`,
  );
  t.is(
    (await h.kubectl("get no control -o wide")).stdout,
    `NAME      STATUS   ROLES           AGE    VERSION   INTERNAL-IP     EXTERNAL-IP   OS-IMAGE             KERNEL-VERSION   CONTAINER-RUNTIME
control   Ready    control-plane   3h2m   v1.30.1   192.168.56.10   <none>        Ubuntu 22.04.4 LTS   6.5.0-kemu       containerd://1.7.13
`,
  );
});

test("services show their type, IPs and ports (NodePort as 80:30080/TCP)", async (t) => {
  const h = new KubectlHarness();
  h.create("services", { apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: "default" }, spec: { clusterIP: "10.96.0.20", selector: { app: "web" }, ports: [{ port: 80 }] } });
  h.create("services", {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "np", namespace: "default" },
    spec: { type: "NodePort", clusterIP: "10.96.0.30", selector: { app: "web" }, ports: [{ port: 80, name: "http", nodePort: 30080 }, { port: 53, protocol: "UDP", name: "dns", nodePort: 30053 }] },
  });
  h.advance(45_000);
  t.is(
    (await h.kubectl("get svc -o wide")).stdout,
    `NAME         TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)                     AGE   SELECTOR
kubernetes   ClusterIP   10.96.0.1    <none>        443/TCP                     45s   <none>
np           NodePort    10.96.0.30   <none>        80:30080/TCP,53:30053/UDP   45s   app=web
web          ClusterIP   10.96.0.20   <none>        80/TCP                      45s   app=web
`,
  );
});

test("endpoints list three ip:port pairs and count the rest", async (t) => {
  const h = new KubectlHarness();
  const addresses = [2, 3, 4, 5, 6].map((n) => ({ ip: `10.244.${n % 2}.${n}` }));
  h.create("endpoints", { apiVersion: "v1", kind: "Endpoints", metadata: { name: "web", namespace: "default" }, subsets: [{ addresses, ports: [{ port: 80, protocol: "TCP" }] }] });
  h.create("endpoints", { apiVersion: "v1", kind: "Endpoints", metadata: { name: "empty", namespace: "default" } });
  t.is(
    (await h.kubectl("get endpoints web empty")).stdout,
    `NAME    ENDPOINTS                                               AGE
web     10.244.0.2:80,10.244.1.3:80,10.244.0.4:80 + 2 more...   0s
empty   <none>                                                  0s
`,
  );
});

test("deployments and replica sets show their replica counts", async (t) => {
  const h = new KubectlHarness();
  const template = { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "nginx", image: "nginx:1.25" }] } };
  h.create(
    "deployments",
    { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "default" }, spec: { replicas: 6, selector: { matchLabels: { app: "web" } }, template } },
    { replicas: 6, updatedReplicas: 6, readyReplicas: 2, availableReplicas: 2 },
  );
  h.create(
    "replicasets",
    { apiVersion: "apps/v1", kind: "ReplicaSet", metadata: { name: "web-5d78f6c9b4", namespace: "default" }, spec: { replicas: 6, selector: { matchLabels: { app: "web" } }, template } },
    { replicas: 6, readyReplicas: 2 },
  );
  h.advance(12 * 60_000);
  t.is((await h.kubectl("get deploy")).stdout, "NAME   READY   UP-TO-DATE   AVAILABLE   AGE\nweb    2/6     6            2           12m\n");
  t.is(
    (await h.kubectl("get rs -o wide")).stdout,
    "NAME             DESIRED   CURRENT   READY   AGE   CONTAINERS   IMAGES       SELECTOR\nweb-5d78f6c9b4   6         6         2       12m   nginx        nginx:1.25   app=web\n",
  );
  t.is((await h.kubectl("get ns default kube-system")).stdout, "NAME          STATUS   AGE\ndefault       Active   12m\nkube-system   Active   12m\n");
});

test("-o name, jsonpath and custom-columns", async (t) => {
  const h = podsCluster();
  t.is((await h.kubectl("get pods -l app=web -o name")).stdout, "pod/pending\npod/running\n");
  t.is((await h.kubectl("get deploy,svc -o name")).stdout, "service/kubernetes\n");
  t.is((await h.kubectl(["get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].metadata.name}"])).stdout, "pending running");
  t.is(
    (await h.kubectl(["get", "pods", "-l", "app=web", "-o", 'jsonpath={range .items[*]}{.metadata.name}{"\\t"}{.status.phase}{"\\n"}{end}'])).stdout,
    "pending\tPending\nrunning\tRunning\n",
  );
  t.is((await h.kubectl(["get", "pod", "running", "-o", "jsonpath={.status.podIP}"])).stdout, "10.244.1.2");
  t.is(
    (await h.kubectl(["get", "pods", "-l", "app=web", "-o", "custom-columns=NAME:.metadata.name,IP:.status.podIP,NODE:spec.nodeName"])).stdout,
    "NAME      IP           NODE\npending   <none>       <none>\nrunning   10.244.1.2   node1\n",
  );
});

test("-o yaml and -o json print the object, or a List of several", async (t) => {
  const h = new KubectlHarness();
  h.create("configmaps", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cfg", namespace: "default" }, data: { port: "80" } });
  const cm = h.cluster.server.direct.get({ resource: "configmaps", namespace: "default", name: "cfg" });
  const meta = `  creationTimestamp: "2026-01-01T00:00:00Z"\n  name: cfg\n  namespace: default\n  resourceVersion: "${cm.metadata.resourceVersion}"\n  uid: ${cm.metadata.uid}\n`;
  t.is((await h.kubectl("get cm cfg -o yaml")).stdout, `apiVersion: v1\ndata:\n  port: "80"\nkind: ConfigMap\nmetadata:\n${meta}`);
  t.is(
    (await h.kubectl("get cm -o yaml")).stdout,
    `apiVersion: v1\nitems:\n- apiVersion: v1\n  data:\n    port: "80"\n  kind: ConfigMap\n  metadata:\n${meta.replace(/^(?=.)/gm, "  ")}kind: List\nmetadata:\n  resourceVersion: ""\n`,
  );
  const json = (await h.kubectl("get cm cfg -o json")).stdout;
  t.true(json.startsWith('{\n    "apiVersion": "v1",\n    "data": {\n        "port": "80"\n    },\n    "kind": "ConfigMap",\n'));
  t.deepEqual(await h.kubectl("get pods -o yaml"), { exit: 0, stdout: 'apiVersion: v1\nitems: []\nkind: List\nmetadata:\n  resourceVersion: ""\n', stderr: "" });
});

test("get without a type says what is missing", async (t) => {
  const h = new KubectlHarness();
  t.deepEqual(await h.kubectl("get"), {
    exit: 1,
    stdout: "",
    stderr:
      'You must specify the type of resource to get. Use "kubectl api-resources" for a complete list of supported resources.\n\nerror: Required resource not specified.\nUse "kubectl explain <resource>" for a detailed description of that resource (e.g. kubectl explain pods).\nSee \'kubectl get -h\' for help and examples\n',
  });
});

test("events show LAST SEEN, TYPE, REASON, OBJECT and MESSAGE", async (t) => {
  const h = new KubectlHarness({ controllers: true, kubelets: true });
  h.cluster.addNode("node1");
  h.file("/pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: c\n    image: nginx\n");
  await h.kubectl("apply -f /pod.yaml");
  h.advance(42_000);
  t.is(
    (await h.kubectl("get events")).stdout,
    `LAST SEEN   TYPE     REASON                    OBJECT       MESSAGE
42s         Normal   CIDRAssignmentSucceeded   node/node1   Node node1 has been assigned CIDR 10.244.0.0/24
42s         Normal   Scheduled                 pod/web      Successfully assigned default/web to node1
`,
  );
});

test("get -w prints the table, then a row per change (each write), until interrupted", async (t) => {
  const h = new KubectlHarness();
  h.pod("a", { status: { phase: "Pending" } });
  const { BufferOutput, textInput } = await import("@kemu/node");
  const out = new BufferOutput();
  const running = h.host.spawn(["kubectl", "get", "pods", "-w"], h.host.rootSpec({ stdin: textInput(""), stdout: out, stderr: out }));
  await h.host.advance(5_000);
  h.pod("b", { status: { phase: "Pending" } });
  await h.host.advance(5_000);
  for (const p of h.host.processes.values()) p.controller.abort();
  await h.host.advance(1);
  t.is(await running, 130);
  t.is(out.text, "NAME   READY   STATUS    RESTARTS   AGE\na      0/1     Pending   0          0s\nb      0/1     Pending   0          0s\nb      0/1     Pending   0          0s\n");
});

test("--sort-by orders rows by a field", async (t) => {
  const h = podsCluster();
  const r = await h.kubectl("get pods -l app=web --sort-by=.status.phase -o name");
  t.is(r.stdout, "pod/pending\npod/running\n");
  const byRestarts = await h.kubectl(["get", "pods", "--sort-by={.metadata.name}", "-o", "jsonpath={.items[0].metadata.name}"]);
  t.is(byRestarts.stdout, "crash");
});
