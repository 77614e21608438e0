/** Fresh identifiers, injected so tests can make them predictable. */
export interface IdGenerator {
  /** A new, unique, URL-safe deployment id (`dep_` + 26 characters, sortable by creation time). Never throws. */
  deploymentId(): string;
}
