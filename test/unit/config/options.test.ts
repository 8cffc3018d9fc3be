import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError, envName, parseArgs } from '../../../src/config/flags.js';
import { CONTROLLER_FLAGS, controllerHelp, loadOptions, parseAddress } from '../../../src/config/options.js';

describe('loadOptions', () => {
  it('has the documented defaults', () => {
    const o = loadOptions([], {});
    assert.deepEqual(o.httpAddr, { host: '0.0.0.0', port: 8080 });
    assert.deepEqual(o.metricsAddr, { host: '0.0.0.0', port: 9090 });
    assert.equal(o.controllerNamespace, 'keelson-system');
    assert.equal(o.reload.debounceMs, 1000);
    assert.equal(o.reload.rolloutTimeoutMs, 600_000);
    assert.equal(o.reload.strategy, 'annotations');
    assert.equal(o.sealing.keyRenewPeriodMs, 720 * 3_600_000);
    assert.equal(o.sealing.keyNamespace, 'keelson-system');
    assert.equal(o.sealing.keySize, 4096);
    assert.deepEqual([o.leaderElection.leaseDurationMs, o.leaderElection.renewDeadlineMs, o.leaderElection.retryPeriodMs], [15_000, 10_000, 2_000]);
    assert.equal(o.reload.enabled && o.sealing.enabled && o.gitsync.enabled, true);
    assert.equal(o.help, false);
  });

  it('is deeply frozen', () => {
    const o = loadOptions([], {});
    assert.ok(Object.isFrozen(o) && Object.isFrozen(o.reload) && Object.isFrozen(o.reload.namespaces));
  });

  it('reads flags in both forms, and flags beat the environment, which beats defaults', () => {
    const env = { KEELSON_DEBOUNCE: '5s', KEELSON_WORKERS: '7', KEELSON_LOG_LEVEL: 'warn' };
    const o = loadOptions(['--debounce=2s', '--log-level', 'debug', '--disable-reload', '--namespaces', 'a, b,,c'], env);
    assert.equal(o.reload.debounceMs, 2000);
    assert.equal(o.workers, 7);
    assert.equal(o.logLevel, 'debug');
    assert.equal(o.reload.enabled, false);
    assert.deepEqual(o.reload.namespaces, ['a', 'b', 'c']);
  });

  it('takes the namespace from the downward API, and the key namespace follows it', () => {
    const o = loadOptions([], { POD_NAMESPACE: 'ops', POD_NAME: 'keelson-abc' });
    assert.equal(o.controllerNamespace, 'ops');
    assert.equal(o.sealing.keyNamespace, 'ops');
    assert.equal(o.leaderElection.namespace, 'ops');
    assert.equal(o.podName, 'keelson-abc');
  });

  it('accepts boolean forms', () => {
    assert.equal(loadOptions(['--leader-elect', 'false'], {}).leaderElection.enabled, false);
    assert.equal(loadOptions(['--leader-elect=true'], {}).leaderElection.enabled, true);
    assert.equal(loadOptions(['--no-leader-elect'], { KEELSON_LEADER_ELECT: 'true' }).leaderElection.enabled, false);
    assert.equal(loadOptions([], { KEELSON_AUTO_RELOAD_ALL: 'yes' }).reload.autoReloadAll, true);
  });

  it('--default-service-account: empty by default, from the flag or KEELSON_DEFAULT_SERVICE_ACCOUNT, a name only', () => {
    assert.equal(loadOptions([], {}).gitsync.defaultServiceAccount, undefined);
    assert.equal(loadOptions([], { KEELSON_DEFAULT_SERVICE_ACCOUNT: '' }).gitsync.defaultServiceAccount, undefined);
    assert.equal(loadOptions([], { KEELSON_DEFAULT_SERVICE_ACCOUNT: 'deployer' }).gitsync.defaultServiceAccount, 'deployer');
    assert.equal(loadOptions(['--default-service-account', 'gitops.deployer'], { KEELSON_DEFAULT_SERVICE_ACCOUNT: 'x' }).gitsync.defaultServiceAccount, 'gitops.deployer');
    for (const v of ['Deployer', 'kube-system:admin', 'system:serviceaccount:kube-system:default', '-x', 'a b']) {
      assert.throws(() => loadOptions(['--default-service-account', v], {}), (e: unknown) => e instanceof UsageError && /--default-service-account.*not a ServiceAccount name/.test(e.message), v);
    }
  });

  it('"0" turns the metrics server off', () => {
    assert.equal(loadOptions(['--metrics-addr', '0'], {}).metricsAddr, undefined);
  });

  const bad: [string[], Record<string, string>, RegExp][] = [
    [['--debounce', 'soon'], {}, /--debounce.*duration/],
    [['--workers', '0'], {}, /--workers.*≥ 1/],
    [['--workers', '1.5'], {}, /--workers.*whole number/],
    [['--reload-strategy', 'restart'], {}, /--reload-strategy.*one of annotations, env-vars/],
    [['--log-format', 'xml'], {}, /--log-format/],
    [['--max-rolls-per-second', '0'], {}, /--max-rolls-per-second/],
    [['--http-addr', 'localhost'], {}, /--http-addr.*host:port/],
    [['--http-addr', ':70000'], {}, /--http-addr/],
    [['--bogus'], {}, /unknown flag --bogus/],
    [['--debounce'], {}, /--debounce needs a value/],
    [['--namespaces', 'Bad_NS'], {}, /--namespaces.*namespace/],
    [['stray'], {}, /unexpected argument "stray"/],
    [[], { KEELSON_KEY_RENEW_PERIOD: '30 days' }, /--key-renew-period \(from KEELSON_KEY_RENEW_PERIOD\)/],
    [['--leader-election-renew-deadline', '20s'], {}, /lease-duration > .*renew-deadline/],
    [['--no-debounce'], {}, /unknown flag --no-debounce/],
    [['--trusted-proxy-cidrs', '10.0.0.0/33'], {}, /--trusted-proxy-cidrs: "10.0.0.0\/33" is not an IP address or CIDR/],
    [['--trusted-proxy-cidrs', '10.0.0.1,apiserver'], {}, /--trusted-proxy-cidrs: "apiserver"/],
    [['--unseal-workers', '-1'], {}, /--unseal-workers/],
    [['--resources-to-ignore', 'pods'], {}, /--resources-to-ignore: "pods" \(expected configMaps or secrets\)/],
    [['--ignored-workload-types', 'jobs,replicasets'], {}, /--ignored-workload-types: "replicasets"/],
    [['--key-cutoff-time', 'yesterday'], {}, /--key-cutoff-time: "yesterday" is not a time: .*date -R/],
  ];
  it('reads the Reloader flags --resources-to-ignore, --ignored-workload-types and --argo-rollouts', () => {
    const d = loadOptions([], {}).reload;
    assert.deepEqual([d.ignoredConfigKinds, d.ignoredWorkloadTypes, d.argoRollouts], [[], [], false]);
    const o = loadOptions(['--resources-to-ignore=configMaps', '--ignored-workload-types', 'Jobs,cronjobs', '--argo-rollouts'], {}).reload;
    assert.deepEqual([o.ignoredConfigKinds, o.ignoredWorkloadTypes, o.argoRollouts], [['ConfigMap'], ['jobs', 'cronjobs'], true]);
    assert.deepEqual(loadOptions([], { KEELSON_RESOURCES_TO_IGNORE: 'secrets' }).reload.ignoredConfigKinds, ['Secret']);
  });
  it('reads --key-cutoff-time (bitnami\'s RFC 1123 form, or from the environment)', () => {
    assert.equal(loadOptions([], {}).sealing.keyCutoffTime, undefined);
    assert.equal(loadOptions(['--key-cutoff-time', 'Wed, 21 Oct 2015 07:28:00 +0000'], {}).sealing.keyCutoffTime?.toISOString(), '2015-10-21T07:28:00.000Z');
    assert.equal(loadOptions([], { KEELSON_KEY_CUTOFF_TIME: '2015-10-21T07:28:00Z' }).sealing.keyCutoffTime?.toISOString(), '2015-10-21T07:28:00.000Z');
  });
  it('reads --trusted-proxy-cidrs and --unseal-workers', () => {
    const o = loadOptions(['--trusted-proxy-cidrs', '10.0.0.0/8,192.168.1.7,fd00::/8', '--unseal-workers', '3'], {});
    assert.deepEqual(o.sealing.trustedProxyCidrs, ['10.0.0.0/8', '192.168.1.7', 'fd00::/8']);
    assert.equal(o.sealing.unsealWorkers, 3);
  });
  for (const [argv, env, re] of bad) {
    it(`rejects ${JSON.stringify(argv)} ${JSON.stringify(env)}`, () => {
      assert.throws(() => loadOptions(argv, env), (e: unknown) => e instanceof UsageError && re.test(e.message));
    });
  }
});

describe('flags', () => {
  it('names environment variables KEELSON_<FLAG>', () => assert.equal(envName('max-rolls-per-second'), 'KEELSON_MAX_ROLLS_PER_SECOND'));
  it('keeps positionals and stops at --', () => {
    const r = parseArgs(CONTROLLER_FLAGS, ['a', '--workers', '2', '--', '--not-a-flag'], {});
    assert.deepEqual(r.positionals, ['a', '--not-a-flag']);
  });
  it('help lists every flag with its default and variable', () => {
    const help = controllerHelp();
    for (const f of CONTROLLER_FLAGS) {
      assert.ok(help.includes(`--${f.name}`), f.name);
      assert.ok(help.includes(`$${envName(f.name)}`), f.name);
    }
    assert.match(help, /--debounce <duration>\n.*\(default 1s\)/);
    assert.match(help, /--key-renew-period <duration>\n.*\(default 720h\)/);
  });
  it('every flag has a help text and a group', () => {
    for (const f of CONTROLLER_FLAGS) assert.ok(f.help.length > 5 && f.group.length > 0, f.name);
    assert.equal(new Set(CONTROLLER_FLAGS.map((f) => f.name)).size, CONTROLLER_FLAGS.length);
  });
});

describe('parseAddress', () => {
  it('reads host:port, :port, port and IPv6', () => {
    assert.deepEqual(parseAddress('x', '127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
    assert.deepEqual(parseAddress('x', ':8080'), { host: '0.0.0.0', port: 8080 });
    assert.deepEqual(parseAddress('x', '9090'), { host: '0.0.0.0', port: 9090 });
    assert.deepEqual(parseAddress('x', '[::1]:80'), { host: '::1', port: 80 });
  });
});
