import test from "ava";
import { buildIpv4, buildTcp, buildUdp, ipv4Defaults, TCP_SYN } from "@kemu/wire";
import { testKernel } from "../_testing.ts";
import { Rng } from "../random.ts";
import { runIptables } from "./command.ts";
import { setRuleCompilation } from "./compile.ts";
import { netfilterOf } from "./engine.ts";

/** Addresses drawn from a small pool, so rules and packets meet often. */
function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.below(xs.length)]!;
}

const DSTS = Array.from({ length: 12 }, (_, i) => `10.96.0.${i + 1}`);
const PORTS = [53, 80, 443, 8080];

function randomRule(rng: Rng, chains: readonly string[]): string[] {
  const args: string[] = [];
  const r = rng.next();
  // Mostly exact destinations (what gets indexed), then prefixes, inverted ones and none.
  if (r < 0.7) args.push("-d", `${pick(rng, DSTS)}/32`);
  else if (r < 0.8) args.push("-d", "10.96.0.0/28");
  else if (r < 0.9) args.push("!", "-d", `${pick(rng, DSTS)}/32`);
  if (rng.next() < 0.3) args.push("-s", "10.244.0.0/16");
  if (rng.next() < 0.7) {
    const proto = pick(rng, ["tcp", "udp"]);
    args.push("-p", proto);
    if (rng.next() < 0.8) args.push("-m", proto, "--dport", `${pick(rng, PORTS)}`);
  }
  const t = rng.next();
  if (t < 0.3) args.push("-j", pick(rng, chains));
  else if (t < 0.45) args.push("-j", "RETURN");
  else if (t < 0.6) args.push("-j", "DROP");
  else if (t < 0.75) args.push("-j", "ACCEPT");
  else if (t < 0.9) args.push("-j", "MARK", "--set-xmark", `0x${(1 + rng.below(255)).toString(16)}/0xff`);
  // else: no target (counts only)
  return args;
}

function randomPacket(rng: Rng): Uint8Array {
  const src = rng.next() < 0.5 ? 0x0af40002 : 0xc0a8000b;
  const dst = rng.next() < 0.9 ? 0x0a600001 + rng.below(14) : 0x08080808;
  const dport = pick(rng, [...PORTS, 9999]);
  const tcp = rng.next() < 0.5;
  const payload = tcp
    ? buildTcp({ srcPort: 40000 + rng.below(1000), dstPort: dport, seq: 1, ack: 0, flags: TCP_SYN, window: 64240, urgent: 0, options: {} }, new Uint8Array(0), src, dst)
    : buildUdp({ srcPort: 40000 + rng.below(1000), dstPort: dport }, new Uint8Array(8), src, dst);
  return buildIpv4(ipv4Defaults({ src, dst, protocol: tcp ? 6 : 17 }), payload);
}

// 150 rule sets here; `npm run bench` runs the same test over 3,000 (KEMU_EQUIV_SETS).
const RULE_SETS = Number(process.env["KEMU_EQUIV_SETS"] ?? 150);

test("compiled chains give exactly the linear walk's verdicts, marks and counters on random rule sets", (t) => {
  const rng = new Rng(2026);
  let packets = 0;
  for (let set = 0; set < RULE_SETS; set++) {
    const { kernel } = testKernel(set);
    const compiledNs = kernel.createNetns();
    const linearNs = kernel.createNetns();
    const chains = ["C1", "C2", "C3"];
    const lines: string[][] = chains.map((c) => ["-t", "mangle", "-N", c]);
    for (const chain of ["OUTPUT", ...chains]) {
      const n = chain === "OUTPUT" ? 16 + rng.below(48) : 16 + rng.below(24);
      for (let i = 0; i < n; i++) {
        // User chains jump only forward (C1 → C2 → C3) so that there is no loop.
        const targets = chains.filter((c) => chain === "OUTPUT" || c > chain);
        const rule = randomRule(rng, targets.length > 0 ? targets : ["RETURN"]);
        lines.push(["-t", "mangle", "-A", chain, ...(rule.includes("-j") && rule[rule.indexOf("-j") + 1] === "RETURN" && chain === "OUTPUT" ? rule.slice(0, rule.indexOf("-j")) : rule)]);
      }
    }
    for (const argv of lines) {
      runIptables(netfilterOf(compiledNs), argv);
      runIptables(netfilterOf(linearNs), argv);
    }
    for (let k = 0; k < 40; k++) {
      const packet = randomPacket(rng);
      setRuleCompilation(true);
      const metaA = { mark: 0 };
      const a = netfilterOf(compiledNs).run("OUTPUT", packet.slice(), undefined, undefined, metaA);
      setRuleCompilation(false);
      const metaB = { mark: 0 };
      const b = netfilterOf(linearNs).run("OUTPUT", packet.slice(), undefined, undefined, metaB);
      setRuleCompilation(true);
      if ((a === undefined) !== (b === undefined) || metaA.mark !== metaB.mark) {
        t.fail(`rule set ${set}, packet ${k}: compiled ${a === undefined ? "DROP" : "pass"} mark ${metaA.mark}, linear ${b === undefined ? "DROP" : "pass"} mark ${metaB.mark}`);
        return;
      }
      packets++;
    }
    const save = (ns: typeof compiledNs) => runIptables(netfilterOf(ns), ["-t", "mangle", "-S", "-v"]);
    t.is(save(compiledNs), save(linearNs), `rule set ${set}: counters differ`);
  }
  t.is(packets, RULE_SETS * 40);
});
