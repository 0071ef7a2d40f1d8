/**
 * Control flow of the shell interpreter, thrown through the JavaScript
 * stack: `exit`, `break`/`continue`, `return`, and being killed.
 */

/** `exit N`, or `set -e` on a failure: ends the (sub)shell with `status`. */
export class ExitSignal {
  constructor(readonly status: number) {}
}

/** `break N` / `continue N`: unwinds N enclosing loops. */
export class LoopSignal {
  constructor(
    readonly kind: "break" | "continue",
    readonly n: number,
  ) {}
}

/** `return N` from a function or sourced file. */
export class ReturnSignal {
  constructor(readonly status: number) {}
}

/** The shell process was killed: stop running anything. */
export class KilledSignal {}
