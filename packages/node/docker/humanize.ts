/** go-units HumanDuration, as `docker ps` prints ages ("About a minute", "3 hours"). */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return "Less than a second";
  if (seconds === 1) return "1 second";
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(seconds / 60);
  if (minutes === 1) return "About a minute";
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(seconds / 3600);
  if (hours === 1) return "About an hour";
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(hours / 24 / 365)} years`;
}

/**
 * Lays out rows as the docker CLI's tabwriter does (minwidth 10, padding 3):
 * each column as wide as its widest cell plus 3 spaces, at least 10, the
 * last one unpadded.
 */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(Math.max(10, widths[i]! + 3))))
        .join("")
        .trimEnd(),
    )
    .map((l) => `${l}\n`)
    .join("");
}

/** Evaluates the Go template subset `docker inspect -f` users write: {{.A.B}}, {{json .A}}, {{range .A}}…{{end}}, {{index .A "k"}}. */
export function goTemplate(template: string, data: unknown): string {
  const tokens = template.split(/({{-?\s*.*?\s*-?}})/s).filter((t) => t !== "");
  let pos = 0;
  const render = (dot: unknown, stopAtEnd: boolean): string => {
    let out = "";
    while (pos < tokens.length) {
      const tok = tokens[pos++]!;
      const m = /^{{-?\s*(.*?)\s*-?}}$/s.exec(tok);
      if (!m) {
        out += tok;
        continue;
      }
      const action = m[1]!;
      if (action === "end") {
        if (stopAtEnd) return out;
        throw new Error(`template: :1: unexpected {{end}}`);
      }
      const range = /^range\s+(.+)$/.exec(action);
      if (range) {
        const coll = evalExpr(range[1]!, dot);
        const start = pos;
        const items = Array.isArray(coll) ? coll : coll && typeof coll === "object" ? Object.keys(coll).sort().map((k) => (coll as Record<string, unknown>)[k]) : [];
        if (items.length === 0) {
          render(undefined, true);
        }
        for (const item of items) {
          pos = start;
          out += render(item, true);
        }
        continue;
      }
      out += show(evalExpr(action, dot));
    }
    if (stopAtEnd) throw new Error("template: :1: unexpected EOF");
    return out;
  };
  return render(data, false);
}

function evalExpr(expr: string, dot: unknown): unknown {
  const json = /^json\s+(.+)$/.exec(expr);
  if (json) return { __json: JSON.stringify(evalExpr(json[1]!, dot)) };
  const index = /^index\s+(\S+)\s+"([^"]*)"$/.exec(expr);
  if (index) {
    const base = evalExpr(index[1]!, dot);
    return base && typeof base === "object" ? (base as Record<string, unknown>)[index[2]!] : undefined;
  }
  if (expr === ".") return dot;
  if (!expr.startsWith(".")) throw new Error(`template: :1: function "${expr.split(/\s/)[0]}" not defined`);
  let v: unknown = dot;
  for (const key of expr.slice(1).split(".")) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

function show(v: unknown): string {
  if (v && typeof v === "object" && "__json" in v) return `${(v as { __json: string }).__json}`;
  if (v === undefined) return "<no value>";
  if (v === null) return "<nil>";
  if (typeof v === "object") return Array.isArray(v) ? `[${v.map(show).join(" ")}]` : `map[${Object.entries(v).map(([k, x]) => `${k}:${show(x)}`).join(" ")}]`;
  return String(v);
}
