// The image update reconciler, keyed by GitSync: when the latest refs of the ImagePolicies in a GitSync's namespace
// differ from its markers, commit and push the change with the GitSync's credentials, record it in
// status.lastImageUpdate, and ask the GitSync to sync now. Only policies of the GitSync's own namespace are used,
// so a tenant's markers cannot pull in another namespace's policies. Level-triggered: each run rewrites from the
// branch tip as it is; nothing to change means no commit. The GitSync's Secrets (Git credentials, signing key) are
// read with the GitSync's identity (gitsync/identity.ts), as its sync reads them: never Keelson's own rights.

import { involvedObjectOf, type EventRecorder } from '../kube/events.js';
import { type KubeClient, isForbidden } from '../kube/client.js';
import { type Identity, type IdentityPolicy, identityFor, secretForbiddenMessage } from '../gitsync/identity.js';
import { GITSYNCS, splitKey } from '../kube/resources.js';
import type { ReconcileResult } from '../kube/workqueue.js';
import type { Logger } from '../observe/logger.js';
import type { Metrics } from '../observe/metrics.js';
import { openSession } from '../gitsync/git.js';
import { SecretForbiddenError, SecretRefError, TransportError, checkTransport, readAuth } from '../gitsync/source.js';
import { SECRETS } from '../kube/resources.js';
import type { KubeObject } from '../kube/types.js';
import { type GitSyncObject, REQUESTED_AT, SpecError, parseSpec } from '../gitsync/spec.js';
import { imageUpdateOf } from './update-spec.js';
import { type SigningKey, pushImageUpdates } from './updater.js';
import { errorText } from '../kube/errors.js';

export interface ImageUpdaterDeps {
  readonly client: KubeClient;
  readonly events: EventRecorder;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly allowInsecureGit: boolean;
  readonly cacheDir: string;
  /** The latest ref of each ImagePolicy in a namespace, by name. */
  readonly latestRefs: (namespace: string) => ReadonlyMap<string, string>;
  /** Whose rights read the GitSync's Secrets: --controller-namespace and --default-service-account. */
  readonly identityPolicy: IdentityPolicy;
}

export interface LastImageUpdate { commit: string; time: string; changes: number }

export class ImageUpdater {
  constructor(private readonly deps: ImageUpdaterDeps) {}

  /** The commit signing key from spec.imageUpdate.signingKeyRef: `git.asc` (PGP) or `identity` (SSH). */
  private async signingKey(client: KubeClient, identity: Identity, namespace: string, name: string): Promise<SigningKey> {
    let secret;
    try {
      secret = await client.tryGet<KubeObject & { data?: Record<string, string> }>(SECRETS, namespace, name);
    } catch (err) {
      if (isForbidden(err)) throw new SecretForbiddenError(secretForbiddenMessage(identity, namespace, name, 'spec.imageUpdate.signingKeyRef', err));
      throw err;
    }
    if (!secret) throw new SecretRefError(`Secret ${namespace}/${name} (spec.imageUpdate.signingKeyRef) does not exist`);
    const get = (k: string) => (secret.data?.[k] === undefined ? undefined : Buffer.from(secret.data[k]!, 'base64').toString('utf8'));
    const pgp = get('git.asc');
    if (pgp !== undefined) return { kind: 'pgp', armored: pgp };
    const ssh = get('identity');
    if (ssh !== undefined) return { kind: 'ssh', privateKey: ssh };
    throw new SecretRefError(`Secret ${namespace}/${name} (spec.imageUpdate.signingKeyRef) has neither git.asc (PGP private key) nor identity (SSH private key)`);
  }

  async reconcile(key: string, signal: AbortSignal): Promise<ReconcileResult | void> {
    const { namespace, name } = splitKey(key);
    const obj = await this.deps.client.tryGet<GitSyncObject>(GITSYNCS, namespace, name);
    if (!obj || obj.metadata.deletionTimestamp || obj.spec?.suspend === true) return;
    const ns = obj.metadata.namespace!;
    const ref = `GitSync ${ns}/${name}`;
    const log = this.deps.logger.child({ gitsync: key });
    const involved = involvedObjectOf({ ...obj, apiVersion: 'keelson.dev/v1alpha1', kind: 'GitSync' });
    let update;
    let sync;
    try {
      sync = parseSpec(obj);
      update = imageUpdateOf(obj.spec, sync);
    } catch (err) {
      if (err instanceof SpecError) { log.warn(`${ref}: image updates skipped: ${err.message}`); return; } // the syncer reports spec errors
      throw err;
    }
    if (!update) return;
    const refs = this.deps.latestRefs(ns);
    if (refs.size === 0) return;
    const latest = (policy: string) => {
      const i = policy.indexOf(':');
      return policy.slice(0, i) === ns ? refs.get(policy.slice(i + 1)) : undefined;
    };
    try {
      await checkTransport(sync.url, this.deps.allowInsecureGit, this.deps.cacheDir);
      const identity = identityFor({ namespace: ns, name, serviceAccountName: sync.serviceAccountName }, this.deps.identityPolicy);
      // The syncer reports a GitSync without an identity (ServiceAccountRequired); nothing is read or pushed here.
      if (identity.kind === 'refused') { log.debug('image updates skipped: the GitSync has no identity'); return; }
      const reader = identity.kind === 'serviceAccount' ? this.deps.client.impersonating(identity.user) : this.deps.client;
      const auth = await readAuth(reader, ns, sync, identity);
      const signingKey = update.signingKeyRef === undefined ? undefined : await this.signingKey(reader, identity, ns, update.signingKeyRef);
      const session = await openSession(auth, { allowInsecure: this.deps.allowInsecureGit });
      let result;
      try {
        result = await pushImageUpdates({ session, url: sync.url, spec: update, latest, signingKey, signal: AbortSignal.any([signal, AbortSignal.timeout(sync.timeoutMs)]) });
      } finally {
        await session.dispose();
      }
      if (!result.commit) { this.deps.metrics.imageUpdatesTotal.inc({ result: 'unchanged' }); return; }
      this.deps.metrics.imageUpdatesTotal.inc({ result: 'pushed' });
      const lastImageUpdate: LastImageUpdate = { commit: `${update.branch}@sha1:${result.commit}`, time: new Date().toISOString(), changes: result.changes.length };
      log.info({ commit: result.commit, changes: result.changes.length }, `${ref}: pushed image updates to ${update.branch}`);
      await this.deps.client.patch(GITSYNCS, ns, name, 'merge', { status: { lastImageUpdate } }, { subresource: 'status' });
      // The new commit is applied by the GitSync's next sync; ask for it now instead of waiting for the interval.
      await this.deps.client.patch(GITSYNCS, ns, name, 'merge', { metadata: { annotations: { [REQUESTED_AT]: `image-update-${result.commit}` } } });
      const summary = result.changes.slice(0, 5).map((c) => `${c.file}:${c.line} ${c.to}`).join(', ');
      await this.deps.events.record(involved, 'Normal', 'ImageUpdateCommitted', `commit ${result.commit.slice(0, 12)} on ${update.branch}: ${result.changes.length} change(s): ${summary}${result.changes.length > 5 ? ', ...' : ''}`);
    } catch (err) {
      this.deps.metrics.imageUpdatesTotal.inc({ result: 'failure' });
      const message = errorText(err);
      if (err instanceof TransportError || err instanceof SecretRefError) {
        log.warn(`${ref}: image updates skipped: ${message}`);
        await this.deps.events.record(involved, 'Warning', 'ImageUpdateFailed', `image updates skipped: ${message}`);
        return;
      }
      await this.deps.events.record(involved, 'Warning', 'ImageUpdateFailed', `image update on ${update.branch} failed: ${message}`);
      throw err;
    }
  }
}
