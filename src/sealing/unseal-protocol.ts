// The messages between the unseal pool and its worker threads (structured clone; KeyObjects clone across threads,
// decrypted values travel as transferred ArrayBuffers). Types only.

import type { KeyObject } from 'node:crypto';
import type { SealedSecret, SecretTemplate, UnsealError } from './sealed-secret.js';

export type WorkerMessage =
  | { type: 'keys'; privateKeys: KeyObject[]; fingerprints: string[]; newestPublic: KeyObject | undefined }
  | { type: 'unseal'; id: number; ss: SealedSecret; preferred: string | undefined }
  | { type: 'reseal'; id: number; ss: SealedSecret };

export type WorkerAnswer =
  | { id: number; ok: true; kind: 'unsealed'; data: [string, ArrayBuffer][]; fingerprint: string | undefined; legacy: SecretTemplate | undefined }
  | { id: number; ok: true; kind: 'resealed'; ss: SealedSecret }
  | { id: number; ok: false; reason: UnsealError['reason']; message: string }
  | { id: number; ok: false; internal: string };
