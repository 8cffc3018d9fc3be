// Shared helpers for the property tests of parsers of untrusted input: hostile strings, "only this error type",
// and a generous time bound per input size that a quadratic or cubic parser cannot meet.

import assert from 'node:assert/strict';
import fc from 'fast-check';

/** Any string: any code point, any UTF-16 unit (lone surrogates too), or ASCII with control characters. */
export const anyText = (maxLength = 200) => fc.oneof(
  fc.string({ unit: 'binary', maxLength }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength }),
  fc.string({ unit: 'binary-ascii', maxLength }),
);

/** Strings drawn from the pieces of a grammar, so random input gets deep into the parser instead of failing at once. */
export const grammar = (pieces: readonly string[], maxLength = 40) => fc.array(fc.constantFrom(...pieces), { maxLength }).map((a) => a.join(''));

/** Calls fn; an exception must be one of `allowed` (the module's own error types). Returns the result or undefined. */
export function onlyThrows<T>(fn: () => T, ...allowed: (abstract new (...args: never[]) => Error)[]): T | undefined {
  try {
    return fn();
  } catch (err) {
    if (!allowed.some((t) => err instanceof t)) assert.fail(`threw ${(err as Error)?.name ?? typeof err}: ${String((err as Error)?.message ?? err).slice(0, 200)}`);
    return undefined;
  }
}

/** `prefix` + `unit` repeated to about `bytes` + `suffix`: the shape that makes backtracking regexes explode. */
export const repeated = (unit: string, bytes: number, prefix = '', suffix = '') => prefix + unit.repeat(Math.max(1, Math.ceil(bytes / unit.length))) + suffix;

export const KiB = 1024;
export const MiB = 1024 * 1024;

/**
 * CPU time this process has used, in ms. Time bounds are measured in CPU time, not wall time: on a machine whose
 * cores are busy with other work, wall time stretches several-fold, while the CPU a parser spends does not.
 */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * fn(input) must finish within ms of CPU time. Bounds are generous (a loaded 2-core machine must not flake); the sizes are
 * chosen so a linear parser takes a small fraction of the bound and a quadratic one many times it.
 */
export function assertFast(what: string, ms: number, fn: () => unknown): void {
  const start = cpuMs();
  try { fn(); } catch { /* the error type is checked elsewhere; only time matters here */ }
  const took = cpuMs() - start;
  assert.ok(took < ms, `${what}: took ${took.toFixed(0)} ms (bound ${ms} ms)`);
}
