/** Time, injected: the domain and use cases never read the system clock themselves. */
export interface Clock {
  /** The current instant. Never throws. */
  now(): Date;
}
