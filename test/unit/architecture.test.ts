/**
 * The lines docs/architecture.md draws, enforced: pure domain and engine, use cases that see only
 * ports, SDKs only in adapters, entry points that never import each other.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

type Layer = 'domain' | 'engine' | 'ports' | 'usecases' | 'adapters' | 'http' | 'platform' | 'runtime' | 'workflow' | 'shared' | 'functions' | 'gcp' | 'local' | 'cli';

/** Which layers each layer may import. */
const allowedLayers: Record<Layer, readonly Layer[]> = {
  domain: ['domain'],
  engine: ['domain', 'engine'],
  ports: ['domain', 'ports'],
  usecases: ['domain', 'engine', 'ports', 'usecases'],
  adapters: ['domain', 'ports', 'adapters'],
  http: ['domain', 'engine', 'ports', 'usecases', 'http'],
  platform: ['domain', 'http', 'platform'],
  workflow: ['domain', 'engine', 'ports', 'usecases', 'workflow'],
  runtime: ['domain', 'engine', 'ports', 'usecases', 'adapters', 'http', 'runtime', 'workflow', 'shared'],
  shared: ['shared'],
  // An entry point parses, calls one use case, maps the result (docs/architecture.md).
  functions: ['http', 'platform', 'runtime', 'domain', 'usecases', 'workflow'],
  // gcp/ also holds its deploy tooling, which reads the adapters' names for the table and config.
  gcp: ['http', 'platform', 'runtime', 'domain', 'adapters', 'usecases', 'gcp'],
  local: ['domain', 'ports', 'adapters', 'http', 'platform', 'runtime', 'local'],
  cli: ['domain', 'ports', 'adapters', 'http', 'runtime', 'cli'],
};

/** Packages a layer may import (besides relative imports); `*` allows any. */
const allowedPackages: Record<Layer, readonly (string | RegExp)[]> = {
  // node:net only for isIP, a pure function.
  domain: ['zod/mini', 'node:net'],
  engine: [],
  ports: [],
  usecases: [],
  adapters: ['*'],
  http: ['zod/mini', 'node:crypto'],
  platform: ['@middy/core', 'aws-lambda', /^node:/],
  workflow: ['zod/mini'],
  runtime: [],
  shared: [],
  functions: ['aws-lambda'],
  gcp: ['@google-cloud/functions-framework', /^node:/],
  local: ['dynalite', /^node:/],
  // The live view's colour and in-place redraw (cli/watch/).
  cli: [/^node:/, 'picocolors', 'log-update'],
};

const IMPURE = [/\bprocess\.env\b/, /\bDate\.now\(/, /\bnew Date\(\)/, /\bMath\.random\(/];

const root = resolve(import.meta.dirname, '..', '..');

function layerOf(file: string): Layer | undefined {
  const parts = relative(root, file).split('/');
  if (parts[0] === 'shared') {
    const sub = parts[1] ?? '';
    if (parts.length === 2) return 'shared';
    return ['domain', 'engine', 'ports', 'usecases', 'adapters', 'http', 'platform', 'runtime', 'workflow'].includes(sub) ? (sub as Layer) : undefined;
  }
  return ['functions', 'gcp', 'local', 'cli'].includes(parts[0] ?? '') ? (parts[0] as Layer) : undefined;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

function importsOf(source: string): string[] {
  const specifiers = [...source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'/g), ...source.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)];
  return specifiers.map((m) => m[1]!);
}

export function violations(file: string, source: string): string[] {
  const layer = layerOf(file);
  if (!layer) return [];
  const found: string[] = [];
  for (const specifier of importsOf(source)) {
    if (specifier.startsWith('.')) {
      const target = resolve(dirname(file), specifier);
      if (relative(root, target) === 'package.json') continue;
      const targetLayer = layerOf(target);
      if (!targetLayer || !allowedLayers[layer].includes(targetLayer)) found.push(`${relative(root, file)}: ${layer} may not import ${targetLayer ?? relative(root, target)} (${specifier})`);
    } else {
      const allowed = allowedPackages[layer].some((rule) => rule === '*' || (typeof rule === 'string' ? specifier === rule || specifier.startsWith(`${rule}/`) : rule.test(specifier)));
      if (!allowed) found.push(`${relative(root, file)}: ${layer} may not import package ${specifier}`);
    }
  }
  if (layer === 'domain' || layer === 'engine') {
    for (const pattern of IMPURE) if (pattern.test(source)) found.push(`${relative(root, file)}: ${layer} must be pure but uses ${pattern.source}`);
  }
  return found;
}

describe('architecture', () => {
  const files = ['shared', 'functions', 'gcp', 'local', 'cli'].flatMap((dir) => {
    try {
      return sourceFiles(join(root, dir));
    } catch {
      return [];
    }
  });

  it('finds the source tree', () => {
    expect(files.length).toBeGreaterThan(20);
  });

  it('no import crosses the lines docs/architecture.md draws', () => {
    const found = files.flatMap((file) => violations(file, readFileSync(file, 'utf8')));
    expect(found).toEqual([]);
  });

  it('catches a use case importing an SDK or an adapter, and impure domain code', () => {
    expect(violations(join(root, 'shared/usecases/x.ts'), "import { X } from '@aws-sdk/client-dynamodb';")).toHaveLength(1);
    expect(violations(join(root, 'shared/usecases/x.ts'), "import { X } from '../adapters/dynamodb/stores.js';")).toHaveLength(1);
    expect(violations(join(root, 'shared/domain/x.ts'), 'export const t = Date.now();')).toHaveLength(1);
    expect(violations(join(root, 'functions/x.ts'), "import { y } from '../gcp/index.js';")).toHaveLength(1);
    expect(violations(join(root, 'shared/http/x.ts'), "import type { Y } from '../usecases/deps.js';")).toEqual([]);
  });
});
