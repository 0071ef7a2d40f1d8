import test from "ava";
import { checkExpectation, DEFAULT_EXPECTATION, type Expectation, type Matcher, parseMatcher } from "./expectation.ts";

function matcher(text: string): Matcher {
  const parsed = parseMatcher(text);
  if ("error" in parsed) throw new Error(parsed.error);
  return parsed.matcher;
}

const PING_OK = "2 packets transmitted, 2 packets received, 0% packet loss\n";
const PING_LOST = "PING 172.17.0.3 (172.17.0.3): 56 data bytes\n\n--- 172.17.0.3 ping statistics ---\n" +
  "2 packets transmitted, 0 packets received, 100% packet loss\n";

test("a plain string is a substring, /…/flags a regular expression", (t) => {
  t.deepEqual(parseMatcher("2 packets received"), { matcher: { kind: "substring", text: "2 packets received" } });
  const re = parseMatcher("/^eth0@if\\d+/im");
  t.true("matcher" in re && re.matcher.kind === "regex" && re.matcher.regex.flags === "im");
});

test("paths that merely start with a slash stay substrings", (t) => {
  t.deepEqual(parseMatcher("/var/log"), { matcher: { kind: "substring", text: "/var/log" } });
  t.deepEqual(parseMatcher("/sys/class/net/eth0/iflink"), {
    matcher: { kind: "substring", text: "/sys/class/net/eth0/iflink" },
  });
});

test("a broken regex and the empty string are refused", (t) => {
  t.deepEqual(parseMatcher("/a(/"), {
    error: "/a(/ is not a valid regular expression: Invalid regular expression: /a(/: Unterminated group",
  });
  t.true("error" in parseMatcher(""));
});

test("by default a command must exit 0", (t) => {
  t.deepEqual(checkExpectation(DEFAULT_EXPECTATION, { exit: 0, stdout: "", stderr: "x" }), []);
  t.deepEqual(checkExpectation(DEFAULT_EXPECTATION, { exit: 1, stdout: "", stderr: "" }), ["expected exit 0, got 1"]);
});

test("expect.exit replaces the default", (t) => {
  const expect: Expectation = { exit: 1, stdout: [], stderr: [] };
  t.deepEqual(checkExpectation(expect, { exit: 1, stdout: "", stderr: "" }), []);
  t.deepEqual(checkExpectation(expect, { exit: 0, stdout: "", stderr: "" }), ["expected exit 1, got 0"]);
});

test("every pattern of a list must hold, and each miss is reported", (t) => {
  const expect: Expectation = {
    exit: 0,
    stdout: [matcher("2 packets received"), matcher("/0% packet loss$/m"), matcher("/rtt/")],
    stderr: [],
  };
  t.deepEqual(checkExpectation(expect, { exit: 0, stdout: PING_OK, stderr: "" }), ["expected stdout to match /rtt/"]);
});

test("a missed substring names the closest output line", (t) => {
  const expect: Expectation = { exit: 0, stdout: [matcher("2 packets received")], stderr: [] };
  t.deepEqual(checkExpectation(expect, { exit: 1, stdout: PING_LOST, stderr: "" }), [
    "expected exit 0, got 1",
    `expected stdout to contain "2 packets received"; closest line: "2 packets transmitted, 0 packets received, 100% packet loss"`,
  ]);
});

test("a missed pattern on empty output says the output was empty", (t) => {
  const expect: Expectation = { exit: 0, stdout: [], stderr: [matcher("/not found/")] };
  t.deepEqual(checkExpectation(expect, { exit: 0, stdout: "x", stderr: "" }), [
    "expected stderr to match /not found/, but stderr was empty",
  ]);
});

test("an unrelated output gets no closest line", (t) => {
  const expect: Expectation = { exit: 0, stdout: [matcher("2 packets received")], stderr: [] };
  t.deepEqual(checkExpectation(expect, { exit: 0, stdout: "hello world\n", stderr: "" }), [
    `expected stdout to contain "2 packets received"`,
  ]);
});
