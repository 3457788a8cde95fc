// Every fast-check property in the repository runs from a fixed seed, so a run is repeatable and a failure can
// be reproduced; fast-check prints the seed and the shrunk counterexample when a property fails. Set
// QUANTKIT_FC_SEED to explore other seeds (the one used is printed once per test file when it is set).
import fc from 'fast-check';

const DEFAULT_SEED = 20_260_803;
const fromEnv = process.env.QUANTKIT_FC_SEED;
const seed = fromEnv === undefined ? DEFAULT_SEED : Number(fromEnv);
if (!Number.isInteger(seed)) throw new Error(`QUANTKIT_FC_SEED must be an integer, got "${fromEnv}"`);
if (fromEnv !== undefined) console.log(`fast-check seed ${seed} (QUANTKIT_FC_SEED)`);
fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
