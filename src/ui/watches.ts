// The UI server's watches: one per resource type the pages show, running only while at least one page listens, each
// change coalesced into one "these kinds changed" notice (the page re-reads its view). A forbidden watch waits and
// retries rarely instead of spinning.

import { isForbidden, type KubeClient } from '../kube/client.js';
import type { ResourceType } from '../kube/resources.js';

const COALESCE_MS = 250;
const RETRY_MS = 2_000;
const FORBIDDEN_RETRY_MS = 60_000;

export class UiWatches {
  private listeners = 0;
  private abort: AbortController | undefined;
  private readonly pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly handlers: ((kinds: string[]) => void)[] = [];

  /** `types` with an optional field selector each (Events: only Keelson's, so a busy cluster's churn stays out). */
  constructor(private readonly client: KubeClient, private readonly types: readonly { type: ResourceType; fieldSelector?: string }[]) {}

  onChange(fn: (kinds: string[]) => void): void { this.handlers.push(fn); }

  acquire(): void {
    if (this.listeners++ > 0) return;
    this.abort = new AbortController();
    for (const t of this.types) void this.run(t.type, t.fieldSelector, this.abort.signal);
  }

  release(): void {
    if (this.listeners > 0 && --this.listeners === 0) this.stop();
  }

  stop(): void {
    this.listeners = 0;
    this.abort?.abort();
    this.abort = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }

  private changed(kind: string): void {
    this.pending.add(kind);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      const kinds = [...this.pending];
      this.pending.clear();
      for (const h of this.handlers) h(kinds);
    }, COALESCE_MS);
  }

  private async run(t: ResourceType, fieldSelector: string | undefined, signal: AbortSignal): Promise<void> {
    let resourceVersion: string | undefined;
    while (!signal.aborted) {
      let wait = RETRY_MS;
      try {
        await this.client.watch(t, { resourceVersion, fieldSelector, timeoutSeconds: 300, signal }, (e) => {
          resourceVersion = e.object?.metadata?.resourceVersion ?? resourceVersion;
          if (e.type !== 'BOOKMARK') this.changed(t.kind);
        });
        wait = 0;
      } catch (e) {
        if (signal.aborted) return;
        resourceVersion = undefined;
        if (isForbidden(e)) wait = FORBIDDEN_RETRY_MS;
      }
      if (wait > 0) await new Promise<void>((r) => { const timer = setTimeout(r, wait); signal.addEventListener('abort', () => { clearTimeout(timer); r(); }, { once: true }); });
    }
  }
}
