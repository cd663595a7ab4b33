import argon2 from "argon2";
import { badInput } from "../lib/errors.ts";

/** Passwords are kept only as argon2id hashes (the library's defaults follow the OWASP minimums). */

export const MIN_PASSWORD_LENGTH = 12;

export function checkPasswordPolicy(password: string, field = "password"): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw badInput(`${field}: use at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  if (password.length > 1024) throw badInput(`${field}: at most 1024 characters`);
}

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, { type: argon2.argon2id });
}

export async function verifyPassword(hash: string | null, password: string): Promise<boolean> {
  // A user without a password (or an unknown one) still costs one hash, so timing does not tell.
  if (!hash) {
    await argon2.hash(password, { type: argon2.argon2id });
    return false;
  }
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}
