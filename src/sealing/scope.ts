// Sealing scope: which names a sealed value is bound to. The scope comes from the SealedSecret's own annotations
// (cluster-wide wins over namespace-wide; the value must be exactly "true"), and becomes the RSA-OAEP label.

export type Scope = 'strict' | 'namespace-wide' | 'cluster-wide';
export const SCOPES: readonly Scope[] = ['strict', 'namespace-wide', 'cluster-wide'];

export const ANNOTATION_CLUSTER_WIDE = 'sealedsecrets.bitnami.com/cluster-wide';
export const ANNOTATION_NAMESPACE_WIDE = 'sealedsecrets.bitnami.com/namespace-wide';

export function scopeFromAnnotations(annotations: Readonly<Record<string, string>> | undefined): Scope {
  if (annotations?.[ANNOTATION_CLUSTER_WIDE] === 'true') return 'cluster-wide';
  if (annotations?.[ANNOTATION_NAMESPACE_WIDE] === 'true') return 'namespace-wide';
  return 'strict';
}

/** The annotations that make a SealedSecret carry this scope (strict needs none). */
export function scopeAnnotations(scope: Scope): Record<string, string> {
  if (scope === 'cluster-wide') return { [ANNOTATION_CLUSTER_WIDE]: 'true' };
  if (scope === 'namespace-wide') return { [ANNOTATION_NAMESPACE_WIDE]: 'true' };
  return {};
}

/** The RSA-OAEP label: "<namespace>/<name>", "<namespace>" or empty. */
export function labelFor(scope: Scope, namespace: string, name: string): Buffer {
  if (scope === 'cluster-wide') return Buffer.alloc(0);
  if (scope === 'namespace-wide') return Buffer.from(namespace, 'utf8');
  return Buffer.from(`${namespace}/${name}`, 'utf8');
}

export function isScope(s: string): s is Scope {
  return (SCOPES as readonly string[]).includes(s);
}
