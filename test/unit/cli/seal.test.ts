// `keelson seal` and `keelson unseal` in-process: every scope decrypts with an independent decryptor, data and
// stringData, JSON/YAML, --raw, --from-file, --merge-into, --cert as file and URL, an expired certificate refused,
// offline unseal with PEM keys and key Secret Lists, and failures that name the value but never show it.

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import forge from 'node-forge';
import { parse } from 'yaml';
import { sealCommand } from '../../../src/cli/seal.js';
import { unsealCommand } from '../../../src/cli/unseal.js';
import type { SealedSecret } from '../../../src/sealing/sealed-secret.js';
import { runCli, runCommand } from '../../support/cli.js';
import { referenceDecrypt } from '../sealing/independent-decrypt.js';

const FIX = join(import.meta.dirname, '../../fixtures/sealed-secrets');
const CERT = join(FIX, 'keys/cert-2048.pem');
const KEY = readFileSync(join(FIX, 'keys/key-2048.pem'), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'keelson-seal-'));

const SECRET = `apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: team-a
  labels: {app: db}
  annotations: {example.com/owner: team-a}
type: Opaque
data:
  password: ${Buffer.from('s3cr3t-P@ss').toString('base64')}
stringData:
  username: admin
  note: "ünïcode ✓"
`;

const labelOf = (scope: string, ns: string, name: string) => (scope === 'cluster-wide' ? '' : scope === 'namespace-wide' ? ns : `${ns}/${name}`);

describe('keelson seal', () => {
  for (const scope of ['strict', 'namespace-wide', 'cluster-wide']) {
    it(`seals data and stringData for scope ${scope} so the reference format opens it`, async () => {
      const r = await runCommand(sealCommand, ['--cert', CERT, '--scope', scope], SECRET);
      assert.equal(r.code, 0, r.stderr);
      const ss = parse(r.stdout) as SealedSecret;
      assert.equal(ss.apiVersion, 'bitnami.com/v1alpha1');
      assert.equal(ss.kind, 'SealedSecret');
      assert.deepEqual(ss.metadata.name, 'db');
      assert.deepEqual(Object.keys(ss.spec!.encryptedData!).sort(), ['note', 'password', 'username']);
      const open = (k: string) => referenceDecrypt(KEY, ss.spec!.encryptedData![k]!, labelOf(scope, 'team-a', 'db')).toString('utf8');
      assert.equal(open('password'), 's3cr3t-P@ss');
      assert.equal(open('username'), 'admin');
      assert.equal(open('note'), 'ünïcode ✓');
      assert.equal(ss.spec!.template!.type, 'Opaque');
      assert.deepEqual(ss.spec!.template!.metadata!.labels, { app: 'db' });
      if (scope === 'strict') assert.equal(ss.metadata.annotations, undefined);
      else assert.equal(ss.metadata.annotations![`sealedsecrets.bitnami.com/${scope}`], 'true');
      assert.ok(!r.stdout.includes('s3cr3t'));
    });
  }

  it('takes the scope from the Secret\'s annotations when --scope is not given', async () => {
    const secret = SECRET.replace('annotations: {example.com/owner: team-a}', 'annotations: {sealedsecrets.bitnami.com/namespace-wide: "true"}');
    const ss = parse((await runCommand(sealCommand, ['--cert', CERT], secret)).stdout) as SealedSecret;
    assert.equal(ss.metadata.annotations!['sealedsecrets.bitnami.com/namespace-wide'], 'true');
    assert.equal(referenceDecrypt(KEY, ss.spec!.encryptedData!.username!, 'team-a').toString(), 'admin');
  });

  it('reads JSON, honours --name/--namespace and writes JSON', async () => {
    const json = JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' }, stringData: { a: 'b' } });
    const r = await runCli(['seal', '--cert', CERT, '-o', 'json', '--name', 'renamed', '-n', 'other'], json);
    assert.equal(r.code, 0, r.stderr);
    const ss = JSON.parse(r.stdout) as SealedSecret;
    assert.equal(ss.metadata.name, 'renamed');
    assert.equal(ss.metadata.namespace, 'other');
    assert.equal(referenceDecrypt(KEY, ss.spec!.encryptedData!.a!, 'other/renamed').toString(), 'b');
  });

  it('writes the input\'s format unless -o says otherwise: JSON in, JSON out (as kubeseal); YAML in, YAML out', async () => {
    const json = JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x', namespace: 'n' }, stringData: { a: 'b' } });
    const fromJson = await runCli(['seal', '--cert', CERT], json);
    assert.equal(fromJson.code, 0, fromJson.stderr);
    assert.equal((JSON.parse(fromJson.stdout) as SealedSecret).kind, 'SealedSecret');
    const fromYaml = await runCli(['seal', '--cert', CERT], SECRET);
    assert.ok(!fromYaml.stdout.trimStart().startsWith('{'));
    assert.equal((parse(fromYaml.stdout) as SealedSecret).kind, 'SealedSecret');
    const forced = await runCli(['seal', '--cert', CERT, '-o', 'yaml'], json);
    assert.ok(!forced.stdout.trimStart().startsWith('{'));
  });

  it('--raw seals one value from --from-file or stdin', async () => {
    const file = join(dir, 'value.txt');
    writeFileSync(file, 'raw-value\n');
    const r = await runCommand(sealCommand, ['--raw', '--cert', CERT, '--namespace', 'ns', '--name', 'n', '--from-file', file]);
    assert.equal(referenceDecrypt(KEY, r.stdout, 'ns/n').toString(), 'raw-value\n');
    const s = await runCommand(sealCommand, ['--raw', '--cert', CERT, '--scope', 'cluster-wide'], 'from-stdin');
    assert.equal(referenceDecrypt(KEY, s.stdout, '').toString(), 'from-stdin');
    const bad = await runCli(['seal', '--raw', '--cert', CERT, '--namespace', 'ns'], 'x');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /needs --name/);
  });

  it('--from-file adds values to the Secret', async () => {
    const file = join(dir, 'tls.crt');
    writeFileSync(file, 'CERTDATA');
    const r = await runCommand(sealCommand, ['--cert', CERT, '--from-file', `cert=${file}`, '--from-file', file], SECRET);
    const ss = parse(r.stdout) as SealedSecret;
    assert.equal(referenceDecrypt(KEY, ss.spec!.encryptedData!.cert!, 'team-a/db').toString(), 'CERTDATA');
    assert.equal(referenceDecrypt(KEY, ss.spec!.encryptedData!['tls.crt']!, 'team-a/db').toString(), 'CERTDATA');
  });

  it('--merge-into adds and replaces values in an existing file, keeping the others', async () => {
    const target = join(dir, 'merge.yaml');
    writeFileSync(target, (await runCommand(sealCommand, ['--cert', CERT], SECRET)).stdout);
    const before = parse(readFileSync(target, 'utf8')) as SealedSecret;
    const r = await runCommand(sealCommand, ['--cert', CERT, '--merge-into', target], 'apiVersion: v1\nkind: Secret\nmetadata: {name: ignored}\nstringData: {password: new-one, extra: x}\n');
    assert.equal(r.code, 0);
    assert.equal(r.stdout, '');
    const merged = parse(readFileSync(target, 'utf8')) as SealedSecret;
    assert.equal(merged.spec!.encryptedData!.username, before.spec!.encryptedData!.username);
    assert.equal(referenceDecrypt(KEY, merged.spec!.encryptedData!.password!, 'team-a/db').toString(), 'new-one');
    assert.equal(referenceDecrypt(KEY, merged.spec!.encryptedData!.extra!, 'team-a/db').toString(), 'x');
  });

  it('kubeseal\'s -f / --secret-file in and -w / --sealed-secret-file out (nothing on stdout)', async () => {
    const input = join(dir, 'secret-in.yaml');
    const output = join(dir, 'sealed-out.yaml');
    writeFileSync(input, SECRET);
    const r = await runCli(['seal', '--cert', CERT, '-f', input, '-w', output]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    const ss = parse(readFileSync(output, 'utf8')) as SealedSecret;
    assert.equal(referenceDecrypt(KEY, ss.spec!.encryptedData!.password!, 'team-a/db').toString(), 's3cr3t-P@ss');
    const long = await runCli(['seal', '--cert', CERT, '--secret-file', input, '--sealed-secret-file', join(dir, 'sealed-2.json'), '-o', 'json']);
    assert.equal(long.code, 0, long.stderr);
    assert.equal((JSON.parse(readFileSync(join(dir, 'sealed-2.json'), 'utf8')) as SealedSecret).kind, 'SealedSecret');
    const raw = await runCli(['seal', '--raw', '--cert', CERT, '--scope', 'cluster-wide', '-w', join(dir, 'raw.txt')], 'raw!');
    assert.equal(raw.stdout, '');
    assert.equal(referenceDecrypt(KEY, readFileSync(join(dir, 'raw.txt'), 'utf8'), '').toString(), 'raw!');
    const failed = await runCli(['seal', '--cert', CERT, '-w', join(dir, 'never.yaml')], 'kind: ConfigMap\nmetadata: {name: x}\n');
    assert.equal(failed.code, 1);
    assert.throws(() => readFileSync(join(dir, 'never.yaml')), /ENOENT/, 'no file written on failure');
    const badDir = await runCli(['seal', '--cert', CERT, '-w', join(dir, 'no/such/dir.yaml')], SECRET);
    assert.equal(badDir.code, 1);
    assert.match(badDir.stderr, /cannot write --sealed-secret-file .*ENOENT/);
  });

  it('refuses a Secret without values unless --allow-empty-data, as kubeseal', async () => {
    const empty = 'apiVersion: v1\nkind: Secret\nmetadata: {name: e, namespace: n}\n';
    const refused = await runCli(['seal', '--cert', CERT], empty);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /no data or stringData.*--allow-empty-data/);
    assert.equal(refused.stdout, '');
    const allowed = await runCli(['seal', '--cert', CERT, '--allow-empty-data'], empty);
    assert.equal(allowed.code, 0, allowed.stderr);
    const ss = parse(allowed.stdout) as SealedSecret;
    assert.deepEqual(ss.spec!.encryptedData, {});
    assert.equal(ss.metadata.name, 'e');
    const withData = await runCli(['seal', '--cert', CERT], `${empty}data: {}\nstringData: {}\n`);
    assert.equal(withData.code, 1);
  });

  it('--fetch-cert prints the certificate (from --cert here; the controller in e2e), to -w as well', async () => {
    const r = await runCli(['seal', '--fetch-cert', '--cert', CERT]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, readFileSync(CERT, 'utf8'));
    await runCli(['seal', '--fetch-cert', '--cert', CERT, '-w', join(dir, 'cert-out.pem')]);
    assert.equal(readFileSync(join(dir, 'cert-out.pem'), 'utf8'), readFileSync(CERT, 'utf8'));
    const bad = await runCli(['seal', '--fetch-cert', '--cert', join(dir, 'secret-in.yaml')]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /is not a PEM certificate/);
  });

  it('--validate needs a SealedSecret', async () => {
    const r = await runCli(['seal', '--validate', '--controller-url-unknown'], '');
    assert.equal(r.code, 2);
    const none = await runCli(['seal', '--validate'], SECRET);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /--validate: no SealedSecret found in stdin/);
  });

  it('fetches the certificate from a URL', async () => {
    const server = http.createServer((_req, res) => res.end(readFileSync(CERT)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/cert.pem`;
      const ss = parse((await runCommand(sealCommand, ['--cert', url], SECRET)).stdout) as SealedSecret;
      assert.equal(referenceDecrypt(KEY, ss.spec!.encryptedData!.username!, 'team-a/db').toString(), 'admin');
    } finally { server.close(); }
  });

  it('refuses an expired certificate', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const cert = forge.pki.createCertificate();
    cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }) as string);
    cert.serialNumber = '01';
    cert.validity.notBefore = new Date(Date.now() - 2 * 86400_000);
    cert.validity.notAfter = new Date(Date.now() - 86400_000);
    cert.sign(forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }) as string), forge.md.sha256.create());
    const file = join(dir, 'expired.pem');
    writeFileSync(file, forge.pki.certificateToPem(cert));
    const r = await runCli(['seal', '--cert', file], SECRET);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /expired/);
    assert.equal(r.stdout, '');
  });

  it('explains bad input', async () => {
    const notSecret = await runCli(['seal', '--cert', CERT], 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n');
    assert.equal(notSecret.code, 1);
    assert.match(notSecret.stderr, /exactly one Secret.*ConfigMap/);
    const badB64 = await runCli(['seal', '--cert', CERT], 'apiVersion: v1\nkind: Secret\nmetadata: {name: x}\ndata: {k: "a_b-"}\n');
    assert.match(badB64.stderr, /data\["k"\] is not valid base64/);
    assert.ok(!badB64.stderr.includes('a_b-'));
    const unknown = await runCli(['seal', '--bogus'], '');
    assert.equal(unknown.code, 2);
  });
});

describe('keelson unseal', () => {
  let sealedFile = '';
  before(async () => {
    sealedFile = join(dir, 'sealed.yaml');
    writeFileSync(sealedFile, (await runCommand(sealCommand, ['--cert', CERT], SECRET)).stdout);
  });
  after(() => {});

  it('opens what seal wrote, with a PEM key (round trip)', async () => {
    const r = await runCommand(unsealCommand, ['--key', join(FIX, 'keys/key-2048.pem'), '-f', sealedFile]);
    assert.equal(r.code, 0, r.stderr);
    const secret = parse(r.stdout) as { data: Record<string, string>; metadata: { labels: Record<string, string>; ownerReferences?: unknown } };
    assert.equal(Buffer.from(secret.data.password!, 'base64').toString(), 's3cr3t-P@ss');
    assert.equal(Buffer.from(secret.data.note!, 'base64').toString(), 'ünïcode ✓');
    assert.deepEqual(secret.metadata.labels, { app: 'db' });
    assert.equal(secret.metadata.ownerReferences, undefined);
  });

  it('opens the reference manifests with the key Secret List (PKCS#8 key as well), as JSON', async () => {
    const all = ['sealedsecret-strict.yaml', 'sealedsecret-cluster-wide.yaml', 'sealedsecret-strict-template.yaml']
      .map((f) => readFileSync(join(FIX, 'manifests', f), 'utf8')).join('\n---\n');
    const r = await runCli(['unseal', '--key', join(FIX, 'keys/keyring-secrets.yaml'), '-o', 'json'], all);
    assert.equal(r.code, 0, r.stderr);
    const list = JSON.parse(r.stdout) as { items: { metadata: { name: string }; data: Record<string, string> }[] };
    assert.deepEqual(list.items.map((i) => i.metadata.name), ['db-credentials', 'registry-pull', 'db-url']);
    const expected = JSON.parse(readFileSync(join(FIX, 'manifests/expected-secrets.json'), 'utf8')) as Record<string, { expected_secret: { data: unknown } }>;
    assert.deepEqual(list.items[2]!.data, expected['sealedsecret-strict-template.yaml']!.expected_secret.data);
    const pk8 = await runCli(['unseal', '--key', join(FIX, 'keys/key-2048.pkcs8.pem')], readFileSync(join(FIX, 'manifests/sealedsecret-cluster-wide.yaml'), 'utf8'));
    assert.equal(pk8.code, 0, pk8.stderr);
  });

  it('fails naming the value that does not open, printing nothing', async () => {
    const r = await runCli(['unseal', '--key', join(FIX, 'keys/key-4096.pem'), '-f', sealedFile]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /SealedSecret team-a\/db: value "note" cannot be unsealed/);
    assert.ok(!r.stderr.includes('s3cr3t'));
  });

  it('needs a key', async () => {
    const r = await runCli(['unseal', '-f', sealedFile]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--key/);
  });
});
