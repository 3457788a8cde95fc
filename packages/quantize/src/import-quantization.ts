// Quantization-aware-trained models (PyTorch and TensorFlow QAT exports, quantkit's own fake-quant output) carry
// QuantizeLinear -> DequantizeLinear pairs whose scales were learned. quantkit takes them out of its private copy,
// keeping every scale, zero point and weight code, so the rest of the pipeline plans a float model; the planner
// and the compute stage then put the kept parameters back at their points and quantize only what is left.
import {
  type LinearQuantParams,
  type QuantDType,
  QuantError,
  type Tensor,
  createTensor,
  dequantizeLinear,
  dtypeInfo,
  quantizeLinear,
} from '@quantkit/core';
import {
  BUILTIN_OPS,
  type Graph,
  type Node,
  dtypeFromOnnx,
  intAttribute,
  isSupportedOnnxDataType,
  subgraphsOf,
} from '@quantkit/onnx';

/** A weight the model quantized itself: its codes exactly as its own Q/DQ produced them. */
export interface KeptWeight {
  /** The float values the prepared graph holds under the weight's name (the codes dequantized, or the original). */
  readonly tensor: Tensor<'float32'>;
  readonly codes: Tensor<QuantDType>;
  readonly params: LinearQuantParams;
  /** How the model stored it: float -> QuantizeLinear -> DequantizeLinear, or integer codes -> DequantizeLinear. */
  readonly form: 'float' | 'integer';
}

/** What a quantization-aware-trained model fixed itself, by the float value each point sits on. */
export interface KeptQuantization {
  /** Activation -> the parameters of the Q/DQ pair on it. */
  readonly activations: ReadonlyMap<string, LinearQuantParams>;
  /** Float constant (as named in the prepared graph) -> its codes and parameters. */
  readonly weights: ReadonlyMap<string, KeptWeight>;
  /** Integer biases behind DequantizeLinear, made float again (re-quantized at input scale x weight scale). */
  readonly biases: readonly string[];
  /** QuantizeLinear and DequantizeLinear nodes taken out. */
  readonly removedNodes: number;
}

const QDQ_DOMAINS = new Set(['', 'ai.onnx', 'com.microsoft']);
const CODE_TYPES: readonly QuantDType[] = ['int8', 'uint8', 'int16', 'uint16', 'int4', 'uint4'];

const isQuantize = (node: Node) => node.opType === 'QuantizeLinear' && QDQ_DOMAINS.has(node.domain);
const isDequantize = (node: Node) => node.opType === 'DequantizeLinear' && QDQ_DOMAINS.has(node.domain);

function unsupported(node: Node, message: string): QuantError {
  return new QuantError('UNSUPPORTED', `${node.opType} "${node.name}" ${message}`, {
    details: { node: node.name, opType: node.opType },
  });
}

function constantOf(graph: Graph, name: string | undefined): Tensor | undefined {
  return name === undefined || name === '' ? undefined : graph.getConstant(name);
}

/**
 * The parameters a Q or DQ node applies to a tensor of `rank` dimensions (undefined: an activation, whose rank is
 * not needed unless it is quantized per channel). `codesType` is the DQ input's type, where there is one.
 */
function paramsOf(
  graph: Graph,
  node: Node,
  rank: number | undefined,
  codesType?: QuantDType,
): LinearQuantParams {
  const scale = constantOf(graph, node.inputs[1]);
  if (scale === undefined) throw unsupported(node, `has a scale ("${node.inputs[1]}") computed at run time`);
  if (scale.dtype !== 'float32')
    throw unsupported(node, `has a ${scale.dtype} scale; quantkit imports float32 scales`);
  const zeroPointName = node.inputs[2];
  const zeroPoint = constantOf(graph, zeroPointName);
  if (zeroPointName !== undefined && zeroPointName !== '' && zeroPoint === undefined)
    throw unsupported(node, `has a zero point ("${zeroPointName}") computed at run time`);
  let dtype: string;
  if (zeroPoint !== undefined) dtype = zeroPoint.dtype;
  else if (codesType !== undefined) dtype = codesType;
  else {
    // Opset 21 names the code type of a QuantizeLinear without zero point in output_dtype; uint8 before it.
    const code = intAttribute(node, 'output_dtype', 0);
    dtype = code === 0 ? 'uint8' : isSupportedOnnxDataType(code) ? dtypeFromOnnx(code) : `ONNX type ${code}`;
  }
  const dequantizesBias = codesType === 'int32' && dtype === 'int32' && isDequantize(node);
  if (!dequantizesBias && !(CODE_TYPES as readonly string[]).includes(dtype)) {
    throw unsupported(
      node,
      `uses ${dtype} codes; quantkit imports ${CODE_TYPES.join(', ')} Q/DQ (and int32 biases)`,
    );
  }
  if (intAttribute(node, 'block_size', 0) !== 0)
    throw unsupported(node, 'quantizes per block; quantkit imports per-tensor and per-channel Q/DQ');
  const info = dtypeInfo(dtype as QuantDType);
  const count = scale.data.length;
  const zeroPoints = Int32Array.from({ length: count }, (_, i) => Number(zeroPoint?.data[i] ?? 0));
  const base = {
    scale: Float32Array.from(scale.data as Float32Array),
    zeroPoint: zeroPoints,
    bits: info.bits,
    dtype: dtype as QuantDType,
    qmin: info.min,
    qmax: info.max,
  };
  if (scale.shape.length === 0 || (scale.shape.length === 1 && count === 1 && rank === undefined))
    return { ...base, granularity: 'tensor' };
  if (scale.shape.length !== 1)
    throw unsupported(node, `has a scale of shape [${scale.shape.join(', ')}]; expected a scalar or 1-D`);
  if (rank === undefined)
    throw unsupported(node, 'quantizes an activation per channel; quantkit imports per-tensor activations');
  const axis = intAttribute(node, 'axis', 1);
  const normalized = axis < 0 ? axis + rank : axis;
  if (normalized < 0 || normalized >= rank)
    throw unsupported(node, `has axis ${axis}, outside a tensor of rank ${rank}`);
  return { ...base, granularity: 'channel', axis: normalized };
}

function sameParams(a: LinearQuantParams, b: LinearQuantParams): boolean {
  const equal = (x: ArrayLike<number>, y: ArrayLike<number>) =>
    x.length === y.length && Array.from(x).every((value, i) => Object.is(value, y[i]));
  return (
    a.dtype === b.dtype &&
    a.granularity === b.granularity &&
    a.axis === b.axis &&
    equal(a.scale, b.scale) &&
    equal(a.zeroPoint, b.zeroPoint)
  );
}

/**
 * Inside If/Loop/Scan bodies only weights are imported, and they stay where they are: float weight -> Q -> DQ
 * becomes integer codes -> DQ with the codes that Q computes (the body's planner leaves a weight behind
 * DequantizeLinear alone), so quantkit's own fake-quant output of a model with bodies comes back. Activation Q/DQ
 * and integer operators in bodies are refused.
 */
function importBodyWeights(body: Graph, owner: Node, scopes: readonly Graph[]): void {
  const where = `inside a body of ${owner.opType} "${owner.name}"`;
  const constant = (name: string): Tensor | undefined => {
    for (const graph of [body, ...scopes]) {
      const found = graph.getConstant(name);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  for (const node of [...body.nodes]) {
    if (isQuantize(node)) {
      const weight = constant(node.inputs[0]!);
      const codes = node.outputs[0]!;
      const readers = body.consumers(codes);
      if (weight?.dtype !== 'float32' || readers.length === 0 || !readers.every(isDequantize))
        throw unsupported(
          node,
          `quantizes an activation ${where}; quantkit imports only weights' Q/DQ in bodies`,
        );
      const params = paramsOf(body, node, weight.shape.length);
      for (const reader of readers) {
        if (!sameParams(params, paramsOf(body, reader, weight.shape.length, params.dtype)))
          throw unsupported(reader, `dequantizes with other parameters than QuantizeLinear "${node.name}"`);
      }
      const stored = body.uniqueName(`${node.inputs[0]}_codes`);
      body.addInitializer(stored, quantizeLinear((weight as Tensor<'float32'>).data, weight.shape, params));
      for (const reader of readers) body.replaceInput(reader, codes, stored);
      body.removeNode(node);
    } else if (isDequantize(node)) {
      if (constant(node.inputs[0]!) === undefined)
        throw unsupported(
          node,
          `dequantizes a value computed at run time ${where}; quantkit imports weights there`,
        );
    } else if (BUILTIN_OPS.of(node)?.quantizedForm) {
      throw unsupported(node, `is a quantized operator ${where}; quantkit imports Q/DQ in QDQ form only`);
    }
    for (const nested of subgraphsOf(node)) importBodyWeights(nested, node, [body, ...scopes]);
  }
  body.invalidate();
}

/** Refuses quantized forms that are not Q/DQ (QLinearConv, MatMulInteger, MatMulNBits, ...); imports body weights. */
function refuseOtherQuantizedOps(graph: Graph): void {
  for (const node of graph.nodes) {
    if (BUILTIN_OPS.of(node)?.quantizedForm && !isQuantize(node) && !isDequantize(node)) {
      throw unsupported(
        node,
        'is a quantized operator; quantkit imports quantization-aware-trained models in QDQ form ' +
          '(QuantizeLinear/DequantizeLinear around float ops), so quantize the float original instead',
      );
    }
    for (const body of subgraphsOf(node)) importBodyWeights(body, node, [graph]);
  }
}

/**
 * Takes the QuantizeLinear/DequantizeLinear nodes out of `graph` (changed in place), keeping what they fixed:
 * activation Q -> DQ pairs become the activation's parameters; float weight -> Q -> DQ becomes the codes that Q
 * computes (ONNX rounding: half to even, saturated), read as the float weight; integer codes -> DQ becomes a float
 * weight (the codes dequantized) with those codes kept; int32 biases -> DQ become float biases. Returns undefined
 * for a model without Q/DQ.
 *
 * @example
 * const kept = importQuantization(model.graph);
 * kept?.activations.get('conv1_out')?.scale; // the learned scale, bit for bit
 * @throws QuantError UNSUPPORTED naming the node: a quantized operator other than Q/DQ, activation Q/DQ in an
 *   If/Loop/Scan body, a QuantizeLinear whose codes reach anything but a DequantizeLinear, a DequantizeLinear of codes computed
 *   at run time, per-block or per-channel activation parameters, float8 codes, or one value quantized twice
 *   with different parameters.
 */
export function importQuantization(graph: Graph): KeptQuantization | undefined {
  refuseOtherQuantizedOps(graph);
  if (!graph.nodes.some((node) => isQuantize(node) || isDequantize(node))) return undefined;
  const activations = new Map<string, LinearQuantParams>();
  const weights = new Map<string, KeptWeight>();
  const biases: string[] = [];
  let removedNodes = 0;
  const unused = new Set<string>();
  const remove = (node: Node) => {
    for (const input of node.inputs.slice(1)) if (input !== '') unused.add(input);
    graph.removeNode(node);
    removedNodes++;
  };

  for (const quantize of graph.nodes.filter(isQuantize)) {
    const codes = quantize.outputs[0]!;
    const readers = graph.consumers(codes);
    const stray = readers.find((reader) => !isDequantize(reader));
    if (stray !== undefined || graph.isOutput(codes) || readers.length === 0) {
      throw unsupported(
        quantize,
        stray === undefined
          ? `writes codes "${codes}" that no DequantizeLinear reads`
          : `writes codes that ${stray.opType} "${stray.name}" reads; quantkit imports Q -> DQ pairs only`,
      );
    }
    let value = quantize.inputs[0]!;
    const weight = graph.getConstant(value);
    const floatWeight = weight?.dtype === 'float32' ? (weight as Tensor<'float32'>) : undefined;
    const params = paramsOf(graph, quantize, floatWeight?.shape.length);
    // A reader with another per-tensor scale is a Mul by a constant folded into the scale (quantkit's output
    // does that for hard-swish's x / 6): it becomes that Mul again, with its own pair.
    const rescaled = new Map<Node, LinearQuantParams>();
    for (const reader of readers) {
      const own = paramsOf(graph, reader, floatWeight?.shape.length, params.dtype);
      if (sameParams(params, own)) continue;
      const scaledOnly =
        floatWeight === undefined &&
        params.granularity === 'tensor' &&
        own.granularity === 'tensor' &&
        own.dtype === params.dtype &&
        own.zeroPoint[0] === params.zeroPoint[0];
      if (!scaledOnly)
        throw unsupported(reader, `dequantizes with other parameters than QuantizeLinear "${quantize.name}"`);
      rescaled.set(reader, own);
    }
    const plain = readers.filter((reader) => !rescaled.has(reader));
    if (floatWeight !== undefined) {
      const known = weights.get(value);
      if (known !== undefined && !sameParams(known.params, params))
        throw unsupported(quantize, `quantizes weight "${value}" a second time with other parameters`);
      weights.set(value, {
        tensor: floatWeight,
        codes: quantizeLinear(floatWeight.data, floatWeight.shape, params),
        params,
        form: 'float',
      });
    } else {
      if (graph.getConstant(value) !== undefined)
        throw unsupported(quantize, `quantizes "${value}", a ${graph.getConstant(value)!.dtype} constant`);
      // The value keeps the name its readers (and a graph output) knew: the dequantized one, where the float value
      // served only the Q (quantkit's own output names them so), else the float one.
      const producer = graph.producer(value);
      const outputReader = plain.find((reader) => graph.isOutput(reader.outputs[0]!));
      const onlyQuantized =
        producer !== undefined &&
        plain.length === 1 &&
        graph.consumers(value).length === 1 &&
        !graph.isOutput(value);
      const renamed = outputReader ?? (onlyQuantized ? plain[0] : undefined);
      if (renamed !== undefined) {
        const output = renamed.outputs[0]!;
        if (producer === undefined)
          throw unsupported(renamed, `writes graph output "${output}" straight from graph input "${value}"`);
        remove(renamed);
        graph.replaceOutput(producer, value, output);
        graph.replaceAllUses(value, output, { except: [quantize], outputs: false });
        graph.replaceInput(quantize, value, output);
        value = output;
      }
      const known = activations.get(value);
      if (known !== undefined && !sameParams(known, params))
        throw unsupported(quantize, `quantizes "${value}" a second time with other parameters`);
      activations.set(value, params);
    }
    for (const reader of graph.consumers(codes)) {
      const dequantized = reader.outputs[0]!;
      const own = rescaled.get(reader);
      if (own === undefined) {
        remove(reader);
        graph.replaceAllUses(dequantized, value, { outputs: false });
        continue;
      }
      // The Mul takes the DequantizeLinear's place and output name, so its readers need no rewiring.
      const factor = graph.uniqueName(`${dequantized}_factor`);
      graph.addInitializer(
        factor,
        createTensor('float32', [], Float32Array.of(own.scale[0]! / params.scale[0]!)),
      );
      const index = graph.nodes.indexOf(reader);
      remove(reader);
      graph.addNode(
        {
          name: graph.uniqueName(`${dequantized}_Mul`),
          opType: 'Mul',
          domain: '',
          inputs: [value, factor],
          outputs: [dequantized],
          attributes: new Map(),
        },
        index,
      );
      activations.set(dequantized, own);
    }
    remove(quantize);
  }

  for (const dequantize of graph.nodes.filter(isDequantize)) {
    const source = dequantize.inputs[0]!;
    const codes = graph.getConstant(source);
    if (
      codes === undefined ||
      !(codes.dtype === 'int32' || (CODE_TYPES as readonly string[]).includes(codes.dtype))
    ) {
      throw unsupported(
        dequantize,
        codes === undefined
          ? `reads "${source}", computed at run time with no QuantizeLinear in front; quantkit imports ` +
              'Q -> DQ pairs and constant codes -> DQ'
          : `reads ${codes.dtype} "${source}"; quantkit imports integer codes`,
      );
    }
    const params = paramsOf(graph, dequantize, codes.shape.length, codes.dtype as QuantDType);
    const output = dequantize.outputs[0]!;
    remove(dequantize);
    unused.add(source);
    const tensor = createTensor(
      'float32',
      codes.shape,
      dequantizeLinear(codes.data as ArrayLike<number>, codes.shape, params),
    );
    graph.addInitializer(output, tensor);
    if (params.dtype === 'int32') biases.push(output);
    else weights.set(output, { tensor, codes: codes as Tensor<QuantDType>, params, form: 'integer' });
  }
  // Scales, zero points and codes now read by nothing (initializers, or Constant nodes some exporters write).
  for (const name of unused) {
    if (graph.consumers(name).length > 0 || graph.isOutput(name)) continue;
    if (graph.initializers.has(name)) graph.removeInitializer(name);
    const producer = graph.producer(name);
    if (producer?.opType === 'Constant') graph.removeNode(producer);
  }
  graph.invalidate();
  return { activations, weights, biases, removedNodes };
}
