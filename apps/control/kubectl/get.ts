/**
 * `kubectl get`: resource arguments (`pods`, `pods,svc`, `pod/x`, `pods x y`,
 * `all`), tables with kubectl's spacing and grouping, and the `-o` formats
 * (wide, yaml, json, name, jsonpath, custom-columns).
 */
import { ApiError, type KubeObject, type ResourceInfo } from "@kemu/api";
import { type Env, getObject, kindPrefix, listObjects, mustResource, namespaceFor, sleep, withTypeMeta } from "./_env.ts";
import { TABLE_TABS, alignTabs } from "./_tabwriter.ts";
import { AggregateError, CmdError, SilentExit, aggregate } from "./errors.ts";
import { JsonPath, printValue, relaxedJsonPath } from "./jsonpath.ts";
import { readManifests } from "./manifest.ts";
import { formatLabels } from "./selector.ts";
import { type Table, tableFor } from "./tables.ts";
import { toJson, toYaml } from "./yaml_out.ts";

/** One thing to fetch: a list of a resource, or named objects of it. */
export interface Request {
  resource: ResourceInfo;
  /** Undefined: list them all (by selector). */
  name?: string;
}

/** What `get all` stands for, restricted to what kemu serves. */
const ALL = ["pods", "services", "deployments.apps", "replicasets.apps"];

/**
 * Turns resource arguments into requests as kubectl's builder does
 * (ResourceTypeOrNameArgs); throws kubectl's errors for malformed ones.
 */
export function resolveArgs(args: readonly string[]): Request[] {
  if (args.length === 0) return [];
  const slashes = args.filter((a) => a.includes("/")).length;
  if (slashes > 0) {
    if (slashes !== args.length) {
      throw new CmdError(
        "there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'kubectl get resource/<resource_name>' instead of 'kubectl get resource resource/<resource_name>'",
      );
    }
    return args.map((a) => {
      const seg = a.split("/");
      if (seg.length !== 2) throw new CmdError("arguments in resource/name form may not have more than one slash");
      const [type, name] = seg as [string, string];
      if (type === "" || name === "" || type.split(",").length !== 1) {
        throw new CmdError("arguments in resource/name form must have a single resource and name");
      }
      return { resource: mustResource(type), name };
    });
  }
  const types = args[0]!.split(",").flatMap((t) => (t.toLowerCase() === "all" ? ALL : t === "" ? [] : [t]));
  const resources = types.map(mustResource);
  const names = args.slice(1);
  if (names.length === 0) return resources.map((resource) => ({ resource }));
  return resources.flatMap((resource) => names.map((name) => ({ resource, name })));
}

/** A fetched group: one list, or one named object. */
interface Info {
  resource: ResourceInfo;
  objects: KubeObject[];
}

/** Runs `kubectl get`. */
export async function runGet(env: Env): Promise<void> {
  const f = env.flags;
  const output = f.string("output");
  const allNamespaces = f.bool("all-namespaces");
  const filenames = f.array("filename");
  const args = f.args;
  if (args.length === 0 && filenames.length === 0) {
    env.err('You must specify the type of resource to get. Use "kubectl api-resources" for a complete list of supported resources.\n\n');
    throw new CmdError(
      `Required resource not specified.\nUse "kubectl explain <resource>" for a detailed description of that resource (e.g. kubectl explain pods).\nSee 'kubectl get -h' for help and examples`,
    );
  }
  const labelSelector = f.string("selector") || undefined;
  const fieldSelector = f.string("field-selector") || undefined;
  if (f.bool("watch") || f.bool("watch-only")) return watch(env, resolveArgs(args), { allNamespaces, labelSelector });

  const errors: Error[] = [];
  const infos: Info[] = [];
  let singleItemImplied = false;
  if (filenames.length > 0) {
    if (args.length > 0) throw new CmdError("when paths, URLs, or stdin is provided as input, you may not specify resource arguments as well");
    const manifests = await readManifests(env.ctx, filenames, { recursive: f.bool("recursive") });
    errors.push(...manifests.errors);
    for (const m of manifests.objects) {
      try {
        const ns = m.resource.namespaced ? m.object.metadata.namespace || env.namespace : "";
        infos.push({ resource: m.resource, objects: [await getObject(env, m.resource, ns, m.object.metadata.name ?? "")] });
      } catch (err) {
        errors.push(err as Error);
      }
    }
    singleItemImplied = manifests.objects.length === 1;
  } else {
    const requests = resolveArgs(args);
    const named = requests.filter((r) => r.name !== undefined);
    if (named.length > 0 && labelSelector) throw new CmdError("name cannot be provided when a selector is specified");
    singleItemImplied = requests.length === 1 && named.length === 1;
    for (const r of requests) {
      if (r.name !== undefined && r.resource.namespaced && allNamespaces) {
        throw new CmdError("a resource cannot be retrieved by name across all namespaces");
      }
    }
    for (const r of requests) {
      const ns = namespaceFor(env, r.resource, allNamespaces);
      try {
        if (r.name !== undefined) infos.push({ resource: r.resource, objects: [await getObject(env, r.resource, ns, r.name)] });
        else infos.push({ resource: r.resource, objects: await listObjects(env, r.resource, ns, { labelSelector, fieldSelector }) });
      } catch (err) {
        errors.push(err as Error);
      }
    }
  }

  const sortBy = f.string("sort-by");
  if (sortBy !== "") {
    const path = new JsonPath(relaxedJsonPath(sortBy));
    const key = (o: KubeObject) => path.findResults(o)[0]?.[0];
    for (const info of infos) {
      info.objects.sort((a, b) => {
        const x = key(a);
        const y = key(b);
        if (typeof x === "number" && typeof y === "number") return x - y;
        return String(x ?? "") < String(y ?? "") ? -1 : String(x ?? "") > String(y ?? "") ? 1 : 0;
      });
    }
  }
  const human = output === "" || output === "wide";
  if (!human) {
    if (singleItemImplied && errors.length > 0) throw errors[0]!;
    printGeneric(env, output, infos, singleItemImplied);
    const e = aggregate(errors);
    if (e) throw e;
    return;
  }

  const text = printTables(env, infos, { wide: output === "wide", allNamespaces, showLabels: f.bool("show-labels"), noHeaders: f.bool("no-headers") });
  env.out(text);
  if (text === "" && errors.length === 0) {
    if (!allNamespaces && infos.every((i) => i.resource.namespaced)) env.err(`No resources found in ${env.namespace} namespace.\n`);
    else env.err("No resources found\n");
  }
  const e = aggregate(errors);
  if (e) throw e;
}

/** Options of table output. */
export interface TableOptions {
  wide: boolean;
  allNamespaces: boolean;
  showLabels: boolean;
  noHeaders: boolean;
}

/** The human-readable output of fetched groups, with blank lines between resource types and a kind prefix when types are mixed. */
function printTables(env: Env, infos: readonly Info[], o: TableOptions): string {
  const withKind = new Set(infos.map((i) => i.resource.kind)).size > 1;
  let out = "";
  let segment = "";
  let last: ResourceInfo | undefined;
  let headerPrinted = false;
  let separatorReady = false;
  const flush = () => {
    const aligned = alignTabs(segment, TABLE_TABS);
    if (aligned !== "" && separatorReady) {
      out += "\n";
      separatorReady = false;
    }
    out += aligned;
    segment = "";
  };
  for (const info of infos) {
    if (last === undefined || info.resource !== last) {
      flush();
      if (last !== undefined && !o.noHeaders && out !== "") separatorReady = true;
      last = info.resource;
      headerPrinted = false;
    }
    const table = tableFor(info.resource, info.objects, env.now());
    const withNamespace = o.allNamespaces && info.resource.namespaced;
    segment += renderTable(table, info.resource, { ...o, withNamespace, withKind, printHeader: !headerPrinted && !o.noHeaders });
    if (table.rows.length > 0) headerPrinted = true;
  }
  flush();
  return out;
}

/** Rows (and the header when asked) of one table as tab-separated lines. */
export function renderTable(
  table: Table,
  resource: ResourceInfo,
  o: { wide: boolean; withNamespace: boolean; withKind: boolean; showLabels: boolean; printHeader: boolean },
): string {
  if (table.rows.length === 0) return "";
  const keep = table.columns.map((c) => o.wide || c.priority === 0);
  let text = "";
  if (o.printHeader) {
    const names = table.columns.filter((_, i) => keep[i]).map((c) => c.name.toUpperCase());
    if (o.withNamespace) names.unshift("NAMESPACE");
    if (o.showLabels) names.push("LABELS");
    text += `${names.join("\t")}\n`;
  }
  for (const row of table.rows) {
    const cells = row.cells.filter((_, i) => keep[i]).map(escapeCell);
    if (o.withKind) cells[0] = `${kindPrefix(resource)}/${cells[0]}`;
    if (o.withNamespace) cells.unshift(row.object.metadata.namespace ?? "");
    if (o.showLabels) cells.push(formatLabels(row.object.metadata.labels));
    text += `${cells.join("\t")}\n`;
  }
  return text;
}

function escapeCell(cell: string): string {
  const cut = cell.search(/[\f\n\r]/);
  return cut >= 0 ? `${cell.slice(0, cut)}...` : cell;
}

/** Non-table output: one object as itself, several (or a list request) as a `kind: List`. */
function printGeneric(env: Env, output: string, infos: readonly Info[], singleItemImplied: boolean): void {
  const items = infos.flatMap((i) => i.objects);
  let obj: unknown;
  if (singleItemImplied && items.length === 1) obj = items[0];
  else obj = { apiVersion: "v1", items, kind: "List", metadata: { resourceVersion: "" } };
  env.out(formatObjects(output, obj, infos.flatMap((i) => i.objects.map((o) => ({ o, r: i.resource }))), { noHeaders: env.flags.bool("no-headers") }));
}

/** Text of `-o yaml|json|name|jsonpath=…|custom-columns=…` for `obj` (an object or a List of `named`). */
export function formatObjects(
  output: string,
  obj: unknown,
  named: ReadonlyArray<{ o: KubeObject; r: ResourceInfo }>,
  options: { noHeaders?: boolean } = {},
): string {
  if (output === "yaml") return toYaml(obj);
  if (output === "json") return toJson(obj);
  if (output === "name") return named.map(({ o, r }) => `${kindPrefix(r)}/${o.metadata.name ?? ""}\n`).join("");
  const jp = /^(jsonpath|jsonpath-as-json)=(.*)$/s.exec(output);
  if (jp) {
    const path = new JsonPath(jp[2]!);
    if (jp[1] === "jsonpath-as-json") {
      const results = path.findResults(obj).flat();
      return toJson(results);
    }
    return path.execute(obj);
  }
  const cc = /^custom-columns=(.*)$/s.exec(output);
  if (cc) return customColumns(cc[1]!, obj, options.noHeaders ?? false);
  if (output === "jsonpath" || output === "custom-columns") {
    throw new CmdError(`${output} format specified but no ${output === "jsonpath" ? "jsonpath template" : "custom columns"} given`);
  }
  throw new CmdError(
    `unable to match a printer suitable for the output format "${output}", allowed formats are: custom-columns,custom-columns-file,go-template,go-template-file,json,jsonpath,jsonpath-as-json,jsonpath-file,name,template,templatefile,wide,yaml`,
  );
}

function customColumns(spec: string, obj: unknown, noHeaders: boolean): string {
  if (spec === "") throw new CmdError("custom-columns format specified but no custom columns given");
  const columns = spec.split(",").map((part) => {
    const i = part.indexOf(":");
    if (i < 0) throw new CmdError(`unexpected custom-columns spec: ${part}, expected <header>:<json-path-expr>`);
    return { header: part.slice(0, i), path: new JsonPath(relaxedJsonPath(part.slice(i + 1))) };
  });
  const items = isList(obj) ? (obj as { items: unknown[] }).items : [obj];
  let text = noHeaders ? "" : `${columns.map((c) => c.header).join("\t")}\n`;
  for (const item of items) {
    const cells = columns.map((c) => {
      const values = c.path.findResults(item)[0] ?? [];
      return values.length === 0 ? "<none>" : values.map(goSprint).join(",");
    });
    text += `${cells.join("\t")}\n`;
  }
  return alignTabs(text, TABLE_TABS);
}

function isList(obj: unknown): boolean {
  return typeof obj === "object" && obj !== null && Array.isArray((obj as { items?: unknown }).items) && String((obj as { kind?: unknown }).kind ?? "").endsWith("List");
}

/** Go's fmt.Sprint of a decoded JSON value: maps as `map[k:v]`, lists as `[a b]`. */
export function goSprint(v: unknown): string {
  if (v === null || v === undefined) return "<nil>";
  if (Array.isArray(v)) return `[${v.map(goSprint).join(" ")}]`;
  if (typeof v === "object") {
    const m = v as Record<string, unknown>;
    return `map[${Object.keys(m)
      .sort()
      .map((k) => `${k}:${goSprint(m[k])}`)
      .join(" ")}]`;
  }
  return printValue(v);
}

/** `get -w`: the current table, then one row per change, until interrupted. */
async function watch(env: Env, requests: Request[], o: { allNamespaces: boolean; labelSelector: string | undefined }): Promise<void> {
  if (requests.length !== 1 && new Set(requests.map((r) => r.resource)).size !== 1) {
    throw new CmdError("watch is only supported on individual resources and resource collections, but a list of resources is found");
  }
  const resource = requests[0]!.resource;
  const names = requests.filter((r) => r.name !== undefined).map((r) => r.name!);
  const ns = namespaceFor(env, resource, o.allNamespaces);
  const withNamespace = o.allNamespaces && resource.namespaced;
  const wide = env.flags.string("output") === "wide";
  // kubectl's tabwriter remembers the widths of what it printed first: later rows keep to them
  let remembered = "";
  const emit = (objects: KubeObject[], header: boolean) => {
    const table = tableFor(resource, objects, env.now());
    const text = renderTable(table, resource, { wide, withNamespace, withKind: false, showLabels: env.flags.bool("show-labels"), printHeader: header });
    if (text === "") return;
    const skip = remembered === "" ? 0 : remembered.split("\n").length - 1;
    env.out(alignTabs(remembered + text, TABLE_TABS).split("\n").slice(skip).join("\n"));
    if (remembered === "") remembered = text;
  };
  let initial: KubeObject[] = [];
  try {
    initial = names.length > 0 ? await Promise.all(names.map((n) => getObject(env, resource, ns, n))) : await listObjects(env, resource, ns, { labelSelector: o.labelSelector });
  } catch (err) {
    throw err instanceof ApiError ? err : new AggregateError([err as Error]);
  }
  if (!env.flags.bool("watch-only")) emit(initial, true);
  if (initial.length === 0 && !env.flags.bool("watch-only")) {
    env.err(withNamespace || !resource.namespaced ? "No resources found\n" : `No resources found in ${env.namespace} namespace.\n`);
  }
  let first = env.flags.bool("watch-only");
  const stop = env.api.watch(resource.plural, ns, { ...(o.labelSelector ? { labelSelector: o.labelSelector } : {}) }, (ev) => {
    if (ev.type === "BOOKMARK" || ev.type === "ERROR") return;
    const obj = withTypeMeta(ev.object, resource);
    if (names.length > 0 && !names.includes(obj.metadata.name ?? "")) return;
    if (initial.some((i) => i.metadata.uid === obj.metadata.uid && i.metadata.resourceVersion === obj.metadata.resourceVersion)) return;
    emit([obj], first);
    first = false;
  });
  try {
    while (await sleep(env.ctx, 3_600_000));
  } finally {
    stop();
  }
  throw new SilentExit(130);
}
