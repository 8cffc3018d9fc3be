// Registry credentials from a `kubernetes.io/dockerconfigjson` Secret (`{"auths": {"<registry>": {username,
// password} | {auth: base64(user:pass)}}}`), and an optional CA bundle (`ca.crt`) in the same Secret. Pure: the
// caller reads the Secret; nothing here logs or returns a message holding a credential.

import { Buffer } from 'node:buffer';
import { type ImageRepository, configKeysFor } from './reference.js';

export interface RegistryCredentials {
  readonly username: string;
  readonly password: string;
}

export class CredentialsError extends Error {
  override readonly name = 'CredentialsError';
}

/** A dockerconfigjson far beyond any real one is refused before JSON.parse. */
export const MAX_DOCKER_CONFIG = 256 * 1024;

const decode = (b64: string | undefined): string | undefined => (b64 === undefined ? undefined : Buffer.from(b64, 'base64').toString('utf8'));

/** Normalises a config key (`https://ghcr.io/v1/` → `ghcr.io`) so the lookup is independent of how it was written. */
function hostOfKey(key: string): string {
  let k = key.trim();
  const scheme = k.indexOf('://');
  if (scheme >= 0) k = k.slice(scheme + 3);
  const slash = k.indexOf('/');
  if (slash >= 0) k = k.slice(0, slash);
  return k.toLowerCase();
}

/**
 * The credentials for `ref` in a Secret's data (base64 values as the API returns them), or undefined when the Secret
 * has none for this registry. Throws CredentialsError (without any value in the message) for a malformed Secret.
 */
export function credentialsFor(secretName: string, type: string | undefined, data: Readonly<Record<string, string>> | undefined, ref: ImageRepository): RegistryCredentials | undefined {
  const raw = data?.['.dockerconfigjson'];
  if (type !== 'kubernetes.io/dockerconfigjson' || raw === undefined) {
    throw new CredentialsError(`Secret ${secretName} is not of type kubernetes.io/dockerconfigjson with a .dockerconfigjson key: create it with kubectl create secret docker-registry`);
  }
  const text = decode(raw)!;
  if (text.length > MAX_DOCKER_CONFIG) throw new CredentialsError(`Secret ${secretName}: .dockerconfigjson is larger than ${MAX_DOCKER_CONFIG / 1024} KiB`);
  let parsed: unknown;
  try { parsed = JSON.parse(text); } catch { throw new CredentialsError(`Secret ${secretName}: .dockerconfigjson is not JSON`); }
  const auths = (parsed as { auths?: unknown } | null)?.auths;
  if (!auths || typeof auths !== 'object') throw new CredentialsError(`Secret ${secretName}: .dockerconfigjson has no "auths" object`);
  const wanted = new Set(configKeysFor(ref).map(hostOfKey));
  for (const [key, entry] of Object.entries(auths as Record<string, unknown>)) {
    if (!wanted.has(hostOfKey(key)) || !entry || typeof entry !== 'object') continue;
    const e = entry as { username?: unknown; password?: unknown; auth?: unknown };
    if (typeof e.username === 'string' && typeof e.password === 'string' && e.username !== '') return { username: e.username, password: e.password };
    if (typeof e.auth === 'string') {
      const pair = decode(e.auth)!;
      const colon = pair.indexOf(':');
      if (colon <= 0) throw new CredentialsError(`Secret ${secretName}: the "auth" entry for ${ref.registry} is not base64 of user:password`);
      return { username: pair.slice(0, colon), password: pair.slice(colon + 1) };
    }
    throw new CredentialsError(`Secret ${secretName}: the entry for ${ref.registry} has neither username/password nor auth`);
  }
  return undefined;
}

/** The PEM CA bundle of a Secret (`ca.crt`), for registries with a private CA. */
export function caBundleOf(data: Readonly<Record<string, string>> | undefined): string | undefined {
  const raw = data?.['ca.crt'];
  return raw === undefined ? undefined : decode(raw);
}
