/**
 * A host worker's script when its entry has a fresh bundle: runs the bundle
 * with V8's code cache (their paths are the worker's argv, see workerScript).
 */
import { runBundle } from "./code_cache.ts";

runBundle(process.argv[2]!, process.argv[3]!);
