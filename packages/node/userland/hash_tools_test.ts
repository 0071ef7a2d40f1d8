import test from "ava";
import { runCommand, testHost } from "../_testing.ts";

test("md5sum and sha256sum print HASH  NAME, - for stdin, and name a missing file", async (t) => {
  const host = testHost();
  host.fs.writeFile("/tmp/a", "hello\n");
  t.is((await runCommand(host, ["md5sum", "/tmp/a"])).stdout, "b1946ac92492d2347c6235b4d2611184  /tmp/a\n");
  t.is((await runCommand(host, ["sha256sum"], { stdin: "hello\n" })).stdout, "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03  -\n");
  const missing = await runCommand(host, ["md5sum", "/nope"], { busybox: true });
  t.is(missing.exit, 1);
  t.is(missing.stderr, "md5sum: can't open '/nope': No such file or directory\n");
});
