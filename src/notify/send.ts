// One outbound POST to a notification endpoint: http(s) only, no redirects (a redirect could carry the request to
// another host), a time limit for the whole exchange and a cap on the response read. The result's text never holds
// the address: a Slack webhook URL is a credential, so errors name only the status or the socket error code.

import type { OutboundRequest } from './payload.js';

export const SEND_TIMEOUT_MS = 10_000;
export const MAX_RESPONSE_BYTES = 64 * 1024;

export type SendResult = { readonly ok: true; readonly status: number } | { readonly ok: false; readonly error: string; readonly retry: boolean };

/** Checks that an address is an absolute http(s) URL; returns why not, never echoing the address. */
export function addressProblem(address: string): string | undefined {
  if (address.length > 2048) return 'address is longer than 2048 characters';
  let u: URL;
  try { u = new URL(address); } catch { return 'address is not an absolute URL'; }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `address must be http:// or https:// (got ${u.protocol.slice(0, 16)})`;
  return undefined;
}

export async function send(req: OutboundRequest, signal: AbortSignal, timeoutMs = SEND_TIMEOUT_MS): Promise<SendResult> {
  const problem = addressProblem(req.url);
  if (problem) return { ok: false, error: problem, retry: false };
  const limit = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
  try {
    const res = await fetch(req.url, { method: 'POST', headers: req.headers, body: req.body, redirect: 'manual', signal: limit });
    await drain(res, MAX_RESPONSE_BYTES);
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
    if (res.status >= 300 && res.status < 400) return { ok: false, error: `endpoint answered a redirect (HTTP ${res.status}); redirects are not followed`, retry: false };
    // 4xx but 408/429 will not get better by retrying the same body.
    return { ok: false, error: `endpoint answered HTTP ${res.status}`, retry: res.status >= 500 || res.status === 408 || res.status === 429 };
  } catch (err) {
    if (signal.aborted) return { ok: false, error: 'stopped', retry: false };
    if (limit.aborted) return { ok: false, error: `no answer within ${timeoutMs / 1000}s`, retry: true };
    return { ok: false, error: `could not reach the endpoint (${errorCode(err)})`, retry: true };
  }
}

/** Reads at most `max` bytes of the body and drops the rest (the connection is released either way). */
async function drain(res: Response, max: number): Promise<void> {
  if (!res.body) return;
  const reader = res.body.getReader();
  let read = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      read += value.byteLength;
      if (read > max) { await reader.cancel(); return; }
    }
  } catch { /* a broken body after the status is not the endpoint's answer */ }
}

// undici puts the socket error in err.cause; its message may contain the host, so only the code is used.
function errorCode(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown } } | undefined)?.cause;
  const code = cause && typeof cause.code === 'string' ? cause.code : undefined;
  return code && /^[A-Z_]{1,40}$/.test(code) ? code : 'connection error';
}
