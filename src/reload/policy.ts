// Which configs trigger a workload, from its annotations, as stakater/Reloader decides it: a config triggers when it
// is not ignored and not excluded, and it is named in a list (referenced or not), or it is referenced and either
// search/match or auto (keelson.dev/auto, typed auto keys, --auto-reload-all) applies. Pure.

import { createHash } from 'node:crypto';
import { DURATION_FORM, parseDuration } from '../config/duration.js';
import { CONFIG, WORKLOAD, firstOf, hasTriggerAnnotation } from './annotations.js';
import { type NamePattern, compileNameList } from './name-patterns.js';
import type { ConfigKind } from './references.js';

export type { NamePattern } from './name-patterns.js';

/** An annotation value Keelson could not use; reported as a Warning event, the default applies. */
export interface Problem {
  readonly annotation: string;
  readonly value: string;
  readonly expected: string;
}

export interface TriggerPolicy {
  readonly auto: Readonly<Record<ConfigKind, boolean>>;
  readonly named: Readonly<Record<ConfigKind, readonly NamePattern[]>>;
  readonly exclude: Readonly<Record<ConfigKind, readonly NamePattern[]>>;
  readonly search: boolean;
  readonly debounceMs: number | undefined;
  /** True when some config could trigger this workload at all. */
  readonly active: boolean;
  /** Changes when the named lists change (a newly matching config is then not "created"). */
  readonly selection: string;
  readonly problems: readonly Problem[];
}

export type TriggerReason = 'named' | 'search' | 'auto';

const BOOL_FORM = '"true" or "false"';
const LIST_FORM = 'a comma-separated list of names or RE2 regular expressions (anchored as ^entry$)';
const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Go's strconv.ParseBool, as Reloader reads its annotations. */
export function parseBool(text: string): boolean | undefined {
  const s = text.trim();
  return TRUE.has(s) ? true : FALSE.has(s) ? false : undefined;
}

/**
 * "a, b ,web-.*": entries trimmed, empty ones dropped, each an RE2 expression anchored as Reloader anchors it
 * (see name-patterns.ts). An entry RE2 rejects, or over the caps, is a problem (Warning event) and matches nothing;
 * the other entries of the list still work.
 */
export function parseNameList(annotation: string, value: string, problems: Problem[]): NamePattern[] {
  const { patterns, rejected } = compileNameList(value);
  for (const r of rejected) problems.push({ annotation, value: r.entry, expected: `${LIST_FORM}: ${r.reason}` });
  return [...patterns];
}

export interface PolicyOptions { readonly autoReloadAll: boolean }

/**
 * Reads a workload's trigger annotations. Like Reloader, when the workload's own metadata has no trigger annotation
 * the pod template's annotations are read instead.
 */
export function parsePolicy(metadataAnnotations: Readonly<Record<string, string>> | undefined, templateAnnotations: Readonly<Record<string, string>> | undefined, opts: PolicyOptions): TriggerPolicy {
  const own = metadataAnnotations ?? {};
  const a = hasTriggerAnnotation(own) || !hasTriggerAnnotation(templateAnnotations) ? own : templateAnnotations ?? {};
  const problems: Problem[] = [];
  const bool = (keys: readonly string[]): boolean | undefined => {
    const hit = firstOf(a, keys);
    if (!hit) return undefined;
    const b = parseBool(hit[1]);
    if (b === undefined) problems.push({ annotation: hit[0], value: hit[1], expected: BOOL_FORM });
    return b;
  };
  const list = (keys: readonly string[]): NamePattern[] => {
    const hit = firstOf(a, keys);
    return hit ? parseNameList(hit[0], hit[1], problems) : [];
  };
  const auto = bool(WORKLOAD.auto);
  const typedCm = bool(WORKLOAD.autoConfigmaps);
  const typedSecret = bool(WORKLOAD.autoSecrets);
  const autoFor = (typed: boolean | undefined) => auto === true || typed === true || (auto === undefined && typed === undefined && opts.autoReloadAll);
  const named = { ConfigMap: list(WORKLOAD.configmaps), Secret: list(WORKLOAD.secrets) };
  const exclude = { ConfigMap: list(WORKLOAD.excludeConfigmaps), Secret: list(WORKLOAD.excludeSecrets) };
  const search = bool(WORKLOAD.search) === true;
  let debounceMs: number | undefined;
  const d = firstOf(own, WORKLOAD.debounce) ?? firstOf(a, WORKLOAD.debounce);
  if (d) {
    debounceMs = parseDuration(d[1]);
    if (debounceMs === undefined) problems.push({ annotation: d[0], value: d[1], expected: DURATION_FORM });
  }
  const autoKinds = { ConfigMap: autoFor(typedCm), Secret: autoFor(typedSecret) };
  const selection = createHash('sha256')
    .update(JSON.stringify([named.ConfigMap.map((p) => p.source), named.Secret.map((p) => p.source)]))
    .digest('hex').slice(0, 12);
  return {
    auto: autoKinds, named, exclude, search, debounceMs, selection, problems,
    active: autoKinds.ConfigMap || autoKinds.Secret || search || named.ConfigMap.length > 0 || named.Secret.length > 0,
  };
}

/** What the policy needs to know about one candidate config. */
export interface Candidate {
  readonly kind: ConfigKind;
  readonly name: string;
  readonly referenced: boolean;
  /** The config's annotations that matter, or undefined when it does not exist (or is out of scope). */
  readonly annotations: Readonly<Record<string, string>> | undefined;
  /** It was a trigger at the last recorded baseline (decides search/match for a config that is now gone). */
  readonly wasTrigger: boolean;
}

export function isIgnored(configAnnotations: Readonly<Record<string, string>> | undefined): boolean {
  const hit = configAnnotations && firstOf(configAnnotations, CONFIG.ignore);
  return !!hit && parseBool(hit[1]) === true;
}

export function isMatch(configAnnotations: Readonly<Record<string, string>> | undefined): boolean {
  const hit = configAnnotations && firstOf(configAnnotations, CONFIG.match);
  return !!hit && parseBool(hit[1]) === true;
}

const matches = (patterns: readonly NamePattern[], name: string) => patterns.some((p) => p.matches(name));

/** Why this config triggers the workload, or undefined when it does not. */
export function triggerReason(policy: TriggerPolicy, c: Candidate): TriggerReason | undefined {
  if (isIgnored(c.annotations)) return undefined;
  if (matches(policy.exclude[c.kind], c.name)) return undefined;
  if (matches(policy.named[c.kind], c.name)) return 'named';
  if (!c.referenced) return undefined;
  if (policy.search && (c.annotations ? isMatch(c.annotations) : c.wasTrigger)) return 'search';
  if (policy.auto[c.kind]) return 'auto';
  return undefined;
}

/** Plain names from the named lists: triggers that are tracked even while they do not exist. */
export function literalNames(policy: TriggerPolicy, kind: ConfigKind): string[] {
  return policy.named[kind].filter((p) => p.literal).map((p) => p.source);
}

/** True when some named entry is a real regular expression (a config event must then look at the namespace). */
export function hasPatterns(policy: TriggerPolicy, kind: ConfigKind): boolean {
  return policy.named[kind].some((p) => !p.literal);
}

export function describeProblem(p: Problem): string {
  return `annotation ${p.annotation}: "${p.value}" is not valid; expected ${p.expected}. ${p.expected.startsWith(LIST_FORM) ? 'That entry is ignored.' : 'Using the default.'}`;
}
