/** The aims, printed beside the figures as context, never as pass or fail. */
export const AIMS = {
  snapshots: '10,000-service snapshots under 1 s',
  currentPoll: 'current REST poll under 5 ms p99 locally; exactly one DynamoDB read per current poll',
  haproxySplit: 'a split verified on 16 HAProxys under 100 ms',
  reconcile: 'reconcile of 10,000 services: requests per shard and shards per run reported; finishes within the 5-minute schedule on DynamoDB',
  oneServiceReconcile: 'one-service reconcile p99 under 100 ms locally',
};

/** Bytes as MiB with one decimal: snapshot sizes and RSS. */
export function formatMiB(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** MiB from 1 MiB up, KiB below. */
export function formatSize(bytes: number): string {
  return bytes >= 1024 * 1024 ? formatMiB(bytes) : `${(bytes / 1024).toFixed(1)} KiB`;
}
