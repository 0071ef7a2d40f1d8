/**
 * kubectl's errors and how it reports them (cmdutil.CheckErr): API Status
 * errors as `Error from server (Reason): …`, Invalid ones with their causes,
 * plain errors as `error: …`, aggregates one per line.
 */
import { ApiError, type Status } from "@kemu/api";

/** A plain error (Go's fmt.Errorf); reported as `error: <message>`. */
export class CmdError extends Error {
  override readonly name = "CmdError";
}

/** The requested resource type is not served: `the server doesn't have a resource type "pdos"`. */
export class NoResourceMatchError extends Error {
  override readonly name = "NoResourceMatchError";
  constructor(readonly resource: string) {
    super(`the server doesn't have a resource type "${resource}"`);
  }
}

/** Several errors reported together, one per line (utilerrors.Aggregate). */
export class AggregateError extends Error {
  override readonly name = "AggregateError";
  constructor(readonly errors: readonly Error[]) {
    super(errors.length === 1 ? errors[0]!.message : `[${errors.map((e) => e.message).join(", ")}]`);
  }
}

/** A remote command's non-zero exit: prints `command terminated with exit code N` and exits with N. */
export class ExitCodeError extends Error {
  override readonly name = "ExitCodeError";
  constructor(readonly code: number) {
    super(`command terminated with exit code ${code}`);
  }
}

/** Exit 1 without printing anything more (the message was already written). */
export class SilentExit extends Error {
  override readonly name = "SilentExit";
  constructor(readonly code = 1) {
    super("exit");
  }
}

/** An aggregate of `errors`, or the single error, or undefined for none (utilerrors.NewAggregate + Reduce). */
export function aggregate(errors: readonly Error[]): AggregateError | undefined {
  if (errors.length === 0) return undefined;
  return new AggregateError(errors);
}

/** A Status error as the API server would return it. */
export function statusError(reason: Status["reason"], code: number, message: string, details?: Status["details"]): ApiError {
  return new ApiError({
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    code,
    ...(details ? { details } : {}),
  });
}

/** `pods "x" not found` as the API server words it. */
export function notFound(resource: string, name: string, group = ""): ApiError {
  const qualified = group === "" ? resource : `${resource}.${group}`;
  return statusError("NotFound", 404, `${qualified} "${name}" not found`, { name, kind: resource, ...(group ? { group } : {}) });
}

/** cmdutil.AddSourceToErr: `error when creating "pod.yaml": …`, keeping a Status error a Status error. */
export function addSourceToErr(verb: string, source: string, err: Error): Error {
  if (source === "") return err;
  if (err instanceof ApiError) {
    return new ApiError({ ...err.status, message: `error when ${verb} "${source}": ${err.status.message}` });
  }
  return new CmdError(`error when ${verb} "${source}": ${err.message}`);
}

/** What kubectl prints for an error (without the final newline) and the exit status it uses. */
export function reportError(err: unknown): { text: string; code: number } {
  let e: unknown = err;
  if (e instanceof AggregateError && e.errors.length === 1) e = e.errors[0];
  if (e instanceof SilentExit) return { text: "", code: e.code };
  if (e instanceof ApiError && e.status.reason === "Invalid") return { text: invalidMessage(e.status), code: 1 };
  if (e instanceof NoResourceMatchError) return { text: `error: ${e.message}`, code: 1 };
  if (e instanceof AggregateError) {
    return { text: flatten(e.errors).map(messageForError).join("\n"), code: 1 };
  }
  if (e instanceof ExitCodeError) return { text: e.message, code: e.code };
  const standard = standardErrorMessage(e);
  if (standard !== undefined) return { text: standard, code: 1 };
  const msg = e instanceof Error ? e.message : String(e);
  return { text: msg.startsWith("error: ") ? msg : `error: ${msg}`, code: 1 };
}

function flatten(errors: readonly Error[]): Error[] {
  return errors.flatMap((e) => (e instanceof AggregateError ? flatten(e.errors) : [e]));
}

/** messageForError: the standard message of API errors, else the bare message. */
export function messageForError(err: Error): string {
  return standardErrorMessage(err) ?? err.message;
}

function standardErrorMessage(err: unknown): string | undefined {
  if (!(err instanceof ApiError)) return undefined;
  const s = err.status;
  if (s.reason === "Unauthorized") return `error: You must be logged in to the server (${s.message})`;
  if (s.reason !== "") return `Error from server (${s.reason}): ${s.message}`;
  return `Error from server: ${s.message}`;
}

function invalidMessage(status: Status): string {
  const details = status.details;
  let s = "The request is invalid";
  if (details === undefined) return status.message ? `${s}: ${status.message}` : s;
  if ((details.kind ?? "") !== "" || (details.name ?? "") !== "") {
    s = `The ${details.kind ?? ""} "${details.name ?? ""}" is invalid`;
  } else if (status.message && (details.causes ?? []).length === 0) {
    s += `: ${status.message}`;
  }
  const causes: string[] = [];
  for (const c of details.causes ?? []) {
    const m = `${c.field ?? ""}: ${c.message}`;
    if (!causes.includes(m)) causes.push(m);
  }
  if (causes.length === 0) return s;
  if (causes.length === 1) return `${s}: ${causes[0]}`;
  return `${s}: \n${causes.map((c) => `* ${c}`).join("\n")}`;
}
