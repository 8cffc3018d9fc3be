// The caches reload decides from: ConfigMaps and Secrets as digests, workloads as compact records with an index
// from config to workload, and (with --namespace-selector) the selected Namespaces. With --namespaces, each
// namespace has its own stores, started outside the manager's sync gate: a namespace Keelson may not read (RBAC)
// then only logs and counts `forbidden` while the others work. register.ts hands them to the controller builder.

import type { Options } from '../config/options.js';
import type { Manager } from '../kube/manager.js';
import { CONFIGMAPS, CRONJOBS, DAEMONSETS, DEPLOYMENTS, JOBS, NAMESPACES, type ResourceType, ROLLOUTS, SECRETS, STATEFULSETS } from '../kube/resources.js';
import { Store } from '../kube/store.js';
import type { KubeObject } from '../kube/types.js';
import { CONFIG_INDEX, type ConfigRecord, NAMESPACE_INDEX, type WorkloadRecord, configRecord, workloadRecord } from './records.js';
import type { ConfigKind } from './references.js';
import type { WorkloadKind } from './workload-kinds.js';
import { ignoreFieldSelector, inScope, watchedNamespaces } from './scope.js';

const SECRET_PAGE_SIZE = 100;

/** The resource of each kind by default; CronJob's version and whether Rollouts are served come from discovery. */
export const WORKLOAD_TYPES: Readonly<Record<WorkloadKind, ResourceType>> = {
  Deployment: DEPLOYMENTS, StatefulSet: STATEFULSETS, DaemonSet: DAEMONSETS, CronJob: CRONJOBS, Job: JOBS, Rollout: ROLLOUTS,
};

/** Only the kinds (and config kinds) that are watched: --ignored-workload-types, --resources-to-ignore, --argo-rollouts. */
export interface StoreGroup {
  readonly configs: Readonly<Partial<Record<ConfigKind, Store<ConfigRecord>>>>;
  readonly workloads: Readonly<Partial<Record<WorkloadKind, Store<WorkloadRecord>>>>;
}

export class ReloadStores {
  private readonly groups = new Map<string, StoreGroup>();
  private readonly perNamespace: boolean;
  /** Whether the config and workload stores gate the manager's start: cluster-wide ones do; per-namespace ones do
   * not (one namespace Keelson may not list holds up no other). All count for /readyz. */
  readonly gatesStart: boolean;
  readonly namespaces: Store<string> | undefined;

  /** The watched workload kinds and the resource each is served as. */
  readonly types: ReadonlyMap<WorkloadKind, ResourceType>;

  constructor(manager: Manager, private readonly opts: Options['reload'], types: ReadonlyMap<WorkloadKind, ResourceType>) {
    this.types = types;
    this.perNamespace = opts.namespaces.length > 0;
    this.gatesStart = !this.perNamespace;
    const fieldSelector = this.perNamespace ? undefined : ignoreFieldSelector(opts.ignoreNamespaces);
    for (const ns of watchedNamespaces(opts)) {
      const common = { client: manager.client, logger: manager.logger, metrics: manager.metrics, namespace: ns || undefined, fieldSelector };
      const config = (t: ResourceType, kind: ConfigKind) => {
        // Pages are parsed item by item as they stream in (kube/list-items.ts), so page size no longer drives the
        // parse peak; smaller Secret pages still shorten each request (Secrets can be 1 MiB each).
        const pageSize = kind === 'Secret' ? SECRET_PAGE_SIZE : undefined;
        const s = new Store<ConfigRecord>({ ...common, resource: t, pageSize, labelSelector: opts.resourceLabelSelector, transform: (o) => this.keep(o) ? configRecord(kind, o) : undefined });
        s.addIndex(NAMESPACE_INDEX, (r) => [r.namespace]);
        return s;
      };
      const workload = (kind: WorkloadKind, t: ResourceType) => {
        const apiVersion = t.group === '' ? t.version : `${t.group}/${t.version}`;
        // The runs of a CronJob are never reload targets themselves: not kept, so memory follows the Jobs that can be.
        const transform = (o: KubeObject) => {
          if (!this.keep(o)) return undefined;
          const r = workloadRecord(kind, o, apiVersion);
          return r.cronJobOwned ? undefined : r;
        };
        const s = new Store<WorkloadRecord>({ ...common, resource: t, transform });
        s.addIndex(CONFIG_INDEX, (r) => r.index);
        s.addIndex(NAMESPACE_INDEX, (r) => [r.namespace]);
        return s;
      };
      const configs: Partial<Record<ConfigKind, Store<ConfigRecord>>> = {};
      if (!opts.ignoredConfigKinds.includes('ConfigMap')) configs.ConfigMap = config(CONFIGMAPS, 'ConfigMap');
      if (!opts.ignoredConfigKinds.includes('Secret')) configs.Secret = config(SECRETS, 'Secret');
      const workloads: Partial<Record<WorkloadKind, Store<WorkloadRecord>>> = {};
      for (const [kind, t] of types) workloads[kind] = workload(kind, t);
      this.groups.set(ns, { configs, workloads });
    }
    this.namespaces = opts.namespaceSelector
      ? new Store<string>({ client: manager.client, logger: manager.logger, metrics: manager.metrics, resource: NAMESPACES, labelSelector: opts.namespaceSelector, transform: (o) => o.metadata.name! })
      : undefined;
  }

  private keep(o: KubeObject): boolean {
    return inScope(o.metadata.namespace ?? '', this.opts, undefined);
  }

  group(namespace: string): StoreGroup | undefined {
    return this.groups.get(this.perNamespace ? namespace : '');
  }

  groupsList(): StoreGroup[] { return [...this.groups.values()]; }

  /** A kind's reconciles need the configs and that kind's store only: one kind Keelson may not list blocks no other. */
  synced(g: StoreGroup, kind: WorkloadKind): boolean {
    return [...Object.values(g.configs), g.workloads[kind]].every((s) => s?.synced) && (this.namespaces?.synced ?? true);
  }

  /** The namespaces --namespace-selector matches now, or undefined without a selector. */
  selected(): ReadonlySet<string> | undefined {
    return this.namespaces ? new Set(this.namespaces.keys()) : undefined;
  }
}
