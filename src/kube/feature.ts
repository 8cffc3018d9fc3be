// What a feature's register function receives: the Manager to add stores, controllers, runnables and routes to,
// the Options and the logger. Lives in kube/ (not cli/) so features do not import the CLI that imports them.

import type { Options } from '../config/options.js';
import type { Logger } from '../observe/logger.js';
import type { Manager } from './manager.js';

/** Everything a feature needs to register its stores, controllers, runnables and routes. */
export interface FeatureContext {
  readonly manager: Manager;
  readonly options: Options;
  readonly logger: Logger;
}
