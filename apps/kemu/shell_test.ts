import test from "ava";
import { PassThrough } from "node:stream";
import { FakeDriver } from "./_fake_driver.ts";
import { runShell } from "./shell.ts";

function streams() {
  const input = new PassThrough();
  const output = new PassThrough();
  const errorOutput = new PassThrough();
  let out = "";
  let err = "";
  output.on("data", (d: Buffer) => (out += d.toString()));
  errorOutput.on("data", (d: Buffer) => (err += d.toString()));
  return { input, output, errorOutput, out: () => out, err: () => err };
}

test("piped input is forwarded line by line, then the shell's stdin is closed", async (t) => {
  const driver = new FakeDriver();
  const io = streams();
  io.input.end("echo hello\nnope\necho last");
  const code = await runShell(driver, { ...io, interactive: false });
  t.is(code, 0);
  t.deepEqual(driver.calls, [
    { op: "openShell", host: "node1", interactive: false },
    { op: "line", line: "echo hello" },
    { op: "line", line: "nope" },
    { op: "line", line: "echo last" },
    { op: "end" },
  ]);
  t.is(io.out(), "hello\nlast\n");
  t.is(io.err(), "sh: nope: not found\n");
});

test("the shell's exit code is returned", async (t) => {
  const driver = new FakeDriver();
  const io = streams();
  io.input.write("echo a\nexit 3\n");
  t.is(await runShell(driver, { ...io, interactive: false }), 3);
  t.is(io.out(), "a\n");
  t.false(driver.calls.some((c) => c.op === "end"));
});

test("interactively the emulated shell's prompt is shown, with a banner and no prompt of kemu's own", async (t) => {
  const driver = new FakeDriver();
  const io = streams();
  const done = runShell(driver, { ...io, interactive: true });
  io.input.write("echo hi\r");
  io.input.write("exit\r");
  t.is(await done, 0);
  t.is(io.err(), `kemu: 1 node up (node1). You are on node1; leave with "exit" or Ctrl-D.\n`);
  t.true(io.out().startsWith("root@node1:~# "), JSON.stringify(io.out()));
  t.true(io.out().includes("hi\n"));
  t.false(io.out().includes("> "));
  t.deepEqual(driver.calls.filter((c) => c.op === "line"), [{ op: "line", line: "echo hi" }, { op: "line", line: "exit" }]);
});
