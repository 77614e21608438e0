/**
 * A command's body: it gets the session and commander's arguments, and answers its exit code. The
 * wrapper builds the session from the global flags and keeps the code for main().
 */
import type { Command } from 'commander';
import type { Session } from '../session.js';

// Commander passes (…arguments, options, command); each command declares the arguments it takes.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type CommandBody = (session: Session, ...args: any[]) => Promise<number>;
export type Action = (body: CommandBody) => (...args: unknown[]) => Promise<void>;

/** The Action of one run of main(): builds the session from `command`'s global options, records the code. */
export function actionFor(sessionOf: (command: Command) => Session, done: (code: number) => void): Action {
  return (body) =>
    async (...args) => {
      const command = args[args.length - 1] as Command;
      done(await body(sessionOf(command), ...args));
    };
}
