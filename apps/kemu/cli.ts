/**
 * The `kemu` command line: reads the arguments, runs `kemu run`, `kemu up` or
 * `kemu help`, and returns the exit status. Streams, environment and the
 * cluster factory come in through `CliOptions`, so tests drive it in-process
 * with a fake cluster.
 */
import { mkdir, readFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import type { Readable, Writable } from "node:stream";
import { parseArgs } from "node:util";
import type { ClusterDriver, ClusterSpec } from "./driver.ts";
import { MAX_NODES } from "./location.ts";
import { colorEnabled, formatAbort, formatJson, formatRunStart, formatStepEnd, formatStepStart, formatSummary } from "./report.ts";
import { type RunResult, runScenario } from "./runner.ts";
import { runHostKemuCommand } from "./fault.ts";
import { parseScenario } from "./scenario.ts";
import { formatScenarioError } from "./scenario_error.ts";
import { runShell } from "./shell.ts";
import { didYouMean } from "./suggest.ts";
import { HELP_HELP, MAIN_HELP, RUN_HELP, UP_HELP } from "./usage.ts";
import { EXPERIMENT_HELP, experimentCommand } from "./experiment_cli.ts";

/** What the command line reads, writes and starts. */
export interface CliOptions {
  readonly stdin: Readable & { readonly isTTY?: boolean };
  readonly stdout: Writable & { readonly isTTY?: boolean };
  readonly stderr: Writable;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Boots an emulated cluster (`startCluster` of cluster.ts, or a fake). */
  readonly startCluster: (spec: ClusterSpec) => Promise<ClusterDriver>;
}

/** Exit status: every step passed (or help was shown). */
export const EXIT_OK = 0;
/** Exit status: a step failed, or the emulator did. */
export const EXIT_FAILED = 1;
/** Exit status: bad usage, an unreadable file or an invalid scenario; nothing ran. */
export const EXIT_USAGE = 2;

const COMMANDS: Readonly<Record<string, { help: string; run: (args: string[], io: CliOptions) => Promise<number> }>> = {
  run: { help: RUN_HELP, run: runCommand },
  up: { help: UP_HELP, run: upCommand },
  experiment: { help: EXPERIMENT_HELP, run: (args, io) => experimentCommand(args, io) },
  help: { help: HELP_HELP, run: helpCommand },
};

/** A mistake in the command line: printed with a hint, exit status 2. */
class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
  }
}

/**
 * Runs the kemu command line `args` (without `node` and the script) and
 * resolves with its exit status. It never throws: every failure is printed
 * on `io.stderr`.
 */
export async function runCli(args: readonly string[], io: CliOptions): Promise<number> {
  try {
    const [first, ...rest] = args;
    if (first === undefined) {
      io.stderr.write(MAIN_HELP);
      return EXIT_USAGE;
    }
    if (first === "--help" || first === "-h") return print(io.stdout, MAIN_HELP);
    if (first === "--version" || first === "-V") return print(io.stdout, `kemu ${version()}\n`);
    if (first.startsWith("-")) throw new UsageError(`unknown option '${first}'${didYouMean(first, ["--help", "--version"])}`);
    const command = COMMANDS[first];
    if (!command) throw new UsageError(`unknown command "${first}"${didYouMean(first, Object.keys(COMMANDS))}`);
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      const prefix = err.command ? `kemu ${err.command}` : "kemu";
      const hint = err.command ? `kemu help ${err.command}` : "kemu --help";
      io.stderr.write(`${prefix}: ${err.message}\nRun "${hint}" for usage.\n`);
      return EXIT_USAGE;
    }
    io.stderr.write(`kemu: ${messageOf(err)}\n`);
    return EXIT_FAILED;
  }
}

async function runCommand(args: string[], io: CliOptions): Promise<number> {
  const { values, positionals } = parse("run", args, {
    seed: { type: "string" },
    pcap: { type: "string" },
    json: { type: "boolean" },
    "proxy-mode": { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values["help"]) return print(io.stdout, RUN_HELP);
  const proxyMode = values["proxy-mode"];
  if (proxyMode !== undefined && proxyMode !== "iptables" && proxyMode !== "ipvs") {
    throw new UsageError(`--proxy-mode: invalid proxy mode "${proxyMode}": use iptables or ipvs`, "run");
  }
  const [file, ...extra] = positionals;
  if (file === undefined) throw new UsageError("missing the scenario file (kemu run FILE.yaml)", "run");
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`, "run");
  const seed = integerOption("run", "--seed", values["seed"], { min: 0, max: 0xffff_ffff, fallback: 1 });
  const pcap = values["pcap"] as string | undefined;
  if (pcap === "") throw new UsageError("--pcap needs a directory", "run");
  const json = values["json"] === true;

  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    io.stderr.write(`kemu: cannot read ${file}: ${ioReason(err)}\n`);
    return EXIT_USAGE;
  }
  const parsed = parseScenario(text, { file });
  if (!parsed.ok) {
    for (const error of parsed.errors) io.stderr.write(formatScenarioError(error) + "\n");
    const n = parsed.errors.length;
    io.stderr.write(`kemu: ${n} error${n === 1 ? "" : "s"} in ${file}; nothing was run.\n`);
    return EXIT_USAGE;
  }
  const scenario = parsed.scenario;
  const report = { color: !json && colorEnabled(io.stdout, io.env) };
  if (!json) io.stdout.write(formatRunStart(scenario, { ...report, seed }));

  let driver: ClusterDriver;
  try {
    driver = await io.startCluster({
      ...scenario.cluster,
      ...(proxyMode !== undefined ? { proxyMode } : {}),
      seed,
      time: "virtual",
      capture: pcap !== undefined,
    });
  } catch (err) {
    const message = `cannot start the cluster: ${messageOf(err)}`;
    if (json) io.stdout.write(formatJson({ passed: false, steps: [], total: scenario.steps.length, error: { index: null, message } }));
    io.stderr.write(`kemu: ${message}\n`);
    return EXIT_FAILED;
  }

  let status = EXIT_OK;
  let result: RunResult;
  try {
    result = await runScenario(scenario, driver, {
      onStepStart: (step) => !json && io.stdout.write(formatStepStart(step, report)),
      onStepEnd: (r) => !json && io.stdout.write(formatStepEnd(r, report)),
    });
    if (result.error && !json) io.stdout.write(formatAbort(result.error, report));
    if (result.error && json) io.stderr.write(`kemu: ${result.error.message} (the run stopped at steps[${result.error.index}])\n`);
    if (!result.passed) status = EXIT_FAILED;
    if (pcap !== undefined) {
      try {
        await mkdir(pcap, { recursive: true });
        const files = await driver.writePcaps(pcap);
        const out = json ? io.stderr : io.stdout;
        const n = files.length;
        out.write(`${json ? "" : "\n"}kemu: wrote ${n} pcap file${n === 1 ? "" : "s"} to ${pcap}${n === 0 ? "" : ":"}\n`);
        for (const f of files) out.write(`  ${f}\n`);
      } catch (err) {
        io.stderr.write(`kemu: cannot write pcap files to ${pcap}: ${messageOf(err)}\n`);
        status = EXIT_FAILED;
      }
    }
  } finally {
    try {
      await driver.shutdown();
    } catch (err) {
      io.stderr.write(`kemu: shutting the cluster down failed: ${messageOf(err)}\n`);
      status = EXIT_FAILED;
    }
  }
  io.stdout.write(json ? formatJson(result) : formatSummary(result, report));
  return status;
}

async function upCommand(args: string[], io: CliOptions): Promise<number> {
  const { values, positionals } = parse("up", args, {
    nodes: { type: "string" },
    spare: { type: "string" },
    seed: { type: "string" },
    backend: { type: "string" },
    "proxy-mode": { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values["help"]) return print(io.stdout, UP_HELP);
  const backend = values["backend"] ?? "vxlan";
  if (backend !== "vxlan" && backend !== "udp" && backend !== "host-gw") {
    throw new UsageError(`--backend: unknown backend type "${backend}": use vxlan, udp or host-gw`, "up");
  }
  const proxyMode = values["proxy-mode"] ?? "iptables";
  if (proxyMode !== "iptables" && proxyMode !== "ipvs") {
    throw new UsageError(`--proxy-mode: invalid proxy mode "${proxyMode}": use iptables or ipvs`, "up");
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`, "up");
  const nodes = integerOption("up", "--nodes", values["nodes"], { min: 1, max: MAX_NODES, fallback: 1 });
  const spare = integerOption("up", "--spare", values["spare"], { min: 0, max: MAX_NODES - nodes, fallback: 0 });
  const seed = integerOption("up", "--seed", values["seed"], { min: 0, max: 0xffff_ffff, fallback: 1 });
  let driver: ClusterDriver;
  try {
    driver = await io.startCluster({
      nodes,
      seed,
      time: "real",
      capture: false,
      ...(spare > 0 ? { spare } : {}),
      ...(values["backend"] !== undefined ? { backend } : {}),
      ...(values["proxy-mode"] !== undefined ? { proxyMode } : {}),
    });
  } catch (err) {
    io.stderr.write(`kemu: cannot start the cluster: ${messageOf(err)}\n`);
    return EXIT_FAILED;
  }
  if (driver.kubeconfig !== undefined) {
    // As kind does: the user's own kubectl can drive the cluster's API on 127.0.0.1.
    io.stderr.write(
      `Set kubectl context to "kemu"\nYou can now use your cluster with:\n\nexport KUBECONFIG=${driver.kubeconfig}\nkubectl cluster-info --context kemu\n\n`,
    );
  }
  // `kemu fault …` typed in the shell acts on this cluster.
  driver.serveKemuCommand?.((_host, args) => runHostKemuCommand(driver, args, { nodes, spare }));
  let status: number;
  try {
    status = await runShell(driver, {
      input: io.stdin,
      output: io.stdout,
      errorOutput: io.stderr,
      interactive: io.stdin.isTTY === true,
    });
  } finally {
    await driver.shutdown().catch((err: unknown) => {
      io.stderr.write(`kemu: shutting the cluster down failed: ${messageOf(err)}\n`);
    });
  }
  return status;
}

async function helpCommand(args: string[], io: CliOptions): Promise<number> {
  const [topic, ...extra] = args;
  if (topic === undefined) return print(io.stdout, MAIN_HELP);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`, "help");
  const command = COMMANDS[topic];
  if (!command) throw new UsageError(`unknown command "${topic}"${didYouMean(topic, Object.keys(COMMANDS))}`);
  return print(io.stdout, command.help);
}

type OptionSpec = Record<string, { type: "string" | "boolean"; short?: string }>;

/** parseArgs, with its errors reworded as kemu's usage errors. */
function parse(command: string, args: string[], options: OptionSpec) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    const { code, message } = err as { code?: string; message: string };
    const unknown = /^Unknown option '([^']+)'/.exec(message);
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && unknown) {
      const names = Object.keys(options).map((o) => `--${o}`);
      const guess = didYouMean(unknown[1]!, names).replaceAll('"', "'");
      throw new UsageError(`unknown option '${unknown[1]}'${guess}`, command);
    }
    const option = /^Option '(?:-\w, )?(--[\w-]+)/.exec(message)?.[1];
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && option) {
      const takesValue = options[option.slice(2)]?.type === "string";
      throw new UsageError(takesValue ? `option '${option}' needs a value` : `option '${option}' takes no value`, command);
    }
    throw new UsageError(message, command);
  }
}

function integerOption(
  command: string,
  name: string,
  text: string | boolean | undefined,
  range: { min: number; max: number; fallback: number },
): number {
  if (text === undefined || typeof text === "boolean") return range.fallback;
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= range.min && n <= range.max)) {
    throw new UsageError(`${name} takes an integer from ${range.min} to ${range.max}, not "${text}"`, command);
  }
  return n;
}

function print(stream: Writable, text: string): number {
  stream.write(text);
  return EXIT_OK;
}

/** An error's message without a leading `kemu: ` (the caller adds its own). */
function messageOf(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/^kemu: /, "");
}

function ioReason(err: unknown): string {
  switch ((err as { code?: string }).code) {
    case "ENOENT":
      return "no such file";
    case "EACCES":
      return "permission denied";
    case "EISDIR":
      return "it is a directory";
    default:
      return messageOf(err);
  }
}

let cachedVersion: string | undefined;

function version(): string {
  cachedVersion ??= (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string })
    .version;
  return cachedVersion;
}
