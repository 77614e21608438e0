/** The package version, reported by /healthz. Bundles inline package.json at build time. */
import pkg from '../package.json' with { type: 'json' };

export const packageVersion: string = pkg.version;
