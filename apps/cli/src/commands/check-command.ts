import type { CalibrationInput } from '@quantkit/calibration';
import {
  type ExecutorPlugin,
  type ExecutorSession,
  QuantError,
  type Registry,
  type Tensor,
} from '@quantkit/core';
import { BUILTIN_OPS, type Model } from '@quantkit/onnx';
import { DEFAULT_SEED, createDefaultRegistry, randomSamples } from '@quantkit/quantize';
import { type CompatibilityIssue, checkModel, formatIssues } from '@quantkit/targets';
import { Command } from 'commander';
import { type CliIo, writeJson } from '../cli-io.js';
import { createCliRegistry } from '../cli-registry.js';
import { EXIT_CODES, ReportedFailure } from '../exit-codes.js';
import { collectRepeated } from '../flags.js';
import { FLAG_NAMES } from '../flag-terms.js';
import { readModelFile } from '../model-file.js';
import { userPath } from '../paths.js';
import {
  AUTO_TARGET,
  type ChosenTarget,
  chosenTargetJson,
  describeTarget,
  resolveTarget,
  targetHelp,
} from '../resolve-target.js';

/** What `quantkit check` found. */
export interface CheckReport {
  readonly file: string;
  readonly target: ChosenTarget;
  /** Errors first, then warnings (checkModel's order). */
  readonly issues: readonly CompatibilityIssue[];
  readonly errors: number;
  readonly warnings: number;
}

/**
 * Checks a model file against a target (a name from the registry, or 'auto' to detect the host).
 *
 * @example const report = await checkModelFile('model.int8.onnx', registry, 'wasm'); // report.errors === 0
 * @throws QuantError NOT_FOUND / INVALID_MODEL for the file; PLUGIN_NOT_FOUND for an unknown target.
 */
export async function checkModelFile(
  file: string,
  registry: Registry,
  targetValue: string,
  executor?: ExecutorPlugin,
): Promise<CheckReport> {
  const target = await resolveTarget(registry, targetValue);
  const { model, bytes, inputs } = await readModelFile(file);
  const found = [...checkModel(model, target.target)];
  if (executor !== undefined) found.push(...(await runtimeIssues(executor, model, bytes, inputs)));
  const issues = [
    ...found.filter((issue) => issue.severity === 'error'),
    ...found.filter((issue) => issue.severity !== 'error'),
  ];
  const errors = issues.filter((issue) => issue.severity === 'error').length;
  return { file, target, issues, errors, warnings: issues.length - errors };
}

/**
 * What the runtime itself says: the model must load in it (onnxruntime-node at optimization level all, whose
 * load-time passes refuse things no static rule sees) and, run once on seeded random inputs, give finite outputs.
 */
async function runtimeIssues(
  executor: ExecutorPlugin,
  model: Model,
  bytes: Uint8Array,
  inputs: readonly CalibrationInput[],
): Promise<CompatibilityIssue[]> {
  let session: ExecutorSession;
  try {
    session = await executor.createSession(bytes);
  } catch (error) {
    return [
      {
        severity: 'error',
        rule: 'runtime-load',
        message: `${executor.name} (graph optimization level all) refuses the model: ${(error as Error).message}`,
        fix: 'quantize the float model again with this quantkit, or keep the node it names float (--exclude)',
      },
    ];
  }
  try {
    let sample: Record<string, Tensor>;
    try {
      sample = randomSamples(inputs, 1, DEFAULT_SEED)[0]!;
    } catch {
      return [];
    }
    let outputs: Record<string, Tensor>;
    try {
      outputs = await session.run(sample);
    } catch (error) {
      return [
        {
          severity: 'warning',
          rule: 'runtime-run',
          message: `${executor.name} loads the model but does not run it on random inputs: ${(error as Error).message}`,
          fix: 'check it on real inputs with quantkit compare --data <dir>',
        },
      ];
    }
    const quantized = model.graph.nodes.some((node) => BUILTIN_OPS.of(node)?.quantizedForm === true);
    return Object.entries(outputs)
      .filter(([, tensor]) => !allFinite(tensor))
      .map(([name]) => ({
        severity: quantized ? ('error' as const) : ('warning' as const),
        rule: 'runtime-finite',
        message: `output "${name}" holds NaN or infinity when ${executor.name} runs the model on random inputs`,
        fix: quantized
          ? 'quantize again with this quantkit (it refuses such outputs), or keep the nodes before it float'
          : 'check the model on real inputs (quantkit compare --data <dir>)',
      }));
  } finally {
    await session.dispose();
  }
}

function allFinite(tensor: Tensor): boolean {
  if (tensor.dtype !== 'float32' && tensor.dtype !== 'float64') return true;
  for (const value of tensor.data as Float32Array) if (!Number.isFinite(value)) return false;
  return true;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** The closing line: what was checked against what, and how many errors and warnings. */
export function formatCheckSummary(report: CheckReport): string {
  const counts = `${count(report.errors, 'error')}, ${count(report.warnings, 'warning')}`;
  return report.errors === 0
    ? `${report.file} fits target ${describeTarget(report.target)}: ${counts}`
    : `${report.file} does not fit target ${describeTarget(report.target)}: ${counts}`;
}

/** `quantkit check`: see --help. */
export function checkCommand(io: CliIo): Command {
  return new Command('check')
    .description(
      'check that an ONNX model runs on a target: every issue with the node at fault and the fix (exit 4 on errors)',
    )
    .argument('<model>', 'the ONNX model to check (any model, quantized by quantkit or not)')
    .option('--target <name>', targetHelp(createDefaultRegistry()))
    .option(
      '--plugin <path-or-package>',
      'also load target plugins from an ES module (repeatable)',
      collectRepeated,
    )
    .option(
      '--no-runtime',
      "only apply the target's rules; do not load and run the model in onnxruntime-node",
    )
    .option('--json', 'print one JSON object on stdout instead of text')
    .action(
      async (
        modelArgument: string,
        flags: { target?: string; plugin?: string[]; runtime?: boolean; json?: boolean },
      ) => {
        const { registry, executor } = await createCliRegistry(flags.plugin ?? [], io.cwd);
        const report = await checkModelFile(
          userPath(io, modelArgument),
          registry,
          flags.target ?? AUTO_TARGET,
          flags.runtime === false ? undefined : executor,
        );
        const summary = formatCheckSummary(report);
        if (flags.json === true) {
          writeJson(io, {
            ok: report.errors === 0,
            command: 'check',
            file: report.file,
            target: chosenTargetJson(report.target),
            issues: report.issues,
            errors: report.errors,
            warnings: report.warnings,
            ...(report.errors > 0 && { error: { code: 'UNSUPPORTED', message: summary } }),
          });
          if (report.errors > 0) throw new ReportedFailure(EXIT_CODES.UNSUPPORTED);
          return;
        }
        if (report.issues.length > 0) io.stdout.write(`${formatIssues(report.issues, FLAG_NAMES)}\n`);
        // A failed check ends like every failed command: one line on stderr (main prints it) and the exit status.
        if (report.errors > 0) throw new QuantError('UNSUPPORTED', `${summary} (listed above)`);
        io.stdout.write(`${summary}\n`);
      },
    );
}
