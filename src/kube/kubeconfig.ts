// Reads a kubeconfig file (or the in-cluster service account) into the server URL and the TLS material and headers
// a request needs. Tokens, client certificates, basic auth and CAs are handled here; only users that need an exec
// plugin or an auth-provider load @kubernetes/client-node, on first use: its generated API code costs ~75 MiB of
// resident memory, half of the controller's budget, and nothing else in a running controller needs it.

import { readFileSync } from 'node:fs';
import type https from 'node:https';
import { dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';

/** What a KubeClient needs from a kubeconfig; @kubernetes/client-node's KubeConfig satisfies it too (tests use it). */
export interface KubeConfigSource {
  getCurrentCluster(): { readonly server: string } | null;
  /** Sets ca/cert/key/rejectUnauthorized/servername, and headers or auth, on request options. */
  applyToHTTPSOptions(opts: https.RequestOptions): Promise<void>;
}

export interface KubeconfigCluster {
  readonly server: string;
  readonly ca?: Buffer | undefined;
  readonly insecureSkipTlsVerify: boolean;
  readonly tlsServerName?: string | undefined;
}

export interface KubeconfigUser {
  readonly token?: string | undefined;
  readonly tokenFile?: string | undefined;
  readonly cert?: Buffer | undefined;
  readonly key?: Buffer | undefined;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** exec or auth-provider: handled by @kubernetes/client-node. */
  readonly needsPlugin: boolean;
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

type Doc = Record<string, unknown>;
const obj = (v: unknown): Doc => (v && typeof v === 'object' && !Array.isArray(v) ? v as Doc : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function named(list: unknown, name: string | undefined, what: string, file: string): Doc {
  const entry = Array.isArray(list) ? list.map(obj).find((e) => e.name === name) : undefined;
  if (!entry) throw new Error(`${file}: ${what} "${name ?? ''}" named by the current context is not defined`);
  return entry;
}

/** Resolves the current context (or `context`, as kubectl --context) of a parsed kubeconfig. Pure apart from
 * reading the files it names. */
export function resolveKubeconfig(doc: Doc, file: string, context?: string): { cluster: KubeconfigCluster; user: KubeconfigUser; namespace: string | undefined } {
  const base = dirname(file);
  const path = (p: string) => (isAbsolute(p) ? p : join(base, p));
  const bytes = (data: unknown, ref: unknown): Buffer | undefined => {
    const d = str(data);
    if (d) return Buffer.from(d, 'base64');
    const f = str(ref);
    return f ? readFileSync(path(f)) : undefined;
  };
  const contextName = str(context) ?? str(doc['current-context']);
  if (!contextName) throw new Error(`${file}: no current-context is set`);
  const ctx = obj(named(doc.contexts, contextName, 'context', file).context);
  const c = obj(named(doc.clusters, str(ctx.cluster), 'cluster', file).cluster);
  const server = str(c.server);
  if (!server) throw new Error(`${file}: cluster "${String(ctx.cluster)}" has no server`);
  const userName = str(ctx.user);
  const u = userName ? obj(named(doc.users, userName, 'user', file).user) : {};
  const tokenFile = str(u.tokenFile);
  return {
    namespace: str(ctx.namespace),
    cluster: {
      server,
      ca: bytes(c['certificate-authority-data'], c['certificate-authority']),
      insecureSkipTlsVerify: c['insecure-skip-tls-verify'] === true,
      tlsServerName: str(c['tls-server-name']),
    },
    user: {
      token: str(u.token),
      tokenFile: tokenFile ? path(tokenFile) : undefined,
      cert: bytes(u['client-certificate-data'], u['client-certificate']),
      key: bytes(u['client-key-data'], u['client-key']),
      username: str(u.username),
      password: str(u.password),
      needsPlugin: u.exec !== undefined || u['auth-provider'] !== undefined,
    },
  };
}

/** Applies a resolved cluster and user to request options; a token file is re-read each time (it rotates). */
export function applyCredentials(cluster: KubeconfigCluster, user: KubeconfigUser, opts: https.RequestOptions): void {
  if (cluster.ca) opts.ca = cluster.ca;
  if (cluster.insecureSkipTlsVerify) opts.rejectUnauthorized = false;
  if (cluster.tlsServerName) opts.servername = cluster.tlsServerName;
  if (user.cert) opts.cert = user.cert;
  if (user.key) opts.key = user.key;
  const token = user.token ?? (user.tokenFile ? readFileSync(user.tokenFile, 'utf8').trim() : undefined);
  const headers = (opts.headers ?? {}) as Record<string, string>;
  if (token) headers.Authorization = `Bearer ${token}`;
  opts.headers = headers;
  if (user.username !== undefined && user.password !== undefined) opts.auth = `${user.username}:${user.password}`;
}

type Origin = { kind: 'file'; path: string } | { kind: 'cluster' };

export class Kubeconfig implements KubeConfigSource {
  private plugin: Promise<KubeConfigSource> | undefined;

  private constructor(
    readonly cluster: KubeconfigCluster,
    readonly user: KubeconfigUser,
    /** The current context's namespace (in a pod: the service account's), as kubectl defaults to. */
    readonly namespace: string | undefined,
    private readonly origin: Origin,
    private readonly context?: string,
  ) {}

  static fromFile(path: string, context?: string): Kubeconfig {
    let doc: Doc;
    try { doc = obj(parse(readFileSync(path, 'utf8'))); } catch (e) { throw new Error(`cannot read kubeconfig ${path}: ${(e as Error).message}`); }
    const { cluster, user, namespace } = resolveKubeconfig(doc, path, context);
    return new Kubeconfig(cluster, user, namespace, { kind: 'file', path }, context);
  }

  /** The pod's service account, as client-go's rest.InClusterConfig reads it. */
  static inCluster(env: Readonly<Record<string, string | undefined>>, dir = SERVICE_ACCOUNT_DIR): Kubeconfig {
    const host = env.KUBERNETES_SERVICE_HOST ?? '';
    const port = env.KUBERNETES_SERVICE_PORT ?? '443';
    const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
    let namespace: string | undefined;
    try { namespace = readFileSync(join(dir, 'namespace'), 'utf8').trim() || undefined; } catch { /* not mounted */ }
    return new Kubeconfig({ server, ca: readFileSync(join(dir, 'ca.crt')), insecureSkipTlsVerify: false }, { tokenFile: join(dir, 'token'), needsPlugin: false }, namespace, { kind: 'cluster' });
  }

  getCurrentCluster(): { readonly server: string } {
    return this.cluster;
  }

  async applyToHTTPSOptions(opts: https.RequestOptions): Promise<void> {
    if (!this.user.needsPlugin) { applyCredentials(this.cluster, this.user, opts); return; }
    this.plugin ??= (async () => {
      const { KubeConfig } = await import('@kubernetes/client-node');
      const kc = new KubeConfig();
      if (this.origin.kind === 'file') { kc.loadFromFile(this.origin.path); if (this.context) kc.setCurrentContext(this.context); } else kc.loadFromCluster();
      return kc as KubeConfigSource;
    })();
    await (await this.plugin).applyToHTTPSOptions(opts);
  }
}
