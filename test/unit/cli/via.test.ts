/** `--via` (cli/transport/via.ts): which transport a value names, and the usage errors of the others. */
import { describe, expect, it } from 'vitest';
import { transportVia } from '../../../cli/transport/via.js';
import { ValidationError } from '../../../shared/domain/errors.js';

const env = { AWS_REGION: 'eu-west-1' };

function usageErrorOf(via: string): ValidationError {
  try {
    transportVia(via, { env });
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error(`--via ${via} was accepted`);
}

describe('transportVia', () => {
  it('lambda:<prefix> and gcp:<url> name their targets', () => {
    expect(transportVia('lambda:crossfade-prod', { env }).target).toBe('lambda:crossfade-prod');
    expect(transportVia('gcp:https://crossfade-api-abc-uc.a.run.app/', { env }).target).toBe('gcp:https://crossfade-api-abc-uc.a.run.app');
  });

  it('anything else is a usage error naming via and the rule', () => {
    expect(usageErrorOf('http://x')).toMatchObject({ field: 'via', rule: 'via-scheme' });
    expect(usageErrorOf('lambda:')).toMatchObject({ field: 'via', rule: 'lambda-prefix' });
    expect(usageErrorOf('lambda:arn:aws:lambda:us-east-1:1:function:x')).toMatchObject({ rule: 'lambda-prefix' });
    expect(usageErrorOf('gcp:not a url')).toMatchObject({ field: 'via', rule: 'gcp-url' });
  });
});
