// Wires notifications into the controller, declared with the controller builder: the Notifier store (started once
// its CRD exists; without it there are no Notifiers, which does not hold up /readyz), the Dispatcher that the
// EventRecorder offers every Event to, Reloader's ALERT_* target, and a small controller keeping each Notifier's
// Ready condition (spec, Secret, last delivery) up to date.

import type { FeatureContext } from '../kube/feature.js';
import { untilAborted } from '../kube/backoff.js';
import { isNotFound } from '../kube/client.js';
import { errorText } from '../kube/errors.js';
import { NOTIFIERS } from '../kube/resources.js';
import { controller } from '../kube/controller-builder.js';
import type { StoreEvent } from '../kube/store.js';
import type { ReconcileResult } from '../kube/workqueue.js';
import { type Condition, setCondition } from '../kube/conditions.js';
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
  const statusOnly = (e: StoreEvent<NotifierRecord>) => e.type === 'update' && e.old.generation === e.record.generation && e.old.uid === e.record.uid;
  const { store, queue } = controller<NotifierRecord>(manager, 'notifiers', log, 1)
    .for(NOTIFIERS, notifierRecord, { crd: { name: NOTIFIER_CRD, kind: 'Notifier', missing: 'apply manifests/crd-notifiers.yaml; notifications wait for it', optional: true } })
    // Matching an Event looks at its namespace's Notifiers and the controller namespace's, not at every Notifier.
    .withIndex(BY_NAMESPACE, (r) => [r.namespace])
    .withPredicate((e) => e.type !== 'delete' && !statusOnly(e))
    .complete((key) => checkReady(key));
  store.onChange((e) => { if (e.type !== 'add' && !statusOnly(e)) dispatcher.forget(e.key); });
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

  /** Keeps a Notifier's Ready condition true to its spec, its Secret and its last delivery. */
  async function checkReady(key: string): Promise<ReconcileResult | void> {
    const r = store.get(key);
    if (!r) { dispatcher.forget(key); return; }
    let secretProblem: string | undefined;
    if (!r.invalid) {
      try { await loadNotifierSecret(client, r.namespace, r.secretName, r.type); } catch (err) { secretProblem = errorText(err); }
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
  }

  manager.addRunnable({
    name: 'notify-dispatcher', needsLeader: false,
    run: async (signal) => { await untilAborted(signal); dispatcher.stop(); },
  });
  return dispatcher;
}
