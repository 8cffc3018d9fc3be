// Which Git transports a GitSync may use. https, ssh and scp-like URLs authenticate the server; http, git and file
// do not (or read the controller's own disk), so they need the controller flag --allow-insecure-git. A file://
// repository may never lie under the controller's Git cache, where other GitSyncs' fetched repositories live. Pure.

import { isAbsolute, relative, resolve } from 'node:path';

export type Transport = 'https' | 'ssh' | 'scp' | 'http' | 'git' | 'file';

/** Transports that need --allow-insecure-git: no server authentication (http, git) or a local path (file). */
export const INSECURE_TRANSPORTS: readonly Transport[] = ['http', 'git', 'file'];

/** The transport of a URL that spec.checkUrl accepted; undefined for anything else. */
export function transportOf(url: string): Transport | undefined {
  const m = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url);
  if (!m) return /^(?:[A-Za-z0-9._~-]+@)?[A-Za-z0-9.-]+:(?!:)\S+$/.test(url) ? 'scp' : undefined;
  const scheme = m[1]!.toLowerCase();
  return (['https', 'ssh', 'http', 'git', 'file'] as const).find((t) => t === scheme);
}

/** Whether `inner` is `outer` or lies below it (both absolute, already resolved). */
export function isWithin(inner: string, outer: string): boolean {
  const rel = relative(resolve(outer), resolve(inner));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** The local path a file:// URL names (percent-decoded), or undefined for other URLs or a bad encoding. */
export function filePathOf(url: string): string | undefined {
  if (transportOf(url) !== 'file') return undefined;
  try { return resolve(decodeURIComponent(new URL(url).pathname)); } catch { return undefined; }
}

export type TransportVerdict = { readonly ok: true; readonly transport: Transport } | { readonly ok: false; readonly message: string };

/**
 * The decision for one URL: refused when its transport is insecure and not allowed, or when it is a file:// path
 * inside the controller's Git cache (whatever the flag says). The message says how to fix it.
 */
export function transportVerdict(url: string, opts: { readonly allowInsecure: boolean; readonly cacheDir: string }): TransportVerdict {
  const transport = transportOf(url);
  if (!transport) return { ok: false, message: 'spec.url must be an https://, ssh:// or git@host:path URL' };
  if (INSECURE_TRANSPORTS.includes(transport) && !opts.allowInsecure) {
    return {
      ok: false,
      message: `spec.url uses ${transport}://, which ${transport === 'file' ? 'reads the controller\'s own disk' : 'does not authenticate the server'}; use an https:// or ssh:// URL, or start the controller with --allow-insecure-git`,
    };
  }
  if (transport === 'file') {
    const path = filePathOf(url);
    if (path === undefined) return { ok: false, message: 'spec.url is not a valid file:// URL' };
    if (isWithin(path, opts.cacheDir) || isWithin(opts.cacheDir, path)) {
      return { ok: false, message: `spec.url file://${path} lies in or above the controller's Git cache, where other GitSyncs' repositories are kept; point it at a repository elsewhere` };
    }
  }
  return { ok: true, transport };
}
