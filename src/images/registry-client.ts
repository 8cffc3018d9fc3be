// A small OCI Distribution API client: tag listing with Link pagination and manifest digests, Basic auth and the
// Bearer token flow, HTTPS with an optional private CA, plain HTTP only when allowed. Every response is bounded in
// size and time; 429 and 5xx are retried with backoff. Credentials go only into Authorization headers, never into
// URLs or error messages (errors name the registry, path and status).

import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';
import { backoffDelay, sleep } from '../kube/backoff.js';
import type { RegistryCredentials } from './credentials.js';
import { nextLink, parseChallenges } from './headers.js';
import { type ImageRepository, isValidTag } from './reference.js';

export interface RegistryLimits {
  /** Per request, headers and body. */
  readonly timeoutMs: number;
  /** Per response body. */
  readonly maxBodyBytes: number;
  readonly maxPages: number;
  readonly maxTags: number;
  /** Attempts per request on 429/5xx/network errors. */
  readonly attempts: number;
  /** Tags asked for per page (`n`); registries may return fewer and paginate with Link. */
  readonly pageSize: number;
}

export const DEFAULT_LIMITS: RegistryLimits = { timeoutMs: 30_000, maxBodyBytes: 4 * 1024 * 1024, maxPages: 100, maxTags: 10_000, attempts: 3, pageSize: 1000 };

/** Why a scan failed, as a condition reason; `transient` failures are retried with backoff. */
export type RegistryFailure = 'AuthenticationFailed' | 'NotFound' | 'TooManyTags' | 'RegistryError' | 'Unreachable';

export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  constructor(readonly reason: RegistryFailure, message: string, readonly transient: boolean) { super(message); }
}

export interface RegistryClientOptions {
  readonly ref: ImageRepository;
  readonly credentials?: RegistryCredentials | undefined;
  /** PEM CA bundle trusted besides the system roots. */
  readonly ca?: string | undefined;
  /** Plain HTTP (only when the operator allowed insecure registries). */
  readonly plainHttp: boolean;
  readonly limits?: Partial<RegistryLimits>;
  readonly signal?: AbortSignal | undefined;
}

interface Response { status: number; headers: http.IncomingHttpHeaders; body: Buffer }

const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

const header = (h: http.IncomingHttpHeaders, name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v.join(', ') : v;
};

/** `sha256:<64 hex>` (or sha512), checked character by character. */
export function isDigest(text: string): boolean {
  const colon = text.indexOf(':');
  const algo = text.slice(0, colon);
  const hex = text.slice(colon + 1);
  const len = algo === 'sha256' ? 64 : algo === 'sha512' ? 128 : -1;
  if (hex.length !== len) return false;
  for (let i = 0; i < hex.length; i++) { const c = hex.charCodeAt(i); if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false; }
  return true;
}

export class RegistryClient {
  private readonly limits: RegistryLimits;
  private readonly base: URL;
  private authorization: string | undefined;
  private readonly agent: http.Agent;

  constructor(private readonly opts: RegistryClientOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.base = new URL(`${opts.plainHttp ? 'http' : 'https'}://${opts.ref.apiHost}/`);
    this.agent = opts.plainHttp
      ? new http.Agent({ keepAlive: true, maxSockets: 2 })
      : new https.Agent({ keepAlive: true, maxSockets: 2, ...(opts.ca ? { ca: [...rootCertificates, opts.ca] } : {}) });
  }

  close(): void { this.agent.destroy(); }

  private get what(): string { return `registry ${this.opts.ref.apiHost}`; }

  /** Every tag of the repository (valid OCI tags only), following `Link: <...>; rel="next"` within the limits. */
  async listTags(): Promise<string[]> {
    const tags: string[] = [];
    const seen = new Set<string>();
    let url: URL | undefined = new URL(`/v2/${this.opts.ref.repository}/tags/list?n=${this.limits.pageSize}`, this.base);
    for (let page = 0; url; page++) {
      if (page >= this.limits.maxPages) throw new RegistryError('TooManyTags', `${this.what} returned more than ${this.limits.maxPages} pages of tags for ${this.opts.ref.repository}`, false);
      if (seen.has(url.href)) break; // a registry pointing back to a page already read: stop, do not loop
      seen.add(url.href);
      const res = await this.get(url, 'application/json');
      let parsed: unknown;
      try { parsed = JSON.parse(res.body.toString('utf8')); } catch { throw new RegistryError('RegistryError', `${this.what}: the tag list of ${this.opts.ref.repository} is not JSON`, true); }
      const list = (parsed as { tags?: unknown } | null)?.tags;
      if (list !== null && list !== undefined && !Array.isArray(list)) throw new RegistryError('RegistryError', `${this.what}: the tag list of ${this.opts.ref.repository} has no tags array`, false);
      for (const t of (list ?? []) as unknown[]) {
        if (typeof t !== 'string' || !isValidTag(t)) continue;
        tags.push(t);
        if (tags.length > this.limits.maxTags) throw new RegistryError('TooManyTags', `${this.opts.ref.canonical} has more than ${this.limits.maxTags} tags; Keelson reads at most that many`, false);
      }
      const link = header(res.headers, 'link');
      url = link === undefined ? undefined : this.sameOrigin(nextLink(link));
    }
    return tags;
  }

  /** The manifest digest of a tag (Docker-Content-Digest of a HEAD, else the sha256 of the manifest body). */
  async digestOf(tag: string): Promise<string> {
    const url = new URL(`/v2/${this.opts.ref.repository}/manifests/${encodeURIComponent(tag)}`, this.base);
    const head = await this.send('HEAD', url, MANIFEST_ACCEPT);
    const d = header(head.headers, 'docker-content-digest');
    if (d !== undefined && isDigest(d.trim())) return d.trim();
    const res = await this.get(url, MANIFEST_ACCEPT);
    return `sha256:${createHash('sha256').update(res.body).digest('hex')}`;
  }

  /** Resolves a next-page link; only the registry's own origin and /v2/ paths are followed (no credential leaks). */
  private sameOrigin(uri: string | undefined): URL | undefined {
    if (uri === undefined) return undefined;
    let u: URL;
    try { u = new URL(uri, this.base); } catch { return undefined; }
    if (u.origin !== this.base.origin || !u.pathname.startsWith('/v2/')) {
      throw new RegistryError('RegistryError', `${this.what} sent a next-page link to another origin or path; not followed`, false);
    }
    return u;
  }

  private async get(url: URL, accept: string): Promise<Response> {
    return this.send('GET', url, accept);
  }

  /** One request with authentication and retries; a non-2xx answer becomes a RegistryError. */
  private async send(method: 'GET' | 'HEAD', url: URL, accept: string): Promise<Response> {
    let authTried = false;
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await this.raw(method, url, { accept, ...(this.authorization ? { authorization: this.authorization } : {}) });
      } catch (err) {
        if (err instanceof RegistryError && !err.transient) throw err;
        if (attempt + 1 >= this.limits.attempts || this.opts.signal?.aborted) throw err instanceof RegistryError ? err : new RegistryError('Unreachable', `${this.what}: ${errorText(err)}`, true);
        await sleep(backoffDelay({ baseMs: 500, maxMs: 8000 }, attempt), this.opts.signal);
        continue;
      }
      if (res.status === 401 && !authTried) {
        authTried = true;
        await this.authenticate(header(res.headers, 'www-authenticate') ?? '');
        attempt--;
        continue;
      }
      if (res.status >= 200 && res.status < 300) return res;
      if (res.status === 401 || res.status === 403) throw new RegistryError('AuthenticationFailed', `${this.what} refused ${method} ${url.pathname} (${res.status}): check the credentials in spec.secretRef and their pull rights`, false);
      if (res.status === 404) throw new RegistryError('NotFound', `${this.what} has no repository ${this.opts.ref.repository} (404 for ${url.pathname})`, false);
      const transient = res.status === 429 || res.status >= 500;
      if (!transient || attempt + 1 >= this.limits.attempts) throw new RegistryError('RegistryError', `${this.what} answered ${res.status} to ${method} ${url.pathname}`, transient);
      const retryAfter = Number(header(res.headers, 'retry-after'));
      const delay = Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter * 1000, 30_000) : backoffDelay({ baseMs: 500, maxMs: 8000 }, attempt);
      await sleep(delay, this.opts.signal);
    }
  }

  /** Answers a 401 challenge: Basic with the credentials, or a Bearer token fetched from the realm. */
  private async authenticate(wwwAuthenticate: string): Promise<void> {
    const creds = this.opts.credentials;
    const challenges = parseChallenges(wwwAuthenticate);
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    const basic = creds ? `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}` : undefined;
    if (!bearer) {
      if (!basic) throw new RegistryError('AuthenticationFailed', `${this.what} requires authentication: set spec.secretRef to a kubernetes.io/dockerconfigjson Secret`, false);
      this.authorization = basic;
      return;
    }
    const realmText = bearer.params.realm;
    let realm: URL;
    try { realm = new URL(realmText ?? ''); } catch { throw new RegistryError('AuthenticationFailed', `${this.what} sent a Bearer challenge without a valid realm URL`, false); }
    if (realm.protocol !== 'https:' && !(realm.protocol === 'http:' && this.opts.plainHttp)) {
      throw new RegistryError('AuthenticationFailed', `${this.what} sent a token realm that is not https (${realm.protocol}); refused`, false);
    }
    realm.searchParams.set('service', bearer.params.service ?? '');
    if (bearer.params.service === undefined) realm.searchParams.delete('service');
    realm.searchParams.set('scope', bearer.params.scope ?? `repository:${this.opts.ref.repository}:pull`);
    const res = await this.raw('GET', realm, { accept: 'application/json', ...(basic ? { authorization: basic } : {}) }, realm.protocol === 'http:');
    if (res.status === 401 || res.status === 403) throw new RegistryError('AuthenticationFailed', `the token service of ${this.what} refused the credentials (${res.status}): check spec.secretRef`, false);
    if (res.status < 200 || res.status >= 300) throw new RegistryError('RegistryError', `the token service of ${this.what} answered ${res.status}`, res.status === 429 || res.status >= 500);
    let token: unknown;
    try {
      const body = JSON.parse(res.body.toString('utf8')) as { token?: unknown; access_token?: unknown };
      token = body.token ?? body.access_token;
    } catch { /* handled below */ }
    if (typeof token !== 'string' || token === '' || token.length > 64 * 1024) throw new RegistryError('AuthenticationFailed', `the token service of ${this.what} returned no token`, false);
    this.authorization = `Bearer ${token}`;
  }

  /** One HTTP exchange, body capped at maxBodyBytes and the whole exchange at timeoutMs. */
  private raw(method: string, url: URL, headers: Record<string, string>, plain = this.opts.plainHttp): Promise<Response> {
    const { timeoutMs, maxBodyBytes } = this.limits;
    const signals = [AbortSignal.timeout(timeoutMs), ...(this.opts.signal ? [this.opts.signal] : [])];
    const signal = AbortSignal.any(signals);
    const sameHost = url.host === this.base.host;
    const mod = plain ? http : https;
    return new Promise<Response>((resolve, reject) => {
      const req = mod.request(url, {
        method, headers: { 'user-agent': 'keelson', ...headers }, signal,
        // A token realm on another host gets its own connection, with the same CA trust.
        ...(sameHost ? { agent: this.agent } : !plain && this.opts.ca ? { ca: [...rootCertificates, this.opts.ca] } : {}),
        maxHeaderSize: 32 * 1024,
      }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBodyBytes) { req.destroy(new RegistryError('RegistryError', `${this.what}: response to ${url.pathname} is larger than ${maxBodyBytes} bytes`, false)); return; }
          chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('error', (err) => reject(err instanceof RegistryError ? err
        : signal.aborted && !this.opts.signal?.aborted ? new RegistryError('Unreachable', `${this.what}: no answer to ${method} ${url.pathname} within ${timeoutMs} ms`, true)
          : new RegistryError('Unreachable', `${this.what}: ${errorText(err)}`, true)));
      req.end();
    });
  }
}

/** A network error's message without anything a URL could carry (userinfo is never put into URLs anyway). */
function errorText(err: unknown): string {
  const e = err as { code?: string; message?: string };
  // Node's own hint ("try running Node.js with --use-system-ca") is no use to a user: say where the CA goes.
  const text = String(e?.message ?? err).split('\n', 1)[0]!.split('; if the root CA')[0]!.slice(0, 200);
  const tls = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(e?.code ?? '');
  return (e?.code ? `${e.code}: ` : '') + text + (tls ? ' (a private CA goes into the spec.secretRef Secret as ca.crt)' : '');
}
