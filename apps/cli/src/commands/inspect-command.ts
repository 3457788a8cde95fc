import { stat } from 'node:fs/promises';
import { readModelFile } from '@quantkit/onnx/node';
import { type InspectReport, inspectModel } from '@quantkit/quantize';
import { Command } from 'commander';
import { type CliIo, writeJson } from '../cli-io.js';
import { formatBytes, formatShape, formatTable } from '../format.js';
import { requireExisting, userPath } from '../paths.js';

/** Long lists (initializers of a large model) are cut in text output; --json always has everything. */
const MAX_ROWS = 40;

function capped<T>(items: readonly T[], all: boolean): { shown: readonly T[]; hidden: number } {
  if (all || items.length <= MAX_ROWS) return { shown: items, hidden: 0 };
  return { shown: items.slice(0, MAX_ROWS), hidden: items.length - MAX_ROWS };
}

/** The text `quantkit inspect` prints. */
export function formatInspectReport(
  file: string,
  fileBytes: number,
  report: InspectReport,
  all = false,
): string[] {
  const lines = [
    `${file}: ${formatBytes(fileBytes)}, ONNX IR ${report.irVersion}${report.producer ? `, from ${report.producer}` : ''}`,
  ];
  lines.push(
    `opsets: ${report.opsets.map((opset) => `${opset.domain === '' ? 'ai.onnx' : opset.domain} ${opset.version}`).join(', ')}`,
  );

  if (report.quantkit !== null) {
    const { version, target, mode } = report.quantkit;
    const parts = [
      target === null ? undefined : `target ${target}`,
      mode === null ? undefined : `mode ${mode}`,
      version === null ? undefined : `quantkit ${version}`,
    ].filter((part) => part !== undefined);
    lines.push(`quantized by quantkit: ${parts.join(', ')}`);
  }

  lines.push('inputs:');
  lines.push(
    ...formatTable(
      report.inputs.map((value) => [`  ${value.name}`, value.dtype ?? '?', formatShape(value.shape)]),
    ),
  );
  lines.push('outputs:');
  lines.push(
    ...formatTable(
      report.outputs.map((value) => [`  ${value.name}`, value.dtype ?? '?', formatShape(value.shape)]),
    ),
  );

  lines.push(`ops: ${report.nodeCount} nodes, ${report.quantizedNodeCount} quantized-format`);
  lines.push(
    ...formatTable(
      report.ops.map((op) => [
        `  ${op.domain === '' ? op.opType : `${op.domain}.${op.opType}`}`,
        String(op.count),
        op.quantized ? 'quantized' : '',
      ]),
      [1],
    ),
  );

  const byDtype = Object.entries(report.weightBytesByDtype)
    .sort((a, b) => b[1] - a[1])
    .map(([dtype, bytes]) => `${dtype} ${formatBytes(bytes)}`);
  lines.push(
    `weights: ${formatBytes(report.weightBytes)} in ${report.initializers.length} initializers${byDtype.length > 0 ? ` (${byDtype.join(', ')})` : ''}`,
  );
  const initializers = capped(report.initializers, all);
  lines.push(
    ...formatTable(
      initializers.shown.map((tensor) => [
        `  ${tensor.name}`,
        tensor.dtype,
        formatShape(tensor.shape),
        formatBytes(tensor.bytes),
      ]),
      [3],
    ),
  );
  if (initializers.hidden > 0) lines.push(`  ... ${initializers.hidden} more (use --all or --json)`);

  if (report.weightOps.length > 0) {
    const lowBit = report.weightOps.filter((op) => op.lowBit).length;
    lines.push(
      `weight precision: ${lowBit} of ${report.weightOps.length} Conv/Gemm/MatMul nodes have 8-bit or lower weights`,
    );
    const weightOps = capped(report.weightOps, all);
    lines.push(
      ...formatTable(
        weightOps.shown.map((op) => [
          `  ${op.name || '(unnamed)'}`,
          op.opType,
          op.weight === null
            ? 'computed operand'
            : `${op.dtype}${op.via === 'dequantize' ? ' via DequantizeLinear' : ''}`,
          op.lowBit ? `${op.bits}-bit` : 'float',
        ]),
      ),
    );
    if (weightOps.hidden > 0) lines.push(`  ... ${weightOps.hidden} more (use --all or --json)`);
  }

  const metadata = Object.entries(report.metadata);
  lines.push(metadata.length === 0 ? 'metadata: none' : 'metadata:');
  for (const [key, value] of metadata) {
    lines.push(`  ${key}: ${value.length > 200 && !all ? `${value.slice(0, 200)}...` : value}`);
  }
  return lines;
}

/** `quantkit inspect`: see --help. */
export function inspectCommand(io: CliIo): Command {
  return new Command('inspect')
    .description(
      'show what is in an ONNX model: opsets, inputs, ops, weights by dtype, quantization, metadata',
    )
    .argument('<model>', 'the ONNX model to read')
    .option('--all', 'list every initializer and weight op (text output is cut at 40 rows otherwise)')
    .option('--json', 'print one JSON object on stdout instead of text')
    .action(async (modelArgument: string, flags: { json?: boolean; all?: boolean }) => {
      const file = userPath(io, modelArgument);
      await requireExisting(file, 'model', 'file');
      const fileBytes = (await stat(file)).size;
      const report = inspectModel(await readModelFile(file));
      if (flags.json === true) {
        writeJson(io, { ok: true, command: 'inspect', file, fileBytes, ...report });
      } else {
        io.stdout.write(`${formatInspectReport(file, fileBytes, report, flags.all === true).join('\n')}\n`);
      }
    });
}
