/** What a call threw, for tests that look at the error itself rather than only its message. */
import { expect } from 'vitest';
import { ValidationError } from '../../shared/domain/errors.js';

/** The error `promise` rejects with; fails the test when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw, but it succeeded');
}

/** The ValidationError `fn` throws; fails the test when it throws nothing or something else. */
export function validationErrorOf(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error('expected a ValidationError, but nothing was thrown');
}
