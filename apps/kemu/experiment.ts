/**
 * `kemu experiment FILE.yaml`: one scenario run over a grid of parameters and
 * several seeds, in a pool of worker threads, reduced to a table and a plot.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";

/** A validated experiment. */
export interface Experiment {
  readonly name: string;
  /** The scenario's path and text; `${param}` placeholders are filled in per run. */
  readonly scenarioFile: string;
  readonly scenarioText: string;
  /** Each parameter and its values, in file order. */
  readonly grid: ReadonlyArray<{ readonly name: string; readonly values: readonly string[] }>;
  readonly seeds: readonly number[];
  /** The name of the step whose emulated duration is the result. */
  readonly measure: string;
}

/** One combination of parameter values. */
export type Point = Readonly<Record<string, string>>;

/** Reads an experiment file; throws an Error naming the key at fault. */
export function loadExperiment(file: string): Experiment {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) throw new Error(`${file}: an experiment is a mapping with name, scenario, grid, seeds and measure`);
  const d = doc as Record<string, unknown>;
  for (const k of Object.keys(d)) {
    if (!["name", "description", "scenario", "grid", "seeds", "measure"].includes(k)) throw new Error(`${file}: ${k}: unknown key`);
  }
  if (typeof d["name"] !== "string") throw new Error(`${file}: name: a string is required`);
  if (typeof d["scenario"] !== "string") throw new Error(`${file}: scenario: the path of a scenario file is required`);
  const scenarioFile = resolve(dirname(file), d["scenario"]);
  let scenarioText: string;
  try {
    scenarioText = readFileSync(scenarioFile, "utf8");
  } catch {
    throw new Error(`${file}: scenario: cannot read ${d["scenario"]}`);
  }
  const gridDoc = d["grid"];
  if (gridDoc === null || typeof gridDoc !== "object" || Array.isArray(gridDoc) || Object.keys(gridDoc).length === 0) {
    throw new Error(`${file}: grid: a mapping of parameters to lists of values is required`);
  }
  const grid = Object.entries(gridDoc as Record<string, unknown>).map(([name, values]) => {
    if (!Array.isArray(values) || values.length === 0) throw new Error(`${file}: grid.${name}: a non-empty list of values is required`);
    if (!scenarioText.includes(`\${${name}}`)) throw new Error(`${file}: grid.${name}: the scenario has no \${${name}} placeholder`);
    return { name, values: values.map(String) };
  });
  const seedsDoc = d["seeds"] ?? 1;
  const seeds = typeof seedsDoc === "number" && Number.isInteger(seedsDoc) && seedsDoc >= 1
    ? Array.from({ length: seedsDoc }, (_, i) => i + 1)
    : Array.isArray(seedsDoc) && seedsDoc.every((s) => Number.isInteger(s))
      ? (seedsDoc as number[])
      : undefined;
  if (!seeds) throw new Error(`${file}: seeds: a count (3) or a list of seeds ([1, 7, 42]) is required`);
  if (typeof d["measure"] !== "string") throw new Error(`${file}: measure: the name of the step whose emulated duration to record is required`);
  return { name: d["name"], scenarioFile, scenarioText, grid, seeds, measure: d["measure"] };
}

/** Every combination of the grid's values, first parameter slowest. */
export function gridPoints(grid: Experiment["grid"]): Point[] {
  let points: Record<string, string>[] = [{}];
  for (const { name, values } of grid) points = points.flatMap((p) => values.map((v) => ({ ...p, [name]: v })));
  return points;
}

/** The scenario text of one point: every `${param}` replaced by its value. */
export function fillIn(text: string, point: Point): string {
  return text.replace(/\$\{(\w+)\}/g, (whole, name: string) => point[name] ?? whole);
}

/** One finished run. */
export interface RunRow {
  readonly point: Point;
  readonly seed: number;
  readonly passed: boolean;
  /** The measured step's emulated duration, ms; null when it did not run or pass. */
  readonly valueMs: number | null;
  readonly failure: string | null;
}

/** results.csv: one line per run. */
export function toCsv(exp: Experiment, rows: readonly RunRow[]): string {
  const head = [...exp.grid.map((g) => g.name), "seed", "passed", "measure_ms", "failure"];
  const quote = (v: string) => (/[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
  const lines = rows.map((r) =>
    [...exp.grid.map((g) => r.point[g.name] ?? ""), `${r.seed}`, `${r.passed}`, r.valueMs === null ? "" : r.valueMs.toFixed(3), r.failure ?? ""].map(quote).join(","),
  );
  return `${[head.join(","), ...lines].join("\n")}\n`;
}

/**
 * plot.svg: the measure against the first parameter, one line per value of
 * the second (if any): the mean over seeds, with a bar from min to max.
 */
export function toSvg(exp: Experiment, rows: readonly RunRow[]): string {
  const [xParam, seriesParam] = exp.grid;
  const W = 720, H = 420, L = 70, R = 150, T = 40, B = 50;
  const xs = xParam!.values;
  const series = seriesParam ? seriesParam.values : [""];
  const values = rows.filter((r) => r.valueMs !== null).map((r) => r.valueMs!);
  const yMax = Math.max(1, ...values) * 1.1;
  const px = (i: number) => L + (xs.length === 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (xs.length - 1));
  const py = (v: number) => T + (H - T - B) * (1 - v / yMax);
  const colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${escapeXml(exp.name)}</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`,
    `<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">${escapeXml(xParam!.name)}</text>`,
    `<text x="16" y="${(T + H - B) / 2}" transform="rotate(-90 16 ${(T + H - B) / 2})" text-anchor="middle">${escapeXml(exp.measure.slice(0, 50))} (ms, emulated)</text>`,
  ];
  for (let k = 0; k <= 4; k++) {
    const v = (yMax * k) / 4;
    out.push(`<text x="${L - 6}" y="${py(v) + 4}" text-anchor="end">${v.toFixed(v < 10 ? 1 : 0)}</text>`);
    out.push(`<line x1="${L}" y1="${py(v)}" x2="${W - R}" y2="${py(v)}" stroke="#ddd"/>`);
  }
  xs.forEach((x, i) => out.push(`<text x="${px(i)}" y="${H - B + 16}" text-anchor="middle">${escapeXml(x)}</text>`));
  series.forEach((s, si) => {
    const colour = colours[si % colours.length]!;
    const pts: string[] = [];
    xs.forEach((x, i) => {
      const vals = rows
        .filter((r) => r.point[xParam!.name] === x && (!seriesParam || r.point[seriesParam.name] === s) && r.valueMs !== null)
        .map((r) => r.valueMs!);
      if (vals.length === 0) return;
      const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
      pts.push(`${px(i)},${py(mean)}`);
      out.push(`<line x1="${px(i)}" y1="${py(Math.min(...vals))}" x2="${px(i)}" y2="${py(Math.max(...vals))}" stroke="${colour}" stroke-width="2" opacity="0.5"/>`);
      out.push(`<circle cx="${px(i)}" cy="${py(mean)}" r="3" fill="${colour}"/>`);
    });
    if (pts.length > 1) out.push(`<polyline points="${pts.join(" ")}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    if (seriesParam) {
      out.push(`<line x1="${W - R + 15}" y1="${T + 10 + si * 18}" x2="${W - R + 35}" y2="${T + 10 + si * 18}" stroke="${colour}" stroke-width="2"/>`);
      out.push(`<text x="${W - R + 40}" y="${T + 14 + si * 18}">${escapeXml(`${seriesParam.name}=${s}`)}</text>`);
    }
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]!);
}

/** A one-line progress bar with an ETA: `[#####-----] 12/36 runs, 3 failed, ETA 1m05s`. */
export function progressLine(done: number, total: number, failed: number, elapsedMs: number): string {
  const width = 30;
  const filled = Math.round((done / total) * width);
  const eta = done === 0 ? "?" : formatDuration(((total - done) * elapsedMs) / done);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${total} runs${failed ? `, ${failed} failed` : ""}, ETA ${eta}`;
}

function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}
