// The sealing HTTP API on --http-addr, compatible with kubeseal's: GET /v1/cert.pem (the newest certificate),
// POST /v1/verify (200 when every value of the posted SealedSecret opens, 409 when not) and POST /v1/rotate (the
// same SealedSecret re-sealed with the newest key, same scope). Bodies are size-limited, verify and rotate are
// rate-limited per client, and answers never carry a value.

import type http from 'node:http';
import type { HttpServer } from '../server/http.js';
import { HttpError, readBody, sendJson, sendText } from '../server/http.js';
import type { Logger } from '../observe/logger.js';
import type { Keyring } from './keyring.js';
import { RateLimiter } from './rate-limit.js';
import { type SealedSecret, UnsealError, resealSealedSecret, unsealSealedSecret } from './sealed-secret.js';

export const MAX_BODY_BYTES = 2 * 1024 * 1024;

function parseSealedSecret(body: Buffer): SealedSecret {
  let obj: unknown;
  try { obj = JSON.parse(body.toString('utf8')); } catch { throw new HttpError(400, 'body is not JSON: post a SealedSecret as JSON'); }
  const ss = obj as SealedSecret;
  if (!ss || typeof ss !== 'object' || ss.kind !== 'SealedSecret' || !ss.metadata?.name || !ss.metadata.namespace) {
    throw new HttpError(400, 'body is not a SealedSecret with metadata.name and metadata.namespace');
  }
  return ss;
}

export function registerSealingEndpoints(http: HttpServer, keyring: Keyring, logger: Logger, limiter = new RateLimiter(5, 20)): void {
  const limited = (req: http.IncomingMessage) => {
    if (!limiter.take(req.socket.remoteAddress ?? 'unknown')) throw new HttpError(429, 'too many requests; slow down');
  };
  http.route('GET', '/v1/cert.pem', (_req, res) => {
    const newest = keyring.newest();
    if (!newest) throw new HttpError(503, 'no sealing key yet; the controller generates one shortly');
    sendText(res, 200, newest.certPem, 'application/x-pem-file');
  });
  http.route('POST', '/v1/verify', async (req, res) => {
    limited(req);
    const ss = parseSealedSecret(await readBody(req, MAX_BODY_BYTES));
    try {
      unsealSealedSecret(ss, keyring.privateKeys());
      sendText(res, 200, 'ok: every value can be unsealed\n');
    } catch (e) {
      if (!(e instanceof UnsealError)) throw e;
      sendText(res, 409, `${e.message}\n`);
    }
  });
  http.route('POST', '/v1/rotate', async (req, res) => {
    limited(req);
    const ss = parseSealedSecret(await readBody(req, MAX_BODY_BYTES));
    const newest = keyring.newest();
    if (!newest) throw new HttpError(503, 'no sealing key yet');
    try {
      const rotated = resealSealedSecret(ss, keyring.privateKeys(), newest.publicKey);
      logger.info({ sealedSecret: `${ss.metadata.namespace}/${ss.metadata.name}`, values: Object.keys(rotated.spec?.encryptedData ?? {}).length }, 'SealedSecret re-sealed with the newest key');
      sendJson(res, 200, rotated);
    } catch (e) {
      if (!(e instanceof UnsealError)) throw e;
      sendText(res, 409, `${e.message}\n`);
    }
  });
}
