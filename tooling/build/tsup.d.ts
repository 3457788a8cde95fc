import type { Options } from 'tsup';
export declare function packageConfig(entry: Record<string, string>, overrides?: Partial<Options>): Options;
