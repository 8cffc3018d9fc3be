// Whether a live object differs from what applying Git would make of it. The comparison is between the live
// object and the server's dry-run result of the apply (so defaulting, admission and other managers' fields are
// all accounted for by the API server itself): only fields keelson-sync sets can differ. Pure.

import type { KubeObject } from '../kube/types.js';
import { canonicalJson } from '../kube/canonical-json.js';

/** Metadata the API server changes on every write, or that says nothing about content. */
const VOLATILE_METADATA = ['managedFields', 'resourceVersion', 'generation', 'creationTimestamp', 'uid', 'selfLink'];

/** The object without server bookkeeping, for comparison and display. */
export function comparable(obj: KubeObject): KubeObject {
  const metadata: Record<string, unknown> = { ...obj.metadata };
  for (const k of VOLATILE_METADATA) delete metadata[k];
  const out: KubeObject = { ...obj, metadata: metadata as KubeObject['metadata'] };
  delete out.status;
  return out;
}

/** Canonical JSON: sorted keys, so key order never counts as a difference (one copy, in kube/). */
export const canonical = canonicalJson;

/** True when applying would change the live object. */
export function differs(live: KubeObject, dryRun: KubeObject): boolean {
  return canonical(comparable(live)) !== canonical(comparable(dryRun));
}
