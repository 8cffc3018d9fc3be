// `keelson controller`: builds the Manager from Options, registers the enabled features, runs until SIGTERM/SIGINT.

import { controllerHelp, loadOptions, type Options } from '../config/options.js';
import { KubeClient, loadKubeConfig } from '../kube/client.js';
import { EventRecorder } from '../kube/events.js';
import { LeaseElector } from '../kube/leader-election.js';
import { Manager } from '../kube/manager.js';
import type { FeatureContext } from '../kube/feature.js';
import { createLogger, type Logger } from '../observe/logger.js';
import { createMetrics } from '../observe/metrics.js';
import { registerReload } from '../reload/register.js';
import { registerSealing } from '../sealing/register.js';
import { registerGitSync } from '../gitsync/register.js';
import { registerNotifications } from '../notify/register.js';
import { registerImages } from '../images/register.js';
import { VERSION } from '../version.js';
import type { Command } from './io.js';

export type { FeatureContext } from '../kube/feature.js';

/** Builds a Manager with every enabled feature registered, without starting it (tests start it themselves). */
export async function buildController(options: Options, env: Readonly<Record<string, string | undefined>>, logger: Logger): Promise<Manager> {
  const kc = loadKubeConfig({ kubeconfig: options.kubeconfig, env });
  const client = new KubeClient(kc, `keelson/${VERSION}`);
  const metrics = createMetrics();
  const events = new EventRecorder(client, logger, 'keelson', options.podName);
  const le = options.leaderElection;
  const elector = le.enabled
    ? new LeaseElector({
      client, logger, namespace: le.namespace, name: le.id, podName: options.podName,
      leaseDurationMs: le.leaseDurationMs, renewDeadlineMs: le.renewDeadlineMs, retryPeriodMs: le.retryPeriodMs,
    })
    : undefined;
  const manager = new Manager({
    client, logger, metrics, events,
    httpAddr: options.httpAddr, metricsAddr: options.metricsAddr, shutdownTimeoutMs: options.shutdownTimeoutMs,
    maxEventLoopBlockMs: options.maxEventLoopBlockMs,
    ...(elector ? { elector } : {}),
  });
  const ctx: FeatureContext = { manager, options, logger };
  if (options.reload.enabled) await registerReload(ctx);
  if (options.sealing.enabled) registerSealing(ctx);
  if (options.gitsync.enabled) registerGitSync(ctx);
  registerNotifications(ctx);
  if (options.images.enabled) registerImages(ctx);
  return manager;
}

export const controllerCommand: Command = async (argv, io) => {
  const options = loadOptions(argv, io.env);
  if (options.help) { io.stdout.write(controllerHelp()); return 0; }
  const logger = createLogger({ level: options.logLevel, format: options.logFormat });
  logger.info({ version: VERSION, node: process.version, reload: options.reload.enabled, sealing: options.sealing.enabled, gitsync: options.gitsync.enabled, images: options.images.enabled }, 'keelson starting');
  const manager = await buildController(options, io.env, logger);
  let exitCode = 0;
  const done = new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'stop requested');
      manager.stop().then(resolve, (err) => { logger.error({ err }, 'shutdown failed'); exitCode = 1; resolve(); });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    manager.onLostLeadership(() => { exitCode = 1; stop('leadership lost'); });
  });
  await manager.start();
  await done;
  return exitCode;
};
