// The caches reload decides from: ConfigMaps and Secrets as digests, workloads as compact records with an index
// from config to workload, and (with --namespace-selector) the selected Namespaces. With --namespaces, each
// namespace has its own stores, started outside the manager's sync gate: a namespace Keelson may not read (RBAC)
// then only logs and counts `forbidden` while the others work.

import type { Options } from '../config/options.js';
import type { Manager } from '../kube/manager.js';
import { CONFIGMAPS, DAEMONSETS, DEPLOYMENTS, NAMESPACES, type ResourceType, SECRETS, STATEFULSETS } from '../kube/resources.js';
import { Store } from '../kube/store.js';
import type { KubeObject } from '../kube/types.js';
import { CONFIG_INDEX, type ConfigRecord, NAMESPACE_INDEX, type WorkloadRecord, configRecord, workloadRecord } from './records.js';
import type { ConfigKind } from './references.js';
import type { WorkloadKind } from '../kube/health.js';
import { ignoreFieldSelector, inScope, watchedNamespaces } from './scope.js';

const SECRET_PAGE_SIZE = 100;

export const WORKLOAD_TYPES: Readonly<Record<WorkloadKind, ResourceType>> = { Deployment: DEPLOYMENTS, StatefulSet: STATEFULSETS, DaemonSet: DAEMONSETS };
export const WORKLOAD_KINDS = Object.keys(WORKLOAD_TYPES) as WorkloadKind[];

export interface StoreGroup {
  readonly configs: Readonly<Record<ConfigKind, Store<ConfigRecord>>>;
  readonly workloads: Readonly<Record<WorkloadKind, Store<WorkloadRecord>>>;
}

export class ReloadStores {
  private readonly groups = new Map<string, StoreGroup>();
  private readonly perNamespace: boolean;
  readonly namespaces: Store<string> | undefined;

  constructor(private readonly manager: Manager, private readonly opts: Options['reload']) {
    this.perNamespace = opts.namespaces.length > 0;
    const fieldSelector = this.perNamespace ? undefined : ignoreFieldSelector(opts.ignoreNamespaces);
    for (const ns of watchedNamespaces(opts)) {
      const common = { client: manager.client, logger: manager.logger, metrics: manager.metrics, namespace: ns || undefined, fieldSelector };
      const config = (t: ResourceType, kind: ConfigKind) => {
        // Secrets can be large (up to 1 MiB each): smaller LIST pages keep the parse peak, and the memory the
        // process keeps after it, low; the records themselves are digests either way.
        const pageSize = kind === 'Secret' ? SECRET_PAGE_SIZE : undefined;
        const s = new Store<ConfigRecord>({ ...common, resource: t, pageSize, labelSelector: opts.resourceLabelSelector, transform: (o) => this.keep(o) ? configRecord(kind, o) : undefined });
        s.addIndex(NAMESPACE_INDEX, (r) => [r.namespace]);
        return s;
      };
      const workload = (kind: WorkloadKind) => {
        const s = new Store<WorkloadRecord>({ ...common, resource: WORKLOAD_TYPES[kind], transform: (o) => this.keep(o) ? workloadRecord(kind, o) : undefined });
        s.addIndex(CONFIG_INDEX, (r) => r.index);
        s.addIndex(NAMESPACE_INDEX, (r) => [r.namespace]);
        return s;
      };
      this.groups.set(ns, {
        configs: { ConfigMap: config(CONFIGMAPS, 'ConfigMap'), Secret: config(SECRETS, 'Secret') },
        workloads: { Deployment: workload('Deployment'), StatefulSet: workload('StatefulSet'), DaemonSet: workload('DaemonSet') },
      });
    }
    this.namespaces = opts.namespaceSelector
      ? new Store<string>({ client: manager.client, logger: manager.logger, metrics: manager.metrics, resource: NAMESPACES, labelSelector: opts.namespaceSelector, transform: (o) => o.metadata.name! })
      : undefined;
  }

  private keep(o: KubeObject): boolean {
    return inScope(o.metadata.namespace ?? '', this.opts, undefined);
  }

  /** Registers the stores: cluster-wide ones gate the manager's sync, per-namespace ones run on their own. */
  register(): void {
    if (this.namespaces) this.manager.addStore(this.namespaces);
    if (!this.perNamespace) {
      for (const s of this.all()) this.manager.addStore(s);
      return;
    }
    this.manager.addRunnable({
      name: 'reload-namespace-stores', needsLeader: false,
      run: async (signal) => {
        for (const s of this.all()) s.start();
        await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
        await Promise.all(this.all().map((s) => s.stop()));
      },
    });
  }

  group(namespace: string): StoreGroup | undefined {
    return this.groups.get(this.perNamespace ? namespace : '');
  }

  groupsList(): StoreGroup[] { return [...this.groups.values()]; }

  all(): Store<unknown>[] {
    return this.groupsList().flatMap((g) => [...Object.values(g.configs), ...Object.values(g.workloads)] as Store<unknown>[]);
  }

  synced(g: StoreGroup): boolean {
    return [...Object.values(g.configs), ...Object.values(g.workloads)].every((s) => s.synced) && (this.namespaces?.synced ?? true);
  }

  /** The namespaces --namespace-selector matches now, or undefined without a selector. */
  selected(): ReadonlySet<string> | undefined {
    return this.namespaces ? new Set(this.namespaces.keys()) : undefined;
  }
}
