/**
 * Limits failed authentications per source address: after `burst` failures a
 * source may fail again once per `refillMs` (a token bucket), and until then
 * its calls with keys not known to be good are refused without a database
 * lookup. Keys that worked recently on this replica are always looked up, so
 * an attacker sharing an address with real users does not lock them out.
 */
export interface FailureLimiterOptions {
  burst: number;
  refillMs: number;
  now?: () => number;
}

export type FailureLimiter = ReturnType<typeof createFailureLimiter>;

const SOURCES_LIMIT = 100_000;
const GOOD_KEYS_LIMIT = 100_000;
const GOOD_FOR_MS = 10 * 60_000;

export function createFailureLimiter(opts: FailureLimiterOptions) {
  const now = opts.now ?? Date.now;
  const buckets = new Map<string, { tokens: number; at: number }>();
  const good = new Map<string, number>();

  function tokensOf(source: string): number {
    const b = buckets.get(source);
    if (!b) return opts.burst;
    const tokens = Math.min(opts.burst, b.tokens + (now() - b.at) / opts.refillMs);
    if (tokens >= opts.burst) buckets.delete(source);
    return tokens;
  }

  return {
    isBlocked: (source: string) => tokensOf(source) < 1,
    failed(source: string): void {
      const tokens = Math.max(0, tokensOf(source) - 1);
      if (buckets.size >= SOURCES_LIMIT) buckets.clear();
      buckets.set(source, { tokens, at: now() });
    },
    succeeded(keyHash: string): void {
      if (good.size >= GOOD_KEYS_LIMIT) good.clear();
      good.set(keyHash, now() + GOOD_FOR_MS);
    },
    knownGood: (keyHash: string) => (good.get(keyHash) ?? 0) > now(),
  };
}
