// One validated, frozen Options object for `keelson controller`, from flags and KEELSON_* variables. Nothing else
// in Keelson reads process.env: the downward-API variables (POD_NAMESPACE, POD_NAME) are read here too.

import { accessSync, constants, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { type FlagSpec, type FlagValue, UsageError, formatHelp, parseArgs } from './flags.js';
import { parseCutoffTime } from '../sealing/renewal.js';

const CORE = 'Core';
const RELOAD = 'Reload';
const SEALING = 'Sealing';
const GITSYNC = 'Git sync';
const IMAGES = 'Image policies';
const HA = 'High availability';

export const CONTROLLER_FLAGS: readonly FlagSpec[] = [
  { group: CORE, name: 'kubeconfig', type: 'string', default: undefined, help: 'kubeconfig file; else in-cluster, else $KUBECONFIG, else ~/.kube/config' },
  { group: CORE, name: 'http-addr', type: 'string', default: ':8080', help: 'address for /healthz, /readyz, sealing and hook endpoints' },
  { group: CORE, name: 'metrics-addr', type: 'string', default: ':9090', help: 'address for Prometheus /metrics; "0" disables' },
  { group: CORE, name: 'log-level', type: 'enum', choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal'], default: 'info', help: 'log level' },
  { group: CORE, name: 'log-format', type: 'enum', choices: ['json', 'pretty'], default: 'json', help: 'log format' },
  { group: CORE, name: 'controller-namespace', type: 'string', default: undefined, help: 'namespace Keelson runs in; default $POD_NAMESPACE, else keelson-system' },
  { group: CORE, name: 'workers', type: 'int', min: 1, default: 4, help: 'reconciles run at once per controller' },
  { group: CORE, name: 'shutdown-timeout', type: 'duration', default: '8s', help: 'how long SIGTERM waits for in-flight work' },
  { group: CORE, name: 'max-event-loop-block', type: 'duration', default: '10s', help: '/healthz fails for a while after the event loop was blocked this long (or this long in total, in stalls); 0 disables' },
  { group: CORE, name: 'disable-reload', type: 'boolean', default: false, help: 'turn off the reload controller' },
  { group: CORE, name: 'disable-sealing', type: 'boolean', default: false, help: 'turn off the SealedSecret controller and its endpoints' },
  { group: CORE, name: 'disable-gitsync', type: 'boolean', default: false, help: 'turn off the GitSync controller and its hooks' },
  { group: CORE, name: 'disable-images', type: 'boolean', default: false, help: 'turn off the ImagePolicy controller (registry polling)' },

  { group: RELOAD, name: 'reload-strategy', type: 'enum', choices: ['annotations', 'env-vars'], default: 'annotations', help: 'how a roll is written into the pod template' },
  { group: RELOAD, name: 'auto-reload-all', type: 'boolean', default: false, help: 'treat every workload as keelson.dev/auto: "true" unless it says "false"' },
  { group: RELOAD, name: 'reload-on-create', type: 'boolean', default: false, help: 'roll when a named trigger that did not exist is created' },
  { group: RELOAD, name: 'reload-on-delete', type: 'boolean', default: false, help: 'roll when a referenced config is deleted' },
  { group: RELOAD, name: 'namespaces', type: 'list', default: [], help: 'only these namespaces (default all)' },
  { group: RELOAD, name: 'ignore-namespaces', type: 'list', default: [], help: 'never these namespaces' },
  { group: RELOAD, name: 'namespace-selector', type: 'string', default: undefined, help: 'only namespaces whose labels match this selector' },
  { group: RELOAD, name: 'resource-label-selector', type: 'string', default: undefined, help: 'only ConfigMaps and Secrets whose labels match this selector' },
  { group: RELOAD, name: 'debounce', type: 'duration', default: '1s', help: 'coalescing window per workload (annotation keelson.dev/debounce overrides)' },
  { group: RELOAD, name: 'max-rolls-per-second', type: 'number', min: 0.1, default: 10, help: 'overall limit on rolls written per second' },
  { group: RELOAD, name: 'resources-to-ignore', type: 'list', default: [], help: 'configMaps or secrets: never watch or react to that kind (Reloader\'s flag)' },
  { group: RELOAD, name: 'ignored-workload-types', type: 'list', default: [], help: 'never roll these: jobs, cronjobs, deployments, daemonsets, statefulsets, rollouts' },
  { group: RELOAD, name: 'argo-rollouts', type: 'boolean', default: false, help: 'also roll Argo Rollouts (argoproj.io/v1alpha1; Reloader\'s --is-Argo-Rollouts)' },
  { group: RELOAD, name: 'rollout-timeout', type: 'duration', default: '10m', help: 'a rollout not complete by then is reported Failed' },

  { group: SEALING, name: 'key-namespace', type: 'string', default: undefined, help: 'namespace of the sealing keys (default: the controller namespace)' },
  { group: SEALING, name: 'key-prefix', type: 'string', default: 'sealed-secrets-key', help: 'generateName prefix of new key Secrets' },
  { group: SEALING, name: 'key-size', type: 'int', min: 2048, default: 4096, help: 'RSA key size of generated keys' },
  { group: SEALING, name: 'key-renew-period', type: 'duration', default: '720h', help: 'a new sealing key this often; 0 disables' },
  { group: SEALING, name: 'key-cutoff-time', type: 'string', default: undefined, help: 'at start, a new key if the newest is older than this time (RFC 1123 with numeric zone as "date -R" prints, or RFC 3339); as bitnami\'s flag' },
  { group: SEALING, name: 'unseal-workers', type: 'int', min: 0, default: 0, help: 'worker threads for RSA (unseal, verify, rotate); 0: the CPUs, at most 4' },
  { group: SEALING, name: 'trusted-proxy-cidrs', type: 'list', default: [], help: 'peers (the API server) whose X-Forwarded-For names the client for verify/rotate rate limits' },

  { group: GITSYNC, name: 'git-cache-dir', type: 'string', default: undefined, help: 'where repositories are fetched (default: a keelson-git folder in the temp dir)' },
  { group: GITSYNC, name: 'max-concurrent-syncs', type: 'int', min: 1, default: 4, help: 'GitSyncs reconciled at once' },
  { group: GITSYNC, name: 'default-service-account', type: 'string', default: undefined, help: 'ServiceAccount (in each GitSync\'s or ImagePolicy\'s namespace) to apply and read named Secrets as when spec.serviceAccountName is unset; empty: only objects in the controller namespace use Keelson\'s identity' },
  { group: GITSYNC, name: 'allow-insecure-git', type: 'boolean', default: false, help: 'allow http://, git:// and file:// GitSync URLs (no server authentication, or the controller\'s disk)' },
  { group: GITSYNC, name: 'max-revision-bytes', type: 'int', min: 1, default: 64 * 1024 * 1024, help: 'most bytes of manifest files one revision may hold (sizes checked before reading)' },
  { group: GITSYNC, name: 'max-revision-objects', type: 'int', min: 1, default: 10_000, help: 'most objects (YAML/JSON documents) one revision may hold' },
  { group: GITSYNC, name: 'kustomize-path', type: 'string', default: 'kustomize', help: 'the kustomize binary (a path, or a name looked up on PATH) that builds a spec.path holding a kustomization' },

  { group: IMAGES, name: 'allow-insecure-registries', type: 'boolean', default: false, help: 'honour ImagePolicy spec.insecure: plain-HTTP registries (no server authentication, credentials in clear)' },
  { group: IMAGES, name: 'max-concurrent-scans', type: 'int', min: 1, default: 4, help: 'ImagePolicies scanned at once' },

  { group: HA, name: 'leader-elect', type: 'boolean', default: false, help: 'elect one active replica through a coordination.k8s.io Lease' },
  { group: HA, name: 'leader-election-namespace', type: 'string', default: undefined, help: 'namespace of the Lease (default: the controller namespace)' },
  { group: HA, name: 'leader-election-id', type: 'string', default: 'keelson', help: 'name of the Lease' },
  { group: HA, name: 'leader-election-lease-duration', type: 'duration', default: '15s', help: 'how long a lease is held without renewal' },
  { group: HA, name: 'leader-election-renew-deadline', type: 'duration', default: '10s', help: 'the leader gives up if it cannot renew within this' },
  { group: HA, name: 'leader-election-retry-period', type: 'duration', default: '2s', help: 'how often candidates try and the leader renews' },
];

export interface Address { readonly host: string; readonly port: number }

export interface ReloaderAlertOptions {
  readonly sink: 'slack' | 'teams' | 'gchat' | 'webhook';
  /** A credential (a Slack or Teams webhook URL is): never logged or shown. */
  readonly url: string;
  readonly additionalInfo: string | undefined;
}

const ALERT_SINKS = ['slack', 'teams', 'gchat', 'webhook'] as const;

/**
 * stakater/Reloader's alert settings, with its semantics: on only when ALERT_ON_RELOAD is "true"; ALERT_SINK
 * slack|teams|gchat, anything else (Reloader's default "webhook", or "raw") posts plain text; ALERT_ADDITIONAL_INFO
 * prefixes each message. Unlike Reloader, a missing or non-http(s) ALERT_WEBHOOK_URL stops the start with an error.
 */
export function reloaderAlertOptions(env: Readonly<Record<string, string | undefined>>): ReloaderAlertOptions | undefined {
  if (env.ALERT_ON_RELOAD?.trim() !== 'true') return undefined;
  const url = (env.ALERT_WEBHOOK_URL ?? '').trim();
  if (url === '') throw new UsageError('ALERT_ON_RELOAD is "true" but ALERT_WEBHOOK_URL is not set: set it to the webhook address of your Slack, Teams, Google Chat or HTTP endpoint');
  let scheme = '';
  try { scheme = new URL(url).protocol; } catch { /* reported below */ }
  if (scheme !== 'http:' && scheme !== 'https:') throw new UsageError('ALERT_WEBHOOK_URL must be an absolute http:// or https:// URL');
  const raw = (env.ALERT_SINK ?? '').trim().toLowerCase();
  const sink = (ALERT_SINKS as readonly string[]).includes(raw) ? raw as ReloaderAlertOptions['sink'] : 'webhook';
  const info = env.ALERT_ADDITIONAL_INFO;
  return { sink, url, additionalInfo: info === undefined ? undefined : info.trim().slice(0, 1024) };
}

export interface Options {
  readonly kubeconfig: string | undefined;
  readonly httpAddr: Address;
  readonly metricsAddr: Address | undefined;
  readonly logLevel: string;
  readonly logFormat: 'json' | 'pretty';
  readonly controllerNamespace: string;
  readonly podName: string;
  readonly workers: number;
  readonly shutdownTimeoutMs: number;
  readonly maxEventLoopBlockMs: number;
  readonly reload: {
    readonly enabled: boolean;
    readonly strategy: 'annotations' | 'env-vars';
    readonly autoReloadAll: boolean;
    readonly reloadOnCreate: boolean;
    readonly reloadOnDelete: boolean;
    readonly namespaces: readonly string[];
    readonly ignoreNamespaces: readonly string[];
    readonly namespaceSelector: string | undefined;
    readonly resourceLabelSelector: string | undefined;
    readonly debounceMs: number;
    readonly maxRollsPerSecond: number;
    readonly rolloutTimeoutMs: number;
    /** --resources-to-ignore: config kinds never watched. */
    readonly ignoredConfigKinds: readonly ('ConfigMap' | 'Secret')[];
    /** --ignored-workload-types, as their --ignored-workload-types names (jobs, cronjobs, ...). */
    readonly ignoredWorkloadTypes: readonly string[];
    readonly argoRollouts: boolean;
  };
  readonly sealing: {
    readonly enabled: boolean;
    readonly keyNamespace: string;
    readonly keyPrefix: string;
    readonly keySize: number;
    readonly keyRenewPeriodMs: number;
    /** --key-cutoff-time: a key created before this is renewed at start. */
    readonly keyCutoffTime: Date | undefined;
    /** 0: the default pool size. */
    readonly unsealWorkers: number;
    readonly trustedProxyCidrs: readonly string[];
  };
  readonly gitsync: {
    readonly enabled: boolean;
    readonly cacheDir: string | undefined;
    readonly maxConcurrentSyncs: number;
    /** The ServiceAccount a GitSync naming none impersonates; undefined: see gitsync/identity.ts. */
    readonly defaultServiceAccount: string | undefined;
    readonly allowInsecureGit: boolean;
    readonly maxRevisionBytes: number;
    readonly maxRevisionObjects: number;
    /** --kustomize-path, resolved against PATH at start (kustomize itself runs with no PATH). */
    readonly kustomizePath: string;
    /** HTTPS_PROXY, HTTP_PROXY, NO_PROXY (either case) from the controller's environment, handed to git as they are. */
    readonly proxyEnv: Readonly<Record<string, string>>;
  };
  /** Reloader's ALERT_* variables: a cluster-wide notifier for Reloaded events; undefined unless ALERT_ON_RELOAD=true. */
  readonly reloaderAlert: ReloaderAlertOptions | undefined;
  readonly images: {
    readonly enabled: boolean;
    readonly allowInsecureRegistries: boolean;
    readonly maxConcurrentScans: number;
  };
  readonly leaderElection: {
    readonly enabled: boolean;
    readonly namespace: string;
    readonly id: string;
    readonly leaseDurationMs: number;
    readonly renewDeadlineMs: number;
    readonly retryPeriodMs: number;
  };
}

/** "host:port", ":port" (all interfaces) or "port"; "0" or "" means off where allowed. */
export function parseAddress(flag: string, text: string): Address {
  const m = /^(?:(\[[^\]]+\]|[^:]*):)?(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new UsageError(`invalid value for --${flag}: expected host:port, :port or port (got "${text}")`);
  const host = (m[1] ?? '').replace(/^\[|\]$/g, '');
  return { host: host === '' ? '0.0.0.0' : host, port };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function dnsLabel(flag: string, value: string): string {
  if (!DNS_LABEL.test(value)) throw new UsageError(`invalid value for --${flag}: "${value}" is not a Kubernetes namespace/name (lower-case letters, digits and '-')`);
  return value;
}

// ServiceAccount names are DNS subdomains; "" (as an empty KEELSON_DEFAULT_SERVICE_ACCOUNT would give) means none.
function serviceAccountName(flag: string, value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(value)) throw new UsageError(`invalid value for --${flag}: "${value}" is not a ServiceAccount name (lower-case letters, digits, '-' and '.'; the namespace is always the GitSync's)`);
  return value;
}

/**
 * A program name looked up on PATH the way a shell would, so a child started with an empty PATH (kustomize) still
 * finds it. A path (with "/"), or a name found nowhere, is returned as given.
 */
export function programOnPath(program: string, path: string | undefined): string {
  if (program.includes('/') || !path) return program;
  for (const dir of path.split(':')) {
    if (dir === '') continue;
    const candidate = join(dir, program);
    try { accessSync(candidate, constants.X_OK); if (statSync(candidate).isFile()) return candidate; } catch { /* not here */ }
  }
  return program;
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

export const CONTROLLER_USAGE = 'Usage: keelson controller [flags]\n\nRuns the reload, sealing, Git sync and image policy controllers. Every flag can also be set as KEELSON_<FLAG>.';

export function controllerHelp(): string {
  return formatHelp(CONTROLLER_USAGE, CONTROLLER_FLAGS);
}

/** An IP address or CIDR, checked here so a typo fails at start (the sealing endpoints build the list from it). */
function cidr(flag: string, value: string): string {
  const [addr = '', prefix, ...rest] = value.split('/');
  const family = isIP(addr);
  const max = family === 6 ? 128 : 32;
  if (family === 0 || rest.length > 0 || (prefix !== undefined && !(/^\d{1,3}$/.test(prefix) && Number(prefix) <= max))) {
    throw new UsageError(`--${flag}: "${value}" is not an IP address or CIDR (e.g. 10.0.0.0/8, fd00::/8)`);
  }
  return value;
}

const CONFIG_KINDS: Readonly<Record<string, 'ConfigMap' | 'Secret'>> = { configmaps: 'ConfigMap', secrets: 'Secret' };
const WORKLOAD_TYPES = ['jobs', 'cronjobs', 'deployments', 'daemonsets', 'statefulsets', 'rollouts'];

// Reloader spells them configMaps and secrets; any case is taken.
function configKind(value: string): 'ConfigMap' | 'Secret' {
  const k = CONFIG_KINDS[value.toLowerCase()];
  if (!k) throw new UsageError(`invalid value for --resources-to-ignore: "${value}" (expected configMaps or secrets)`);
  return k;
}

function workloadType(value: string): string {
  const v = value.toLowerCase();
  if (!WORKLOAD_TYPES.includes(v)) throw new UsageError(`invalid value for --ignored-workload-types: "${value}" (expected some of ${WORKLOAD_TYPES.join(', ')})`);
  return v;
}

function cutoffTime(text: string | undefined): Date | undefined {
  try { return parseCutoffTime(text); } catch (e) { throw new UsageError(`--key-cutoff-time: ${(e as Error).message}`); }
}

/** The proxy variables git honours; nothing else of the controller's environment reaches git. */
export const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'] as const;

/** The set (non-empty) proxy variables of an environment. */
export function proxyEnvOf(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of PROXY_VARIABLES) { const v = env[k]; if (v) out[k] = v; }
  return out;
}

/** Builds Options from argv (after the command word) and the environment; throws UsageError naming the flag. */
export function loadOptions(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Options & { help: boolean } {
  const { values, positionals, help } = parseArgs(CONTROLLER_FLAGS, argv, env);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}" (keelson controller takes only flags)`);
  const get = <T extends FlagValue>(name: string) => values.get(name) as T;
  const controllerNamespace = dnsLabel('controller-namespace', get<string | undefined>('controller-namespace') ?? (env.POD_NAMESPACE || 'keelson-system'));
  const metricsText = get<string>('metrics-addr');
  const options = {
    help,
    kubeconfig: get<string | undefined>('kubeconfig'),
    httpAddr: parseAddress('http-addr', get<string>('http-addr')),
    metricsAddr: metricsText === '0' || metricsText === '' ? undefined : parseAddress('metrics-addr', metricsText),
    logLevel: get<string>('log-level'),
    logFormat: get<'json' | 'pretty'>('log-format'),
    controllerNamespace,
    podName: env.POD_NAME || env.HOSTNAME || 'keelson',
    workers: get<number>('workers'),
    shutdownTimeoutMs: get<number>('shutdown-timeout'),
    maxEventLoopBlockMs: get<number>('max-event-loop-block'),
    reload: {
      enabled: !get<boolean>('disable-reload'),
      strategy: get<'annotations' | 'env-vars'>('reload-strategy'),
      autoReloadAll: get<boolean>('auto-reload-all'),
      reloadOnCreate: get<boolean>('reload-on-create'),
      reloadOnDelete: get<boolean>('reload-on-delete'),
      namespaces: get<readonly string[]>('namespaces').map((n) => dnsLabel('namespaces', n)),
      ignoreNamespaces: get<readonly string[]>('ignore-namespaces').map((n) => dnsLabel('ignore-namespaces', n)),
      namespaceSelector: get<string | undefined>('namespace-selector'),
      resourceLabelSelector: get<string | undefined>('resource-label-selector'),
      debounceMs: get<number>('debounce'),
      maxRollsPerSecond: get<number>('max-rolls-per-second'),
      rolloutTimeoutMs: get<number>('rollout-timeout'),
      ignoredConfigKinds: get<readonly string[]>('resources-to-ignore').map((v) => configKind(v)),
      ignoredWorkloadTypes: get<readonly string[]>('ignored-workload-types').map((v) => workloadType(v)),
      argoRollouts: get<boolean>('argo-rollouts'),
    },
    sealing: {
      enabled: !get<boolean>('disable-sealing'),
      keyNamespace: dnsLabel('key-namespace', get<string | undefined>('key-namespace') ?? controllerNamespace),
      keyPrefix: get<string>('key-prefix'),
      keySize: get<number>('key-size'),
      keyRenewPeriodMs: get<number>('key-renew-period'),
      keyCutoffTime: cutoffTime(get<string | undefined>('key-cutoff-time')),
      unsealWorkers: get<number>('unseal-workers'),
      trustedProxyCidrs: get<readonly string[]>('trusted-proxy-cidrs').map((c) => cidr('trusted-proxy-cidrs', c)),
    },
    gitsync: {
      enabled: !get<boolean>('disable-gitsync'),
      cacheDir: get<string | undefined>('git-cache-dir'),
      maxConcurrentSyncs: get<number>('max-concurrent-syncs'),
      defaultServiceAccount: serviceAccountName('default-service-account', get<string | undefined>('default-service-account')),
      allowInsecureGit: get<boolean>('allow-insecure-git'),
      maxRevisionBytes: get<number>('max-revision-bytes'),
      maxRevisionObjects: get<number>('max-revision-objects'),
      kustomizePath: programOnPath(get<string>('kustomize-path'), env.PATH),
      proxyEnv: proxyEnvOf(env),
    },
    reloaderAlert: reloaderAlertOptions(env),
    images: {
      enabled: !get<boolean>('disable-images'),
      allowInsecureRegistries: get<boolean>('allow-insecure-registries'),
      maxConcurrentScans: get<number>('max-concurrent-scans'),
    },
    leaderElection: {
      enabled: get<boolean>('leader-elect'),
      namespace: dnsLabel('leader-election-namespace', get<string | undefined>('leader-election-namespace') ?? controllerNamespace),
      id: dnsLabel('leader-election-id', get<string>('leader-election-id')),
      leaseDurationMs: get<number>('leader-election-lease-duration'),
      renewDeadlineMs: get<number>('leader-election-renew-deadline'),
      retryPeriodMs: get<number>('leader-election-retry-period'),
    },
  };
  const le = options.leaderElection;
  if (!(le.leaseDurationMs > le.renewDeadlineMs && le.renewDeadlineMs > le.retryPeriodMs)) {
    throw new UsageError('leader election timings must satisfy --leader-election-lease-duration > --leader-election-renew-deadline > --leader-election-retry-period');
  }
  return deepFreeze(options);
}
