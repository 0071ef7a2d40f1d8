/**
 * Messages between the main thread and a host's worker, encoded with
 * msgpackr. Requests carry an id; the worker answers each with a reply.
 */

/** A place to run a command, as the front end names it. */
export type WireLocation =
  | { kind: "host"; host: string }
  | { kind: "container"; name: string }
  | { kind: "pod"; namespace: string; pod: string; container?: string };

/** What the main thread asks of a host. */
export type Request =
  | { type: "exec"; id: number; location: WireLocation; command: string; stdin?: string }
  | { type: "locate"; id: number; location: WireLocation }
  | { type: "advance"; id: number; ms: number }
  | { type: "shell"; id: number; session: number; interactive: boolean }
  | { type: "stdin"; session: number; line: string }
  | { type: "stdin-end"; session: number }
  | { type: "pcaps"; id: number; dir: string }
  | { type: "now"; id: number }
  | { type: "stop"; id: number };

/** What a host sends back. */
export type Reply =
  | { type: "reply"; id: number; ok: true; value: unknown }
  | { type: "reply"; id: number; ok: false; error: string }
  | { type: "output"; session: number; chunk: string; stream: "stdout" | "stderr" }
  | { type: "exited"; session: number; code: number };

/** How a host worker is started (workerData). */
export interface WorkerInit {
  name: string;
  index: number;
  seed: number;
  time: "virtual" | "real";
  capture: boolean;
}
