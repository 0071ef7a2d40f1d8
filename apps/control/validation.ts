/**
 * Validation as the API server does it (the validation packages of each API group), returning
 * field errors with its paths and wording: names, labels, pod specs
 * (containers, ports, resources, probes, tolerations), services, workloads'
 * selectors and templates, config maps, nodes, endpoints, ingresses and
 * ingress classes, and what updates
 * may not change.
 */
import type { Container, KubeObject, LabelSelector, ObjectMeta, PodSpec } from "@kemu/api";
import { type FieldError, goMap, goQuote, supported } from "./errors.ts";
import { parseQuantity, quantityMilli } from "./quantity.ts";
import { fromLabelSelector, matches, validateLabelValue, validateQualifiedName } from "./selector.ts";
import { jsonEqual } from "./_meta.ts";

type Obj = Record<string, unknown>;
type Errs = FieldError[];

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** The API server's wording for a name that is not a DNS-1123 subdomain. */
export const DNS1123_SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
/** The API server's wording for a name that is not a DNS-1123 label. */
export const DNS1123_LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
/** The API server's wording for a name that is not a DNS-1035 label (Service names). */
export const DNS1035_LABEL_MSG =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

/** Problems with a DNS-1123 subdomain (most object names). */
export function isDNS1123Subdomain(v: string): string[] {
  const out: string[] = [];
  if (v.length > 253) out.push("must be no more than 253 characters");
  if (!DNS1123_SUBDOMAIN.test(v)) out.push(DNS1123_SUBDOMAIN_MSG);
  return out;
}

/** Problems with a DNS-1123 label (namespaces, container names, port names of services). */
export function isDNS1123Label(v: string): string[] {
  const out: string[] = [];
  if (v.length > 63) out.push("must be no more than 63 characters");
  if (!DNS1123_LABEL.test(v)) out.push(DNS1123_LABEL_MSG);
  return out;
}

/** Problems with a DNS-1035 label (Service names). */
export function isDNS1035Label(v: string): string[] {
  const out: string[] = [];
  if (v.length > 63) out.push("must be no more than 63 characters");
  if (!DNS1035_LABEL.test(v)) out.push(DNS1035_LABEL_MSG);
  return out;
}

/** Problems with a port number (1–65535). */
export function isValidPortNum(p: number): string[] {
  return p >= 1 && p <= 65535 ? [] : ["must be between 1 and 65535, inclusive"];
}

/** Problems with a port name (an IANA service name). */
export function isValidPortName(name: string): string[] {
  const out: string[] = [];
  if (name.length > 15) out.push("must be no more than 15 characters");
  if (!/^[-a-z0-9]+$/.test(name)) out.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  if (!/[a-z]/.test(name)) out.push("must contain at least one letter (a-z)");
  if (name.includes("--")) out.push("must not contain consecutive hyphens");
  if (name.startsWith("-") || name.endsWith("-")) out.push("must not begin or end with a hyphen");
  return out;
}

/** Problems with an IPv4 address. */
export function isValidIPv4(ip: string): boolean {
  const parts = ip.split(".");
  return parts.length === 4 && parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255);
}

const IP_MSG = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)";

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

function invalidEach(errs: Errs, field: string, value: string | number, msgs: readonly string[]): void {
  for (const detail of msgs) errs.push({ type: "Invalid", field, value, detail });
}

/** How an object's name is validated, per kind. */
function nameValidator(kind: string): (v: string) => string[] {
  switch (kind) {
    case "Service":
      return isDNS1035Label;
    case "Namespace":
      return isDNS1123Label;
    case "Event":
      return () => [];
    default:
      return isDNS1123Subdomain;
  }
}

/** Labels (keys are qualified names, values label values). */
export function validateLabels(labels: Readonly<Record<string, string>> | undefined, field: string): Errs {
  const errs: Errs = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    const kerr = validateQualifiedName(k);
    if (kerr !== undefined) errs.push({ type: "Invalid", field, value: k, detail: kerr });
    const verr = validateLabelValue(v);
    if (verr !== undefined) errs.push({ type: "Invalid", field, value: v, detail: verr });
  }
  return errs;
}

/** ObjectMeta on create: name (or generateName), labels, annotations, owner references. */
export function validateObjectMeta(meta: ObjectMeta, options: { kind: string; namespaced: boolean; field?: string }): Errs {
  const { kind, namespaced } = options;
  const field = options.field ?? "metadata";
  const errs: Errs = [];
  const nameFn = nameValidator(kind);
  if ((meta.name === undefined || meta.name === "") && (meta.generateName === undefined || meta.generateName === "")) {
    errs.push({ type: "Required", field: `${field}.name`, detail: "name or generateName is required" });
  } else if (meta.name !== undefined && meta.name !== "") {
    invalidEach(errs, `${field}.name`, meta.name, nameFn(meta.name));
  }
  if (meta.generateName !== undefined && meta.generateName !== "" && (meta.name === undefined || meta.name === "")) {
    // generateName is validated as its prefix would be with a suffix appended.
    const probe = meta.generateName.endsWith("-") ? `${meta.generateName}a` : meta.generateName;
    invalidEach(errs, `${field}.generateName`, meta.generateName, nameFn(probe));
  }
  if (namespaced && (meta.namespace === undefined || meta.namespace === "")) errs.push({ type: "Required", field: `${field}.namespace` });
  errs.push(...validateLabels(meta.labels, `${field}.labels`));
  let size = 0;
  for (const [k, v] of Object.entries(meta.annotations ?? {})) {
    const kerr = validateQualifiedName(k.toLowerCase());
    if (kerr !== undefined) errs.push({ type: "Invalid", field: `${field}.annotations`, value: k, detail: kerr });
    size += k.length + v.length;
  }
  if (size > 262144) errs.push({ type: "TooLong", field: `${field}.annotations`, detail: "may not be more than 262144 bytes" });
  (meta.ownerReferences ?? []).forEach((r, i) => {
    const p = `${field}.ownerReferences[${i}]`;
    if (!r.apiVersion) errs.push({ type: "Invalid", field: `${p}.apiVersion`, value: "", detail: "version must not be empty" });
    if (!r.kind) errs.push({ type: "Invalid", field: `${p}.kind`, value: "", detail: "kind must not be empty" });
    if (!r.name) errs.push({ type: "Invalid", field: `${p}.name`, value: "", detail: "name must not be empty" });
    if (!r.uid) errs.push({ type: "Invalid", field: `${p}.uid`, value: "", detail: "uid must not be empty" });
  });
  const controllers = (meta.ownerReferences ?? []).filter((r) => r.controller === true);
  if (controllers.length > 1)
    errs.push({ type: "Invalid", field: `${field}.ownerReferences`, value: { go: "[]v1.OwnerReference{…}" }, detail: "Only one reference can have Controller set to true" });
  return errs;
}

const STANDARD_RESOURCES = new Set(["cpu", "memory", "ephemeral-storage", "pods", "storage"]);

function validateResources(res: unknown, field: string): Errs {
  const errs: Errs = [];
  const r = res as { limits?: Record<string, string>; requests?: Record<string, string> } | undefined;
  if (r === undefined) return errs;
  for (const which of ["limits", "requests"] as const) {
    for (const [name, value] of Object.entries(r[which] ?? {})) {
      const p = `${field}.${which}[${name}]`;
      if (!STANDARD_RESOURCES.has(name) && !name.startsWith("hugepages-") && !name.includes("/"))
        errs.push({ type: "Invalid", field: p, value: name, detail: "must be a standard resource type or fully qualified" });
      const q = parseQuantity(value);
      if (q !== undefined && q.nano < 0n) errs.push({ type: "Invalid", field: p, value, detail: "must be greater than or equal to 0" });
    }
  }
  for (const [name, value] of Object.entries(r.requests ?? {})) {
    const lim = r.limits?.[name];
    if (lim === undefined) continue;
    const q = parseQuantity(value);
    const l = parseQuantity(lim);
    if (q !== undefined && l !== undefined && quantityMilli(q) > quantityMilli(l))
      errs.push({ type: "Invalid", field: `${field}.requests`, value, detail: `must be less than or equal to ${name} limit of ${lim}` });
  }
  return errs;
}

function validateProbe(p: unknown, field: string): Errs {
  const errs: Errs = [];
  const probe = p as Obj | undefined;
  if (probe === undefined) return errs;
  const handlers = ["exec", "httpGet", "tcpSocket", "grpc"].filter((k) => probe[k] !== undefined);
  if (handlers.length === 0) errs.push({ type: "Required", field, detail: "must specify a handler type" });
  else if (handlers.length > 1) errs.push({ type: "Forbidden", field: `${field}.${handlers[1]}`, detail: "may not specify more than 1 handler type" });
  for (const k of ["initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"]) {
    const v = probe[k];
    if (typeof v === "number" && v < 0) errs.push({ type: "Invalid", field: `${field}.${k}`, value: v, detail: "must be greater than or equal to 0" });
  }
  const http = probe["httpGet"] as Obj | undefined;
  if (http !== undefined) errs.push(...validatePortRef(http["port"], `${field}.httpGet.port`));
  const tcp = probe["tcpSocket"] as Obj | undefined;
  if (tcp !== undefined) errs.push(...validatePortRef(tcp["port"], `${field}.tcpSocket.port`));
  return errs;
}

function validatePortRef(port: unknown, field: string): Errs {
  const errs: Errs = [];
  if (typeof port === "number") invalidEach(errs, field, port, isValidPortNum(port));
  else if (typeof port === "string") invalidEach(errs, field, port, isValidPortName(port));
  else errs.push({ type: "Required", field });
  return errs;
}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const ENV_MSG =
  "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')";

function validateContainers(
  list: readonly Container[] | undefined,
  field: string,
  names: Set<string>,
  portNames: Set<string>,
  volumes: Set<string>,
  hostNetwork: boolean,
): Errs {
  const errs: Errs = [];
  (list ?? []).forEach((c, i) => {
    const p = `${field}[${i}]`;
    if (c === null || typeof c !== "object") return;
    if (c.name === undefined || c.name === "") errs.push({ type: "Required", field: `${p}.name` });
    else {
      invalidEach(errs, `${p}.name`, c.name, isDNS1123Label(c.name));
      if (names.has(c.name)) errs.push({ type: "Duplicate", field: `${p}.name`, value: c.name });
      names.add(c.name);
    }
    if (c.image === undefined || c.image === "") errs.push({ type: "Required", field: `${p}.image` });
    else if (c.image.trim() !== c.image) errs.push({ type: "Invalid", field: `${p}.image`, value: c.image, detail: "must not have leading or trailing whitespace" });
    const pull = c["imagePullPolicy"];
    if (pull !== undefined && !["Always", "IfNotPresent", "Never"].includes(pull as string))
      errs.push({ type: "NotSupported", field: `${p}.imagePullPolicy`, value: String(pull), detail: supported(["Always", "IfNotPresent", "Never"]) });
    const tmp = c["terminationMessagePolicy"];
    if (tmp !== undefined && !["File", "FallbackToLogsOnError"].includes(tmp as string))
      errs.push({ type: "NotSupported", field: `${p}.terminationMessagePolicy`, value: String(tmp), detail: supported(["File", "FallbackToLogsOnError"]) });
    (c.ports ?? []).forEach((port, j) => {
      const pp = `${p}.ports[${j}]`;
      if (port.name !== undefined && port.name !== "") {
        invalidEach(errs, `${pp}.name`, port.name, isValidPortName(port.name));
        if (portNames.has(port.name)) errs.push({ type: "Duplicate", field: `${pp}.name`, value: port.name });
        portNames.add(port.name);
      }
      if (port.containerPort === undefined || port.containerPort === 0) errs.push({ type: "Required", field: `${pp}.containerPort` });
      else invalidEach(errs, `${pp}.containerPort`, port.containerPort, isValidPortNum(port.containerPort));
      if (port.hostPort !== undefined && port.hostPort !== 0) invalidEach(errs, `${pp}.hostPort`, port.hostPort, isValidPortNum(port.hostPort));
      if (hostNetwork && port.hostPort !== undefined && port.hostPort !== 0 && port.hostPort !== port.containerPort)
        errs.push({ type: "Invalid", field: `${pp}.hostPort`, value: port.hostPort, detail: "must match `containerPort` when `hostNetwork` is true" });
      if (port.protocol === undefined) errs.push({ type: "Required", field: `${pp}.protocol` });
      else if (!["TCP", "UDP", "SCTP"].includes(port.protocol))
        errs.push({ type: "NotSupported", field: `${pp}.protocol`, value: port.protocol, detail: supported(["SCTP", "TCP", "UDP"]) });
    });
    (c.env ?? []).forEach((e, j) => {
      const ep = `${p}.env[${j}]`;
      if (e.name === undefined || e.name === "") errs.push({ type: "Required", field: `${ep}.name` });
      else if (!ENV_NAME.test(e.name)) errs.push({ type: "Invalid", field: `${ep}.name`, value: e.name, detail: ENV_MSG });
    });
    errs.push(...validateResources(c.resources, `${p}.resources`));
    ((c["volumeMounts"] as Obj[] | undefined) ?? []).forEach((m, j) => {
      const mp = `${p}.volumeMounts[${j}]`;
      const name = str(m["name"]) ?? "";
      if (name === "") errs.push({ type: "Required", field: `${mp}.name` });
      else if (!volumes.has(name)) errs.push({ type: "NotFound", field: `${mp}.name`, value: name });
      if (str(m["mountPath"]) === undefined || m["mountPath"] === "") errs.push({ type: "Required", field: `${mp}.mountPath` });
    });
    errs.push(...validateProbe(c.livenessProbe, `${p}.livenessProbe`));
    errs.push(...validateProbe(c.readinessProbe, `${p}.readinessProbe`));
    errs.push(...validateProbe(c["startupProbe"], `${p}.startupProbe`));
  });
  return errs;
}

/** Options of pod spec validation. */
export interface PodSpecOptions {
  /** Restart policies allowed (pod templates of Deployments and ReplicaSets allow only Always). */
  restartPolicies?: readonly string[];
}

/** A PodSpec (of a pod or a template), at a path (`spec` or `spec.template.spec`). */
export function validatePodSpec(spec: PodSpec | undefined, field: string, options: PodSpecOptions = {}): Errs {
  const errs: Errs = [];
  if (spec === undefined || spec === null) return [{ type: "Required", field }];
  const volumes = new Set<string>();
  ((spec["volumes"] as Obj[] | undefined) ?? []).forEach((v, i) => {
    const vp = `${field}.volumes[${i}]`;
    const name = str(v["name"]) ?? "";
    if (name === "") errs.push({ type: "Required", field: `${vp}.name` });
    else {
      invalidEach(errs, `${vp}.name`, name, isDNS1123Label(name));
      if (volumes.has(name)) errs.push({ type: "Duplicate", field: `${vp}.name`, value: name });
      volumes.add(name);
    }
    const sources = Object.keys(v).filter((k) => k !== "name");
    if (sources.length === 0) errs.push({ type: "Required", field: vp, detail: "must specify a volume type" });
    else if (sources.length > 1) errs.push({ type: "Forbidden", field: `${vp}.${sources[1]}`, detail: "may not specify more than 1 volume type" });
  });
  const names = new Set<string>();
  const portNames = new Set<string>();
  const hostNetwork = spec.hostNetwork === true;
  if (spec.containers === undefined || spec.containers.length === 0) errs.push({ type: "Required", field: `${field}.containers` });
  errs.push(...validateContainers(spec.initContainers, `${field}.initContainers`, names, portNames, volumes, hostNetwork));
  errs.push(...validateContainers(spec.containers, `${field}.containers`, names, portNames, volumes, hostNetwork));
  const restart = options.restartPolicies ?? ["Always", "OnFailure", "Never"];
  if (spec.restartPolicy !== undefined && !restart.includes(spec.restartPolicy))
    errs.push({ type: "NotSupported", field: `${field}.restartPolicy`, value: spec.restartPolicy, detail: supported(restart) });
  const dns = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"];
  if (spec.dnsPolicy !== undefined && !dns.includes(spec.dnsPolicy))
    errs.push({ type: "NotSupported", field: `${field}.dnsPolicy`, value: spec.dnsPolicy, detail: supported(dns) });
  if (spec.dnsPolicy === "None" && spec["dnsConfig"] === undefined)
    errs.push({ type: "Required", field: `${field}.dnsConfig`, detail: "must provide `dnsConfig` when `dnsPolicy` is None" });
  const ads = spec["activeDeadlineSeconds"];
  if (typeof ads === "number" && ads <= 0) errs.push({ type: "Invalid", field: `${field}.activeDeadlineSeconds`, value: ads, detail: "must be greater than or equal to 1" });
  errs.push(...validateLabels(spec.nodeSelector, `${field}.nodeSelector`));
  for (const k of ["hostname", "subdomain"]) {
    const v = str(spec[k]);
    if (v !== undefined && v !== "") invalidEach(errs, `${field}.${k}`, v, isDNS1123Label(v));
  }
  if (spec.nodeName !== undefined && spec.nodeName !== "") invalidEach(errs, `${field}.nodeName`, spec.nodeName, isDNS1123Subdomain(spec.nodeName));
  ((spec["tolerations"] as Obj[] | undefined) ?? []).forEach((t, i) => {
    const tp = `${field}.tolerations[${i}]`;
    const op = str(t["operator"]) ?? "Equal";
    const key = str(t["key"]) ?? "";
    if (key !== "") {
      const e = validateQualifiedName(key);
      if (e !== undefined) errs.push({ type: "Invalid", field: `${tp}.key`, value: key, detail: e });
    }
    if (key === "" && op !== "Exists")
      errs.push({ type: "Invalid", field: `${tp}.operator`, value: op, detail: "operator must be Exists when `key` is empty, which means \"match all values and all keys\"" });
    if (!["Equal", "Exists", ""].includes(op)) errs.push({ type: "NotSupported", field: `${tp}.operator`, value: op, detail: supported(["Equal", "Exists"]) });
    if (op === "Exists" && str(t["value"]) !== undefined && t["value"] !== "")
      errs.push({ type: "Invalid", field: `${tp}.operator`, value: String(t["value"]), detail: "value must be empty when `operator` is 'Exists'" });
    const effect = str(t["effect"]);
    if (effect !== undefined && effect !== "" && !["NoSchedule", "PreferNoSchedule", "NoExecute"].includes(effect))
      errs.push({ type: "NotSupported", field: `${tp}.effect`, value: effect, detail: supported(["NoExecute", "NoSchedule", "PreferNoSchedule"]) });
    if (t["tolerationSeconds"] !== undefined && effect !== "NoExecute")
      errs.push({ type: "Invalid", field: `${tp}.effect`, value: effect ?? "", detail: "effect must be 'NoExecute' when `tolerationSeconds` is set" });
  });
  return errs;
}

/** Go's `%#v` of a LabelSelector, as field errors quote it. */
export function goLabelSelector(sel: LabelSelector | undefined): { go: string } {
  if (sel === undefined) return { go: "(*v1.LabelSelector)(nil)" };
  const exprs =
    sel.matchExpressions === undefined
      ? "[]v1.LabelSelectorRequirement(nil)"
      : `[]v1.LabelSelectorRequirement{${sel.matchExpressions
          .map((e) => `v1.LabelSelectorRequirement{Key:${goQuote(e.key)}, Operator:${goQuote(e.operator)}, Values:${e.values === undefined ? "[]string(nil)" : `[]string{${e.values.map(goQuote).join(", ")}}`}}`)
          .join(", ")}}`;
  return { go: `v1.LabelSelector{MatchLabels:${goMap(sel.matchLabels).go}, MatchExpressions:${exprs}}` };
}

function validateLabelSelector(sel: LabelSelector, field: string): Errs {
  const errs: Errs = [];
  errs.push(...validateLabels(sel.matchLabels, `${field}.matchLabels`));
  (sel.matchExpressions ?? []).forEach((e, i) => {
    const p = `${field}.matchExpressions[${i}]`;
    const e2 = validateQualifiedName(e.key ?? "");
    if (e2 !== undefined) errs.push({ type: "Invalid", field: `${p}.key`, value: e.key ?? "", detail: e2 });
    switch (e.operator) {
      case "In":
      case "NotIn":
        if ((e.values ?? []).length === 0) errs.push({ type: "Required", field: `${p}.values`, detail: "must be specified when `operator` is 'In' or 'NotIn'" });
        break;
      case "Exists":
      case "DoesNotExist":
        if ((e.values ?? []).length > 0) errs.push({ type: "Forbidden", field: `${p}.values`, detail: "may not be specified when `operator` is 'Exists' or 'DoesNotExist'" });
        break;
      default:
        errs.push({ type: "Invalid", field: `${p}.operator`, value: String(e.operator), detail: "not a valid selector operator" });
    }
  });
  return errs;
}

function validateSelectorAndTemplate(spec: Obj, kind: string): Errs {
  const errs: Errs = [];
  const sel = spec["selector"] as LabelSelector | undefined;
  const template = spec["template"] as { metadata?: ObjectMeta; spec?: PodSpec } | undefined;
  if (sel === undefined) errs.push({ type: "Required", field: "spec.selector" });
  else {
    errs.push(...validateLabelSelector(sel, "spec.selector"));
    if (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0)
      errs.push({ type: "Invalid", field: "spec.selector", value: goLabelSelector(sel), detail: "empty selector is invalid for deployment" });
  }
  if (template === undefined) {
    errs.push({ type: "Required", field: "spec.template" });
    return errs;
  }
  const labels = template.metadata?.labels;
  errs.push(...validateLabels(labels, "spec.template.metadata.labels"));
  const s = fromLabelSelector(sel);
  if (sel !== undefined && s !== undefined && s.length > 0 && !matches(s, labels))
    errs.push({ type: "Invalid", field: "spec.template.metadata.labels", value: goMap(labels ?? {}), detail: "`selector` does not match template `labels`" });
  errs.push(...validatePodSpec(template.spec, "spec.template.spec", { restartPolicies: ["Always"] }));
  for (const k of ["replicas", "minReadySeconds", "revisionHistoryLimit"]) {
    const v = spec[k];
    if (typeof v === "number" && v < 0) errs.push({ type: "Invalid", field: `spec.${k}`, value: v, detail: "must be greater than or equal to 0" });
  }
  if (kind === "Deployment") errs.push(...validateStrategy(spec));
  return errs;
}

const PERCENT = /^[0-9]+%$/;

function intOrPercent(v: unknown, field: string, errs: Errs): number | undefined {
  if (typeof v === "number") {
    if (v < 0) errs.push({ type: "Invalid", field, value: v, detail: "must be greater than or equal to 0" });
    return v;
  }
  if (typeof v === "string") {
    if (!PERCENT.test(v)) {
      errs.push({
        type: "Invalid",
        field,
        value: v,
        detail: "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
      });
      return undefined;
    }
    const n = Number(v.slice(0, -1));
    if (n > 100) errs.push({ type: "Invalid", field, value: v, detail: "must not be greater than 100%" });
    return n;
  }
  return undefined;
}

function goIntOrString(v: unknown): { go: string } {
  return typeof v === "string"
    ? { go: `intstr.IntOrString{Type:1, IntVal:0, StrVal:${goQuote(v)}}` }
    : { go: `intstr.IntOrString{Type:0, IntVal:${Number(v ?? 0)}, StrVal:""}` };
}

function validateStrategy(spec: Obj): Errs {
  const errs: Errs = [];
  const st = spec["strategy"] as { type?: string; rollingUpdate?: Obj } | undefined;
  if (st === undefined) return errs;
  const type = st.type ?? "RollingUpdate";
  if (!["Recreate", "RollingUpdate"].includes(type)) errs.push({ type: "NotSupported", field: "spec.strategy.type", value: type, detail: supported(["Recreate", "RollingUpdate"]) });
  if (type === "Recreate" && st.rollingUpdate !== undefined)
    errs.push({ type: "Forbidden", field: "spec.strategy.rollingUpdate", detail: "may not be specified when strategy `type` is 'Recreate'" });
  if (type === "RollingUpdate" && st.rollingUpdate !== undefined) {
    const su = intOrPercent(st.rollingUpdate["maxSurge"], "spec.strategy.rollingUpdate.maxSurge", errs);
    const un = intOrPercent(st.rollingUpdate["maxUnavailable"], "spec.strategy.rollingUpdate.maxUnavailable", errs);
    if (su === 0 && un === 0)
      errs.push({ type: "Invalid", field: "spec.strategy.rollingUpdate.maxUnavailable", value: goIntOrString(st.rollingUpdate["maxUnavailable"]), detail: "may not be 0 when `maxSurge` is 0" });
  }
  const pds = spec["progressDeadlineSeconds"];
  const mrs = (spec["minReadySeconds"] as number | undefined) ?? 0;
  if (typeof pds === "number" && pds <= mrs) errs.push({ type: "Invalid", field: "spec.progressDeadlineSeconds", value: pds, detail: "must be greater than minReadySeconds" });
  return errs;
}

/** Go's `%#v` of a core.ServicePort, as a Duplicate error quotes it. */
function goServicePort(p: Obj): { go: string } {
  const app = str(p["appProtocol"]);
  return {
    go: `core.ServicePort{Name:${goQuote(str(p["name"]) ?? "")}, Protocol:${goQuote(str(p["protocol"]) ?? "")}, AppProtocol:${app === undefined ? "(*string)(nil)" : `&${goQuote(app)}`}, Port:${Number(p["port"] ?? 0)}, TargetPort:${goIntOrString(p["targetPort"]).go}, NodePort:${Number(p["nodePort"] ?? 0)}}`,
  };
}

function validateService(o: KubeObject): Errs {
  const errs: Errs = [];
  const spec = (o.spec ?? {}) as Obj;
  const type = str(spec["type"]) ?? "ClusterIP";
  const types = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
  if (!types.includes(type)) errs.push({ type: "NotSupported", field: "spec.type", value: type, detail: supported(types) });
  const clusterIP = str(spec["clusterIP"]) ?? "";
  const headless = clusterIP === "None";
  const ports = (spec["ports"] as Obj[] | undefined) ?? [];
  if (type === "ExternalName") {
    const en = str(spec["externalName"]) ?? "";
    if (en === "") errs.push({ type: "Required", field: "spec.externalName" });
    else invalidEach(errs, "spec.externalName", en, isDNS1123Subdomain(en.replace(/\.$/, "")));
    if (clusterIP !== "") errs.push({ type: "Forbidden", field: "spec.clusterIP", detail: "may not be set for ExternalName services" });
  } else if (ports.length === 0 && !headless) {
    errs.push({ type: "Required", field: "spec.ports" });
  }
  const names = new Set<string>();
  const seen = new Set<string>();
  ports.forEach((p, i) => {
    const pp = `spec.ports[${i}]`;
    const name = str(p["name"]) ?? "";
    if (ports.length > 1 && name === "") errs.push({ type: "Required", field: `${pp}.name` });
    else if (name !== "") {
      invalidEach(errs, `${pp}.name`, name, isDNS1123Label(name));
      if (names.has(name)) errs.push({ type: "Duplicate", field: `${pp}.name`, value: name });
      names.add(name);
    }
    const protocol = str(p["protocol"]) ?? "";
    if (protocol === "") errs.push({ type: "Required", field: `${pp}.protocol` });
    else if (!["TCP", "UDP", "SCTP"].includes(protocol)) errs.push({ type: "NotSupported", field: `${pp}.protocol`, value: protocol, detail: supported(["SCTP", "TCP", "UDP"]) });
    const port = (p["port"] as number | undefined) ?? 0;
    invalidEach(errs, `${pp}.port`, port, isValidPortNum(port));
    const tp = p["targetPort"];
    if (typeof tp === "number") invalidEach(errs, `${pp}.targetPort`, tp, isValidPortNum(tp));
    else if (typeof tp === "string") invalidEach(errs, `${pp}.targetPort`, tp, isValidPortName(tp));
    const np = p["nodePort"];
    if (typeof np === "number" && np !== 0 && type === "ClusterIP")
      errs.push({ type: "Forbidden", field: `${pp}.nodePort`, detail: "may not be used when `type` is 'ClusterIP'" });
    const key = `${port}/${protocol}`;
    if (seen.has(key)) errs.push({ type: "Duplicate", field: pp, value: goServicePort(p) });
    seen.add(key);
  });
  errs.push(...validateLabels(spec["selector"] as Record<string, string> | undefined, "spec.selector"));
  const affinity = str(spec["sessionAffinity"]);
  if (affinity !== undefined && !["ClientIP", "None"].includes(affinity))
    errs.push({ type: "NotSupported", field: "spec.sessionAffinity", value: affinity, detail: supported(["ClientIP", "None"]) });
  if (clusterIP !== "" && !headless && !isValidIPv4(clusterIP) && type !== "ExternalName")
    errs.push({ type: "Invalid", field: "spec.clusterIPs[0]", value: clusterIP, detail: IP_MSG });
  if (headless && (type === "NodePort" || type === "LoadBalancer"))
    errs.push({ type: "Invalid", field: "spec.clusterIPs[0]", value: "None", detail: `may not be set to 'None' for ${type} services` });
  const etp = str(spec["externalTrafficPolicy"]);
  if (etp !== undefined && type !== "NodePort" && type !== "LoadBalancer")
    errs.push({ type: "Invalid", field: "spec.externalTrafficPolicy", value: etp, detail: "may only be set when `type` is 'NodePort' or 'LoadBalancer'" });
  else if (etp !== undefined && !["Cluster", "Local"].includes(etp))
    errs.push({ type: "NotSupported", field: "spec.externalTrafficPolicy", value: etp, detail: supported(["Cluster", "Local"]) });
  ((spec["externalIPs"] as string[] | undefined) ?? []).forEach((ip, i) => {
    if (!isValidIPv4(ip)) errs.push({ type: "Invalid", field: `spec.externalIPs[${i}]`, value: ip, detail: IP_MSG });
  });
  return errs;
}

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

function validateConfigMap(o: KubeObject): Errs {
  const errs: Errs = [];
  let size = 0;
  for (const which of ["data", "binaryData"]) {
    for (const [k, v] of Object.entries((o[which] as Record<string, string> | undefined) ?? {})) {
      if (!CONFIG_KEY.test(k) || k.length > 253)
        errs.push({
          type: "Invalid",
          field: `${which}[${k}]`,
          value: k,
          detail: "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
        });
      size += k.length + v.length;
    }
  }
  if (size > 1048576) errs.push({ type: "TooLong", field: "data", detail: "must have at most 1048576 bytes" });
  return errs;
}

function validateNode(o: KubeObject): Errs {
  const errs: Errs = [];
  const spec = (o.spec ?? {}) as Obj;
  const cidrs = (spec["podCIDRs"] as string[] | undefined) ?? (str(spec["podCIDR"]) ? [spec["podCIDR"] as string] : []);
  cidrs.forEach((c, i) => {
    const [ip, len] = c.split("/");
    if (ip === undefined || !isValidIPv4(ip) || len === undefined || !/^\d+$/.test(len) || Number(len) > 32)
      errs.push({ type: "Invalid", field: `spec.podCIDRs[${i}]`, value: c, detail: "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)" });
  });
  ((spec["taints"] as Obj[] | undefined) ?? []).forEach((t, i) => {
    const tp = `spec.taints[${i}]`;
    const key = str(t["key"]) ?? "";
    if (key === "") errs.push({ type: "Required", field: `${tp}.key` });
    const effect = str(t["effect"]) ?? "";
    if (effect === "") errs.push({ type: "Required", field: `${tp}.effect` });
    else if (!["NoSchedule", "PreferNoSchedule", "NoExecute"].includes(effect))
      errs.push({ type: "NotSupported", field: `${tp}.effect`, value: effect, detail: supported(["NoSchedule", "PreferNoSchedule", "NoExecute"]) });
  });
  return errs;
}

function validateEndpoints(o: KubeObject): Errs {
  const errs: Errs = [];
  ((o["subsets"] as Obj[] | undefined) ?? []).forEach((ss, i) => {
    for (const which of ["addresses", "notReadyAddresses"]) {
      ((ss[which] as Obj[] | undefined) ?? []).forEach((a, j) => {
        const ip = str(a["ip"]) ?? "";
        if (!isValidIPv4(ip)) errs.push({ type: "Invalid", field: `subsets[${i}].${which}[${j}].ip`, value: ip, detail: IP_MSG });
      });
    }
    ((ss["ports"] as Obj[] | undefined) ?? []).forEach((p, j) => {
      const port = (p["port"] as number | undefined) ?? 0;
      invalidEach(errs, `subsets[${i}].ports[${j}].port`, port, isValidPortNum(port));
    });
  });
  return errs;
}

function validateEndpointSlice(o: KubeObject): Errs {
  const errs: Errs = [];
  const at = str(o["addressType"]) ?? "";
  if (at === "") errs.push({ type: "Required", field: "addressType" });
  else if (!["IPv4", "IPv6", "FQDN"].includes(at)) errs.push({ type: "NotSupported", field: "addressType", value: at, detail: supported(["FQDN", "IPv4", "IPv6"]) });
  const eps = (o["endpoints"] as Obj[] | undefined) ?? [];
  if (eps.length > 1000) errs.push({ type: "TooMany", field: "endpoints", value: eps.length, detail: "must have at most 1000 items" });
  eps.forEach((e, i) => {
    const addrs = (e["addresses"] as string[] | undefined) ?? [];
    if (addrs.length === 0) errs.push({ type: "Required", field: `endpoints[${i}].addresses`, detail: "must contain at least 1 address" });
    addrs.forEach((a, j) => {
      if (at === "IPv4" && !isValidIPv4(a)) errs.push({ type: "Invalid", field: `endpoints[${i}].addresses[${j}]`, value: a, detail: IP_MSG });
    });
  });
  ((o["ports"] as Obj[] | undefined) ?? []).forEach((p, j) => {
    const port = p["port"];
    if (typeof port === "number") invalidEach(errs, `ports[${j}].port`, port, isValidPortNum(port));
  });
  return errs;
}

const WILDCARD_DNS1123_SUBDOMAIN = /^\*\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const WILDCARD_MSG =
  "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const INVALID_PATH_SEQUENCES = ["//", "/./", "/../", "%2f", "%2F"];
const INVALID_PATH_SUFFIXES = ["/..", "/."];

/** pathvalidation.IsValidPathSegmentName: a name that can sit in a URL path. */
function pathSegmentName(name: string): string[] {
  if (name === "." || name === "..") return [`may not be '${name}'`];
  const out: string[] = [];
  for (const bad of ["/", "%"]) if (name.includes(bad)) out.push(`may not contain '${bad}'`);
  return out;
}

/** An Ingress backend: a Service (name, port name or number) or a resource, exactly one. */
function validateIngressBackend(b: Obj | undefined, field: string): Errs {
  const errs: Errs = [];
  const service = b?.["service"] as Obj | undefined;
  const resource = b?.["resource"] as Obj | undefined;
  if (service !== undefined && resource !== undefined) return [{ type: "Invalid", field, value: "", detail: "cannot set both resource and service backends" }];
  if (resource !== undefined) {
    const group = str(resource["apiGroup"]);
    if (group !== undefined) invalidEach(errs, `${field}.resource.apiGroup`, group, isDNS1123Subdomain(group));
    for (const k of ["kind", "name"]) {
      const v = str(resource[k]) ?? "";
      if (v === "") errs.push({ type: "Required", field: `${field}.resource.${k}`, detail: `${k} is required` });
      else invalidEach(errs, `${field}.resource.${k}`, v, pathSegmentName(v));
    }
    return errs;
  }
  if (service === undefined) return [{ type: "Invalid", field, value: "", detail: "resource or service backend is required" }];
  const name = str(service["name"]) ?? "";
  if (name === "") errs.push({ type: "Required", field: `${field}.service.name` });
  else invalidEach(errs, `${field}.service.name`, name, isDNS1035Label(name));
  const port = (service["port"] as Obj | undefined) ?? {};
  const portName = str(port["name"]) ?? "";
  const portNumber = (port["number"] as number | undefined) ?? 0;
  if (portName !== "" && portNumber !== 0) errs.push({ type: "Invalid", field, value: "", detail: "cannot set both port name & port number" });
  else if (portName !== "") invalidEach(errs, `${field}.service.port.name`, portName, isValidPortName(portName));
  else if (portNumber !== 0) invalidEach(errs, `${field}.service.port.number`, portNumber, isValidPortNum(portNumber));
  else errs.push({ type: "Required", field, detail: "port name or number is required" });
  return errs;
}

/** networking/validation's ValidateIngressSpec: rules or a default backend, hosts, paths and their types, backends. */
function validateIngress(o: KubeObject): Errs {
  const errs: Errs = [];
  const spec = (o.spec ?? {}) as Obj;
  const rules = spec["rules"] as Obj[] | undefined;
  const defaultBackend = spec["defaultBackend"] as Obj | undefined;
  if ((rules ?? []).length === 0 && defaultBackend === undefined)
    errs.push({ type: "Invalid", field: "spec", value: { go: rules === undefined ? "[]networking.IngressRule(nil)" : "[]networking.IngressRule{}" }, detail: "either `defaultBackend` or `rules` must be specified" });
  if (defaultBackend !== undefined) errs.push(...validateIngressBackend(defaultBackend, "spec.defaultBackend"));
  (rules ?? []).forEach((rule, i) => {
    const rp = `spec.rules[${i}]`;
    const host = str(rule["host"]) ?? "";
    if (host !== "") {
      if (isValidIPv4(host)) errs.push({ type: "Invalid", field: `${rp}.host`, value: host, detail: "must be a DNS name, not an IP address" });
      if (host.includes("*")) {
        if (host.length > 253) errs.push({ type: "Invalid", field: `${rp}.host`, value: host, detail: "must be no more than 253 characters" });
        if (!WILDCARD_DNS1123_SUBDOMAIN.test(host)) errs.push({ type: "Invalid", field: `${rp}.host`, value: host, detail: WILDCARD_MSG });
      } else invalidEach(errs, `${rp}.host`, host, isDNS1123Subdomain(host));
    }
    const http = rule["http"] as Obj | undefined;
    if (http === undefined) return;
    const paths = (http["paths"] as Obj[] | undefined) ?? [];
    if (paths.length === 0) errs.push({ type: "Required", field: `${rp}.http.paths` });
    paths.forEach((p, j) => {
      const pp = `${rp}.http.paths[${j}]`;
      const pathType = str(p["pathType"]);
      if (pathType === undefined) {
        errs.push({ type: "Required", field: `${pp}.pathType`, detail: "pathType must be specified" });
        return;
      }
      const path = str(p["path"]) ?? "";
      if (pathType === "Exact" || pathType === "Prefix") {
        if (!path.startsWith("/")) errs.push({ type: "Invalid", field: `${pp}.path`, value: path, detail: "must be an absolute path" });
        if (path !== "") {
          for (const seq of INVALID_PATH_SEQUENCES) if (path.includes(seq)) errs.push({ type: "Invalid", field: `${pp}.path`, value: path, detail: `must not contain '${seq}'` });
          for (const suf of INVALID_PATH_SUFFIXES) if (path.endsWith(suf)) errs.push({ type: "Invalid", field: `${pp}.path`, value: path, detail: `cannot end with '${suf}'` });
        }
      } else if (pathType === "ImplementationSpecific") {
        if (path !== "" && !path.startsWith("/")) errs.push({ type: "Invalid", field: `${pp}.path`, value: path, detail: "must be an absolute path" });
      } else {
        errs.push({ type: "NotSupported", field: `${pp}.pathType`, value: pathType, detail: supported(["Exact", "ImplementationSpecific", "Prefix"]) });
      }
      errs.push(...validateIngressBackend(p["backend"] as Obj | undefined, `${pp}.backend`));
    });
  });
  const className = str(spec["ingressClassName"]);
  if (className !== undefined) invalidEach(errs, "spec.ingressClassName", className, isDNS1123Subdomain(className));
  return errs;
}

/** An IngressClass: its controller a domain-prefixed path of at most 250 characters. */
function validateIngressClass(o: KubeObject): Errs {
  const errs: Errs = [];
  const controller = str(((o.spec ?? {}) as Obj)["controller"]) ?? "";
  if (controller.length > 250) errs.push({ type: "TooLong", field: "spec.controller", detail: "may not be more than 250 bytes" });
  if (controller === "") errs.push({ type: "Required", field: "spec.controller" });
  else {
    const slash = controller.indexOf("/");
    const domain = slash < 0 ? "" : controller.slice(0, slash);
    if (slash <= 0 || controller.slice(slash + 1) === "")
      errs.push({ type: "Invalid", field: "spec.controller", value: controller, detail: 'must be a domain-prefixed path (such as "acme.io/foo")' });
    else invalidEach(errs, "spec.controller", domain, isDNS1123Subdomain(domain));
  }
  return errs;
}

/** Validates an object for create: metadata, then the kind's own rules. */
export function validateCreate(o: KubeObject, namespaced: boolean): Errs {
  const errs = validateObjectMeta(o.metadata ?? {}, { kind: o.kind, namespaced });
  errs.push(...validateKind(o));
  return errs;
}

function validateKind(o: KubeObject): Errs {
  switch (o.kind) {
    case "Pod":
      return validatePodSpec(o.spec as PodSpec | undefined, "spec");
    case "Deployment":
    case "ReplicaSet":
      if (o.spec === undefined) return [{ type: "Required", field: "spec" }];
      return validateSelectorAndTemplate(o.spec as Obj, o.kind);
    case "Service":
      return validateService(o);
    case "ConfigMap":
      return validateConfigMap(o);
    case "Node":
      return validateNode(o);
    case "Endpoints":
      return validateEndpoints(o);
    case "EndpointSlice":
      return validateEndpointSlice(o);
    case "Ingress":
      return validateIngress(o);
    case "IngressClass":
      return validateIngressClass(o);
    case "Event": {
      const errs: Errs = [];
      const io = o["involvedObject"] as Obj | undefined;
      if (io === undefined || str(io["name"]) === undefined) errs.push({ type: "Required", field: "involvedObject.name" });
      return errs;
    }
    default:
      return [];
  }
}

const POD_UPDATE_MSG =
  "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/** Validates an update: the create rules, plus what may not change. */
export function validateUpdate(o: KubeObject, old: KubeObject, options: { namespaced: boolean }): Errs {
  const { namespaced } = options;
  const errs = validateCreate(o, namespaced);
  switch (o.kind) {
    case "Pod": {
      const strip = (spec: unknown): unknown => {
        const s = JSON.parse(JSON.stringify(spec ?? {})) as Obj;
        for (const list of ["containers", "initContainers"]) for (const c of (s[list] as Obj[] | undefined) ?? []) delete c["image"];
        delete s["activeDeadlineSeconds"];
        delete s["tolerations"];
        delete s["terminationGracePeriodSeconds"];
        return s;
      };
      if (!jsonEqual(strip(o.spec), strip(old.spec))) errs.push({ type: "Forbidden", field: "spec", detail: POD_UPDATE_MSG });
      const oldTol = ((old.spec as Obj | undefined)?.["tolerations"] as unknown[] | undefined) ?? [];
      const newTol = ((o.spec as Obj | undefined)?.["tolerations"] as unknown[] | undefined) ?? [];
      if (!oldTol.every((t) => newTol.some((n) => jsonEqual(n, t)))) errs.push({ type: "Forbidden", field: "spec.tolerations", detail: "existing toleration can not be modified except its tolerationSeconds" });
      break;
    }
    case "Deployment":
    case "ReplicaSet": {
      const sel = (o.spec as Obj | undefined)?.["selector"];
      const oldSel = (old.spec as Obj | undefined)?.["selector"];
      if (!jsonEqual(sel, oldSel)) errs.push({ type: "Invalid", field: "spec.selector", value: goLabelSelector(sel as LabelSelector | undefined), detail: "field is immutable" });
      break;
    }
    case "Service": {
      const spec = (o.spec ?? {}) as Obj;
      const oldSpec = (old.spec ?? {}) as Obj;
      const oldIP = str(oldSpec["clusterIP"]) ?? "";
      const newIP = str(spec["clusterIP"]) ?? "";
      if (oldIP !== "" && newIP !== oldIP && spec["type"] !== "ExternalName" && oldSpec["type"] !== "ExternalName")
        errs.push({ type: "Invalid", field: "spec.clusterIPs[0]", value: newIP, detail: "may not change once set" });
      break;
    }
    case "ConfigMap":
      if (old["immutable"] === true && (!jsonEqual(o["data"], old["data"]) || !jsonEqual(o["binaryData"], old["binaryData"])))
        errs.push({ type: "Forbidden", field: "data", detail: "field is immutable when `immutable` is set" });
      break;
    case "IngressClass": {
      const controller = str((o.spec as Obj | undefined)?.["controller"]) ?? "";
      if (controller !== (str((old.spec as Obj | undefined)?.["controller"]) ?? ""))
        errs.push({ type: "Invalid", field: "spec.controller", value: controller, detail: "field is immutable" });
      break;
    }
    case "Node": {
      const oldCIDR = str((old.spec as Obj | undefined)?.["podCIDR"]) ?? "";
      const newCIDR = str((o.spec as Obj | undefined)?.["podCIDR"]) ?? "";
      if (oldCIDR !== "" && newCIDR !== oldCIDR) errs.push({ type: "Forbidden", field: "spec.podCIDRs", detail: "node updates may not change podCIDR except from \"\" to valid" });
      break;
    }
  }
  return errs;
}
