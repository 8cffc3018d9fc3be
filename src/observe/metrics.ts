// Every Prometheus metric Keelson exports, on its own registry (never prom-client's global one, so two controllers in
// one test process do not collide). Labels stay bounded: kinds, results, namespaces; never config names or times.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { VERSION } from '../version.js';

export type Metrics = ReturnType<typeof createMetrics>;

export function createMetrics(opts: { processMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const buildInfo = new Gauge({ name: 'keelson_build_info', help: 'Keelson build information; always 1', labelNames: ['version', 'node'] as const, registers });
  buildInfo.set({ version: VERSION, node: process.version }, 1);
  return {
    registry,
    buildInfo,
    reloadsTotal: new Counter({ name: 'keelson_reloads_total', help: 'Rolls written to workloads, by workload kind, result and namespace', labelNames: ['kind', 'result', 'namespace'] as const, registers }),
    reloadLatency: new Histogram({ name: 'keelson_reload_latency_seconds', help: 'From a config change being observed to the roll being written', buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60], registers }),
    rolloutsTotal: new Counter({ name: 'keelson_rollouts_total', help: 'Rollouts tracked to an end, by workload kind and result (complete, failed, timeout)', labelNames: ['kind', 'result'] as const, registers }),
    unsealTotal: new Counter({ name: 'keelson_unseal_total', help: 'SealedSecret reconciles, by result', labelNames: ['result'] as const, registers }),
    sealingKeys: new Gauge({ name: 'keelson_sealing_keys', help: 'Sealing keys in the keyring', registers }),
    imageScansTotal: new Counter({ name: 'keelson_image_scans_total', help: 'ImagePolicy registry scans, by result (success, failure)', labelNames: ['result'] as const, registers }),
    imageUpdatesTotal: new Counter({ name: 'keelson_image_updates_total', help: 'GitSync image update runs, by result (pushed, unchanged, failure)', labelNames: ['result'] as const, registers }),
    gitsyncRunsTotal: new Counter({ name: 'keelson_gitsync_runs_total', help: 'GitSync reconciles, by result', labelNames: ['namespace', 'name', 'result'] as const, registers }),
    gitsyncDuration: new Histogram({ name: 'keelson_gitsync_duration_seconds', help: 'Duration of one GitSync reconcile', labelNames: ['namespace', 'name'] as const, buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120], registers }),
    gitsyncDrifted: new Gauge({ name: 'keelson_gitsync_drifted_objects', help: 'Objects found drifted from Git at the last sync', labelNames: ['namespace', 'name'] as const, registers }),
    gitsyncLastApplied: new Gauge({ name: 'keelson_gitsync_last_applied_timestamp_seconds', help: 'When a GitSync last applied a revision', labelNames: ['namespace', 'name'] as const, registers }),
    workqueueDepth: new Gauge({ name: 'keelson_workqueue_depth', help: 'Keys waiting in a work queue', labelNames: ['queue'] as const, registers }),
    workqueueRetries: new Counter({ name: 'keelson_workqueue_retries_total', help: 'Keys requeued after an error', labelNames: ['queue'] as const, registers }),
    reconcileTotal: new Counter({ name: 'keelson_reconcile_total', help: 'Reconciles run, by queue and result (ok, error, terminal)', labelNames: ['queue', 'result'] as const, registers }),
    watchRestarts: new Counter({ name: 'keelson_watch_restarts_total', help: 'Watches restarted after an error or a closed stream', labelNames: ['resource'] as const, registers }),
    apiForbidden: new Counter({ name: 'keelson_api_forbidden_total', help: 'API requests refused by RBAC, by resource and namespace', labelNames: ['resource', 'namespace'] as const, registers }),
    eventLoopBlocked: new Gauge({ name: 'keelson_eventloop_blocked_seconds', help: 'Longest event-loop stall in the /healthz window (see --max-event-loop-block)', registers }),
    notificationsTotal: new Counter({ name: 'keelson_notifications_total', help: 'Notifications, by target type (slack, msteams, googlechat, webhook, alertmanager, reloader) and result (success, failure, dropped, coalesced)', labelNames: ['type', 'result'] as const, registers }),
    leader: new Gauge({ name: 'keelson_leader', help: '1 while this replica is the leader (or leader election is off)', registers }),
  };
}
