// One GitSync's source: credentials and trusted keys from its Secrets (read with the GitSync's identity, so a tenant
// never gets Keelson to send a Secret it could not read itself), ls-remote to resolve the ref, a shallow
// fetch into its cache (skipped when the commit is already there), signature verification, and the manifest files
// at spec.path (after ignore rules; built with kustomize where it holds a kustomization or spec.kustomize is set:
// revision-files.ts). Transport policy and size limits are checked here, before anything is read. The first stage
// of pipeline.ts, which the syncer and `keelson diff` share.

import { realpath } from 'node:fs/promises';
import { type KubeClient, isForbidden, isNotFound } from '../kube/client.js';
import { SECRETS } from '../kube/resources.js';
import type { KubeObject } from '../kube/types.js';
import { type GitAuth, type GitProxy, type GitSession, type KeyedMutex, ensureRepo, fetchCommit, git, lsRemote, openSession, repoDirFor } from './git.js';
import { type Identity, secretForbiddenMessage } from './identity.js';
import { DEFAULT_LIMITS, type RevisionLimits } from './limits.js';
import { lsRemotePatterns, parseLsRemote, resolveRef } from './refs.js';
import type { SourceFile } from './render.js';
import { buildSource, gitTree, readSource } from './revision-files.js';
import { type GitSyncSpec, revisionOf } from './spec.js';
import { filePathOf, isWithin, transportVerdict } from './transport.js';
import { trustedKeysOf, verifyCommit } from './verify.js';

/** The GitSync's URL uses a transport the controller does not allow; nothing was fetched. */
export class TransportError extends Error {
  override readonly name = 'TransportError';
}

/** A Secret the GitSync names is missing or unusable; the message says which and what to put in it. */
export class SecretRefError extends Error {
  override readonly name: string = 'SecretRefError';
}

/** The GitSync's identity may not read a Secret the GitSync names; nothing was sent anywhere. */
export class SecretForbiddenError extends SecretRefError {
  override readonly name = 'SecretForbiddenError';
}

export interface Revision {
  readonly revision: string;
  readonly sha: string;
  readonly files: SourceFile[];
  /** FetchOptions.reuse said yes: nothing was read (files is empty). */
  readonly reused?: boolean;
  /** FetchOptions.onlyReuse and reuse said no: stopped once the revision was resolved (files is empty). */
  readonly stopped?: boolean;
  /** The commit's subject as git prints it, cut by git to about 200 characters; '' when unknown (status.history). */
  readonly subject?: string;
}

/**
 * The commit's subject, truncated by git itself (%<(200,trunc)) so a megabyte subject never reaches this process;
 * a failure only loses the subject, never the sync.
 */
async function commitSubject(session: GitSession, dir: string, sha: string, signal?: AbortSignal): Promise<string> {
  try {
    return (await git(session, ['-C', dir, 'show', '-s', '--no-show-signature', '--format=%<(200,trunc)%s', sha, '--'], { signal, maxOutput: 4096 })).toString('utf8').trimEnd();
  } catch { return ''; }
}

/**
 * A Secret the GitSync names, read with `client`: the GitSync's identity (impersonating its ServiceAccount, or
 * Keelson's own only where identity.ts allows it), which `identity` names in a 403's message.
 */
async function secretData(client: KubeClient, namespace: string, name: string, field: string, identity?: Identity): Promise<Record<string, string>> {
  let secret: KubeObject;
  try { secret = await client.get(SECRETS, namespace, name); } catch (err) {
    if (isNotFound(err)) throw new SecretRefError(`Secret ${namespace}/${name} named by ${field} does not exist`);
    if (isForbidden(err) && identity) throw new SecretForbiddenError(secretForbiddenMessage(identity, namespace, name, field, err));
    throw err;
  }
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries((secret.data ?? {}) as Record<string, string>)) data[k] = Buffer.from(v, 'base64').toString('utf8');
  return data;
}

/** Credentials from spec.secretRef: username/password, bearerToken, identity (+ known_hosts). */
export async function readAuth(client: KubeClient, namespace: string, spec: GitSyncSpec, identity?: Identity): Promise<GitAuth | undefined> {
  if (!spec.secretRef) return undefined;
  const d = await secretData(client, namespace, spec.secretRef, 'spec.secretRef', identity);
  const auth: GitAuth = { username: d.username, password: d.password, bearerToken: d.bearerToken, identity: d.identity, knownHosts: d.known_hosts, caCert: d['ca.crt'] ?? d.caFile };
  if (!auth.password && !auth.bearerToken && !auth.identity && !auth.knownHosts && !auth.caCert) {
    throw new SecretRefError(`Secret ${namespace}/${spec.secretRef} (spec.secretRef) has none of the keys username/password, bearerToken, identity, known_hosts, ca.crt`);
  }
  return auth;
}

/** Schemes git (libcurl) takes for a proxy. */
const PROXY_SCHEMES = ['http:', 'https:', 'socks4:', 'socks4a:', 'socks5:', 'socks5h:'];

/**
 * The proxy of a proxySecretRef Secret's data: `address` (scheme://host:port), optional `username`/`password`.
 * Credentials belong in their own keys; an address carrying them is refused (its text is never echoed). Pure.
 */
export function proxyOf(d: Readonly<Record<string, string>>, what: string): GitProxy {
  const address = (d.address ?? '').trim();
  if (address === '') throw new SecretRefError(`${what} has no "address" key; set it to the proxy's URL, e.g. http://proxy.example:3128`);
  let u: URL;
  try { u = new URL(address); } catch { throw new SecretRefError(`${what}: "address" is not a URL such as http://proxy.example:3128`); }
  if (u.username !== '' || u.password !== '') throw new SecretRefError(`${what}: "address" must not carry credentials; put them in the "username" and "password" keys`);
  if (!PROXY_SCHEMES.includes(u.protocol) || u.hostname === '' || (u.pathname !== '/' && u.pathname !== '') || u.search !== '' || u.hash !== '') {
    throw new SecretRefError(`${what}: "address" must be scheme://host[:port] with scheme http, https, socks4, socks4a, socks5 or socks5h`);
  }
  return { kind: 'secret', address: `${u.protocol}//${u.host}`, username: d.username || undefined, password: d.password || undefined };
}

/** The proxy git uses for a GitSync: its proxySecretRef, else the controller's proxy variables (if any). */
export async function readProxy(client: KubeClient, namespace: string, spec: GitSyncSpec, env: Readonly<Record<string, string>> | undefined, identity?: Identity): Promise<GitProxy | undefined> {
  if (spec.proxySecretRef) {
    return proxyOf(await secretData(client, namespace, spec.proxySecretRef, 'spec.proxySecretRef', identity), `Secret ${namespace}/${spec.proxySecretRef} (spec.proxySecretRef)`);
  }
  return env && Object.keys(env).length > 0 ? { kind: 'environment', variables: env } : undefined;
}

export interface FetchOptions {
  /** Reads the GitSync's Secrets: the client of its identity (the syncer), or the user's own (`keelson diff`). */
  readonly client: KubeClient;
  /** The identity `client` acts as, named in a SecretForbidden message; unset for `keelson diff`. */
  readonly identity?: Identity | undefined;
  readonly namespace: string;
  readonly name: string;
  readonly spec: GitSyncSpec;
  readonly cacheDir: string;
  readonly mutex: KeyedMutex;
  readonly signal?: AbortSignal | undefined;
  /** Called with the revision as soon as it is resolved (before fetch), so a failure can still name it. */
  readonly onResolved?: (revision: string) => void;
  /** http://, git:// and file:// allowed (--allow-insecure-git); default false. */
  readonly allowInsecure?: boolean;
  /** Default DEFAULT_LIMITS (64 MiB, 10,000 objects); only maxBytes is used here, objects are counted in rendering. */
  readonly limits?: RevisionLimits;
  /** The kustomize program (--kustomize-path), for a spec.path holding a kustomization; default "kustomize". */
  readonly kustomizePath?: string;
  /** The controller's HTTPS_PROXY/HTTP_PROXY/NO_PROXY (Options.gitsync.proxyEnv); spec.proxySecretRef overrides them. */
  readonly proxyEnv?: Readonly<Record<string, string>> | undefined;
  /**
   * Asked once the revision is resolved (and, with spec.verify, its signature checked again): true stops there,
   * with `reused` and no files, when the caller still knows what this revision applies.
   */
  readonly reuse?: ((revision: string) => boolean) | undefined;
  /** With reuse: when it says no, stop there too (`stopped`, no files): the caller then syncs the full way. */
  readonly onlyReuse?: boolean | undefined;
}

/**
 * Refuses a URL the transport policy forbids before anything (Secrets, git) is touched. For file:// the real path
 * is checked too, so a symlink cannot lead into the Git cache.
 */
export async function checkTransport(url: string, allowInsecure: boolean, cacheDir: string): Promise<void> {
  const verdict = transportVerdict(url, { allowInsecure, cacheDir });
  if (!verdict.ok) throw new TransportError(verdict.message);
  const path = filePathOf(url);
  if (path === undefined) return;
  const [real, cache] = await Promise.all([realpath(path).catch(() => path), realpath(cacheDir).catch(() => cacheDir)]);
  if (isWithin(real, cache) || isWithin(cache, real)) throw new TransportError(`spec.url file://${path} resolves into or above the controller's Git cache, where other GitSyncs' repositories are kept; point it at a repository elsewhere`);
}

/** Resolves, fetches, verifies and reads the manifests of the revision the GitSync's ref points at now. */
export async function fetchRevision(o: FetchOptions): Promise<Revision> {
  const allowInsecure = o.allowInsecure ?? false;
  await checkTransport(o.spec.url, allowInsecure, o.cacheDir);
  const limits = o.limits ?? DEFAULT_LIMITS;
  // The Secrets the GitSync names are read side by side (a refusal of any of them is reported).
  const [auth, keys, proxy] = await Promise.all([
    readAuth(o.client, o.namespace, o.spec, o.identity),
    o.spec.verify ? secretData(o.client, o.namespace, o.spec.verify.secretRef, 'spec.verify.secretRef', o.identity).then(trustedKeysOf) : undefined,
    readProxy(o.client, o.namespace, o.spec, o.proxyEnv, o.identity),
  ]);
  // Nothing is written into the session folder unless signatures are checked (verify.ts keeps its keyrings there).
  const session = await openSession(auth, { allowInsecure, proxy, shareable: !keys });
  const source = { path: o.spec.path, ignore: o.spec.ignore, kustomize: o.spec.kustomize, limits, kustomizePath: o.kustomizePath ?? 'kustomize', signal: o.signal };
  try {
    // Git's cache is locked while the revision is read; a kustomize build runs after, so builds of overlays of one
    // repository do not wait for each other.
    const read = await o.mutex.with(o.spec.url, async () => {
      const refs = o.spec.ref.kind === 'commit' ? new Map<string, string>() : parseLsRemote(await lsRemote(session, o.spec.url, lsRemotePatterns(o.spec.ref), o.signal));
      const resolved = resolveRef(o.spec.ref, refs);
      const revision = revisionOf(resolved.name, resolved.sha);
      o.onResolved?.(revision);
      // The caller may still know what this revision applies: then nothing is read (with verify, after the check).
      if (!keys && o.reuse?.(revision)) return { revision, sha: resolved.sha, plan: undefined };
      if (!keys && o.onlyReuse) return { revision, sha: resolved.sha, plan: undefined, stopped: true };
      const dir = repoDirFor(o.cacheDir, o.namespace, o.name, o.spec.url);
      await ensureRepo(session, dir, o.signal);
      await fetchCommit(session, dir, o.spec.url, resolved.fetchRef, resolved.sha, o.signal, limits.maxBytes);
      if (keys) {
        await verifyCommit(session, dir, resolved.sha, keys, o.signal);
        if (o.reuse?.(revision)) return { revision, sha: resolved.sha, plan: undefined };
        if (o.onlyReuse) return { revision, sha: resolved.sha, plan: undefined, stopped: true };
      }
      // The subject (one git process, never failing) is read beside the tree rather than after it.
      const [plan, subject] = await Promise.all([
        readSource(gitTree(session, dir, resolved.sha, `revision ${revision}`, limits.maxBytes), { ...source, where: `revision ${revision}` }),
        commitSubject(session, dir, resolved.sha, o.signal),
      ]);
      return { revision, sha: resolved.sha, plan, subject };
    });
    if (!read.plan) return { revision: read.revision, sha: read.sha, files: [], ...('stopped' in read ? { stopped: true } : { reused: true }) };
    return { revision: read.revision, sha: read.sha, files: await buildSource(read.plan, source), subject: read.subject };
  } finally {
    await session.dispose();
  }
}
