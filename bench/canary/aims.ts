/** The aims, printed beside the figures as context, never as pass or fail. */
export const AIMS = {
  orchestration: 'under 50 ms overhead per step locally',
  judge: 'judging 50 metrics of 2 × 1,000 points (no figure set: measured)',
  concurrent: '100 concurrent deployments of different services through the local stack: all finish, none wrongly refused (no time set: measured)',
};
