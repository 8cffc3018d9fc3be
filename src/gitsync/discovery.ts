// API discovery, per group-version and cached: which resource (plural) serves a kind and whether it is
// namespaced. A miss refreshes that group-version at most once every few seconds, so a freshly established CRD
// is found without hammering the API server for kinds that really do not exist.

import { isNotFound, type KubeClient } from '../kube/client.js';
import type { ResourceType } from '../kube/resources.js';

interface GroupVersion { readonly at: number; readonly byKind: Map<string, ResourceType> }

interface ApiResourceList { resources?: { name: string; kind: string; namespaced: boolean }[] }

export class Discovery {
  private readonly cache = new Map<string, GroupVersion>();

  constructor(private readonly client: KubeClient, private readonly ttlMs = 5 * 60_000, private readonly missRefreshMs = 2_000) {}

  /** The resource for group/version/kind, or undefined when the API server does not serve it. */
  async resourceFor(group: string, version: string, kind: string): Promise<ResourceType | undefined> {
    const key = group === '' ? version : `${group}/${version}`;
    let gv = this.cache.get(key);
    const now = Date.now();
    if (!gv || now - gv.at > this.ttlMs || (!gv.byKind.has(kind) && now - gv.at > this.missRefreshMs)) {
      gv = await this.load(group, version);
      this.cache.set(key, gv);
    }
    return gv.byKind.get(kind);
  }

  /** Forgets everything (after CRDs were applied). */
  invalidate(): void {
    this.cache.clear();
  }

  private async load(group: string, version: string): Promise<GroupVersion> {
    const path = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
    const byKind = new Map<string, ResourceType>();
    try {
      const list = await this.client.request<ApiResourceList>('GET', path);
      for (const r of list.resources ?? []) {
        if (r.name.includes('/')) continue; // subresources
        byKind.set(r.kind, Object.freeze({ group, version, plural: r.name, kind: r.kind, namespaced: r.namespaced }));
      }
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    return { at: Date.now(), byKind };
  }
}
