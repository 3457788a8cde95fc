import type { ObserverPlugin } from '@quantkit/core';
import { entropyObserver } from './entropy-observer.js';
import { minMaxObserver } from './min-max-observer.js';
import { movingAverageObserver } from './moving-average-observer.js';
import { clipObserver, mseObserver } from './mse-observer.js';
import { percentileObserver } from './percentile-observer.js';

/**
 * Every built-in observer plugin with default options: minmax, moving-average, percentile, entropy, mse, clip.
 *
 * @example
 * const registry = createRegistry([...builtinObservers, myQuantizer]);
 * const observer = registry.get('observer', 'entropy').create({ symmetric: true });
 */
export const builtinObservers: readonly ObserverPlugin[] = [
  minMaxObserver,
  movingAverageObserver,
  percentileObserver,
  entropyObserver,
  mseObserver,
  clipObserver,
];
