import test from "ava";
import type { Pod } from "@kemu/api";
import { KubectlHarness } from "./_testing.ts";

test("describe pod", async (t) => {
  const h = new KubectlHarness({ controllers: true, kubelets: false });
  h.cluster.addNode("node1");
  h.advance(2_000);
  const pod = h.create<Pod>("pods", {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "web", namespace: "default", labels: { app: "web", tier: "front" } },
    spec: {
      containers: [
        { name: "busybox", image: "busybox", command: ["sleep", "3600"] },
        { name: "nginx", image: "nginx", ports: [{ containerPort: 80 }], env: [{ name: "MODE", value: "prod" }], resources: { requests: { cpu: "100m", memory: "64Mi" } } },
      ],
    },
  });
  h.advance(3_000);
  const cur = h.cluster.server.direct.get<Pod>({ resource: "pods", namespace: "default", name: "web" });
  h.cluster.server.direct.updateStatus("pods", "default", {
    ...cur,
    status: {
      ...cur.status,
      phase: "Running",
      hostIP: "192.168.56.11",
      podIP: "10.244.0.2",
      podIPs: [{ ip: "10.244.0.2" }],
      startTime: h.at(2_500),
      conditions: [
        { type: "Initialized", status: "True", lastTransitionTime: h.at(3_000) },
        { type: "Ready", status: "True", lastTransitionTime: h.at(4_000) },
        { type: "ContainersReady", status: "True", lastTransitionTime: h.at(4_000) },
        ...(cur.status?.conditions ?? []),
      ],
      containerStatuses: [
        { name: "busybox", image: "busybox:latest", imageID: "docker.io/library/busybox@sha256:1", containerID: "containerd://aa", ready: true, restartCount: 0, started: true, state: { running: { startedAt: h.at(4_000) } } },
        { name: "nginx", image: "nginx:latest", imageID: "docker.io/library/nginx@sha256:2", containerID: "containerd://bb", ready: true, restartCount: 1, started: true, state: { running: { startedAt: h.at(4_000) } }, lastState: { terminated: { exitCode: 137, reason: "Error", startedAt: h.at(3_000), finishedAt: h.at(3_500) } } },
      ],
    },
  });
  void pod;
  h.advance(60_000);
  const r = await h.kubectl("describe pod web");
  t.is(r.exit, 0);
  t.is(r.stderr, "");
  t.is(
    r.stdout,
    `Name:             web
Namespace:        default
Priority:         0
Service Account:  default
Node:             node1/192.168.56.11
Start Time:       Thu, 01 Jan 2026 00:00:02 +0000
Labels:           app=web
                  tier=front
Annotations:      <none>
Status:           Running
IP:               10.244.0.2
IPs:
  IP:  10.244.0.2
Containers:
  busybox:
    Container ID:  containerd://aa
    Image:         busybox
    Image ID:      docker.io/library/busybox@sha256:1
    Port:          <none>
    Host Port:     <none>
    Command:
      sleep
      3600
    State:          Running
      Started:      Thu, 01 Jan 2026 00:00:04 +0000
    Ready:          True
    Restart Count:  0
    Environment:    <none>
    Mounts:         <none>
  nginx:
    Container ID:   containerd://bb
    Image:          nginx
    Image ID:       docker.io/library/nginx@sha256:2
    Port:           80/TCP
    Host Port:      0/TCP
    State:          Running
      Started:      Thu, 01 Jan 2026 00:00:04 +0000
    Last State:     Terminated
      Reason:       Error
      Exit Code:    137
      Started:      Thu, 01 Jan 2026 00:00:03 +0000
      Finished:     Thu, 01 Jan 2026 00:00:03 +0000
    Ready:          True
    Restart Count:  1
    Requests:
      cpu:     100m
      memory:  64Mi
    Environment:
      MODE:  prod
    Mounts:  <none>
Conditions:
  Type              Status
  Initialized       True 
  Ready             False 
  ContainersReady   True 
  PodScheduled      True 
Volumes:            <none>
QoS Class:          Burstable
Node-Selectors:     <none>
Tolerations:        node.kubernetes.io/not-ready:NoExecute op=Exists for 300s
                    node.kubernetes.io/unreachable:NoExecute op=Exists for 300s
Events:
  Type     Reason        Age   From               Message
  ----     ------        ----  ----               -------
  Normal   Scheduled     63s   default-scheduler  Successfully assigned default/web to node1
  Warning  NodeNotReady  25s   node-controller    Node is not ready
`,
  );
});

test("describe shows an unschedulable pod Pending with the scheduler's reason", async (t) => {
  const h = new KubectlHarness({ controllers: true, kubelets: true });
  h.cluster.addNode("node1", { cpu: "2" });
  h.file("/root/big.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: big\nspec:\n  containers:\n  - name: c\n    image: nginx\n    resources:\n      requests:\n        cpu: 4\n");
  t.is((await h.kubectl("apply -f /root/big.yaml")).stdout, "pod/big created\n");
  h.advance(30_000);
  t.is((await h.kubectl("get pod big")).stdout, "NAME   READY   STATUS    RESTARTS   AGE\nbig    0/1     Pending   0          30s\n");
  const r = await h.kubectl("describe pod big");
  t.regex(r.stdout, /\nStatus:           Pending\n/);
  t.regex(r.stdout, /\nConditions:\n  Type           Status\n  PodScheduled   False \n/);
  t.regex(r.stdout, /\n  Warning  FailedScheduling  \d+s( \(x\d+ over \d+s\))?  default-scheduler  0\/1 nodes are available: 1 Insufficient cpu\./);
});

test("describe node shows conditions, capacity, its pods and what they request", async (t) => {
  const h = new KubectlHarness({ controllers: false, kubelets: false });
  h.create(
    "nodes",
    { apiVersion: "v1", kind: "Node", metadata: { name: "node1", labels: { "kubernetes.io/hostname": "node1" } }, spec: { podCIDR: "10.244.1.0/24", podCIDRs: ["10.244.1.0/24"] } },
    {
      capacity: { cpu: "2", memory: "4Gi", pods: "110" },
      allocatable: { cpu: "2", memory: "4Gi", pods: "110" },
      conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", message: "kubelet is posting ready status", lastHeartbeatTime: h.at(0), lastTransitionTime: h.at(0) }],
      addresses: [{ type: "InternalIP", address: "192.168.56.11" }, { type: "Hostname", address: "node1" }],
      nodeInfo: { kubeletVersion: "v1.30.1", kubeProxyVersion: "v1.30.1", osImage: "kemu", kernelVersion: "6.5.0-kemu", containerRuntimeVersion: "containerd://1.7.13", operatingSystem: "linux", architecture: "amd64" },
    },
  );
  h.create<Pod>("pods", {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "web", namespace: "default" },
    spec: { nodeName: "node1", containers: [{ name: "c", image: "nginx", resources: { requests: { cpu: "500m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } } }] },
  });
  h.advance(90_000);
  const r = await h.kubectl("describe node node1");
  t.is(r.exit, 0);
  const tail = r.stdout.slice(r.stdout.indexOf("Conditions:"));
  t.is(
    tail,
    `Conditions:
  Type    Status  LastHeartbeatTime                 LastTransitionTime                Reason         Message
  ----    ------  -----------------                 ------------------                ------         -------
  Ready   True    Thu, 01 Jan 2026 00:00:00 +0000   Thu, 01 Jan 2026 00:00:00 +0000   KubeletReady   kubelet is posting ready status
Addresses:
  InternalIP:  192.168.56.11
  Hostname:    node1
Capacity:
  cpu:     2
  memory:  4Gi
  pods:    110
Allocatable:
  cpu:     2
  memory:  4Gi
  pods:    110
System Info:
  Machine ID:                 
  System UUID:                
  Boot ID:                    
  Kernel Version:             6.5.0-kemu
  OS Image:                   kemu
  Operating System:           linux
  Architecture:               amd64
  Container Runtime Version:  containerd://1.7.13
  Kubelet Version:            v1.30.1
  Kube-Proxy Version:         v1.30.1
PodCIDR:                      10.244.1.0/24
PodCIDRs:                     10.244.1.0/24
Non-terminated Pods:          (1 in total)
  Namespace                   Name    CPU Requests  CPU Limits  Memory Requests  Memory Limits  Age
  ---------                   ----    ------------  ----------  ---------------  -------------  ---
  default                     web     500m (25%)    1 (50%)     512Mi (12%)      1Gi (25%)      90s
Allocated resources:
  (Total limits may be over 100 percent, i.e., overcommitted.)
  Resource           Requests     Limits
  --------           --------     ------
  cpu                500m (25%)   1 (50%)
  memory             512Mi (12%)  1Gi (25%)
  ephemeral-storage  0 (0%)       0 (0%)
Events:              <none>
`,
  );
});

test("describe service shows its ports and endpoints", async (t) => {
  const h = new KubectlHarness();
  h.create("services", { apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: "default" }, spec: { clusterIP: "10.96.0.20", selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }] } });
  h.create("endpoints", {
    apiVersion: "v1",
    kind: "Endpoints",
    metadata: { name: "web", namespace: "default" },
    subsets: [{ addresses: [{ ip: "10.244.1.2" }, { ip: "10.244.2.2" }], ports: [{ port: 8080, protocol: "TCP" }] }],
  });
  t.is(
    (await h.kubectl("describe svc web")).stdout,
    `Name:              web
Namespace:         default
Labels:            <none>
Annotations:       <none>
Selector:          app=web
Type:              ClusterIP
IP Family Policy:  SingleStack
IP Families:       IPv4
IP:                10.96.0.20
IPs:               10.96.0.20
Port:              <unset>  80/TCP
TargetPort:        8080/TCP
Endpoints:         10.244.1.2:8080,10.244.2.2:8080
Session Affinity:  None
Events:            <none>
`,
  );
});

test("describe deployment shows replicas, template and its replica set", async (t) => {
  const h = new KubectlHarness({ controllers: true, kubelets: true });
  h.cluster.addNode("node1");
  h.file("/root/web.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: nginx\n        image: nginx\n");
  await h.kubectl("apply -f /root/web.yaml");
  h.advance(20_000);
  const r = await h.kubectl("describe deploy web");
  t.regex(r.stdout, /^Name:                   web\nNamespace:              default\nCreationTimestamp:      Thu, 01 Jan 2026 00:00:00 \+0000\n/);
  t.regex(r.stdout, /\nReplicas:               2 desired \| 2 updated \| 2 total \| 2 available \| 0 unavailable\n/);
  t.regex(r.stdout, /\nPod Template:\n  Labels:  app=web\n  Containers:\n   nginx:\n    Image:         nginx\n/);
  t.regex(r.stdout, /\nNewReplicaSet:   web-[a-z0-9]+ \(2\/2 replicas created\)\n/);
  t.regex(r.stdout, /\n  Normal  ScalingReplicaSet  20s   deployment-controller  Scaled up replica set web-[a-z0-9]+ from 0 to 2\n$/);
  t.false(r.stdout.includes("last-applied-configuration"));
});

test("describe matches by name prefix, and says what is missing", async (t) => {
  const h = new KubectlHarness();
  h.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "team-a", labels: { "kubernetes.io/metadata.name": "team-a" } } });
  const r = await h.kubectl("describe ns team");
  t.is(r.stdout, "Name:         team-a\nLabels:       kubernetes.io/metadata.name=team-a\nAnnotations:  <none>\nStatus:       Active\n\nNo resource quota.\n\nNo LimitRange resource.\n\n");
  t.deepEqual(await h.kubectl("describe pod nope"), { exit: 1, stdout: "", stderr: 'Error from server (NotFound): pods "nope" not found\n' });
});
