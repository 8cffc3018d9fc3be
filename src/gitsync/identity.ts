// Whose rights a GitSync's content is applied with. A GitSync names a ServiceAccount of its own namespace (else the
// controller's --default-service-account applies); only a GitSync in the controller namespace, where only
// administrators create objects, may fall back to Keelson's own identity. Anything else writes nothing. Pure.

import { serviceAccountUser } from '../kube/client.js';

export type Identity =
  /** Requests impersonate this ServiceAccount of the GitSync's namespace. */
  | { readonly kind: 'serviceAccount'; readonly namespace: string; readonly name: string; readonly user: string; readonly from: 'spec' | 'default' }
  /** Requests use Keelson's own identity (a GitSync in the controller namespace that names no ServiceAccount). */
  | { readonly kind: 'controller' }
  /** Nothing may be applied; the message says how to fix it. */
  | { readonly kind: 'refused'; readonly message: string };

export interface IdentityInput {
  /** The GitSync's namespace: a ServiceAccount is always looked up there, never elsewhere. */
  readonly namespace: string;
  readonly name: string;
  readonly serviceAccountName: string | undefined;
}

export interface IdentityPolicy {
  readonly controllerNamespace: string;
  readonly defaultServiceAccount: string | undefined;
}

/** The identity for a GitSync under the controller's policy. */
export function identityFor(gs: IdentityInput, policy: IdentityPolicy): Identity {
  const sa = gs.serviceAccountName || undefined;
  if (sa) return { kind: 'serviceAccount', namespace: gs.namespace, name: sa, user: serviceAccountUser(gs.namespace, sa), from: 'spec' };
  const fallback = policy.defaultServiceAccount || undefined;
  if (fallback) return { kind: 'serviceAccount', namespace: gs.namespace, name: fallback, user: serviceAccountUser(gs.namespace, fallback), from: 'default' };
  if (gs.namespace === policy.controllerNamespace) return { kind: 'controller' };
  return {
    kind: 'refused',
    message: `GitSync ${gs.namespace}/${gs.name} names no ServiceAccount and the controller has no --default-service-account, so nothing is applied: `
      + `set spec.serviceAccountName to a ServiceAccount in namespace ${gs.namespace} whose RBAC allows what the repository holds `
      + `(for example one bound to the "edit" ClusterRole there), or start Keelson with --default-service-account. `
      + `Only GitSyncs in the controller namespace ${policy.controllerNamespace} apply with Keelson's own identity.`,
  };
}

/** How an identity is named in messages: "ServiceAccount team-a/deployer" or "Keelson's own ServiceAccount". */
export function identityName(id: Identity): string {
  return id.kind === 'serviceAccount' ? `ServiceAccount ${id.namespace}/${id.name}` : "Keelson's own identity";
}

/**
 * The verb an API "forbidden" message names ('... cannot patch resource "deployments" ...'), if any. The message
 * comes from the API server, but is scanned with plain string search (no regex), in bounded time.
 */
export function forbiddenVerb(message: string): string | undefined {
  const text = message.slice(0, 4096);
  const at = text.indexOf(' cannot ');
  if (at < 0) return undefined;
  const rest = text.slice(at + 8);
  const end = rest.indexOf(' ');
  const verb = end < 0 ? rest : rest.slice(0, end);
  return /^[a-z]{1,32}$/.test(verb) ? verb : undefined;
}

/** Whether a forbidden message is about impersonation itself (Keelson may not act as the ServiceAccount). */
export function isImpersonationRefusal(message: string): boolean {
  return forbiddenVerb(message) === 'impersonate';
}

/** The fix to suggest when the identity may not do what the revision asks. */
export function forbiddenHint(id: Identity): string {
  if (id.kind === 'serviceAccount') return `grant ${identityName(id)} that right (a Role and RoleBinding, or a ClusterRoleBinding for cluster-scoped objects), or remove the object from the repository`;
  return 'GitSyncs in the controller namespace apply with Keelson\'s own rights: bind more with manifests/optional/gitsync-apply.yaml (or a narrower binding), or set spec.serviceAccountName';
}
