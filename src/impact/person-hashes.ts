import type { Sealer } from "../lib/seal.ts";

/**
 * Keyed hashes (HMAC under the store's key) that find an affected person by email, user id or person
 * key without any of them being stored in the clear. The email hash is the same as a campaign's
 * (`email:` and the trimmed, lower-cased address), so the two can be matched without the address.
 */

export function personEmailHash(sealer: Pick<Sealer, "keyedHash">, email: string): string {
  return sealer.keyedHash(`email:${email.trim().toLowerCase()}`);
}

export function personUserIdHash(sealer: Pick<Sealer, "keyedHash">, userId: string): string {
  return sealer.keyedHash(`user_id:${userId}`);
}

/** What affected_people.person_key_hash holds; unmatched people's keys hold the lower-cased email. */
export function personKeyHash(sealer: Pick<Sealer, "keyedHash">, personKey: string): string {
  const key = personKey.startsWith("email:")
    ? `email:${personKey.slice("email:".length).trim().toLowerCase()}`
    : personKey;
  return sealer.keyedHash(key);
}
