// Waits for a CRD to exist before a feature starts its store, logging what to install while it does not, so a
// missing CRD is a clear, retried error rather than a crash or a store logging 404s forever.

import type { Logger } from '../observe/logger.js';
import { backoffDelay, sleep } from './backoff.js';
import { type KubeClient, isNotFound } from './client.js';
import { errorText } from './errors.js';
import { CRDS } from './resources.js';

/** A CRD a store waits for: its name, the kind users know it by, and what to do when it is missing. */
export interface CrdRequirement {
  readonly name: string;
  readonly kind: string;
  readonly missing: string;
  /** An optional feature (Notifiers have no --disable flag): while its CRD is absent no object of it can exist, so
   * its store does not hold up /readyz; once the CRD exists the store must sync like any other. */
  readonly optional?: boolean;
}

/** Resolves once the CRD exists, or when the signal aborts; logs what to install while it does not. */
export async function waitForCrd(client: KubeClient, log: Logger, crd: CrdRequirement, signal: AbortSignal, onAbsent: (absent: boolean) => void = () => {}): Promise<void> {
  const { name, kind, missing } = crd;
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      await client.get(CRDS, undefined, name);
      onAbsent(false);
      return;
    } catch (err) {
      const delay = backoffDelay({ baseMs: 1000, maxMs: 60_000 }, attempt);
      onAbsent(isNotFound(err));
      if (isNotFound(err)) log.error({ retryInMs: delay }, `the ${kind} CRD (${name}) is not installed: ${missing}`);
      else log.warn({ retryInMs: delay, err: errorText(err) }, `could not check for the ${kind} CRD (${name}); retrying`);
      await sleep(delay, signal);
    }
  }
}
