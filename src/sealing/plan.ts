// What to do with the Secret a SealedSecret stands for, given what exists now. Pure: the unsealer reads the cluster,
// asks this, and performs the answer. Comparing the merged result with the existing Secret is what makes restarts
// and repeated events write nothing.

import { ANNOTATION_MANAGED, ANNOTATION_PATCH, SEALEDSECRET_KIND, type SealedSecret, type Secret } from './sealed-secret.js';
import { sameJson } from '../kube/canonical-json.js';

export type Plan =
  | { readonly kind: 'create'; readonly secret: Secret }
  | { readonly kind: 'update'; readonly secret: Secret }
  /** type or immutability cannot change in place: delete the old Secret (by uid) and create this one. */
  | { readonly kind: 'recreate'; readonly secret: Secret; readonly oldUid: string }
  | { readonly kind: 'unchanged' }
  | { readonly kind: 'refused'; readonly message: string };

type Mode = 'owned' | 'managed' | 'patch' | 'foreign';

function modeOf(ss: SealedSecret, existing: Secret): Mode {
  const refs = existing.metadata.ownerReferences ?? [];
  if (refs.some((r) => r.controller && r.kind === SEALEDSECRET_KIND && r.uid === ss.metadata.uid)) return 'owned';
  const ann = existing.metadata.annotations ?? {};
  if (ann[ANNOTATION_MANAGED] === 'true') return 'managed';
  if (ann[ANNOTATION_PATCH] === 'true') return 'patch';
  return 'foreign';
}

const same = sameJson;

const emptyToUndefined = (o: Record<string, string> | undefined): Record<string, string> | undefined => (o && Object.keys(o).length > 0 ? o : undefined);

/**
 * `desired` comes from desiredSecret(). When owner references are skipped, the Secret is marked managed instead,
 * so the next reconcile still recognises it as this SealedSecret's.
 */
export function planSecret(ss: SealedSecret, desired: Secret, existing: Secret | undefined): Plan {
  const skipOwner = !desired.metadata.ownerReferences;
  const mark: Record<string, string> = skipOwner ? { [ANNOTATION_MANAGED]: 'true' } : {};
  if (!existing) {
    return { kind: 'create', secret: { ...desired, metadata: { ...desired.metadata, annotations: emptyToUndefined({ ...desired.metadata.annotations, ...mark }) } } };
  }
  const mode = modeOf(ss, existing);
  const ref = `Secret ${existing.metadata.namespace}/${existing.metadata.name}`;
  if (mode === 'foreign') {
    return { kind: 'refused', message: `${ref} already exists and is not managed by this SealedSecret; annotate it ${ANNOTATION_MANAGED}="true" to let the SealedSecret take it over (or ${ANNOTATION_PATCH}="true" to merge into it), or delete it` };
  }
  const patch = mode === 'patch';
  const ownerRefs = (existing.metadata.ownerReferences ?? []).filter((r) => !(r.controller && r.kind === SEALEDSECRET_KIND && r.name === ss.metadata.name));
  if (!patch && desired.metadata.ownerReferences) ownerRefs.push(...desired.metadata.ownerReferences);
  else if (patch) ownerRefs.splice(0, ownerRefs.length, ...(existing.metadata.ownerReferences ?? []));
  const merged: Secret = {
    ...existing,
    metadata: {
      ...existing.metadata,
      labels: emptyToUndefined({ ...existing.metadata.labels, ...desired.metadata.labels }),
      annotations: emptyToUndefined({ ...existing.metadata.annotations, ...desired.metadata.annotations, ...(patch ? {} : mark) }),
      ownerReferences: ownerRefs.length ? ownerRefs : undefined,
    },
    type: patch ? existing.type : desired.type,
    data: patch ? { ...existing.data, ...desired.data } : { ...desired.data },
  };
  if (!patch && desired.immutable !== undefined) merged.immutable = desired.immutable;
  delete merged.stringData;
  delete merged.metadata.managedFields; // omitted on update: the server keeps the field ownership it has
  const unchanged = same(merged.data ?? {}, existing.data ?? {}) && (merged.type ?? 'Opaque') === (existing.type ?? 'Opaque')
    && merged.immutable === existing.immutable && same(merged.metadata.labels ?? {}, existing.metadata.labels ?? {})
    && same(merged.metadata.annotations ?? {}, existing.metadata.annotations ?? {}) && same(merged.metadata.ownerReferences ?? [], existing.metadata.ownerReferences ?? []);
  if (unchanged) return { kind: 'unchanged' };
  const mustRecreate = existing.immutable === true || (merged.type ?? 'Opaque') !== (existing.type ?? 'Opaque');
  if (mustRecreate) {
    if (patch) return { kind: 'refused', message: `${ref} is immutable or has another type; a patched Secret cannot be replaced: delete it or drop ${ANNOTATION_PATCH}` };
    const fresh: Secret = { ...merged, metadata: { ...merged.metadata } };
    for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'managedFields', 'selfLink', 'generation'] as const) delete fresh.metadata[k];
    return { kind: 'recreate', secret: fresh, oldUid: existing.metadata.uid ?? '' };
  }
  return { kind: 'update', secret: merged };
}
