// The seal form's encryption, in WebCrypto so it runs in the browser (and, for the tests, in Node): the exact wire
// format of src/sealing/wire.ts (uint16be(len(rsaCt)) || RSA-OAEP-SHA256(sessionKey, label) || AES-256-GCM with a
// zero nonce || tag), and the SealedSecret YAML to commit. The plaintext never leaves the caller.

export type SealScope = 'strict' | 'namespace-wide' | 'cluster-wide';

/** The RSA-OAEP label of src/sealing/scope.ts labelFor. */
export function sealLabel(scope: SealScope, namespace: string, name: string): Uint8Array<ArrayBuffer> {
  if (scope === 'cluster-wide') return new Uint8Array(0);
  return new TextEncoder().encode(scope === 'namespace-wide' ? namespace : `${namespace}/${name}`);
}

export function toBase64(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

type PublicKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

/** The controller's public key from its SubjectPublicKeyInfo (DER, base64), for RSA-OAEP with SHA-256. */
export async function importSealingKey(spkiBase64: string): Promise<PublicKey> {
  return crypto.subtle.importKey('spki', fromBase64(spkiBase64), { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['encrypt']);
}

/** One value sealed: base64 of the blob, as in spec.encryptedData. */
export async function sealValue(key: PublicKey, plaintext: Uint8Array<ArrayBuffer>, label: Uint8Array<ArrayBuffer>): Promise<string> {
  const session = crypto.getRandomValues(new Uint8Array(32));
  const rsaCt = new Uint8Array(await crypto.subtle.encrypt({ name: 'RSA-OAEP', label }, key, session));
  const aes = await crypto.subtle.importKey('raw', session, { name: 'AES-GCM' }, false, ['encrypt']);
  const body = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: new Uint8Array(12), tagLength: 128 }, aes, plaintext));
  const blob = new Uint8Array(2 + rsaCt.length + body.length);
  blob[0] = rsaCt.length >> 8;
  blob[1] = rsaCt.length & 0xff;
  blob.set(rsaCt, 2);
  blob.set(body, 2 + rsaCt.length);
  return toBase64(blob);
}

export interface SealRequest {
  readonly namespace: string;
  readonly name: string;
  readonly scope: SealScope;
  readonly entries: readonly { readonly key: string; readonly value: string }[];
}

const DNS1123 = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const DATA_KEY = /^[-._a-zA-Z0-9]{1,253}$/;

/** What is wrong with a form (names, keys), or '' when it may be sealed. */
export function checkSealRequest(r: SealRequest): string {
  if (!DNS1123.test(r.namespace)) return 'namespace must be a DNS label (lower-case letters, digits and "-")';
  if (!SUBDOMAIN.test(r.name)) return 'name must be a DNS subdomain (lower-case letters, digits, "-" and ".")';
  if (r.entries.length === 0) return 'add at least one key';
  const seen = new Set<string>();
  for (const e of r.entries) {
    if (!DATA_KEY.test(e.key)) return `key "${e.key}" may hold only letters, digits, "-", "_" and "."`;
    if (seen.has(e.key)) return `key "${e.key}" appears twice`;
    seen.add(e.key);
  }
  return '';
}

/** Seals every entry and returns the SealedSecret as YAML (strings JSON-quoted: valid YAML, no escaping pitfalls). */
export async function sealedSecretYaml(spkiBase64: string, r: SealRequest): Promise<string> {
  const problem = checkSealRequest(r);
  if (problem) throw new Error(problem);
  const key = await importSealingKey(spkiBase64);
  const label = sealLabel(r.scope, r.namespace, r.name);
  const enc = new TextEncoder();
  const lines = [
    'apiVersion: bitnami.com/v1alpha1',
    'kind: SealedSecret',
    'metadata:',
    `  name: ${JSON.stringify(r.name)}`,
    `  namespace: ${JSON.stringify(r.namespace)}`,
  ];
  const scopeAnnotation = r.scope === 'cluster-wide' ? 'sealedsecrets.bitnami.com/cluster-wide' : r.scope === 'namespace-wide' ? 'sealedsecrets.bitnami.com/namespace-wide' : '';
  if (scopeAnnotation) lines.push('  annotations:', `    ${scopeAnnotation}: "true"`);
  lines.push('spec:', '  encryptedData:');
  for (const e of [...r.entries].sort((a, b) => a.key.localeCompare(b.key))) lines.push(`    ${JSON.stringify(e.key)}: ${await sealValue(key, enc.encode(e.value), label)}`);
  lines.push('  template:', '    metadata:', `      name: ${JSON.stringify(r.name)}`, `      namespace: ${JSON.stringify(r.namespace)}`);
  if (scopeAnnotation) lines.push('      annotations:', `        ${scopeAnnotation}: "true"`);
  return `${lines.join('\n')}\n`;
}
