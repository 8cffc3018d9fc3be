// Waits for a CRD to exist before a feature starts its store, logging what to install while it does not, so a
// missing CRD is a clear, retried error rather than a crash or a store logging 404s forever.

import type { Logger } from '../observe/logger.js';
import { backoffDelay, sleep } from './backoff.js';
import { type KubeClient, isNotFound } from './client.js';
import { CRDS } from './resources.js';

/** Resolves once the CRD `name` exists, or when the signal aborts. `missing` tells the user what to do. */
export async function waitForCrd(client: KubeClient, log: Logger, name: string, missing: string, signal: AbortSignal): Promise<void> {
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      await client.get(CRDS, undefined, name);
      return;
    } catch (err) {
      const delay = backoffDelay({ baseMs: 1000, maxMs: 60_000 }, attempt);
      if (isNotFound(err)) log.error({ retryInMs: delay }, `the CRD ${name} is not installed: ${missing}`);
      else log.warn({ retryInMs: delay, err: err instanceof Error ? err.message : String(err) }, `could not check for the CRD ${name}; retrying`);
      await sleep(delay, signal);
    }
  }
}
