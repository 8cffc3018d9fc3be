// Shared plumbing of `keelson seal`, `unseal` and `reencrypt`: kubectl-style short flags and repeatable flags on top
// of the core parser, reading YAML/JSON documents, printing objects, and talking to the controller's HTTP API
// through the API server's service proxy (or a direct URL).

import http from 'node:http';
import https from 'node:https';
import { readFile } from 'node:fs/promises';
import { parseAllDocuments, stringify } from 'yaml';
import { type FlagSpec, UsageError, parseArgs } from '../config/flags.js';
import { loadKubeConfig } from '../kube/client.js';
import type { KubeObject } from '../kube/types.js';
import { type Io, readAll } from './io.js';

export const SHORT_FLAGS: Readonly<Record<string, string>> = { '-o': '--output', '-f': '--filename', '-n': '--namespace' };

/**
 * Parses argv with short flags expanded and the `repeatable` flags collected (each may be given many times); the
 * rest goes through the core parser.
 */
export function parseCommandArgs(specs: readonly FlagSpec[], argv: readonly string[], env: Io['env'], repeatable: readonly string[]) {
  const expanded = argv.map((a) => SHORT_FLAGS[a] ?? a);
  const repeated = new Map<string, string[]>(repeatable.map((r) => [r, []]));
  const rest: string[] = [];
  for (let i = 0; i < expanded.length; i++) {
    const arg = expanded[i]!;
    const name = arg.startsWith('--') ? arg.slice(2).split('=')[0]! : '';
    if (!repeated.has(name)) { rest.push(arg); continue; }
    const eq = arg.indexOf('=');
    const value = eq >= 0 ? arg.slice(eq + 1) : expanded[++i];
    if (value === undefined || value === '') throw new UsageError(`--${name} needs a value`);
    repeated.get(name)!.push(value);
  }
  // Like `keelson controller`, every flag may also come from KEELSON_<FLAG> (the help lists the variable).
  const parsed = parseArgs(specs, rest, env);
  for (const [name, list] of repeated) {
    const fromEnv = parsed.values.get(name);
    if (list.length === 0 && typeof fromEnv === 'string' && fromEnv !== '') list.push(fromEnv);
  }
  return { ...parsed, repeated };
}

/** Every object in a YAML (multi-document) or JSON text; `List`s are flattened. */
export function parseObjects(text: string, what: string): KubeObject[] {
  const out: KubeObject[] = [];
  let docs: unknown[];
  try {
    const parsed = parseAllDocuments(text);
    const list = Array.isArray(parsed) ? parsed : [parsed];
    for (const d of list) if (d.errors.length > 0) throw new Error(d.errors[0]!.message);
    docs = list.map((d) => d.toJS() as unknown);
  } catch (e) {
    throw new Error(`${what} is neither valid YAML nor JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  for (const doc of docs) {
    if (doc === null || doc === undefined) continue;
    const obj = doc as KubeObject & { items?: KubeObject[] };
    if (typeof obj !== 'object' || Array.isArray(obj)) throw new Error(`${what} holds something other than Kubernetes objects`);
    if (obj.kind?.endsWith('List') && Array.isArray(obj.items)) out.push(...obj.items);
    else out.push({ ...obj, metadata: obj.metadata ?? {} });
  }
  return out;
}

export async function readInput(io: Io, file: string | undefined): Promise<string> {
  if (file && file !== '-') {
    try { return await readFile(file, 'utf8'); } catch (e) { throw new Error(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`); }
  }
  return (await readAll(io.stdin)).toString('utf8');
}

export type OutputFormat = 'yaml' | 'json';

/** One object as is, several as a YAML stream or a JSON List. */
export function formatObjects(objs: readonly KubeObject[], format: OutputFormat): string {
  if (format === 'json') {
    const body = objs.length === 1 ? objs[0] : { apiVersion: 'v1', kind: 'List', items: objs };
    return JSON.stringify(body, null, 2) + '\n';
  }
  return objs.map((o) => stringify(o, { lineWidth: 0 })).join('---\n');
}

export interface ControllerTarget {
  /** Direct base URL of the controller's HTTP API (http://host:8080), or undefined to go through the API server. */
  readonly url: string | undefined;
  readonly kubeconfig: string | undefined;
  /** kubeconfig context (keelson ui --context); default the current one. */
  readonly context?: string | undefined;
  readonly namespace: string;
  readonly name: string;
  readonly env: Io['env'];
}

/** The API server path of the controller Service's proxy: the port named "http", or "" (kubeseal's form, which the
 * API server matches to a Service's single unnamed port, as bitnami's controller Service and the kube-system
 * forwarder have). */
export function proxyPath(namespace: string, name: string, path: string, port = 'http'): string {
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/services/http:${encodeURIComponent(name)}:${port}/proxy${path}`;
}

/** A request to the controller's HTTP API; resolves with the status and body, rejects on a transport error. */
export async function controllerRequest(target: ControllerTarget, method: string, path: string, body?: Buffer, contentType = 'application/json'): Promise<{ status: number; body: Buffer }> {
  if (target.url) {
    return await send(target, new URL(path.replace(/^\//, ''), target.url.endsWith('/') ? target.url : `${target.url}/`), {}, method, path, body, contentType);
  }
  const kc = loadKubeConfig({ kubeconfig: target.kubeconfig, context: target.context, env: target.env });
  const server = new URL(kc.getCurrentCluster()!.server);
  const options: https.RequestOptions = { headers: {} };
  await kc.applyToHTTPSOptions(options as never);
  const via = (port: string) => new URL(server.pathname.replace(/\/$/, '') + proxyPath(target.namespace, target.name, path, port), server);
  const named = await send(target, via('http'), options, method, path, body, contentType);
  // 503 "no endpoints available": no port named http; a Service with one unnamed port answers kubeseal's form.
  if (named.status !== 503) return named;
  const unnamed = await send(target, via(''), options, method, path, body, contentType);
  return unnamed.status === 503 ? named : unnamed;
}

async function send(target: ControllerTarget, url: URL, options: https.RequestOptions, method: string, path: string, body: Buffer | undefined, contentType: string): Promise<{ status: number; body: Buffer }> {
  const headers: Record<string, string> = { ...(options.headers as Record<string, string> | undefined), Accept: '*/*' };
  if (options.auth) headers.Authorization = `Basic ${Buffer.from(options.auth).toString('base64')}`;
  if (body) { headers['Content-Type'] = contentType; headers['Content-Length'] = String(body.length); }
  const mod = url.protocol === 'https:' ? https : http;
  return await new Promise((resolve, reject) => {
    const req = mod.request(url, { ...options, auth: undefined, method, headers, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url.origin}${path} timed out`)));
    req.on('error', (e) => reject(new Error(`cannot reach the controller at ${target.url ?? `service ${target.namespace}/${target.name} (through the API server)`}: ${e.message}`)));
    req.end(body);
  });
}

export function targetDescription(t: ControllerTarget): string {
  return t.url ?? `service ${t.namespace}/${t.name}`;
}
