// Wires notifications into the controller: a Store of Notifiers (started once the CRD exists), the Dispatcher that
// the EventRecorder offers every Event to, Reloader's ALERT_* target, and a small controller keeping each
// Notifier's Ready condition (spec, Secret, last delivery) up to date.

import type { FeatureContext } from '../cli/controller.js';
import { backoffDelay, sleep } from '../kube/backoff.js';
import { isNotFound } from '../kube/client.js';
import { CRDS, NOTIFIERS } from '../kube/resources.js';
import { Store } from '../kube/store.js';
import { setCondition } from '../gitsync/status.js';
import type { Condition } from '../gitsync/spec.js';
import { Dispatcher } from './dispatcher.js';
import { withGitOrigin } from './git-origin.js';
import { type NotifierRecord, notifierRecord } from './spec.js';
import { loadNotifierSecret, readyFor } from './status.js';

export const NOTIFIER_CRD = 'notifiers.keelson.dev';
/** The Secret and the endpoint are re-checked this often even without events. */
const RECHECK_MS = 5 * 60_000;
const BY_NAMESPACE = 'namespace';

export function registerNotifications(ctx: FeatureContext): Dispatcher {
  const { manager, options } = ctx;
  const log = ctx.logger.child({ feature: 'notify' });
  const client = manager.client;
  const store = new Store<NotifierRecord>({ client, resource: NOTIFIERS, transform: notifierRecord, logger: log, metrics: manager.metrics });
  // Matching an Event looks at its namespace's Notifiers and the controller namespace's, not at every Notifier.
  store.addIndex(BY_NAMESPACE, (r) => [r.namespace]);
  const ctrl = options.controllerNamespace;
  const notifiersFor = (ns: string): NotifierRecord[] => [...store.byIndex(BY_NAMESPACE, ns), ...(ns === ctrl ? [] : store.byIndex(BY_NAMESPACE, ctrl))]
    .map((k) => store.get(k)).filter((r): r is NotifierRecord => r !== undefined);
  const ra = options.reloaderAlert;
  const dispatcher = new Dispatcher({
    controllerNamespace: options.controllerNamespace, controller: options.podName,
    notifiers: (ns) => notifiersFor(ns),
    loadSecret: (r) => loadNotifierSecret(client, r.namespace, r.secretName, r.type),
    enrich: (n) => withGitOrigin(client, n),
    reloaderAlert: ra, metrics: manager.metrics, logger: log,
    onOutcome: (key) => queue.add(key),
  });
  manager.events.onRecord((obj, type, reason, message) => dispatcher.offer(obj, type, reason, message));
  if (ra) log.info({ sink: ra.sink, additionalInfo: ra.additionalInfo !== undefined }, 'ALERT_ON_RELOAD: Reloaded events are posted to ALERT_WEBHOOK_URL');

  const queue = manager.addController({ name: 'notifiers', concurrency: 1, logger: log, metrics: manager.metrics }, async (key, signal) => {
    await store.waitForSync(signal);
    const r = store.get(key);
    if (!r) { dispatcher.forget(key); return; }
    let secretProblem: string | undefined;
    if (!r.invalid) {
      try { await loadNotifierSecret(client, r.namespace, r.secretName, r.type); } catch (err) { secretProblem = err instanceof Error ? err.message : String(err); }
    }
    const want = readyFor(r, secretProblem, dispatcher.outcome(key), options.controllerNamespace);
    const live = await client.tryGet(NOTIFIERS, r.namespace, r.name);
    if (!live) return;
    const conditions = (live.status as { conditions?: Condition[] } | undefined)?.conditions;
    const prev = conditions?.find((c) => c.type === 'Ready');
    if (!(prev && prev.status === want.status && prev.reason === want.reason && prev.message === want.message && prev.observedGeneration === want.observedGeneration)) {
      const next = setCondition(conditions, want as Condition, new Date().toISOString());
      try {
        await client.patch(NOTIFIERS, r.namespace, r.name, 'merge', { status: { observedGeneration: r.generation, conditions: next } }, { subresource: 'status' });
      } catch (err) { if (!isNotFound(err)) throw err; }
      if (want.status === 'False') log.warn({ notifier: key, reason: want.reason, err: want.message }, 'Notifier not ready');
    }
    return { requeueAfterMs: RECHECK_MS };
  });
  store.onChange((e) => {
    if (e.type === 'update' && e.old.generation === e.record.generation && e.old.uid === e.record.uid) return; // status writes
    if (e.type !== 'add') dispatcher.forget(e.key);
    if (e.type !== 'delete') queue.add(e.key);
  });

  manager.addRunnable({
    name: 'notifier-store', needsLeader: false,
    run: async (signal) => {
      for (let attempt = 0; !signal.aborted; attempt++) {
        try {
          await client.get(CRDS, undefined, NOTIFIER_CRD);
          break;
        } catch (err) {
          const delay = backoffDelay({ baseMs: 1000, maxMs: 60_000 }, attempt);
          if (isNotFound(err)) log.error({ retryInMs: delay }, `the Notifier CRD ${NOTIFIER_CRD} is not installed: apply manifests/crd-notifiers.yaml; notifications wait for it`);
          else log.warn({ retryInMs: delay, err: err instanceof Error ? err.message : String(err) }, `could not check for the Notifier CRD ${NOTIFIER_CRD}; retrying`);
          await sleep(delay, signal);
        }
      }
      if (!signal.aborted) {
        store.start();
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      }
      dispatcher.stop();
      await store.stop();
    },
  });
  return dispatcher;
}
