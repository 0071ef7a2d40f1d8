/**
 * `pods/exec` over WebSocket with the channel subprotocols kubectl speaks
 * (`v5.channel.k8s.io`, `v4.channel.k8s.io`): each binary message starts
 * with its channel (0 stdin, 1 stdout, 2 stderr, 3 error — a Status when the
 * command ends —, 4 resize; 255 closes a channel in v5). With a TTY the
 * server does the terminal's line discipline (echo, erase, ^D) since
 * kemu's shells read lines.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Pod } from "@kemu/api";
import { type Input, type Output, Pipe } from "@kemu/node";
import { WsConnection, acceptKey } from "./rest_ws.ts";

/** Runs argv in a pod's container, streaming its io; resolves with the exit status. */
export type ExecBackend = (
  pod: Pod,
  container: string,
  argv: string[],
  io: { stdin: Input; stdout: Output; stderr: Output; tty: boolean; stdinOpen: boolean },
  signal: AbortSignal,
) => Promise<number>;

/** Subprotocols served, most preferred first. */
export const EXEC_PROTOCOLS = ["v5.channel.k8s.io", "v4.channel.k8s.io"] as const;

const CH = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;

function httpFail(socket: Duplex, code: number, text: string, body: unknown): void {
  const json = JSON.stringify(body);
  socket.end(`HTTP/1.1 ${code} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`);
}

function badRequest(message: string): Record<string, unknown> {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason: "BadRequest", code: 400 };
}

/** The Status sent on the error channel when the command ends. */
export function exitStatus(code: number, argv: readonly string[]): Record<string, unknown> {
  if (code === 0) return { metadata: {}, status: "Success" };
  return {
    metadata: {},
    status: "Failure",
    message: `command terminated with non-zero exit code: error executing command [${argv.join(" ")}], exit code ${code}`,
    reason: "NonZeroExitCode",
    details: { causes: [{ reason: "ExitCode", message: String(code) }] },
  };
}

/** A terminal's cooked mode for raw keystrokes: echoes, edits the line, hands complete lines on. */
class LineDiscipline {
  #line = "";
  #escape = 0;
  constructor(
    private readonly echo: (s: string) => void,
    private readonly stdin: Pipe,
  ) {}

  feed(text: string): void {
    for (const ch of text) {
      const c = ch.charCodeAt(0);
      if (this.#escape > 0) {
        // ESC [ ... final byte: cursor keys and the like are ignored.
        if (this.#escape === 1) this.#escape = ch === "[" || ch === "O" ? 2 : 0;
        else if (c >= 0x40 && c <= 0x7e) this.#escape = 0;
        continue;
      }
      if (c === 0x1b) this.#escape = 1;
      else if (ch === "\r" || ch === "\n") {
        this.echo("\r\n");
        this.stdin.write(`${this.#line}\n`);
        this.#line = "";
      } else if (c === 0x7f || c === 0x08) {
        if (this.#line.length > 0) {
          this.#line = this.#line.slice(0, -1);
          this.echo("\b \b");
        }
      } else if (c === 0x03) {
        this.echo("^C\r\n");
        this.#line = "";
        this.stdin.write("\n");
      } else if (c === 0x15) {
        this.echo("\b \b".repeat(this.#line.length));
        this.#line = "";
      } else if (c === 0x04) {
        if (this.#line === "") this.stdin.close();
      } else if (c >= 0x20 || ch === "\t") {
        this.#line += ch;
        this.echo(ch);
      }
    }
  }
}

/** Why an exec request cannot run (the API server's message), or undefined when it can. */
export function execProblem(pod: Pod, url: URL): string | undefined {
  const name = pod.metadata.name ?? "";
  if (url.searchParams.getAll("command").length === 0) return "you must specify at least 1 command";
  const containers = pod.spec.containers.map((c) => c.name);
  const container = url.searchParams.get("container") || containers[0] || "";
  if (!containers.includes(container)) return `container ${container} is not valid for pod ${name}`;
  if (!pod.spec.nodeName) return `pod ${name} does not have a host assigned`;
  if (pod.status?.phase !== "Running") return `unable to upgrade connection: container not found ("${container}")`;
  return undefined;
}

/**
 * Completes the WebSocket handshake of an exec request and runs the command
 * through `backend`. `track` registers a stop function for server shutdown
 * and returns its unregistration.
 */
export function serveExec(
  req: IncomingMessage,
  socket: Duplex,
  url: URL,
  pod: Pod,
  backend: ExecBackend | undefined,
  track: (stop: () => void) => () => void,
): void {
  const key = req.headers["sec-websocket-key"];
  const offered = (req.headers["sec-websocket-protocol"] ?? "").split(",").map((p) => p.trim());
  const protocol = EXEC_PROTOCOLS.find((p) => offered.includes(p));
  if (typeof key !== "string" || key === "") return httpFail(socket, 400, "Bad Request", badRequest("missing Sec-WebSocket-Key"));
  if (protocol === undefined)
    return httpFail(socket, 400, "Bad Request", badRequest(`unable to upgrade: no supported subprotocol offered (supported: ${EXEC_PROTOCOLS.join(", ")})`));
  const argv = url.searchParams.getAll("command");
  const problem = execProblem(pod, url);
  if (problem !== undefined) return httpFail(socket, 400, "Bad Request", badRequest(problem));
  const container = url.searchParams.get("container") || pod.spec.containers[0]?.name || "";
  if (backend === undefined) return httpFail(socket, 400, "Bad Request", badRequest("exec is not available on this server"));
  const on = (p: string): boolean => url.searchParams.get(p) === "true" || url.searchParams.get(p) === "1";
  const tty = on("tty");
  const wantStdin = on("stdin");
  const wantStderr = on("stderr") && !tty;

  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`,
  );
  const stdin = new Pipe();
  if (!wantStdin) stdin.close();
  const abort = new AbortController();
  const send = (channel: number, text: string): void => {
    if (text === "") return;
    ws.sendBinary(Buffer.concat([Buffer.from([channel]), Buffer.from(text, "utf8")]));
  };
  const stdout: Output = { write: (s) => send(CH.stdout, tty ? s.replace(/\r?\n/g, "\r\n") : s) };
  const stderr: Output = wantStderr ? { write: (s) => send(CH.stderr, s) } : tty ? stdout : { write: () => {} };
  const discipline = tty ? new LineDiscipline((s) => send(CH.stdout, s), stdin) : undefined;
  let pendingText = "";
  const decoder = new TextDecoder();
  const ws: WsConnection = new WsConnection(
    socket,
    (m) => {
      if (m.data.length === 0) return;
      const channel = m.data[0]!;
      const payload = m.data.subarray(1);
      if (channel === CH.stdin) {
        const text = decoder.decode(payload, { stream: true });
        if (discipline) discipline.feed(text);
        else {
          // Whole lines go on; a partial line waits for its newline or the end.
          pendingText += text;
          const nl = pendingText.lastIndexOf("\n");
          if (nl >= 0) {
            stdin.write(pendingText.slice(0, nl + 1));
            pendingText = pendingText.slice(nl + 1);
          }
        }
      } else if (channel === CH.close && payload[0] === CH.stdin) {
        if (pendingText !== "") stdin.write(pendingText);
        pendingText = "";
        stdin.close();
      }
      // Resize (4) is accepted and ignored: kemu's shells have no screen size.
    },
    () => {
      stdin.close();
      abort.abort();
    },
  );
  const untrack = track(() => ws.close(1001));
  void backend(pod, container, argv, { stdin, stdout, stderr, tty, stdinOpen: wantStdin }, abort.signal)
    .catch((err: unknown) => {
      stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      return 1;
    })
    .then((code) => {
      untrack();
      if (ws.closed) return;
      send(CH.error, JSON.stringify(exitStatus(code, argv)));
      ws.close(1000);
    });
}
