import { AppError } from "./errors.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An id that is not even a UUID names nothing, so it is "not found" rather than a database error. */
export function requireId(value: string, what: string): string {
  if (!UUID.test(value)) throw new AppError("NOT_FOUND", `no ${what} ${JSON.stringify(value.slice(0, 60))}`);
  return value.toLowerCase();
}
