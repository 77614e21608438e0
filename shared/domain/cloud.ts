/** The clouds crossfade spans. A closed set: adding one is a code change, not a config entry. */
export const Cloud = { Aws: 'aws', Gcp: 'gcp' } as const;
export type CloudName = (typeof Cloud)[keyof typeof Cloud];
export const cloudNames: readonly CloudName[] = Object.values(Cloud);

export function isCloudName(value: string): value is CloudName {
  return (cloudNames as readonly string[]).includes(value);
}
