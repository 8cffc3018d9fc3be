// A thin JSON client for the Kubernetes API (and protobuf for one read: metadata-only LISTs, metadata-list.ts). kubeconfig.ts reads the kubeconfig and supplies TLS material and
// credentials (tokens, client certificates, rotating in-cluster tokens; exec plugins and OIDC through
// @kubernetes/client-node, loaded only then); requests go out over node:https with one keep-alive agent, objects
// stay plain JSON (no class round-trips), and watches stream line by line.

import { existsSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { type KubeConfigSource, Kubeconfig, SERVICE_ACCOUNT_DIR } from './kubeconfig.js';
import { ListItemSplitter } from './list-items.js';
import { type MetadataItem, type MetadataListPage, decodeMetadataList, isProtobuf } from './metadata-list.js';
import { type ResourceType, resourcePath } from './resources.js';
import type { KubeObject, ObjectList, Status, WatchEvent } from './types.js';

/** An API answer other than 2xx, with the Status reason; the message never contains request bodies. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly details?: Status['details'],
  ) {
    super(message);
  }
}

export const isNotFound = (e: unknown): boolean => e instanceof ApiError && e.status === 404;
export const isConflict = (e: unknown): boolean => e instanceof ApiError && e.status === 409;
export const isAlreadyExists = (e: unknown): boolean => e instanceof ApiError && e.status === 409 && e.reason === 'AlreadyExists';
export const isGone = (e: unknown): boolean => e instanceof ApiError && e.status === 410;
export const isForbidden = (e: unknown): boolean => e instanceof ApiError && e.status === 403;
export const isInvalid = (e: unknown): boolean => e instanceof ApiError && (e.status === 422 || e.status === 400);

export type PatchType = 'merge' | 'strategic' | 'json' | 'apply';
const PATCH_CONTENT_TYPE: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
};

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  readonly query?: Query;
  readonly body?: unknown;
  readonly contentType?: string;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
  /** Accept header (default application/json), e.g. a metadata-only PartialObjectMetadataList. */
  readonly accept?: string;
}

export interface ListOptions {
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly limit?: number;
  readonly continue?: string;
  readonly resourceVersion?: string;
  /** Ask for PartialObjectMetadata: each item is apiVersion, kind and metadata only (no data, spec or status). */
  readonly metadataOnly?: boolean;
}

export interface WatchOptions {
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly resourceVersion?: string;
  readonly timeoutSeconds?: number;
  readonly signal?: AbortSignal;
  /** Events carry PartialObjectMetadata objects (see ListOptions.metadataOnly). */
  readonly metadataOnly?: boolean;
}

// meta.k8s.io/v1 PartialObjectMetadata(List), served for every resource since Kubernetes 1.15. The plain
// application/json after it is the fallback of client-go's metadata client: a server that cannot convert answers
// with full objects rather than 406, and the caller's transform reads metadata from those just the same.
const METADATA_LIST_ACCEPT = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';
/** Protobuf first (metadata-list.ts), JSON where the server has no protobuf for the kind. */
const METADATA_LIST_PROTOBUF_ACCEPT = `application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,${METADATA_LIST_ACCEPT}`;
const METADATA_WATCH_ACCEPT = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';

export interface WriteOptions {
  readonly fieldManager?: string;
  readonly dryRun?: boolean;
  readonly force?: boolean;
  readonly subresource?: string;
}

/** kubeconfig lookup order of DESIGN §5: --kubeconfig, in-cluster, $KUBECONFIG, ~/.kube/config. */
export function loadKubeConfig(opts: { kubeconfig?: string | undefined; context?: string | undefined; env?: Readonly<Record<string, string | undefined>> }): Kubeconfig {
  const env = opts.env ?? {};
  if (opts.kubeconfig) return Kubeconfig.fromFile(opts.kubeconfig, opts.context);
  if (env.KUBERNETES_SERVICE_HOST && existsSync(join(SERVICE_ACCOUNT_DIR, 'token'))) return Kubeconfig.inCluster(env);
  if (env.KUBECONFIG) return Kubeconfig.fromFile(env.KUBECONFIG.split(':')[0]!, opts.context);
  const path = join(env.HOME || homedir(), '.kube', 'config');
  if (!existsSync(path)) throw new Error(`no Kubernetes configuration found: pass --kubeconfig, run in a cluster, set $KUBECONFIG, or create ${path}`);
  return Kubeconfig.fromFile(path, opts.context);
}

interface Auth { headers: Record<string, string>; at: number }

/** The sockets and credentials of one kubeconfig user, shared by a client and its impersonating views. */
class Connection {
  readonly agent: http.Agent;
  // Watches hold a socket for minutes; they get their own unlimited pool so they never starve ordinary requests.
  readonly watchAgent: http.Agent;
  private auth: Auth | undefined;
  private tls: https.RequestOptions | undefined;

  constructor(private readonly kubeConfig: KubeConfigSource, server: URL) {
    this.agent = server.protocol === 'https:'
      ? new https.Agent({ keepAlive: true, maxSockets: 64 })
      : new http.Agent({ keepAlive: true, maxSockets: 64 });
    this.watchAgent = server.protocol === 'https:' ? new https.Agent({ keepAlive: false }) : new http.Agent({ keepAlive: false });
  }

  /** TLS material and headers from the kubeconfig; headers are refreshed every 30 s so rotated tokens are picked up. */
  async requestBase(): Promise<{ tls: https.RequestOptions; headers: Record<string, string> }> {
    const now = Date.now();
    if (!this.tls || !this.auth || now - this.auth.at > 30_000) {
      const opts: https.RequestOptions = { headers: {} };
      await this.kubeConfig.applyToHTTPSOptions(opts);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(opts.headers ?? {})) if (typeof v === 'string') headers[k] = v;
      if (opts.auth) headers.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
      this.tls = { ca: opts.ca, cert: opts.cert, key: opts.key, pfx: opts.pfx, passphrase: opts.passphrase, servername: opts.servername, rejectUnauthorized: opts.rejectUnauthorized };
      this.auth = { headers, at: now };
    }
    return { tls: this.tls, headers: this.auth.headers };
  }

  close(): void {
    this.agent.destroy();
    this.watchAgent.destroy();
  }
}

/** The user name the API server gives a ServiceAccount (what `kubectl --as` takes for one). */
export function serviceAccountUser(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

/** An answer larger than the caller allowed; nothing of it was used. */
export class ResponseTooLargeError extends Error {
  override readonly name = 'ResponseTooLargeError';
}

export class KubeClient {
  readonly server: URL;
  private readonly conn: Connection;
  /** The user every request of this client impersonates (Impersonate-User), or undefined for the kubeconfig's own. */
  readonly impersonatedUser: string | undefined;
  private readonly ownsConnection: boolean;

  constructor(readonly kubeConfig: KubeConfigSource, private readonly userAgent = 'keelson') {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig names no current cluster');
    this.server = new URL(cluster.server);
    this.conn = new Connection(kubeConfig, this.server);
    this.impersonatedUser = undefined;
    this.ownsConnection = true;
  }

  /**
   * A view of this client whose every request impersonates `user` (header Impersonate-User only: for a
   * ServiceAccount user name the API server derives its groups itself, and asking for groups would need the extra
   * right to impersonate groups). It shares this client's sockets and credentials; closing it does nothing.
   */
  impersonating(user: string): KubeClient {
    if (user === '' || /[\r\n]/.test(user)) throw new Error('impersonated user name must be a non-empty single line');
    const view = Object.create(KubeClient.prototype) as KubeClient;
    Object.assign(view, { kubeConfig: this.kubeConfig, userAgent: this.userAgent, server: this.server, conn: this.conn, impersonatedUser: user, ownsConnection: false });
    return view;
  }

  private async send(method: string, path: string, opts: RequestOptions & { watch?: boolean }): Promise<http.IncomingMessage> {
    const url = new URL(path, this.server);
    url.pathname = (this.server.pathname.replace(/\/$/, '') + path.split('?')[0]).replace(/\/\//g, '/');
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const { tls, headers } = await this.conn.requestBase();
    const body = opts.body === undefined ? undefined : Buffer.from(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body));
    const reqHeaders: Record<string, string> = { ...headers, Accept: opts.accept ?? 'application/json', 'User-Agent': this.userAgent };
    if (this.impersonatedUser !== undefined) reqHeaders['Impersonate-User'] = this.impersonatedUser;
    if (body) { reqHeaders['Content-Type'] = opts.contentType ?? 'application/json'; reqHeaders['Content-Length'] = String(body.length); }
    const mod = url.protocol === 'https:' ? https : http;
    return await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = mod.request(url, { ...tls, method, headers: reqHeaders, agent: opts.watch ? this.conn.watchAgent : this.conn.agent, signal: opts.signal }, resolve);
      if (opts.timeoutMs) req.setTimeout(opts.timeoutMs, () => req.destroy(new Error(`${method} ${url.pathname} timed out after ${opts.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  /** One request; resolves to the parsed JSON body on 2xx and rejects with ApiError otherwise. */
  async request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, path, { timeoutMs: 60_000, ...opts });
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) return (text === '' ? undefined : JSON.parse(text)) as T;
    throw toApiError(method, path, status, text);
  }

  get<T extends KubeObject = KubeObject>(t: ResourceType, namespace: string | undefined, name: string, subresource?: string): Promise<T> {
    return this.request<T>('GET', resourcePath(t, namespace, name, subresource));
  }

  /** Like get, but a missing object is undefined instead of an error. */
  async tryGet<T extends KubeObject = KubeObject>(t: ResourceType, namespace: string | undefined, name: string): Promise<T | undefined> {
    try { return await this.get<T>(t, namespace, name); } catch (e) { if (isNotFound(e)) return undefined; throw e; }
  }

  async list<T extends KubeObject = KubeObject>(t: ResourceType, opts: ListOptions = {}): Promise<ObjectList<T>> {
    const page = await this.request<ObjectList<T>>('GET', resourcePath(t, opts.namespace), {
      query: { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, limit: opts.limit, continue: opts.continue, resourceVersion: opts.resourceVersion },
      accept: opts.metadataOnly ? METADATA_LIST_ACCEPT : undefined,
    });
    // An empty PartialObjectMetadataList comes as `"items": null` (a nil Go slice; typed lists say []): a caller
    // that iterated it would throw on every attempt and its store would never sync.
    page.items ??= [];
    return page;
  }

  /**
   * One LIST page, its items handed to onItem one by one as the body streams in (ListItemSplitter): the page is
   * never held whole, so memory does not grow with page size × object size. Resolves to the list without items.
   */
  async listEach<T extends KubeObject = KubeObject>(t: ResourceType, opts: ListOptions & { signal?: AbortSignal }, onItem: (item: T) => void): Promise<Omit<ObjectList<T>, 'items'>> {
    const path = resourcePath(t, opts.namespace);
    const res = await this.send('GET', path, {
      timeoutMs: 60_000, signal: opts.signal, accept: opts.metadataOnly ? METADATA_LIST_ACCEPT : undefined,
      query: { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, limit: opts.limit, continue: opts.continue, resourceVersion: opts.resourceVersion },
    });
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      throw toApiError('GET', path, status, Buffer.concat(chunks).toString('utf8'));
    }
    const splitter = new ListItemSplitter((item) => onItem(item as T));
    try {
      for await (const c of res) splitter.push(c as Buffer);
    } finally {
      res.destroy();
    }
    const list = splitter.end<ObjectList<T>>();
    return { apiVersion: list.apiVersion, kind: list.kind, metadata: list.metadata ?? {} };
  }

  /**
   * One metadata-only LIST page in protobuf where the server offers it (metadata-list.ts), else JSON: each item's
   * name, namespace and resourceVersion go to onItem. An answer of more than maxBytes is not read on:
   * ResponseTooLargeError (a caller lists item by item with listEach instead).
   */
  async listMetadata(t: ResourceType, opts: ListOptions & { signal?: AbortSignal; maxBytes: number }, onItem: (item: MetadataItem) => void): Promise<MetadataListPage> {
    const path = resourcePath(t, opts.namespace);
    const res = await this.send('GET', path, {
      timeoutMs: 60_000, signal: opts.signal, accept: METADATA_LIST_PROTOBUF_ACCEPT,
      query: { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, limit: opts.limit, continue: opts.continue, resourceVersion: opts.resourceVersion },
    });
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const c of res) {
        size += (c as Buffer).length;
        if (size > opts.maxBytes) throw new ResponseTooLargeError(`GET ${path}: the answer is over ${opts.maxBytes} bytes`);
        chunks.push(c as Buffer);
      }
    } finally {
      res.destroy();
    }
    const body = Buffer.concat(chunks);
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) throw toApiError('GET', path, status, body.toString('utf8'));
    if (isProtobuf(res.headers['content-type'])) return decodeMetadataList(body, onItem);
    const list = JSON.parse(body.toString('utf8')) as ObjectList<KubeObject>;
    for (const i of list.items ?? []) onItem({ name: i.metadata.name ?? '', namespace: i.metadata.namespace ?? '', resourceVersion: i.metadata.resourceVersion ?? '' });
    return { resourceVersion: list.metadata?.resourceVersion ?? '', continue: list.metadata?.continue ?? '' };
  }

  /** Every item, following `continue` tokens page by page. */
  async listAll<T extends KubeObject = KubeObject>(t: ResourceType, opts: ListOptions = {}): Promise<T[]> {
    const out: T[] = [];
    let cont: string | undefined;
    do {
      const page = await this.list<T>(t, { limit: 500, ...opts, continue: cont });
      out.push(...page.items);
      cont = page.metadata.continue || undefined;
    } while (cont);
    return out;
  }

  create<T extends KubeObject = KubeObject>(t: ResourceType, obj: KubeObject, opts: WriteOptions = {}): Promise<T> {
    return this.request<T>('POST', resourcePath(t, obj.metadata.namespace), { body: obj, query: writeQuery(opts) });
  }

  replace<T extends KubeObject = KubeObject>(t: ResourceType, obj: KubeObject, opts: WriteOptions = {}): Promise<T> {
    return this.request<T>('PUT', resourcePath(t, obj.metadata.namespace, obj.metadata.name, opts.subresource), { body: obj, query: writeQuery(opts) });
  }

  patch<T extends KubeObject = KubeObject>(t: ResourceType, namespace: string | undefined, name: string, type: PatchType, body: unknown, opts: WriteOptions = {}): Promise<T> {
    return this.request<T>('PATCH', resourcePath(t, namespace, name, opts.subresource), {
      body, contentType: PATCH_CONTENT_TYPE[type], query: { ...writeQuery(opts), force: type === 'apply' && opts.force ? true : undefined },
    });
  }

  /** Server-side apply of a whole object (its apiVersion/kind/metadata.name must be set). */
  apply<T extends KubeObject = KubeObject>(t: ResourceType, obj: KubeObject, opts: WriteOptions & { fieldManager: string }): Promise<T> {
    return this.patch<T>(t, obj.metadata.namespace, obj.metadata.name!, 'apply', obj, opts);
  }

  async delete(t: ResourceType, namespace: string | undefined, name: string, opts: { propagationPolicy?: 'Foreground' | 'Background' | 'Orphan'; uid?: string; resourceVersion?: string; dryRun?: boolean } = {}): Promise<boolean> {
    const preconditions = opts.uid || opts.resourceVersion ? { uid: opts.uid, resourceVersion: opts.resourceVersion } : undefined;
    try {
      await this.request('DELETE', resourcePath(t, namespace, name), {
        body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: opts.propagationPolicy, preconditions },
        query: { dryRun: opts.dryRun ? 'All' : undefined },
      });
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }

  /**
   * One watch request. Calls onEvent for each event and resolves when the server closes the stream; rejects with
   * ApiError on a non-2xx answer or an ERROR event (410 Gone for an expired resourceVersion).
   */
  async watch<T extends KubeObject = KubeObject>(t: ResourceType, opts: WatchOptions, onEvent: (e: WatchEvent<T>) => void): Promise<void> {
    const path = resourcePath(t, opts.namespace);
    const res = await this.send('GET', path, {
      signal: opts.signal, watch: true, accept: opts.metadataOnly ? METADATA_WATCH_ACCEPT : undefined,
      query: { watch: true, allowWatchBookmarks: true, resourceVersion: opts.resourceVersion, labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, timeoutSeconds: opts.timeoutSeconds },
    });
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      throw toApiError('WATCH', path, status, Buffer.concat(chunks).toString('utf8'));
    }
    const lines = createInterface({ input: res, crlfDelay: Infinity });
    try {
      for await (const line of lines) {
        if (line.trim() === '') continue;
        const event = JSON.parse(line) as WatchEvent<T>;
        if (event.type === 'ERROR') {
          const s = event.object as Status;
          throw new ApiError(s.code ?? 500, s.reason ?? 'Unknown', `watch ${path}: ${s.message ?? 'error event'}`);
        }
        onEvent(event);
      }
    } finally {
      lines.close();
      res.destroy();
    }
  }

  /** Ends keep-alive sockets so a process (or a test) can exit promptly. */
  close(): void {
    if (this.ownsConnection) this.conn.close();
  }
}

function writeQuery(opts: WriteOptions): Query {
  return { fieldManager: opts.fieldManager, dryRun: opts.dryRun ? 'All' : undefined };
}

function toApiError(method: string, path: string, status: number, text: string): ApiError {
  let s: Partial<Status> = {};
  try { s = JSON.parse(text) as Status; } catch { /* not JSON: keep the status line only */ }
  const message = s.message ?? (text.length > 0 && text.length < 300 ? text.trim() : http.STATUS_CODES[status] ?? 'error');
  return new ApiError(status, s.reason ?? http.STATUS_CODES[status] ?? 'Unknown', `${method} ${path}: ${status} ${message}`, s.details);
}
