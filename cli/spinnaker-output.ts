/**
 * What Spinnaker's "Run Job (Manifest)" stage reads from the Job's pod (docs/spinnaker-run-job.md):
 * the outputs in the log, and a short termination message when the Job fails. The lines and the
 * message are made in spinnaker-output-format.ts; this file only writes them.
 */
import { writeFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import type { StatusDocument } from '../shared/http/status-document.js';
import { spinnakerOutputLines, terminationMessage } from './spinnaker-output-format.js';

export interface SpinnakerOutputOptions {
  out: Writable;
  /** Where Kubernetes reads the termination message (`/dev/termination-log`); undefined: nowhere. */
  terminationLog: string | undefined;
  /** Where a termination message that could not be written is reported (default: stderr). */
  err?: Writable;
}

/** Prints the outputs for a deployment that was followed to its end, or for a command that failed. */
export async function writeSpinnakerOutputs(ended: StatusDocument | undefined, failure: Error | undefined, options: SpinnakerOutputOptions): Promise<void> {
  // One write for all lines: the CONFIG_JSON line must never be split by another writer's output.
  await writeAll(options.out, spinnakerOutputLines(ended, failure).join('\n') + '\n');
  const message = terminationMessage(ended, failure);
  if (message === undefined || options.terminationLog === undefined) return;
  try {
    await writeFile(options.terminationLog, message);
  } catch (error) {
    // The outputs are printed and the exit code still says how it ended; with the manifest's
    // FallbackToLogsOnError, Kubernetes then shows the log's tail instead of this message.
    await writeAll(options.err ?? process.stderr, `crossfade: could not write the termination message to ${options.terminationLog}: ${(error as Error).message}\n`);
  }
}

/** Resolves once the text is handed to the stream, so a process.exit right after loses none of it. */
function writeAll(stream: Writable, text: string): Promise<void> {
  return new Promise((resolve, reject) => stream.write(text, (error) => (error ? reject(error) : resolve())));
}
