/** What a service may declare it calls, and what a sidecar group sees (shared/domain/dependencies.ts). */
import { describe, expect, it } from 'vitest';
import { checkDependencies, MAX_DEPENDENCIES, sameDependencies, sidecarOf, visibleServices } from '../../../shared/domain/dependencies.js';
import { ValidationError } from '../../../shared/domain/errors.js';

function refusal(service: string, dependencies: string[]): ValidationError {
  try {
    checkDependencies(service, dependencies);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error('accepted');
}

describe('checkDependencies', () => {
  it('accepts service names, none of them the service, each once, and an empty list', () => {
    expect(() => checkDependencies('checkout', ['payments', 'auth'])).not.toThrow();
    expect(() => checkDependencies('checkout', [])).not.toThrow();
  });

  it.each([
    ['a name that is no service name', ['payments', 'Auth'], 'dependencies[1]', 'service-name'],
    ['the service itself', ['checkout'], 'dependencies[0]', 'not-self'],
    ['a name twice', ['auth', 'payments', 'auth'], 'dependencies[2]', 'unique'],
    ['more than the maximum', Array.from({ length: MAX_DEPENDENCIES + 1 }, (_, i) => `s${i}`), 'dependencies', 'max-dependencies'],
  ])('refuses %s, naming the field and the rule', (_name, dependencies, field, rule) => {
    expect(refusal('checkout', dependencies)).toMatchObject({ field, rule });
  });
});

describe('what a sidecar group sees', () => {
  it('is its service dependencies and the always-visible services; nothing declared is none', () => {
    expect([...visibleServices(['payments'], ['auth'])].sort()).toEqual(['auth', 'payments']);
    expect([...visibleServices(undefined, ['auth'])]).toEqual(['auth']);
  });

  it('belongs to Envoy groups that name the service they are the sidecars of', () => {
    expect(sidecarOf({ name: 's', kind: 'envoy', cloud: 'aws', region: 'r', proxies: [], sidecarOf: 'checkout' })).toBe('checkout');
    expect(sidecarOf({ name: 'w', kind: 'envoy', cloud: 'aws', region: 'r', proxies: [] })).toBeUndefined();
    expect(sidecarOf({ name: 'h', kind: 'haproxy', cloud: 'aws', region: 'r', proxies: [] })).toBeUndefined();
  });

  it('compares lists whatever their order', () => {
    expect(sameDependencies(['b', 'a'], ['a', 'b'])).toBe(true);
    expect(sameDependencies(['a'], ['a', 'b'])).toBe(false);
  });
});
