import {
  type LinearQuantParams,
  QuantError,
  type QuantDType,
  type PackedWeight,
  type QuantizedTensor,
  type Tensor,
  createTensor,
  dequantizeLinear,
  dtypeInfo,
  paramShape,
  quantizeLinear,
  sizeOf,
} from '@quantkit/core';
import type { Attribute, Graph, Model, Node } from '@quantkit/onnx';
import { packCodes, unpackConstants } from './packed-codes.js';

export const MS_DOMAIN = 'com.microsoft';
// TensorProto.DataType numbers for Cast's `to`.
const ONNX_UINT8 = 2;
const ONNX_INT8 = 3;
const ONNX_INT32 = 6;
const ONNX_FLOAT = 1;

/** quantkit's own operator domain: packed weights the kernel runtime reads. */
export const QUANTKIT_DOMAIN = 'ai.quantkit';

/**
 * Writes quantization nodes into a graph, choosing the operator domain each needs at the model's opset:
 * ONNX QuantizeLinear/DequantizeLinear from opset 10 (per-axis from 13, 4- and 16-bit from 21), otherwise the
 * com.microsoft forms onnxruntime ships, which take the same inputs and an `axis` attribute at every opset.
 */
export class QdqEmitter {
  readonly graph: Graph;
  readonly opset: number;
  private usesMsDomain = false;

  /** Each consumer of a quantized activation gets its own Q/DQ pair (TensorRT explicit quantization). */
  readonly perConsumer: boolean;
  private readonly packCodes: boolean;
  /** Whether dequantizedConstant writes the Cast/Mul form onnxruntime folds at load (see foldedConstant). */
  readonly foldDequantize: boolean;
  /** Whether dequantizedConstant writes float constants behind Q -> DQ (emit 'fake-quant'). */
  readonly fakeQuant: boolean;

  /**
   * `packCodes`: store codes narrower than their 8-bit container (1 to 4 bits) several to a byte, unpacked by
   * integer ops that onnxruntime folds into a constant when it loads the model (weight-only mode: nothing else
   * reads the codes as an initializer).
   */
  constructor(
    private readonly model: Model,
    opset: number,
    settings: {
      readonly perConsumer?: boolean;
      readonly packCodes?: boolean;
      /** Weight-only form 'fold': codes become float by Cast/Sub/Mul, which onnxruntime folds at load. */
      readonly foldDequantize?: boolean;
      /** emit 'fake-quant': constants stay float behind QuantizeLinear -> DequantizeLinear (see fakeQuantized). */
      readonly fakeQuant?: boolean;
    } = {},
  ) {
    this.fakeQuant = settings.fakeQuant ?? false;
    this.foldDequantize = settings.foldDequantize ?? false;
    this.perConsumer = settings.perConsumer ?? false;
    this.packCodes = settings.packCodes ?? false;
    this.graph = model.graph;
    this.opset = opset;
  }

  /** Domain for a Q/DQ node over codes of `dtype`, per axis or per tensor. */
  domainFor(dtype: QuantDType, perAxis: boolean): string {
    const wide = dtype === 'int16' || dtype === 'uint16' || dtype === 'int4' || dtype === 'uint4';
    if (this.opset < 10 || (perAxis && this.opset < 13) || (wide && this.opset < 21)) {
      this.usesMsDomain = true;
      return MS_DOMAIN;
    }
    return '';
  }

  /** Sub-byte codes in an 8-bit container, at any opset. */
  private storable8(
    codes: Tensor<QuantDType>,
    params: LinearQuantParams,
  ): { codes: Tensor<QuantDType>; params: LinearQuantParams } {
    if (codes.dtype !== 'int4' && codes.dtype !== 'uint4') return { codes, params };
    const dtype = codes.dtype === 'int4' ? 'int8' : 'uint8';
    const data = dtype === 'int8' ? Int8Array.from(codes.data) : Uint8Array.from(codes.data);
    return { codes: createTensor(dtype, codes.shape, data), params: { ...params, dtype } };
  }

  /** Sub-byte codes are stored in an 8-bit container below opset 21, where ONNX has no int4 type. */
  storable(
    codes: Tensor<QuantDType>,
    params: LinearQuantParams,
  ): { codes: Tensor<QuantDType>; params: LinearQuantParams } {
    return this.opset >= 21 ? { codes, params } : this.storable8(codes, params);
  }

  /** Adds an initializer under a fresh name derived from `base` and returns the name. */
  constant(base: string, tensor: Tensor): string {
    const name = this.graph.uniqueName(base);
    this.graph.addInitializer(name, tensor);
    return name;
  }

  /**
   * Codes as a value named after `base`: the initializer itself, or (with packCodes) the codes packed several to
   * a byte and unpacked by Cast -> Div/Mul/Sub -> Add -> Cast (or Gather from a table of the few distinct codes)
   * -> Reshape over constants, which
   * onnxruntime's constant folding turns back into the codes at load time. The file holds only the packed bytes.
   */
  codesConstant(base: string, codes: Tensor<QuantDType>, qmin: number, qmax: number): string {
    const packed = this.packCodes ? packCodes(codes, qmin, qmax) : undefined;
    if (packed === undefined) return this.constant(base, codes);
    const count = sizeOf(codes.shape);
    const rows = packed.bytes.length;
    const int64 = (suffix: string, values: number[]) =>
      this.constant(
        `${base}_${suffix}`,
        createTensor('int64', [values.length], BigInt64Array.from(values, BigInt)),
      );
    const step = (
      opType: string,
      inputs: string[],
      suffix: string,
      attributes?: Record<string, Attribute>,
    ) => {
      const output = this.graph.uniqueName(`${base}_${suffix}`);
      this.node(opType, inputs, [output], attributes === undefined ? {} : { attributes });
      return output;
    };
    const { divisors, nextDivisors, modulus } = unpackConstants(packed);
    const bytes = this.constant(`${base}_packed`, createTensor('uint8', [rows], packed.bytes));
    const wide = step('Cast', [bytes], 'packed_int32', { to: { type: 'int', value: ONNX_INT32 } });
    const column = step('Reshape', [wide, int64('packed_rows', [rows, 1])], 'packed_column');
    // slot j = floor(v / 2^(bits j)) - 2^bits floor(v / 2^(bits (j + 1))): Div, Mul and Sub exist at every opset
    // onnxruntime reads (Mod only from 10).
    const shifted = step('Div', [column, this.constant(`${base}_slot_divisors`, divisors)], 'slots_shifted');
    const above = step(
      'Div',
      [column, this.constant(`${base}_slot_next_divisors`, nextDivisors)],
      'slots_above',
    );
    const aboveScaled = step(
      'Mul',
      [above, this.constant(`${base}_slot_modulus`, modulus)],
      'slots_above_scaled',
    );
    const slots = step('Sub', [shifted, aboveScaled], 'slots');
    let flat = step('Reshape', [slots, int64('slots_count', [rows * packed.perByte])], 'slots_flat');
    if (rows * packed.perByte !== count) {
      flat =
        this.opset >= 10
          ? step('Slice', [flat, int64('slice_start', [0]), int64('slice_end', [count])], 'slots_used')
          : step('Slice', [flat], 'slots_used', {
              starts: { type: 'ints', value: [0] },
              ends: { type: 'ints', value: [count] },
              axes: { type: 'ints', value: [0] },
            });
    }
    let narrow: string;
    if (packed.table !== undefined) {
      const values = codes.dtype === 'int8' ? Int8Array.from(packed.table) : Uint8Array.from(packed.table);
      const table = this.constant(`${base}_code_table`, createTensor(codes.dtype, [values.length], values));
      narrow = step('Gather', [table, flat], 'codes_flat');
    } else {
      const offset = this.constant(`${base}_code_offset`, createTensor('int32', [], Int32Array.of(qmin)));
      const shiftedBack = step('Add', [flat, offset], 'codes_int32');
      narrow = step('Cast', [shiftedBack], 'codes_flat', {
        to: { type: 'int', value: codes.dtype === 'int8' ? ONNX_INT8 : ONNX_UINT8 },
      });
    }
    return step('Reshape', [narrow, int64('shape', [...codes.shape])], 'unpacked');
  }

  /** Scale and zero-point initializers for params applied to a tensor of `shape`. */
  paramConstants(
    base: string,
    shape: readonly number[],
    params: LinearQuantParams,
  ): { scale: string; zeroPoint: string } {
    const dims = params.granularity === 'tensor' ? [] : paramShape(shape, params);
    const zeroPoints = createTensor(params.dtype, dims);
    const target = zeroPoints.data as { [i: number]: number };
    params.zeroPoint.forEach((z, i) => {
      target[i] = z;
    });
    return {
      scale: this.constant(`${base}_scale`, createTensor('float32', dims, Float32Array.from(params.scale))),
      zeroPoint: this.constant(`${base}_zero_point`, zeroPoints),
    };
  }

  /**
   * Adds a node. `replaces` names a node just removed whose role this one takes (a MatMul rewritten to
   * MatMulNBits): it keeps that name, so overrides and users still find it.
   */
  node(
    opType: string,
    inputs: string[],
    outputs: string[],
    options: {
      domain?: string;
      attributes?: Record<string, Attribute>;
      name?: string;
      replaces?: string;
    } = {},
  ): Node {
    const node: Node = {
      name: options.replaces ?? this.graph.uniqueName(options.name ?? `${outputs[0] ?? opType}_${opType}`),
      opType,
      domain: options.domain ?? '',
      inputs,
      outputs,
      attributes: new Map(Object.entries(options.attributes ?? {})),
    };
    this.graph.addNode(node);
    return node;
  }

  private axisAttributes(params: LinearQuantParams): Record<string, Attribute> {
    if (params.granularity === 'tensor') return {};
    const attributes: Record<string, Attribute> = { axis: { type: 'int', value: params.axis ?? 0 } };
    if (params.granularity === 'block')
      attributes['block_size'] = { type: 'int', value: params.blockSize ?? 1 };
    return attributes;
  }

  private readonly sharedConstants = new Map<string, string>();
  private readonly cache = new Map<string, unknown>();

  /** Makes a value once per key (initializer names for a weight several nodes share) and returns it after. */
  cached<T>(key: string, make: () => T): T {
    if (!this.cache.has(key)) this.cache.set(key, make());
    return this.cache.get(key) as T;
  }
  private readonly constantParams = new Map<string, LinearQuantParams>();

  /** The parameters behind a value written by dequantizedConstant. */
  paramsOf(dequantized: string): LinearQuantParams {
    const params = this.constantParams.get(dequantized);
    if (params === undefined)
      throw new QuantError('INTERNAL', `"${dequantized}" was not written by this emitter`);
    return params;
  }

  /**
   * Like dequantizedConstant, but a constant read by several nodes (a tied weight) with the same key is stored
   * and dequantized once; `quantize` runs only the first time.
   */
  sharedDequantizedConstant(
    key: string,
    base: string,
    quantize: () => { codes: Tensor<QuantDType>; params: LinearQuantParams },
    fold = this.foldDequantize,
  ): string {
    const stored = fold === this.foldDequantize ? key : `${key} ${fold ? 'folded' : 'dequantized'}`;
    let output = this.sharedConstants.get(stored);
    if (output === undefined) {
      output = this.dequantizedConstant(base, quantize(), fold, key);
      this.sharedConstants.set(stored, output);
    }
    return output;
  }

  /** Codes stored once per key and container type, whichever form (dequantized or folded) reads them. */
  private readonly sharedCodes = new Map<string, string>();

  private storedCodes(
    base: string,
    codes: Tensor<QuantDType>,
    params: LinearQuantParams,
    codesKey: string | undefined,
  ): string {
    const key = codesKey === undefined ? undefined : `${codesKey} ${codes.dtype}`;
    let name = key === undefined ? undefined : this.sharedCodes.get(key);
    if (name === undefined) {
      name = this.codesConstant(`${base}_quantized`, codes, params.qmin, params.qmax);
      if (key !== undefined) this.sharedCodes.set(key, name);
    }
    return name;
  }

  /**
   * Stores codes as an initializer followed by a DequantizeLinear (or, with `fold`, the Cast/Mul form onnxruntime
   * folds at load); returns the float output's name.
   */
  dequantizedConstant(
    base: string,
    quantized: QuantizedTensor,
    fold = this.foldDequantize,
    codesKey?: string,
  ): string {
    if (quantized.lookup !== undefined && this.fakeQuant) {
      throw new QuantError(
        'UNSUPPORTED',
        `"${base}" is quantized to a table of levels (logarithmic codes), which QuantizeLinear cannot express; ` +
          'emit fake-quant needs a linear quantizer',
        { details: { tensor: base } },
      );
    }
    if (quantized.lookup !== undefined) return this.lookedUpConstant(base, quantized, quantized.lookup.table);
    if (this.fakeQuant && quantized.params.granularity !== 'block' && quantized.params.dtype !== 'int32')
      return this.fakeQuantized(base, quantized);
    if (fold && quantized.params.granularity !== 'block')
      return this.foldedConstant(base, quantized, codesKey);
    const { codes, params } = this.storable(quantized.codes, quantized.params);
    const codesName = this.storedCodes(base, codes, params, codesKey);
    const { scale, zeroPoint } = this.paramConstants(base, codes.shape, params);
    const output = this.graph.uniqueName(`${base}_dequantized`);
    this.node('DequantizeLinear', [codesName, scale, zeroPoint], [output], {
      domain: this.domainFor(params.dtype, params.granularity !== 'tensor'),
      attributes: this.axisAttributes(params),
    });
    this.constantParams.set(output, params);
    return output;
  }

  /**
   * emit 'fake-quant': the float constant `base` itself behind QuantizeLinear -> DequantizeLinear, so a training
   * framework can finetune it through the fake quantizer, when that Q reproduces the codes exactly (ONNX rounding
   * and saturation to the code type); otherwise (codes clipped by an MSE range, a raised scale, a rounding
   * optimiser) the codes dequantized, which the Q maps back to the same codes. Either way the output computes
   * exactly what the quantized model does.
   */
  private fakeQuantized(base: string, quantized: QuantizedTensor): string {
    const { codes, params } = this.storable(quantized.codes, quantized.params);
    const info = dtypeInfo(params.dtype);
    const saturated = { ...params, qmin: info.min, qmax: info.max };
    const original = this.graph.getConstant(base);
    const reproduces =
      original?.dtype === 'float32' &&
      original.shape.length === codes.shape.length &&
      original.shape.every((dim, axis) => dim === codes.shape[axis]) &&
      quantizeLinear(original.data as Float32Array, original.shape, saturated).data.every(
        (code, i) => code === codes.data[i],
      );
    const floatName = reproduces
      ? base
      : this.constant(
          `${base}_on_grid`,
          createTensor(
            'float32',
            codes.shape,
            dequantizeLinear(codes.data as ArrayLike<number>, codes.shape, params),
          ),
        );
    const { scale, zeroPoint } = this.paramConstants(base, codes.shape, params);
    const domain = this.domainFor(params.dtype, params.granularity !== 'tensor');
    const attributes = this.axisAttributes(params);
    const fake = this.graph.uniqueName(`${base}_fake_quantized`);
    this.node('QuantizeLinear', [floatName, scale, zeroPoint], [fake], { domain, attributes });
    const output = this.graph.uniqueName(`${base}_dequantized`);
    this.node('DequantizeLinear', [fake, scale, zeroPoint], [output], { domain, attributes });
    this.constantParams.set(output, params);
    return output;
  }

  /**
   * Codes made float by Cast, Sub (the zero points, when any is not 0) and Mul (the scales, shaped to broadcast
   * along the channel axis) over constants only: onnxruntime's constant folding turns the chain into an fp32
   * initializer when it loads the model, so the model runs at fp32 speed from a file of int8 codes. Codes are kept
   * in an 8-bit container at every opset (Cast from int4 is not needed).
   */
  private foldedConstant(base: string, quantized: QuantizedTensor, codesKey: string | undefined): string {
    const { codes, params } = this.storable8(quantized.codes, quantized.params);
    const codesName = this.storedCodes(base, codes, params, codesKey);
    const dims =
      params.granularity === 'tensor'
        ? []
        : codes.shape.map((dim, axis) => (axis === (params.axis ?? 0) ? dim : 1));
    const step = (
      opType: string,
      inputs: string[],
      suffix: string,
      attributes: Record<string, Attribute> = {},
    ) => {
      const output = this.graph.uniqueName(`${base}_${suffix}`);
      this.node(opType, inputs, [output], { attributes });
      return output;
    };
    let value = step('Cast', [codesName], 'float_codes', { to: { type: 'int', value: ONNX_FLOAT } });
    if (params.zeroPoint.some((zero) => zero !== 0)) {
      // Stored in the codes' 8-bit type like DequantizeLinear's, made float by a Cast that folds as well.
      const zeroPoint = createTensor(codes.dtype, dims);
      (zeroPoint.data as Int8Array | Uint8Array).set(params.zeroPoint);
      const zeroName = this.constant(`${base}_zero_point`, zeroPoint);
      const floatZero = step('Cast', [zeroName], 'float_zero_point', {
        to: { type: 'int', value: ONNX_FLOAT },
      });
      value = step('Sub', [value, floatZero], 'centered');
    }
    const scale = createTensor('float32', dims, Float32Array.from(params.scale));
    const output = step('Mul', [value, this.constant(`${base}_scale`, scale)], 'dequantized');
    this.constantParams.set(output, params);
    return output;
  }

  /**
   * `--format packed`: the node becomes an `ai.quantkit` custom op of the same type whose weight input is the
   * packed bytes; the layout's name, logical shape, scales and facts ride along as `weight_*` attributes.
   */
  packWeight(node: Node, slot: number, packed: PackedWeight): void {
    const bytes = this.constant(
      `${node.inputs[slot]}_packed`,
      createTensor('uint8', [packed.data.length], packed.data),
    );
    const attributes = new Map(node.attributes);
    attributes.set('weight_format', { type: 'string', value: packed.format });
    attributes.set('weight_shape', { type: 'ints', value: [...packed.shape] });
    attributes.set('weight_scale', {
      type: 'tensor',
      value: createTensor('float32', [packed.scale.length], Float32Array.from(packed.scale)),
    });
    for (const [key, value] of Object.entries(packed.attributes)) {
      attributes.set(
        `weight_${key}`,
        typeof value === 'number' ? { type: 'int', value } : { type: 'string', value },
      );
    }
    const replacement: Node = {
      ...node,
      domain: QUANTKIT_DOMAIN,
      inputs: node.inputs.map((input, i) => (i === slot ? bytes : input)),
      attributes,
    };
    this.graph.removeNode(node);
    this.graph.addNode(replacement);
    if (!this.model.opsetImports.some((entry) => entry.domain === QUANTKIT_DOMAIN)) {
      this.model.opsetImports.push({ domain: QUANTKIT_DOMAIN, version: 1 });
    }
  }

  /**
   * Codes that index a table of levels (logarithmic codes with many exponent steps): stored as they are, widened to
   * int32 indices at run time (Gather takes no uint8 indices), looked up, and scaled per group.
   */
  private lookedUpConstant(base: string, quantized: QuantizedTensor, table: Float32Array): string {
    const { codes, params } = quantized;
    const codesName = this.codesConstant(`${base}_codes`, codes, 0, table.length - 1);
    const tableName = this.constant(
      `${base}_levels`,
      createTensor('float32', [table.length], Float32Array.from(table)),
    );
    const indices = this.graph.uniqueName(`${base}_indices`);
    this.node('Cast', [codesName], [indices], { attributes: { to: { type: 'int', value: 6 } } });
    const levels = this.graph.uniqueName(`${base}_levels_gathered`);
    this.node('Gather', [tableName, indices], [levels]);
    // Per-channel scales broadcast along their axis: shape [C, 1, ...] padded to the weight's rank from the axis on.
    const axis = params.axis ?? 0;
    const scaleShape =
      params.granularity === 'tensor' ? [] : codes.shape.map((dim, i) => (i === axis ? dim : 1)).slice(axis);
    const scale = this.constant(
      `${base}_scale`,
      createTensor('float32', scaleShape, Float32Array.from(params.scale)),
    );
    const output = this.graph.uniqueName(`${base}_dequantized`);
    this.node('Mul', [levels, scale], [output]);
    this.constantParams.set(output, params);
    return output;
  }

  /**
   * Puts a QuantizeLinear -> DequantizeLinear pair on an activation, so every reader sees the quantized values.
   * The value keeps its name for its readers (and as a graph output); the producer's float result is renamed.
   * `floatReaders` keep reading the float value (ops that need it above 0, which the grid may round to 0).
   */
  quantizeActivation(name: string, params: LinearQuantParams, floatReaders: readonly Node[] = []): void {
    const { graph } = this;
    const { scale, zeroPoint } = this.paramConstants(name, [], params);
    const quantized = graph.uniqueName(`${name}_quantized`);
    const domain = this.domainFor(params.dtype, false);
    if (this.perConsumer) {
      this.quantizePerConsumer(name, scale, zeroPoint, domain, floatReaders);
      return;
    }
    const producer = graph.producer(name);
    if (producer === undefined) {
      // A graph input cannot be renamed: its readers switch to the dequantized copy instead.
      const dequantized = graph.uniqueName(`${name}_dequantized`);
      const quantize = this.node('QuantizeLinear', [name, scale, zeroPoint], [quantized], { domain });
      this.node('DequantizeLinear', [quantized, scale, zeroPoint], [dequantized], { domain });
      graph.replaceAllUses(name, dequantized, { except: [quantize, ...floatReaders], outputs: false });
      return;
    }
    const float = graph.uniqueName(`${name}_float`);
    graph.replaceOutput(producer, name, float);
    this.node('QuantizeLinear', [float, scale, zeroPoint], [quantized], { domain });
    this.node('DequantizeLinear', [quantized, scale, zeroPoint], [name], { domain });
    for (const reader of floatReaders) graph.replaceInput(reader, name, float);
  }

  /**
   * Writes `output` as the codes `dequantize` reads, dequantized with `params` (the same zero point, a scaled
   * scale): a Mul by a positive constant folded into the scale (QuantPlan.scaledParams).
   */
  rescaledDequantize(dequantize: Node, params: LinearQuantParams, output: string, source: string): void {
    const scale = this.constant(
      `${source}_rescaled_scale`,
      createTensor('float32', [], Float32Array.from(params.scale)),
    );
    const [codes, , zeroPoint] = dequantize.inputs;
    this.node('DequantizeLinear', [codes!, scale, zeroPoint ?? ''], [output], { domain: dequantize.domain });
  }

  /**
   * TensorRT's explicit quantization wants every consumer to read its own Q -> DQ pair, so each can be fused with
   * that consumer. The float value keeps its name; a graph output reads it through a pair of its own.
   */
  private quantizePerConsumer(
    name: string,
    scale: string,
    zeroPoint: string,
    domain: string,
    floatReaders: readonly Node[],
  ): void {
    const { graph } = this;
    const pair = (consumer: string) => {
      const quantized = graph.uniqueName(`${name}_quantized_for_${consumer}`);
      const dequantized = graph.uniqueName(`${name}_dequantized_for_${consumer}`);
      this.node('QuantizeLinear', [name, scale, zeroPoint], [quantized], { domain });
      this.node('DequantizeLinear', [quantized, scale, zeroPoint], [dequantized], { domain });
      return dequantized;
    };
    for (const consumer of graph.consumers(name)) {
      if (!floatReaders.includes(consumer)) graph.replaceInput(consumer, name, pair(consumer.name));
    }
    if (graph.isOutput(name)) {
      const producer = graph.producer(name);
      if (producer !== undefined) {
        // Keep the output's name: the producer writes a float value that the output's own pair reads.
        const float = graph.uniqueName(`${name}_float`);
        graph.replaceOutput(producer, name, float);
        this.node('QuantizeLinear', [float, scale, zeroPoint], [`${name}_quantized_output`], { domain });
        this.node('DequantizeLinear', [`${name}_quantized_output`, scale, zeroPoint], [name], { domain });
      }
    }
  }

  /** Notes that an emitted node is in the com.microsoft domain. */
  requireMsDomain(): void {
    this.usesMsDomain = true;
  }

  /** Records the com.microsoft opset import when any emitted node needs it. */
  finish(): void {
    if (this.usesMsDomain && !this.model.opsetImports.some((entry) => entry.domain === MS_DOMAIN)) {
      this.model.opsetImports.push({ domain: MS_DOMAIN, version: 1 });
    }
  }
}
