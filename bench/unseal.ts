// Benchmark 4 — unseal throughput, in this process: Keelson's unsealSealedSecret (what the reconciler calls) against
// raw node:crypto doing the same hybrid decryption (RSA-OAEP-SHA256 of the session key, then AES-256-GCM) with the
// key known in advance. RSA-4096, one key; then a 12-key keyring (a year of monthly renewals): sealed with the
// newest key, with the oldest key on first sight (every key tried), and with the oldest key once remembered.
// Since unsealing moved to worker threads, also the UnsealPool (what the reconciler and /v1/verify now call): one
// worker, object by object, against the in-process call (same moments of load: the per-core cost of the move),
// and the full pool with every object at once, with the event loop's utilization meanwhile (it should stay idle).

import { type KeyObject, constants, createCipheriv, createDecipheriv, generateKeyPair, privateDecrypt, publicEncrypt, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { Keyring } from '../src/sealing/keyring.js';
import { type SealingKey, fingerprintOf } from '../src/sealing/keys.js';
import { type SealedSecret, unsealSealedSecret } from '../src/sealing/sealed-secret.js';
import { UnsealPool, defaultPoolSize } from '../src/sealing/unseal-pool.js';
import type { Benchmark } from './support/bench.js';
import { now, range } from './support/pool.js';
import { atMost, ratio } from './support/report.js';
import { round, summarize } from './support/stats.js';

const NONCE = Buffer.alloc(12);

interface Pair { publicKey: KeyObject; privateKey: KeyObject }
const generate = promisify(generateKeyPair);
const newKey = async (bits: number): Promise<Pair> => await generate('rsa', { modulusLength: bits }) as Pair;

/** The sealed-secrets wire format, written independently of Keelson's code (so this also checks compatibility). */
function rawSeal(publicKey: KeyObject, plaintext: Buffer, label: string): string {
  const sessionKey = randomBytes(32);
  const rsaCt = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: Buffer.from(label) }, sessionKey);
  const cipher = createCipheriv('aes-256-gcm', sessionKey, NONCE);
  const head = Buffer.alloc(2);
  head.writeUInt16BE(rsaCt.length);
  return Buffer.concat([head, rsaCt, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]).toString('base64');
}

function rawOpen(privateKey: KeyObject, value: string, label: string): Buffer {
  const blob = Buffer.from(value, 'base64');
  const n = blob.readUInt16BE(0);
  const sessionKey = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: Buffer.from(label) }, blob.subarray(2, 2 + n));
  const rest = blob.subarray(2 + n);
  const decipher = createDecipheriv('aes-256-gcm', sessionKey, NONCE);
  decipher.setAuthTag(rest.subarray(rest.length - 16));
  return Buffer.concat([decipher.update(rest.subarray(0, rest.length - 16)), decipher.final()]);
}

interface Fixture { sealed: SealedSecret[]; plain: { name: string; values: Record<string, Buffer> }[]; values: number }

function fixture(publicKey: KeyObject, objects: number, valuesEach: number): Fixture {
  const sealed: SealedSecret[] = [];
  const plain: Fixture['plain'] = [];
  for (const i of range(objects)) {
    const name = `secret-${i}`;
    const label = `bench/${name}`; // strict scope: "<namespace>/<name>"
    const values: Record<string, Buffer> = {};
    const encryptedData: Record<string, string> = {};
    for (const j of range(valuesEach)) {
      values[`key${j}`] = randomBytes(48);
      encryptedData[`key${j}`] = rawSeal(publicKey, values[`key${j}`]!, label);
    }
    sealed.push({ apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret', metadata: { name, namespace: 'bench', uid: `uid-${i}` }, spec: { encryptedData } });
    plain.push({ name, values });
  }
  return { sealed, plain, values: objects * valuesEach };
}

/** Keelson's unseal of one object, with a hint function standing in for the keyring's memory; returns ms. */
function keelsonOnce(ss: SealedSecret, keys: readonly KeyObject[], memory?: Map<string, number>): number {
  const t0 = now();
  const out = unsealSealedSecret(ss, keys, memory?.get(ss.metadata.uid!) ?? -1);
  memory?.set(ss.metadata.uid!, out.keyIndex);
  return now() - t0;
}

function rawOnce(ss: SealedSecret, plain: Fixture['plain'][number], key: KeyObject): number {
  const t0 = now();
  for (const [k, v] of Object.entries(ss.spec!.encryptedData!)) {
    const opened = rawOpen(key, v!, `bench/${plain.name}`);
    if (opened.length !== plain.values[k]!.length) throw new Error('raw decryption gave the wrong length');
  }
  return now() - t0;
}

/** A keyring entry for a bare key pair (the pool needs only the keys, the fingerprint and the order). */
function sealingKey(pair: Pair, createdAt: Date): SealingKey {
  return { source: 'bench', privateKey: pair.privateKey, publicKey: pair.publicKey, certPem: '', notBefore: createdAt, notAfter: createdAt, createdAt, fingerprint: fingerprintOf(pair.publicKey) };
}

function check(f: Fixture, keys: readonly KeyObject[]): void {
  const ss = f.sealed[0]!;
  const out = unsealSealedSecret(ss, keys, -1);
  for (const [k, v] of Object.entries(f.plain[0]!.values)) if (!out.data.get(k)?.equals(v)) throw new Error(`Keelson opened ${k} of ${ss.metadata.name} to the wrong bytes`);
}

function cpusNote(): string {
  return `default pool size ${defaultPoolSize()} (the CPUs this process may use, container quota included, at most 4)`;
}

export const unseal: Benchmark = {
  name: 'unseal',
  title: 'Unseal: values per second, RSA-4096, Keelson vs raw node:crypto (same process), and through the worker pool',
  async run(ctx) {
    const objects = ctx.smoke ? 4 : 60;
    const valuesEach = 4;
    const rounds = ctx.smoke ? 1 : 5;
    const keyringSize = ctx.smoke ? 3 : 12;
    // Smoke runs keep the sealing key at 4096 bits but fill the rest of the keyring with quick 2048-bit keys.
    const olderBits = ctx.smoke ? 2048 : 4096;
    ctx.out.params = { objects, valuesPerObject: valuesEach, rounds, keyBits: 4096, keyringSize, olderKeyBits: olderBits };

    const t0 = now();
    const newest = await newKey(4096);
    const older = await Promise.all(range(keyringSize - 2).map(() => newKey(olderBits)));
    const oldest = await newKey(4096);
    ctx.log(`generated ${keyringSize} keys in ${round((now() - t0) / 1000, 1)} s`);
    const keyring = [newest.privateKey, ...older.map((k) => k.privateKey), oldest.privateKey]; // newest first, as the keyring orders them

    const byNewest = fixture(newest.publicKey, objects, valuesEach);
    const byOldest = fixture(oldest.publicKey, objects, valuesEach);
    check(byNewest, [newest.privateKey]);
    check(byOldest, keyring);

    const times = { raw: [] as number[], one: [] as number[], ringNewest: [] as number[], ringOldestCold: [] as number[], ringOldestWarm: [] as number[] };
    for (const _ of range(rounds)) {
      // Interleaved object by object, so every figure and its reference share the same moments of machine load.
      const sum = { raw: 0, one: 0, ringNewest: 0, ringOldestCold: 0, ringOldestWarm: 0 };
      const memory = new Map<string, number>();
      for (const i of range(objects)) {
        sum.raw += rawOnce(byNewest.sealed[i]!, byNewest.plain[i]!, newest.privateKey);
        sum.one += keelsonOnce(byNewest.sealed[i]!, [newest.privateKey]);
        sum.ringNewest += keelsonOnce(byNewest.sealed[i]!, keyring);
        sum.ringOldestCold += keelsonOnce(byOldest.sealed[i]!, keyring, memory);
        sum.ringOldestWarm += keelsonOnce(byOldest.sealed[i]!, keyring, memory);
      }
      for (const k of Object.keys(sum) as (keyof typeof sum)[]) times[k].push(sum[k] / byNewest.values);
    }
    // The pool: one worker object by object against the in-process call, interleaved; then every worker at once.
    const keyring1 = new Keyring();
    keyring1.set([sealingKey(newest, new Date())]);
    const silent = pino({ level: 'silent' });
    const pool1 = new UnsealPool(keyring1, silent, 1);
    const poolN = new UnsealPool(keyring1, silent, defaultPoolSize());
    const pooled = { inProcess: [] as number[], pool1: [] as number[], poolAll: [] as number[], elu: [] as number[] };
    try {
      await pool1.unseal(byNewest.sealed[0]!, 'controller'); // start the worker and post the keys outside the measurement
      await Promise.all(byNewest.sealed.slice(0, poolN.size).map((ss) => poolN.unseal(ss, 'controller')));
      for (const _ of range(rounds)) {
        let inProcess = 0;
        let one = 0;
        // Batches of 4 objects: the reconciler's default --workers, so jobs queue in the pool as they do in the
        // controller (a lone job would also measure the OS waking the worker, which an idle machine hides).
        for (let i = 0; i < objects; i += 4) {
          const batch = byNewest.sealed.slice(i, i + 4);
          for (const ss of batch) inProcess += keelsonOnce(ss, [newest.privateKey]);
          const t0 = now();
          await Promise.all(batch.map((ss) => pool1.unseal(ss, 'controller')));
          one += now() - t0;
        }
        pooled.inProcess.push(inProcess / byNewest.values);
        pooled.pool1.push(one / byNewest.values);
        const elu0 = performance.eventLoopUtilization();
        const t0 = now();
        await Promise.all(byNewest.sealed.map((ss) => poolN.unseal(ss, 'controller')));
        pooled.poolAll.push((now() - t0) / byNewest.values);
        pooled.elu.push(performance.eventLoopUtilization(elu0).utilization);
      }
    } finally {
      await pool1.close();
      await poolN.close();
    }

    const med = (xs: number[]) => summarize(xs).p50;
    const raw = med(times.raw);
    const perSecond = (ms: number) => round(1000 / ms, 0);
    const rawName = 'raw node:crypto, key known';
    ctx.out.figures.push(
      { name: 'ms per value, 1 key', unit: 'ms', keelson: round(med(times.one), 3), reference: round(raw, 3), referenceName: rawName },
      { name: 'values/s, 1 key', unit: 'values/s', keelson: perSecond(med(times.one)), reference: perSecond(raw), referenceName: rawName },
      { name: `ms per value, ${keyringSize} keys, newest`, unit: 'ms', keelson: round(med(times.ringNewest), 3), reference: round(raw, 3), referenceName: rawName },
      { name: `ms per value, ${keyringSize} keys, oldest, first sight`, unit: 'ms', keelson: round(med(times.ringOldestCold), 3), reference: round(raw, 3), referenceName: `${rawName} (Keelson must try every key)` },
      { name: `ms per value, ${keyringSize} keys, oldest, remembered`, unit: 'ms', keelson: round(med(times.ringOldestWarm), 3), reference: round(raw, 3), referenceName: rawName },
    );
    const inProcess = med(pooled.inProcess);
    const inProcessName = 'in-process unsealSealedSecret (before worker threads), same moments';
    ctx.out.figures.push(
      { name: 'ms per value, pool of 1 worker', unit: 'ms', keelson: round(med(pooled.pool1), 3), reference: round(inProcess, 3), referenceName: inProcessName },
      { name: 'values/s per core, pool of 1 worker', unit: 'values/s', keelson: perSecond(med(pooled.pool1)), reference: perSecond(inProcess), referenceName: inProcessName },
      { name: `values/s, pool of ${poolN.size} workers, all at once`, unit: 'values/s', keelson: perSecond(med(pooled.poolAll)), reference: perSecond(inProcess), referenceName: `${inProcessName} (one core)` },
      { name: `event-loop utilization, pool of ${poolN.size} busy`, unit: 'ratio', keelson: round(med(pooled.elu), 3), reference: 1, referenceName: 'in-process: the loop runs every RSA operation' },
    );
    ctx.out.goals.push(atMost('pool per core ≥ 0.9× in-process throughput (time ≤ 1.11×)', ratio(med(pooled.pool1), inProcess), 1 / 0.9, '×'));
    ctx.out.goals.push(atMost('≤ 2 ms per value (1 key)', round(med(times.one), 3), 2, 'ms'));
    ctx.out.goals.push(atMost('≤ 1.2× raw (1 key)', ratio(med(times.one), raw), 1.2, '×'));
    ctx.out.goals.push(atMost(`≤ 2 ms per value (${keyringSize}-key keyring, newest)`, round(med(times.ringNewest), 3), 2, 'ms'));
    ctx.out.goals.push(atMost(`≤ 1.2× raw (${keyringSize}-key keyring, newest)`, ratio(med(times.ringNewest), raw), 1.2, '×'));
    ctx.out.goals.push(atMost(`≤ 1.2× raw (${keyringSize}-key keyring, oldest, remembered)`, ratio(med(times.ringOldestWarm), raw), 1.2, '×'));
    ctx.out.notes.push(`${objects} SealedSecrets × ${valuesEach} values of 48 bytes per pass, strict scope; median of ${rounds} rounds, interleaved object by object; one RSA-4096 private-key operation per value is the floor (openssl speed: see raw)`);
    ctx.out.notes.push(`pool: ${cpusNote()}; "pool of 1 worker" gets 4 objects at a time (the reconciler's default --workers) and includes the message round trips and the copy of each object into the worker`);
    ctx.out.notes.push('"first sight" is a Secret sealed with the oldest key that Keelson has not opened before: its first value tries every key, the rest of that object reuse the key that worked');
  },
};
