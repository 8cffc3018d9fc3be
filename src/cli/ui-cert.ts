// Where `keelson ui`'s seal form gets the sealing certificate, in kubeseal's order: --cert FILE|URL; else the
// controller's /v1/cert.pem through the API server's service proxy (--controller-name/--controller-namespace); else,
// where no Service leads to the controller (a local process, as in `npm run demo`), the certificate of the newest
// active sealing key Secret, read with the user's own rights. Only tls.crt leaves this module, never tls.key.

import { isForbidden, type KubeClient } from '../kube/client.js';
import { errorText } from '../kube/errors.js';
import { SECRETS } from '../kube/resources.js';
import { KEY_LABEL, KEY_LABEL_ACTIVE, KeyError, type SealingKey, newestFirst, sealingKeyFromSecret } from '../sealing/keys.js';
import { type ControllerTarget, controllerRequest } from './seal-common.js';
import { readCertificate } from './seal.js';

export interface UiCertificate {
  readonly pem: string;
  /** Where it came from, for the page: the file or URL, the Service, or the key Secret. */
  readonly source: string;
}

export interface UiCertOptions {
  /** --cert: a PEM file or an http(s) URL; when given, the only source (as kubeseal). */
  readonly cert?: string | undefined;
  readonly target: ControllerTarget;
  /** The user's client, for the key Secrets. */
  readonly client: KubeClient;
  /** The controller's --key-namespace. */
  readonly keyNamespace: string;
}

/**
 * The newest active key's certificate, chosen as the controller chooses (keys.ts: valid pairs only, newest first),
 * so the form seals for the key the controller seals with. The private key is parsed only to check the pair.
 */
export async function activeKeyCertificate(client: KubeClient, namespace: string): Promise<UiCertificate> {
  const list = await client.list(SECRETS, { namespace, labelSelector: `${KEY_LABEL}=${KEY_LABEL_ACTIVE}` });
  const keys: SealingKey[] = [];
  for (const s of list.items) {
    try { keys.push(sealingKeyFromSecret(s)); } catch (e) { if (!(e instanceof KeyError)) throw e; }
  }
  const newest = newestFirst(keys)[0];
  if (!newest) throw new Error(`no valid Secret labelled ${KEY_LABEL}=${KEY_LABEL_ACTIVE} in namespace ${namespace}`);
  return { pem: newest.certPem, source: `the public certificate of the active sealing key, ${newest.source}` };
}

export async function uiCertificate(o: UiCertOptions): Promise<UiCertificate> {
  if (o.cert) return { pem: (await readCertificate(o.cert, o.target)).pem, source: `--cert ${o.cert}` };
  const service = `the controller's Service ${o.target.namespace}/${o.target.name}`;
  let viaService: string;
  try {
    const res = await controllerRequest(o.target, 'GET', '/v1/cert.pem');
    if (res.status === 200) return { pem: res.body.toString('utf8'), source: service };
    viaService = `${service} answered HTTP ${res.status}`;
  } catch (e) { viaService = `${service} cannot be reached: ${errorText(e)}`; }
  try {
    const key = await activeKeyCertificate(o.client, o.keyNamespace);
    return { pem: key.pem, source: `${key.source} (${viaService})` };
  } catch (e) {
    const why = isForbidden(e) ? `your Kubernetes user may not list Secrets in ${o.keyNamespace}` : errorText(e);
    throw new Error(`${viaService}, and the active sealing key's certificate cannot be read either (${why}). Start keelson ui with --cert FILE|URL (e.g. from "keelson seal --fetch-cert")`);
  }
}
