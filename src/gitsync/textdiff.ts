// A line diff for `keelson diff` (LCS, unified-style output with context), and Secret masking so values never
// reach a terminal. Pure.

import type { KubeObject } from '../kube/types.js';

/** Lines prefixed "  ", "- " or "+ "; unchanged runs longer than 2×context are elided with "…". */
export function lineDiff(before: string, after: string, context = 3): string[] {
  const a = before === '' ? [] : before.replace(/\n$/, '').split('\n');
  const b = after === '' ? [] : after.replace(/\n$/, '').split('\n');
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const ops: { t: ' ' | '-' | '+'; s: string }[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) { ops.push({ t: ' ', s: a[i]! }); i++; j++; }
    else if (i < n && (j >= m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) { ops.push({ t: '-', s: a[i]! }); i++; }
    else { ops.push({ t: '+', s: b[j]! }); j++; }
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
