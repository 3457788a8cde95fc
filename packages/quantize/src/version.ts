import { version } from '../package.json';

/** The version of @quantkit/quantize, recorded in every output model's provenance. */
export const QUANTKIT_VERSION: string = version;
