// The ImagePolicy reconciler: reads the policy and its Secret, lists the repository's tags, picks the latest by the
// policy, resolves its digest, and writes status (only when it changed). Level-triggered: every run starts from the
// object as it is now; the next scan is a requeue after spec.interval. Credentials never leave the Authorization
// header: messages name the Secret and the registry, never a value. The Secret is read with the policy's identity
// (spec.serviceAccountName, as a GitSync's: gitsync/identity.ts), since its values go to a registry the tenant names.

import type { EventRecorder } from '../kube/events.js';
import { involvedObjectOf } from '../kube/events.js';
import { type KubeClient, isForbidden } from '../kube/client.js';
import { type IdentityPolicy, identityFor, secretForbiddenMessage } from '../gitsync/identity.js';
import { IMAGEPOLICIES, SECRETS, splitKey } from '../kube/resources.js';
import type { KubeObject } from '../kube/types.js';
import type { ReconcileResult } from '../kube/workqueue.js';
import type { Logger } from '../observe/logger.js';
import type { Metrics } from '../observe/metrics.js';
import { outcomeConditions, statusDiffers, withJitter } from '../gitsync/status.js';
import { CredentialsError, type RegistryCredentials, caBundleOf, credentialsFor } from './credentials.js';
import { selectTagInBatches } from './policy.js';
import { RegistryClient, RegistryError, type RegistryLimits } from './registry-client.js';
import { type ImagePolicyObject, type ImagePolicyStatus, PolicyError, ReferenceError, type ScanSpec, scanSpecOf } from './spec.js';

export interface ScannerDeps {
  readonly client: KubeClient;
  readonly events: EventRecorder;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly allowInsecureRegistries: boolean;
  readonly limits?: Partial<RegistryLimits>;
  /** Whose rights read a policy's spec.secretRef: --controller-namespace and --default-service-account. */
  readonly identityPolicy: IdentityPolicy;
}

type Reason = 'Succeeded' | 'InvalidSpec' | 'InsecureRegistry' | 'SecretError' | 'ServiceAccountRequired' | 'SecretForbidden' | 'NoMatchingTag' | RegistryError['reason'];

interface Outcome {
  readonly ready: boolean;
  readonly reason: Reason;
  readonly message: string;
  /** Retrying cannot help until the spec changes. */
  readonly stalled?: boolean;
  readonly latest?: { ref: string; digest: string; observedTags: number };
}

/** Errors after this many seconds of retries are retried at the interval instead (the workqueue backs off). */
const RETRY_FLOOR_MS = 30_000;

export class ImagePolicyScanner {
  constructor(private readonly deps: ScannerDeps) {}

  async reconcile(key: string, signal: AbortSignal): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const obj = await this.deps.client.tryGet<ImagePolicyObject>(IMAGEPOLICIES, namespace, name);
    if (!obj || obj.metadata.deletionTimestamp) return;
    const log = this.deps.logger.child({ imagePolicy: key });
    let spec: ScanSpec | undefined;
    let outcome: Outcome;
    try {
      spec = scanSpecOf(obj.spec);
      outcome = await this.scan(obj, spec, signal);
    } catch (err) {
      if (!(err instanceof PolicyError || err instanceof ReferenceError)) throw err;
      outcome = { ready: false, reason: 'InvalidSpec', message: `${err.message}; fix the ImagePolicy`, stalled: true };
    }
    if (signal.aborted) return;
    this.deps.metrics.imageScansTotal.inc({ result: outcome.ready ? 'success' : 'failure' });
    await this.writeStatus(obj, outcome, log);
    if (outcome.stalled) return; // a spec change (new generation) queues it again
    const interval = spec?.intervalMs ?? RETRY_FLOOR_MS;
    return { requeueAfterMs: withJitter(outcome.ready ? interval : Math.min(interval, Math.max(RETRY_FLOOR_MS, interval / 4))) };
  }

  private async scan(obj: ImagePolicyObject, spec: ScanSpec, signal: AbortSignal): Promise<Outcome> {
    const ns = obj.metadata.namespace!;
    if (spec.insecure && !this.deps.allowInsecureRegistries) {
      return { ready: false, reason: 'InsecureRegistry', stalled: true, message: 'spec.insecure asks for a plain-HTTP registry, which this controller refuses: use HTTPS (a private CA can go into the Secret as ca.crt), or start Keelson with --allow-insecure-registries' };
    }
    let credentials: RegistryCredentials | undefined;
    let ca: string | undefined;
    if (spec.secretName !== undefined) {
      // Never Keelson's own rights outside the controller namespace: the values are sent to the tenant's registry.
      const identity = identityFor({ kind: 'ImagePolicy', namespace: ns, name: obj.metadata.name!, serviceAccountName: spec.serviceAccountName }, this.deps.identityPolicy);
      if (identity.kind === 'refused') return { ready: false, reason: 'ServiceAccountRequired', message: identity.message, stalled: true };
      const reader = identity.kind === 'serviceAccount' ? this.deps.client.impersonating(identity.user) : this.deps.client;
      let secret;
      try {
        secret = await reader.tryGet<KubeObject & { type?: string; data?: Record<string, string> }>(SECRETS, ns, spec.secretName);
      } catch (err) {
        if (!isForbidden(err)) throw err;
        return { ready: false, reason: 'SecretForbidden', message: secretForbiddenMessage(identity, ns, spec.secretName, 'spec.secretRef', err) };
      }
      if (!secret) return { ready: false, reason: 'SecretError', message: `Secret ${ns}/${spec.secretName} named by spec.secretRef does not exist` };
      try {
        credentials = credentialsFor(`${ns}/${spec.secretName}`, secret.type, secret.data, spec.ref);
      } catch (err) {
        if (err instanceof CredentialsError) return { ready: false, reason: 'SecretError', message: err.message };
        throw err;
      }
      ca = caBundleOf(secret.data);
    }
    const registry = new RegistryClient({ ref: spec.ref, credentials, ca, plainHttp: spec.insecure, signal, ...(this.deps.limits ? { limits: this.deps.limits } : {}) });
    try {
      const tags = await registry.listTags();
      const tag = await selectTagInBatches(spec.policy, tags);
      if (tag === undefined) {
        return { ready: false, reason: 'NoMatchingTag', message: `none of the ${tags.length} tags of ${spec.ref.canonical} matches the policy${spec.policy.filter ? ' and spec.filterTags' : ''}` };
      }
      const digest = await registry.digestOf(tag);
      const ref = `${spec.ref.canonical}:${tag}`;
      return { ready: true, reason: 'Succeeded', message: `latest image tag is ${ref}`, latest: { ref, digest, observedTags: tags.length } };
    } catch (err) {
      if (err instanceof RegistryError) return { ready: false, reason: err.reason, message: err.message };
      throw err;
    } finally {
      registry.close();
    }
  }

  private async writeStatus(obj: ImagePolicyObject, outcome: Outcome, log: Logger): Promise<void> {
    const prev = obj.status ?? {};
    const generation = obj.metadata.generation;
    const now = new Date().toISOString();
    const next: ImagePolicyStatus = {
      observedGeneration: generation,
      conditions: outcomeConditions(prev.conditions, { ready: outcome.ready ? 'True' : 'False', reason: outcome.reason as never, message: outcome.message, stalled: !!outcome.stalled }, generation, now),
    };
    // A failed scan keeps the last known latest ref: consumers (image updates) must not see it vanish on a blip.
    if (outcome.latest) { next.latestRef = outcome.latest.ref; next.latestDigest = outcome.latest.digest; next.observedTags = outcome.latest.observedTags; }
    const ref = `ImagePolicy ${obj.metadata.namespace}/${obj.metadata.name}`;
    if (outcome.ready) log.debug({ latestRef: outcome.latest?.ref }, 'image scan done');
    else log.warn({ reason: outcome.reason }, `${ref}: ${outcome.message}`);
    if (!statusDiffers(prev, next)) return;
    await this.deps.client.patch(IMAGEPOLICIES, obj.metadata.namespace, obj.metadata.name!, 'merge', { status: next }, { subresource: 'status' });
    const involved = involvedObjectOf({ ...obj, apiVersion: 'keelson.dev/v1alpha1', kind: 'ImagePolicy' });
    if (outcome.latest && outcome.latest.ref !== prev.latestRef) {
      log.info({ latestRef: outcome.latest.ref, previous: prev.latestRef }, `${ref}: new latest image`);
      await this.deps.events.record(involved, 'Normal', 'LatestImageChanged', prev.latestRef ? `latest image ${prev.latestRef} → ${outcome.latest.ref}` : `latest image is ${outcome.latest.ref}`);
    } else if (!outcome.ready && prev.conditions?.find((c) => c.type === 'Ready')?.reason !== outcome.reason) {
      await this.deps.events.record(involved, 'Warning', outcome.reason, outcome.message);
    }
  }
}
