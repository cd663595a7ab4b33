import { createMatcher, InvalidName, type Matcher } from "../lookalikes/match-feed.ts";

/**
 * The one place the message check reaches into the lookalike matcher (src/phishing/lookalikes): "is
 * this domain made to pass for one of the official domains?". Building a matcher generates every
 * permutation of the official domains (a few hundred milliseconds), so matchers are kept per list.
 */

export type Imitation = Readonly<{
  /** the domain checked, ASCII (punycode) form */
  domain: string;
  /** the official domain it imitates */
  official: string;
  /** 0-100, from the matcher */
  score: number;
  /** the matcher's reasons, such as "permutation: numeral-swap of example.com" */
  reasons: readonly string[];
}>;

export type LookalikeCheck = (domain: string) => Imitation | null;

/**
 * The least matcher score that counts as a lookalike: the matcher's weakest signal (the brand inside
 * another domain with no phishing word, 60) already names a domain made from ours.
 */
export const MIN_LOOKALIKE_SCORE = 60;

const matchers = new Map<string, Matcher>();
const MAX_KEPT = 8;

function matcherFor(officials: readonly string[]): Matcher {
  const key = [...officials].sort().join(",");
  let matcher = matchers.get(key);
  if (!matcher) {
    matcher = createMatcher(officials);
    if (matchers.size >= MAX_KEPT) matchers.delete(matchers.keys().next().value as string);
    matchers.set(key, matcher);
  }
  return matcher;
}

/**
 * A check against these official domains. Names under an official domain are never lookalikes, and a
 * name that is not a valid domain (an IP address, a typo with a space) imitates nothing.
 */
export function lookalikeCheck(officials: readonly string[]): LookalikeCheck {
  const matcher = matcherFor(officials);
  return (domain) => {
    let result: ReturnType<Matcher["match"]>;
    try {
      result = matcher.match(domain);
    } catch (error) {
      if (error instanceof InvalidName) return null;
      throw error;
    }
    if (!result || result.score < MIN_LOOKALIKE_SCORE) return null;
    return { domain: result.domain, official: result.official, score: result.score, reasons: result.reasons };
  };
}
