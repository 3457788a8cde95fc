/**
 * The convolution functions of kernels.wat (pointers and strides in bytes; see the .wat file for each contract),
 * and the plain int8 GEMM they feed, whose packed-B layout the int8 im2col writes (whichever GEMM handle.int8
 * chose for MatMul).
 */
export interface ConvExports {
  im2col_f32(geometry: number, planes: number, firstPanel: number, panelCount: number, dst: number): void;
  im2col_i8(
    geometry: number,
    planes: number,
    firstPanel: number,
    panelCount: number,
    padByte: number,
    flip: number,
    kPadded: number,
    dst: number,
  ): void;
  pack_rows_i8(
    src: number,
    rowStride: number,
    rows: number,
    firstPanel: number,
    panelCount: number,
    flip: number,
    kPadded: number,
    dst: number,
  ): void;
  col_sums_i8(packed: number, panels: number, kPadded: number, colSums: number): void;
  copy_rows_32(c: number, ldc: number, m: number, n: number, bias: number, dst: number, ldd: number): void;
  requantize_rows(
    c: number,
    ldc: number,
    m: number,
    n: number,
    scales: number,
    bias: number,
    zeroPoint: number,
    isSigned: number,
    out: number,
    ldo: number,
  ): void;
  depthwise_f32(
    geometry: number,
    src: number,
    weights: number,
    bias: number,
    multiplier: number,
    outChannels: number,
    dst: number,
    padded: number,
  ): void;
  depthwise_i8(
    geometry: number,
    src: number,
    taps: number,
    accInit: number,
    multiplier: number,
    outChannels: number,
    padByte: number,
    flip: number,
    scales: number,
    zeroPoint: number,
    isSigned: number,
    dst: number,
    padded: number,
  ): void;
  pack_a_i8(
    src: number,
    m: number,
    k: number,
    lda: number,
    isSigned: number,
    dst: number,
    rowSums: number,
    kPadded: number,
  ): void;
  widen_b_i8(src: number, bytes: number, dst: number): void;
  gemm_i8(
    a: number,
    b: number,
    bWide: number,
    c: number,
    ldc: number,
    m: number,
    panels: number,
    kPadded: number,
  ): void;
}
