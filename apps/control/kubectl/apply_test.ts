import test from "ava";
import type { Deployment, Pod } from "@kemu/api";
import { KubectlHarness } from "./_testing.ts";

const POD = `apiVersion: v1
kind: Pod
metadata:
  name: nginx
spec:
  containers:
  - name: nginx
    image: nginx
    ports:
    - containerPort: 80
`;

const WEB = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: nginx
        image: nginx
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - port: 80
`;

function getPod(h: KubectlHarness, name = "nginx"): Pod {
  return h.cluster.server.direct.get<Pod>({ resource: "pods", namespace: "default", name });
}

test("apply creates, then finds nothing to change, then configures", async (t) => {
  const h = new KubectlHarness();
  h.file("/pod.yaml", POD);
  t.deepEqual(await h.kubectl("apply -f pod.yaml"), { exit: 0, stdout: "pod/nginx created\n", stderr: "" });
  t.is(
    getPod(h).metadata.annotations?.["kubectl.kubernetes.io/last-applied-configuration"],
    '{"apiVersion":"v1","kind":"Pod","metadata":{"annotations":{},"name":"nginx","namespace":"default"},"spec":{"containers":[{"image":"nginx","name":"nginx","ports":[{"containerPort":80}]}]}}\n',
  );
  t.deepEqual(await h.kubectl("apply -f pod.yaml"), { exit: 0, stdout: "pod/nginx unchanged\n", stderr: "" });
  h.file("/pod.yaml", POD.replace("image: nginx", "image: nginx:1.25"));
  t.deepEqual(await h.kubectl("apply -f pod.yaml"), { exit: 0, stdout: "pod/nginx configured\n", stderr: "" });
  const pod = getPod(h);
  t.is(pod.spec.containers[0]?.image, "nginx:1.25");
  t.is(pod.spec.containers[0]?.["terminationMessagePath"], "/dev/termination-log", "the server's defaults stay");
});

test("apply removes what was applied before and is no longer, and keeps what others added", async (t) => {
  const h = new KubectlHarness();
  h.file("/pod.yaml", POD.replace("  name: nginx\n", "  name: nginx\n  labels:\n    app: web\n    tier: front\n"));
  await h.kubectl("apply -f /pod.yaml");
  t.is((await h.kubectl("label pod nginx owner=ops")).stdout, "pod/nginx labeled\n");
  h.file("/pod.yaml", POD.replace("  name: nginx\n", "  name: nginx\n  labels:\n    app: web\n"));
  t.is((await h.kubectl("apply -f /pod.yaml")).stdout, "pod/nginx configured\n");
  t.deepEqual(getPod(h).metadata.labels, { app: "web", owner: "ops" });
});

test("apply of several documents reports each with its group", async (t) => {
  const h = new KubectlHarness();
  h.file("/root/web.yaml", WEB);
  t.deepEqual(await h.kubectl("apply -f /root/web.yaml"), { exit: 0, stdout: "deployment.apps/web created\nservice/web created\n", stderr: "" });
  t.deepEqual(await h.kubectl("apply -f -", { stdin: WEB }), { exit: 0, stdout: "deployment.apps/web unchanged\nservice/web unchanged\n", stderr: "" });
});

test("apply of a directory reads its yaml files in order", async (t) => {
  const h = new KubectlHarness();
  h.file("/m/b.yaml", POD.replace("name: nginx\n", "name: b\n"));
  h.file("/m/a.yml", POD.replace("name: nginx\n", "name: a\n"));
  h.file("/m/notes.txt", "not a manifest");
  t.is((await h.kubectl("apply -f /m")).stdout, "pod/a created\npod/b created\n");
});

test("an unknown kind is refused with kubectl's message and nothing of it is created", async (t) => {
  const h = new KubectlHarness();
  h.file("/pod.yaml", POD.replace("kind: Pod", "kind: pod"));
  t.deepEqual(await h.kubectl("apply -f pod.yaml"), {
    exit: 1,
    stdout: "",
    stderr: 'error: resource mapping not found for name: "nginx" namespace: "" from "pod.yaml": no matches for kind "pod" in version "v1"\nensure CRDs are installed first\n',
  });
  t.is(h.cluster.server.store.list("pods").length, 0);
});

test("the valid documents of a file are applied and the invalid ones reported, as kubectl does", async (t) => {
  const h = new KubectlHarness();
  h.file("/both.yaml", `${POD.replace("kind: Pod", "kind: pod")}---\n${POD.replace("name: nginx\n", "name: ok\n")}`);
  const r = await h.kubectl("apply -f /both.yaml");
  t.is(r.exit, 1);
  t.is(r.stdout, "pod/ok created\n");
  t.regex(r.stderr, /^error: resource mapping not found for name: "nginx"/);
});

test("unknown fields are refused by strict field validation, naming the field", async (t) => {
  const h = new KubectlHarness();
  h.file("/pod.yaml", POD.replace("containerPort", "continerPort"));
  t.deepEqual(await h.kubectl("apply -f pod.yaml"), {
    exit: 1,
    stdout: "",
    stderr:
      'Error from server (BadRequest): error when creating "pod.yaml": Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.containers[0].ports[0].continerPort"\n',
  });
  t.is(h.cluster.server.store.list("pods").length, 0);
});

test("invalid objects get the API's Invalid message", async (t) => {
  const h = new KubectlHarness();
  h.file("/pod.yaml", POD.replace("    image: nginx\n", ""));
  const r = await h.kubectl("apply -f /pod.yaml");
  t.is(r.exit, 1);
  t.is(r.stderr, 'The Pod "nginx" is invalid: spec.containers[0].image: Required value\n');
});

test("malformed YAML, missing files and a missing -f are kubectl's errors", async (t) => {
  const h = new KubectlHarness();
  h.file("/pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: name: nginx\n");
  t.deepEqual(await h.kubectl("apply -f pod.yaml"), {
    exit: 1,
    stdout: "",
    stderr: "error: error parsing pod.yaml: error converting YAML to JSON: yaml: line 3: mapping values are not allowed in this context\n",
  });
  t.deepEqual(await h.kubectl("apply -f nope.yaml"), { exit: 1, stdout: "", stderr: 'error: the path "nope.yaml" does not exist\n' });
  t.deepEqual(await h.kubectl("apply"), { exit: 1, stdout: "", stderr: "error: must specify one of -f and -k\n" });
});

test("a namespace in the manifest must match -n", async (t) => {
  const h = new KubectlHarness();
  h.file("/pod.yaml", POD.replace("  name: nginx\n", "  name: nginx\n  namespace: kube-system\n"));
  t.deepEqual(await h.kubectl("apply -n default -f /pod.yaml"), {
    exit: 1,
    stdout: "",
    stderr: `error: the namespace from the provided object "kube-system" does not match the namespace "default". You must pass '--namespace=kube-system' to perform this operation.\n`,
  });
  t.is((await h.kubectl("apply -f /pod.yaml")).stdout, "pod/nginx created\n");
  t.is(h.cluster.server.store.list("pods", "kube-system").length, 1);
});

test("create makes objects without the annotation; apply then warns and patches it in", async (t) => {
  const h = new KubectlHarness();
  h.file("/pod.yaml", POD);
  t.deepEqual(await h.kubectl("create -f /pod.yaml"), { exit: 0, stdout: "pod/nginx created\n", stderr: "" });
  t.deepEqual(await h.kubectl("create -f /pod.yaml"), {
    exit: 1,
    stdout: "",
    stderr: 'Error from server (AlreadyExists): error when creating "/pod.yaml": pods "nginx" already exists\n',
  });
  t.deepEqual(await h.kubectl("apply -f /pod.yaml"), {
    exit: 0,
    stdout: "pod/nginx configured\n",
    stderr:
      "Warning: resource pods/nginx is missing the kubectl.kubernetes.io/last-applied-configuration annotation which is required by kubectl apply. kubectl apply should only be used on resources created declaratively by either kubectl create --save-config or kubectl apply. The missing annotation will be patched automatically.\n",
  });
});

test("create namespace and deployment by name", async (t) => {
  const h = new KubectlHarness();
  t.is((await h.kubectl("create namespace team-a")).stdout, "namespace/team-a created\n");
  t.is((await h.kubectl("create deployment web --image=nginx:1.25 --replicas=3")).stdout, "deployment.apps/web created\n");
  const d = h.cluster.server.direct.get<Deployment>({ resource: "deployments", namespace: "default", name: "web" });
  t.is(d.spec.replicas, 3);
  t.is(d.spec.template.spec.containers[0]?.name, "nginx");
});

test("delete by file, by name, by selector and --all; waits until the objects are gone", async (t) => {
  const h = new KubectlHarness({ controllers: true, kubelets: true });
  h.cluster.addNode("node1");
  h.file("/pod.yaml", POD);
  h.file("/web.yaml", WEB);
  await h.kubectl("apply -f /pod.yaml");
  await h.kubectl("apply -f /web.yaml");
  h.advance(5_000);
  t.deepEqual(await h.kubectl("delete -f /pod.yaml"), { exit: 0, stdout: 'pod "nginx" deleted\n', stderr: "" });
  t.is(h.cluster.server.store.get("pods", "default", "nginx"), undefined);
  t.deepEqual(await h.kubectl("delete pod nope"), { exit: 1, stdout: "", stderr: 'Error from server (NotFound): pods "nope" not found\n' });
  t.deepEqual(await h.kubectl("delete pods -l app=nothing"), { exit: 0, stdout: "No resources found\n", stderr: "" });
  t.deepEqual(await h.kubectl("delete pods"), { exit: 1, stdout: "", stderr: "error: resource(s) were provided, but no name was specified\n" });
  t.deepEqual(await h.kubectl("delete svc/web deploy/web"), { exit: 0, stdout: 'service "web" deleted\ndeployment.apps "web" deleted\n', stderr: "" });
  h.advance(5_000);
  t.is((await h.kubectl("get pods")).stderr, "No resources found in default namespace.\n");
});

test("scale sets the replica count", async (t) => {
  const h = new KubectlHarness();
  h.file("/web.yaml", WEB);
  await h.kubectl("apply -f /web.yaml");
  t.deepEqual(await h.kubectl("scale deploy/web --replicas=6"), { exit: 0, stdout: "deployment.apps/web scaled\n", stderr: "" });
  t.is(h.cluster.server.direct.get<Deployment>({ resource: "deployments", namespace: "default", name: "web" }).spec.replicas, 6);
  t.deepEqual(await h.kubectl("scale deployment web"), {
    exit: 1,
    stdout: "",
    stderr: "error: The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0\n",
  });
});

test("the three-way merge keeps server defaults inside keyed lists and reports the patch kubectl would send", async (t) => {
  const { merge3 } = await import("./apply.ts");
  const original = { spec: { containers: [{ name: "nginx", image: "nginx" }] } };
  const current = { spec: { containers: [{ name: "nginx", image: "nginx", imagePullPolicy: "Always" }], dnsPolicy: "ClusterFirst" } };
  t.false(merge3(original, original, current, []).changed);
  const modified = { spec: { containers: [{ name: "nginx", image: "nginx:1.25" }] } };
  const m = merge3(original, modified, current, []);
  t.true(m.changed);
  t.deepEqual(m.value, { spec: { containers: [{ name: "nginx", image: "nginx:1.25", imagePullPolicy: "Always" }], dnsPolicy: "ClusterFirst" } });
  t.deepEqual(m.patch, { spec: { "$setElementOrder/containers": [{ name: "nginx" }], containers: [{ name: "nginx", image: "nginx:1.25" }] } });
});

test("an unknown field in a re-apply is refused when kubectl patches", async (t) => {
  const h = new KubectlHarness();
  h.file("/pod.yaml", POD);
  await h.kubectl("apply -f /pod.yaml");
  h.file("/pod.yaml", POD.replace("containerPort", "continerPort"));
  const r = await h.kubectl("apply -f /pod.yaml");
  t.is(r.exit, 1);
  t.regex(r.stderr, /^Error from server \(BadRequest\): error when applying patch:\n\{.*"continerPort":80.*\}\nto:\nResource: "\/v1, Resource=pods", GroupVersionKind: "\/v1, Kind=Pod"\nName: "nginx", Namespace: "default"\nfor: "\/pod.yaml": error when patching "\/pod.yaml": Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.containers\[0\].ports\[0\].continerPort"\n$/);
});

test("delete --all deletes every object of the type in the namespace", async (t) => {
  const h = new KubectlHarness();
  h.pod("a", { status: { phase: "Pending" } });
  h.pod("b", { status: { phase: "Pending" } });
  h.pod("c", { namespace: "kube-system", status: { phase: "Pending" } });
  t.deepEqual(await h.kubectl("delete pods --all"), { exit: 0, stdout: 'pod "a" deleted\npod "b" deleted\n', stderr: "" });
  t.is(h.cluster.server.store.list("pods").length, 1);
});
