import test from "ava";
import { type Cmd, literalText, NeedMore, parseAll, parseCommand, ShSyntaxError, type Word } from "./sh_parse.ts";

function simple(cmd: Cmd | undefined): Extract<Cmd, { kind: "simple" }> {
  if (cmd?.kind !== "simple") throw new Error(`not a simple command: ${cmd?.kind}`);
  return cmd;
}

const raw = (w: Word) => w.raw;

test("a pipeline inside an and-or list keeps its stages and operators", (t) => {
  const list = parseAll("echo a | grep a && echo ok || echo no");
  t.is(list.length, 1);
  const ao = list[0]!;
  t.deepEqual(ao.first.cmds.map((c) => simple(c).words.map(raw)), [["echo", "a"], ["grep", "a"]]);
  t.deepEqual(
    ao.rest.map((r) => r.op),
    ["&&", "||"],
  );
});

test("redirections carry their descriptor: 2>&1, >>, <, &>", (t) => {
  const cmd = simple(parseAll("cmd arg 2>&1 >> out < in &> all")[0]!.first.cmds[0]);
  t.deepEqual(cmd.words.map(raw), ["cmd", "arg"]);
  t.deepEqual(
    cmd.redirs.map((r) => [r.fd, r.op, r.target.raw]),
    [
      [2, ">&", "1"],
      [1, ">>", "out"],
      [0, "<", "in"],
      [1, "&>", "all"],
    ],
  );
});

test("NAME=value words before the command are assignments, after it arguments", (t) => {
  const cmd = simple(parseAll("A=1 B=$x cmd C=3")[0]!.first.cmds[0]);
  t.deepEqual(
    cmd.assigns.map((a) => [a.name, a.value.raw]),
    [
      ["A", "1"],
      ["B", "$x"],
    ],
  );
  t.deepEqual(cmd.words.map(raw), ["cmd", "C=3"]);
});

test("quotes: single quotes are literal, double quotes hold expansions", (t) => {
  const w = simple(parseAll(`echo 'a $b' "c $d" e\\ f`)[0]!.first.cmds[0]).words;
  t.deepEqual(w[1]!.parts, [{ kind: "lit", text: "a $b", quoted: true }]);
  t.deepEqual(w[2]!.parts, [
    {
      kind: "dq",
      parts: [
        { kind: "lit", text: "c ", quoted: true },
        { kind: "param", name: "d", op: undefined, arg: undefined },
      ],
    },
  ]);
  t.deepEqual(w[3]!.parts, [
    { kind: "lit", text: "e", quoted: false },
    { kind: "lit", text: " ", quoted: true },
    { kind: "lit", text: "f", quoted: false },
  ]);
});

test("command substitution nests and keeps its own parse", (t) => {
  const w = simple(parseAll("echo $(echo $(echo in) | wc -l) `date`")[0]!.first.cmds[0]).words;
  const sub = w[1]!.parts[0]!;
  t.is(sub.kind, "cmdsub");
  if (sub.kind === "cmdsub") t.is(sub.body[0]!.first.cmds.length, 2);
  t.is(w[2]!.parts[0]!.kind, "cmdsub");
});

test("compound commands: if/elif/else, for, while, case, groups, subshells, functions", (t) => {
  const kinds = parseAll(
    "if a; then b; elif c; then d; else e; fi\nfor x in 1 2; do echo $x; done\nwhile false; do :; done\ncase $x in a|b) echo ab;; *) echo other;; esac\n{ echo g; }\n(echo s)\nf() { echo f; }",
  ).map((ao) => ao.first.cmds[0]!.kind);
  t.deepEqual(kinds, ["if", "for", "while", "case", "group", "subshell", "func"]);
});

test("comments run to the end of the line; # inside a word is literal", (t) => {
  const list = parseAll("echo a#b # comment here\n# whole line\necho c");
  t.deepEqual(
    list.map((ao) => simple(ao.first.cmds[0]).words.map(raw)),
    [
      ["echo", "a#b"],
      ["echo", "c"],
    ],
  );
});

test("a here-document's body is read from the lines after the command", (t) => {
  const r = parseCommand("cat <<EOF\nhello $USER\nEOF\necho next\n", 0, { final: true });
  const redir = simple(r.list![0]!.first.cmds[0]).redirs[0]!;
  t.is(redir.op, "<<");
  t.truthy(redir.heredoc);
  t.is(literalText(redir.heredoc!.body), "hello $USER\n");
  const next = parseCommand("cat <<EOF\nhello $USER\nEOF\necho next\n", r.end, { final: true, line: r.line });
  t.deepEqual(simple(next.list![0]!.first.cmds[0]).words.map(raw), ["echo", "next"]);
  t.is(simple(next.list![0]!.first.cmds[0]).line, 4);
});

test("unfinished text asks for more lines when more may come", (t) => {
  for (const text of ["echo 'abc\n", 'echo "abc\n', "if true\n", "echo a |\n", "cat <<EOF\nline\n", "echo $(ls\n", "echo a \\\n"]) {
    t.throws(() => parseCommand(text, 0, { final: false }), { instanceOf: NeedMore }, text);
  }
  t.truthy(parseCommand("if true\nthen echo x\nfi\n", 0, { final: false }).list);
});

test("at the real end, unfinished text is a syntax error naming what was open", (t) => {
  const cases: Array<[string, string, number]> = [
    ["echo 'abc", "'", 1],
    ['echo "abc', '"', 1],
    ["if true; then", "fi", 1],
    ["echo 1\necho $(ls \n", ")", 3],
    ["for x in a; do echo", "done", 1],
    ["echo ${x", "}", 1],
  ];
  for (const [text, what, line] of cases) {
    const err = t.throws(() => parseAll(text), { instanceOf: ShSyntaxError }, text);
    t.is(err?.kind, "eof", text);
    t.is(err?.what, what, text);
    t.is(err?.line, line, text);
  }
});

test("an unexpected token is reported with its line and source text", (t) => {
  const err = t.throws(() => parseAll("echo ok\necho a; fi"), { instanceOf: ShSyntaxError });
  t.is(err?.kind, "token");
  t.is(err?.what, "fi");
  t.is(err?.line, 2);
  t.is(err?.sourceLine, "echo a; fi");
  t.is(t.throws(() => parseAll("echo >"), { instanceOf: ShSyntaxError })?.what, "newline");
  t.is(t.throws(() => parseAll("| a"), { instanceOf: ShSyntaxError })?.what, "|");
});

test("${x!} is a bad substitution", (t) => {
  const err = t.throws(() => parseAll("echo ${x!}"), { instanceOf: ShSyntaxError });
  t.is(err?.kind, "subst");
  t.is(err?.what, "${x!}");
});
