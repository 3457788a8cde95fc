export { type ObserverConformanceOptions, describeObserver } from './describe-observer.js';
export { type QuantizerConformanceOptions, describeQuantizer } from './describe-quantizer.js';
