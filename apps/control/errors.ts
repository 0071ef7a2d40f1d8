/**
 * The API server's errors: Status objects with its reasons, codes and exact
 * wording (`pods "x" not found`, `Pod "x" is invalid: …`), and field errors
 * formatted as `k8s.io/apimachinery/pkg/util/validation/field` does.
 */
import { ApiError, resourceForName, type ResourceInfo, type Status } from "@kemu/api";

/** The kind of a field error, as field.ErrorType. */
export type FieldErrorType = "Required" | "Invalid" | "Duplicate" | "NotSupported" | "Forbidden" | "TooLong" | "TooMany" | "NotFound";

/** One field error: a path (`spec.containers[0].image`), its kind, the bad value and a detail. */
export interface FieldError {
  type: FieldErrorType;
  field: string;
  /** The bad value; omitted for Required, Forbidden and TooLong, as the API server does. */
  value?: GoValue;
  detail?: string;
}

/** A value as Go's `%#v` would print it in a field error. */
export type GoValue = string | number | boolean | null | { go: string };

const TYPE_TEXT: Record<FieldErrorType, string> = {
  Required: "Required value",
  Invalid: "Invalid value",
  Duplicate: "Duplicate value",
  NotSupported: "Unsupported value",
  Forbidden: "Forbidden",
  TooLong: "Too long",
  TooMany: "Too many",
  NotFound: "Not found",
};

const CAUSE_REASON: Record<FieldErrorType, string> = {
  Required: "FieldValueRequired",
  Invalid: "FieldValueInvalid",
  Duplicate: "FieldValueDuplicate",
  NotSupported: "FieldValueNotSupported",
  Forbidden: "FieldValueForbidden",
  TooLong: "FieldValueTooLong",
  TooMany: "FieldValueTooMany",
  NotFound: "FieldValueNotFound",
};

/** Go's `%q` of a string (close enough: JSON escaping, which agrees for printable text). */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** Go's `%#v` of a `map[string]string` (keys sorted, as fmt prints maps). */
export function goMap(m: Readonly<Record<string, string>> | undefined): { go: string } {
  if (m === undefined) return { go: "map[string]string(nil)" };
  const body = Object.keys(m)
    .sort()
    .map((k) => `${goQuote(k)}:${goQuote(m[k]!)}`)
    .join(", ");
  return { go: `map[string]string{${body}}` };
}

/** Go's `%#v` of a `[]string`. */
export function goStrings(v: readonly string[] | undefined): { go: string } {
  if (v === undefined) return { go: "[]string(nil)" };
  return { go: `[]string{${v.map(goQuote).join(", ")}}` };
}

/** The part of a field error after its path, as `field.Error.ErrorBody()` prints it. */
export function errorBody(e: FieldError): string {
  let s = TYPE_TEXT[e.type];
  if (e.type !== "Required" && e.type !== "Forbidden" && e.type !== "TooLong" && e.value !== undefined) {
    const v = e.value;
    const text = v === null ? "null" : typeof v === "string" ? goQuote(v) : typeof v === "object" ? v.go : String(v);
    s += `: ${text}`;
  }
  if (e.detail !== undefined && e.detail !== "") s += `: ${e.detail}`;
  return s;
}

/** A field error as one line: `spec.containers[0].image: Required value`. */
export function formatFieldError(e: FieldError): string {
  return `${e.field}: ${errorBody(e)}`;
}

/** `supported values: "A", "B"`, the detail of NotSupported. */
export function supported(values: readonly string[]): string {
  return `supported values: ${values.map(goQuote).join(", ")}`;
}

/** The resource as the API server names it in messages: `pods`, `deployments.apps`. */
export function qualifiedResource(r: ResourceInfo): string {
  return r.group === "" ? r.plural : `${r.plural}.${r.group}`;
}

/** The kind as the API server names it in messages: `Pod`, `Deployment.apps`. */
export function qualifiedKind(r: ResourceInfo): string {
  return r.group === "" ? r.kind : `${r.kind}.${r.group}`;
}

function status(code: number, reason: Status["reason"], message: string, details?: Status["details"]): ApiError {
  const s: Status = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code };
  if (details !== undefined) s.details = details;
  return new ApiError(s);
}

function details(r: ResourceInfo | string, name: string): NonNullable<Status["details"]> {
  const info = typeof r === "string" ? resourceForName(r) : r;
  const d: NonNullable<Status["details"]> = { name };
  if (info !== undefined && info.group !== "") d.group = info.group;
  d.kind = info?.plural ?? (r as string);
  return d;
}

function qres(r: ResourceInfo | string): string {
  return typeof r === "string" ? r : qualifiedResource(r);
}

/** 404 NotFound: `pods "x" not found`. */
export function notFound(r: ResourceInfo | string, name: string): ApiError {
  return status(404, "NotFound", `${qres(r)} ${goQuote(name)} not found`, details(r, name));
}

/** 409 AlreadyExists: `pods "x" already exists`. */
export function alreadyExists(r: ResourceInfo | string, name: string): ApiError {
  return status(409, "AlreadyExists", `${qres(r)} ${goQuote(name)} already exists`, details(r, name));
}

/** 409 Conflict on a stale resourceVersion. */
export function conflict(r: ResourceInfo | string, name: string, why = "the object has been modified; please apply your changes to the latest version and try again"): ApiError {
  return status(409, "Conflict", `Operation cannot be fulfilled on ${qres(r)} ${goQuote(name)}: ${why}`, details(r, name));
}

/** 422 Invalid with field causes: `Pod "x" is invalid: spec.containers[0].image: Required value`. */
export function invalid(r: ResourceInfo, name: string, errs: readonly FieldError[]): ApiError {
  const lines = errs.map(formatFieldError);
  const agg = lines.length === 1 ? lines[0]! : `[${lines.join(", ")}]`;
  const d: NonNullable<Status["details"]> = { name };
  if (r.group !== "") d.group = r.group;
  d.kind = r.kind;
  d.causes = errs.map((e) => ({ reason: CAUSE_REASON[e.type], message: errorBody(e), field: e.field }));
  return status(422, "Invalid", `${qualifiedKind(r)} ${goQuote(name)} is invalid: ${agg}`, d);
}

/** 400 BadRequest with a message. */
export function badRequest(message: string): ApiError {
  return status(400, "BadRequest", message);
}

/** 403 Forbidden: `namespaces "default" is forbidden: this namespace may not be deleted`. */
export function forbidden(r: ResourceInfo | string, name: string, why: string): ApiError {
  return status(403, "Forbidden", `${qres(r)} ${goQuote(name)} is forbidden: ${why}`, details(r, name));
}

/** 410 Expired: a watch or continue from a resourceVersion the history no longer holds. */
export function expired(message: string): ApiError {
  return status(410, "Expired", message);
}

/** 405 MethodNotAllowed. */
export function methodNotAllowed(message: string): ApiError {
  return status(405, "MethodNotAllowed", message);
}

/** 404 for a resource the server does not serve. */
export function unknownResource(): ApiError {
  return status(404, "NotFound", "the server could not find the requested resource", {});
}

/** 500 InternalError. */
export function internalError(message: string): ApiError {
  return status(500, "InternalError", `Internal error occurred: ${message}`);
}
