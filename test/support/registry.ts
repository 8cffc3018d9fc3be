// A real OCI registry on loopback for image tests: Debian's `docker-registry` (distribution 2.8) with a config
// written to a temp folder, TLS from a generated certificate, and htpasswd Basic auth (bcrypt by apache2-utils'
// htpasswd) or token auth (a small ES256 JWT issuer here, trusted through the registry's rootcertbundle). Images are
// pushed over the registry's HTTP API (blob upload + manifest put); no Docker engine.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, createPrivateKey, randomBytes, sign as signData } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

export type RegistryAuth = 'htpasswd' | 'token' | 'none';

export interface TestRegistry {
  /** 127.0.0.1:<port> */
  readonly host: string;
  /** PEM of the self-signed certificate the registry (and the token service) serve. */
  readonly caCert: string;
  readonly username: string;
  readonly password: string;
  /** Pushes a tiny OCI image as repository:tag; returns its manifest digest. */
  push(repository: string, tag: string): Promise<string>;
  /** Requests the token service answered (token auth only). */
  readonly tokenRequests: number;
  stop(): Promise<void>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');
const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A self-signed P-256 certificate for 127.0.0.1 (openssl), written into dir. */
export function generateCert(dir: string): { cert: string; key: string; certPath: string; keyPath: string } {
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyPath, '-out', certPath], { stdio: 'ignore' });
  return { cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8'), certPath, keyPath };
}

/** An HTTPS request to a loopback server trusting `ca`; returns status, headers and body. */
export function request(url: string, opts: { method?: string; headers?: Record<string, string>; body?: Buffer | string; ca: string }): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: opts.method ?? 'GET', headers: opts.headers, ca: opts.ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Starts the registry with TLS and the given auth; resolves once /v2/ answers. */
export async function startRegistry(opts: { auth: RegistryAuth }): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'keelson-registry-'));
  const tls = generateCert(dir);
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const username = 'puller';
  const password = randomBytes(12).toString('hex');
  let tokenServer: https.Server | undefined;
  let tokenRequests = 0;
  let authBlock = '';
  const service = 'keelson-test-registry';
  const issuer = 'keelson-test-issuer';

  if (opts.auth === 'htpasswd') {
    const line = execFileSync('htpasswd', ['-Bbn', username, password], { encoding: 'utf8' }).trim();
    writeFileSync(join(dir, 'htpasswd'), `${line}\n`);
    authBlock = `auth:\n  htpasswd:\n    realm: keelson-test\n    path: ${join(dir, 'htpasswd')}\n`;
  }
  let tokenFor: ((scope: string) => string) | undefined;
  if (opts.auth === 'token') {
    const key = createPrivateKey(tls.key);
    const x5c = Buffer.from(tls.cert.replace(/-----[^-]+-----|\s/g, ''), 'base64').toString('base64');
    tokenFor = (scope: string) => {
      // scope: repository:<name>:<actions>
      const [type, name, actions] = [scope.slice(0, scope.indexOf(':')), scope.slice(scope.indexOf(':') + 1, scope.lastIndexOf(':')), scope.slice(scope.lastIndexOf(':') + 1)];
      const now = Math.floor(Date.now() / 1000);
      const header = b64url(JSON.stringify({ alg: 'ES256', typ: 'JWT', x5c: [x5c] }));
      const claims = b64url(JSON.stringify({ iss: issuer, sub: username, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'),
        access: scope ? [{ type, name, actions: actions.split(',') }] : [] }));
      const sig = signData('sha256', Buffer.from(`${header}.${claims}`), { key, dsaEncoding: 'ieee-p1363' });
      return `${header}.${claims}.${b64url(sig)}`;
    };
    const tokenPort = await freePort();
    tokenServer = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
      tokenRequests++;
      const url = new URL(req.url ?? '/', 'https://x');
      const expected = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
      if (req.headers.authorization !== expected || url.searchParams.get('service') !== service) { res.writeHead(401).end('{"errors":[{"code":"UNAUTHORIZED"}]}'); return; }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: tokenFor!(url.searchParams.get('scope') ?? '') }));
    });
    await new Promise<void>((r) => tokenServer!.listen(tokenPort, '127.0.0.1', r));
    authBlock = `auth:\n  token:\n    realm: https://127.0.0.1:${tokenPort}/token\n    service: ${service}\n    issuer: ${issuer}\n    rootcertbundle: ${tls.certPath}\n`;
  }

  mkdirSync(join(dir, 'data'));
  const config = `version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${join(dir, 'data')}
  delete:
    enabled: true
http:
  addr: ${host}
  secret: ${randomBytes(16).toString('hex')}
  tls:
    certificate: ${tls.certPath}
    key: ${tls.keyPath}
${authBlock}`;
  writeFileSync(join(dir, 'config.yml'), config);
  const child: ChildProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => { stderr = (stderr + c.toString()).slice(-4000); });
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited: ${stderr}`);
    try {
      const r = await request(`https://${host}/v2/`, { ca: tls.cert });
      if (r.status === 200 || r.status === 401) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) { child.kill(); throw new Error(`docker-registry did not start: ${stderr}`); }
    await new Promise((r) => setTimeout(r, 100));
  }

  const authFor = (repository: string): Record<string, string> => {
    if (opts.auth === 'htpasswd') return { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
    if (opts.auth === 'token') return { authorization: `Bearer ${tokenFor!(`repository:${repository}:pull,push`)}` };
    return {};
  };

  async function uploadBlob(repository: string, blob: Buffer): Promise<string> {
    const digest = sha256(blob);
    const start = await request(`https://${host}/v2/${repository}/blobs/uploads/`, { method: 'POST', headers: authFor(repository), ca: tls.cert });
    if (start.status !== 202) throw new Error(`blob upload start: ${start.status} ${start.body.toString()}`);
    const location = new URL(String(start.headers.location), `https://${host}`);
    location.searchParams.set('digest', digest);
    const put = await request(location.href, { method: 'PUT', headers: { ...authFor(repository), 'content-type': 'application/octet-stream', 'content-length': String(blob.length) }, body: blob, ca: tls.cert });
    if (put.status !== 201) throw new Error(`blob upload: ${put.status} ${put.body.toString()}`);
    return digest;
  }

  return {
    host, caCert: tls.cert, username, password,
    get tokenRequests() { return tokenRequests; },
    async push(repository, tag) {
      // A distinct config per push, so every tag has its own digest.
      const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Labels: { tag, nonce: randomBytes(4).toString('hex') } }, rootfs: { type: 'layers', diff_ids: [] } }));
      const layer = randomBytes(32);
      const configDigest = await uploadBlob(repository, config);
      const layerDigest = await uploadBlob(repository, layer);
      const manifest = Buffer.from(JSON.stringify({
        schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: layer.length }],
      }));
      const res = await request(`https://${host}/v2/${repository}/manifests/${tag}`, { method: 'PUT', headers: { ...authFor(repository), 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body: manifest, ca: tls.cert });
      if (res.status !== 201) throw new Error(`manifest put: ${res.status} ${res.body.toString()}`);
      return sha256(manifest);
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise<void>((r) => { if (child.exitCode !== null) r(); else child.once('exit', () => r()); });
      if (tokenServer) await new Promise<void>((r) => tokenServer!.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
