// `keelson ui`: serves the dashboard on 127.0.0.1 under the user's own kubeconfig until interrupted. The URL with
// the per-run token is printed; the browser is opened through a 0600 redirect file (as Jupyter does) so the token
// never appears on a command line other local users can read.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError, formatHelp, parseArgs, type FlagSpec } from '../config/flags.js';
import { programOnPath } from '../config/options.js';
import type { GitSyncObject } from '../gitsync/spec.js';
import { GITSYNCS } from '../kube/resources.js';
import { type DiffOptions, type GitSyncDiff, gitSyncDiff } from './diff.js';
import { KubeClient, loadKubeConfig } from '../kube/client.js';
import { MAX_DIFF_BYTES } from '../ui/diff-view.js';
import { startUiServer } from '../ui/server.js';
import type { Command } from './io.js';
import { uiCertificate } from './ui-cert.js';

const G = 'Flags';
const FLAGS: readonly FlagSpec[] = [
  { group: G, name: 'kubeconfig', type: 'string', default: undefined, help: 'kubeconfig file; else in-cluster, else $KUBECONFIG, else ~/.kube/config' },
  { group: G, name: 'context', type: 'string', default: undefined, help: 'kubeconfig context to use (default: the current context)' },
  { group: G, name: 'port', type: 'int', min: 0, default: 0, help: 'port on 127.0.0.1 (0: a free port)' },
  { group: G, name: 'no-open', type: 'boolean', default: false, help: 'do not open a browser, only print the URL' },
  { group: G, name: 'cert', type: 'string', default: undefined, help: 'sealing certificate for the seal form: a PEM file or an http(s) URL (as kubeseal --cert); default: from the controller, else the active sealing key\'s tls.crt' },
  { group: G, name: 'controller-namespace', type: 'string', default: 'keelson-system', help: 'namespace of the controller Service (sealing certificate for the seal form)' },
  { group: G, name: 'key-namespace', type: 'string', default: undefined, help: 'namespace of the sealing keys, for the certificate when the controller cannot be reached (default: --controller-namespace)' },
  { group: G, name: 'controller-name', type: 'string', default: 'keelson', help: 'name of the controller Service' },
  { group: G, name: 'default-service-account', type: 'string', default: undefined, help: 'the controller\'s --default-service-account, if it has one (for the diff, as keelson diff)' },
  { group: G, name: 'kustomize-path', type: 'string', default: 'kustomize', help: 'the kustomize binary, for GitSyncs whose path holds a kustomization (diff)' },
  { group: G, name: 'leader-election-id', type: 'string', default: 'keelson', help: 'name of the controller\'s Lease (in --controller-namespace), shown as its health' },
];
const USAGE = 'Usage: keelson ui [flags]\n\nServes a dashboard of GitSyncs, SealedSecrets and Keelson events on 127.0.0.1, with your own kubeconfig\n(you see and change exactly what your RBAC allows). Stop it with Ctrl-C.';

function openBrowser(url: string): void {
  const dir = mkdtempSync(join(tmpdir(), 'keelson-ui-'));
  const file = join(dir, 'open.html');
  writeFileSync(file, `<!doctype html><meta http-equiv="refresh" content="0;url=${url}"><a href="${url}">Keelson</a>\n`, { mode: 0o600 });
  const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  const child = spawn(opener, [file], { stdio: 'ignore', detached: true });
  child.on('error', () => { /* no opener: the printed URL is enough */ });
  child.unref();
  // The redirect file holds the token: remove it once the browser has had time to read it.
  setTimeout(() => rmSync(dir, { recursive: true, force: true }), 30_000).unref();
}

/** `keelson diff`'s computation for the ui server, under the user's kubeconfig, in a fresh Git folder each time. */
export function diffRunner(client: KubeClient, o: Omit<DiffOptions, 'cacheDir' | 'signal' | 'local'>): (namespace: string, name: string, signal: AbortSignal) => Promise<GitSyncDiff> {
  return async (namespace, name, signal) => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'keelson-ui-diff-'));
    try {
      return await gitSyncDiff(client, await client.get<GitSyncObject>(GITSYNCS, namespace, name), { ...o, cacheDir, signal, maxBytes: MAX_DIFF_BYTES });
    } finally { await rm(cacheDir, { recursive: true, force: true }); }
  };
}

export const uiCommand: Command = async (argv, io) => {
  const { values, positionals, help } = parseArgs(FLAGS, argv, io.env);
  if (help) { io.stdout.write(formatHelp(USAGE, FLAGS)); return 0; }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const port = values.get('port') as number;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError('--port must be 0..65535');
  const kubeconfig = values.get('kubeconfig') as string | undefined;
  const context = values.get('context') as string | undefined;
  const client = new KubeClient(loadKubeConfig({ kubeconfig, context, env: io.env }), 'keelson-ui');
  const target = { url: undefined, kubeconfig, context, namespace: values.get('controller-namespace') as string, name: values.get('controller-name') as string, env: io.env };
  const server = await startUiServer({
    client,
    port,
    lease: { namespace: target.namespace, name: values.get('leader-election-id') as string },
    diff: diffRunner(client, {
      controllerNamespace: target.namespace, defaultServiceAccount: values.get('default-service-account') as string | undefined,
      kustomizePath: programOnPath(values.get('kustomize-path') as string, io.env.PATH), env: io.env,
    }),
    fetchCert: () => uiCertificate({ cert: values.get('cert') as string | undefined, target, client, keyNamespace: (values.get('key-namespace') as string | undefined) || target.namespace }),
  });
  io.stdout.write(`Keelson UI: ${server.url}\n(the URL holds this run's token: only it opens the UI; stop with Ctrl-C)\n`);
  if (!(values.get('no-open') as boolean)) openBrowser(server.url);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  client.close();
  return 0;
};
