// Whose rights a GitSync's content is applied with. A GitSync names a ServiceAccount of its own namespace (else the
// controller's --default-service-account applies); only a GitSync in the controller namespace, where only
// administrators create objects, may fall back to Keelson's own identity. Anything else writes nothing. Pure.

import { serviceAccountUser } from '../kube/client.js';
import { errorText } from '../kube/errors.js';

export type Identity =
  /** Requests impersonate this ServiceAccount of the GitSync's namespace. */
  | { readonly kind: 'serviceAccount'; readonly namespace: string; readonly name: string; readonly user: string; readonly from: 'spec' | 'default' }
  /** Requests use Keelson's own identity (a GitSync in the controller namespace that names no ServiceAccount). */
  | { readonly kind: 'controller' }
  /** Nothing may be applied; the message says how to fix it. */
  | { readonly kind: 'refused'; readonly message: string };

export interface IdentityInput {
  /** What the object is, for messages; default GitSync (an ImagePolicy's registry Secret follows the same rule). */
  readonly kind?: string;
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
  if (gs.kind !== undefined && gs.kind !== 'GitSync') {
    return {
      kind: 'refused',
      message: `${gs.kind} ${gs.namespace}/${gs.name} names a Secret but no ServiceAccount, and the controller has no --default-service-account, so the Secret is not read: `
        + `set spec.serviceAccountName to a ServiceAccount in namespace ${gs.namespace} that may get that Secret, or start Keelson with --default-service-account. `
        + `Only objects in the controller namespace ${policy.controllerNamespace} read Secrets with Keelson's own identity.`,
    };
  }
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

/**
 * Why a Secret an object names could not be read with the object's identity, and the fix. Keelson never falls back
 * to its own rights here: that would send a Secret the tenant cannot read to a host the tenant chose (the confused
 * deputy). Names the Secret, the field, the identity and the Role rule; never a value.
 */
export function secretForbiddenMessage(id: Identity, namespace: string, name: string, field: string, err: unknown): string {
  const what = `Secret ${namespace}/${name} (${field})`;
  if (isImpersonationRefusal(errorText(err))) {
    return `${what} was not read: Keelson may not impersonate ${identityName(id)}; Keelson's ClusterRole needs the impersonate verb on serviceaccounts (manifests/clusterrole.yaml)`;
  }
  if (id.kind !== 'serviceAccount') return `Keelson's own identity may not read ${what}: Keelson's ClusterRole needs get on secrets (manifests/clusterrole.yaml), or set spec.serviceAccountName`;
  return `${identityName(id)} may not read ${what}, and Keelson reads the Secrets an object names with that object's identity, never its own: `
    + `grant it with a Role in namespace ${namespace} bound to that ServiceAccount, with the rule `
    + `{apiGroups: [""], resources: [secrets], verbs: [get], resourceNames: [${name}]}`;
}
