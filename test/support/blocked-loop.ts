// A child process for the liveness test: a real Manager serving /healthz with the event-loop watchdog, whose loop
// the test freezes on demand. Protocol: prints {"port":N} once listening; each stdin line "block <ms>" busy-waits.
// Args: <maxBlockMs> <windowMs>.

import { createInterface } from 'node:readline';
import type { KubeClient } from '../../src/kube/client.js';
import type { EventRecorder } from '../../src/kube/events.js';
import { Manager } from '../../src/kube/manager.js';
import { silentLogger } from '../../src/observe/logger.js';
import { createMetrics } from '../../src/observe/metrics.js';

const [maxBlockMs, windowMs] = process.argv.slice(2).map(Number);
// No stores, controllers or elector: the client is only closed on stop and events are never recorded.
const client = { close() {} } as unknown as KubeClient;
const manager = new Manager({
  client, logger: silentLogger(), metrics: createMetrics({ processMetrics: false }), events: {} as EventRecorder,
  httpAddr: { host: '127.0.0.1', port: 0 }, metricsAddr: undefined, shutdownTimeoutMs: 1000,
  maxEventLoopBlockMs: maxBlockMs!, eventLoopWindowMs: windowMs!,
});
await manager.start();
process.stdout.write(`${JSON.stringify({ port: manager.httpPort })}\n`);
createInterface({ input: process.stdin }).on('line', (line) => {
  const m = /^block (\d+)$/.exec(line);
  if (!m) return;
  const until = Date.now() + Number(m[1]);
  while (Date.now() < until) { /* the frozen loop under test */ }
  process.stdout.write('unblocked\n');
}).on('close', () => void manager.stop().then(() => process.exit(0)));
