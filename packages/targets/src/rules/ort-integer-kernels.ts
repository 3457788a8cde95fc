import type { CompatibilityRule, RuleFinding } from '../compatibility-rule.js';
import { ORT_INTEGER_KERNELS, ORT_INTEGER_WEIGHT_SLOT, isOnnxRuntime } from '../onnxruntime-kernels.js';
import { elementType, isOnnxDomain, label } from '../quant-nodes.js';

const short = (dtype: string) => (dtype === 'uint8' ? 'u8' : dtype === 'int8' ? 's8' : dtype);

/**
 * Integer ops whose input types onnxruntime (CPU, and onnxruntime-web, which compiles the same kernels) has no
 * kernel for: the session fails to load. ConvInteger takes uint8 x uint8 only; MatMulInteger, QLinearConv and
 * QLinearMatMul take every pair but int8 x uint8.
 */
export const ortIntegerKernelsRule: CompatibilityRule = {
  name: 'ort-integer-kernels',
  description:
    'integer ops (ConvInteger, MatMulInteger, QLinearConv, QLinearMatMul) need a type pair onnxruntime has a kernel for',
  check(context) {
    if (!isOnnxRuntime(context.target.runtime)) return [];
    const findings: RuleFinding[] = [];
    for (const { node, graph } of context.nodes) {
      const pairs = ORT_INTEGER_KERNELS[node.opType];
      const weightSlot = ORT_INTEGER_WEIGHT_SLOT[node.opType];
      if (pairs === undefined || weightSlot === undefined || !isOnnxDomain(node)) continue;
      const activation = node.inputs[0] ? elementType(graph, node.inputs[0]) : undefined;
      const weightName = node.inputs[weightSlot];
      const weight = weightName ? elementType(graph, weightName) : undefined;
      if (activation === undefined || weight === undefined) continue;
      if (pairs.some((pair) => pair.activation === activation && pair.weight === weight)) continue;
      const accepted = pairs.map((pair) => `${short(pair.activation)} x ${short(pair.weight)}`).join(', ');
      findings.push({
        severity: 'error',
        node: node.name,
        message:
          `${label(node)} multiplies ${activation} x ${weight}; onnxruntime (${context.target.runtime}) has no ` +
          `${node.opType} kernel for that pair (it has ${accepted}), so the model fails to load`,
        fix:
          node.opType === 'ConvInteger'
            ? 'store the weight as uint8 (zero point 128 keeps it symmetric) with uint8 activations, as ' +
              'DynamicQuantizeLinear produces, or quantize the Conv as QDQ (QLinearConv runs u8 x s8)'
            : [
                're-quantize with ',
                { option: 'target', value: context.target.name },
                ` so it uses ${accepted.split(', ')[0]}`,
              ],
      });
    }
    return findings;
  },
};
