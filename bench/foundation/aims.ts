/** The aims, printed beside the figures as context, never as pass or fail. */
export const AIMS = {
  bundleSize: '< 1 MB minified, AWS SDK inside',
  coldInit: 'init < 150 ms',
  getLatency: 'GET p99 < 10 ms (embedded store)',
};
