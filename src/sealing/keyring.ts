// The live keyring: every active key Secret in --key-namespace, newest first, fed by a Store whose records are the
// parsed keys themselves (that namespace and label only; private keys never leave memory or reach a log). It also
// remembers, per SealedSecret, which key opened it last, so unsealing tries that key first instead of every key.

import type { KeyObject } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { type SealingKey, newestFirst } from './keys.js';

export class Keyring {
  private ordered: SealingKey[] = [];
  private readonly opener = new LRUCache<string, string>({ max: 50_000 });
  private generation = 0;

  /** Replaces the keys (the store calls this on every change). */
  set(keys: Iterable<SealingKey>): void {
    this.ordered = newestFirst(keys);
    this.generation++;
  }

  /** Changes whenever the keys do: the unseal pool re-posts the keys to its workers when it moves. */
  get version(): number { return this.generation; }

  get size(): number { return this.ordered.length; }
  /** Newest first. */
  keys(): readonly SealingKey[] { return this.ordered; }
  newest(): SealingKey | undefined { return this.ordered[0]; }
  privateKeys(): KeyObject[] { return this.ordered.map((k) => k.privateKey); }

  /** Index (into privateKeys()) of the key that last opened this object, or -1. */
  hint(objectId: string): number {
    const fp = this.opener.get(objectId);
    return fp === undefined ? -1 : this.ordered.findIndex((k) => k.fingerprint === fp);
  }

  remember(objectId: string, keyIndex: number): void {
    const k = this.ordered[keyIndex];
    if (k) this.opener.set(objectId, k.fingerprint);
  }

  /** Fingerprint of the key that last opened this object (the pool's workers match it against their copy). */
  hintFingerprint(objectId: string): string | undefined {
    return this.opener.get(objectId);
  }

  rememberFingerprint(objectId: string, fingerprint: string): void {
    this.opener.set(objectId, fingerprint);
  }

  forget(objectId: string): void {
    this.opener.delete(objectId);
  }
}
