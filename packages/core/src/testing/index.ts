export { type ObserverConformanceOptions, describeObserver } from './describe-observer.js';
export { type QuantizerConformanceOptions, describeQuantizer } from './describe-quantizer.js';
export { asyncQuantErrorOf, quantErrorOf } from './quant-error-of.js';
