/**
 * Domain errors carry a stable code. One table maps each code to a CLI exit code (and, later, an HTTP
 * status), so transports never decide that on their own.
 */
export const errorCodes = {
  USAGE: { exit: 2, http: 400 },
  BAD_INPUT: { exit: 2, http: 422 },
  NOT_FOUND: { exit: 2, http: 404 },
  UNAUTHENTICATED: { exit: 2, http: 401 },
  FORBIDDEN: { exit: 2, http: 403 },
  CONFLICT: { exit: 2, http: 409 },
  GONE: { exit: 2, http: 410 },
  TOO_LARGE: { exit: 2, http: 413 },
  RATE_LIMITED: { exit: 1, http: 429 },
  STORE_BUSY: { exit: 1, http: 503 },
  WORK_FAILED: { exit: 1, http: 500 },
  INTERNAL: { exit: 1, http: 500 },
} as const;

export type ErrorCode = keyof typeof errorCodes;

export class AppError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AppError";
    this.code = code;
  }
}

export const usageError = (message: string) => new AppError("USAGE", message);
export const badInput = (message: string) => new AppError("BAD_INPUT", message);

export function exitCodeFor(error: unknown): number {
  return error instanceof AppError ? errorCodes[error.code].exit : errorCodes.INTERNAL.exit;
}

export function httpStatusFor(error: unknown): number {
  return error instanceof AppError ? errorCodes[error.code].http : errorCodes.INTERNAL.http;
}

/** A one-line message for stderr; unexpected errors keep their message but never a data dump. */
export function describeError(error: unknown): string {
  if (error instanceof AppError) return error.message;
  if (error instanceof Error) return `internal error: ${error.message}`;
  return `internal error: ${String(error)}`;
}
