/**
 * Argument handling shared by the `ip` objects: the cursor over argv with
 * iproute2's NEXT_ARG, its address and prefix parsers with their exact
 * complaints, and the kernel-error wording (`RTNETLINK answers: …`,
 * `Error: <extack>.`), in both the iproute2 and the busybox flavour.
 * Private to the userland.
 */
import { KernelError } from "@kemu/kernel";
import type { Flavour, ProcessContext } from "../process.ts";
import { die, maskToLen, parseCNumber, parseInetLoose } from "./_net.ts";

/** An address family as iproute2 tracks it while parsing (AF_UNSPEC until an address fixes it). */
export type Family = "any" | "inet";

/** A parsed prefix (get_prefix): `default` and `all`/`any` are prefixes too. */
export interface Prefix {
  addr: number;
  len: number;
  /** The text had a /LEN (or was `default`). */
  lenGiven: boolean;
}

/** The state of one `ip` run that parsing needs. */
export class IpArgs {
  #i = 0;
  constructor(
    readonly ctx: ProcessContext,
    readonly argv: readonly string[],
    readonly flavour: Flavour,
  ) {}

  /** Arguments left. */
  get left(): number {
    return this.argv.length - this.#i;
  }

  /** The current argument (undefined at the end). */
  get cur(): string | undefined {
    return this.argv[this.#i];
  }

  /** The arguments from the current one on. */
  rest(): string[] {
    return this.argv.slice(this.#i);
  }

  /** Moves past the current argument. */
  shift(): void {
    this.#i++;
  }

  /** NEXT_ARG: moves to the next argument, which must exist, and returns it. */
  next(): string {
    this.#i++;
    const a = this.argv[this.#i];
    if (a === undefined) this.incomplete();
    return a;
  }

  /** incomplete_command(). */
  incomplete(): never {
    if (this.flavour === "busybox") die(this.ctx, "ip: command line is not complete, try \"help\"\n", 1);
    die(this.ctx, 'Command line is not complete. Try option "help"\n', 255);
  }

  /** invarg(msg, arg): `Error: argument "ARG" is wrong: MSG` (msg often ends in \n: a blank line follows). */
  invarg(msg: string, arg: string): never {
    if (this.flavour === "busybox") die(this.ctx, `ip: invalid argument '${arg}' to '${msg.replace(/\n$/, "")}'\n`, 1);
    die(this.ctx, `Error: argument "${arg}" is wrong: ${msg}\n`, 255);
  }

  /** duparg2: `Error: either "KEY" is duplicate, or "ARG" is a garbage.` */
  duparg2(key: string, arg: string, bbCode = 1): never {
    if (this.flavour === "busybox") die(this.ctx, `ip: either "${key}" is duplicate, or "${arg}" is garbage\n`, bbCode);
    die(this.ctx, `Error: either "${key}" is duplicate, or "${arg}" is a garbage.\n`, 255);
  }

  /** duparg: `Error: duplicate "KEY": "ARG" is the second value.` */
  duparg(key: string, arg: string): never {
    if (this.flavour === "busybox") die(this.ctx, `ip: duplicate "${key}": "${arg}" is the second value\n`, 1);
    die(this.ctx, `Error: duplicate "${key}": "${arg}" is the second value.\n`, 255);
  }

  /** nodev(): `Cannot find device "X"`, status 1. */
  nodev(name: string, bbCode = 1): never {
    if (this.flavour === "busybox") die(this.ctx, `ip: can't find device '${name}'\n`, bbCode);
    die(this.ctx, `Cannot find device "${name}"\n`, 1);
  }

  /** get_prefix(): dies with `Error: inet prefix is expected rather than "X".` on garbage. */
  prefix(text: string, family: Family): Prefix {
    const p = parsePrefix(text);
    if (p === undefined) {
      if (this.flavour === "busybox") die(this.ctx, `ip: an inet prefix is expected rather than "${text}"\n`, 1);
      die(this.ctx, `Error: ${family === "any" ? "any valid" : "inet"} prefix is expected rather than "${text}".\n`, 1);
    }
    return p;
  }

  /** get_addr(): a single address (`default`/`any` mean 0.0.0.0). */
  addr(text: string, family: Family): number {
    const a = text === "default" || text === "any" || text === "all" ? 0 : text.includes("/") ? undefined : parseInetLoose(text);
    if (a === undefined) {
      if (this.flavour === "busybox") die(this.ctx, `ip: an inet address is expected rather than "${text}"\n`, 1);
      die(this.ctx, `Error: ${family === "any" ? "any valid" : "inet"} address is expected rather than "${text}".\n`, 1);
    }
    return a;
  }

  /** A kernel refusal: `Error: DETAIL` when the kernel said why, else `RTNETLINK answers: STRERROR`; status 2. */
  rtnl(err: unknown): never {
    if (!(err instanceof KernelError)) throw err;
    if (this.flavour === "busybox") die(this.ctx, `ip: RTNETLINK answers: ${err.text}\n`, 2);
    if (err.detail !== undefined) die(this.ctx, `Error: ${err.detail}\n`, 2);
    die(this.ctx, `RTNETLINK answers: ${err.text}\n`, 2);
  }

  /** A kernel refusal with an errno the model does not name: `RTNETLINK answers: TEXT`, status 2. */
  rtnlText(text: string): never {
    die(this.ctx, `${this.flavour === "busybox" ? "ip: " : ""}RTNETLINK answers: ${text}\n`, 2);
  }

  /** Runs a kernel operation, turning its KernelError into the tool's message. */
  kernel<T>(op: () => T): T {
    try {
      return op();
    } catch (err) {
      this.rtnl(err);
    }
  }
}

/** get_prefix_1 for IPv4: `default`, `all`/`any`, `A[/LEN]` with LEN a number or a dotted mask. */
export function parsePrefix(text: string): Prefix | undefined {
  const slash = text.indexOf("/");
  const head = slash < 0 ? text : text.slice(0, slash);
  if (head === "default" || head === "all" || head === "any") {
    if (slash >= 0) return undefined;
    return { addr: 0, len: 0, lenGiven: head === "default" };
  }
  const addr = parseInetLoose(head);
  if (addr === undefined) return undefined;
  if (slash < 0) return { addr, len: 32, lenGiven: false };
  const lenText = text.slice(slash + 1);
  let len = /^[0-9]/.test(lenText) && !lenText.includes(".") ? parseCNumber(lenText) : undefined;
  if (len === undefined && lenText.includes(".")) {
    const mask = parseInetLoose(lenText);
    len = mask === undefined ? undefined : maskToLen(mask);
  }
  if (len === undefined || len > 32) return undefined;
  return { addr, len, lenGiven: true };
}
