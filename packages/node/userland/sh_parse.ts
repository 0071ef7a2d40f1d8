/**
 * The shell's grammar: a POSIX sh lexer and recursive-descent parser that
 * turns source text into a syntax tree, one complete command at a time, and
 * says precisely when the text is unfinished (an open quote, `if` without
 * `fi`) so that an interactive reader can ask for another line.
 */

/** One piece of a word before expansion. */
export type WordPart =
  /** Literal text; `quoted` text is neither split nor globbed. */
  | { kind: "lit"; text: string; quoted: boolean }
  /** A double-quoted run. */
  | { kind: "dq"; parts: WordPart[] }
  /** `$x`, `${x}`, `${x:-word}`, `${#x}`… */
  | { kind: "param"; name: string; op: ParamOp | undefined; arg: Word | undefined }
  /** `$(…)` or backticks. */
  | { kind: "cmdsub"; body: List }
  /** `$((…))`: the expression text, itself expanded before evaluation. */
  | { kind: "arith"; expr: Word };

/** Operators of `${name<op>word}`; `len` is `${#name}`. */
export type ParamOp =
  | ":-"
  | "-"
  | ":="
  | "="
  | ":+"
  | "+"
  | ":?"
  | "?"
  | "#"
  | "##"
  | "%"
  | "%%"
  | "len"
  /** `${x:offset[:length]}` */
  | ":"
  /** `${x/pattern/replacement}`, `${x//pattern/replacement}` */
  | "/"
  | "//";

/** A word: its parts, and its source text (for keywords and error messages). */
export interface Word {
  readonly parts: WordPart[];
  readonly raw: string;
}

/** A redirection such as `2>&1`, `>> file`, `<<EOF`. */
export interface Redir {
  readonly fd: number;
  readonly op: "<" | ">" | ">>" | ">|" | "<>" | ">&" | "<&" | "&>" | "&>>" | "<<" | "<<-" | "<<<";
  readonly target: Word;
  /** For here-documents: the body, filled in once the lines after the command are read. */
  heredoc?: { body: Word };
}

/** `NAME=value` before a command or alone. */
export interface Assign {
  readonly name: string;
  readonly value: Word;
}

/** A command of any kind. */
export type Cmd =
  | { kind: "simple"; assigns: Assign[]; words: Word[]; redirs: Redir[]; line: number }
  | { kind: "if"; clauses: Array<{ cond: List; body: List }>; otherwise: List | undefined; redirs: Redir[] }
  | { kind: "for"; name: string; items: Word[] | undefined; body: List; redirs: Redir[] }
  | { kind: "while"; until: boolean; cond: List; body: List; redirs: Redir[] }
  | { kind: "case"; word: Word; items: Array<{ patterns: Word[]; body: List }>; redirs: Redir[] }
  | { kind: "group"; body: List; redirs: Redir[] }
  | { kind: "subshell"; body: List; redirs: Redir[] }
  | { kind: "func"; name: string; body: Cmd }
  /** `[[ … ]]`: its words, operators (`&&`, `(`, `<`…) included as unquoted words. */
  | { kind: "cond"; words: Word[]; redirs: Redir[]; line: number }
  /** `(( expr ))` (bash). */
  | { kind: "arith"; expr: Word; redirs: Redir[]; line: number }
  /** `for (( init; cond; step )); do …; done` (bash). */
  | { kind: "arithfor"; init: Word; cond: Word; step: Word; body: List; redirs: Redir[] };

/** `[!] cmd | cmd | …` */
export interface Pipeline {
  readonly negate: boolean;
  readonly cmds: Cmd[];
}

/** Pipelines joined by `&&`/`||`, run in the background when followed by `&`. */
export interface AndOr {
  readonly first: Pipeline;
  readonly rest: Array<{ op: "&&" | "||"; pipeline: Pipeline }>;
  background: boolean;
}

/** A sequence of and-or lists. */
export type List = AndOr[];

/**
 * What is wrong with the text. `eof` errors mean the text ended too soon
 * (`what` says what was still open: a quote character, `)`, `}`, or a
 * keyword expected such as `fi`); `token` errors mean an unexpected token.
 */
export class ShSyntaxError extends Error {
  override readonly name = "ShSyntaxError";
  constructor(
    readonly kind: "eof" | "token" | "subst",
    /** eof: `'`, `"`, "`", `)`, `}` or a keyword the parser waited for (maybe ""); token: the token's text; subst: the `${…}` text. */
    readonly what: string,
    /** 1-based line where the error was found. */
    readonly line: number,
    /** The source line that holds the bad token (bash prints it). */
    readonly sourceLine = "",
  ) {
    super(kind === "eof" ? `unexpected end of file (${what})` : kind === "subst" ? `${what}: bad substitution` : `unexpected token ${what}`);
  }
}

/** Thrown when the text ends before a command is complete and more text may come. */
export class NeedMore extends Error {
  override readonly name = "NeedMore";
}

type Token =
  | { t: "word"; word: Word; line: number }
  | { t: "op"; op: string; fd: number | undefined; line: number }
  | { t: "eof"; line: number };

const RESERVED = new Set([
  "if",
  "then",
  "else",
  "elif",
  "fi",
  "do",
  "done",
  "case",
  "esac",
  "while",
  "until",
  "for",
  "in",
  "{",
  "}",
  "!",
  "[[",
  "function",
]);
const META = " \t\n;&|<>()";
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Options of a parse. */
export interface ParseOptions {
  /** True when no more text will come: EOF ends the last command instead of asking for more. */
  final: boolean;
  /** Line number of the first character (default 1). */
  line?: number;
  /** bash's extensions: `(( … ))` (default true; busybox ash has none). */
  bash?: boolean;
}

/** The result of parsing one complete command. */
export interface Parsed {
  /** The command, or undefined when only blank lines and comments were left. */
  list: List | undefined;
  /** Where the next command starts. */
  end: number;
  /** Line number at `end`. */
  line: number;
  /** Warnings to print (bash's here-document at end of file). */
  warnings: string[];
}

/**
 * Parses the next complete command (a list ended by a newline or the end of
 * text) of `src` starting at `start`. Throws NeedMore when `final` is false
 * and the text stops early, ShSyntaxError on bad syntax.
 *
 * ```ts
 * const { list } = parseCommand("echo hi | wc -l\n", 0, { final: true });
 * ```
 */
export function parseCommand(src: string, start: number, options: ParseOptions): Parsed {
  const p = new Parser(src, start, options.final, options.line ?? 1, options.bash ?? true);
  const list = p.completeCommand();
  return { list, end: p.pos, line: p.line, warnings: p.warnings };
}

/** Parses a whole text (for `eval`, `source`, traps): every command in order. */
export function parseAll(src: string, options: { bash?: boolean } = {}): List {
  const out: List = [];
  let pos = 0;
  let line = 1;
  for (;;) {
    const r = parseCommand(src, pos, { final: true, line, bash: options.bash ?? true });
    if (r.list === undefined) return out;
    out.push(...r.list);
    pos = r.end;
    line = r.line;
  }
}

/**
 * Parses the text of a here-document or arithmetic expression as if it were
 * inside double quotes (expansions, no quote removal) — except that `"` is an
 * ordinary character.
 */
export function parseExpandable(text: string): Word {
  const p = new Parser(text, 0, true, 1, true);
  const parts = p.dqParts(undefined);
  return { parts, raw: text };
}

class Parser {
  pos: number;
  line: number;
  warnings: string[] = [];
  #peeked: { tok: Token; end: number; line: number } | undefined;
  #pending: Redir[] = [];
  /** While lexing `[[ x =~ RE ]]`'s RE: `(`, `)` and `|` belong to the word. */
  #parenLiteral = false;

  readonly startPos: number;
  readonly startLine: number;

  constructor(
    readonly src: string,
    start: number,
    readonly final: boolean,
    line: number,
    readonly bash: boolean,
  ) {
    this.pos = start;
    this.line = line;
    this.startPos = start;
    this.startLine = line;
  }

  // ---- grammar ----

  completeCommand(): List | undefined {
    this.#skipNewlines();
    if (this.#peek().t === "eof") return undefined;
    const list: List = [];
    for (;;) {
      const ao = this.#andOr();
      list.push(ao);
      const tok = this.#peek();
      if (tok.t === "op" && (tok.op === ";" || tok.op === "&")) {
        this.#next();
        ao.background = tok.op === "&";
        const after = this.#peek();
        if (after.t === "eof") {
          if (!this.final) throw new NeedMore();
          return list;
        }
        if (after.t === "op" && after.op === "\n") {
          this.#next();
          return list;
        }
        continue;
      }
      if (tok.t === "op" && tok.op === "\n") {
        this.#next();
        return list;
      }
      if (tok.t === "eof") {
        if (!this.final) throw new NeedMore();
        return list;
      }
      throw this.#unexpected(tok);
    }
  }

  /** A list inside a compound command, up to (not including) a stop word or `)`/`;;`. */
  #compoundList(stops: readonly string[], expecting: string): List {
    this.#skipNewlines();
    const list: List = [];
    for (;;) {
      const tok = this.#peek();
      if (tok.t === "eof") throw this.#eof(expecting);
      if (this.#isStop(tok, stops)) break;
      const ao = this.#andOr();
      list.push(ao);
      const sep = this.#peek();
      if (sep.t === "op" && (sep.op === ";" || sep.op === "&" || sep.op === "\n")) {
        this.#next();
        if (sep.op === "&") ao.background = true;
        this.#skipNewlines();
        continue;
      }
      if (sep.t === "eof") throw this.#eof(expecting);
      if (this.#isStop(sep, stops)) break;
      throw this.#unexpected(sep);
    }
    if (list.length === 0) throw this.#unexpected(this.#peek());
    return list;
  }

  #isStop(tok: Token, stops: readonly string[]): boolean {
    if (tok.t === "op") return stops.includes(tok.op);
    return tok.t === "word" && isPlain(tok.word) && stops.includes(tok.word.raw);
  }

  #andOr(): AndOr {
    const first = this.#pipeline();
    const rest: AndOr["rest"] = [];
    for (;;) {
      const tok = this.#peek();
      if (tok.t === "op" && (tok.op === "&&" || tok.op === "||")) {
        this.#next();
        this.#skipNewlines();
        rest.push({ op: tok.op, pipeline: this.#pipeline() });
      } else break;
    }
    return { first, rest, background: false };
  }

  #pipeline(): Pipeline {
    let negate = false;
    const tok = this.#peek();
    if (tok.t === "word" && isPlain(tok.word) && tok.word.raw === "!") {
      this.#next();
      negate = true;
    }
    const cmds = [this.#command()];
    for (;;) {
      const t = this.#peek();
      if (t.t === "op" && t.op === "|") {
        this.#next();
        this.#skipNewlines();
        cmds.push(this.#command());
      } else break;
    }
    return { negate, cmds };
  }

  #command(): Cmd {
    const tok = this.#peek();
    if (tok.t === "eof") throw this.#eof("");
    if (tok.t === "op" && tok.op === "(") {
      this.#next();
      const body = this.#compoundList([")"], ")");
      this.#expectOp(")");
      return { kind: "subshell", body, redirs: this.#trailingRedirs() };
    }
    if (tok.t === "op" && tok.op === "((") return this.#arithCmd();
    if (tok.t === "word" && isPlain(tok.word) && RESERVED.has(tok.word.raw)) {
      switch (tok.word.raw) {
        case "if":
          return this.#if();
        case "while":
        case "until":
          return this.#while(tok.word.raw === "until");
        case "for":
          return this.#for();
        case "case":
          return this.#case();
        case "{": {
          this.#next();
          const body = this.#compoundList(["}"], "}");
          this.#expectWord("}");
          return { kind: "group", body, redirs: this.#trailingRedirs() };
        }
        case "[[":
          return this.#condCmd();
        case "function": {
          this.#next();
          const name = this.#next();
          if (name.t !== "word") throw name.t === "eof" ? this.#eof("") : this.#unexpected(name);
          const paren = this.#peek();
          if (paren.t === "op" && paren.op === "(") {
            this.#next();
            this.#expectOp(")");
          }
          this.#skipNewlines();
          return { kind: "func", name: name.word.raw, body: this.#command() };
        }
        case "!":
        case "in":
          break;
        default:
          throw this.#unexpected(tok);
      }
    }
    return this.#simple();
  }

  #if(): Cmd {
    this.#next();
    const clauses: Array<{ cond: List; body: List }> = [];
    let otherwise: List | undefined;
    for (;;) {
      const cond = this.#compoundList(["then"], "then");
      this.#expectWord("then");
      const body = this.#compoundList(["elif", "else", "fi"], "fi");
      clauses.push({ cond, body });
      const kw = this.#next() as Extract<Token, { t: "word" }>;
      if (kw.word.raw === "elif") continue;
      if (kw.word.raw === "else") {
        otherwise = this.#compoundList(["fi"], "fi");
        this.#expectWord("fi");
      }
      break;
    }
    return { kind: "if", clauses, otherwise, redirs: this.#trailingRedirs() };
  }

  #while(until: boolean): Cmd {
    this.#next();
    const cond = this.#compoundList(["do"], "do");
    this.#expectWord("do");
    const body = this.#compoundList(["done"], "done");
    this.#expectWord("done");
    return { kind: "while", until, cond, body, redirs: this.#trailingRedirs() };
  }

  #for(): Cmd {
    this.#next();
    const first = this.#peek();
    if (first.t === "op" && first.op === "((") return this.#arithFor();
    const nameTok = this.#next();
    if (nameTok.t !== "word" || !NAME_RE.test(nameTok.word.raw)) {
      if (nameTok.t === "eof") throw this.#eof("");
      throw this.#unexpected(nameTok);
    }
    let items: Word[] | undefined;
    this.#skipNewlines();
    let tok = this.#peek();
    if (tok.t === "word" && isPlain(tok.word) && tok.word.raw === "in") {
      this.#next();
      items = [];
      for (;;) {
        tok = this.#peek();
        if (tok.t !== "word") break;
        this.#next();
        items.push(tok.word);
      }
      if (tok.t === "op" && (tok.op === ";" || tok.op === "\n")) this.#next();
      else if (tok.t === "eof") throw this.#eof("do");
      else throw this.#unexpected(tok);
    } else if (tok.t === "op" && tok.op === ";") {
      this.#next();
    }
    this.#skipNewlines();
    tok = this.#peek();
    if (tok.t === "eof") throw this.#eof("do");
    if (!(tok.t === "word" && isPlain(tok.word) && tok.word.raw === "do")) throw this.#unexpected(tok);
    this.#next();
    const body = this.#compoundList(["done"], "done");
    this.#expectWord("done");
    return { kind: "for", name: nameTok.word.raw, items, body, redirs: this.#trailingRedirs() };
  }

  #case(): Cmd {
    this.#next();
    const wordTok = this.#next();
    if (wordTok.t === "eof") throw this.#eof("in");
    if (wordTok.t !== "word") throw this.#unexpected(wordTok);
    this.#skipNewlines();
    this.#expectWord("in");
    const items: Array<{ patterns: Word[]; body: List }> = [];
    for (;;) {
      this.#skipNewlines();
      let tok = this.#peek();
      if (tok.t === "eof") throw this.#eof("esac");
      if (tok.t === "word" && isPlain(tok.word) && tok.word.raw === "esac") {
        this.#next();
        break;
      }
      if (tok.t === "op" && tok.op === "(") {
        this.#next();
        tok = this.#peek();
      }
      const patterns: Word[] = [];
      for (;;) {
        const w = this.#next();
        if (w.t === "eof") throw this.#eof(")");
        if (w.t !== "word") throw this.#unexpected(w);
        patterns.push(w.word);
        const sep = this.#next();
        if (sep.t === "op" && sep.op === "|") continue;
        if (sep.t === "op" && sep.op === ")") break;
        if (sep.t === "eof") throw this.#eof(")");
        throw this.#unexpected(sep);
      }
      this.#skipNewlines();
      let body: List = [];
      const first = this.#peek();
      if (!this.#isStop(first, [";;", "esac"])) body = this.#compoundList([";;", "esac"], "esac");
      const end = this.#peek();
      if (end.t === "op" && end.op === ";;") this.#next();
      items.push({ patterns, body });
    }
    return { kind: "case", word: wordTok.word, items, redirs: this.#trailingRedirs() };
  }

  #arithFor(): Cmd {
    this.#next();
    const s = this.src;
    let depth = 0;
    let i = this.pos;
    for (; i < s.length; i++) {
      if (s[i] === "(") depth++;
      else if (s[i] === ")") {
        if (depth === 0 && s[i + 1] === ")") break;
        depth--;
      }
    }
    if (i >= s.length) throw this.#eof(")");
    const text = s.slice(this.pos, i);
    this.line += countNewlines(text);
    this.pos = i + 2;
    const parts = text.split(";");
    if (parts.length !== 3) throw new ShSyntaxError("token", "((", this.line, this.#lineText(this.line));
    const [init, cond, step] = parts.map((p) => parseExpandable(p)) as [Word, Word, Word];
    const sep = this.#peek();
    if (sep.t === "op" && sep.op === ";") this.#next();
    this.#skipNewlines();
    const kw = this.#peek();
    if (kw.t === "eof") throw this.#eof("do");
    if (!(kw.t === "word" && isPlain(kw.word) && (kw.word.raw === "do" || kw.word.raw === "{"))) throw this.#unexpected(kw);
    this.#next();
    const close = kw.word.raw === "do" ? "done" : "}";
    const body = this.#compoundList([close], close);
    this.#expectWord(close);
    return { kind: "arithfor", init, cond, step, body, redirs: this.#trailingRedirs() };
  }

  #condCmd(): Cmd {
    const line = this.#next().line;
    const words: Word[] = [];
    for (;;) {
      const tok = this.#next();
      if (tok.t === "eof") throw this.#eof("]]");
      if (tok.t === "word") {
        if (isPlain(tok.word) && tok.word.raw === "]]") break;
        words.push(tok.word);
      } else if (tok.op === "\n") {
        continue;
      } else if (["&&", "||", "(", ")", "<", ">", "!"].includes(tok.op)) {
        words.push({ parts: [{ kind: "lit", text: tok.op, quoted: false }], raw: tok.op });
      } else throw this.#unexpected(tok);
      const last = words[words.length - 1];
      if (last !== undefined && isPlain(last) && last.raw === "=~") {
        // The regular expression after =~ may hold parentheses and | as ordinary characters.
        this.#parenLiteral = true;
        try {
          const rhs = this.#next();
          if (rhs.t === "eof") throw this.#eof("]]");
          if (rhs.t !== "word") throw this.#unexpected(rhs);
          words.push(rhs.word);
        } finally {
          this.#parenLiteral = false;
        }
      }
    }
    return { kind: "cond", words, redirs: this.#trailingRedirs(), line };
  }

  #arithCmd(): Cmd {
    const line = this.#next().line;
    const s = this.src;
    let depth = 0;
    let i = this.pos;
    for (; i < s.length; i++) {
      if (s[i] === "(") depth++;
      else if (s[i] === ")") {
        if (depth === 0 && s[i + 1] === ")") break;
        depth--;
      }
    }
    if (i >= s.length) {
      if (!this.final) throw new NeedMore();
      throw new ShSyntaxError("eof", ")", this.line);
    }
    const text = s.slice(this.pos, i);
    this.line += countNewlines(text);
    this.pos = i + 2;
    return { kind: "arith", expr: parseExpandable(text), redirs: this.#trailingRedirs(), line };
  }

  #simple(): Cmd {
    const assigns: Assign[] = [];
    const words: Word[] = [];
    const redirs: Redir[] = [];
    const line = this.#peek().line;
    for (;;) {
      const tok = this.#peek();
      if (tok.t === "op" && isRedirOp(tok.op)) {
        redirs.push(this.#redir());
        continue;
      }
      if (tok.t !== "word") break;
      this.#next();
      if (words.length === 0) {
        const a = asAssign(tok.word);
        if (a !== undefined) {
          assigns.push(a);
          continue;
        }
        // `name() compound`: a function definition.
        const after = this.#peek();
        if (after.t === "op" && after.op === "(" && assigns.length === 0 && redirs.length === 0) {
          if (!NAME_RE.test(tok.word.raw) && !/^[A-Za-z_][\w.-]*$/.test(tok.word.raw)) throw this.#unexpected(after);
          this.#next();
          this.#expectOp(")");
          this.#skipNewlines();
          const body = this.#command();
          return { kind: "func", name: tok.word.raw, body };
        }
      }
      words.push(tok.word);
    }
    if (assigns.length === 0 && words.length === 0 && redirs.length === 0) throw this.#unexpected(this.#peek());
    return { kind: "simple", assigns, words, redirs, line };
  }

  #trailingRedirs(): Redir[] {
    const redirs: Redir[] = [];
    for (;;) {
      const tok = this.#peek();
      if (tok.t === "op" && isRedirOp(tok.op)) redirs.push(this.#redir());
      else return redirs;
    }
  }

  #redir(): Redir {
    const tok = this.#next() as Extract<Token, { t: "op" }>;
    const op = tok.op as Redir["op"];
    const target = this.#next();
    if (target.t === "eof") {
      if (!this.final) throw new NeedMore();
      throw new ShSyntaxError("token", "newline", target.line, this.#lineText(target.line));
    }
    if (target.t !== "word") throw this.#unexpected(target);
    const fd = tok.fd ?? (op.startsWith("<") ? 0 : 1);
    const redir: Redir = { fd, op, target: target.word };
    if (op === "<<" || op === "<<-") this.#pending.push(redir);
    return redir;
  }

  #expectWord(word: string): void {
    const tok = this.#next();
    if (tok.t === "word" && isPlain(tok.word) && tok.word.raw === word) return;
    if (tok.t === "eof") throw this.#eof(word);
    throw this.#unexpected(tok);
  }

  #expectOp(op: string): void {
    const tok = this.#next();
    if (tok.t === "op" && tok.op === op) return;
    if (tok.t === "eof") throw this.#eof(op);
    throw this.#unexpected(tok);
  }

  #skipNewlines(): void {
    for (;;) {
      const tok = this.#peek();
      if (tok.t === "op" && tok.op === "\n") this.#next();
      else return;
    }
  }

  #eof(expecting: string): Error {
    if (!this.final) return new NeedMore();
    return new ShSyntaxError("eof", expecting, this.line);
  }

  #unexpected(tok: Token): Error {
    if (tok.t === "eof") return this.#eof("");
    const text = tok.t === "word" ? tok.word.raw : tok.op === "\n" ? "newline" : tok.op;
    return new ShSyntaxError("token", text, tok.line, this.#lineText(tok.line));
  }

  /** The text of source line `n` (for bash's second error line). */
  #lineText(n: number): string {
    const from = this.src.lastIndexOf("\n", this.startPos - 1) + 1;
    const lines = this.src.slice(from).split("\n");
    return lines[n - this.startLine] ?? lines[lines.length - 1] ?? "";
  }

  // ---- tokens ----

  #peek(): Token {
    if (this.#peeked === undefined) {
      const save = { pos: this.pos, line: this.line };
      const tok = this.#lex();
      this.#peeked = { tok, end: this.pos, line: this.line };
      this.pos = save.pos;
      this.line = save.line;
    }
    return this.#peeked.tok;
  }

  #next(): Token {
    const p = this.#peeked ?? (this.#peek(), this.#peeked!);
    this.#peeked = undefined;
    this.pos = p.end;
    this.line = p.line;
    return p.tok;
  }

  #lex(): Token {
    const s = this.src;
    for (;;) {
      const c = s[this.pos];
      if (c === " " || c === "\t") this.pos++;
      else if (c === "\\" && s[this.pos + 1] === "\n") {
        this.pos += 2;
        this.line++;
      } else if (c === "#") {
        while (this.pos < s.length && s[this.pos] !== "\n") this.pos++;
      } else break;
    }
    const line = this.line;
    if (this.pos >= s.length) return { t: "eof", line };
    const c = s[this.pos]!;
    if (c === "\n") {
      this.pos++;
      this.line++;
      this.#readHeredocs();
      return { t: "op", op: "\n", fd: undefined, line };
    }
    const op = this.#matchOp();
    if (op !== undefined) return { t: "op", op, fd: undefined, line };
    const start = this.pos;
    const parts = this.#wordParts();
    const raw = s.slice(start, this.pos);
    // An all-digit word right before `<` or `>` is the redirection's descriptor.
    if (/^\d$/.test(raw) && (s[this.pos] === "<" || s[this.pos] === ">")) {
      const rop = this.#matchOp();
      if (rop !== undefined && isRedirOp(rop)) return { t: "op", op: rop, fd: Number(raw), line };
    }
    return { t: "word", word: { parts, raw }, line };
  }

  #matchOp(): string | undefined {
    const s = this.src;
    if (this.bash && s.startsWith("((", this.pos)) {
      this.pos += 2;
      return "((";
    }
    const ops = ["&>>", "<<-", "<<<", "&&", "||", ";;", "<<", ">>", "<&", ">&", "<>", ">|", "&>", ";", "&", "|", "(", ")", "<", ">"];
    for (const op of ops) {
      if (s.startsWith(op, this.pos)) {
        this.pos += op.length;
        return op;
      }
    }
    return undefined;
  }

  /** An unquoted word: stops at a metacharacter. */
  #wordParts(): WordPart[] {
    const s = this.src;
    const parts: WordPart[] = [];
    let lit = "";
    const flush = () => {
      if (lit !== "") parts.push({ kind: "lit", text: lit, quoted: false });
      lit = "";
    };
    while (this.pos < s.length) {
      const c = s[this.pos]!;
      if (META.includes(c) && !(this.#parenLiteral && "()|".includes(c))) break;
      if (c === "\\") {
        const n = s[this.pos + 1];
        if (n === undefined) {
          if (!this.final) throw new NeedMore();
          lit += "\\";
          this.pos++;
          continue;
        }
        this.pos += 2;
        if (n === "\n") {
          this.line++;
          continue;
        }
        flush();
        parts.push({ kind: "lit", text: n, quoted: true });
        continue;
      }
      if (c === "'") {
        flush();
        const end = s.indexOf("'", this.pos + 1);
        if (end < 0) throw this.#eofQuote("'");
        const text = s.slice(this.pos + 1, end);
        this.line += countNewlines(text);
        parts.push({ kind: "lit", text, quoted: true });
        this.pos = end + 1;
        continue;
      }
      if (c === '"') {
        flush();
        this.pos++;
        const inner = this.dqParts('"');
        parts.push({ kind: "dq", parts: inner });
        continue;
      }
      if (c === "$" || c === "`") {
        const part = this.#dollarOrBacktick(false);
        if (part !== undefined) {
          flush();
          parts.push(part);
          continue;
        }
        lit += c;
        this.pos++;
        continue;
      }
      lit += c;
      this.pos++;
    }
    flush();
    return parts;
  }

  /**
   * The inside of double quotes up to `close` (consumed), or to the end of
   * text when `close` is undefined (here-documents, arithmetic).
   */
  dqParts(close: '"' | undefined): WordPart[] {
    const s = this.src;
    const parts: WordPart[] = [];
    let lit = "";
    const flush = () => {
      if (lit !== "") parts.push({ kind: "lit", text: lit, quoted: true });
      lit = "";
    };
    for (;;) {
      if (this.pos >= s.length) {
        if (close === undefined) break;
        throw this.#eofQuote('"');
      }
      const c = s[this.pos]!;
      if (c === close) {
        this.pos++;
        break;
      }
      if (c === "\\") {
        const n = s[this.pos + 1];
        if (n === "\n") {
          this.pos += 2;
          this.line++;
          continue;
        }
        if (n !== undefined && (n === "$" || n === "`" || n === "\\" || (close !== undefined && n === '"'))) {
          lit += n;
          this.pos += 2;
          continue;
        }
        lit += "\\";
        this.pos++;
        continue;
      }
      if (c === "$" || c === "`") {
        const part = this.#dollarOrBacktick(true);
        if (part !== undefined) {
          flush();
          parts.push(part);
          continue;
        }
      }
      if (c === "\n") this.line++;
      lit += c;
      this.pos++;
    }
    flush();
    return parts;
  }

  /** At `$` or a backtick: an expansion, or undefined when `$` is just a dollar sign. */
  #dollarOrBacktick(inDq: boolean): WordPart | undefined {
    const s = this.src;
    const c = s[this.pos];
    if (c === "`") return this.#backtick();
    const n = s[this.pos + 1];
    if (n === "(") {
      if (s[this.pos + 2] === "(") {
        const arith = this.#arith();
        if (arith !== undefined) return arith;
      }
      return this.#cmdsub();
    }
    if (n === "{") return this.#braceParam();
    if (n === "'" && !inDq) return this.#ansiC();
    if (n !== undefined && /[A-Za-z_]/.test(n)) {
      let end = this.pos + 1;
      while (end < s.length && /\w/.test(s[end]!)) end++;
      const name = s.slice(this.pos + 1, end);
      this.pos = end;
      return { kind: "param", name, op: undefined, arg: undefined };
    }
    if (n !== undefined && /[0-9?$#@*!\-]/.test(n)) {
      this.pos += 2;
      return { kind: "param", name: n, op: undefined, arg: undefined };
    }
    return undefined;
  }

  #backtick(): WordPart {
    const s = this.src;
    let i = this.pos + 1;
    let text = "";
    for (;;) {
      if (i >= s.length) throw this.#eofQuote("`");
      const c = s[i]!;
      if (c === "`") break;
      if (c === "\\" && (s[i + 1] === "`" || s[i + 1] === "\\" || s[i + 1] === "$")) {
        text += s[i + 1];
        i += 2;
        continue;
      }
      text += c;
      i++;
    }
    const startLine = this.line;
    this.line += countNewlines(s.slice(this.pos, i));
    this.pos = i + 1;
    return { kind: "cmdsub", body: this.#subParse(text, startLine) };
  }

  #subParse(text: string, line: number): List {
    try {
      const out: List = [];
      let pos = 0;
      let l = line;
      for (;;) {
        const r = parseCommand(text, pos, { final: true, line: l, bash: this.bash });
        if (r.list === undefined) return out;
        out.push(...r.list);
        pos = r.end;
        l = r.line;
      }
    } catch (err) {
      if (err instanceof ShSyntaxError && err.kind === "eof" && !this.final) throw new NeedMore();
      throw err;
    }
  }

  #cmdsub(): WordPart {
    const sub = new Parser(this.src, this.pos + 2, this.final, this.line, this.bash);
    let body: List = [];
    sub.#skipNewlines();
    const first = sub.#peek();
    if (!(first.t === "op" && first.op === ")")) {
      try {
        body = sub.#compoundList([")"], ")");
      } catch (err) {
        if (err instanceof ShSyntaxError && err.kind === "eof") throw new ShSyntaxError("eof", ")", sub.line);
        throw err;
      }
    }
    const close = sub.#next();
    if (close.t === "eof") throw this.final ? new ShSyntaxError("eof", ")", sub.line) : new NeedMore();
    if (!(close.t === "op" && close.op === ")")) throw sub.#unexpected(close);
    this.pos = sub.pos;
    this.line = sub.line;
    return { kind: "cmdsub", body };
  }

  /** `$((expr))`, or undefined when the parentheses do not close as `))` (then it is `$( (…) )`). */
  #arith(): WordPart | undefined {
    const s = this.src;
    let depth = 0;
    let i = this.pos + 3;
    for (; i < s.length; i++) {
      const c = s[i];
      if (c === "(") depth++;
      else if (c === ")") {
        if (depth === 0) {
          if (s[i + 1] !== ")") return undefined;
          break;
        }
        depth--;
      }
    }
    if (i >= s.length) {
      if (!this.final) throw new NeedMore();
      throw new ShSyntaxError("eof", ")", this.line);
    }
    const text = s.slice(this.pos + 3, i);
    this.line += countNewlines(text);
    this.pos = i + 2;
    return { kind: "arith", expr: parseExpandable(text) };
  }

  #braceParam(): WordPart {
    const s = this.src;
    let i = this.pos + 2;
    let length = false;
    if (s[i] === "#" && s[i + 1] !== "}" && s[i + 1] !== undefined) {
      length = true;
      i++;
    }
    let name: string;
    const m = /^([A-Za-z_]\w*|\d+|[?$#@*!\-])/.exec(s.slice(i));
    if (m === null) {
      if (i >= s.length) throw this.#eofBrace();
      throw this.#badSubst();
    }
    name = m[1]!;
    i += name.length;
    if (length) {
      if (s[i] !== "}") throw i >= s.length ? this.#eofBrace() : this.#badSubst();
      this.pos = i + 1;
      return { kind: "param", name, op: "len", arg: undefined };
    }
    if (s[i] === "}") {
      this.pos = i + 1;
      return { kind: "param", name, op: undefined, arg: undefined };
    }
    const opm = /^(:-|:=|:\+|:\?|:|\/\/|\/|-|=|\+|\?|##|#|%%|%)/.exec(s.slice(i));
    if (opm === null) throw i >= s.length ? this.#eofBrace() : this.#badSubst();
    const op = opm[1] as ParamOp;
    i += op.length;
    // The argument: a word that may hold quotes and expansions, up to the matching `}`.
    this.pos = i;
    const start = i;
    const parts: WordPart[] = [];
    let lit = "";
    const flush = () => {
      if (lit !== "") parts.push({ kind: "lit", text: lit, quoted: false });
      lit = "";
    };
    for (;;) {
      if (this.pos >= s.length) throw this.#eofBrace();
      const c = s[this.pos]!;
      if (c === "}") break;
      if (c === "\\" && this.pos + 1 < s.length) {
        flush();
        parts.push({ kind: "lit", text: s[this.pos + 1]!, quoted: true });
        this.pos += 2;
        continue;
      }
      if (c === "'") {
        flush();
        const end = s.indexOf("'", this.pos + 1);
        if (end < 0) throw this.#eofQuote("'");
        parts.push({ kind: "lit", text: s.slice(this.pos + 1, end), quoted: true });
        this.pos = end + 1;
        continue;
      }
      if (c === '"') {
        flush();
        this.pos++;
        parts.push({ kind: "dq", parts: this.dqParts('"') });
        continue;
      }
      if (c === "$" || c === "`") {
        const part = this.#dollarOrBacktick(false);
        if (part !== undefined) {
          flush();
          parts.push(part);
          continue;
        }
      }
      if (c === "\n") this.line++;
      lit += c;
      this.pos++;
    }
    flush();
    const raw = s.slice(start, this.pos);
    this.pos++;
    return { kind: "param", name, op, arg: { parts, raw } };
  }

  #ansiC(): WordPart {
    const s = this.src;
    let i = this.pos + 2;
    let text = "";
    for (;;) {
      if (i >= s.length) throw this.#eofQuote("'");
      const c = s[i]!;
      if (c === "'") break;
      if (c === "\\" && i + 1 < s.length) {
        const [ch, len] = ansiEscape(s, i + 1);
        text += ch;
        i += 1 + len;
        continue;
      }
      text += c;
      i++;
    }
    this.line += countNewlines(s.slice(this.pos, i));
    this.pos = i + 1;
    return { kind: "lit", text, quoted: true };
  }

  #eofQuote(q: string): Error {
    if (!this.final) return new NeedMore();
    return new ShSyntaxError("eof", q, this.line);
  }

  #eofBrace(): Error {
    if (!this.final) return new NeedMore();
    return new ShSyntaxError("eof", "}", this.line);
  }

  #badSubst(): Error {
    const end = this.src.indexOf("}", this.pos);
    const text = this.src.slice(this.pos, end < 0 ? undefined : end + 1);
    return new ShSyntaxError("subst", text, this.line);
  }

  /** After a newline: the bodies of the here-documents its line announced. */
  #readHeredocs(): void {
    const s = this.src;
    const startLine = this.line - 1;
    for (const redir of this.#pending.splice(0)) {
      const delimWord = redir.target;
      const quoted = delimWord.parts.some((p) => p.kind !== "lit" || p.quoted);
      const delim = literalText(delimWord);
      const strip = redir.op === "<<-";
      let body = "";
      for (;;) {
        if (this.pos >= s.length) {
          if (!this.final) throw new NeedMore();
          this.warnings.push(`here-document at line ${startLine} delimited by end-of-file (wanted \`${delim}')`);
          break;
        }
        const nl = s.indexOf("\n", this.pos);
        if (nl < 0 && !this.final) throw new NeedMore();
        const end = nl < 0 ? s.length : nl;
        let lineText = s.slice(this.pos, end);
        this.pos = nl < 0 ? s.length : nl + 1;
        this.line++;
        if (strip) lineText = lineText.replace(/^\t+/, "");
        if (lineText === delim) break;
        body += `${lineText}\n`;
      }
      redir.heredoc = { body: quoted ? { parts: [{ kind: "lit", text: body, quoted: true }], raw: body } : parseExpandable(body) };
    }
  }
}

/** Whether a word is written without quotes or expansions (so it may be a keyword). */
function isPlain(w: Word): boolean {
  return w.parts.length === 1 && w.parts[0]!.kind === "lit" && !w.parts[0]!.quoted;
}

/** The text of a word with quotes removed and no expansion (here-document delimiters). */
export function literalText(w: Word): string {
  let out = "";
  for (const p of w.parts) {
    if (p.kind === "lit") out += p.text;
    else if (p.kind === "dq") out += literalText({ parts: p.parts, raw: "" });
    else if (p.kind === "param") out += `$${p.name}`;
  }
  return out;
}

function asAssign(w: Word): Assign | undefined {
  const first = w.parts[0];
  if (first === undefined || first.kind !== "lit" || first.quoted) return undefined;
  const m = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(first.text);
  if (m === null) return undefined;
  const rest = first.text.slice(m[0].length);
  const parts: WordPart[] = rest === "" ? [] : [{ kind: "lit", text: rest, quoted: false }];
  parts.push(...w.parts.slice(1));
  return { name: m[1]!, value: { parts, raw: w.raw.slice(m[0].length) } };
}

function isRedirOp(op: string): boolean {
  return ["<", ">", ">>", ">|", "<>", ">&", "<&", "&>", "&>>", "<<", "<<-", "<<<"].includes(op);
}

function countNewlines(text: string): number {
  let n = 0;
  for (const c of text) if (c === "\n") n++;
  return n;
}

/** One backslash escape of `$'…'` / `echo -e` / printf starting after the backslash: [text, chars consumed]. */
export function ansiEscape(s: string, i: number): [string, number] {
  const c = s[i]!;
  const simple: Record<string, string> = {
    n: "\n",
    t: "\t",
    r: "\r",
    a: "\x07",
    b: "\b",
    f: "\f",
    v: "\v",
    e: "\x1b",
    E: "\x1b",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "?": "?",
  };
  if (simple[c] !== undefined) return [simple[c]!, 1];
  if (c === "x") {
    const m = /^[0-9A-Fa-f]{1,2}/.exec(s.slice(i + 1));
    if (m) return [String.fromCharCode(parseInt(m[0], 16)), 1 + m[0].length];
    return ["\\x", 1];
  }
  if (/[0-7]/.test(c)) {
    const m = /^[0-7]{1,3}/.exec(s.slice(i))!;
    return [String.fromCharCode(parseInt(m[0], 8)), m[0].length];
  }
  return [`\\${c}`, 1];
}
