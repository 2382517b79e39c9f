// Errors of the page source. Callers tell "try again later" (SourceUnavailableError)
// from "this mapping can never be read by this build" (AbiMismatchError).

/** Base class: anything wrong with the page source. */
export class SourceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The mapping does not have the layout this reader was built for. */
export class AbiMismatchError extends SourceError {
  constructor(
    readonly path: string,
    readonly field: string,
    readonly found: number | string,
    readonly expected: number | string,
  ) {
    super(`${path}: ${field} is ${formatValue(field, found)}, expected ${formatValue(field, expected)}`);
  }
}

/** No live writer behind the path right now; snapshot() reattaches by itself later. */
export class SourceUnavailableError extends SourceError {
  constructor(
    readonly path: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${path}: source unavailable: ${reason}`, options);
  }
}

/** A libc call failed; `code` is the errno name (e.g. "EACCES"). */
export class SyscallError extends SourceError {
  constructor(
    readonly syscall: string,
    readonly path: string,
    readonly errno: number,
    readonly code: string,
  ) {
    super(`${syscall} ${path}: ${code}`);
  }
}

function formatValue(field: string, value: number | string): string {
  if (typeof value === 'string') return value;
  return field.includes('magic') ? `0x${value.toString(16).padStart(8, '0')}` : String(value);
}
