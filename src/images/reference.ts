// Image repository references of `ImagePolicy.spec.image`, normalised as Docker does (`nginx` →
// docker.io/library/nginx) plus the host the Distribution API is reached at (registry-1.docker.io for Docker Hub).
// Parsed by linear character checks, never a regex over tenant text. Pure.

export interface ImageRepository {
  /** The registry as users write it in image references (`docker.io`, `ghcr.io`, `127.0.0.1:5000`). */
  readonly registry: string;
  /** The repository path inside the registry (`library/nginx`). */
  readonly repository: string;
  /** host[:port] of the Distribution API. */
  readonly apiHost: string;
  /** `registry/repository`, the canonical name `status.latestRef` is built from. */
  readonly canonical: string;
}

export class ReferenceError extends Error {
  override readonly name = 'ReferenceError';
}

const MAX_REFERENCE = 255;
const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_API = 'registry-1.docker.io';

const isLowerAlnum = (c: number) => (c >= 48 && c <= 57) || (c >= 97 && c <= 122);

/** A path component: lower-case alphanumerics separated by one '.', one or two '_', or any number of '-'. */
function validComponent(s: string): boolean {
  if (s.length === 0 || !isLowerAlnum(s.charCodeAt(0)) || !isLowerAlnum(s.charCodeAt(s.length - 1))) return false;
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (isLowerAlnum(c)) { i++; continue; }
    // A separator run: '.', '_', '__' or '-'+.
    let j = i;
    while (j < s.length && !isLowerAlnum(s.charCodeAt(j))) j++;
    const sep = s.slice(i, j);
    const ok = sep === '.' || sep === '_' || sep === '__' || [...sep].every((x) => x === '-');
    if (!ok) return false;
    i = j;
  }
  return true;
}

/** host, host:port or [ipv6]:port; letters, digits, '-' and '.' in the host part. */
function validHost(s: string): boolean {
  if (s.length === 0 || s.length > 253) return false;
  let host = s;
  let port: string | undefined;
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) return false;
    const inner = s.slice(1, end);
    for (const ch of inner) if (!/[0-9a-fA-F:.]/.test(ch)) return false;
    const rest = s.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) return false;
    port = rest === '' ? undefined : rest.slice(1);
    host = 'x';
  } else {
    const colon = s.indexOf(':');
    if (colon >= 0) { host = s.slice(0, colon); port = s.slice(colon + 1); }
    for (let i = 0; i < host.length; i++) {
      const c = host.charCodeAt(i);
      const ok = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46;
      if (!ok) return false;
    }
    if (host.startsWith('.') || host.endsWith('.') || host.startsWith('-')) return false;
  }
  if (port !== undefined) {
    if (port.length === 0 || port.length > 5) return false;
    for (let i = 0; i < port.length; i++) { const c = port.charCodeAt(i); if (c < 48 || c > 57) return false; }
    if (Number(port) > 65535 || Number(port) === 0) return false;
  }
  return true;
}

/**
 * Parses `[registry/]repository` without tag or digest. The first component is a registry when it holds '.' or ':'
 * or is `localhost` (Docker's rule); else the image is on Docker Hub, where one-component names live in `library/`.
 */
export function parseImageRepository(text: string): ImageRepository {
  const s = text.trim();
  if (s.length === 0) throw new ReferenceError('spec.image is empty: name a repository such as ghcr.io/org/app or nginx');
  if (s.length > MAX_REFERENCE) throw new ReferenceError(`spec.image is longer than ${MAX_REFERENCE} characters`);
  if (s.includes('@')) throw new ReferenceError(`spec.image "${s}" holds a digest: name the repository only (the policy picks the tag)`);
  const slash = s.indexOf('/');
  const first = slash < 0 ? s : s.slice(0, slash);
  const hasRegistry = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  let registry = hasRegistry ? first : DOCKER_HUB;
  let path = hasRegistry ? s.slice(slash + 1) : s;
  // A ':' left in the path is a tag (the registry's port was taken above).
  if (path.includes(':')) throw new ReferenceError(`spec.image "${s}" holds a tag: name the repository only (the policy picks the tag)`);
  if (!validHost(registry)) throw new ReferenceError(`spec.image "${s}": "${registry}" is not a registry host[:port]`);
  if (registry === 'index.docker.io') registry = DOCKER_HUB;
  const components = path.split('/');
  for (const c of components) {
    if (!validComponent(c)) throw new ReferenceError(`spec.image "${s}": repository component "${c}" is not valid (lower-case letters, digits, and '.', '_', '__' or '-' between them)`);
  }
  if (registry === DOCKER_HUB && components.length === 1) path = `library/${path}`;
  const apiHost = registry === DOCKER_HUB ? DOCKER_HUB_API : registry;
  return { registry, repository: path, apiHost, canonical: `${registry}/${path}` };
}

/** True for a tag by the OCI grammar `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`. */
export function isValidTag(tag: string): boolean {
  if (tag.length === 0 || tag.length > 128) return false;
  for (let i = 0; i < tag.length; i++) {
    const c = tag.charCodeAt(i);
    const word = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
    if (!word && (i === 0 || (c !== 46 && c !== 45))) return false;
  }
  return true;
}

/** The registry keys a dockerconfigjson may use for this registry (Docker Hub has several spellings). */
export function configKeysFor(ref: ImageRepository): string[] {
  if (ref.registry === DOCKER_HUB) return ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io', 'https://registry-1.docker.io'];
  return [ref.registry, `https://${ref.registry}`, `http://${ref.registry}`];
}
