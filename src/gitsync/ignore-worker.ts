// The worker side of ignore.ts's ignoredPaths: matches once and posts the answer; the parent terminates it when it
// takes too long.

import { parentPort, workerData } from 'node:worker_threads';
import { matchIgnored } from './ignore.js';
import { errorText } from '../kube/errors.js';

const { patterns, paths } = workerData as { patterns: string[]; paths: string[] };
try {
  parentPort!.postMessage({ ignored: matchIgnored(patterns, paths) });
} catch (err) {
  parentPort!.postMessage({ error: errorText(err) });
}
