// The HTTP server behind `keelson ui`: 127.0.0.1 only, a per-run token as the first path segment of every URL (or an
// Authorization: Bearer header), the Host header pinned against DNS rebinding, no CORS, and writes only with a custom
// header from the same origin. No cookie: cookies are shared by every port of 127.0.0.1, so another local user's
// server on another port would receive it. Every API call uses the user's own kubeconfig. This module never reads
// Secrets; the diff (keelson diff's code, values masked) and the certificate source (cli/ui-cert.ts, tls.crt only)
// are passed in and are the only parts that do.

import { X509Certificate, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { REQUESTED_AT, type GitSyncObject } from '../gitsync/spec.js';
import { ApiError, type KubeClient } from '../kube/client.js';
import { DAEMONSETS, DEPLOYMENTS, EVENTS, GITSYNCS, LEASES, SEALEDSECRETS, STATEFULSETS, type ResourceType } from '../kube/resources.js';
import { DiffTooLargeError, type GitSyncDiff } from '../cli/diff.js';
import { MAX_DIFF_BYTES, diffView } from './diff-view.js';
import { UiWatches } from './watches.js';
import { type Overview, type Section, gitSyncDetail, gitSyncRows, keelsonEvents, leaderOf, sealedSecretDetail, sealedSecretProblems, sectionError, workloadDetail } from './view-models.js';

/** Custom header every write must carry: a cross-origin page cannot send it without a CORS preflight we never answer. */
export const WRITE_HEADER = 'x-keelson-ui';
export const MAX_SSE_CLIENTS = 16;
const MAX_BODY = 4096;
/** Diffs fetch, render and dry-run a whole revision: one at a time per GitSync, a few at once in all. */
export const MAX_DIFFS = 2;
/** One page of Events is enough for "recent": the view shows 50. */
const MAX_EVENTS = 500;
const KEELSON_EVENTS = 'source=keelson';
const WORKLOADS: Readonly<Record<string, ResourceType>> = { deployments: DEPLOYMENTS, statefulsets: STATEFULSETS, daemonsets: DAEMONSETS };

export interface UiServerOptions {
  readonly client: KubeClient;
  readonly port?: number;
  /** Fetches the current sealing certificate (PEM) and says where it came from; undefined disables the seal form. */
  readonly fetchCert?: () => Promise<{ readonly pem: string; readonly source: string }>;
  readonly token?: string;
  /** The controller's leader-election Lease (default keelson-system/keelson). */
  readonly lease?: { readonly namespace: string; readonly name: string };
  /** Folder holding app.js and app.css (esbuild's output). */
  readonly assetsDir?: URL;
  /** What a sync of the GitSync would change (`keelson diff`'s computation, under the user's kubeconfig); undefined hides the diff. */
  readonly diff?: (namespace: string, name: string, signal: AbortSignal) => Promise<GitSyncDiff>;
  /** How long one diff may run (default 60 s). */
  readonly diffTimeoutMs?: number;
}

export interface UiServer {
  readonly url: string;
  readonly port: number;
  readonly token: string;
  close(): Promise<void>;
}

const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

const INDEX_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark"><title>Keelson</title><link rel="stylesheet" href="app.css"></head>
<body><div id="app"></div><script type="module" src="app.js"></script></body></html>
`;

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

function loadAssets(dir: URL): Map<string, { type: string; body: Buffer }> {
  const read = (f: string) => { try { return readFileSync(new URL(f, dir)); } catch { return Buffer.from(`/* ${f} missing: run "npm run build" */`); } };
  return new Map([
    ['/', { type: 'text/html; charset=utf-8', body: Buffer.from(INDEX_HTML) }],
    ['/app.js', { type: 'text/javascript; charset=utf-8', body: read('app.js') }],
    ['/app.css', { type: 'text/css; charset=utf-8', body: read('app.css') }],
  ]);
}

function sameToken(given: string | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function section<T>(what: string, load: () => Promise<T[]>): Promise<Section<T>> {
  try { return { state: 'ok', items: await load() }; } catch (e) {
    return sectionError<T>(e instanceof ApiError ? e.status : undefined, what, e instanceof Error ? e.message : String(e));
  }
}

export async function startUiServer(opts: UiServerOptions): Promise<UiServer> {
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const assets = loadAssets(opts.assetsDir ?? new URL('../../dist/ui-web/', import.meta.url));
  const client = opts.client;
  const watches = new UiWatches(client, [{ type: GITSYNCS }, { type: SEALEDSECRETS }, { type: EVENTS, fieldSelector: KEELSON_EVENTS }, ...Object.values(WORKLOADS).map((type) => ({ type }))]);
  const sse = new Set<http.ServerResponse>();
  const diffsRunning = new Set<string>();
  const diffTimeoutMs = opts.diffTimeoutMs ?? 60_000;
  let port = 0;

  const send = (res: http.ServerResponse, status: number, body: unknown, type = 'application/json; charset=utf-8') => {
    const buf = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': buf.length });
    res.end(buf);
  };
  const fail = (res: http.ServerResponse, status: number, message: string) => send(res, status, { error: message });

  const overview = async (): Promise<Overview> => {
    const now = Date.now();
    const lease = opts.lease ?? { namespace: 'keelson-system', name: 'keelson' };
    const [controller, gitSyncs, sealedSecrets, events] = await Promise.all([
      section('Leases', async () => leaderOf(await client.tryGet(LEASES, lease.namespace, lease.name), now)),
      section('GitSyncs', async () => gitSyncRows(await client.listAll<GitSyncObject>(GITSYNCS), now)),
      section('SealedSecrets', async () => sealedSecretProblems(await client.listAll(SEALEDSECRETS))),
      section('Events', async () => keelsonEvents((await client.list(EVENTS, { fieldSelector: KEELSON_EVENTS, limit: MAX_EVENTS })).items, now)),
    ]);
    return { controller, gitSyncs, sealedSecrets, events };
  };

  const readJson = async (req: http.IncomingMessage): Promise<Record<string, unknown>> => {
    let size = 0;
    const chunks: Buffer[] = [];
    for await (const c of req) { size += (c as Buffer).length; if (size > MAX_BODY) throw new RangeError('request body too large'); chunks.push(c as Buffer); }
    const v = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new SyntaxError('expected a JSON object');
    return v as Record<string, unknown>;
  };

  const apiError = (res: http.ServerResponse, e: unknown) => {
    if (e instanceof ApiError) return fail(res, e.status === 403 ? 403 : e.status === 404 ? 404 : 502, e.status === 403 ? 'forbidden: your Kubernetes user may not do this' : e.message);
    if (e instanceof RangeError || e instanceof SyntaxError || e instanceof URIError) return fail(res, 400, e.message);
    return fail(res, 502, e instanceof Error ? e.message : String(e));
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    // DNS rebinding: a page on evil.example resolving to 127.0.0.1 still sends Host: evil.example.
    const host = req.headers.host ?? '';
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) return fail(res, 403, 'unexpected Host header');
    const url = new URL(req.url ?? '/', `http://${host}`);
    const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    const slash = url.pathname.indexOf('/', 1);
    let path: string;
    if (sameToken(url.pathname.slice(1, slash < 0 ? undefined : slash), token)) {
      // /<token> → /<token>/, so the page's relative URLs (app.js, api/…) keep the token.
      if (slash < 0) { res.writeHead(308, { ...SECURITY_HEADERS, Location: `/${token}/` }); return void res.end(); }
      path = url.pathname.slice(slash);
    } else if (sameToken(bearer, token)) {
      path = url.pathname;
    } else {
      return fail(res, 403, 'missing or wrong token: open the URL "keelson ui" printed');
    }
    if (req.method === 'POST') {
      const origin = req.headers.origin;
      if (req.headers[WRITE_HEADER] !== '1' || (origin !== undefined && origin !== `http://${host}`)) return fail(res, 403, 'writes need the page\'s own header and origin');
    } else if (req.method !== 'GET') {
      return fail(res, 405, 'method not allowed');
    }

    const asset = req.method === 'GET' ? assets.get(path) : undefined;
    if (asset) return send(res, 200, asset.body, asset.type);
    if (req.method === 'GET' && path === '/api/overview') return send(res, 200, await overview());
    if (req.method === 'GET' && path === '/api/events') return openStream(req, res);
    if (req.method === 'GET' && path === '/api/cert') {
      if (!opts.fetchCert) return fail(res, 404, 'no source for the sealing certificate');
      try {
        const { pem, source } = await opts.fetchCert();
        const cert = new X509Certificate(pem);
        const spki = cert.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
        return send(res, 200, { spki, notAfter: cert.validTo, fingerprint: cert.fingerprint256, source, expired: Date.parse(cert.validTo) < Date.now() });
      } catch (e) { return fail(res, 502, `cannot fetch the sealing certificate: ${e instanceof Error ? e.message : String(e)}`); }
    }
    const w = req.method === 'GET' ? /^\/api\/workloads\/(deployments|statefulsets|daemonsets)\/([^/]{1,253})\/([^/]{1,253})$/.exec(path) : null;
    if (w) {
      const [t, namespace, name] = [WORKLOADS[w[1]!]!, decodeURIComponent(w[2]!), decodeURIComponent(w[3]!)];
      if (!NAME.test(namespace) || !NAME.test(name)) return fail(res, 400, 'bad namespace or name');
      try {
        const obj = await client.get(t, namespace, name);
        // Events are context: a user who may read the workload but not Events still gets the page.
        const events = await client.list(EVENTS, { namespace, fieldSelector: `${KEELSON_EVENTS},involvedObject.name=${name}`, limit: MAX_EVENTS }).then((l) => l.items, () => []);
        return send(res, 200, workloadDetail(t.kind, obj, events, Date.now()));
      } catch (e) { return apiError(res, e); }
    }
    const ss = req.method === 'GET' ? /^\/api\/sealedsecrets\/([^/]{1,253})\/([^/]{1,253})$/.exec(path) : null;
    if (ss) {
      const [namespace, name] = [decodeURIComponent(ss[1]!), decodeURIComponent(ss[2]!)];
      if (!NAME.test(namespace) || !NAME.test(name)) return fail(res, 400, 'bad namespace or name');
      try { return send(res, 200, sealedSecretDetail(await client.get(SEALEDSECRETS, namespace, name), Date.now())); } catch (e) { return apiError(res, e); }
    }
    const m = /^\/api\/gitsyncs\/([^/]{1,253})\/([^/]{1,253})(\/sync|\/suspend|\/diff)?$/.exec(path);
    if (m) {
      const [namespace, name, action] = [decodeURIComponent(m[1]!), decodeURIComponent(m[2]!), m[3]];
      if (!NAME.test(namespace) || !NAME.test(name)) return fail(res, 400, 'bad namespace or name');
      try {
        if (req.method === 'GET' && !action) return send(res, 200, gitSyncDetail(await client.get<GitSyncObject>(GITSYNCS, namespace, name), Date.now()));
        if (req.method === 'POST' && action === '/sync') {
          const requestedAt = new Date().toISOString();
          await client.patch(GITSYNCS, namespace, name, 'merge', { metadata: { annotations: { [REQUESTED_AT]: requestedAt } } });
          return send(res, 200, { requestedAt });
        }
        if (req.method === 'POST' && action === '/suspend') {
          const body = await readJson(req);
          if (typeof body.suspend !== 'boolean') return fail(res, 400, 'expected {"suspend": true|false}');
          await client.patch(GITSYNCS, namespace, name, 'merge', { spec: { suspend: body.suspend } });
          return send(res, 200, { suspend: body.suspend });
        }
        if (req.method === 'POST' && action === '/diff') return await runDiff(res, namespace, name);
      } catch (e) { return apiError(res, e); }
    }
    return fail(res, 404, 'not found');
  };

  // A POST (the write header keeps other pages from starting one): a diff fetches and dry-runs a whole revision.
  const runDiff = async (res: http.ServerResponse, namespace: string, name: string): Promise<void> => {
    if (!opts.diff) return fail(res, 404, 'the diff is not available in this server');
    const key = `${namespace}/${name}`;
    const cli = `run "keelson diff ${key}" in a terminal`;
    if (diffsRunning.has(key)) return fail(res, 409, `a diff of GitSync ${key} is already running: wait for it to finish`);
    if (diffsRunning.size >= MAX_DIFFS) return fail(res, 503, `${MAX_DIFFS} diffs are already running: try again when one has finished`);
    diffsRunning.add(key);
    const timeout = AbortSignal.timeout(diffTimeoutMs);
    const work = opts.diff(namespace, name, timeout).finally(() => diffsRunning.delete(key));
    const expired = new Promise<'expired'>((r) => timeout.addEventListener('abort', () => r('expired'), { once: true }));
    const tooLarge = (bytes: number) => fail(res, 413, `the diff of GitSync ${key} is over ${(bytes / 1048576).toFixed(1)} MiB, more than the page's ${MAX_DIFF_BYTES / 1048576} MiB: ${cli}`);
    let result: GitSyncDiff | 'expired';
    try { result = await Promise.race([work, expired]); } catch (e) {
      if (e instanceof DiffTooLargeError) return tooLarge(e.bytes);
      throw e;
    }
    if (result === 'expired') {
      work.catch(() => { /* stopped by the timeout, answered below */ });
      return fail(res, 504, `the diff of GitSync ${key} took longer than ${Math.round(diffTimeoutMs / 1000)} s and was stopped; ${cli}`);
    }
    const view = diffView(result);
    if ('tooLarge' in view) return tooLarge(view.tooLarge);
    return send(res, 200, view);
  };

  const openStream = (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (sse.size >= MAX_SSE_CLIENTS) return fail(res, 503, 'too many open pages');
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream', Connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    sse.add(res);
    watches.acquire();
    req.on('close', () => { if (sse.delete(res)) watches.release(); });
  };

  watches.onChange((kinds) => {
    const msg = `event: change\ndata: ${JSON.stringify({ kinds })}\n\n`;
    // A page that stopped reading is dropped rather than buffered without bound (it reconnects when it wakes up).
    for (const res of sse) { if (res.writableLength > 64 * 1024) res.destroy(); else res.write(msg); }
  });

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e: unknown) => { if (!res.headersSent) apiError(res, e); else res.destroy(); });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(opts.port ?? 0, '127.0.0.1', () => resolve()); });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/${token}/`,
    port,
    token,
    close: async () => {
      watches.stop();
      for (const res of sse) res.destroy();
      sse.clear();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

