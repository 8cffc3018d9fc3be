// Name lists of the reload annotations ("a, b ,web-.*"), compiled with RE2 semantics (re2js: linear-time matching,
// no backreferences or lookaround) so that a tenant's annotation cannot cost more than a few microseconds per name.
// Bounded in entries, pattern length and program size; compiled once per annotation value (bounded LRU). Pure.

import { LRUCache } from 'lru-cache';
import { RE2JS } from 're2js';
import { errorText } from '../kube/errors.js';

/** A Kubernetes object name is at most 253 characters: a longer pattern has no use. */
export const MAX_PATTERN_LENGTH = 253;
/** Entries per annotation value; the rest are ignored with a warning. */
export const MAX_ENTRIES = 64;
/**
 * Compiled program size per entry and per list. RE2 already rejects repeat counts over 1000; this also bounds what
 * 253 characters can expand to (`[a-z]{999}`, nested counted groups). Matching costs about name length × program
 * size (a few ns each), so one name against a whole list stays around a millisecond at worst; realistic lists
 * (names, `prefix-.*`) are a few dozen instructions.
 */
export const MAX_PROGRAM_SIZE = 600;
export const MAX_LIST_PROGRAM_SIZE = 2000;
/** The cache holds at most this many values and this many characters of them (annotation values can be 256 KiB). */
const CACHE_ENTRIES = 1000;
const CACHE_CHARS = 2_000_000;

export interface NamePattern {
  readonly source: string;
  /** RE2 program size (instructions). */
  readonly size: number;
  /** A plain name (no regex syntax but '.'): it names one config even while that config does not exist. */
  readonly literal: boolean;
  readonly matches: (name: string) => boolean;
}

/** One entry Keelson could not use, with the reason in words (never more than the entry itself). */
export interface RejectedEntry { readonly entry: string; readonly reason: string }

export interface CompiledList {
  readonly patterns: readonly NamePattern[];
  readonly rejected: readonly RejectedEntry[];
}

/** Characters of a Kubernetes name; such an entry is a plain name (with '.' still a wildcard, as in Reloader). */
function isLiteral(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ok = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46 || c === 95;
    if (!ok) return false;
  }
  return s.length > 0;
}

/** Keeps only the first line of re2js's message, shortened: the entry is quoted by the caller. */
function reasonOf(err: unknown): string {
  const text = errorText(err);
  const line = text.split('\n', 1)[0]!.replace(/^error parsing regexp: /, '');
  return line.length > 120 ? `${line.slice(0, 117)}...` : line;
}

/**
 * Reloader anchors each trimmed entry by concatenation, "^" + entry + "$", and matches with Go's regexp
 * (stakater/Reloader internal/pkg/reload/matcher.go matchesExplicitAnnotation: regexp.Compile("^" + value + "$"),
 * then re.MatchString(resourceName); internal/pkg/handler/upgrade.go PerformAction did the same with MustCompile).
 * So "a|b" means "^a|b$" (starts with a, or ends with b), exactly as there. Go's regexp is RE2; so is re2js.
 */
export function compileEntry(entry: string): NamePattern | RejectedEntry {
  if (entry.length > MAX_PATTERN_LENGTH) return { entry: `${entry.slice(0, 40)}...`, reason: `longer than ${MAX_PATTERN_LENGTH} characters` };
  let re: RE2JS;
  try {
    re = RE2JS.compile(`^${entry}$`);
  } catch (err) {
    return { entry, reason: reasonOf(err) };
  }
  if (re.programSize() > MAX_PROGRAM_SIZE) return { entry, reason: `too complex (more than ${MAX_PROGRAM_SIZE} RE2 instructions)` };
  return { source: entry, literal: isLiteral(entry), size: re.programSize(), matches: (name) => re.test(name) };
}

function compileUncached(value: string): CompiledList {
  const patterns: NamePattern[] = [];
  const rejected: RejectedEntry[] = [];
  let count = 0;
  let skipped = 0;
  let size = 0;
  // split(',') is linear; the value itself is bounded by the API server (256 KiB of annotations per object).
  for (const raw of value.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    if (++count > MAX_ENTRIES) { skipped++; continue; }
    const r = compileEntry(entry);
    if (!('matches' in r)) { rejected.push(r); continue; }
    if (size + r.size > MAX_LIST_PROGRAM_SIZE) { rejected.push({ entry, reason: `the list is too complex (more than ${MAX_LIST_PROGRAM_SIZE} RE2 instructions in all)` }); continue; }
    size += r.size;
    patterns.push(memoised(r));
  }
  if (skipped > 0) rejected.push({ entry: `${skipped} more`, reason: `only the first ${MAX_ENTRIES} entries are used` });
  return { patterns, rejected };
}

/** Match results by entry and name: reconciles repeat the same names of a namespace against the same entries. */
const results = new LRUCache<string, boolean>({ max: 20_000 });

function memoised(p: NamePattern): NamePattern {
  if (p.literal && !p.source.includes('.')) return { ...p, matches: (name) => name === p.source };
  return {
    ...p,
    matches: (name) => {
      const k = `${p.source.length}:${p.source}\u0000${name}`;
      let hit = results.get(k);
      if (hit === undefined) { hit = p.matches(name); results.set(k, hit); }
      return hit;
    },
  };
}

const cache = new LRUCache<string, CompiledList>({
  max: CACHE_ENTRIES, maxSize: CACHE_CHARS,
  // A compiled entry weighs far more than its text: count each as 100 characters besides the value itself.
  sizeCalculation: (list, value) => value.length + 1 + 100 * (list.patterns.length + list.rejected.length),
});

/** The compiled list of one annotation value; the same value is compiled once (workload records and reconciles share it). */
export function compileNameList(value: string): CompiledList {
  let hit = cache.get(value);
  if (!hit) { hit = compileUncached(value); cache.set(value, hit); }
  return hit;
}
