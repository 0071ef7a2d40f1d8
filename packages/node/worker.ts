/** The entry of a cluster node's worker thread. */
import { runHostWorker } from "./host_worker.ts";

runHostWorker();
