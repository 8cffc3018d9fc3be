// Which workload kinds reload watches, and as which resource: the kinds not turned off by --ignored-workload-types
// (Rollouts only with --argo-rollouts), CronJob as batch/v1 or, on clusters before 1.21, batch/v1beta1, chosen by
// discovery once at start. A kind the cluster does not serve is logged with the fix and left out, and so is one of
// the kinds added in v0.2 that Keelson may not list (a SelfSubjectAccessReview), so that RBAC written for an older
// Keelson keeps reload working for the other kinds after an upgrade.

import type { Options } from '../config/options.js';
import { Discovery } from '../gitsync/discovery.js';
import type { KubeClient } from '../kube/client.js';
import type { ResourceType } from '../kube/resources.js';
import type { Logger } from '../observe/logger.js';
import { WORKLOAD_TYPES } from './stores.js';
import { ALL_WORKLOAD_KINDS, KINDS, type WorkloadKind } from './workload-kinds.js';

/** Whether Keelson may list the resource cluster-wide, or (with --namespaces) in at least one of them. */
async function mayList(client: KubeClient, t: ResourceType, namespaces: readonly string[]): Promise<boolean> {
  for (const namespace of namespaces.length > 0 ? namespaces : [undefined]) {
    const review = await client.request<{ status?: { allowed?: boolean } }>('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { group: t.group, resource: t.plural, verb: 'list', namespace } } },
    });
    if (review.status?.allowed) return true;
  }
  return false;
}

export async function servedWorkloadTypes(client: KubeClient, opts: Options['reload'], logger: Logger): Promise<Map<WorkloadKind, ResourceType>> {
  const discovery = new Discovery(client);
  const out = new Map<WorkloadKind, ResourceType>();
  for (const kind of ALL_WORKLOAD_KINDS) {
    if (opts.ignoredWorkloadTypes.includes(KINDS[kind].ignoreName)) continue;
    if (kind === 'Rollout' && !opts.argoRollouts) continue;
    let t: ResourceType | undefined = WORKLOAD_TYPES[kind];
    if (kind === 'CronJob') {
      t = (await discovery.resourceFor('batch', 'v1', 'CronJob')) ?? (await discovery.resourceFor('batch', 'v1beta1', 'CronJob'));
      if (!t) logger.warn('the API server serves CronJob neither as batch/v1 nor batch/v1beta1: CronJobs are not reloaded');
    } else if (kind === 'Rollout') {
      t = await discovery.resourceFor('argoproj.io', 'v1alpha1', 'Rollout');
      if (!t) logger.error('--argo-rollouts: the API server does not serve argoproj.io/v1alpha1 Rollout: install the Argo Rollouts CRD, then restart Keelson; Rollouts are not reloaded until then');
    }
    if (t && kind !== 'Deployment' && kind !== 'StatefulSet' && kind !== 'DaemonSet' && !(await mayList(client, t, opts.namespaces))) {
      logger.error({ resource: `${t.plural}.${t.group}` }, `not allowed to list ${t.plural} (${t.group}): ${kind}s are not reloaded; grant get, list, watch, patch${kind === 'Job' ? ', create, delete' : ''} on ${t.plural} (see manifests/clusterrole.yaml), or pass --ignored-workload-types ${KINDS[kind].ignoreName}`);
      continue;
    }
    if (t) out.set(kind, t);
  }
  logger.info({ kinds: [...out].map(([k, t]) => `${k} ${t.group}/${t.version}`) }, 'reload watches these workload kinds');
  return out;
}
