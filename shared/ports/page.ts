/** One page of a listing. `nextCursor` is opaque to callers; undefined means there is no more. */
export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

export interface PageRequest {
  /** 1-100 items. */
  limit: number;
  /** A `nextCursor` from an earlier page of the same query. */
  cursor?: string;
}
