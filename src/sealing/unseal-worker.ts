// The body of one unsealing worker thread: it holds a copy of the keyring (private KeyObjects posted by the pool on
// every key change) and runs the RSA-heavy pure steps (unseal: base64, RSA-OAEP, AES-GCM, templates; reseal) so the
// controller's event loop never does. Answers carry UnsealError text (written to name no value) or, for anything
// unexpected, only the error's class name: a stray message can never carry a secret out of this thread.

import type { KeyObject } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { type SealedSecret, UnsealError, resealSealedSecret, unsealSealedSecret } from './sealed-secret.js';
import type { WorkerAnswer, WorkerMessage } from './unseal-protocol.js';

let privateKeys: KeyObject[] = [];
let fingerprints: string[] = [];
let newestPublic: KeyObject | undefined;

function unseal(ss: SealedSecret, preferred: string | undefined): WorkerAnswer & { ok: true } {
  const out = unsealSealedSecret(ss, privateKeys, preferred === undefined ? -1 : fingerprints.indexOf(preferred));
  const data: [string, ArrayBuffer][] = [];
  for (const [k, v] of out.data) {
    // A fresh, unpooled buffer per value: transferring it moves exactly these bytes, never a shared pool slab.
    const own = new ArrayBuffer(v.length);
    new Uint8Array(own).set(v);
    data.push([k, own]);
  }
  return { id: 0, ok: true, kind: 'unsealed', data, fingerprint: fingerprints[out.keyIndex], legacy: out.legacy };
}

function answer(msg: Exclude<WorkerMessage, { type: 'keys' }>): WorkerAnswer {
  try {
    if (msg.type === 'unseal') return { ...unseal(msg.ss, msg.preferred), id: msg.id };
    if (!newestPublic) return { id: msg.id, ok: false, reason: 'ErrUnsealFailed', message: 'no sealing key loaded' };
    return { id: msg.id, ok: true, kind: 'resealed', ss: resealSealedSecret(msg.ss, privateKeys, newestPublic) };
  } catch (e) {
    if (e instanceof UnsealError) return { id: msg.id, ok: false, reason: e.reason, message: e.message };
    return { id: msg.id, ok: false, internal: e instanceof Error ? e.name : typeof e };
  }
}

parentPort!.on('message', (msg: WorkerMessage) => {
  if (msg.type === 'keys') {
    privateKeys = msg.privateKeys;
    fingerprints = msg.fingerprints;
    newestPublic = msg.newestPublic;
    return;
  }
  const a = answer(msg);
  parentPort!.postMessage(a, a.ok && a.kind === 'unsealed' ? a.data.map(([, b]) => b) : []);
});
