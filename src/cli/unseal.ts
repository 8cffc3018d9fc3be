// `keelson unseal`: offline recovery. SealedSecrets (YAML or JSON, on stdin or -f) are opened with exported keys
// (PEM private keys, or key Secrets / a List as `kubectl get secret -l sealedsecrets.bitnami.com/sealed-secrets-key
// -o yaml` prints them) and printed as Secrets. If any value fails nothing is printed, and the error names the value's
// key, never its content.

import { type FlagSpec, UsageError, formatHelp } from '../config/flags.js';
import type { KubeObject } from '../kube/types.js';
import { decodeStrictBase64 } from '../sealing/base64.js';
import { KeyError, type KeyObject, parsePrivateKey, pemBlocks } from '../sealing/keys.js';
import { type SealedSecret, UnsealError, desiredSecret, unsealSealedSecret } from '../sealing/sealed-secret.js';
import type { Command } from './io.js';
import { type OutputFormat, formatObjects, parseCommandArgs, parseObjects, readInput } from './seal-common.js';

const G = 'Flags';
export const UNSEAL_FLAGS: readonly FlagSpec[] = [
  { group: G, name: 'key', type: 'string', default: undefined, help: 'private key: a PEM file (PKCS#1 or PKCS#8) or a key Secret / List YAML; repeatable, at least one' },
  { group: G, name: 'filename', type: 'string', default: undefined, help: 'SealedSecrets to open (YAML or JSON); default stdin; also -f' },
  { group: G, name: 'output', type: 'enum', choices: ['yaml', 'json'], default: 'yaml', help: 'output format; also -o' },
];

const USAGE = `Usage: keelson unseal --key FILE [--key FILE...] [-f sealedsecret.yaml] [-o yaml|json]

Opens SealedSecrets offline with exported sealing keys (disaster recovery) and prints the Secrets.`;

/** Private keys from one file: PEM blocks, or the tls.key of every Secret in a YAML/JSON Secret or List. */
export function keysFromFile(text: string, file: string): KeyObject[] {
  const blocks = pemBlocks(text).filter((b) => b.type === 'RSA PRIVATE KEY' || b.type === 'PRIVATE KEY');
  if (blocks.length > 0) return blocks.map((b, i) => parsePrivateKey(b.pem, `${file} (key ${i + 1})`));
  let objs: KubeObject[];
  try { objs = parseObjects(text, file); } catch { throw new KeyError(`${file}: neither a PEM private key nor a key Secret YAML/JSON`); }
  const keys: KeyObject[] = [];
  for (const o of objs) {
    if (o.kind !== 'Secret') continue;
    const src = `${file}: Secret ${o.metadata.name ?? '(unnamed)'}`;
    const data = (o.data ?? {}) as Record<string, string>;
    const str = (o.stringData ?? {}) as Record<string, string>;
    const pem = str['tls.key'] ?? (data['tls.key'] !== undefined ? decodeStrictBase64(data['tls.key']).toString('utf8') : undefined);
    if (pem === undefined) throw new KeyError(`${src} has no tls.key`);
    keys.push(parsePrivateKey(pem, src));
  }
  if (keys.length === 0) throw new KeyError(`${file}: no private key found (expected PEM, or Secrets with tls.key)`);
  return keys;
}

export const unsealCommand: Command = async (argv, io) => {
  const { values, positionals, help, repeated } = parseCommandArgs(UNSEAL_FLAGS, argv, io.env, ['key']);
  if (help) { io.stdout.write(formatHelp(USAGE, UNSEAL_FLAGS)); return 0; }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}": give SealedSecrets with -f FILE or on stdin`);
  const keyFiles = repeated.get('key')!;
  if (keyFiles.length === 0) throw new UsageError('at least one --key FILE is required');
  const keys: KeyObject[] = [];
  for (const f of keyFiles) keys.push(...keysFromFile(await readInput(io, f), f));
  const file = values.get('filename') as string | undefined;
  const objs = parseObjects(await readInput(io, file), file ?? 'stdin');
  const sealed = objs.filter((o) => o.kind === 'SealedSecret') as SealedSecret[];
  if (sealed.length === 0) throw new UsageError(`no SealedSecret found in ${file ?? 'stdin'}`);
  const secrets: KubeObject[] = [];
  const failures: string[] = [];
  for (const ss of sealed) {
    ss.metadata.namespace ??= 'default';
    try {
      const opened = unsealSealedSecret(ss, keys);
      const secret = desiredSecret(ss, opened.data, opened.legacy);
      delete secret.metadata.ownerReferences; // offline: there is no live owner
      secrets.push(secret);
    } catch (e) {
      if (!(e instanceof UnsealError)) throw e;
      failures.push(e.message);
    }
  }
  if (failures.length > 0) {
    io.stderr.write(`keelson unseal: nothing printed; ${failures.length} of ${sealed.length} SealedSecrets could not be opened with the given keys:\n${failures.map((f) => `  ${f}\n`).join('')}`);
    return 1;
  }
  io.stdout.write(formatObjects(secrets, values.get('output') as OutputFormat));
  return 0;
};
