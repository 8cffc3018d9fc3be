// The git CLI, run with execFile semantics (no shell), a private HOME and no user or system config, no terminal
// prompts, and credentials only through GIT_ASKPASS, environment-passed config, or GIT_SSH_COMMAND files in a
// private temp folder that is removed afterwards. Whatever git prints is redacted before it leaves this module.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RevisionTooLargeError } from './limits.js';
import { summariseGitError } from './redact.js';

/** Credentials from spec.secretRef; every field optional. */
export interface GitAuth {
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly bearerToken?: string | undefined;
  readonly identity?: string | undefined;
  readonly knownHosts?: string | undefined;
  /** PEM CA bundle for an HTTPS server whose certificate the system store does not trust. */
  readonly caCert?: string | undefined;
}

/** A git failure; the message is already free of credentials. */
export class GitError extends Error {
  override readonly name = 'GitError';
}

const SAFE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Default bound on what one git invocation may print (ref listings, commit objects); blob reads set their own. */
const MAX_OUTPUT = 32 * 1024 * 1024;
/** Most bytes of `ls-tree` output (paths and ids of the files under spec.path): some 100,000 files. */
const MAX_LISTING = 16 * 1024 * 1024;

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly input?: string | Buffer;
  readonly signal?: AbortSignal;
  /** Values scrubbed from error text, besides credential-shaped text. */
  readonly secrets?: readonly string[];
  /** Most stdout bytes kept; more kills the program and rejects (default 32 MiB). */
  readonly maxOutput?: number;
}

/**
 * Runs a program without a shell; resolves stdout, rejects with a redacted GitError naming what failed. The child
 * leads its own process group, and a timeout or shutdown (the signal) kills the whole group: git's helpers
 * (git-remote-https, ssh, index-pack) go with it instead of holding a connection after git itself is gone.
 */
export function run(program: string, args: readonly string[], opts: RunOptions = {}): Promise<{ stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const cancelled = () => new GitError(`${program} ${args[0] ?? ''}: cancelled (timeout or shutdown)`);
    if (opts.signal?.aborted) return reject(cancelled());
    const maxOutput = opts.maxOutput ?? MAX_OUTPUT;
    const child = spawn(program, args, { cwd: opts.cwd, env: { ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const killGroup = () => {
      try { if (child.pid) process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
    };
    opts.signal?.addEventListener('abort', killGroup, { once: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    let overflow = false;
    child.stdout.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxOutput) { if (!overflow) { overflow = true; out.length = 0; killGroup(); } } else out.push(c);
    });
    child.stderr.on('data', (c: Buffer) => { if (err.length < 1024) err.push(c); });
    child.stdin.on('error', () => { /* the program may exit without reading its input */ });
    child.on('error', (e) => {
      opts.signal?.removeEventListener('abort', killGroup);
      reject(new GitError(`${program} ${args[0] ?? ''}: ${e.message}`));
    });
    child.on('close', (code, sig) => {
      opts.signal?.removeEventListener('abort', killGroup);
      const stderr = Buffer.concat(err).toString('utf8');
      if (opts.signal?.aborted) return reject(cancelled());
      if (overflow) return reject(Object.assign(new GitError(`${program} ${args[0] ?? ''}: output over ${maxOutput} bytes`), { outputOverflow: true }));
      if (code === 0) return resolve({ stdout: Buffer.concat(out), stderr });
      const detail = summariseGitError(stderr, opts.secrets ?? []) || (sig ? `killed by ${sig}` : `exit code ${code}`);
      reject(Object.assign(new GitError(`${program} ${args[0] ?? ''} failed: ${detail}`), { exitCode: code, stderr: summariseGitError(stderr, opts.secrets ?? []) }));
    });
    child.stdin.end(opts.input);
  });
}

const ASKPASS = `#!/bin/sh
# Answers git's username/password prompts from the environment; never from arguments (visible in ps).
case "$1" in
  Username*|username*) printf '%s\\n' "$KEELSON_GIT_USERNAME" ;;
  *) printf '%s\\n' "$KEELSON_GIT_PASSWORD" ;;
esac
`;

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A private folder with HOME, askpass, SSH identity and known_hosts for one git invocation; removed by dispose(). */
export interface GitSession {
  readonly env: Readonly<Record<string, string>>;
  readonly secrets: readonly string[];
  readonly dir: string;
  dispose(): Promise<void>;
}

/**
 * How git reaches an http(s) server: the controller's proxy variables (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), or the
 * proxy of a GitSync's spec.proxySecretRef. The latter goes in as http.proxy through the environment, never `-c`
 * (arguments are visible in process listings), and overrides the controller's variables, which are then not passed.
 */
export type GitProxy =
  | { readonly kind: 'environment'; readonly variables: Readonly<Record<string, string>> }
  | { readonly kind: 'secret'; readonly address: string; readonly username?: string | undefined; readonly password?: string | undefined };

export interface SessionOptions {
  /** Let git speak http://, git:// and file:// too (the controller's --allow-insecure-git); else https and ssh only. */
  readonly allowInsecure?: boolean;
  readonly extraEnv?: Record<string, string>;
  readonly proxy?: GitProxy | undefined;
  /**
   * The caller writes nothing into the session folder (no signature check keys): without credentials, the session
   * may then use the folder all such sessions share. Default false: a folder of its own, removed by dispose().
   */
  readonly shareable?: boolean;
}

/**
 * The proxy variables as git's libcurl reads them: curl honours only the lower-case http_proxy (the upper-case
 * one is ignored against "httpoxy"), so each upper-case variable also fills its lower-case form when that is unset
 * (as Go's net/http does for either case). Pure.
 */
export function proxyVariables(env: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['https_proxy', 'http_proxy', 'no_proxy']) {
    const upper = env[name.toUpperCase()];
    const value = env[name] || upper;
    if (value) out[name] = value;
    if (upper) out[name.toUpperCase()] = upper;
  }
  return out;
}

/** The proxy URL git is given, credentials percent-encoded into it; and the values to scrub from error text. Pure. */
export function proxyUrlOf(p: { address: string; username?: string | undefined; password?: string | undefined }): { url: string; secrets: string[] } {
  const u = new URL(p.address);
  if (p.username) u.username = encodeURIComponent(p.username);
  if (p.password) u.password = encodeURIComponent(p.password);
  const url = u.href.replace(/\/$/, '');
  const secrets = p.password ? [p.password, url, encodeURIComponent(p.password), `${p.username ?? ''}:${p.password}`] : [];
  return { url, secrets };
}

/**
 * Stall limits: a transfer slower than LOW_SPEED_BYTES per second for LOW_SPEED_SECONDS fails (http), and an ssh
 * server that answers no keepalive for SSH_ALIVE_INTERVAL * SSH_ALIVE_COUNT seconds is dropped; so a trickling
 * server cannot hold a sync slot until spec.timeout. git:// has no such knob: spec.timeout bounds it.
 */
export const LOW_SPEED_BYTES = 1000;
export const LOW_SPEED_SECONDS = 30;
const SSH_ALIVE_INTERVAL = 15;
const SSH_ALIVE_COUNT = 2;

/** The git configuration every invocation gets through the environment. Pure. */
export function sessionConfig(allowInsecure: boolean): [string, string][] {
  // Only the plain transports: never ext:: or other remote helpers that run commands. The insecure ones are
  // "never" unless allowed, which also stops an https server from redirecting git to http.
  const transports: [string, boolean][] = [['https', true], ['ssh', true], ['http', allowInsecure], ['git', allowInsecure], ['file', allowInsecure]];
  return [
    ['protocol.allow', 'never'],
    ...transports.map(([p, ok]): [string, string] => [`protocol.${p}.allow`, ok ? 'always' : 'never']),
    ['http.lowSpeedLimit', String(LOW_SPEED_BYTES)],
    ['http.lowSpeedTime', String(LOW_SPEED_SECONDS)],
  ];
}

/** Whether auth carries nothing that would be written into the session folder. */
function anonymous(auth: GitAuth | undefined): boolean {
  return !auth || !(auth.username || auth.password || auth.bearerToken || auth.identity || auth.knownHosts || auth.caCert);
}

/**
 * The one folder sessions without credentials share (a HOME, the askpass script and an empty known_hosts: nothing
 * of any GitSync's), made on first use and again if something removed it. Saves a no-op poll making and removing
 * five files (about 3 ms of a ~60 ms poll on the bench machine).
 */
let sharedFolder: Promise<string> | undefined;
async function sharedSessionFolder(): Promise<string> {
  const current = sharedFolder;
  if (current) {
    const dir = await current.catch(() => undefined);
    if (dir !== undefined && existsSync(join(dir, 'askpass.sh')) && existsSync(join(dir, 'home'))) return dir;
    if (sharedFolder !== current) return sharedSessionFolder(); // another caller is already making a new one
  }
  sharedFolder = sessionFolder(undefined);
  return sharedFolder;
}

/** A new 0700 folder with the files a session of `auth` needs, written side by side. */
async function sessionFolder(auth: GitAuth | undefined): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'keelson-git-'));
  try {
    await Promise.all([
      chmod(dir, 0o700),
      mkdir(join(dir, 'home'), { mode: 0o700 }),
      writeFile(join(dir, 'askpass.sh'), ASKPASS, { mode: 0o700 }),
      writeFile(join(dir, 'known_hosts'), auth?.knownHosts ?? '', { mode: 0o600 }),
      auth?.identity ? writeFile(join(dir, 'identity'), auth.identity.endsWith('\n') ? auth.identity : auth.identity + '\n', { mode: 0o600 }) : undefined,
      auth?.caCert ? writeFile(join(dir, 'ca.crt'), auth.caCert, { mode: 0o600 }) : undefined,
    ]);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return dir;
}

export async function openSession(auth: GitAuth | undefined, opts: SessionOptions = {}): Promise<GitSession> {
  const extraEnv = opts.extraEnv ?? {};
  const shared = opts.shareable === true && anonymous(auth);
  const dir = shared ? await sharedSessionFolder() : await sessionFolder(auth);
  const home = join(dir, 'home');
  const askpass = join(dir, 'askpass.sh');
  const knownHosts = join(dir, 'known_hosts');
  const identity = auth?.identity ? join(dir, 'identity') : undefined;
  const ca = auth?.caCert ? join(dir, 'ca.crt') : undefined;
  const sshArgs = ['ssh', '-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${shellQuote(knownHosts)}`,
    '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'IdentitiesOnly=yes', '-o', 'ConnectTimeout=20',
    '-o', `ServerAliveInterval=${SSH_ALIVE_INTERVAL}`, '-o', `ServerAliveCountMax=${SSH_ALIVE_COUNT}`];
  if (identity) sshArgs.push('-i', shellQuote(identity));
  const env: Record<string, string> = {
    PATH: SAFE_PATH, HOME: home, LANG: 'C', LC_ALL: 'C',
    GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null',
    // Never download a blob a filtered fetch left out behind Keelson's back (honoured by git >= 2.44).
    GIT_NO_LAZY_FETCH: '1',
    GIT_ASKPASS: askpass, SSH_ASKPASS: askpass, GIT_SSH_COMMAND: sshArgs.join(' '), GIT_SSH_VARIANT: 'ssh',
    KEELSON_GIT_USERNAME: auth?.username ?? (auth?.password ? 'git' : ''), KEELSON_GIT_PASSWORD: auth?.password ?? '',
    ...(opts.proxy?.kind === 'environment' ? proxyVariables(opts.proxy.variables) : {}),
    ...extraEnv,
  };
  if (ca) env.GIT_SSL_CAINFO = ca;
  // Config through the environment, not `-c` (arguments are visible in process listings).
  const config = sessionConfig(opts.allowInsecure ?? false);
  if (auth?.bearerToken) config.push(['http.extraHeader', `Authorization: Bearer ${auth.bearerToken}`]);
  const proxy = opts.proxy?.kind === 'secret' ? proxyUrlOf(opts.proxy) : undefined;
  if (proxy) config.push(['http.proxy', proxy.url]);
  env.GIT_CONFIG_COUNT = String(config.length);
  config.forEach(([k, v], i) => { env[`GIT_CONFIG_KEY_${i}`] = k; env[`GIT_CONFIG_VALUE_${i}`] = v; });
  const secrets = [auth?.password, auth?.bearerToken, auth?.identity, auth?.username && auth.password ? `${auth.username}:${auth.password}` : undefined, ...(proxy?.secrets ?? [])]
    .filter((s): s is string => typeof s === 'string' && s !== '');
  return { env, secrets, dir, dispose: shared ? async () => undefined : () => rm(dir, { recursive: true, force: true }) };
}

/** Serialises work per key (one fetch per repository URL at a time), across GitSyncs. */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async with<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => { release = r; });
    const tail = prev.then(() => mine);
    this.tails.set(key, tail);
    await prev;
    try { return await fn(); } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

/** The cache folder of one GitSync's repository: stable per (GitSync, URL), so a changed URL starts clean. */
export function repoDirFor(cacheDir: string, namespace: string, name: string, url: string): string {
  const h = createHash('sha256').update(`${namespace}/${name}\u0000${url}`).digest('hex').slice(0, 16);
  return join(cacheDir, `${namespace}_${name}_${h}`);
}

export async function git(session: GitSession, args: readonly string[], opts: Omit<RunOptions, 'env' | 'secrets'> = {}): Promise<Buffer> {
  return (await run('git', args, { ...opts, env: session.env, secrets: session.secrets })).stdout;
}

export async function lsRemote(session: GitSession, url: string, patterns: readonly string[], signal?: AbortSignal): Promise<string> {
  return (await git(session, ['ls-remote', '--', url, ...patterns], { signal })).toString('utf8');
}

export async function ensureRepo(session: GitSession, dir: string, signal?: AbortSignal): Promise<void> {
  if (existsSync(join(dir, 'HEAD'))) return;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await git(session, ['init', '--bare', '--quiet', dir], { signal });
}

export async function hasCommit(session: GitSession, dir: string, sha: string): Promise<boolean> {
  try { await git(session, ['-C', dir, 'cat-file', '-e', `${sha}^{commit}`]); return true; } catch { return false; }
}

/**
 * Makes `sha` present in the cache: nothing if it already is, else a shallow fetch of fetchRef; a pinned commit
 * that the server will not serve by SHA falls back to fetching the branches' full history. With `maxBlobBytes`,
 * blobs larger than that are not downloaded at all (a partial fetch, `--filter=blob:limit`), where the server
 * supports filters (GitHub, GitLab, and git with uploadpack.allowFilter); others send everything, as before.
 */
export async function fetchCommit(session: GitSession, dir: string, url: string, fetchRef: string, sha: string, signal?: AbortSignal, maxBlobBytes?: number): Promise<void> {
  if (await hasCommit(session, dir, sha)) return;
  const isSha = /^[0-9a-f]{40}$/.test(fetchRef);
  const refspec = isSha ? fetchRef : `+${fetchRef}:refs/keelson/target`;
  const filter = maxBlobBytes === undefined ? [] : [`--filter=blob:limit=${maxBlobBytes + 1}`];
  try {
    await git(session, ['-C', dir, 'fetch', '--quiet', '--depth=1', '--no-tags', ...filter, '--', url, refspec], { signal });
  } catch (err) {
    if (!isSha) throw err;
    const shallow = existsSync(join(dir, 'shallow'));
    await git(session, ['-C', dir, 'fetch', '--quiet', '--no-tags', ...filter, ...(shallow ? ['--unshallow'] : []), '--', url, '+refs/heads/*:refs/keelson/heads/*'], { signal });
  }
  if (!(await hasCommit(session, dir, sha))) throw new GitError(`commit ${sha} is not in the repository after fetching ${fetchRef}`);
}

/**
 * Ids of objects under basePath at sha that a filtered fetch left out (too big to download). Listed with
 * `rev-list --missing=print`, which never fetches them: `cat-file` on such a blob would download it lazily.
 */
export async function missingObjects(session: GitSession, dir: string, sha: string, basePath: string): Promise<Set<string>> {
  const tree = basePath === '.' ? `${sha}^{tree}` : `${sha}:${basePath}`;
  let out: string;
  try { out = (await git(session, ['-C', dir, 'rev-list', '--objects', '--missing=print', '--no-object-names', tree], { maxOutput: MAX_LISTING })).toString('utf8'); } catch (err) {
    if ((err as { outputOverflow?: boolean }).outputOverflow) throw new RevisionTooLargeError(`the tree under spec.path "${basePath}" at commit ${sha} holds too many objects to list; narrow spec.path or split the repository`);
    throw err;
  }
  const missing = new Set<string>();
  for (const line of out.split('\n')) if (line.startsWith('?')) missing.add(line.slice(1).trim());
  return missing;
}

/** Paths and blob ids of regular files under basePath at sha ("." = whole tree). */
export async function listFiles(session: GitSession, dir: string, sha: string, basePath: string): Promise<{ path: string; oid: string }[]> {
  const args = ['-C', dir, 'ls-tree', '-r', '-z', '--full-tree', sha, ...(basePath === '.' ? [] : ['--', basePath])];
  // The existence check and the listing run side by side (two processes, one wait); a missing path wins.
  const [exists, listing] = await Promise.allSettled([
    basePath === '.' ? Promise.resolve(true) : git(session, ['-C', dir, 'cat-file', '-e', `${sha}:${basePath}`]).then(() => true, () => false),
    git(session, args, { maxOutput: MAX_LISTING }),
  ]);
  if (exists.status === 'fulfilled' && !exists.value) throw new GitError(`spec.path "${basePath}" does not exist at commit ${sha}`);
  if (listing.status === 'rejected') {
    const err: unknown = listing.reason;
    if ((err as { outputOverflow?: boolean }).outputOverflow) throw new RevisionTooLargeError(`the tree under spec.path "${basePath}" at commit ${sha} lists over ${MAX_LISTING} bytes of file names; narrow spec.path or split the repository`);
    throw err;
  }
  const out = listing.value.toString('utf8');
  const files: { path: string; oid: string }[] = [];
  for (const entry of out.split('\0')) {
    const m = /^(\d{6}) (\w+) ([0-9a-f]+)\t(.*)$/s.exec(entry);
    // Regular files only: symlinks (120000) could point outside the path, submodules (commit) are not manifests.
    if (m && m[2] === 'blob' && (m[1] === '100644' || m[1] === '100755')) files.push({ path: m[4]!, oid: m[3]! });
  }
  return files;
}

/** The size git records for each blob, in one `git cat-file --batch-check` process, without reading contents. */
export async function blobSizes(session: GitSession, dir: string, oids: readonly string[]): Promise<number[]> {
  if (oids.length === 0) return [];
  const out = (await git(session, ['-C', dir, 'cat-file', '--batch-check'], { input: oids.join('\n') + '\n' })).toString('utf8');
  const lines = out.split('\n');
  return oids.map((oid, i) => {
    const m = /^([0-9a-f]+) blob (\d+)$/.exec(lines[i] ?? '');
    if (!m || m[1] !== oid) throw new GitError(`could not read the size of blob ${oid}: ${(lines[i] ?? '').slice(0, 80)}`);
    return Number(m[2]);
  });
}

/** Contents of blobs in one `git cat-file --batch` process; `maxBytes` bounds what is kept (their total size). */
export async function readBlobs(session: GitSession, dir: string, oids: readonly string[], maxBytes?: number): Promise<Buffer[]> {
  if (oids.length === 0) return [];
  // The batch output adds a header line (< 100 bytes) and a newline per blob to the contents.
  const maxOutput = maxBytes === undefined ? undefined : maxBytes + oids.length * 100;
  const out = await git(session, ['-C', dir, 'cat-file', '--batch'], { input: oids.join('\n') + '\n', ...(maxOutput === undefined ? {} : { maxOutput }) });
  const blobs: Buffer[] = [];
  let at = 0;
  for (const oid of oids) {
    const nl = out.indexOf(0x0a, at);
    const header = out.subarray(at, nl).toString('utf8');
    const m = /^([0-9a-f]+) blob (\d+)$/.exec(header);
    if (!m) throw new GitError(`could not read blob ${oid}: ${header.slice(0, 80)}`);
    const size = Number(m[2]);
    blobs.push(out.subarray(nl + 1, nl + 1 + size));
    at = nl + 1 + size + 1;
  }
  return blobs;
}
