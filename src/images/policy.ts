// The tag choice of an ImagePolicy: filterTags (RE2 pattern, optional `$name` extraction, Flux's semantics) then one
// of semver / alphabetical / numerical. Validation turns a spec into a compiled policy or a message naming the
// field to fix; selection is a pure function of the tag list. Patterns are RE2 (re2js): linear-time matching.

import { RE2JS } from 're2js';
import semver from 'semver';
import { errorText } from '../kube/errors.js';
import { compareCodePoints } from '../kube/order.js';

export type Order = 'asc' | 'desc';

export type PolicySpec =
  | { readonly kind: 'semver'; readonly range: string }
  | { readonly kind: 'alphabetical'; readonly order: Order }
  | { readonly kind: 'numerical'; readonly order: Order };

export interface CompiledFilter {
  readonly pattern: string;
  /** Returns the value to order by (the extraction, or the tag itself), or undefined when the tag is filtered out. */
  readonly apply: (tag: string) => string | undefined;
}

export interface CompiledPolicy {
  readonly policy: PolicySpec;
  readonly filter: CompiledFilter | undefined;
  /** The semver range, parsed once (not once per tag). */
  readonly range?: semver.Range;
}

export class PolicyError extends Error {
  override readonly name = 'PolicyError';
}

export const MAX_PATTERN_LENGTH = 512;
export const MAX_PROGRAM_SIZE = 2000;
export const MAX_RANGE_LENGTH = 256;
export const MAX_EXTRACT_LENGTH = 256;

/**
 * Go's Regexp.Expand: `$name` / `${name}` (name: letters, digits, '_'; `$1x` means group "1x"), `$$` is '$', an
 * unknown group is empty. Written as one left-to-right pass.
 */
export function expandTemplate(template: string, group: (name: string) => string | undefined): string {
  let out = '';
  let i = 0;
  const n = template.length;
  const isName = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
  // The next '}' is looked up only when the previous one is behind us, so "${${${..." stays linear.
  let close = -2;
  while (i < n) {
    const dollar = template.indexOf('$', i);
    if (dollar < 0) { out += template.slice(i); break; }
    out += template.slice(i, dollar);
    i = dollar + 1;
    if (i >= n) { out += '$'; break; }
    if (template.charCodeAt(i) === 36) { out += '$'; i++; continue; }
    let name: string;
    if (template.charCodeAt(i) === 123) {
      if (close !== -1 && close <= i) close = template.indexOf('}', i + 1);
      const inner = close < 0 ? '' : template.slice(i + 1, close);
      let ok = close >= 0 && inner.length > 0;
      for (let k = 0; ok && k < inner.length; k++) ok = isName(inner.charCodeAt(k));
      if (!ok) { out += '$'; continue; } // not a reference: the '$' is literal, as in Go
      name = inner;
      i = close + 1;
    } else {
      const start = i;
      while (i < n && isName(template.charCodeAt(i))) i++;
      if (i === start) { out += '$'; continue; }
      name = template.slice(start, i);
    }
    out += group(name) ?? '';
  }
  return out;
}

/** Compiles `spec.filterTags`; throws PolicyError naming the problem. */
export function compileFilter(spec: { pattern?: unknown; extract?: unknown } | undefined): CompiledFilter | undefined {
  if (spec === undefined || spec === null) return undefined;
  const pattern = spec.pattern ?? '';
  const extract = spec.extract ?? '';
  if (typeof pattern !== 'string' || typeof extract !== 'string') throw new PolicyError('spec.filterTags.pattern and .extract must be strings');
  if (pattern.length > MAX_PATTERN_LENGTH) throw new PolicyError(`spec.filterTags.pattern is longer than ${MAX_PATTERN_LENGTH} characters`);
  if (extract.length > MAX_EXTRACT_LENGTH) throw new PolicyError(`spec.filterTags.extract is longer than ${MAX_EXTRACT_LENGTH} characters`);
  if (pattern === '' && extract === '') return undefined;
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch (err) {
    const line = (errorText(err)).split('\n', 1)[0]!.slice(0, 160);
    throw new PolicyError(`spec.filterTags.pattern is not an RE2 expression: ${line}`);
  }
  if (re.programSize() > MAX_PROGRAM_SIZE) throw new PolicyError(`spec.filterTags.pattern is too complex (more than ${MAX_PROGRAM_SIZE} RE2 instructions)`);
  const named = re.namedGroups();
  const groups = re.groupCount();
  return {
    pattern,
    apply: (tag) => {
      const m = re.matcher(tag);
      if (!m.find()) return undefined;
      if (extract === '') return tag;
      return expandTemplate(extract, (name) => {
        if (/^\d+$/.test(name)) { const k = Number(name); return k <= groups ? m.group(k) ?? '' : undefined; }
        return name in named ? m.group(name) ?? '' : undefined;
      });
    },
  };
}

const orderOf = (v: unknown, field: string): Order => {
  if (v === undefined || v === null || v === '') return 'asc';
  if (v === 'asc' || v === 'desc') return v;
  throw new PolicyError(`${field} must be asc or desc`);
};

/** Validates `spec.policy` (exactly one of semver, alphabetical, numerical). */
export function compilePolicy(policy: unknown, filterTags: unknown): CompiledPolicy {
  if (!policy || typeof policy !== 'object') throw new PolicyError('spec.policy is required: one of semver {range}, alphabetical {order} or numerical {order}');
  const p = policy as Record<string, unknown>;
  const kinds = ['semver', 'alphabetical', 'numerical'].filter((k) => p[k] !== undefined && p[k] !== null);
  if (kinds.length !== 1) throw new PolicyError(`spec.policy must set exactly one of semver, alphabetical or numerical (found ${kinds.length === 0 ? 'none' : kinds.join(', ')})`);
  const body = (p[kinds[0]!] ?? {}) as Record<string, unknown>;
  let spec: PolicySpec;
  if (kinds[0] === 'semver') {
    const range = body.range;
    if (typeof range !== 'string' || range.trim() === '') throw new PolicyError('spec.policy.semver.range is required, e.g. ">=1.0.0 <2.0.0"');
    if (range.length > MAX_RANGE_LENGTH) throw new PolicyError(`spec.policy.semver.range is longer than ${MAX_RANGE_LENGTH} characters`);
    if (semver.validRange(range) === null) throw new PolicyError(`spec.policy.semver.range "${range}" is not a semver range (e.g. ">=1.0.0 <2.0.0", "^1.2", "~1.2.3")`);
    spec = { kind: 'semver', range };
  } else {
    spec = { kind: kinds[0] as 'alphabetical' | 'numerical', order: orderOf(body.order, `spec.policy.${kinds[0]}.order`) };
  }
  const filter = compileFilter(filterTags as { pattern?: unknown; extract?: unknown } | undefined);
  return spec.kind === 'semver' ? { policy: spec, filter, range: new semver.Range(spec.range) } : { policy: spec, filter };
}

/** Strict decimal number (Flux parses with ParseFloat): digits, one '.', optional sign; undefined otherwise. */
export function parseNumber(text: string): number | undefined {
  if (text.length === 0 || text.length > 64) return undefined;
  let i = text[0] === '-' || text[0] === '+' ? 1 : 0;
  let digits = 0;
  let dots = 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) { if (++dots > 1) return undefined; } else if (c >= 48 && c <= 57) digits++; else return undefined;
  }
  if (digits === 0) return undefined;
  const v = Number(text);
  return Number.isFinite(v) ? v : undefined;
}

export { compareCodePoints };

/**
 * The tag a policy selects from `tags`, or undefined when none qualifies. Ties (two tags ordering equal, e.g. `v1.0.0`
 * and `1.0.0`, or `1.0` and `1.00`) go to the tag that is last in code-point order, so the result never depends on
 * the registry's listing order.
 */
export function selectTag(compiled: CompiledPolicy, tags: readonly string[]): string | undefined {
  const { policy, filter } = compiled;
  const range = compiled.range ?? (policy.kind === 'semver' ? new semver.Range(policy.range) : undefined);
  let best: { tag: string; key: string | number | semver.SemVer } | undefined;
  for (const tag of tags) {
    const value = filter ? filter.apply(tag) : tag;
    if (value === undefined) continue;
    let key: string | number | semver.SemVer;
    if (policy.kind === 'semver') {
      const v = value.length <= 256 ? semver.parse(value) : null;
      if (v === null || !range!.test(v)) continue;
      key = v;
    } else if (policy.kind === 'numerical') {
      const v = parseNumber(value);
      if (v === undefined) continue;
      key = v;
    } else {
      key = value;
    }
    if (best === undefined) { best = { tag, key }; continue; }
    let cmp: number;
    if (policy.kind === 'semver') cmp = semver.compare(key as semver.SemVer, best.key as semver.SemVer);
    else if (policy.kind === 'numerical') cmp = Math.sign((key as number) - (best.key as number));
    else cmp = compareCodePoints(key as string, best.key as string);
    if (policy.kind !== 'semver' && policy.order === 'desc') cmp = -cmp;
    if (cmp > 0 || (cmp === 0 && compareCodePoints(tag, best.tag) > 0)) best = { tag, key };
  }
  return best?.tag;
}

/**
 * selectTag over batches, yielding between them, so 10,000 tags through an RE2 extraction never hold the event loop
 * for long. The same result as selectTag: the choice is a maximum under a total order (ties broken by tag), and the
 * maximum of the batches' maxima is the maximum.
 */
export async function selectTagInBatches(compiled: CompiledPolicy, tags: readonly string[], batch = 500, pause: () => Promise<void> = () => new Promise((r) => setImmediate(r))): Promise<string | undefined> {
  if (tags.length <= batch) return selectTag(compiled, tags);
  const winners: string[] = [];
  for (let i = 0; i < tags.length; i += batch) {
    const w = selectTag(compiled, tags.slice(i, i + batch));
    if (w !== undefined) winners.push(w);
    await pause();
  }
  return selectTag(compiled, winners);
}
