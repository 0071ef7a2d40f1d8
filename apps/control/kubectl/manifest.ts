/**
 * Manifests as kubectl reads them for `-f`: files, directories (their
 * .yaml/.yml/.json files) and stdin (`-f -`); YAML streams split on `---`
 * lines, JSON streams, `kind: List` flattened; each document decoded and
 * mapped to a served resource, with kubectl's errors for what fails.
 */
import { type KubeObject, type ResourceInfo, resourceForKind } from "@kemu/api";
import type { ProcessContext } from "@kemu/node";
import { type Document, LineCounter, parseDocument, type YAMLError } from "yaml";
import { CmdError } from "./errors.ts";
import { toCompactJson } from "./yaml_out.ts";

/** One object read from a manifest, mapped to the resource that serves it. */
export interface ManifestObject {
  /** Where it came from, as kubectl names it: the path as given, `dir/file.yaml`, or `STDIN`. */
  source: string;
  object: KubeObject;
  resource: ResourceInfo;
}

/** What reading `-f` sources gave: the objects that decoded and mapped, and an error per failure (kubectl continues past them). */
export interface ManifestResult {
  objects: ManifestObject[];
  errors: Error[];
}

const EXTENSIONS = [".json", ".yaml", ".yml"];

/**
 * Reads every `-f` source in order. Syntax errors stop that one source
 * (documents before them are kept); undecodable or unknown kinds are
 * reported per document.
 */
export async function readManifests(
  ctx: Pick<ProcessContext, "fs" | "stdin" | "env" | "netns">,
  filenames: readonly string[],
  options: { recursive?: boolean } = {},
): Promise<ManifestResult> {
  const result: ManifestResult = { objects: [], errors: [] };
  const sources: Array<{ source: string; text: string }> = [];
  let stdinUsed = false;
  for (const name of filenames) {
    if (name === "-") {
      if (stdinUsed) {
        result.errors.push(new CmdError("standard input cannot be used for multiple arguments"));
        continue;
      }
      stdinUsed = true;
      sources.push({ source: "STDIN", text: await ctx.stdin.readAll() });
      continue;
    }
    if (/^https?:\/\//.test(name)) {
      result.errors.push(new CmdError(`unable to read URL "${name}": kemu has no route to the internet`));
      continue;
    }
    const path = resolve(ctx, name);
    const kind = ctx.fs.stat(path, ctx.netns);
    if (kind === undefined) {
      result.errors.push(new CmdError(`the path "${name}" does not exist`));
      continue;
    }
    if (kind === "file") {
      sources.push({ source: name, text: ctx.fs.readFile(path, ctx.netns) });
      continue;
    }
    for (const file of walk(ctx, path, name.replace(/\/+$/, ""), options.recursive ?? false)) sources.push(file);
  }
  for (const { source, text } of sources) decodeStream(source, text, result);
  return result;
}

function resolve(ctx: Pick<ProcessContext, "env">, name: string): string {
  if (name.startsWith("/")) return name;
  const pwd = ctx.env.get("PWD") ?? "/";
  return `${pwd.replace(/\/$/, "")}/${name}`;
}

function walk(
  ctx: Pick<ProcessContext, "fs" | "netns">,
  path: string,
  shown: string,
  recursive: boolean,
): Array<{ source: string; text: string }> {
  const out: Array<{ source: string; text: string }> = [];
  for (const entry of ctx.fs.list(path, ctx.netns)) {
    const full = `${path.replace(/\/$/, "")}/${entry}`;
    const display = `${shown}/${entry}`;
    const kind = ctx.fs.stat(full, ctx.netns);
    if (kind === "dir") {
      if (recursive) out.push(...walk(ctx, full, display, recursive));
    } else if (EXTENSIONS.some((e) => entry.endsWith(e))) {
      out.push({ source: display, text: ctx.fs.readFile(full, ctx.netns) });
    }
  }
  return out;
}

/** Decodes one stream (a file's or stdin's text) into `result`. */
export function decodeStream(source: string, text: string, result: ManifestResult): void {
  if (/^\s*\{/.test(text)) {
    decodeJsonStream(source, text, result);
    return;
  }
  let chunks: string[];
  try {
    chunks = splitYamlDocuments(text);
  } catch (err) {
    result.errors.push(new CmdError(`error parsing ${source}: ${(err as Error).message}`));
    return;
  }
  for (const chunk of chunks) {
    let value: unknown;
    try {
      value = yamlToValue(chunk);
    } catch (err) {
      result.errors.push(new CmdError(`error parsing ${source}: error converting YAML to JSON: ${(err as Error).message}`));
      return;
    }
    if (value === null || value === undefined) continue;
    addDocument(source, value, result);
  }
}

function decodeJsonStream(source: string, text: string, result: ManifestResult): void {
  let rest = text.trim();
  while (rest !== "") {
    const end = jsonValueEnd(rest);
    let value: unknown;
    try {
      value = JSON.parse(rest.slice(0, end));
    } catch (err) {
      result.errors.push(new CmdError(`error parsing ${source}: ${(err as Error).message}`));
      return;
    }
    if (value !== null) addDocument(source, value, result);
    rest = rest.slice(end).trim();
  }
}

/** Where the first JSON value of `text` ends (by bracket depth outside strings). */
function jsonValueEnd(text: string): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return text.length;
}

/** The documents of a YAML stream, split as k8s.io/apimachinery's YAMLReader does: on lines starting with `---`. */
export function splitYamlDocuments(text: string): string[] {
  const docs: string[] = [];
  let buffer = "";
  const lines = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  for (const line of lines) {
    if (line.startsWith("---")) {
      const trimmed = line.slice(3).trim();
      if (trimmed.length > 0 && !trimmed.startsWith("#")) {
        throw new Error(`invalid Yaml document separator: ${trimmed}`);
      }
      if (buffer !== "") docs.push(buffer);
      buffer = "";
      continue;
    }
    buffer += line;
  }
  if (buffer !== "") docs.push(buffer);
  return docs;
}

/** Parses one YAML document with YAML 1.1 scalars as go-yaml v2 reads them; errors in go-yaml's words. */
export function yamlToValue(chunk: string): unknown {
  const lineCounter = new LineCounter();
  const doc: Document = parseDocument(chunk, {
    version: "1.1",
    uniqueKeys: false,
    lineCounter,
    prettyErrors: false,
    customTags: (tags) =>
      tags.filter((t) => {
        const tag = typeof t === "object" && t !== null && "tag" in t ? String((t as { tag: unknown }).tag) : "";
        return !/:(timestamp|binary|omap|pairs|set)$/.test(tag) && !isSexagesimal(t);
      }),
  });
  if (doc.errors.length > 0) throw new Error(goYamlMessage(doc.errors, chunk, lineCounter));
  return doc.toJS({ maxAliasCount: 100 }) as unknown;
}

function isSexagesimal(t: unknown): boolean {
  const fmt = typeof t === "object" && t !== null && "format" in t ? (t as { format?: unknown }).format : undefined;
  return fmt === "TIME";
}

/** go-yaml v2's message for the first problem the `yaml` parser found. */
function goYamlMessage(errors: readonly YAMLError[], chunk: string, lc: LineCounter): string {
  const lines = chunk.split("\n");
  const indentOf = (line: number) => (lines[line - 1] ?? "").search(/\S|$/);
  const lineAt = (e: YAMLError, i: 0 | 1) => lc.linePos(e.pos[i]).line;
  const first = errors[0]!;
  const at = lineAt(first, 0);
  const end = lineAt(first, 1);
  const multiline = errors.find((e) => e.code === "MULTILINE_IMPLICIT_KEY");
  if (first.code === "TAB_AS_INDENT") return `yaml: line ${at}: found character that cannot start any token`;
  if (multiline !== undefined) {
    const from = lineAt(multiline, 0);
    const to = lineAt(multiline, 1);
    if (to > from && indentOf(from + 1) > indentOf(from)) {
      return `yaml: line ${to}: mapping values are not allowed in this context`;
    }
    if (to > from) return `yaml: line ${from + 1}: could not find expected ':'`;
  }
  if (first.code === "BLOCK_AS_IMPLICIT_KEY") return `yaml: line ${end}: mapping values are not allowed in this context`;
  if (first.code === "BAD_INDENT" || first.code === "UNEXPECTED_TOKEN" || /without - indicator/.test(first.message)) {
    return `yaml: line ${Math.max(1, at - 1)}: did not find expected key`;
  }
  if (first.code === "MISSING_CHAR" && /quote/.test(first.message)) {
    return `yaml: line ${at}: found unexpected end of stream`;
  }
  if (first.code === "BAD_ALIAS" || /alias/i.test(first.message)) return `yaml: unknown anchor referenced`;
  const msg = first.message.replace(/ at line \d+, column \d+[\s\S]*$/, "");
  return `yaml: line ${at}: ${msg.charAt(0).toLowerCase()}${msg.slice(1)}`;
}

/** Adds one decoded document (flattening lists) to the result, or the error kubectl gives for it. */
function addDocument(source: string, value: unknown, result: ManifestResult): void {
  if (typeof value !== "object" || Array.isArray(value)) {
    const t = Array.isArray(value) ? "array" : typeof value === "number" ? "number" : typeof value;
    result.errors.push(new CmdError(`error parsing ${source}: json: cannot unmarshal ${t} into Go value of type map[string]interface {}`));
    return;
  }
  const obj = value as Record<string, unknown>;
  const kind = typeof obj["kind"] === "string" ? obj["kind"] : "";
  const apiVersion = typeof obj["apiVersion"] === "string" ? obj["apiVersion"] : "";
  if (kind === "") {
    result.errors.push(new CmdError(`unable to decode "${source}": Object 'Kind' is missing in '${toCompactJson(obj)}'`));
    return;
  }
  if (apiVersion === "") {
    result.errors.push(new CmdError(`unable to decode "${source}": Object 'apiVersion' is missing in '${toCompactJson(obj)}'`));
    return;
  }
  if (kind.endsWith("List") && Array.isArray(obj["items"])) {
    for (const item of obj["items"] as unknown[]) {
      if (typeof item === "object" && item !== null && !Array.isArray(item)) {
        const it = item as Record<string, unknown>;
        // items of a typed list (PodList) may leave out their kind
        if (it["kind"] === undefined && kind !== "List") it["kind"] = kind.slice(0, -4);
        if (it["apiVersion"] === undefined && kind !== "List") it["apiVersion"] = apiVersion;
      }
      addDocument(source, item, result);
    }
    return;
  }
  const meta = (typeof obj["metadata"] === "object" && obj["metadata"] !== null ? obj["metadata"] : {}) as Record<string, unknown>;
  const name = typeof meta["name"] === "string" ? meta["name"] : "";
  const namespace = typeof meta["namespace"] === "string" ? meta["namespace"] : "";
  const resource = resourceForKind(apiVersion, kind);
  if (resource === undefined) {
    result.errors.push(
      new CmdError(
        `resource mapping not found for name: "${name}" namespace: "${namespace}" from "${source}": ` +
          `no matches for kind "${kind}" in version "${apiVersion}"\nensure CRDs are installed first`,
      ),
    );
    return;
  }
  result.objects.push({ source, object: obj as KubeObject, resource });
}
