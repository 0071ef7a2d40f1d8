/**
 * The PATCH types: JSON merge patch (RFC 7386), JSON patch (RFC 6902), and
 * strategic merge patch for the common fields (lists merged by their merge
 * keys: containers by name, container ports by containerPort, service ports
 * by port, env by name, conditions by type…, and `$patch` directives).
 */
import { badRequest } from "./errors.ts";
import { clone, jsonEqual } from "./_meta.ts";

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** RFC 7386: objects merge, null deletes, everything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return clone(patch);
  const out: Obj = isObj(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function unescape(token: string): string {
  return token.replace(/~1/g, "/").replace(/~0/g, "~");
}

function parsePointer(path: string): string[] {
  if (path === "") return [];
  if (!path.startsWith("/")) throw badRequest(`the server rejected our request due to an error in our request`);
  return path.slice(1).split("/").map(unescape);
}

function getAt(doc: unknown, tokens: readonly string[]): unknown {
  let cur = doc;
  for (const t of tokens) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isObj(cur)) cur = cur[t];
    else return undefined;
  }
  return cur;
}

/** RFC 6902: add, remove, replace, move, copy, test. */
export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw badRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch");
  let doc = clone(target);
  for (const raw of ops) {
    const op = raw as { op?: string; path?: string; from?: string; value?: unknown };
    const tokens = parsePointer(op.path ?? "");
    const fail = (why: string): never => {
      throw badRequest(why);
    };
    const parentOf = (toks: readonly string[]): [unknown, string] => {
      const parent = getAt(doc, toks.slice(0, -1));
      const last = toks[toks.length - 1];
      if (last === undefined || (parent === undefined && toks.length > 0)) fail(`doc is missing path: "${op.path}": missing value`);
      return [parent, last!];
    };
    const add = (toks: readonly string[], value: unknown): void => {
      if (toks.length === 0) {
        doc = clone(value);
        return;
      }
      const [parent, last] = parentOf(toks);
      if (Array.isArray(parent)) {
        const i = last === "-" ? parent.length : Number(last);
        if (!Number.isInteger(i) || i < 0 || i > parent.length) fail(`add operation does not apply: doc is missing path: "${op.path}": missing value`);
        parent.splice(i, 0, clone(value));
      } else if (isObj(parent)) parent[last] = clone(value);
      else fail(`add operation does not apply: doc is missing path: "${op.path}": missing value`);
    };
    const remove = (toks: readonly string[]): unknown => {
      const [parent, last] = parentOf(toks);
      if (Array.isArray(parent)) {
        const i = Number(last);
        if (!Number.isInteger(i) || i < 0 || i >= parent.length) fail(`remove operation does not apply: doc is missing path: "${op.path}": missing value`);
        return parent.splice(i, 1)[0];
      }
      if (isObj(parent) && Object.hasOwn(parent, last)) {
        const v = parent[last];
        delete parent[last];
        return v;
      }
      return fail(`remove operation does not apply: doc is missing path: "${op.path}": missing value`);
    };
    switch (op.op) {
      case "add":
        add(tokens, op.value);
        break;
      case "remove":
        remove(tokens);
        break;
      case "replace":
        if (tokens.length === 0) doc = clone(op.value);
        else {
          remove(tokens);
          add(tokens, op.value);
        }
        break;
      case "move": {
        const v = remove(parsePointer(op.from ?? ""));
        add(tokens, v);
        break;
      }
      case "copy":
        add(tokens, getAt(doc, parsePointer(op.from ?? "")));
        break;
      case "test":
        if (!jsonEqual(getAt(doc, tokens), op.value)) fail(`testing value ${op.path} failed: test failed`);
        break;
      default:
        fail(`Unexpected kind: ${String(op.op)}`);
    }
  }
  return doc;
}

/** Merge keys of lists, by field name (the patchMergeKey of the Go types). */
const MERGE_KEYS: Readonly<Record<string, string>> = {
  containers: "name",
  initContainers: "name",
  ephemeralContainers: "name",
  env: "name",
  volumes: "name",
  volumeMounts: "mountPath",
  volumeDevices: "devicePath",
  imagePullSecrets: "name",
  conditions: "type",
  ownerReferences: "uid",
  hostAliases: "ip",
  topologySpreadConstraints: "topologyKey",
  addresses: "type",
  containerStatuses: "name",
  initContainerStatuses: "name",
  podIPs: "ip",
  hostIPs: "ip",
  resourceClaims: "name",
  schedulingGates: "name",
};

/** Lists of primitives merged as sets. */
const SET_LISTS = new Set(["finalizers"]);

function mergeKeyOf(field: string, items: readonly unknown[]): string | undefined {
  if (field === "ports") {
    const first = items.find(isObj);
    if (first === undefined) return undefined;
    if ("containerPort" in first) return "containerPort";
    if ("port" in first) return "port";
    return undefined;
  }
  return MERGE_KEYS[field];
}

/** Strategic merge patch, for the fields kemu knows the merge keys of; other lists are replaced. */
export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return clone(patch);
  if (patch["$patch"] === "replace") {
    const p = clone(patch);
    delete p["$patch"];
    return p;
  }
  if (patch["$patch"] === "delete") return undefined;
  const out: Obj = isObj(target) ? clone(target) : {};
  const retain = patch["$retainKeys"];
  for (const [k, v] of Object.entries(patch)) {
    if (k === "$patch" || k === "$retainKeys" || k.startsWith("$setElementOrder/")) continue;
    if (k.startsWith("$deleteFromPrimitiveList/")) {
      const name = k.slice("$deleteFromPrimitiveList/".length);
      const cur = out[name];
      if (Array.isArray(cur) && Array.isArray(v)) out[name] = cur.filter((x) => !v.some((d) => jsonEqual(d, x)));
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    const cur = out[k];
    if (Array.isArray(v)) {
      const key = mergeKeyOf(k, [...v, ...(Array.isArray(cur) ? cur : [])]);
      if (SET_LISTS.has(k) && Array.isArray(cur)) {
        const merged = [...cur];
        for (const x of v) if (!merged.some((y) => jsonEqual(x, y))) merged.push(x);
        out[k] = merged;
      } else if (key !== undefined && Array.isArray(cur)) {
        out[k] = mergeList(cur, v, key);
      } else {
        out[k] = v.filter((x) => !(isObj(x) && x["$patch"] === "delete")).map((x) => clone(x));
      }
    } else if (isObj(v)) {
      const r = strategicMergePatch(cur, v);
      if (r === undefined) delete out[k];
      else out[k] = r;
    } else {
      out[k] = v;
    }
  }
  if (Array.isArray(retain)) for (const k of Object.keys(out)) if (!retain.includes(k)) delete out[k];
  return out;
}

function mergeList(cur: readonly unknown[], patch: readonly unknown[], key: string): unknown[] {
  const out = cur.map((x) => clone(x));
  for (const item of patch) {
    if (!isObj(item)) continue;
    const idx = out.findIndex((x) => isObj(x) && jsonEqual(x[key], item[key]));
    if (item["$patch"] === "delete") {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = strategicMergePatch(out[idx], item);
    else out.push(strategicMergePatch(undefined, item));
  }
  return out;
}
