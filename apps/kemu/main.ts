#!/usr/bin/env node
/**
 * The `kemu` executable: runs the command line on this process's streams
 * with the real cluster, then exits with its status, whatever handles the
 * cluster may have left open. A first Ctrl-C (SIGINT) stops the cluster and
 * exits 130; a second exits at once.
 *
 * @module
 */
import type { Writable } from "node:stream";
import { runCli } from "./cli.ts";
import { startCluster } from "./cluster.ts";
import type { ClusterDriver, ClusterSpec } from "./driver.ts";

let running: ClusterDriver | undefined;
let interrupted = false;

process.on("SIGINT", () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  process.stderr.write("\nkemu: interrupted; stopping the cluster (Ctrl-C again to quit at once)\n");
  const stopped = running?.shutdown().catch(() => {}) ?? Promise.resolve();
  const timeout = new Promise((resolve) => setTimeout(resolve, 5000).unref());
  void Promise.race([stopped, timeout]).then(() => process.exit(130));
});

const status = await runCli(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  startCluster: async (spec: ClusterSpec) => (running = await startCluster(spec)),
});
await Promise.all([drain(process.stdout), drain(process.stderr)]);
process.exit(status);

function drain(stream: Writable): Promise<void> {
  return new Promise((resolve) => stream.write("", () => resolve()));
}
