import { KernelError, type NetNs, readSysClassNet } from "@kemu/kernel";

/** Why a file operation failed, with the errno the tools print. */
export class VfsError extends Error {
  override readonly name = "VfsError";
  constructor(
    readonly errno: "ENOENT" | "EISDIR" | "ENOTDIR" | "EACCES" | "EINVAL" | "EEXIST",
    readonly path: string,
  ) {
    super(
      {
        ENOENT: "No such file or directory",
        EISDIR: "Is a directory",
        ENOTDIR: "Not a directory",
        EACCES: "Permission denied",
        EINVAL: "Invalid argument",
        EEXIST: "File exists",
      }[errno],
    );
  }
}

/** A directory listing or a file's text. */
type Node = { dir: true } | { dir: false; text: string };

/**
 * The files one process sees: a tree of plain files (a container's own root
 * or the host's) plus the kernel's views, which depend on the reader's
 * network namespace: /sys/class/net, /proc/sys, /proc/net.
 */
export class Vfs {
  readonly #files = new Map<string, Node>([["/", { dir: true }]]);

  /** Writes a file, making its parent directories (like `mkdir -p` then a write). */
  writeFile(path: string, text: string, netns?: NetNs): void {
    const p = normalize(path);
    if (p.startsWith("/proc/sys/")) {
      if (!netns) throw new VfsError("EACCES", path);
      const key = p.slice("/proc/sys/".length).replaceAll("/", ".");
      try {
        netns.sysctl.set(key, text);
      } catch (err) {
        if (err instanceof KernelError) throw new VfsError(err.errno === "ENOENT" ? "ENOENT" : "EINVAL", path);
        throw err;
      }
      return;
    }
    if (p.startsWith("/sys/") || p.startsWith("/proc/")) throw new VfsError("EACCES", path);
    const existing = this.#files.get(p);
    if (existing?.dir) throw new VfsError("EISDIR", path);
    this.#mkdirs(parent(p));
    this.#files.set(p, { dir: false, text });
  }

  /** Appends to a file (`>>`). */
  appendFile(path: string, text: string, netns?: NetNs): void {
    let old = "";
    try {
      old = this.readFile(path, netns);
    } catch (err) {
      if (!(err instanceof VfsError) || err.errno !== "ENOENT") throw err;
    }
    this.writeFile(path, old + text, netns);
  }

  /** Makes a directory and its parents. */
  mkdir(path: string): void {
    this.#mkdirs(normalize(path));
  }

  /** Removes a file. */
  remove(path: string): void {
    const p = normalize(path);
    if (!this.#files.has(p)) throw new VfsError("ENOENT", path);
    this.#files.delete(p);
  }

  /** Reads a file's text as a process in `netns` would. */
  readFile(path: string, netns?: NetNs): string {
    const node = this.#lookup(normalize(path), netns);
    if (node === undefined) throw new VfsError("ENOENT", path);
    if (node.dir) throw new VfsError("EISDIR", path);
    return node.text;
  }

  /** Names in a directory, sorted. */
  list(path: string, netns?: NetNs): string[] {
    const p = normalize(path);
    const node = this.#lookup(p, netns);
    if (node === undefined) throw new VfsError("ENOENT", path);
    if (!node.dir) throw new VfsError("ENOTDIR", path);
    const dynamic = this.#dynamicList(p, netns);
    if (dynamic) return dynamic;
    const prefix = p === "/" ? "/" : `${p}/`;
    const names = new Set<string>();
    for (const k of this.#files.keys()) {
      if (k !== p && k.startsWith(prefix)) names.add(k.slice(prefix.length).split("/")[0]!);
    }
    if (p === "/") for (const d of ["proc", "sys"]) names.add(d);
    return [...names].sort();
  }

  /** What kind of thing is at `path`, if anything. */
  stat(path: string, netns?: NetNs): "file" | "dir" | undefined {
    const node = this.#lookup(normalize(path), netns);
    return node === undefined ? undefined : node.dir ? "dir" : "file";
  }

  #lookup(p: string, netns: NetNs | undefined): Node | undefined {
    if (p === "/sys" || p === "/sys/class" || p === "/proc" || p === "/proc/net") return { dir: true };
    if (p === "/sys/class/net" || p.startsWith("/sys/class/net/")) {
      if (!netns) return undefined;
      const r = readSysClassNet(netns, p.slice("/sys/class/net".length));
      if (r === undefined) return undefined;
      return typeof r === "string" ? { dir: false, text: r } : { dir: true };
    }
    if (p === "/proc/sys" || p.startsWith("/proc/sys/")) {
      if (!netns) return undefined;
      const key = p.slice("/proc/sys/".length).replaceAll("/", ".");
      if (p !== "/proc/sys" && netns.sysctl.has(key)) return { dir: false, text: `${netns.sysctl.get(key)}\n` };
      const prefix = p === "/proc/sys" ? "" : `${key}.`;
      return netns.sysctl.keys().some((k) => k.startsWith(prefix)) ? { dir: true } : undefined;
    }
    return this.#files.get(p);
  }

  #dynamicList(p: string, netns: NetNs | undefined): string[] | undefined {
    if (p === "/sys") return ["class"];
    if (p === "/sys/class") return ["net"];
    if (p === "/proc") return ["net", "sys"];
    if (p.startsWith("/sys/class/net") && netns) {
      const r = readSysClassNet(netns, p.slice("/sys/class/net".length));
      return Array.isArray(r) ? r : undefined;
    }
    if ((p === "/proc/sys" || p.startsWith("/proc/sys/")) && netns) {
      const prefix = p === "/proc/sys" ? "" : `${p.slice("/proc/sys/".length).replaceAll("/", ".")}.`;
      const names = new Set<string>();
      for (const k of netns.sysctl.keys()) if (k.startsWith(prefix)) names.add(k.slice(prefix.length).split(".")[0]!);
      return [...names].sort();
    }
    return undefined;
  }

  #mkdirs(p: string): void {
    if (p === "/") return;
    const node = this.#files.get(p);
    if (node && !node.dir) throw new VfsError("ENOTDIR", p);
    if (!node) {
      this.#mkdirs(parent(p));
      this.#files.set(p, { dir: true });
    }
  }
}

/** Resolves `.`/`..` and duplicate slashes in an absolute path. */
export function normalize(path: string, cwd = "/"): string {
  const full = path.startsWith("/") ? path : `${cwd}/${path}`;
  const out: string[] = [];
  for (const part of full.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return `/${out.join("/")}`;
}

function parent(p: string): string {
  const i = p.lastIndexOf("/");
  return i <= 0 ? "/" : p.slice(0, i);
}
