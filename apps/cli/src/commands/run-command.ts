import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { encodeNpy } from '@quantkit/calibration';
import { QuantError, type Registry, type Tensor } from '@quantkit/core';
import { DEFAULT_RANDOM_SAMPLES, DEFAULT_SEED, RANDOM_DATA_TEXT } from '@quantkit/quantize';
import { type SampleOrigin, sampleSource } from '@quantkit/quantize/node';
import { Command } from 'commander';
import { type CliIo, writeJson } from '../cli-io.js';
import { createCliRegistry } from '../cli-registry.js';
import { inFlagTerms } from '../flag-terms.js';
import { collectRepeated, parseChoiceFlag, parseIntegerFlag } from '../flags.js';
import { readModelFile } from '../model-file.js';
import { fileNameFor, writeFolderAtomic } from '../output-folder.js';
import { requireExisting, userPath } from '../paths.js';
import { RUNTIMES, type RuntimeName, executorFor } from '../runtime-choice.js';

/** What `quantkit run` did. */
export interface RunReport {
  readonly model: string;
  readonly runtime: RuntimeName;
  readonly data: SampleOrigin;
  readonly outputFolder: string;
  /** One entry per sample: its folder (relative to the output folder) and each output's file, shape and dtype. */
  readonly samples: readonly {
    readonly folder: string;
    readonly outputs: readonly { name: string; file: string; dtype: string; shape: readonly number[] }[];
  }[];
}

interface RunFlags {
  readonly data?: string;
  readonly output?: string;
  readonly runtime?: string;
  readonly samples?: string;
  readonly seed?: string;
  readonly force?: boolean;
  readonly json?: boolean;
  readonly plugin?: string[];
}

/**
 * Runs a model on every sample of a data folder (or seeded random inputs) and writes each output as .npy, in the
 * calibration layout: `<out>/sample_0000/<output>.npy`, so the files can feed a model that reads them.
 *
 * @example const report = await runModelFile('model.onnx', 'outputs', { runtime: 'quantkit', dataDir: 'calib' });
 * @throws QuantError NOT_FOUND for a missing model or data folder, OUTPUT_CONFLICT for an existing output folder
 *   without force, EXECUTOR when the runtime refuses or fails the model.
 */
export async function runModelFile(
  modelPath: string,
  outputFolder: string,
  options: {
    readonly runtime: RuntimeName;
    readonly dataDir?: string | undefined;
    readonly samples?: number | undefined;
    readonly seed?: number | undefined;
    readonly force?: boolean;
    /** Where kernels and backends come from (default: the CLI's built-ins). */
    readonly registry?: Registry;
  },
): Promise<RunReport> {
  const file = await readModelFile(modelPath);
  if (options.dataDir !== undefined) {
    await requireExisting(options.dataDir, 'data folder', 'folder');
    const inside = relative(resolve(options.dataDir), resolve(outputFolder));
    if (!inside.startsWith('..') && !inside.startsWith('/')) {
      throw new QuantError(
        'OUTPUT_CONFLICT',
        `-o ${outputFolder} lies inside --data ${options.dataDir}; write the outputs elsewhere`,
      );
    }
  }
  const data: SampleOrigin =
    options.dataDir === undefined
      ? { kind: 'random', seed: options.seed ?? DEFAULT_SEED }
      : { kind: 'folder', dir: options.dataDir };
  const samples = sampleSource(data, file.inputs, {
    limit: options.samples ?? (data.kind === 'random' ? DEFAULT_RANDOM_SAMPLES : undefined),
    dataOption: 'dataDir',
  });
  const registry = options.registry ?? (await createCliRegistry([], process.cwd())).registry;
  const session = await executorFor(options.runtime, 1, registry).createSession(file.bytes);
  const written: RunReport['samples'][number][] = [];
  try {
    await writeFolderAtomic(outputFolder, options.force === true, async (folder) => {
      let index = 0;
      for await (const sample of samples()) {
        const sampleFolder = `sample_${String(index).padStart(4, '0')}`;
        const outputs = await session.run(sample);
        const taken = new Set<string>();
        const files: RunReport['samples'][number]['outputs'][number][] = [];
        await mkdir(join(folder, sampleFolder), { recursive: true });
        for (const [name, tensor] of Object.entries(outputs) as [string, Tensor][]) {
          const fileName = `${fileNameFor(name, taken)}.npy`;
          await writeFile(join(folder, sampleFolder, fileName), encodeNpy(tensor));
          files.push({ name, file: fileName, dtype: tensor.dtype, shape: tensor.shape });
        }
        written.push({ folder: sampleFolder, outputs: files });
        index += 1;
      }
      if (index === 0) throw new QuantError('CALIBRATION_DATA', `--data ${options.dataDir} holds no samples`);
    });
  } catch (error) {
    throw inFlagTerms(error);
  } finally {
    await session.dispose();
  }
  return { model: modelPath, runtime: options.runtime, data, outputFolder, samples: written };
}

/** The text `quantkit run` prints. */
export function formatRunReport(report: RunReport): string[] {
  const source =
    report.data.kind === 'folder'
      ? `${report.samples.length} samples from ${report.data.dir}`
      : `${report.samples.length} random samples (seed ${report.data.seed}; ${RANDOM_DATA_TEXT})`;
  const first = report.samples[0]?.outputs ?? [];
  return [
    `ran ${report.model} on ${report.runtime}: ${source}`,
    ...first.map(
      (output) => `  ${output.name}: ${output.dtype} [${output.shape.join(', ')}] -> ${output.file}`,
    ),
    `outputs: ${report.outputFolder}/sample_NNNN/*.npy`,
  ];
}

/** `quantkit run`: see --help. */
export function runCommand(io: CliIo): Command {
  return new Command('run')
    .description('run a model on inputs and write its outputs as .npy files (one folder per sample)')
    .argument('<model>', 'the ONNX model to run')
    .requiredOption('-o, --output <dir>', 'folder to write, <dir>/sample_NNNN/<output>.npy')
    .option('--data <dir>', 'input data in the calibration layout (random inputs when omitted)')
    .option('--runtime <name>', `${RUNTIMES.join(', ')} (default quantkit)`)
    .option('--samples <n>', `run at most this many samples (random data: default ${DEFAULT_RANDOM_SAMPLES})`)
    .option('--seed <n>', `seed for random inputs (default ${DEFAULT_SEED})`)
    .option('--force', 'replace an existing output folder')
    .option(
      '--plugin <path-or-package>',
      'load kernel and backend plugins from an ES module (repeatable)',
      collectRepeated,
    )
    .option('--json', 'print one JSON object on stdout instead of text')
    .action(async (modelArgument: string, flags: RunFlags) => {
      const runtime = parseChoiceFlag('--runtime', flags.runtime, RUNTIMES) ?? 'quantkit';
      const samples = parseIntegerFlag('--samples', flags.samples, { min: 1 });
      const seed = parseIntegerFlag('--seed', flags.seed, { min: 0, max: 2 ** 32 - 1 });
      if (seed !== undefined && flags.data !== undefined) {
        throw new QuantError(
          'INVALID_ARGUMENT',
          '--seed applies to random inputs only; drop it or drop --data',
        );
      }
      const report = await runModelFile(userPath(io, modelArgument), userPath(io, flags.output!), {
        runtime,
        dataDir: flags.data === undefined ? undefined : userPath(io, flags.data),
        samples,
        seed,
        force: flags.force === true,
        registry: (await createCliRegistry(flags.plugin ?? [], io.cwd)).registry,
      });
      if (flags.json === true) writeJson(io, { ok: true, command: 'run', ...report });
      else io.stdout.write(`${formatRunReport(report).join('\n')}\n`);
    });
}
