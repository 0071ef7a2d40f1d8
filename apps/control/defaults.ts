/**
 * Defaulting as the API server applies it on create and update (the
 * SetDefaults_* functions of each API group), plus the defaults admission
 * adds to pods (service account, priority, not-ready/unreachable tolerations).
 */
import type { Container, KubeObject, PodSpec } from "@kemu/api";

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : undefined;
}

function setIfAbsent(o: Obj, key: string, value: unknown): void {
  if (o[key] === undefined) o[key] = value;
}

/** Kubelet-side image pull policy default: Always for `:latest` or an untagged image, else IfNotPresent. */
export function defaultPullPolicy(image: string): "Always" | "IfNotPresent" {
  if (image.includes("@")) return "IfNotPresent";
  const last = image.slice(image.lastIndexOf("/") + 1);
  const colon = last.lastIndexOf(":");
  if (colon < 0) return "Always";
  return last.slice(colon + 1) === "latest" ? "Always" : "IfNotPresent";
}

function defaultProbe(p: unknown): void {
  const probe = obj(p);
  if (probe === undefined) return;
  setIfAbsent(probe, "timeoutSeconds", 1);
  setIfAbsent(probe, "periodSeconds", 10);
  setIfAbsent(probe, "successThreshold", 1);
  setIfAbsent(probe, "failureThreshold", 3);
  defaultHandler(probe);
}

function defaultHandler(h: Obj): void {
  const http = obj(h["httpGet"]);
  if (http !== undefined) {
    setIfAbsent(http, "path", "/");
    setIfAbsent(http, "scheme", "HTTP");
  }
}

function defaultContainer(c: Container): void {
  const co = c as unknown as Obj;
  if (typeof c.image === "string" && c.image !== "") setIfAbsent(co, "imagePullPolicy", defaultPullPolicy(c.image));
  setIfAbsent(co, "terminationMessagePath", "/dev/termination-log");
  setIfAbsent(co, "terminationMessagePolicy", "File");
  setIfAbsent(co, "resources", {});
  for (const p of c.ports ?? []) setIfAbsent(p as unknown as Obj, "protocol", "TCP");
  for (const e of (c["env"] as Obj[] | undefined) ?? []) {
    const ref = obj(obj(e["valueFrom"])?.["fieldRef"]);
    if (ref !== undefined) setIfAbsent(ref, "apiVersion", "v1");
  }
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c["startupProbe"]);
  const lc = obj(c["lifecycle"]);
  for (const k of ["postStart", "preStop"]) {
    const h = obj(lc?.[k]);
    if (h !== undefined) defaultHandler(h);
  }
}

/** SetDefaults_PodSpec (pods and pod templates alike). */
export function defaultPodSpec(spec: PodSpec): void {
  const s = spec as unknown as Obj;
  setIfAbsent(s, "dnsPolicy", "ClusterFirst");
  setIfAbsent(s, "restartPolicy", "Always");
  setIfAbsent(s, "terminationGracePeriodSeconds", 30);
  setIfAbsent(s, "securityContext", {});
  setIfAbsent(s, "schedulerName", "default-scheduler");
  setIfAbsent(s, "enableServiceLinks", true);
  if (s["serviceAccount"] !== undefined && s["serviceAccountName"] === undefined) s["serviceAccountName"] = s["serviceAccount"];
  for (const c of spec.containers ?? []) if (obj(c) !== undefined) defaultContainer(c);
  for (const c of spec.initContainers ?? []) if (obj(c) !== undefined) defaultContainer(c);
  for (const v of (s["volumes"] as Obj[] | undefined) ?? []) {
    const hp = obj(v["hostPath"]);
    if (hp !== undefined) setIfAbsent(hp, "type", "");
    for (const k of ["secret", "configMap", "downwardAPI", "projected"]) {
      const src = obj(v[k]);
      if (src !== undefined) setIfAbsent(src, "defaultMode", 420);
    }
    const ed = obj(v["emptyDir"]);
    if (ed !== undefined && Object.keys(ed).length === 0) v["emptyDir"] = {};
  }
}

/** Options of defaulting. */
export interface DefaultOptions {
  /** tolerationSeconds of the default not-ready/unreachable NoExecute tolerations (DefaultTolerationSeconds admission). */
  defaultTolerationSeconds?: number;
}

/** What pod admission adds on create: service account, priority, and the default NoExecute tolerations. */
export function admitPod(pod: KubeObject, options: DefaultOptions = {}): void {
  const spec = obj(pod.spec);
  if (spec === undefined) return;
  setIfAbsent(spec, "serviceAccountName", "default");
  setIfAbsent(spec, "serviceAccount", spec["serviceAccountName"]);
  setIfAbsent(spec, "priority", 0);
  setIfAbsent(spec, "preemptionPolicy", "PreemptLowerPriority");
  const seconds = options.defaultTolerationSeconds ?? 300;
  const tolerations = ((spec["tolerations"] as Obj[] | undefined) ?? []).slice();
  for (const key of ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"]) {
    const has = tolerations.some(
      (t) => (t["key"] === key || (t["key"] === undefined && t["operator"] === "Exists")) && (t["effect"] === "NoExecute" || t["effect"] === undefined || t["effect"] === ""),
    );
    if (!has) tolerations.push({ key, operator: "Exists", effect: "NoExecute", tolerationSeconds: seconds });
  }
  spec["tolerations"] = tolerations;
}

/** The QoS class of a pod spec: Guaranteed, Burstable or BestEffort. */
export function qosClass(spec: PodSpec): "Guaranteed" | "Burstable" | "BestEffort" {
  const all = [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
  let any = false;
  let guaranteed = all.length > 0;
  for (const c of all) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    if (Object.keys(req).length > 0 || Object.keys(lim).length > 0) any = true;
    for (const r of ["cpu", "memory"]) {
      const l = lim[r];
      const q = req[r] ?? l;
      if (l === undefined || q !== l) guaranteed = false;
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

function defaultTemplate(template: unknown): void {
  const t = obj(template);
  const spec = obj(t?.["spec"]);
  if (spec !== undefined) defaultPodSpec(spec as unknown as PodSpec);
}

/** SetDefaults_Pod: limits without requests make the requests (pods only, not templates). */
function defaultRequestsFromLimits(spec: unknown): void {
  const s = obj(spec);
  for (const list of ["containers", "initContainers"]) {
    for (const c of (s?.[list] as Obj[] | undefined) ?? []) {
      const res = obj(c["resources"]);
      const limits = obj(res?.["limits"]);
      if (res === undefined || limits === undefined) continue;
      const requests = obj(res["requests"]) ?? {};
      for (const [k, v] of Object.entries(limits)) if (requests[k] === undefined) requests[k] = v;
      res["requests"] = requests;
    }
  }
}

/** Applies the defaults of an object's kind in place. */
export function applyDefaults(o: KubeObject): void {
  const spec = obj(o.spec);
  switch (o.kind) {
    case "Pod":
      if (spec !== undefined) {
        defaultPodSpec(spec as unknown as PodSpec);
        defaultRequestsFromLimits(spec);
      }
      break;
    case "Deployment":
      if (spec !== undefined) {
        setIfAbsent(spec, "replicas", 1);
        const strategy = obj(spec["strategy"]) ?? {};
        spec["strategy"] = strategy;
        setIfAbsent(strategy, "type", "RollingUpdate");
        if (strategy["type"] === "RollingUpdate") {
          const ru = obj(strategy["rollingUpdate"]) ?? {};
          strategy["rollingUpdate"] = ru;
          setIfAbsent(ru, "maxUnavailable", "25%");
          setIfAbsent(ru, "maxSurge", "25%");
        }
        setIfAbsent(spec, "revisionHistoryLimit", 10);
        setIfAbsent(spec, "progressDeadlineSeconds", 600);
        defaultTemplate(spec["template"]);
      }
      break;
    case "ReplicaSet":
      if (spec !== undefined) {
        setIfAbsent(spec, "replicas", 1);
        defaultTemplate(spec["template"]);
      }
      break;
    case "Service":
      if (spec !== undefined) defaultService(spec, o.metadata.name ?? "");
      break;
    case "Namespace": {
      const s = spec ?? {};
      setIfAbsent(s, "finalizers", ["kubernetes"]);
      o.spec = s;
      break;
    }
    case "Endpoints":
      for (const ss of (o["subsets"] as Obj[] | undefined) ?? []) for (const p of (ss["ports"] as Obj[] | undefined) ?? []) setIfAbsent(p, "protocol", "TCP");
      break;
    case "EndpointSlice":
      for (const p of (o["ports"] as Obj[] | undefined) ?? []) {
        setIfAbsent(p, "protocol", "TCP");
        setIfAbsent(p, "name", "");
      }
      break;
  }
}

function defaultService(spec: Obj, _name: string): void {
  setIfAbsent(spec, "type", "ClusterIP");
  setIfAbsent(spec, "sessionAffinity", "None");
  const type = spec["type"];
  if (spec["sessionAffinity"] === "ClientIP") {
    const cfg = obj(spec["sessionAffinityConfig"]) ?? {};
    spec["sessionAffinityConfig"] = cfg;
    const cip = obj(cfg["clientIP"]) ?? {};
    cfg["clientIP"] = cip;
    setIfAbsent(cip, "timeoutSeconds", 10800);
  }
  for (const p of (spec["ports"] as Obj[] | undefined) ?? []) {
    if (obj(p) === undefined) continue;
    setIfAbsent(p, "protocol", "TCP");
    if (p["targetPort"] === undefined || p["targetPort"] === 0 || p["targetPort"] === "") p["targetPort"] = p["port"];
  }
  if (type === "NodePort" || type === "LoadBalancer") setIfAbsent(spec, "externalTrafficPolicy", "Cluster");
  if (type === "LoadBalancer") setIfAbsent(spec, "allocateLoadBalancerNodePorts", true);
  if (type !== "ExternalName") {
    setIfAbsent(spec, "internalTrafficPolicy", "Cluster");
    const headlessNoSelector = spec["clusterIP"] === "None" && (obj(spec["selector"]) === undefined || Object.keys(obj(spec["selector"])!).length === 0);
    setIfAbsent(spec, "ipFamilyPolicy", headlessNoSelector ? "RequireDualStack" : "SingleStack");
    setIfAbsent(spec, "ipFamilies", ["IPv4"]);
  }
}

/**
 * The DefaultIngressClass admission plugin: an Ingress created with neither
 * spec.ingressClassName nor the old `kubernetes.io/ingress.class`
 * annotation gets the IngressClass marked
 * `ingressclass.kubernetes.io/is-default-class: "true"` (the newest, if
 * several are).
 */
export function admitIngress(o: KubeObject, classes: readonly KubeObject[]): void {
  const spec = obj(o.spec) ?? {};
  if (spec["ingressClassName"] !== undefined || o.metadata.annotations?.["kubernetes.io/ingress.class"] !== undefined) return;
  const defaults = classes
    .filter((c) => c.metadata.annotations?.["ingressclass.kubernetes.io/is-default-class"] === "true")
    .sort((a, b) => (b.metadata.creationTimestamp ?? "").localeCompare(a.metadata.creationTimestamp ?? "") || (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""));
  const chosen = defaults[0]?.metadata.name;
  if (chosen === undefined) return;
  spec["ingressClassName"] = chosen;
  o.spec = spec;
}
