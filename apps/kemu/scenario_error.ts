/**
 * What is wrong with a scenario file, and where: the unit that validation
 * collects and `kemu run` prints before refusing to run anything.
 */

/** One fault in a scenario file, at a 1-based line and column. */
export interface ScenarioError {
  /** The file as the user named it. */
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /** The key path at fault (`steps[2].expect.stdout`); empty for the file as a whole. */
  readonly path: string;
  readonly message: string;
  /** Lines of the file around the fault, as the YAML parser shows them; may be empty. */
  readonly context?: string;
}

/**
 * The error as one printable line, `file:line:col: path: message` (the path
 * left out when empty), followed by any context lines indented four spaces.
 */
export function formatScenarioError(error: ScenarioError): string {
  const where = `${error.file}:${error.line}:${error.col}:`;
  const head = error.path === "" ? `${where} ${error.message}` : `${where} ${error.path}: ${error.message}`;
  if (!error.context) return head;
  const context = error.context.replace(/\n+$/, "").split("\n").map((l) => (l === "" ? "" : `    ${l}`));
  return [head, ...context].join("\n");
}
