/** Cloud identities mapped to scopes (shared/domain/principals.ts): exact ARNs, a session is its role. */
import { describe, expect, it } from 'vitest';
import { canonicalIamArn, isIamArn, scopesOfGoogleCaller, scopesOfIamCaller } from '../../../shared/domain/principals.js';

const role = { arn: 'arn:aws:iam::111122223333:role/ci/spinnaker-deployer', scopes: ['deploy:checkout*'] };
const oneSession = { arn: 'arn:aws:sts::111122223333:assumed-role/operator/alice', scopes: ['admin'] };
const user = { arn: 'arn:aws:iam::111122223333:user/bob', scopes: ['read:*'] };

describe('scopesOfIamCaller', () => {
  it('a session of a listed role has the role\'s scopes, whatever the role\'s path', () => {
    expect(scopesOfIamCaller('arn:aws:sts::111122223333:assumed-role/spinnaker-deployer/pipeline-42', [role])).toEqual([{ kind: 'deploy', serviceGlob: 'checkout*' }]);
  });

  it('a listed session matches only itself; a listed user only itself', () => {
    expect(scopesOfIamCaller('arn:aws:sts::111122223333:assumed-role/operator/alice', [oneSession])).toEqual([{ kind: 'admin' }]);
    expect(scopesOfIamCaller('arn:aws:sts::111122223333:assumed-role/operator/mallory', [oneSession])).toBeUndefined();
    expect(scopesOfIamCaller('arn:aws:iam::111122223333:user/bob', [user])).toEqual([{ kind: 'read', serviceGlob: '*' }]);
    expect(scopesOfIamCaller('arn:aws:iam::111122223333:user/bobby', [user])).toBeUndefined();
  });

  it('the same role name in another account, or another partition, is another principal', () => {
    expect(scopesOfIamCaller('arn:aws:sts::444455556666:assumed-role/spinnaker-deployer/x', [role])).toBeUndefined();
    expect(scopesOfIamCaller('arn:aws-cn:sts::111122223333:assumed-role/spinnaker-deployer/x', [role])).toBeUndefined();
  });

  it('entries naming the same caller add up', () => {
    const both = [role, { arn: 'arn:aws:sts::111122223333:assumed-role/spinnaker-deployer/pipeline-42', scopes: ['read:*'] }];
    expect(scopesOfIamCaller('arn:aws:sts::111122223333:assumed-role/spinnaker-deployer/pipeline-42', both)).toHaveLength(2);
  });
});

describe('IAM ARNs', () => {
  it('globs and non-IAM ARNs are not IAM ARNs', () => {
    expect(isIamArn('arn:aws:iam::*:role/deploy*')).toBe(false);
    expect(isIamArn('arn:aws:s3:::bucket')).toBe(false);
    expect(isIamArn(role.arn)).toBe(true);
  });

  it('canonical form: a role without its path, a session as its role', () => {
    expect(canonicalIamArn(role.arn)).toBe('arn:aws:iam::111122223333:role/spinnaker-deployer');
    expect(canonicalIamArn(oneSession.arn)).toBe('arn:aws:iam::111122223333:role/operator');
  });
});

describe('scopesOfGoogleCaller', () => {
  it('matches the email case-insensitively; another email has none', () => {
    const entries = [{ email: 'Deployer@proj.iam.gserviceaccount.com', scopes: ['deploy:*'] }];
    expect(scopesOfGoogleCaller('deployer@proj.iam.gserviceaccount.com', entries)).toEqual([{ kind: 'deploy', serviceGlob: '*' }]);
    expect(scopesOfGoogleCaller('other@proj.iam.gserviceaccount.com', entries)).toBeUndefined();
  });
});
