import { constants } from 'node:os';

/** Errno names we raise; values come from the OS so exit codes match errno(3). */
export type ErrnoName =
  | 'EPERM' | 'ENOENT' | 'EIO' | 'E2BIG' | 'EBADF' | 'EAGAIN' | 'ENOMEM' | 'EACCES' | 'EBUSY'
  | 'EEXIST' | 'EXDEV' | 'ENODEV' | 'ENOTDIR' | 'EISDIR' | 'EINVAL' | 'ENOSPC' | 'EROFS'
  | 'ENAMETOOLONG' | 'ENOTEMPTY' | 'ENOSYS' | 'ENODATA' | 'ENOTSUP' | 'ETIMEDOUT' | 'ECANCELED'
  | 'EINTR' | 'ECONNREFUSED' | 'EBADMSG' | 'ENOMEDIUM' | 'EMEDIUMTYPE' | 'ESTALE' | 'EALREADY'
  | 'EOPNOTSUPP' | 'ERANGE' | 'ELOOP' | 'EMLINK' | 'EFBIG' | 'ENXIO';

const EXTRA: Record<string, number> = { ENOMEDIUM: 123, EMEDIUMTYPE: 124, ENODATA: 61 };

export function errnoOf(name: ErrnoName): number {
  const n = (constants.errno as Record<string, number>)[name] ?? EXTRA[name];
  if (n === undefined) throw new Error(`unknown errno ${name}`);
  return n;
}

export function errnoName(code: number): string {
  for (const [k, v] of Object.entries(constants.errno)) if (v === code) return k;
  for (const [k, v] of Object.entries(EXTRA)) if (v === code) return k;
  return `E${code}`;
}

/**
 * The one error type of Deimos. `code` is the errno name, `errno` its
 * positive number (exit code of the CLI, negated for FUSE).
 * `message` names what is wrong; `hint` says what to do about it.
 */
export class DeimosError extends Error {
  readonly code: ErrnoName;
  readonly errno: number;
  readonly hint?: string;
  constructor(code: ErrnoName, message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DeimosError';
    this.code = code;
    this.errno = errnoOf(code);
    this.hint = hint;
  }
  /** One line for a user: "what is wrong: what to do". */
  line(): string {
    return this.hint ? `${this.message}; ${this.hint}` : this.message;
  }
  toJSON(): { code: ErrnoName; message: string; hint?: string } {
    return { code: this.code, message: this.message, hint: this.hint };
  }
}

export const fail = (code: ErrnoName, message: string, hint?: string): never => {
  throw new DeimosError(code, message, hint);
};

/** Maps anything thrown to a DeimosError; Node system errors keep their errno. */
export function toDeimosError(e: unknown): DeimosError {
  if (e instanceof DeimosError) return e;
  const err = e as NodeJS.ErrnoException | undefined;
  if (err && typeof err.code === 'string' && /^E[A-Z0-9]+$/.test(err.code)) {
    const n = (constants.errno as Record<string, number>)[err.code];
    if (n !== undefined) {
      const d = new DeimosError(err.code as ErrnoName, err.message, undefined, { cause: e });
      return d;
    }
  }
  if (err && (err as { code?: string }).code === 'SQLITE_BUSY') {
    return new DeimosError('EBUSY', 'the catalog is busy', 'retry in a moment', { cause: e });
  }
  const msg = err instanceof Error ? err.message : String(e);
  return new DeimosError('EIO', `internal error: ${msg}`, 'see the service log for the stack', { cause: e });
}

/** Positive errno of anything thrown. */
export function toErrno(e: unknown): number {
  return toDeimosError(e).errno;
}

/** Rebuilds a DeimosError sent over the socket as JSON. */
export function fromJSON(j: { code: ErrnoName; message: string; hint?: string }): DeimosError {
  return new DeimosError(j.code, j.message, j.hint);
}
