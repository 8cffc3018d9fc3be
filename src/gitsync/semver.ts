// A small semantic-version parser and range matcher for `spec.ref.semver` (the subset of node-semver's grammar
// people write in GitOps tools: comparators, x-ranges, ~, ^, hyphen ranges, ||). Pure; no dependency.

export interface SemVer {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly prerelease: readonly (string | number)[];
}

const VERSION = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

/** Parses "1.2.3", "v1.2.3", "1.2.3-rc.1+build"; undefined for anything else (tags that are not versions). */
export function parseVersion(text: string): SemVer | undefined {
  const m = VERSION.exec(text.trim());
  if (!m) return undefined;
  const prerelease = m[4] ? m[4].split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p)) : [];
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), prerelease };
}

/** Orders versions as SemVer 2.0 does (build metadata ignored; a prerelease sorts before its release). */
export function compareVersions(a: SemVer, b: SemVer): number {
  for (const k of ['major', 'minor', 'patch'] as const) if (a[k] !== b[k]) return a[k] < b[k] ? -1 : 1;
  if (a.prerelease.length === 0 || b.prerelease.length === 0) return Math.sign(b.prerelease.length - a.prerelease.length);
  for (let i = 0; i < Math.max(a.prerelease.length, b.prerelease.length); i++) {
    const x = a.prerelease[i];
    const y = b.prerelease[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x < y ? -1 : 1;
    if (typeof x === 'number') return -1;
    if (typeof y === 'number') return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

type Op = '<' | '<=' | '>' | '>=' | '=';
interface Comparator { readonly op: Op; readonly v: SemVer; readonly implicit?: boolean }
/** A range is an OR of AND-sets of comparators. */
export interface Range { readonly sets: readonly (readonly Comparator[])[]; readonly text: string }

export class RangeError extends Error {
  override readonly name = 'SemverRangeError';
}

const PARTIAL = /^v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?$/;

interface Partial { major?: number; minor?: number; patch?: number; prerelease: (string | number)[] }

function parsePartial(text: string, whole: string): Partial {
  const m = PARTIAL.exec(text);
  if (!m) throw new RangeError(`invalid semver range "${whole}": "${text}" is not a version`);
  const num = (s: string | undefined) => (s === undefined || /^[xX*]$/.test(s) ? undefined : Number(s));
  const major = num(m[1]);
  const minor = major === undefined ? undefined : num(m[2]);
  const patch = minor === undefined ? undefined : num(m[3]);
  const prerelease = patch !== undefined && m[4] ? m[4].split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p)) : [];
  return { major, minor, patch, prerelease };
}

const v = (major: number, minor: number, patch: number, prerelease: (string | number)[] = []): SemVer => ({ major, minor, patch, prerelease });
/** The lowest version of a bump ("<2.0.0" must not admit 2.0.0-rc.1, as in node-semver's `-0`). */
const floor = (major: number, minor: number, patch: number): SemVer => v(major, minor, patch, [0]);
const below = (x: SemVer): Comparator => ({ op: '<', v: x, implicit: true });

function expand(op: string, p: Partial): Comparator[] {
  const { major, minor, patch } = p;
  if (major === undefined) return op === '<' || op === '>' ? [below(v(0, 0, 0, [0]))] : [];
  const exact = patch !== undefined;
  const lo = v(major, minor ?? 0, patch ?? 0, p.prerelease);
  const hi = minor === undefined ? floor(major + 1, 0, 0) : patch === undefined ? floor(major, minor + 1, 0) : undefined;
  switch (op) {
    case '': case '=':
      return exact ? [{ op: '=', v: lo }] : [{ op: '>=', v: lo }, below(hi!)];
    case '>': return exact ? [{ op: '>', v: lo }] : [{ op: '>=', v: { ...hi!, prerelease: [] } }];
    case '>=': return [{ op: '>=', v: lo }];
    case '<': return [exact ? { op: '<', v: lo } : below(floor(lo.major, lo.minor, lo.patch))];
    case '<=': return exact ? [{ op: '<=', v: lo }] : [below(hi!)];
    case '~':
      return [{ op: '>=', v: lo }, below(minor === undefined ? floor(major + 1, 0, 0) : floor(major, minor + 1, 0))];
    case '^': {
      let upper: SemVer;
      if (major > 0 || minor === undefined) upper = floor(major + 1, 0, 0);
      else if (minor > 0 || patch === undefined) upper = floor(0, minor + 1, 0);
      else upper = floor(0, 0, patch + 1);
      return [{ op: '>=', v: lo }, below(upper)];
    }
    default: throw new RangeError(`unknown operator "${op}"`);
  }
}

/** Parses a range like ">=1.0.0 <2.0.0", "^1.2", "~1.2.3", "1.x || >=3.0.0", "1.0.0 - 1.5.0". */
export function parseRange(text: string): Range {
  const trimmed = text.trim();
  if (trimmed === '') throw new RangeError('invalid semver range "": empty');
  const sets = trimmed.split('||').map((alt) => {
    const s = alt.trim();
    const hyphen = /^(\S+)\s+-\s+(\S+)$/.exec(s);
    if (hyphen) {
      const a = parsePartial(hyphen[1]!, text);
      const b = parsePartial(hyphen[2]!, text);
      return [...expand('>=', a), ...expand('<=', b)];
    }
    // "> = 1.0" style spacing: glue operators to the version that follows.
    const tokens = s.replace(/(<=|>=|<|>|=|~>?|\^)\s+/g, '$1').split(/\s+/).filter((t) => t !== '');
    if (tokens.length === 0) return [];
    return tokens.flatMap((tok) => {
      const m = /^(<=|>=|<|>|=|~>?|\^)?(.*)$/.exec(tok)!;
      const op = (m[1] ?? '').replace('~>', '~');
      return expand(op, parsePartial(m[2]!, text));
    });
  });
  return { sets, text: trimmed };
}

function test(c: Comparator, x: SemVer): boolean {
  const d = compareVersions(x, c.v);
  switch (c.op) {
    case '<': return d < 0;
    case '<=': return d <= 0;
    case '>': return d > 0;
    case '>=': return d >= 0;
    case '=': return d === 0;
  }
}

/**
 * Whether x is in the range. As in node-semver, a prerelease only matches when some comparator of the same set
 * names a prerelease of the same major.minor.patch, so ">=1.0.0" never picks "2.0.0-rc.1".
 */
export function satisfies(x: SemVer, range: Range): boolean {
  return range.sets.some((set) => {
    if (!set.every((c) => test(c, x))) return false;
    if (x.prerelease.length === 0) return true;
    return set.some((c) => !c.implicit && c.v.prerelease.length > 0 && c.v.major === x.major && c.v.minor === x.minor && c.v.patch === x.patch);
  });
}

/** The highest of the candidate names that parses as a version inside the range, or undefined. */
export function maxSatisfying(names: readonly string[], rangeText: string): string | undefined {
  const range = parseRange(rangeText);
  let best: { name: string; v: SemVer } | undefined;
  for (const name of names) {
    const ver = parseVersion(name);
    if (!ver || !satisfies(ver, range)) continue;
    if (!best || compareVersions(ver, best.v) > 0) best = { name, v: ver };
  }
  return best?.name;
}
