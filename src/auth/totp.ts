import * as OTPAuth from "otpauth";

/** RFC 6238 codes (30 s, 6 digits, SHA-1: what every authenticator app speaks). */

export function newTotpSecret(): string {
  return new OTPAuth.Secret({ size: 20 }).base32;
}

export function totpUri(secretBase32: string, account: string): string {
  return new OTPAuth.TOTP({
    issuer: "blastradius",
    label: account,
    secret: OTPAuth.Secret.fromBase32(secretBase32),
  }).toString();
}

/** One step either side absorbs clock drift between the server and the phone. */
export function verifyTotp(secretBase32: string, code: string, at = Date.now()): boolean {
  if (!/^\d{6}$/.test(code)) return false;
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secretBase32) });
  return totp.validate({ token: code, timestamp: at, window: 1 }) !== null;
}

export function totpCode(secretBase32: string, at = Date.now()): string {
  return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secretBase32) }).generate({ timestamp: at });
}
