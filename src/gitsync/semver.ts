// `spec.ref.semver` on npm's own `semver` (node-semver): versions, ranges (comparators, x-ranges, ~, ^, hyphen
// ranges, ||) and its prerelease rule. This module only keeps Keelson's small API over it: plain version records,
// errors of one type that name the range, and a length cap on ranges, which come from tenants. Pure.

import semver from 'semver';

export interface SemVer {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly prerelease: readonly (string | number)[];
}

/** A parsed range: node-semver's, with the text it came from. */
export interface Range { readonly range: semver.Range; readonly text: string }

export class RangeError extends Error {
  override readonly name = 'SemverRangeError';
}

/**
 * Longest range accepted. node-semver caps versions at 256 characters but not ranges; real ranges are a few
 * comparators, and a cap keeps its regexes' work on tenant text small.
 */
export const MAX_RANGE_CHARS = 1024;

/** Parses "1.2.3", "v1.2.3", "1.2.3-rc.1+build"; undefined for anything else (tags that are not versions). */
export function parseVersion(text: string): SemVer | undefined {
  const v = semver.parse(text.trim());
  return v ? { major: v.major, minor: v.minor, patch: v.patch, prerelease: [...v.prerelease] } : undefined;
}

const format = (v: SemVer) => `${v.major}.${v.minor}.${v.patch}${v.prerelease.length ? `-${v.prerelease.join('.')}` : ''}`;

/** Orders versions as SemVer 2.0 does (build metadata ignored; a prerelease sorts before its release). */
export function compareVersions(a: SemVer, b: SemVer): number {
  return semver.compare(format(a), format(b));
}

/** Parses a range like ">=1.0.0 <2.0.0", "^1.2", "~1.2.3", "1.x || >=3.0.0", "1.0.0 - 1.5.0". */
export function parseRange(text: string): Range {
  const trimmed = text.trim();
  if (trimmed === '') throw new RangeError('invalid semver range "": empty');
  if (trimmed.length > MAX_RANGE_CHARS) throw new RangeError(`invalid semver range: over ${MAX_RANGE_CHARS} characters`);
  try {
    return { range: new semver.Range(trimmed), text: trimmed };
  } catch (err) {
    throw new RangeError(`invalid semver range "${trimmed}": ${(err as Error).message}`);
  }
}

/**
 * Whether x is in the range. node-semver's rule: a prerelease only matches when a comparator of the same set names
 * a prerelease of the same major.minor.patch, so ">=1.0.0" never picks "2.0.0-rc.1".
 */
export function satisfies(x: SemVer, range: Range): boolean {
  return range.range.test(format(x));
}

/** The highest of the candidate names that parses as a version inside the range, or undefined. */
export function maxSatisfying(names: readonly string[], rangeText: string): string | undefined {
  const range = parseRange(rangeText);
  return semver.maxSatisfying(names.filter((n) => parseVersion(n) !== undefined), range.range) ?? undefined;
}
