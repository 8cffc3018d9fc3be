// The unseal worker pool with real worker threads and the reference keys: same results as the in-process unseal,
// UnsealError text carried across, keys re-posted when the keyring changes, the reconciler's lane ahead of HTTP,
// a killed worker failing only its job and being replaced, and close() refusing what is left.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { Keyring } from '../../../src/sealing/keyring.js';
import { sealingKeyOf } from '../../../src/sealing/keys.js';
import { labelFor } from '../../../src/sealing/scope.js';
import { type SealedSecret, UnsealError, unsealSealedSecret } from '../../../src/sealing/sealed-secret.js';
import { PoolClosedError, UnsealPool, WorkerFailedError } from '../../../src/sealing/unseal-pool.js';
import { decryptValue, encryptValue } from '../../../src/sealing/wire.js';

const FIX = join(import.meta.dirname, '../../fixtures/sealed-secrets/keys');
const read = (f: string) => readFileSync(join(FIX, f), 'utf8');
const k2048 = sealingKeyOf(read('key-2048.pem'), read('cert-2048.pem'), 'key-2048', new Date('2020-01-01T00:00:00Z'));
const k4096 = sealingKeyOf(read('key-4096.pem'), read('cert-4096.pem'), 'key-4096', new Date('2021-01-01T00:00:00Z'));
const logger = pino({ level: 'silent' });

function sealedWith(key: typeof k2048, name: string, values: Record<string, string>, template?: Record<string, string>): SealedSecret {
  const label = labelFor('strict', 'ns', name);
  return {
    apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret', metadata: { name, namespace: 'ns', uid: `uid-${name}` },
    spec: { encryptedData: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, encryptValue(key.publicKey, Buffer.from(v), label)])), ...(template ? { template: { data: template } } : {}) },
  };
}

describe('unseal pool', () => {
  const pools: UnsealPool[] = [];
  const newPool = (keyring: Keyring, size: number) => { const p = new UnsealPool(keyring, logger, size); pools.push(p); return p; };
  after(async () => { for (const p of pools) await p.close(); });

  it('opens values and renders templates exactly as in process, and names the key that opened them', async () => {
    const keyring = new Keyring();
    keyring.set([k2048, k4096]);
    const pool = newPool(keyring, 2);
    const ss = sealedWith(k2048, 'a', { user: 'admin', pass: 'pw' }, { url: 'x://{{ .user }}:{{ index . "pass" }}@h' });
    const got = await pool.unseal(ss, 'controller');
    const want = unsealSealedSecret(ss, keyring.privateKeys());
    assert.deepEqual([...got.data].map(([k, v]) => [k, v.toString()]), [...want.data].map(([k, v]) => [k, v.toString()]));
    assert.equal(got.fingerprint, k2048.fingerprint);
    assert.equal((await pool.unseal(ss, 'http', k2048.fingerprint)).data.get('url')!.toString(), 'x://admin:pw@h');
  });

  it('carries UnsealError reason and message, and nothing else', async () => {
    const keyring = new Keyring();
    keyring.set([k4096]);
    const pool = newPool(keyring, 1);
    await assert.rejects(pool.unseal(sealedWith(k2048, 'b', { k: 'v' }), 'http'), (e: unknown) => e instanceof UnsealError && e.reason === 'ErrUnsealFailed' && /value "k" cannot be unsealed/.test(e.message));
    await assert.rejects(pool.unseal(sealedWith(k4096, 'c', { k: 'v' }, { t: `{{${' '.repeat(6000)}` }), 'http'), (e: unknown) => e instanceof UnsealError && e.reason === 'UnsupportedTemplate');
  });

  it('uses keys added after the workers started, and reseals with the newest', async () => {
    const keyring = new Keyring();
    keyring.set([k4096]);
    const pool = newPool(keyring, 1);
    const ss = sealedWith(k2048, 'd', { k: 'secret-d' });
    await assert.rejects(pool.unseal(ss, 'controller'), UnsealError);
    keyring.set([k4096, k2048]);
    assert.equal((await pool.unseal(ss, 'controller')).data.get('k')!.toString(), 'secret-d');
    const re = await pool.reseal(ss);
    const opened = decryptValue([k4096.privateKey], re.spec!.encryptedData!.k!, labelFor('strict', 'ns', 'd'));
    assert.equal(opened.plaintext.toString(), 'secret-d'); // k4096 is the newest (created later)
  });

  it('runs the reconciler\'s jobs before queued HTTP jobs', async () => {
    const keyring = new Keyring();
    keyring.set([k2048]);
    const pool = newPool(keyring, 1);
    const order: string[] = [];
    const job = (name: string, lane: 'controller' | 'http') => pool.unseal(sealedWith(k2048, name, { k: 'v' }), lane).then(() => order.push(name));
    await Promise.all([job('http-1', 'http'), job('http-2', 'http'), job('ctl', 'controller')]);
    assert.deepEqual(order, ['http-1', 'ctl', 'http-2']);
  });

  it('replaces a worker that dies, failing only the job it held', async () => {
    const keyring = new Keyring();
    keyring.set([k2048]);
    const pool = newPool(keyring, 1);
    const many = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${i}`, `v${i}`]));
    const big = pool.unseal(sealedWith(k2048, 'big', many), 'controller');
    await new Promise((r) => setTimeout(r, 50));
    const worker = (pool as unknown as { slots: { worker?: { terminate(): Promise<number> } }[] }).slots[0]!.worker!;
    await worker.terminate();
    await assert.rejects(big, WorkerFailedError);
    assert.equal((await pool.unseal(sealedWith(k2048, 'after', { k: 'ok' }), 'controller')).data.get('k')!.toString(), 'ok');
  });

  it('refuses queued and new work once closed', async () => {
    const keyring = new Keyring();
    keyring.set([k2048]);
    const pool = new UnsealPool(keyring, logger, 1);
    const jobs = [1, 2, 3].map((i) => pool.unseal(sealedWith(k2048, `c${i}`, { k: 'v' }), 'http').then(() => undefined, (e: unknown) => e));
    await pool.close();
    for (const e of await Promise.all(jobs)) assert.ok(e instanceof PoolClosedError);
    await assert.rejects(pool.unseal(sealedWith(k2048, 'late', { k: 'v' }), 'http'), PoolClosedError);
  });
});
