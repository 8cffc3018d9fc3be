// POST /hooks/git/<namespace>/<name>: an immediate sync, for Git hosts' push webhooks. The request must carry a
// GitHub `X-Hub-Signature-256` (HMAC-SHA256 of the body) or a GitLab `X-Gitlab-Token`, checked in constant time
// against the `token` key of the Secret in spec.webhookSecretRef; the hook only enqueues the GitSync. Requests are
// rate limited per GitSync, bodies capped at 1 MiB, and the Secret is read through a 30 s cache (hook-guard.ts).

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import { type KubeClient, isNotFound } from '../kube/client.js';
import { SECRETS } from '../kube/resources.js';
import type { Logger } from '../observe/logger.js';
import type { HookRateLimiter, TokenLoader, WebhookSecretCache } from './hook-guard.js';
import { HttpError, readBody, sendJson } from '../server/http.js';

export const HOOK_PREFIX = '/hooks/git/';
export const MAX_HOOK_BODY = 1024 * 1024;

/** GitHub's signature check: `sha256=<hex HMAC-SHA256(body, secret)>`, compared in constant time. Pure. */
export function githubSignatureValid(body: Buffer, header: string, secret: string): boolean {
  const m = /^sha256=([0-9a-f]{64})$/i.exec(header.trim());
  if (!m) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(m[1]!, 'hex'));
}

/** GitLab's shared token, compared in constant time (digests first, so the lengths match). Pure. */
export function gitlabTokenValid(header: string, secret: string): boolean {
  const a = createHash('sha256').update(header).digest();
  const b = createHash('sha256').update(secret).digest();
  return timingSafeEqual(a, b) && header.length > 0;
}

/** Namespace and name from /hooks/git/<ns>/<name>, or undefined. Pure. */
export function hookTarget(pathname: string): { namespace: string; name: string } | undefined {
  const m = /^\/hooks\/git\/([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)\/?$/.exec(pathname);
  return m ? { namespace: m[1]!, name: m[3]! } : undefined;
}

export interface HookDeps {
  readonly logger: Logger;
  /** The webhook Secret name of a known GitSync, or undefined when there is no such GitSync or it names none. */
  readonly webhookSecretOf: (namespace: string, name: string) => string | undefined;
  readonly trigger: (namespace: string, name: string) => void;
  /** Webhook tokens, cached (see hook-guard.ts): unauthenticated requests cost no API request each. */
  readonly secrets: WebhookSecretCache;
  /** Per-GitSync token bucket: a flood gets 429 before its body is read. */
  readonly limiter: HookRateLimiter;
}

/** The loader of WebhookSecretCache: the "token" key of the Secret, read with Keelson's identity. */
export function tokenLoader(client: KubeClient): TokenLoader {
  return async (namespace, secretName) => {
    try {
      const s = await client.get(SECRETS, namespace, secretName);
      const token = (s.data as Record<string, string> | undefined)?.token;
      return token === undefined ? undefined : Buffer.from(token, 'base64').toString('utf8');
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
}

export function hookHandler(deps: HookDeps) {
  return async (req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> => {
    const target = hookTarget(url.pathname);
    if (!target) throw new HttpError(404, 'expected /hooks/git/<namespace>/<name>');
    const key = `${target.namespace}/${target.name}`;
    // Unknown GitSyncs and GitSyncs without a webhook secret get the same answer as a bad signature.
    // Rejections of known GitSyncs are rate limited, so they may log a warning each; unknown names are not, so
    // they log at debug (a flood of made-up names must not flood the logs).
    const reject = (why: string, level: 'warn' | 'debug' = 'warn') => {
      deps.logger[level]({ gitsync: key, why }, 'webhook rejected');
      throw new HttpError(401, 'unauthorized');
    };
    // Answered from the GitSync store: no API request, no body read; the connection closes after the answer, so an
    // unread body is not drained either.
    const secretName = deps.webhookSecretOf(target.namespace, target.name);
    if (!secretName) { res.setHeader('Connection', 'close'); return reject('no GitSync with spec.webhookSecretRef by that name', 'debug'); }
    if (!deps.limiter.take(key)) {
      res.setHeader('Connection', 'close');
      res.setHeader('Retry-After', String(Math.max(1, deps.limiter.retryAfterSeconds(key))));
      throw new HttpError(429, 'too many requests for this GitSync');
    }
    const body = await readBody(req, MAX_HOOK_BODY);
    // Read with Keelson's own identity, unlike spec.secretRef and proxySecretRef (read as the GitSync's identity,
    // source.ts): this token only checks a request's signature here and never leaves the process, so naming a Secret
    // one cannot read gains nothing: at most, whoever knows that Secret's value may ask one's own GitSync to sync now.
    const secret = await deps.secrets.token(target.namespace, secretName);
    if (!secret) return reject(`Secret ${target.namespace}/${secretName} (spec.webhookSecretRef) is missing or has no "token" key`);
    const hub = req.headers['x-hub-signature-256'];
    const lab = req.headers['x-gitlab-token'];
    const ok = typeof hub === 'string' ? githubSignatureValid(body, hub, secret) : typeof lab === 'string' ? gitlabTokenValid(lab, secret) : false;
    if (!ok) return reject(typeof hub === 'string' || typeof lab === 'string' ? 'signature or token does not match' : 'no X-Hub-Signature-256 or X-Gitlab-Token header');
    deps.logger.info({ gitsync: key }, 'webhook accepted: syncing now');
    deps.trigger(target.namespace, target.name);
    sendJson(res, 202, { accepted: true });
  };
}
