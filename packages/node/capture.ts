import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { NetDevice, NetNs } from "@kemu/kernel";
import { PcapWriter } from "@kemu/wire";

/**
 * Records every frame on every interface of a host, one pcap per interface,
 * timestamped with the host's emulated clock.
 */
export class CaptureSet {
  readonly #writers = new Map<NetNs, Map<NetDevice, PcapWriter>>();
  /** Names of namespaces as they were when the capture saw them. */
  readonly #labels = new Map<NetNs, string>();

  /** The tap to install as the kernel's capture hook. */
  readonly tap = (dev: NetDevice, frame: Uint8Array): void => {
    let perNs = this.#writers.get(dev.netns);
    if (!perNs) this.#writers.set(dev.netns, (perNs = new Map()));
    let w = perNs.get(dev);
    if (!w) perNs.set(dev, (w = new PcapWriter()));
    w.add(dev.netns.kernel.clock.now(), frame);
  };

  /** Remembers a human name for a namespace (a container's name). */
  label(ns: NetNs, name: string): void {
    this.#labels.set(ns, name);
  }

  /** Writes `<host>-<netns>-<ifname>.pcap` files into `dir`; returns their paths. */
  write(dir: string, hostName: string, nameOf: (ns: NetNs) => string): string[] {
    mkdirSync(dir, { recursive: true });
    const paths: string[] = [];
    for (const [ns, perNs] of this.#writers) {
      const nsName = this.#labels.get(ns) ?? nameOf(ns);
      for (const [dev, w] of perNs) {
        if (w.count === 0) continue;
        const path = join(dir, `${hostName}-${nsName}-${dev.name}.pcap`.replace(/[/\\]/g, "_"));
        writeFileSync(path, w.toBytes());
        paths.push(path);
      }
    }
    return paths.sort();
  }
}
