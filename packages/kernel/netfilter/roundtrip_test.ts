import test from "ava";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { testKernel } from "../_testing.ts";
import { runIptables, runRestore } from "./command.ts";
import { netfilterOf } from "./engine.ts";
import { saveTable } from "./save.ts";

/**
 * These tests hand kemu's iptables-save output to the REAL iptables-restore
 * and iptables-save inside a network namespace made for the test, and expect
 * it back unchanged apart from the header lines. They are skipped where that
 * is not possible (no iptables, no permission to make a namespace).
 */

function sh(args: string[], input?: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(args[0]!, args.slice(1), { input, encoding: "utf8", timeout: 20_000 });
  return { status: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? (r.error ? String(r.error) : "") };
}

/** A fresh namespace for the real tools, or the reason there cannot be one. */
function realNamespace(name: string): { run: (args: string[], input?: string) => ReturnType<typeof sh>; done: () => void } | string {
  if (sh(["iptables", "--version"]).status !== 0) return "iptables is not installed";
  sh(["ip", "netns", "del", name]);
  const add = sh(["ip", "netns", "add", name]);
  if (add.status !== 0) return `cannot make a network namespace: ${add.stderr.trim()}`;
  return {
    run: (args, input) => sh(["ip", "netns", "exec", name, ...args], input),
    done: () => void sh(["ip", "netns", "del", name]),
  };
}

const withoutComments = (text: string): string =>
  text
    .split("\n")
    .filter((l) => !l.startsWith("#"))
    .join("\n");

function roundTrip(t: import("ava").ExecutionContext, name: string, saved: string, setup: string[][] = []): void {
  const ns = realNamespace(name);
  if (typeof ns === "string") {
    t.log(`skipped: ${ns}`);
    t.pass();
    return;
  }
  try {
    for (const cmd of setup) {
      const r = ns.run(cmd);
      if (r.status !== 0) {
        t.log(`skipped: ${cmd.join(" ")} failed: ${r.stderr.trim()}`);
        t.pass();
        return;
      }
    }
    const restored = ns.run(["iptables-restore"], saved);
    t.is(restored.status, 0, restored.stderr);
    const back = ns.run(["iptables-save"]);
    t.is(back.status, 0, back.stderr);
    t.is(withoutComments(back.stdout), withoutComments(saved));
  } finally {
    ns.done();
  }
}

test("kemu's iptables-save of a Docker port-mapping host goes through the real iptables-restore and comes back unchanged", (t) => {
  const { kernel } = testKernel();
  const nf = netfilterOf(kernel.root);
  // What Docker (≤ 27) writes for the default bridge and `docker run -p 1234:80`.
  const cmds = [
    "-t nat -N DOCKER",
    "-t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER",
    "-t nat -A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER",
    "-t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE",
    "-t nat -A DOCKER -i docker0 -j RETURN",
    "-t nat -A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE",
    "-t nat -A DOCKER ! -i docker0 -p tcp -m tcp --dport 1234 -j DNAT --to-destination 172.17.0.2:80",
    "-N DOCKER",
    "-N DOCKER-ISOLATION-STAGE-1",
    "-N DOCKER-ISOLATION-STAGE-2",
    "-N DOCKER-USER",
    "-P FORWARD DROP",
    "-A FORWARD -j DOCKER-USER",
    "-A FORWARD -j DOCKER-ISOLATION-STAGE-1",
    "-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
    "-A FORWARD -o docker0 -j DOCKER",
    "-A FORWARD -i docker0 ! -o docker0 -j ACCEPT",
    "-A FORWARD -i docker0 -o docker0 -j ACCEPT",
    "-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT",
    "-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2",
    "-A DOCKER-ISOLATION-STAGE-1 -j RETURN",
    "-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP",
    "-A DOCKER-ISOLATION-STAGE-2 -j RETURN",
    "-A DOCKER-USER -j RETURN",
  ];
  for (const c of cmds) runIptables(nf, c.split(" "));
  const saved = nf.tables().map((tb) => saveTable(tb, { now: 0 })).join("");
  roundTrip(t, `kemu-rt-docker-${process.pid}`, saved);
});

test("kemu's iptables-save of kube-proxy-like, Docker-like and every-module rules survives the real round trip", (t) => {
  const { kernel } = testKernel();
  const nf = netfilterOf(kernel.root);
  nf.ipsets.create("kube-test", "hash:ip,port", []);
  const input = readFileSync(new URL("../../netfilter/testdata/input.rules", import.meta.url), "utf8");
  const r = runRestore(nf, input);
  t.is(r.exit, 0, r.stderr);
  const saved = nf.tables().map((tb) => saveTable(tb, { now: 0 })).join("");
  roundTrip(t, `kemu-rt-all-${process.pid}`, saved, [["ipset", "create", "kube-test", "hash:ip,port"]]);
});
