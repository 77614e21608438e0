/** `crossfade config …`: the contexts file, kubectl-style (docs/cli.md "Contexts"). Tokens are never shown. */
import type { Command } from 'commander';
import { contextsPath, readContexts, useContext, type Context } from '../contexts.js';
import { ExitCode } from '../exit-codes.js';
import { UsageError } from '../failure.js';
import type { Session } from '../session.js';
import type { Action } from './action.js';

/** A context as it may be printed: where it points and where its token comes from, never the token. */
export function describeContext(context: Context, current: string | undefined): { name: string; current: boolean; url?: string; via?: string; token: string } {
  return {
    name: context.name,
    current: context.name === current,
    ...(context.url !== undefined ? { url: context.url } : { via: context.via }),
    token: context.token !== undefined ? 'inline' : context['token-file'] !== undefined ? `file ${context['token-file']}` : 'none',
  };
}

export function configCommands(program: Command, action: Action): void {
  const config = program.command('config').description('the contexts file: ~/.crossfade/config.yaml, or --config, or CROSSFADE_CLI_CONFIG');
  const fileOf = (session: Session, command: Command) => readContexts(contextsPath(command.optsWithGlobals<{ config?: string }>().config, session.io.env));

  config
    .command('get-contexts')
    .description('the contexts, the current one marked')
    .action(action(async (session: Session, _flags: unknown, command: Command) => {
      const file = fileOf(session, command);
      const contexts = file.contexts.map((c) => describeContext(c, file.currentContext));
      session.print({ currentContext: file.currentContext ?? null, contexts }, () =>
        contexts.length === 0 ? `no contexts in ${file.path}` : contexts.map((c) => `${c.current ? '*' : ' '} ${c.name}  ${c.url ?? c.via}  (token: ${c.token})`).join('\n'),
      );
      return ExitCode.Ok;
    }));

  config
    .command('use-context')
    .description('make a context the current one')
    .argument('<name>')
    .action(action(async (session: Session, name: string, _flags: unknown, command: Command) => {
      const file = fileOf(session, command);
      useContext(file, name);
      session.note(`crossfade: current context is now ${name} (${file.path})`);
      return ExitCode.Ok;
    }));

  config
    .command('current-context')
    .description('the name of the current context')
    .action(action(async (session: Session, _flags: unknown, command: Command) => {
      const file = fileOf(session, command);
      if (file.currentContext === undefined) throw new UsageError(`no current-context in ${file.path}`);
      session.io.stdout.write(`${file.currentContext}\n`);
      return ExitCode.Ok;
    }));
}
