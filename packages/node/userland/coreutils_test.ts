import test from "ava";
import { busyboxCommands, hostCommands } from "./tables.ts";
import { coreutilsBusybox, coreutilsHost } from "./coreutils.ts";

const TOOLS = "cat echo printf grep head tail wc sort uniq cut tr tee seq sleep true false hostname env ls mkdir rm touch basename dirname date uname id whoami ps kill dmesg which awk xargs test [".split(" ");

test("both userlands carry every file and text tool", (t) => {
  for (const name of TOOLS) {
    t.truthy(coreutilsHost[name], `host ${name}`);
    t.truthy(coreutilsBusybox[name], `busybox ${name}`);
  }
});

test("the tables give hosts sh and bash, busybox sh and ash", (t) => {
  const host = hostCommands();
  const bb = busyboxCommands();
  for (const name of ["sh", "bash", "cat", "grep"]) t.true(host.has(name), name);
  for (const name of ["sh", "ash", "cat", "grep"]) t.true(bb.has(name), name);
});
