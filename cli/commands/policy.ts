/**
 * `crossfade policy check` (docs/cli.md): what the business rules would answer a deploy with these
 * flags, now — the policy dry run (POST /v1/policy/evaluate), which writes nothing. Exit 0 when
 * every rule allows, 5 when one refuses (the refusing rules named on stderr), as a pipeline gate.
 */
import type { Command } from 'commander';
import type { Verdict } from '../../shared/domain/policy/types.js';
import { ExitCode } from '../exit-codes.js';
import { verdictsTable } from '../output.js';
import type { Session } from '../session.js';
import type { Action } from './action.js';
import { createBodyOf, withCreateBodyFlags, type CreateBodyOptions } from './create-body-flags.js';

/** The dry run's answer (docs/api.md `POST /v1/policy/evaluate`). */
export interface PolicyAnswer {
  allowed: boolean;
  verdicts: Verdict[];
}

export function policyCommands(program: Command, action: Action): void {
  const policy = program.command('policy').description("the business rules (docs/policy.md): ask them before deploying");
  withCreateBodyFlags(policy.command('check').description('what the policy rules answer a deploy with these flags now (a dry run: nothing is written); exit 0 allowed, 5 denied')).action(
    action(check),
  );
}

async function check(session: Session, service: string | undefined, version: string | undefined, flags: CreateBodyOptions): Promise<number> {
  const body = createBodyOf('policy check', service, version, flags);
  const answer = await session.connect().call<PolicyAnswer>({ method: 'POST', path: '/v1/policy/evaluate', body });
  session.print(answer, () => verdictsTable(answer, session.colors));
  if (answer.allowed) return ExitCode.Ok;
  const denied = answer.verdicts.filter((verdict) => !verdict.allowed).map((verdict) => verdict.rule);
  session.note(`crossfade: refused by policy: ${denied.join(', ')}`);
  return ExitCode.Refused;
}
