// The kubeseal forwarder: an unchanged `kubeseal` asks the API server's service proxy for
// kube-system/sealed-secrets-controller, and the API server only proxies to a Pod in the Service's own namespace
// (its endpoint check compares the address's Pod namespace), so a Service alone, ExternalName or selector-less, can
// never reach Keelson in keelson-system. This tiny server runs in kube-system behind that Service and forwards the
// three sealing endpoints to Keelson's Service over cluster DNS. Bounded: known paths only, bodies up to the
// controller's own 2 MiB limit, 30 s per request, a cap on requests in flight.

import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the controller's endpoints accept; nothing else is forwarded. */
const ROUTES: ReadonlySet<string> = new Set(['GET /v1/cert.pem', 'POST /v1/verify', 'POST /v1/rotate']);
const MAX_BODY_BYTES = 2 * 1024 * 1024;
const TIMEOUT_MS = 30_000;
const MAX_IN_FLIGHT = 64;

export interface KubesealProxy {
  readonly port: number;
  close(): Promise<void>;
}

function reply(res: http.ServerResponse, status: number, text: string): void {
  if (res.headersSent) { res.destroy(); return; }
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`${text}\n`);
}

/** Starts forwarding host:port → upstream (http://keelson.keelson-system.svc:8080). */
export async function startKubesealProxy(host: string, port: number, upstream: URL): Promise<KubesealProxy> {
  let inFlight = 0;
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    if (req.method === 'GET' && (path === '/healthz' || path === '/readyz')) { reply(res, 200, 'ok'); return; }
    if (!ROUTES.has(`${req.method} ${path}`)) { reply(res, 404, 'only GET /v1/cert.pem, POST /v1/verify and POST /v1/rotate are forwarded'); return; }
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > MAX_BODY_BYTES) { reply(res, 413, `request body over ${MAX_BODY_BYTES} bytes`); req.resume(); return; }
    if (inFlight >= MAX_IN_FLIGHT) { res.setHeader('Retry-After', '1'); reply(res, 503, 'too many requests in flight'); req.resume(); return; }
    inFlight++;
    res.once('close', () => { inFlight--; });
    // X-Forwarded-For as any proxy writes it: what came in, then this hop's peer (the API server).
    const forwarded = [req.headers['x-forwarded-for'], req.socket.remoteAddress].filter(Boolean).join(', ');
    const headers: http.OutgoingHttpHeaders = { 'X-Forwarded-For': forwarded, Accept: req.headers.accept ?? '*/*' };
    if (req.headers['content-type']) headers['Content-Type'] = req.headers['content-type'];
    if (req.headers['content-length']) headers['Content-Length'] = req.headers['content-length'];
    const out = http.request(new URL(path, upstream), { method: req.method, headers, timeout: TIMEOUT_MS }, (up) => {
      res.writeHead(up.statusCode ?? 502, { 'Content-Type': up.headers['content-type'] ?? 'application/octet-stream', ...(up.headers['retry-after'] ? { 'Retry-After': up.headers['retry-after'] } : {}) });
      up.pipe(res);
    });
    out.on('timeout', () => out.destroy(new Error('timeout')));
    out.on('error', (e) => reply(res, 502, `cannot reach the Keelson controller at ${upstream.origin}: ${e.message}`));
    let seen = 0;
    req.on('data', (c: Buffer) => {
      seen += c.length;
      if (seen > MAX_BODY_BYTES) { out.destroy(); reply(res, 413, `request body over ${MAX_BODY_BYTES} bytes`); req.destroy(); }
    });
    req.pipe(out);
  });
  server.requestTimeout = TIMEOUT_MS;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, host, () => resolve()); });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}
