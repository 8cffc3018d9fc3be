// A line diff for `keelson diff` (jsdiff's Myers diff, unified-style output with context), and Secret masking so
// values never reach a terminal. Pure.

import { diffArrays } from 'diff';
import type { KubeObject } from '../kube/types.js';

/**
 * Myers is O((n+m)·D) for D edits: past MAX_EDITS (or the timeout) the object is shown whole, removed then added,
 * which is what a diff that large reads like anyway.
 */
const MAX_EDITS = 1000;
const DIFF_TIMEOUT_MS = 2000;

/** Lines prefixed "  ", "- " or "+ "; unchanged runs longer than 2×context are elided with "…". */
export function lineDiff(before: string, after: string, context = 3): string[] {
  const a = before === '' ? [] : before.replace(/\n$/, '').split('\n');
  const b = after === '' ? [] : after.replace(/\n$/, '').split('\n');
  const changes = diffArrays(a, b, { maxEditLength: MAX_EDITS, timeout: DIFF_TIMEOUT_MS }) ?? [{ value: a, removed: true, added: false }, { value: b, added: true, removed: false }];
  const ops: { t: ' ' | '-' | '+'; s: string }[] = [];
  for (const c of changes) {
    const t = c.added ? '+' : c.removed ? '-' : ' ';
    for (const s of c.value) ops.push({ t, s });
  }
  const near = ops.map((_, k) => ops.slice(Math.max(0, k - context), k + context + 1).some((o) => o.t !== ' '));
  const out: string[] = [];
  let elided = false;
  ops.forEach((o, k) => {
    if (o.t !== ' ' || near[k]) { out.push(`${o.t} ${o.s}`); elided = false; }
    else if (!elided) { out.push('  …'); elided = true; }
  });
  return out;
}

/** Secrets with data values replaced: equal values by "***", differing ones by "*** (before)" / "*** (after)". */
export function maskSecrets(live: KubeObject | undefined, desired: KubeObject | undefined): [KubeObject | undefined, KubeObject | undefined] {
  const isSecret = (o: KubeObject | undefined) => o !== undefined && o.kind === 'Secret' && (o.apiVersion === 'v1' || o.apiVersion === undefined);
  if (!isSecret(live) && !isSecret(desired)) return [live, desired];
  const mask = (o: KubeObject | undefined, other: KubeObject | undefined, label: string): KubeObject | undefined => {
    if (!o) return o;
    const out: KubeObject = { ...o };
    for (const field of ['data', 'stringData']) {
      const values = o[field] as Record<string, string> | undefined;
      if (!values) continue;
      const theirs = (other?.[field] ?? {}) as Record<string, string>;
      out[field] = Object.fromEntries(Object.keys(values).map((k) => [k, theirs[k] === values[k] ? '***' : `*** (${label})`]));
    }
    const ann = o.metadata.annotations;
    if (ann?.['kubectl.kubernetes.io/last-applied-configuration']) {
      out.metadata = { ...o.metadata, annotations: { ...ann, 'kubectl.kubernetes.io/last-applied-configuration': '***' } };
    }
    return out;
  };
  return [mask(live, desired, 'before'), mask(desired, live, 'after')];
}
