// One GitSync's source: credentials and trusted keys from its Secrets, ls-remote to resolve the ref, a shallow
// fetch into its cache (skipped when the commit is already there), signature verification, and the manifest files
// at spec.path; then rendering against API discovery. Used by the syncer and by `keelson diff`.

import { type KubeClient, isNotFound } from '../kube/client.js';
import { SECRETS } from '../kube/resources.js';
import type { KubeObject } from '../kube/types.js';
import type { Discovery } from './discovery.js';
import { type GitAuth, type KeyedMutex, ensureRepo, fetchCommit, listFiles, lsRemote, openSession, readBlobs, repoDirFor } from './git.js';
import { lsRemotePatterns, parseLsRemote, resolveRef } from './refs.js';
import { type DesiredObject, type SourceFile, finalize, isManifestPath, parseFiles } from './render.js';
import { type GitSyncSpec, revisionOf } from './spec.js';
import { trustedKeysOf, verifyCommit } from './verify.js';

/** A Secret the GitSync names is missing or unusable; the message says which and what to put in it. */
export class SecretRefError extends Error {
  override readonly name = 'SecretRefError';
}

export interface Revision {
  readonly revision: string;
  readonly sha: string;
  readonly files: SourceFile[];
}

async function secretData(client: KubeClient, namespace: string, name: string, field: string): Promise<Record<string, string>> {
  let secret: KubeObject;
  try { secret = await client.get(SECRETS, namespace, name); } catch (err) {
    if (isNotFound(err)) throw new SecretRefError(`Secret ${namespace}/${name} named by ${field} does not exist`);
    throw err;
  }
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries((secret.data ?? {}) as Record<string, string>)) data[k] = Buffer.from(v, 'base64').toString('utf8');
  return data;
}

/** Credentials from spec.secretRef: username/password, bearerToken, identity (+ known_hosts). */
export async function readAuth(client: KubeClient, namespace: string, spec: GitSyncSpec): Promise<GitAuth | undefined> {
  if (!spec.secretRef) return undefined;
  const d = await secretData(client, namespace, spec.secretRef, 'spec.secretRef');
  const auth: GitAuth = { username: d.username, password: d.password, bearerToken: d.bearerToken, identity: d.identity, knownHosts: d.known_hosts, caCert: d['ca.crt'] ?? d.caFile };
  if (!auth.password && !auth.bearerToken && !auth.identity && !auth.knownHosts && !auth.caCert) {
    throw new SecretRefError(`Secret ${namespace}/${spec.secretRef} (spec.secretRef) has none of the keys username/password, bearerToken, identity, known_hosts, ca.crt`);
  }
  return auth;
}

export interface FetchOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly name: string;
  readonly spec: GitSyncSpec;
  readonly cacheDir: string;
  readonly mutex: KeyedMutex;
  readonly signal?: AbortSignal | undefined;
  /** Called with the revision as soon as it is resolved (before fetch), so a failure can still name it. */
  readonly onResolved?: (revision: string) => void;
}

/** Resolves, fetches, verifies and reads the manifests of the revision the GitSync's ref points at now. */
export async function fetchRevision(o: FetchOptions): Promise<Revision> {
  const auth = await readAuth(o.client, o.namespace, o.spec);
  const keys = o.spec.verify ? trustedKeysOf(await secretData(o.client, o.namespace, o.spec.verify.secretRef, 'spec.verify.secretRef')) : undefined;
  const session = await openSession(auth);
  try {
    return await o.mutex.with(o.spec.url, async () => {
      const refs = o.spec.ref.kind === 'commit' ? new Map<string, string>() : parseLsRemote(await lsRemote(session, o.spec.url, lsRemotePatterns(o.spec.ref), o.signal));
      const resolved = resolveRef(o.spec.ref, refs);
      const revision = revisionOf(resolved.name, resolved.sha);
      o.onResolved?.(revision);
      const dir = repoDirFor(o.cacheDir, o.namespace, o.name, o.spec.url);
      await ensureRepo(session, dir, o.signal);
      await fetchCommit(session, dir, o.spec.url, resolved.fetchRef, resolved.sha, o.signal);
      if (keys) await verifyCommit(session, dir, resolved.sha, keys, o.signal);
      const listed = (await listFiles(session, dir, resolved.sha, o.spec.path)).filter((f) => isManifestPath(f.path, o.spec.path));
      const blobs = await readBlobs(session, dir, listed.map((f) => f.oid));
      const files = listed.map((f, i) => ({ path: f.path, content: blobs[i]!.toString('utf8') }));
      return { revision, sha: resolved.sha, files };
    });
  } finally {
    await session.dispose();
  }
}

/** Parses and validates the files and gives every object its namespace and owner labels. */
export async function renderRevision(files: readonly SourceFile[], spec: GitSyncSpec, owner: { namespace: string; name: string }, discovery: Discovery): Promise<DesiredObject[]> {
  const parsed = parseFiles(files);
  const scopes = new Map<string, boolean | undefined>();
  for (const p of parsed) {
    const key = `${p.group}/${p.version}/${p.kind}`;
    if (!scopes.has(key)) scopes.set(key, (await discovery.resourceFor(p.group, p.version, p.kind))?.namespaced);
  }
  return finalize(parsed, { targetNamespace: spec.targetNamespace, defaultNamespace: owner.namespace, owner, scope: (g, v, k) => scopes.get(`${g}/${v}/${k}`) });
}

