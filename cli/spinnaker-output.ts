/**
 * What Spinnaker's "Run Job (Manifest)" stage reads from the Job's pod (docs/spinnaker.md "Run
 * job"): the outputs in the log and a short termination message on failure. Placeholder.
 */
import type { Writable } from 'node:stream';
import type { StatusDocument } from '../shared/http/status-document.js';

export interface SpinnakerOutputOptions {
  out: Writable;
  /** Where Kubernetes reads the termination message (`/dev/termination-log`); undefined: nowhere. */
  terminationLog: string | undefined;
}

/** Prints the outputs for a deployment that was followed to its end, or for a command that failed. */
export async function writeSpinnakerOutputs(_ended: StatusDocument | undefined, _failure: Error | undefined, _options: SpinnakerOutputOptions): Promise<void> {
  throw new Error('not implemented yet');
}
