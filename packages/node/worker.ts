/**
 * The entry of a host's worker thread: boots the node and answers the main
 * thread's msgpackr-encoded requests (protocol.ts).
 */
import { parentPort, workerData } from "node:worker_threads";
import type { NetNs } from "@kemu/kernel";
import { pack, unpack } from "msgpackr";
import { CaptureSet } from "./capture.ts";
import type { DockerRuntime } from "./docker/runtime.ts";
import type { Host, ProcessSpec } from "./host.ts";
import { bootNode } from "./node.ts";
import type { Input, Output } from "./process.ts";
import type { Reply, Request, WireLocation, WorkerInit } from "./protocol.ts";
import { RealTimePump } from "./realtime.ts";
import { ShellSession } from "./session.ts";

const init = workerData as WorkerInit;
const port = parentPort!;
const host: Host = bootNode({ name: init.name, index: init.index, seed: init.seed });
const capture = init.capture ? new CaptureSet() : undefined;
if (capture) host.kernel.capture = capture.tap;
const pump = new RealTimePump(host.clock);
if (init.time === "real") pump.start();
const sessions = new Map<number, ShellSession>();

function send(msg: Reply): void {
  port.postMessage(pack(msg));
}

function docker(): DockerRuntime | undefined {
  return host.service<DockerRuntime>("docker");
}

/** A human name for a namespace, for pcap file names. */
function nsName(ns: NetNs): string {
  if (ns === host.kernel.root) return "root";
  for (const [name, n] of host.namedNetns) if (n === ns) return name;
  return docker()?.netnsNames.get(ns) ?? `netns${ns.inode}`;
}

/** How to start a process at `location`, or an error in the tools' words. */
function specFor(location: WireLocation): ((io: { stdin: Input; stdout: Output; stderr: Output }) => ProcessSpec) | string {
  switch (location.kind) {
    case "host":
      return location.host === host.name ? (io) => host.rootSpec(io) : `no host ${location.host} here`;
    case "container": {
      const d = docker();
      const c = d?.find(location.name);
      if (!d || !c) return `Error response from daemon: No such container: ${location.name}`;
      if (c.state !== "running") return `Error response from daemon: container ${c.id} is not running`;
      return (io) => d.execSpec(c, io);
    }
    case "pod":
      return `Error from server (NotFound): pods "${location.pod}" not found`;
  }
}

async function handle(req: Request): Promise<unknown> {
  switch (req.type) {
    case "exec": {
      const spec = specFor(req.location);
      if (typeof spec === "string") return { exit: 1, stdout: "", stderr: `${spec}\n` };
      if (init.time === "real") {
        return host.exec(req.command, { ...(req.stdin !== undefined ? { stdin: req.stdin } : {}), spec });
      }
      // On emulated time, exec drives the clock itself until the command exits.
      return host.exec(req.command, { ...(req.stdin !== undefined ? { stdin: req.stdin } : {}), spec });
    }
    case "locate":
      return typeof specFor(req.location) !== "string";
    case "advance":
      await host.advance(req.ms);
      return host.clock.now();
    case "now":
      return host.clock.now();
    case "shell": {
      pump.start();
      const s = new ShellSession(host, {
        interactive: req.interactive,
        output: (chunk, stream) => send({ type: "output", session: req.session, chunk, stream }),
      });
      sessions.set(req.session, s);
      void s.exited.then((code) => {
        sessions.delete(req.session);
        send({ type: "exited", session: req.session, code });
      });
      return true;
    }
    case "stdin":
      sessions.get(req.session)?.writeLine(req.line);
      return undefined;
    case "stdin-end":
      sessions.get(req.session)?.end();
      return undefined;
    case "pcaps":
      return capture ? capture.write(req.dir, host.name, nsName) : [];
    case "stop":
      pump.stop();
      for (const p of host.processes.values()) p.controller.abort();
      return true;
  }
}

port.on("message", (data: Uint8Array) => {
  const req = unpack(data) as Request;
  if (!("id" in req)) {
    void handle(req);
    return;
  }
  handle(req).then(
    (value) => send({ type: "reply", id: req.id, ok: true, value }),
    (err: unknown) => send({ type: "reply", id: req.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});
