import { createHash } from "node:crypto";
import type { Command, ProcessContext } from "../process.ts";
import { normalize, VfsError } from "../vfs.ts";

/** md5sum / sha1sum / sha256sum: `HASH  NAME` per file, `-` for standard input. */
function hashTool(algorithm: "md5" | "sha1" | "sha256", name: string): Command {
  return async (ctx: ProcessContext) => {
    const files = ctx.argv.slice(1).filter((a) => a !== "--");
    if (files.length === 0) files.push("-");
    let status = 0;
    for (const f of files) {
      let text: string;
      if (f === "-") text = await ctx.stdin.readAll();
      else {
        try {
          text = ctx.fs.readFile(normalize(f, ctx.env.get("PWD") ?? "/"), ctx.netns);
        } catch (err) {
          if (!(err instanceof VfsError)) throw err;
          ctx.stderr.write(ctx.flavour === "busybox" ? `${name}: can't open '${f}': ${err.message}\n` : `${name}: ${f}: ${err.message}\n`);
          status = 1;
          continue;
        }
      }
      ctx.stdout.write(`${createHash(algorithm).update(text).digest("hex")}  ${f}\n`);
    }
    return status;
  };
}

/** Checksum tools, in both userlands. */
export const hashTools: Record<string, Command> = {
  md5sum: hashTool("md5", "md5sum"),
  sha1sum: hashTool("sha1", "sha1sum"),
  sha256sum: hashTool("sha256", "sha256sum"),
};
