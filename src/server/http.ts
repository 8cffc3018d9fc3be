// A small HTTP server with exact and prefix routes, JSON helpers and a request-body limit. The controller serves
// health and feature endpoints on --http-addr and /metrics on --metrics-addr through this.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Address } from '../config/options.js';
import type { Logger } from '../observe/logger.js';

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => Promise<void> | void;

export interface Route {
  readonly method: string;
  /** Exact path, or a prefix when it ends with '/'. */
  readonly path: string;
  readonly handler: Handler;
}

export class HttpError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendText(res: http.ServerResponse, status: number, text: string, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Reads a request body up to maxBytes; a larger one is a 413 and the connection is not read further. */
export async function readBody(req: http.IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) throw new HttpError(413, `request body over ${maxBytes} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > maxBytes) throw new HttpError(413, `request body over ${maxBytes} bytes`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

export class HttpServer {
  private readonly routes: Route[] = [];
  private readonly server: http.Server;

  constructor(private readonly name: string, private readonly logger: Logger) {
    this.server = http.createServer((req, res) => void this.dispatch(req, res));
    this.server.keepAliveTimeout = 5000;
  }

  route(method: string, path: string, handler: Handler): void {
    this.routes.push({ method, path, handler });
  }

  private async dispatch(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const candidates = this.routes.filter((r) => r.path === url.pathname || (r.path.endsWith('/') && url.pathname.startsWith(r.path)));
    const route = candidates.find((r) => r.method === req.method);
    try {
      if (!route) {
        if (candidates.length > 0) { res.setHeader('Allow', candidates.map((r) => r.method).join(', ')); throw new HttpError(405, 'method not allowed'); }
        throw new HttpError(404, 'not found');
      }
      await route.handler(req, res, url);
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 500) this.logger.error({ server: this.name, path: url.pathname, err }, 'request failed');
      if (!res.headersSent) sendText(res, status, `${err instanceof HttpError ? err.message : 'internal error'}\n`);
      else res.destroy();
      if (status === 413) req.socket.destroy();
    }
  }

  /** Listens on addr (port 0 picks a free one) and resolves with the bound port. */
  listen(addr: Address): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(addr.port, addr.host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
