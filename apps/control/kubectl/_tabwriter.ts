/**
 * Go's text/tabwriter, as kubectl uses it: tab-terminated cells aligned in
 * column blocks (runs of consecutive lines that have a cell in that column),
 * the text after a line's last tab left as is.
 */

/** Options of a tab writer (Go's minwidth and padding; the pad character is always a space). */
export interface TabOptions {
  minWidth: number;
  padding: number;
}

/** kubectl get's table writer: minwidth 6, padding 3. */
export const TABLE_TABS: TabOptions = { minWidth: 6, padding: 3 };

/** kubectl describe's writer: minwidth 0, padding 2. */
export const DESCRIBE_TABS: TabOptions = { minWidth: 0, padding: 2 };

/** Aligns `text` (lines of tab-terminated cells) the way Go's tabwriter does on Flush. */
export function alignTabs(text: string, options: TabOptions): string {
  if (text === "") return "";
  const endsWithNewline = text.endsWith("\n");
  const rawLines = (endsWithNewline ? text.slice(0, -1) : text).split("\n");
  const lines = rawLines.map((l) => l.split("\t"));
  const out: string[] = [];
  const widths: number[] = [];

  const writeLines = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const cells = lines[i]!;
      let s = "";
      for (let j = 0; j < cells.length; j++) {
        const c = cells[j]!;
        s += c;
        if (j < widths.length) s += " ".repeat(Math.max(0, widths[j]! - width(c)));
      }
      out.push(s);
    }
  };

  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    let start = line0;
    for (let cur = line0; cur < line1; cur++) {
      if (column >= lines[cur]!.length - 1) continue;
      writeLines(start, cur);
      start = cur;
      let w = options.minWidth;
      for (; cur < line1; cur++) {
        const cells = lines[cur]!;
        if (column >= cells.length - 1) break;
        const cw = width(cells[column]!) + options.padding;
        if (cw > w) w = cw;
      }
      widths.push(w);
      format(start, cur);
      widths.pop();
      start = cur;
      cur--; // the loop's increment would skip the line that ended the block
    }
    writeLines(start, line1);
  };

  format(0, lines.length);
  return out.join("\n") + (endsWithNewline ? "\n" : "");
}

/** Display width as the tabwriter counts it: one per code point. */
function width(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/**
 * Text written in pieces and aligned on flush, like a Go tabwriter in front
 * of a buffer: `flush()` aligns what was written since the last flush.
 */
export class TabBuffer {
  #pending = "";
  #done = "";
  constructor(readonly options: TabOptions) {}

  write(text: string): void {
    this.#pending += text;
  }

  flush(): void {
    this.#done += alignTabs(this.#pending, this.options);
    this.#pending = "";
  }

  /** Everything written, aligned (flushes first). */
  toString(): string {
    this.flush();
    return this.#done;
  }
}
