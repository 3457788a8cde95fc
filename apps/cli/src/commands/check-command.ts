import { QuantError, type Registry } from '@quantkit/core';
import { createDefaultRegistry } from '@quantkit/quantize';
import { type CompatibilityIssue, checkModel, formatIssues } from '@quantkit/targets';
import { Command } from 'commander';
import { type CliIo, writeJson } from '../cli-io.js';
import { createCliRegistry } from '../cli-registry.js';
import { EXIT_CODES, ReportedFailure } from '../exit-codes.js';
import { collectRepeated } from '../flags.js';
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
): Promise<CheckReport> {
  const target = await resolveTarget(registry, targetValue);
  const { model } = await readModelFile(file);
  const issues = checkModel(model, target.target);
  const errors = issues.filter((issue) => issue.severity === 'error').length;
  return { file, target, issues, errors, warnings: issues.length - errors };
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
    .option('--plugin <path-or-package>', 'also load target plugins from an ES module (repeatable)', collectRepeated)
    .option('--json', 'print one JSON object on stdout instead of text')
    .action(async (modelArgument: string, flags: { target?: string; plugin?: string[]; json?: boolean }) => {
      const { registry } = await createCliRegistry(flags.plugin ?? [], io.cwd);
      const report = await checkModelFile(userPath(io, modelArgument), registry, flags.target ?? AUTO_TARGET);
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
      if (report.issues.length > 0) io.stdout.write(`${formatIssues(report.issues)}\n`);
      // A failed check ends like every failed command: one line on stderr (main prints it) and the exit status.
      if (report.errors > 0) throw new QuantError('UNSUPPORTED', `${summary} (listed above)`);
      io.stdout.write(`${summary}\n`);
    });
}
