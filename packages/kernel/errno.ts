/** The errno values the kernel model reports, with Linux's strerror text. */
export const ERRNO_TEXT = {
  EPERM: "Operation not permitted",
  EACCES: "Permission denied",
  ENOENT: "No such file or directory",
  ESRCH: "No such process",
  EEXIST: "File exists",
  ENODEV: "No such device",
  EINVAL: "Invalid argument",
  ENOSPC: "No space left on device",
  EBUSY: "Device or resource busy",
  EADDRINUSE: "Address already in use",
  EADDRNOTAVAIL: "Cannot assign requested address",
  ENETDOWN: "Network is down",
  ENETUNREACH: "Network is unreachable",
  EHOSTUNREACH: "No route to host",
  ECONNREFUSED: "Connection refused",
  ECONNRESET: "Connection reset by peer",
  ETIMEDOUT: "Connection timed out",
  EMSGSIZE: "Message too long",
  ENOBUFS: "No buffer space available",
  EOPNOTSUPP: "Operation not supported",
  EAFNOSUPPORT: "Address family not supported by protocol",
  ENOTCONN: "Transport endpoint is not connected",
  EISCONN: "Transport endpoint is already connected",
  EPIPE: "Broken pipe",
  EAGAIN: "Resource temporarily unavailable",
} as const;

/** An errno name such as "EEXIST". */
export type Errno = keyof typeof ERRNO_TEXT;

/**
 * What a kernel operation throws when Linux would return -errno: the tools
 * turn it into their own wording ("RTNETLINK answers: File exists").
 */
export class KernelError extends Error {
  override readonly name = "KernelError";
  constructor(
    readonly errno: Errno,
    /** Extended ack text, as `Error: …` lines iproute2 prints from netlink. */
    readonly detail?: string,
  ) {
    super(detail ?? ERRNO_TEXT[errno]);
  }

  /** strerror(errno). */
  get text(): string {
    return ERRNO_TEXT[this.errno];
  }
}
