/**
 * When a failed delivery is tried again: exponential backoff with "equal jitter"
 * (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/), so receivers that
 * come back are not hit by every dispatcher at once. Pure: the random draw comes in.
 */
export interface DeliverySettings {
  /** Attempts before an item is marked undelivered. */
  maxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** One attempt's deadline. */
  timeoutMs: number;
}

export const DEFAULT_DELIVERY: DeliverySettings = { maxAttempts: 6, backoffBaseMs: 1000, backoffMaxMs: 300_000, timeoutMs: 5000 };

/** The delay before attempt `attemptsMade + 1`; `random` is in [0, 1). Never below half the exponential step, so retries keep spreading out. */
export function retryDelayMs(attemptsMade: number, settings: DeliverySettings, random: number): number {
  const ceiling = Math.min(settings.backoffMaxMs, settings.backoffBaseMs * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}
