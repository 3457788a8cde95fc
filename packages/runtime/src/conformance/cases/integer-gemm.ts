import { type Tensor, createSeededRandom, sizeOf } from '@quantkit/core';
import type { ConformanceCase } from '../conformance-case.js';

type CodeType = 'uint8' | 'int8';

/** Seeded uniform 8-bit codes in [low, high] (the whole type's range by default). */
function randomCodes(
  dtype: CodeType,
  shape: readonly number[],
  seed: number,
  low = dtype === 'uint8' ? 0 : -128,
  high = dtype === 'uint8' ? 255 : 127,
): Tensor {
  const random = createSeededRandom(seed);
  const data = dtype === 'uint8' ? new Uint8Array(sizeOf(shape)) : new Int8Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = low + Math.floor(random() * (high - low + 1));
  return { dtype, shape: [...shape], data };
}

function codes(dtype: CodeType, values: readonly number[], shape: readonly number[] = []): Tensor {
  const data = dtype === 'uint8' ? Uint8Array.from(values) : Int8Array.from(values);
  return { dtype, shape: [...shape], data };
}

function scales(values: readonly number[], shape: readonly number[] = []): Tensor {
  return { dtype: 'float32', shape: [...shape], data: Float32Array.from(values) };
}

/** A zero point per column: values spread over the type's range. */
function columnZeroPoints(dtype: CodeType, n: number, seed: number): Tensor {
  return randomCodes(dtype, [n], seed, dtype === 'uint8' ? 100 : -30, dtype === 'uint8' ? 160 : 30);
}

const typePairs: [CodeType, CodeType][] = [
  ['uint8', 'int8'],
  ['uint8', 'uint8'],
  ['int8', 'int8'],
];

// [A shape, B shape]: M = 1, K not a multiple of 4, N not a multiple of the 8-column panel, batches, 1-D A.
const shapes: [number[], number[]][] = [
  [
    [1, 64],
    [64, 32],
  ],
  [
    [5, 13],
    [13, 11],
  ],
  [
    [7, 3],
    [3, 17],
  ],
  [
    [16, 100],
    [100, 40],
  ],
  [
    [2, 3, 5, 7],
    [7, 6],
  ],
  [
    [2, 5, 7],
    [2, 7, 9],
  ],
  [[7], [7, 5]],
];

function shapeLabel([a, b]: [number[], number[]]): string {
  return `[${a}] x [${b}]`;
}

const matMulIntegerCases: ConformanceCase[] = typePairs.flatMap(([aType, bType], pairIndex) =>
  shapes.flatMap((pair, shapeIndex): ConformanceCase[] => {
    const seed = 1000 + 100 * pairIndex + 10 * shapeIndex;
    const [aShape, bShape] = pair;
    const n = bShape[bShape.length - 1]!;
    const a = randomCodes(aType, aShape, seed);
    const b = randomCodes(bType, bShape, seed + 1);
    const aZero = codes(aType, [aType === 'uint8' ? 131 : -7]);
    const bZero = codes(bType, [bType === 'uint8' ? 120 : 3]);
    const label = `MatMulInteger ${aType} x ${bType} ${shapeLabel(pair)}`;
    return [
      { name: `${label} without zero points`, opType: 'MatMulInteger', opset: 10, inputs: [a, b] },
      {
        name: `${label} with zero points (B constant)`,
        opType: 'MatMulInteger',
        opset: 10,
        inputs: [a, b, aZero, bZero],
        constantSlots: [1, 2, 3],
      },
      // onnxruntime takes a per-column zero point of a batched B only in B's rank; 2-D B here.
      ...(bShape.length > 2
        ? []
        : [
            {
              name: `${label} with per-column B zero points`,
              opType: 'MatMulInteger',
              opset: 10,
              inputs: [a, b, aZero, columnZeroPoints(bType, n, seed + 2)],
              constantSlots: [2, 3],
            },
          ]),
    ];
  }),
);

const matMulIntegerEdgeCases: ConformanceCase[] = [
  {
    name: 'MatMulInteger uint8 x int8 extremes (255 x -128 over K 1000)',
    opType: 'MatMulInteger',
    opset: 10,
    inputs: [
      codes('uint8', new Array(3 * 1000).fill(255), [3, 1000]),
      randomCodes('int8', [1000, 9], 7, -128, -127),
    ],
    constantSlots: [1],
  },
  {
    name: 'MatMulInteger uint8 x uint8 extremes with zero points 0 and 255',
    opType: 'MatMulInteger',
    opset: 10,
    inputs: [
      randomCodes('uint8', [4, 37], 8, 250, 255),
      randomCodes('uint8', [37, 12], 9, 0, 5),
      codes('uint8', [0]),
      codes('uint8', [255]),
    ],
    constantSlots: [1],
  },
  {
    name: 'MatMulInteger int8 x int8 with zero points -128 and 127, size-0 M',
    opType: 'MatMulInteger',
    opset: 10,
    inputs: [
      randomCodes('int8', [0, 5], 10),
      randomCodes('int8', [5, 3], 11),
      codes('int8', [-128]),
      codes('int8', [127]),
    ],
  },
  {
    name: 'MatMulInteger uint8 x int8 with a zero point given as a 1-element vector',
    opType: 'MatMulInteger',
    opset: 10,
    inputs: [randomCodes('uint8', [3, 10], 12), randomCodes('int8', [10, 4], 13), codes('uint8', [128], [1])],
  },
];

interface QLinearVariant {
  readonly label: string;
  readonly aType: CodeType;
  readonly bType: CodeType;
  readonly shape: [number[], number[]];
  readonly perColumn?: boolean;
  readonly constantB?: boolean;
  readonly opset?: number;
  /** a_scale, b_scale (per tensor), y_scale. */
  readonly scale?: [number, number, number];
}

const qLinearVariants: QLinearVariant[] = [
  { label: 'M 1', aType: 'uint8', bType: 'int8', shape: shapes[0]!, constantB: true },
  { label: 'odd K and N', aType: 'uint8', bType: 'int8', shape: shapes[1]! },
  { label: 'odd K and N (B constant)', aType: 'uint8', bType: 'int8', shape: shapes[1]!, constantB: true },
  {
    label: 'per-column b',
    aType: 'uint8',
    bType: 'int8',
    shape: shapes[3]!,
    perColumn: true,
    constantB: true,
  },
  { label: 'per-column b (B fed)', aType: 'uint8', bType: 'int8', shape: shapes[2]!, perColumn: true },
  { label: 'uint8 weights', aType: 'uint8', bType: 'uint8', shape: shapes[3]!, constantB: true },
  { label: 'uint8 weights per column', aType: 'uint8', bType: 'uint8', shape: shapes[1]!, perColumn: true },
  { label: 'int8 activations', aType: 'int8', bType: 'int8', shape: shapes[3]!, constantB: true },
  { label: 'int8 per column', aType: 'int8', bType: 'int8', shape: shapes[2]!, perColumn: true },
  { label: 'batched over one B', aType: 'uint8', bType: 'int8', shape: shapes[4]!, constantB: true },
  { label: 'batched B', aType: 'uint8', bType: 'int8', shape: shapes[5]!, constantB: true },
  { label: '1-D a', aType: 'uint8', bType: 'int8', shape: shapes[6]! },
  { label: 'opset 21', aType: 'uint8', bType: 'int8', shape: shapes[1]!, opset: 21, constantB: true },
  // Scales of powers of two put products on exact halves: ties must round to even, as onnxruntime does.
  { label: 'ties round to even', aType: 'uint8', bType: 'int8', shape: shapes[1]!, scale: [0.5, 1, 2] },
  {
    label: 'ties round to even (int8)',
    aType: 'int8',
    bType: 'int8',
    shape: shapes[2]!,
    scale: [0.25, 0.5, 1],
  },
  // A small y_scale saturates most outputs at both ends.
  { label: 'saturating', aType: 'uint8', bType: 'int8', shape: shapes[3]!, scale: [0.05, 0.02, 0.001] },
];

const qLinearCases = qLinearVariants.map((variant, index): ConformanceCase => {
  const seed = 5000 + 10 * index;
  const { aType, bType } = variant;
  const [aShape, bShape] = variant.shape;
  const n = bShape[bShape.length - 1]!;
  const [aScale, bScale, yScale] = variant.scale ?? [0.02, 0.01, 0.08];
  const bScales = variant.perColumn
    ? scales(
        Array.from({ length: n }, (_, j) => bScale * (0.5 + (j % 5) / 4)),
        [n],
      )
    : scales([bScale]);
  const bZero = variant.perColumn
    ? columnZeroPoints(bType, n, seed + 2)
    : codes(bType, [bType === 'uint8' ? 128 : -2]);
  const small = variant.scale?.[0] === 0.5 || variant.scale?.[0] === 0.25;
  return {
    name: `QLinearMatMul ${aType} x ${bType} ${variant.label} ${shapeLabel(variant.shape)}`,
    opType: 'QLinearMatMul',
    opset: variant.opset ?? 10,
    inputs: [
      small
        ? randomCodes(aType, aShape, seed, aType === 'uint8' ? 120 : -8, aType === 'uint8' ? 136 : 8)
        : randomCodes(aType, aShape, seed),
      scales([aScale]),
      codes(aType, [aType === 'uint8' ? 128 : 1]),
      small ? randomCodes(bType, bShape, seed + 1, -8, 8) : randomCodes(bType, bShape, seed + 1),
      bScales,
      small ? codes(bType, [0]) : bZero,
      scales([yScale]),
      codes(aType, [aType === 'uint8' ? 125 : -3]),
    ],
    constantSlots: variant.constantB ? [1, 2, 3, 4, 5, 6, 7] : [1, 2, 4, 5, 6, 7],
  };
});

/**
 * MatMulInteger and QLinearMatMul over every 8-bit type pair onnxruntime implements: zero points per tensor and
 * per column, batches, tile remainders, extremes, rounding ties and saturation. Integer outputs must match exactly.
 */
export const integerGemmCases: readonly ConformanceCase[] = [
  ...matMulIntegerCases,
  ...matMulIntegerEdgeCases,
  ...qLinearCases,
];
