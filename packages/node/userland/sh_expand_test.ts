import test from "ava";
import { braceExpand, globToRe } from "./sh_expand.ts";
import { parseAll, type Word } from "./sh_parse.ts";

function word(text: string): Word {
  const cmd = parseAll(`x ${text}`)[0]!.first.cmds[0]!;
  if (cmd.kind !== "simple") throw new Error("not simple");
  return cmd.words[1]!;
}

const texts = (ws: Word[]) => ws.map((w) => w.parts.map((p) => (p.kind === "lit" ? p.text : "?")).join(""));

test("brace expansion: lists, nesting, sequences; quoted braces stay", (t) => {
  t.deepEqual(texts(braceExpand(word("a{b,c}d"))), ["abd", "acd"]);
  t.deepEqual(texts(braceExpand(word("{x,y{1,2}}"))), ["x", "y1", "y2"]);
  t.deepEqual(texts(braceExpand(word("n{1..3}"))), ["n1", "n2", "n3"]);
  t.deepEqual(texts(braceExpand(word("{3..1}"))), ["3", "2", "1"]);
  t.deepEqual(texts(braceExpand(word("{a..c}"))), ["a", "b", "c"]);
  t.deepEqual(texts(braceExpand(word("'{a,b}'"))), ["{a,b}"]);
  t.deepEqual(texts(braceExpand(word("{single}"))), ["{single}"]);
});

test("shell patterns become anchored-ready regular expressions", (t) => {
  const full = (pat: string, s: string) => new RegExp(`^(?:${globToRe(pat, false)})$`).test(s);
  t.true(full("*.txt", "a.txt"));
  t.false(full("*.txt", "a.txt.gz"));
  t.true(full("eth?", "eth0"));
  t.true(full("[!a-c]x", "dx"));
  t.false(full("[!a-c]x", "bx"));
  t.true(full("[[:digit:]]*", "7up"));
  t.true(full("a\\*", "a*"));
  t.false(full("a\\*", "ab"));
});
