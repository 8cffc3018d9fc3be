// The sealing HTTP API on --http-addr, compatible with kubeseal's: GET /v1/cert.pem (the newest certificate),
// POST /v1/verify (200 when every value of the posted SealedSecret opens, 409 when not) and POST /v1/rotate (the
// same SealedSecret re-sealed with the newest key, same scope). Unauthenticated, so every request is bounded before
// it costs anything: a per-client token bucket, a cap on bodies being read and on requests in the unseal pool (503
// at once beyond them), a body size and read deadline, and a cap on values; the RSA work itself runs in the pool's
// workers. Answers never carry a value.

import type http from 'node:http';
import type { BlockList } from 'node:net';
import type { HttpServer } from '../server/http.js';
import { HttpError, readBody, sendJson, sendText } from '../server/http.js';
import type { Logger } from '../observe/logger.js';
import type { Keyring } from './keyring.js';
import { RateLimiter, clientOf } from './rate-limit.js';
import { type SealedSecret, UnsealError } from './sealed-secret.js';
import { PoolClosedError, type UnsealPool } from './unseal-pool.js';

export const MAX_BODY_BYTES = 2 * 1024 * 1024;
/** Values per verify/rotate request: ~4 s of one worker at RSA-4096. kubeseal posts one Secret at a time. */
export const MAX_VALUES = 1000;
/** Bodies read at once (each up to MAX_BODY_BYTES): bounds the memory unauthenticated callers can pin. */
export const MAX_READING = 16;
/** A body must arrive within this, so slow senders cannot hold a reading slot. */
export const BODY_DEADLINE_MS = 10_000;

export interface SealingEndpointOptions {
  readonly limiter?: RateLimiter;
  /** Socket peers whose X-Forwarded-For names the client (the API server's addresses). */
  readonly trustedProxies?: BlockList | undefined;
  /** verify/rotate requests in the unseal pool at once; default pool size × 2. */
  readonly maxInFlight?: number;
  readonly maxValues?: number;
}

function parseSealedSecret(body: Buffer, maxValues: number): SealedSecret {
  let obj: unknown;
  try { obj = JSON.parse(body.toString('utf8')); } catch { throw new HttpError(400, 'body is not JSON: post a SealedSecret as JSON'); }
  const ss = obj as SealedSecret;
  if (!ss || typeof ss !== 'object' || ss.kind !== 'SealedSecret' || !ss.metadata?.name || !ss.metadata.namespace) {
    throw new HttpError(400, 'body is not a SealedSecret with metadata.name and metadata.namespace');
  }
  const encrypted = ss.spec?.encryptedData;
  if (encrypted !== undefined && (encrypted === null || typeof encrypted !== 'object')) throw new HttpError(400, 'spec.encryptedData is not an object');
  const values = Object.keys(encrypted ?? {}).length;
  if (values > maxValues) throw new HttpError(413, `spec.encryptedData has ${values} values; verify and rotate take at most ${maxValues} per request (split the Secret)`);
  return ss;
}

/** readBody with a deadline: a body still arriving after BODY_DEADLINE_MS is a 408 and the connection is dropped. */
async function readBodyInTime(req: http.IncomingMessage): Promise<Buffer> {
  const timer = setTimeout(() => req.destroy(new HttpError(408, `request body not received within ${BODY_DEADLINE_MS / 1000} s`)), BODY_DEADLINE_MS);
  try { return await readBody(req, MAX_BODY_BYTES); } finally { clearTimeout(timer); }
}

export function registerSealingEndpoints(http: HttpServer, keyring: Keyring, pool: UnsealPool, logger: Logger, opts: SealingEndpointOptions = {}): void {
  const limiter = opts.limiter ?? new RateLimiter(5, 20);
  const maxInFlight = opts.maxInFlight ?? pool.size * 2;
  const maxValues = opts.maxValues ?? MAX_VALUES;
  let reading = 0;
  let inFlight = 0;

  /** Rate limit, read and parse under the caps, then run `work` holding a pool slot. */
  const bounded = async (req: http.IncomingMessage, res: http.ServerResponse, work: (ss: SealedSecret) => Promise<void>) => {
    const client = clientOf(req.socket.remoteAddress, req.headers['x-forwarded-for'], opts.trustedProxies);
    const allowed = limiter.take(client);
    logger.debug({ client, path: req.url?.slice(0, 100), allowed }, 'sealing request');
    if (!allowed) throw new HttpError(429, 'too many requests; slow down');
    if (reading >= MAX_READING || inFlight >= maxInFlight) {
      res.setHeader('Retry-After', '1');
      throw new HttpError(503, 'too many sealing requests in progress; retry shortly');
    }
    reading++;
    let body: Buffer;
    try { body = await readBodyInTime(req); } finally { reading--; }
    const ss = parseSealedSecret(body, maxValues);
    if (inFlight >= maxInFlight) {
      res.setHeader('Retry-After', '1');
      throw new HttpError(503, 'too many sealing requests in progress; retry shortly');
    }
    inFlight++;
    try {
      await work(ss);
    } catch (e) {
      if (e instanceof UnsealError) { sendText(res, 409, `${e.message}\n`); return; }
      if (e instanceof PoolClosedError) throw new HttpError(503, 'the controller is stopping');
      throw e;
    } finally {
      inFlight--;
    }
  };

  http.route('GET', '/v1/cert.pem', (_req, res) => {
    const newest = keyring.newest();
    if (!newest) throw new HttpError(503, 'no sealing key yet; the controller generates one shortly');
    sendText(res, 200, newest.certPem, 'application/x-pem-file');
  });
  http.route('POST', '/v1/verify', (req, res) => bounded(req, res, async (ss) => {
    await pool.unseal(ss, 'http');
    sendText(res, 200, 'ok: every value can be unsealed\n');
  }));
  http.route('POST', '/v1/rotate', (req, res) => bounded(req, res, async (ss) => {
    if (!keyring.newest()) throw new HttpError(503, 'no sealing key yet');
    const rotated = await pool.reseal(ss);
    logger.info({ sealedSecret: `${ss.metadata.namespace}/${ss.metadata.name}`.slice(0, 300), values: Object.keys(rotated.spec?.encryptedData ?? {}).length }, 'SealedSecret re-sealed with the newest key');
    sendJson(res, 200, rotated);
  }));
}
