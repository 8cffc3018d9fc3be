// `keelson reencrypt`: SealedSecrets in, the same SealedSecrets re-sealed with the controller's newest key out, through
// the controller's POST /v1/rotate (reached through the API server's service proxy, or --controller-url). Use it after
// a key renewal so old keys can eventually be retired.

import { type FlagSpec, UsageError, formatHelp } from '../config/flags.js';
import type { KubeObject } from '../kube/types.js';
import type { Command } from './io.js';
import { type ControllerTarget, type OutputFormat, controllerRequest, formatObjects, parseCommandArgs, parseObjects, readInput, targetDescription } from './seal-common.js';

const G = 'Flags';
export const REENCRYPT_FLAGS: readonly FlagSpec[] = [
  { group: G, name: 'filename', type: 'string', default: undefined, help: 'SealedSecrets to re-seal (YAML or JSON); default stdin; also -f' },
  { group: G, name: 'output', type: 'enum', choices: ['yaml', 'json'], default: 'yaml', help: 'output format; also -o' },
  { group: G, name: 'controller-url', type: 'string', default: undefined, help: 'the controller\'s HTTP API directly (http://host:8080) instead of the service proxy' },
  { group: G, name: 'controller-namespace', type: 'string', default: 'keelson-system', help: 'namespace of the controller Service' },
  { group: G, name: 'controller-name', type: 'string', default: 'keelson', help: 'name of the controller Service (port named "http")' },
  { group: G, name: 'kubeconfig', type: 'string', default: undefined, help: 'kubeconfig; else $KUBECONFIG, else ~/.kube/config' },
];

const USAGE = `Usage: keelson reencrypt [-f sealedsecret.yaml] [-o yaml|json] > resealed.yaml

Re-seals SealedSecrets with the controller's newest key (same names, namespaces and scopes).`;

export const reencryptCommand: Command = async (argv, io) => {
  const { values, positionals, help } = parseCommandArgs(REENCRYPT_FLAGS, argv, io.env, []);
  if (help) { io.stdout.write(formatHelp(USAGE, REENCRYPT_FLAGS)); return 0; }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const get = (n: string) => values.get(n) as string | undefined;
  const target: ControllerTarget = { url: get('controller-url'), kubeconfig: get('kubeconfig'), namespace: get('controller-namespace')!, name: get('controller-name')!, env: io.env };
  const file = get('filename');
  const objs = parseObjects(await readInput(io, file), file ?? 'stdin').filter((o) => o.kind === 'SealedSecret');
  if (objs.length === 0) throw new UsageError(`no SealedSecret found in ${file ?? 'stdin'}`);
  const out: KubeObject[] = [];
  for (const ss of objs) {
    ss.metadata.namespace ??= 'default';
    const res = await controllerRequest(target, 'POST', '/v1/rotate', Buffer.from(JSON.stringify(ss)));
    if (res.status !== 200) {
      io.stderr.write(`keelson reencrypt: SealedSecret ${ss.metadata.namespace}/${ss.metadata.name} not re-sealed by ${targetDescription(target)}: HTTP ${res.status} ${res.body.toString('utf8').trim().slice(0, 300)}\n`);
      return 1;
    }
    out.push(JSON.parse(res.body.toString('utf8')) as KubeObject);
  }
  io.stdout.write(formatObjects(out, get('output') as OutputFormat));
  return 0;
};
