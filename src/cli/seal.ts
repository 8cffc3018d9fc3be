// `keelson seal`: a Secret (YAML or JSON on stdin) in, a SealedSecret out, kubeseal-style. The certificate comes from
// --cert (file or URL) or from the controller through the API server's service proxy; an expired one is refused.
// --raw seals one value (from --from-file or stdin) for --name/--namespace/--scope; --merge-into updates a file.
// kubeseal's script flags too: --fetch-cert, --validate (POST /v1/verify), -f/--secret-file, -w/--sealed-secret-file,
// --allow-empty-data (an empty Secret is refused without it, as kubeseal does).

import { X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { type FlagSpec, UsageError, formatHelp } from '../config/flags.js';
import { loadKubeConfig } from '../kube/client.js';
import type { KubeObject } from '../kube/types.js';
import { type Scope, isScope, scopeFromAnnotations } from '../sealing/scope.js';
import { SealError, checkCertificate, sealSecret, sealValues } from '../sealing/seal.js';
import type { SealedSecret, Secret } from '../sealing/sealed-secret.js';
import { type Command, type Io, readAll } from './io.js';
import { type ControllerTarget, type OutputFormat, controllerRequest, formatObjects, parseCommandArgs, parseObjects, readInput, targetDescription } from './seal-common.js';

const G = 'Flags';
export const SEAL_FLAGS: readonly FlagSpec[] = [
  { group: G, name: 'cert', type: 'string', default: undefined, help: 'sealing certificate: a PEM file or an http(s) URL; default: fetched from the controller' },
  { group: G, name: 'controller-namespace', type: 'string', default: 'keelson-system', help: 'namespace of the controller Service (to fetch the certificate)' },
  { group: G, name: 'controller-name', type: 'string', default: 'keelson', help: 'name of the controller Service (port named "http")' },
  { group: G, name: 'kubeconfig', type: 'string', default: undefined, help: 'kubeconfig for reaching the controller; else $KUBECONFIG, else ~/.kube/config' },
  { group: G, name: 'scope', type: 'enum', choices: ['strict', 'namespace-wide', 'cluster-wide'], default: undefined, help: 'what the sealed values are bound to; default: the Secret\'s scope annotations, else strict' },
  { group: G, name: 'name', type: 'string', default: undefined, help: 'name of the SealedSecret (default: the Secret\'s)' },
  { group: G, name: 'namespace', type: 'string', default: undefined, help: 'namespace of the SealedSecret (default: the Secret\'s, else the kubeconfig context\'s, else "default"); also -n' },
  { group: G, name: 'raw', type: 'boolean', default: false, help: 'seal one value (from --from-file or stdin) and print only the encrypted string' },
  { group: G, name: 'from-file', type: 'string', default: undefined, help: '[key=]path: a value from a file (repeatable); with --raw the value to seal, else added to the Secret' },
  { group: G, name: 'output', type: 'enum', choices: ['yaml', 'json'], default: undefined, help: 'output format; also -o (default: the input\'s format, JSON for JSON in as kubeseal writes, else YAML)' },
  { group: G, name: 'merge-into', type: 'string', default: undefined, help: 'add/replace the sealed values in this SealedSecret file (YAML or JSON), in place' },
  { group: G, name: 'secret-file', type: 'string', default: undefined, help: 'the input (a Secret; with --validate a SealedSecret) from this file instead of stdin; also -f' },
  { group: G, name: 'sealed-secret-file', type: 'string', default: undefined, help: 'write the output to this file instead of stdout; also -w' },
  { group: G, name: 'allow-empty-data', type: 'boolean', default: false, help: 'seal a Secret with no data/stringData (refused by default, as kubeseal: usually a mistake)' },
  { group: G, name: 'fetch-cert', type: 'boolean', default: false, help: 'print the sealing certificate (from --cert or the controller) and exit' },
  { group: G, name: 'validate', type: 'boolean', default: false, help: 'read a SealedSecret and ask the controller (POST /v1/verify) whether it opens; exit 1 if not' },
];

/** kubeseal's short flags for this command (-f and -w mean other things elsewhere). */
const SEAL_SHORT: Readonly<Record<string, string>> = { '-f': '--secret-file', '--filename': '--secret-file', '-w': '--sealed-secret-file' };

const USAGE = `Usage: keelson seal [flags] < secret.yaml > sealedsecret.yaml
       keelson seal --raw --namespace NS --name NAME --from-file value.txt
       keelson seal --fetch-cert > cert.pem
       keelson seal --validate < sealedsecret.yaml

Seals a Secret into a SealedSecret that only the controller can open.`;

async function loadCertificate(cert: string | undefined, target: ControllerTarget): Promise<X509Certificate> {
  const { x509 } = await readCertificate(cert, target);
  checkCertificate(x509);
  return x509;
}

/** The certificate as fetched (PEM text) and parsed; not yet checked for expiry. */
export async function readCertificate(cert: string | undefined, target: ControllerTarget): Promise<{ pem: string; x509: X509Certificate }> {
  let pem: string;
  let from: string;
  if (cert && /^https?:\/\//.test(cert)) {
    from = cert;
    const res = await fetch(cert).catch((e: Error) => { throw new SealError(`cannot fetch the certificate from ${cert}: ${e.message}`); });
    if (!res.ok) throw new SealError(`cannot fetch the certificate from ${cert}: HTTP ${res.status}`);
    pem = await res.text();
  } else if (cert) {
    from = cert;
    pem = await readFile(cert, 'utf8').catch((e: NodeJS.ErrnoException) => { throw new SealError(`cannot read the certificate ${cert}: ${e.code ?? e.message}`); });
  } else {
    from = targetDescription(target);
    const res = await controllerRequest(target, 'GET', '/v1/cert.pem');
    if (res.status !== 200) throw new SealError(`cannot fetch the certificate from ${from}: HTTP ${res.status} ${res.body.toString('utf8').trim().slice(0, 200)}; check --controller-namespace/--controller-name, or pass --cert`);
    pem = res.body.toString('utf8');
  }
  let x509: X509Certificate;
  try { x509 = new X509Certificate(pem); } catch { throw new SealError(`${from} is not a PEM certificate`); }
  return { pem, x509 };
}

/** --validate: the controller's answer to POST /v1/verify for each SealedSecret of the input. */
async function validate(text: string, what: string, target: ControllerTarget, io: Io): Promise<number> {
  const objs = parseObjects(text, what).filter((o) => o.kind === 'SealedSecret');
  if (objs.length === 0) throw new UsageError(`--validate: no SealedSecret found in ${what}`);
  for (const ss of objs) {
    ss.metadata.namespace ??= 'default';
    const res = await controllerRequest(target, 'POST', '/v1/verify', Buffer.from(JSON.stringify(ss)));
    const ref = `SealedSecret ${ss.metadata.namespace}/${ss.metadata.name}`;
    if (res.status === 409) {
      io.stderr.write(`keelson seal: ${ref} cannot be decrypted by ${targetDescription(target)}: ${res.body.toString('utf8').trim().slice(0, 300)}\n`);
      return 1;
    }
    if (res.status !== 200) throw new SealError(`cannot validate ${ref} with ${targetDescription(target)}: HTTP ${res.status} ${res.body.toString('utf8').trim().slice(0, 200)}; check --controller-namespace/--controller-name`);
  }
  return 0;
}

async function fromFiles(specs: readonly string[]): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const [key, path] = eq > 0 ? [spec.slice(0, eq), spec.slice(eq + 1)] : [basename(spec), spec];
    out.set(key, await readFile(path).catch((e: NodeJS.ErrnoException) => { throw new SealError(`cannot read --from-file ${path}: ${e.code ?? e.message}`); }));
  }
  return out;
}

export const sealCommand: Command = async (argv, io: Io) => {
  const { values, positionals, help, repeated } = parseCommandArgs(SEAL_FLAGS, argv.map((a) => SEAL_SHORT[a] ?? a), io.env, ['from-file']);
  if (help) { io.stdout.write(formatHelp(USAGE, SEAL_FLAGS)); return 0; }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}": the Secret is read from stdin`);
  const get = (n: string) => values.get(n) as string | undefined;
  const scopeFlag = get('scope');
  const scope: Scope | undefined = scopeFlag && isScope(scopeFlag) ? scopeFlag : undefined;
  const format = get('output') as OutputFormat | undefined;
  const target: ControllerTarget = { url: undefined, kubeconfig: get('kubeconfig'), namespace: get('controller-namespace')!, name: get('controller-name')!, env: io.env };
  const files = repeated.get('from-file')!;
  const inputFile = get('secret-file');
  const outputFile = get('sealed-secret-file');
  // -w: the whole output, written once it is complete (a failure leaves no half-written file behind).
  const emit = async (text: string) => {
    if (outputFile) await writeFile(outputFile, text).catch((e: NodeJS.ErrnoException) => { throw new SealError(`cannot write --sealed-secret-file ${outputFile}: ${e.code ?? e.message}`); });
    else io.stdout.write(text);
  };

  if (values.get('fetch-cert')) {
    const { pem } = await readCertificate(get('cert'), target);
    await emit(pem.endsWith('\n') ? pem : `${pem}\n`);
    return 0;
  }
  if (values.get('validate')) return await validate(await readInput(io, inputFile), inputFile ?? 'stdin', target, io);

  if (values.get('raw')) {
    const effective = scope ?? 'strict';
    const namespace = get('namespace');
    const name = get('name');
    if (effective !== 'cluster-wide' && !namespace) throw new UsageError(`--raw with scope ${effective} needs --namespace`);
    if (effective === 'strict' && !name) throw new UsageError('--raw with scope strict needs --name');
    if (files.length > 1) throw new UsageError('--raw seals one value: give at most one --from-file');
    const value = files.length === 1 ? [...(await fromFiles(files)).values()][0]! : await readAll(io.stdin);
    const cert = await loadCertificate(get('cert'), target);
    const sealed = sealValues(new Map([['v', value]]), cert.publicKey, effective, namespace ?? '', name ?? '');
    await emit(sealed.v!);
    return 0;
  }

  const merge = get('merge-into');
  let secret: Secret & { stringData?: Record<string, string> };
  let jsonIn = false;
  if (files.length > 0 && !inputFile && io.stdin === process.stdin && process.stdin.isTTY) secret = { apiVersion: 'v1', kind: 'Secret', metadata: {} };
  else {
    const text = await readInput(io, inputFile);
    jsonIn = text.trimStart().startsWith('{');
    const objs = parseObjects(text, 'stdin');
    if (objs.length === 0 && files.length > 0) secret = { apiVersion: 'v1', kind: 'Secret', metadata: {} };
    else {
      if (objs.length !== 1 || objs[0]!.kind !== 'Secret') throw new SealError(`${inputFile ?? 'stdin'} must hold exactly one Secret (got ${objs.length === 1 ? `a ${objs[0]!.kind ?? 'document without kind'}` : `${objs.length} objects`})`);
      secret = objs[0] as typeof secret;
    }
  }
  if (files.length > 0) {
    secret = { ...secret, data: { ...(secret.data ?? {}) } };
    for (const [k, v] of await fromFiles(files)) secret.data![k] = v.toString('base64');
  }
  if (!values.get('allow-empty-data') && Object.keys(secret.data ?? {}).length === 0 && Object.keys(secret.stringData ?? {}).length === 0) {
    throw new SealError('the Secret has no data or stringData, which is usually a mistake; pass --allow-empty-data to seal it anyway');
  }

  if (merge) {
    const text = await readFile(merge, 'utf8').catch((e: NodeJS.ErrnoException) => { throw new SealError(`cannot read --merge-into ${merge}: ${e.code ?? e.message}`); });
    const [existing] = parseObjects(text, merge) as SealedSecret[];
    if (!existing || existing.kind !== 'SealedSecret') throw new SealError(`${merge} does not hold a SealedSecret`);
    const ns = existing.metadata.namespace ?? 'default';
    const nm = existing.metadata.name ?? '';
    const effective = scope ?? scopeFromAnnotations(existing.metadata.annotations);
    const cert = await loadCertificate(get('cert'), target);
    const fresh = sealSecret(secret, cert.publicKey, effective, ns, nm);
    const merged: SealedSecret = { ...existing, spec: { ...existing.spec, encryptedData: { ...(existing.spec?.encryptedData ?? {}), ...fresh.spec!.encryptedData } } };
    const asJson = text.trimStart().startsWith('{');
    await writeFile(merge, formatObjects([merged as KubeObject], asJson ? 'json' : 'yaml'));
    return 0;
  }

  const namespace = get('namespace') ?? secret.metadata.namespace ?? contextNamespace(get('kubeconfig'), io.env);
  const name = get('name') ?? secret.metadata.name;
  if (!name) throw new UsageError('the Secret has no metadata.name: set it or pass --name');
  const cert = await loadCertificate(get('cert'), target);
  await emit(formatObjects([sealSecret(secret, cert.publicKey, scope, namespace, name) as KubeObject], format ?? (jsonIn ? 'json' : 'yaml')));
  return 0;
};


/** The current kubeconfig context's namespace, as kubectl and kubeseal default to; "default" without one. */
function contextNamespace(kubeconfig: string | undefined, env: Io['env']): string {
  try {
    const kc = loadKubeConfig({ kubeconfig, env });
    return kc.namespace || 'default';
  } catch {
    return 'default';
  }
}
