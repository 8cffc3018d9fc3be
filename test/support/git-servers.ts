// Real Git servers on loopback for Git sync tests: `git daemon`, `git http-backend` behind HTTP basic/bearer auth
// (a small node:http CGI front), and Debian's OpenSSH sshd with generated host and user keys. Plus repositories
// with a working copy to commit (optionally signed with GnuPG or SSH keys) and push from.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
export { freePort } from './ports.js';
import { freePort } from './ports.js';

const GIT_ENV = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/nonexistent', LANG: 'C',
  GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0',
  GIT_AUTHOR_NAME: 'Test', GIT_AUTHOR_EMAIL: 'test@example.com', GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 'test@example.com',
};

export function sh(program: string, args: readonly string[], opts: { cwd?: string; env?: Record<string, string>; input?: string } = {}): string {
  return execFileSync(program, args, { cwd: opts.cwd, env: { ...GIT_ENV, ...opts.env }, input: opts.input, stdio: ['pipe', 'pipe', 'pipe'] }).toString('utf8');
}

export type Signer = { kind: 'gpg'; gnupgHome: string; keyId: string } | { kind: 'ssh'; keyPath: string };

/** A bare repository under the fixture root and a working copy to commit and push from. */
export class TestRepo {
  readonly work: string;
  constructor(readonly bare: string, readonly name: string) {
    this.work = `${bare}.work`;
    mkdirSync(bare, { recursive: true });
    sh('git', ['init', '--bare', '--quiet', '--initial-branch=main', bare]);
    sh('git', ['init', '--quiet', '--initial-branch=main', this.work]);
  }

  /** Writes (or, for null, deletes) files relative to the working copy. */
  write(files: Record<string, string | null>): this {
    for (const [path, content] of Object.entries(files)) {
      const full = join(this.work, path);
      if (content === null) rmSync(full, { force: true });
      else { mkdirSync(dirname(full), { recursive: true }); writeFileSync(full, content); }
    }
    return this;
  }

  /** Commits everything (allowing empty commits) and pushes the branch; returns the commit SHA. */
  commit(message: string, opts: { branch?: string; signer?: Signer } = {}): string {
    const branch = opts.branch ?? 'main';
    sh('git', ['-C', this.work, 'checkout', '--quiet', '-B', branch]);
    sh('git', ['-C', this.work, 'add', '-A']);
    const sign: string[] = [];
    const env: Record<string, string> = {};
    if (opts.signer?.kind === 'gpg') { sign.push('-c', `user.signingkey=${opts.signer.keyId}`); env.GNUPGHOME = opts.signer.gnupgHome; }
    if (opts.signer?.kind === 'ssh') sign.push('-c', 'gpg.format=ssh', '-c', `user.signingkey=${opts.signer.keyPath}`);
    sh('git', ['-C', this.work, ...sign, 'commit', '--quiet', '--allow-empty', '-m', message, ...(opts.signer ? ['-S'] : [])], { env });
    sh('git', ['-C', this.work, 'push', '--quiet', '--force', this.bare, `${branch}:${branch}`]);
    return sh('git', ['-C', this.work, 'rev-parse', 'HEAD']).trim();
  }

  tag(name: string, annotated = false): void {
    sh('git', ['-C', this.work, 'tag', '-f', ...(annotated ? ['-a', '-m', name] : []), name]);
    sh('git', ['-C', this.work, 'push', '--quiet', '--force', this.bare, `refs/tags/${name}`]);
  }
}

export interface GitServers {
  readonly root: string;
  repo(name: string): TestRepo;
  /** git://127.0.0.1:port/<name>.git */
  daemonUrl(name: string): string;
  /** http://127.0.0.1:port/<name>.git, requiring the basic-auth user/password or the bearer token. */
  httpUrl(name: string): string;
  readonly httpAuth: { readonly username: string; readonly password: string; readonly bearerToken: string };
  /** https://127.0.0.1:port/<name>.git: the same backend over TLS with a self-signed certificate (caCert). */
  httpsUrl(name: string): string;
  readonly caCert: string;
  /** Requests the HTTP(S) server saw: "<auth scheme or none> <method> <url>". */
  readonly httpRequests: string[];
  /** ssh://root@127.0.0.1:port/<abs path>/<name>.git (sshd starts on first use). */
  sshUrl(name: string): Promise<string>;
  readonly ssh: { readonly identity: string; readonly knownHosts: () => string; readonly wrongKnownHosts: () => string };
  gpgKey(name: string): { signer: Signer; armoredPublicKey: string };
  sshSigningKey(name: string): { signer: Signer; publicKey: string };
  stop(): Promise<void>;
}

async function waitPort(port: number, proc: ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`${what} exited with ${proc.exitCode}`);
    // Connect, never listen: a probing listener could take the port from the server that is starting.
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not listen on ${port}`);
}

/** Starts git daemon and the HTTP backend now; sshd lazily. Everything stops with stop(). */
export async function startGitServers(): Promise<GitServers> {
  const root = mkdtempSync(join(tmpdir(), 'keelson-gitsrv-'));
  const reposDir = join(root, 'repos');
  mkdirSync(reposDir);
  const procs: ChildProcess[] = [];

  const daemonPort = await freePort();
  const daemon = spawn('git', ['daemon', '--reuseaddr', '--export-all', `--base-path=${reposDir}`, '--listen=127.0.0.1', `--port=${daemonPort}`, reposDir], { env: GIT_ENV, stdio: 'ignore' });
  procs.push(daemon);
  await waitPort(daemonPort, daemon, 'git daemon');

  const httpAuth = { username: 'robot', password: `pw-${Math.random().toString(36).slice(2)}-s3cr3t`, bearerToken: `tok-${Math.random().toString(36).slice(2)}-b34r3r` };
  const httpRequests: string[] = [];
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const auth = req.headers.authorization ?? '';
    const basicOk = auth === `Basic ${Buffer.from(`${httpAuth.username}:${httpAuth.password}`).toString('base64')}`;
    const bearerOk = auth === `Bearer ${httpAuth.bearerToken}`;
    httpRequests.push(`${auth.split(' ')[0] || 'none'} ${req.method} ${req.url}`);
    if (!basicOk && !bearerOk) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' });
      res.end('unauthorized\n');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const cgi = spawn('/usr/lib/git-core/git-http-backend', [], {
      env: {
        ...GIT_ENV, GIT_PROJECT_ROOT: reposDir, GIT_HTTP_EXPORT_ALL: '1', REQUEST_METHOD: req.method ?? 'GET',
        PATH_INFO: decodeURIComponent(url.pathname), QUERY_STRING: url.search.slice(1), CONTENT_TYPE: req.headers['content-type'] ?? '',
        REMOTE_USER: basicOk ? httpAuth.username : 'bearer', REMOTE_ADDR: '127.0.0.1', GATEWAY_INTERFACE: 'CGI/1.1',
        HTTP_GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''), HTTP_CONTENT_ENCODING: String(req.headers['content-encoding'] ?? ''),
        ...(req.headers['content-length'] ? { CONTENT_LENGTH: String(req.headers['content-length']) } : {}),
      },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    req.pipe(cgi.stdin);
    const chunks: Buffer[] = [];
    cgi.stdout.on('data', (c: Buffer) => chunks.push(c));
    cgi.on('close', () => {
      const out = Buffer.concat(chunks);
      let sep = out.indexOf('\r\n\r\n');
      let sepLen = 4;
      if (sep < 0) { sep = out.indexOf('\n\n'); sepLen = 2; }
      const head = out.subarray(0, Math.max(0, sep)).toString('utf8');
      const headers: Record<string, string> = {};
      let status = 200;
      for (const line of head.split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i < 0) continue;
        const k = line.slice(0, i).trim();
        const v = line.slice(i + 1).trim();
        if (k.toLowerCase() === 'status') status = Number(v.split(' ')[0]);
        else headers[k] = v;
      }
      res.writeHead(status, headers);
      res.end(sep < 0 ? out : out.subarray(sep + sepLen));
    });
  };
  const httpServer = http.createServer(handler);
  const httpPort = await new Promise<number>((resolve) => httpServer.listen(0, '127.0.0.1', () => resolve((httpServer.address() as { port: number }).port)));
  const tlsDir = join(root, 'tls');
  mkdirSync(tlsDir);
  sh('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(tlsDir, 'key.pem'), '-out', join(tlsDir, 'cert.pem')]);
  const caCert = readFileSync(join(tlsDir, 'cert.pem'), 'utf8');
  const httpsServer = https.createServer({ key: readFileSync(join(tlsDir, 'key.pem')), cert: caCert }, handler);
  const httpsPort = await new Promise<number>((resolve) => httpsServer.listen(0, '127.0.0.1', () => resolve((httpsServer.address() as { port: number }).port)));

  // SSH material: host key, a second (wrong) host key, and the client identity.
  const sshDir = join(root, 'ssh');
  mkdirSync(sshDir, { mode: 0o700 });
  const keygen = (file: string, comment: string) => sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', join(sshDir, file)]);
  keygen('host_ed25519', 'host');
  keygen('wrong_host_ed25519', 'wrong-host');
  keygen('client_ed25519', 'keelson-test');
  writeFileSync(join(sshDir, 'authorized_keys'), readFileSync(join(sshDir, 'client_ed25519.pub')));
  let sshPort = 0;
  let sshd: ChildProcess | undefined;
  const pub = (file: string) => readFileSync(join(sshDir, file), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');

  const startSshd = async () => {
    if (sshd) return;
    sshPort = await freePort();
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    writeFileSync(join(sshDir, 'sshd_config'), [
      `Port ${sshPort}`, 'ListenAddress 127.0.0.1', `HostKey ${join(sshDir, 'host_ed25519')}`, `PidFile ${join(sshDir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(sshDir, 'authorized_keys')}`, 'StrictModes no', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes', 'PermitRootLogin prohibit-password', 'UsePAM no', 'AllowUsers root', 'LogLevel ERROR', 'AcceptEnv GIT_PROTOCOL',
    ].join('\n') + '\n');
    sshd = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(sshDir, 'sshd_config')], { stdio: 'ignore' });
    procs.push(sshd);
    await waitPort(sshPort, sshd, 'sshd');
  };

  const gpgKeys = new Map<string, { signer: Signer; armoredPublicKey: string }>();
  const sshKeys = new Map<string, { signer: Signer; publicKey: string }>();

  return {
    root,
    repo: (name) => new TestRepo(join(reposDir, `${name}.git`), name),
    daemonUrl: (name) => `git://127.0.0.1:${daemonPort}/${name}.git`,
    httpUrl: (name) => `http://127.0.0.1:${httpPort}/${name}.git`,
    httpsUrl: (name) => `https://127.0.0.1:${httpsPort}/${name}.git`,
    caCert,
    httpAuth, httpRequests,
    sshUrl: async (name) => { await startSshd(); return `ssh://root@127.0.0.1:${sshPort}${join(reposDir, `${name}.git`)}`; },
    ssh: {
      identity: readFileSync(join(sshDir, 'client_ed25519'), 'utf8'),
      knownHosts: () => `[127.0.0.1]:${sshPort} ${pub('host_ed25519.pub')}\n`,
      wrongKnownHosts: () => `[127.0.0.1]:${sshPort} ${pub('wrong_host_ed25519.pub')}\n`,
    },
    gpgKey: (name) => {
      const existing = gpgKeys.get(name);
      if (existing) return existing;
      const home = join(root, `gnupg-${name}`);
      mkdirSync(home, { mode: 0o700 });
      const env = { GNUPGHOME: home };
      sh('gpg', ['--batch', '--quiet', '--passphrase', '', '--quick-gen-key', `${name} <${name}@example.com>`, 'ed25519', 'sign', 'never'], { env });
      const keyId = /^fpr:+([0-9A-F]+):/m.exec(sh('gpg', ['--batch', '--with-colons', '--list-secret-keys'], { env }))![1]!;
      const k = { signer: { kind: 'gpg' as const, gnupgHome: home, keyId }, armoredPublicKey: sh('gpg', ['--batch', '--armor', '--export', keyId], { env }) };
      gpgKeys.set(name, k);
      return k;
    },
    sshSigningKey: (name) => {
      const existing = sshKeys.get(name);
      if (existing) return existing;
      keygen(`sign_${name}`, name);
      const k = { signer: { kind: 'ssh' as const, keyPath: join(sshDir, `sign_${name}`) }, publicKey: pub(`sign_${name}.pub`) };
      sshKeys.set(name, k);
      return k;
    },
    stop: async () => {
      for (const p of procs) if (p.exitCode === null) p.kill('SIGTERM');
      await new Promise<void>((r) => { httpServer.close(() => r()); httpServer.closeAllConnections(); });
      await new Promise<void>((r) => { httpsServer.close(() => r()); httpsServer.closeAllConnections(); });
      for (const home of [...gpgKeys.values()].map((k) => (k.signer as { gnupgHome: string }).gnupgHome)) {
        try { sh('gpgconf', ['--kill', 'gpg-agent'], { env: { GNUPGHOME: home } }); } catch { /* no agent */ }
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
