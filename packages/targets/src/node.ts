export { type DetectHostTargetOptions, detectHostTarget, selectHostTarget } from './detect-host-target.js';
export { type ReadHostOptions, readHost } from './read-host.js';
