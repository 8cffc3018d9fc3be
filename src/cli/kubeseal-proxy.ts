// `keelson kubeseal-proxy`: runs the kubeseal forwarder (src/sealing/kubeseal-proxy.ts) until SIGTERM/SIGINT; the
// optional manifest and the chart run it in kube-system as sealed-secrets-controller, so an unchanged kubeseal works.

import { type FlagSpec, UsageError, formatHelp } from '../config/flags.js';
import { parseAddress } from '../config/options.js';
import { startKubesealProxy } from '../sealing/kubeseal-proxy.js';
import type { Command } from './io.js';
import { parseCommandArgs } from './seal-common.js';

const G = 'Flags';
export const KUBESEAL_PROXY_FLAGS: readonly FlagSpec[] = [
  { group: G, name: 'listen', type: 'string', default: ':8080', help: 'address to serve on (host:port, :port)' },
  { group: G, name: 'upstream', type: 'string', default: 'http://keelson.keelson-system.svc:8080', help: 'the Keelson controller\'s HTTP API' },
];

const USAGE = `Usage: keelson kubeseal-proxy [--listen :8080] [--upstream http://keelson.keelson-system.svc:8080]

Forwards GET /v1/cert.pem, POST /v1/verify and POST /v1/rotate to the Keelson controller, to run in kube-system behind
the Service sealed-secrets-controller so an unchanged kubeseal reaches Keelson.`;

export const kubesealProxyCommand: Command = async (argv, io) => {
  const { values, positionals, help } = parseCommandArgs(KUBESEAL_PROXY_FLAGS, argv, io.env, []);
  if (help) { io.stdout.write(formatHelp(USAGE, KUBESEAL_PROXY_FLAGS)); return 0; }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const listen = parseAddress('listen', values.get('listen') as string);
  let upstream: URL;
  try { upstream = new URL(values.get('upstream') as string); } catch { throw new UsageError(`--upstream: "${String(values.get('upstream'))}" is not a URL`); }
  if (upstream.protocol !== 'http:') throw new UsageError('--upstream must be an http:// URL (the controller\'s --http-addr)');
  const proxy = await startKubesealProxy(listen.host, listen.port, upstream);
  io.stderr.write(`keelson kubeseal-proxy: serving on ${listen.host}:${proxy.port}, forwarding to ${upstream.origin}\n`);
  await new Promise<void>((resolve) => { process.once('SIGTERM', () => resolve()); process.once('SIGINT', () => resolve()); });
  await proxy.close();
  return 0;
};
