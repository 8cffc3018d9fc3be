// The legacy (v1) SealedSecret format: `spec.data` is base64 of one hybrid-encrypted blob holding the whole Secret
// as JSON, sealed with the SealedSecret's scope label, as the bitnami controller's Unseal reads it. Pure; runs in the
// unseal workers. The decrypted Secret is tenant text: its size is capped before decryption and its shape checked
// field by field; errors name the field, never a value.

import type { KeyObject } from 'node:crypto';
import { decodeStrictBase64 } from './base64.js';
import { type AttemptBudget, DecryptError, hybridDecrypt } from './wire.js';

/** A Secret is at most 1 MiB of data; its JSON (base64 values, metadata) fits well in 2 MiB. */
export const MAX_LEGACY_BYTES = 2 * 1024 * 1024;

export class LegacyFormatError extends Error {
  override readonly name = 'LegacyFormatError';
}

/** What the decrypted Secret contributes: its values and the parts of it the generated Secret keeps. */
export interface LegacyOpened {
  readonly data: Map<string, Buffer>;
  readonly type: string | undefined;
  readonly immutable: boolean | undefined;
  readonly labels: Record<string, string> | undefined;
  readonly annotations: Record<string, string> | undefined;
  readonly keyIndex: number;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringMap(v: unknown, field: string): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isRecord(v)) throw new LegacyFormatError(`the sealed Secret's ${field} is not an object`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string') throw new LegacyFormatError(`the sealed Secret's ${field} holds a value that is not a string`);
    out[k] = x;
  }
  return out;
}

/**
 * Opens `spec.data`: base64 → hybrid decrypt with `label` → JSON Secret. `stringData` is merged over `data` as the
 * API server does on write (the bitnami controller sends both and lets the server merge).
 */
export function openLegacyData(keys: readonly KeyObject[], value: string, label: Buffer, preferred: number, budget: AttemptBudget): LegacyOpened {
  if (value.length > (MAX_LEGACY_BYTES * 4) / 3 + 1024) throw new LegacyFormatError(`spec.data is over ${MAX_LEGACY_BYTES} bytes`);
  let blob: Buffer;
  try { blob = decodeStrictBase64(value); } catch (e) { throw new DecryptError((e as Error).message); }
  const { plaintext, keyIndex } = hybridDecrypt(keys, blob, label, preferred, budget);
  let parsed: unknown;
  try { parsed = JSON.parse(plaintext.toString('utf8')); } catch { throw new LegacyFormatError('spec.data does not hold a Secret as JSON'); }
  if (!isRecord(parsed)) throw new LegacyFormatError('spec.data does not hold a Secret as JSON');
  if (parsed.kind !== undefined && parsed.kind !== 'Secret') throw new LegacyFormatError('spec.data holds an object that is not a Secret');
  const data = new Map<string, Buffer>();
  for (const [k, b64] of Object.entries(stringMap(parsed.data, 'data') ?? {})) {
    try { data.set(k, decodeStrictBase64(b64)); } catch { throw new LegacyFormatError(`the sealed Secret's data["${k.slice(0, 100)}"] is not base64`); }
  }
  for (const [k, s] of Object.entries(stringMap(parsed.stringData, 'stringData') ?? {})) data.set(k, Buffer.from(s, 'utf8'));
  if (parsed.type !== undefined && typeof parsed.type !== 'string') throw new LegacyFormatError("the sealed Secret's type is not a string");
  if (parsed.immutable !== undefined && typeof parsed.immutable !== 'boolean') throw new LegacyFormatError("the sealed Secret's immutable is not a boolean");
  const meta = parsed.metadata === undefined ? {} : parsed.metadata;
  if (!isRecord(meta)) throw new LegacyFormatError("the sealed Secret's metadata is not an object");
  return {
    data,
    type: parsed.type as string | undefined,
    immutable: parsed.immutable as boolean | undefined,
    labels: stringMap(meta.labels, 'metadata.labels'),
    annotations: stringMap(meta.annotations, 'metadata.annotations'),
    keyIndex,
  };
}
