;; The wasm-simd backend's kernels for quantkit's packed weights (ops of domain ai.quantkit): binary (sign-bit)
;; weights against binarized activations (XNOR-popcount) or float activations (sign-bit table GEMM), and log
;; weights against float activations (table-decoded levels) or 8-bit integer activations (shift-add, exact in
;; int32). The JS side (src/wasm/kernels/packed-gemm.ts) packs the weights into the layouts below once, copies each
;; run's activations in, calls these, and copies the output out. It shares the kernels module's memory (imported),
;; so one heap holds every operand of the backend.
;;
;; Conventions: pointers and strides in bytes unless a name says elements; matrices row-major. "Weight rows" are
;; the GEMM's output columns: row j holds the K weights that output j multiplies by. Output writers take `out`
;; (where output (0, 0) goes) and element strides `rowStride` (between rows of activations) and `colStride`
;; (between weight rows), so a Conv can write its channels-first output directly.
;;
;; Built by `pnpm --filter @quantkit/runtime generate` into src/generated/packed-wasm.ts.
(module
  (import "env" "memory" (memory 1))

  ;; ------------------------------------------------------------------------------------------------------------
  ;; Binary layout: each row of K signs (weights: one output channel; activations: one row or Conv patch) as
  ;; `vecs` = ceil(K / 128) v128 words of bits, element p in bit p % 32 of 32-bit word p / 32 (least significant
  ;; bit first, as the JS kernels' words), 1 for +1; bits past K are 0 in every operand. Weight matrices carry zero
  ;; rows up to a multiple of 4, as the tiles read weight rows 4 at a time.

  ;; Binarizes m rows of k float32 activations (x, rows of k) as XNOR-Net does and as the JS binarizeRows: bit 1
  ;; where x >= 0; per row the count of elements (k, or those valid) and the scale, mean |x| over the row's k
  ;; elements in float64 (`perRow` 1) or the `scale` given, stored as float32. `valid` (0 for none) points to one
  ;; byte per element, 0 for a Conv patch's padding: such elements get no bit and no part in the sum, and `mask`
  ;; receives the valid bits in the bits' layout.
  (func (export "binarize_rows")
    (param $x i32) (param $m i32) (param $k i32) (param $perRow i32) (param $scale f64) (param $valid i32)
    (param $bits i32) (param $mask i32) (param $vecs i32) (param $counts i32) (param $scales i32)
    (local $i i32) (local $p i32) (local $w i32) (local $bit i32) (local $at i32) (local $words i32)
    (local $rowBytes i32) (local $rowBits i32) (local $rowMask i32) (local $word i32) (local $maskWord i32)
    (local $count i32) (local $value f32) (local $sum f64)
    (local.set $words (i32.shl (local.get $vecs) (i32.const 2)))
    (local.set $rowBytes (i32.shl (local.get $vecs) (i32.const 4)))
    ;; Without a mask, four rows at a time; the rows left (and every row with a mask) one by one below.
    (if (i32.eqz (local.get $valid))
      (then
        (block $groupsDone
          (loop $groups
            (br_if $groupsDone (i32.gt_s (i32.add (local.get $i) (i32.const 4)) (local.get $m)))
            (call $binarize_4
              (i32.add (local.get $x) (i32.shl (i32.mul (local.get $i) (local.get $k)) (i32.const 2)))
              (local.get $k)
              (i32.add (local.get $bits) (i32.mul (local.get $i) (local.get $rowBytes)))
              (local.get $rowBytes) (local.get $words) (local.get $perRow) (local.get $scale)
              (i32.add (local.get $counts) (i32.shl (local.get $i) (i32.const 2)))
              (i32.add (local.get $scales) (i32.shl (local.get $i) (i32.const 2))))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $groups)))))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_s (local.get $i) (local.get $m)))
        (local.set $rowBits (i32.add (local.get $bits) (i32.mul (local.get $i) (local.get $rowBytes))))
        (local.set $rowMask (i32.add (local.get $mask) (i32.mul (local.get $i) (local.get $rowBytes))))
        (local.set $sum (f64.const 0))
        (local.set $count (i32.const 0))
        (local.set $p (i32.const 0))
        (local.set $w (i32.const 0))
        ;; One 32-bit word per pass; words past the row's end are written 0.
        (block $wordsDone
          (loop $wordLoop
            (br_if $wordsDone (i32.ge_s (local.get $w) (local.get $words)))
            (local.set $word (i32.const 0))
            (local.set $maskWord (i32.const 0))
            (local.set $bit (i32.const 0))
            (block $bitsDone
              (loop $bitLoop
                (br_if $bitsDone (i32.ge_s (local.get $p) (local.get $k)))
                (br_if $bitsDone (i32.ge_u (local.get $bit) (i32.const 32)))
                (local.set $at (i32.add (i32.mul (local.get $i) (local.get $k)) (local.get $p)))
                (block $skip
                  (if (local.get $valid)
                    (then
                      (br_if $skip (i32.eqz (i32.load8_u (i32.add (local.get $valid) (local.get $at)))))
                      (local.set $maskWord (i32.or (local.get $maskWord) (i32.shl (i32.const 1) (local.get $bit))))
                      (local.set $count (i32.add (local.get $count) (i32.const 1)))))
                  (local.set $value (f32.load (i32.add (local.get $x) (i32.shl (local.get $at) (i32.const 2)))))
                  ;; In order, in float64, as the JS kernel sums (so the scales are equal, not just close).
                  (local.set $sum (f64.add (local.get $sum) (f64.promote_f32 (f32.abs (local.get $value)))))
                  ;; Without a branch: random signs would mispredict half the time.
                  (local.set $word
                    (i32.or (local.get $word) (i32.shl (f32.ge (local.get $value) (f32.const 0)) (local.get $bit)))))
                (local.set $p (i32.add (local.get $p) (i32.const 1)))
                (local.set $bit (i32.add (local.get $bit) (i32.const 1)))
                (br $bitLoop)))
            (i32.store (i32.add (local.get $rowBits) (i32.shl (local.get $w) (i32.const 2))) (local.get $word))
            (if (local.get $valid)
              (then
                (i32.store (i32.add (local.get $rowMask) (i32.shl (local.get $w) (i32.const 2))) (local.get $maskWord))))
            (local.set $w (i32.add (local.get $w) (i32.const 1)))
            (br $wordLoop)))
        (if (i32.eqz (local.get $valid)) (then (local.set $count (local.get $k))))
        (i32.store (i32.add (local.get $counts) (i32.shl (local.get $i) (i32.const 2))) (local.get $count))
        (f32.store (i32.add (local.get $scales) (i32.shl (local.get $i) (i32.const 2)))
          (f32.demote_f64
            (if (result f64) (local.get $perRow)
              (then
                (if (result f64) (local.get $k)
                  (then (f64.div (local.get $sum) (f64.convert_i32_s (local.get $k))))
                  (else (f64.const 0))))
              (else (local.get $scale)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))

  ;; binarize_rows for four rows without a mask, interleaved: their float64 sums are four independent chains (one
  ;; row's sum is a chain of dependent adds, the loop's bottleneck).
  (func $binarize_4
    (param $x i32) (param $k i32) (param $bits i32) (param $rowBytes i32) (param $words i32) (param $perRow i32)
    (param $scale f64) (param $counts i32) (param $scales i32)
    (local $x0 i32) (local $x1 i32) (local $x2 i32) (local $x3 i32) (local $p i32) (local $w i32) (local $bit i32)
    (local $at i32) (local $rowBits i32) (local $value f32)
    (local $sum0 f64) (local $sum1 f64) (local $sum2 f64) (local $sum3 f64)
    (local $word0 i32) (local $word1 i32) (local $word2 i32) (local $word3 i32)
    (local.set $x0 (local.get $x))
    (local.set $x1 (i32.add (local.get $x0) (i32.shl (local.get $k) (i32.const 2))))
    (local.set $x2 (i32.add (local.get $x1) (i32.shl (local.get $k) (i32.const 2))))
    (local.set $x3 (i32.add (local.get $x2) (i32.shl (local.get $k) (i32.const 2))))
    (block $wordsDone
      (loop $wordLoop
        (br_if $wordsDone (i32.ge_s (local.get $w) (local.get $words)))
        (local.set $word0 (i32.const 0))
        (local.set $word1 (i32.const 0))
        (local.set $word2 (i32.const 0))
        (local.set $word3 (i32.const 0))
        (local.set $bit (i32.const 0))
        (block $bitsDone
          (loop $bitLoop
            (br_if $bitsDone (i32.ge_s (local.get $p) (local.get $k)))
            (br_if $bitsDone (i32.ge_u (local.get $bit) (i32.const 32)))
            (local.set $at (i32.shl (local.get $p) (i32.const 2)))
                (local.set $value (f32.load (i32.add (local.get $x0) (local.get $at))))
                (local.set $sum0 (f64.add (local.get $sum0) (f64.promote_f32 (f32.abs (local.get $value)))))
                (local.set $word0
                  (i32.or (local.get $word0) (i32.shl (f32.ge (local.get $value) (f32.const 0)) (local.get $bit))))
                (local.set $value (f32.load (i32.add (local.get $x1) (local.get $at))))
                (local.set $sum1 (f64.add (local.get $sum1) (f64.promote_f32 (f32.abs (local.get $value)))))
                (local.set $word1
                  (i32.or (local.get $word1) (i32.shl (f32.ge (local.get $value) (f32.const 0)) (local.get $bit))))
                (local.set $value (f32.load (i32.add (local.get $x2) (local.get $at))))
                (local.set $sum2 (f64.add (local.get $sum2) (f64.promote_f32 (f32.abs (local.get $value)))))
                (local.set $word2
                  (i32.or (local.get $word2) (i32.shl (f32.ge (local.get $value) (f32.const 0)) (local.get $bit))))
                (local.set $value (f32.load (i32.add (local.get $x3) (local.get $at))))
                (local.set $sum3 (f64.add (local.get $sum3) (f64.promote_f32 (f32.abs (local.get $value)))))
                (local.set $word3
                  (i32.or (local.get $word3) (i32.shl (f32.ge (local.get $value) (f32.const 0)) (local.get $bit))))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (local.set $bit (i32.add (local.get $bit) (i32.const 1)))
            (br $bitLoop)))
        (local.set $rowBits (i32.add (local.get $bits) (i32.shl (local.get $w) (i32.const 2))))
            (i32.store (i32.add (local.get $rowBits) (i32.mul (i32.const 0) (local.get $rowBytes))) (local.get $word0))
            (i32.store (i32.add (local.get $rowBits) (i32.mul (i32.const 1) (local.get $rowBytes))) (local.get $word1))
            (i32.store (i32.add (local.get $rowBits) (i32.mul (i32.const 2) (local.get $rowBytes))) (local.get $word2))
            (i32.store (i32.add (local.get $rowBits) (i32.mul (i32.const 3) (local.get $rowBytes))) (local.get $word3))
        (local.set $w (i32.add (local.get $w) (i32.const 1)))
        (br $wordLoop)))
    (i32.store offset=0 (local.get $counts) (local.get $k))
    (f32.store offset=0 (local.get $scales)
      (f32.demote_f64
        (if (result f64) (local.get $perRow)
          (then
            (if (result f64) (local.get $k)
              (then (f64.div (local.get $sum0) (f64.convert_i32_s (local.get $k))))
              (else (f64.const 0))))
          (else (local.get $scale)))))
    (i32.store offset=4 (local.get $counts) (local.get $k))
    (f32.store offset=4 (local.get $scales)
      (f32.demote_f64
        (if (result f64) (local.get $perRow)
          (then
            (if (result f64) (local.get $k)
              (then (f64.div (local.get $sum1) (f64.convert_i32_s (local.get $k))))
              (else (f64.const 0))))
          (else (local.get $scale)))))
    (i32.store offset=8 (local.get $counts) (local.get $k))
    (f32.store offset=8 (local.get $scales)
      (f32.demote_f64
        (if (result f64) (local.get $perRow)
          (then
            (if (result f64) (local.get $k)
              (then (f64.div (local.get $sum2) (f64.convert_i32_s (local.get $k))))
              (else (f64.const 0))))
          (else (local.get $scale)))))
    (i32.store offset=12 (local.get $counts) (local.get $k))
    (f32.store offset=12 (local.get $scales)
      (f32.demote_f64
        (if (result f64) (local.get $perRow)
          (then
            (if (result f64) (local.get $k)
              (then (f64.div (local.get $sum3) (f64.convert_i32_s (local.get $k))))
              (else (f64.const 0))))
          (else (local.get $scale)))))
)

  ;; The XNOR-popcount GEMM core: C[i, j] (i32, at c + 4 * (i * ldc + j)) = popcount(a_i XOR w_j), the number of
  ;; elements whose signs differ, for m rows of a and n weight rows of w (both in the binary layout, `vecs` words
  ;; per row), or popcount((a_i XOR w_j) AND mask_i) when `mask` (rows like a's) is not 0. Columns are computed 4
  ;; at a time up to n rounded up to 4 (C's rows must have room, w the rows). Weight tiles are the outer loop, so a
  ;; tile's rows stay in L1 while every activation row passes by; rows of a go two at a time.
  (func (export "xnor_gemm")
    (param $a i32) (param $mask i32) (param $m i32) (param $w i32) (param $n i32) (param $vecs i32)
    (param $c i32) (param $ldc i32)
    (local $i i32) (local $j i32) (local $rowBytes i32) (local $ldcBytes i32) (local $tile i32) (local $aRow i32)
    (local $cAt i32)
    (local.set $rowBytes (i32.shl (local.get $vecs) (i32.const 4)))
    (local.set $ldcBytes (i32.shl (local.get $ldc) (i32.const 2)))
    (block $tilesDone
      (loop $tiles
        (br_if $tilesDone (i32.ge_s (local.get $j) (local.get $n)))
        (local.set $tile (i32.add (local.get $w) (i32.mul (local.get $j) (local.get $rowBytes))))
        (local.set $i (i32.const 0))
        (block $rowsDone
          (loop $rows
            (br_if $rowsDone (i32.ge_s (local.get $i) (local.get $m)))
            (local.set $aRow (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $rowBytes))))
            (local.set $cAt
              (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $ldc)) (local.get $j)) (i32.const 2))))
            (if (local.get $mask)
              (then
                (call $xnor_masked_1x4 (local.get $aRow)
                  (i32.add (local.get $mask) (i32.mul (local.get $i) (local.get $rowBytes)))
                  (local.get $tile) (local.get $rowBytes) (local.get $cAt))
                (local.set $i (i32.add (local.get $i) (i32.const 1))))
              (else
                (if (i32.lt_s (i32.add (local.get $i) (i32.const 1)) (local.get $m))
                  (then
                    (call $xnor_2x4 (local.get $aRow) (i32.add (local.get $aRow) (local.get $rowBytes))
                      (local.get $tile) (local.get $rowBytes) (local.get $cAt) (local.get $ldcBytes))
                    (local.set $i (i32.add (local.get $i) (i32.const 2))))
                  (else
                    (call $xnor_1x4 (local.get $aRow) (local.get $tile) (local.get $rowBytes) (local.get $cAt))
                    (local.set $i (i32.add (local.get $i) (i32.const 1)))))))
            (br $rows)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $tiles))))

  ;; The sums of the 16 unsigned bytes of each of p0 .. p3, as the lanes of an i32x4 (lane q for pq).
  (func $sums_u8 (param $p0 v128) (param $p1 v128) (param $p2 v128) (param $p3 v128) (result v128)
    (local $q0 v128) (local $q1 v128) (local $q2 v128) (local $q3 v128) (local $u0 v128) (local $u1 v128)
    (local.set $q0 (i32x4.extadd_pairwise_i16x8_u (i16x8.extadd_pairwise_i8x16_u (local.get $p0))))
    (local.set $q1 (i32x4.extadd_pairwise_i16x8_u (i16x8.extadd_pairwise_i8x16_u (local.get $p1))))
    (local.set $q2 (i32x4.extadd_pairwise_i16x8_u (i16x8.extadd_pairwise_i8x16_u (local.get $p2))))
    (local.set $q3 (i32x4.extadd_pairwise_i16x8_u (i16x8.extadd_pairwise_i8x16_u (local.get $p3))))
    ;; u0 = [q0 lanes 0+2, q1 lanes 0+2, q0 lanes 1+3, q1 lanes 1+3], u1 the same of q2 and q3.
    (local.set $u0
      (i32x4.add
        (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $q0) (local.get $q1))
        (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $q0) (local.get $q1))))
    (local.set $u1
      (i32x4.add
        (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $q2) (local.get $q3))
        (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $q2) (local.get $q3))))
    (i32x4.add
      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $u0) (local.get $u1))
      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $u0) (local.get $u1))))

  ;; Two activation rows (a0, a1) against four weight rows from w (`rowBytes` apart): 8 counts to c (row 0) and
  ;; c + ldc (row 1). Byte-wise popcounts add up in i8x16 accumulators for at most 31 words (31 * 8 < 256), then
  ;; go into i32 sums.
  (func $xnor_2x4
    (param $a0 i32) (param $a1 i32) (param $w i32) (param $rowBytes i32) (param $c i32) (param $ldc i32)
    (local $w1 i32) (local $w2 i32) (local $w3 i32) (local $at i32) (local $chunkEnd i32)
    (local $x0 v128) (local $x1 v128) (local $y0 v128) (local $y1 v128) (local $y2 v128) (local $y3 v128)
    (local $p00 v128) (local $p01 v128) (local $p02 v128) (local $p03 v128)
    (local $p10 v128) (local $p11 v128) (local $p12 v128) (local $p13 v128)
    (local $sums0 v128) (local $sums1 v128)
    (local.set $w1 (i32.add (local.get $w) (local.get $rowBytes)))
    (local.set $w2 (i32.add (local.get $w1) (local.get $rowBytes)))
    (local.set $w3 (i32.add (local.get $w2) (local.get $rowBytes)))
    (block $done
      (loop $chunks
        (br_if $done (i32.ge_u (local.get $at) (local.get $rowBytes)))
        (local.set $chunkEnd (i32.add (local.get $at) (i32.const 496)))
        (if (i32.gt_u (local.get $chunkEnd) (local.get $rowBytes)) (then (local.set $chunkEnd (local.get $rowBytes))))
        (local.set $p00 (v128.const i32x4 0 0 0 0))
        (local.set $p01 (v128.const i32x4 0 0 0 0))
        (local.set $p02 (v128.const i32x4 0 0 0 0))
        (local.set $p03 (v128.const i32x4 0 0 0 0))
        (local.set $p10 (v128.const i32x4 0 0 0 0))
        (local.set $p11 (v128.const i32x4 0 0 0 0))
        (local.set $p12 (v128.const i32x4 0 0 0 0))
        (local.set $p13 (v128.const i32x4 0 0 0 0))
        (loop $steps
          (local.set $x0 (v128.load (i32.add (local.get $a0) (local.get $at))))
          (local.set $x1 (v128.load (i32.add (local.get $a1) (local.get $at))))
          (local.set $y0 (v128.load (i32.add (local.get $w) (local.get $at))))
          (local.set $y1 (v128.load (i32.add (local.get $w1) (local.get $at))))
          (local.set $y2 (v128.load (i32.add (local.get $w2) (local.get $at))))
          (local.set $y3 (v128.load (i32.add (local.get $w3) (local.get $at))))
          (local.set $p00 (i8x16.add (local.get $p00) (i8x16.popcnt (v128.xor (local.get $x0) (local.get $y0)))))
          (local.set $p01 (i8x16.add (local.get $p01) (i8x16.popcnt (v128.xor (local.get $x0) (local.get $y1)))))
          (local.set $p02 (i8x16.add (local.get $p02) (i8x16.popcnt (v128.xor (local.get $x0) (local.get $y2)))))
          (local.set $p03 (i8x16.add (local.get $p03) (i8x16.popcnt (v128.xor (local.get $x0) (local.get $y3)))))
          (local.set $p10 (i8x16.add (local.get $p10) (i8x16.popcnt (v128.xor (local.get $x1) (local.get $y0)))))
          (local.set $p11 (i8x16.add (local.get $p11) (i8x16.popcnt (v128.xor (local.get $x1) (local.get $y1)))))
          (local.set $p12 (i8x16.add (local.get $p12) (i8x16.popcnt (v128.xor (local.get $x1) (local.get $y2)))))
          (local.set $p13 (i8x16.add (local.get $p13) (i8x16.popcnt (v128.xor (local.get $x1) (local.get $y3)))))
          (local.set $at (i32.add (local.get $at) (i32.const 16)))
          (br_if $steps (i32.lt_u (local.get $at) (local.get $chunkEnd))))
        (local.set $sums0 (i32x4.add (local.get $sums0)
          (call $sums_u8 (local.get $p00) (local.get $p01) (local.get $p02) (local.get $p03))))
        (local.set $sums1 (i32x4.add (local.get $sums1)
          (call $sums_u8 (local.get $p10) (local.get $p11) (local.get $p12) (local.get $p13))))
        (br $chunks)))
    (v128.store (local.get $c) (local.get $sums0))
    (v128.store (i32.add (local.get $c) (local.get $ldc)) (local.get $sums1)))

  ;; One activation row against four weight rows: 4 counts to c.
  (func $xnor_1x4 (param $a i32) (param $w i32) (param $rowBytes i32) (param $c i32)
    (local $w1 i32) (local $w2 i32) (local $w3 i32) (local $at i32) (local $chunkEnd i32) (local $x v128)
    (local $p0 v128) (local $p1 v128) (local $p2 v128) (local $p3 v128)
    (local $sums v128)
    (local.set $w1 (i32.add (local.get $w) (local.get $rowBytes)))
    (local.set $w2 (i32.add (local.get $w1) (local.get $rowBytes)))
    (local.set $w3 (i32.add (local.get $w2) (local.get $rowBytes)))
    (block $done
      (loop $chunks
        (br_if $done (i32.ge_u (local.get $at) (local.get $rowBytes)))
        (local.set $chunkEnd (i32.add (local.get $at) (i32.const 496)))
        (if (i32.gt_u (local.get $chunkEnd) (local.get $rowBytes)) (then (local.set $chunkEnd (local.get $rowBytes))))
        (local.set $p0 (v128.const i32x4 0 0 0 0))
        (local.set $p1 (v128.const i32x4 0 0 0 0))
        (local.set $p2 (v128.const i32x4 0 0 0 0))
        (local.set $p3 (v128.const i32x4 0 0 0 0))
        (loop $steps
          (local.set $x (v128.load (i32.add (local.get $a) (local.get $at))))
          (local.set $p0 (i8x16.add (local.get $p0)
            (i8x16.popcnt (v128.xor (local.get $x) (v128.load (i32.add (local.get $w) (local.get $at)))))))
          (local.set $p1 (i8x16.add (local.get $p1)
            (i8x16.popcnt (v128.xor (local.get $x) (v128.load (i32.add (local.get $w1) (local.get $at)))))))
          (local.set $p2 (i8x16.add (local.get $p2)
            (i8x16.popcnt (v128.xor (local.get $x) (v128.load (i32.add (local.get $w2) (local.get $at)))))))
          (local.set $p3 (i8x16.add (local.get $p3)
            (i8x16.popcnt (v128.xor (local.get $x) (v128.load (i32.add (local.get $w3) (local.get $at)))))))
          (local.set $at (i32.add (local.get $at) (i32.const 16)))
          (br_if $steps (i32.lt_u (local.get $at) (local.get $chunkEnd))))
        (local.set $sums (i32x4.add (local.get $sums)
          (call $sums_u8 (local.get $p0) (local.get $p1) (local.get $p2) (local.get $p3))))
        (br $chunks)))
    (v128.store (local.get $c) (local.get $sums)))

  ;; As $xnor_1x4, counting only the elements whose bit is set in the row's mask.
  (func $xnor_masked_1x4 (param $a i32) (param $mask i32) (param $w i32) (param $rowBytes i32) (param $c i32)
    (local $w1 i32) (local $w2 i32) (local $w3 i32) (local $at i32) (local $chunkEnd i32)
    (local $x v128) (local $valid v128)
    (local $p0 v128) (local $p1 v128) (local $p2 v128) (local $p3 v128)
    (local $sums v128)
    (local.set $w1 (i32.add (local.get $w) (local.get $rowBytes)))
    (local.set $w2 (i32.add (local.get $w1) (local.get $rowBytes)))
    (local.set $w3 (i32.add (local.get $w2) (local.get $rowBytes)))
    (block $done
      (loop $chunks
        (br_if $done (i32.ge_u (local.get $at) (local.get $rowBytes)))
        (local.set $chunkEnd (i32.add (local.get $at) (i32.const 496)))
        (if (i32.gt_u (local.get $chunkEnd) (local.get $rowBytes)) (then (local.set $chunkEnd (local.get $rowBytes))))
        (local.set $p0 (v128.const i32x4 0 0 0 0))
        (local.set $p1 (v128.const i32x4 0 0 0 0))
        (local.set $p2 (v128.const i32x4 0 0 0 0))
        (local.set $p3 (v128.const i32x4 0 0 0 0))
        (loop $steps
          (local.set $x (v128.load (i32.add (local.get $a) (local.get $at))))
          (local.set $valid (v128.load (i32.add (local.get $mask) (local.get $at))))
          (local.set $p0 (i8x16.add (local.get $p0)
            (i8x16.popcnt (v128.and (local.get $valid)
              (v128.xor (local.get $x) (v128.load (i32.add (local.get $w) (local.get $at))))))))
          (local.set $p1 (i8x16.add (local.get $p1)
            (i8x16.popcnt (v128.and (local.get $valid)
              (v128.xor (local.get $x) (v128.load (i32.add (local.get $w1) (local.get $at))))))))
          (local.set $p2 (i8x16.add (local.get $p2)
            (i8x16.popcnt (v128.and (local.get $valid)
              (v128.xor (local.get $x) (v128.load (i32.add (local.get $w2) (local.get $at))))))))
          (local.set $p3 (i8x16.add (local.get $p3)
            (i8x16.popcnt (v128.and (local.get $valid)
              (v128.xor (local.get $x) (v128.load (i32.add (local.get $w3) (local.get $at))))))))
          (local.set $at (i32.add (local.get $at) (i32.const 16)))
          (br_if $steps (i32.lt_u (local.get $at) (local.get $chunkEnd))))
        (local.set $sums (i32x4.add (local.get $sums)
          (call $sums_u8 (local.get $p0) (local.get $p1) (local.get $p2) (local.get $p3))))
        (br $chunks)))
    (v128.store (local.get $c) (local.get $sums)))

  ;; The XNOR-popcount outputs from xnor_gemm's counts, as the JS kernel computes them (in float64, rounded once):
  ;; out[i, j] = scale_i * alpha_j * (count_i - 2 * C[i, j]), with counts and scales from binarize_rows and
  ;; `alpha` the weight rows' alphas (float32).
  (func (export "xnor_epilogue")
    (param $c i32) (param $ldc i32) (param $m i32) (param $n i32) (param $counts i32) (param $scales i32)
    (param $alpha i32) (param $out i32) (param $rowStride i32) (param $colStride i32)
    (local $i i32) (local $j i32) (local $count i32) (local $beta f64) (local $cRow i32) (local $outRow i32)
    (local $betas v128) (local $counts2 v128)
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_s (local.get $i) (local.get $m)))
        (local.set $count (i32.load (i32.add (local.get $counts) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $beta (f64.promote_f32 (f32.load (i32.add (local.get $scales) (i32.shl (local.get $i) (i32.const 2))))))
        (local.set $cRow (i32.add (local.get $c) (i32.shl (i32.mul (local.get $i) (local.get $ldc)) (i32.const 2))))
        (local.set $outRow (i32.add (local.get $out) (i32.shl (i32.mul (local.get $i) (local.get $rowStride)) (i32.const 2))))
        (local.set $j (i32.const 0))
        ;; Contiguous outputs two at a time in f64x2: the same operations, lane by lane, so the same roundings.
        (if (i32.eq (local.get $colStride) (i32.const 1))
          (then
            (local.set $betas (f64x2.splat (local.get $beta)))
            (local.set $counts2 (i32x4.splat (local.get $count)))
            (block $pairsDone
              (loop $pairs
                (br_if $pairsDone (i32.gt_s (i32.add (local.get $j) (i32.const 2)) (local.get $n)))
                (v128.store64_lane 0
                  (i32.add (local.get $outRow) (i32.shl (local.get $j) (i32.const 2)))
                  (f32x4.demote_f64x2_zero
                    (f64x2.mul
                      (f64x2.mul (local.get $betas)
                        (f64x2.promote_low_f32x4
                          (v128.load64_zero (i32.add (local.get $alpha) (i32.shl (local.get $j) (i32.const 2))))))
                      (f64x2.convert_low_i32x4_s
                        (i32x4.sub (local.get $counts2)
                          (i32x4.shl
                            (v128.load64_zero (i32.add (local.get $cRow) (i32.shl (local.get $j) (i32.const 2))))
                            (i32.const 1)))))))
                (local.set $j (i32.add (local.get $j) (i32.const 2)))
                (br $pairs)))))
        (block $colsDone
          (loop $cols
            (br_if $colsDone (i32.ge_s (local.get $j) (local.get $n)))
            (f32.store
              (i32.add (local.get $outRow) (i32.shl (i32.mul (local.get $j) (local.get $colStride)) (i32.const 2)))
              (f32.demote_f64
                (f64.mul
                  (f64.mul (local.get $beta)
                    (f64.promote_f32 (f32.load (i32.add (local.get $alpha) (i32.shl (local.get $j) (i32.const 2))))))
                  (f64.convert_i32_s
                    (i32.sub (local.get $count)
                      (i32.shl (i32.load (i32.add (local.get $cRow) (i32.shl (local.get $j) (i32.const 2)))) (i32.const 1)))))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $cols)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))

  ;; ------------------------------------------------------------------------------------------------------------
  ;; Binary weights, float activations: out[i, j] = alpha_j * sum_p sign(w_j,p) * x[i, p], with the signs never
  ;; unpacked. Four activation rows at a time (the lanes of f32x4), a table holds for each group of 4 elements and
  ;; each 4-bit nibble s of weight bits the sum of +-x (bit b of s set: +x_b, else -x_b), so each nibble of a
  ;; weight row costs one table load and one f32x4.add for 16 products. The table is built for 8 words (256
  ;; elements) of K at a time, 16 KiB, to stay in L1; partial sums per weight row wait in `sums` (n rounded up to
  ;; 4, times 16 bytes) between those chunks. Weight rows are `rowBytes` apart (whole rows of the binary layout,
  ;; 4 at a time, so n rounded up to 4 must exist); x is m rows of k float32. `table` needs 16 KiB. Sums in
  ;; float32 (the JS kernel sums in float64: results agree within float32 rounding).
  (func (export "sign_gemm")
    (param $x i32) (param $m i32) (param $k i32) (param $w i32) (param $rowBytes i32) (param $n i32)
    (param $table i32) (param $sums i32) (param $alpha i32) (param $out i32) (param $rowStride i32)
    (param $colStride i32)
    (local $words i32) (local $row0 i32) (local $rows i32) (local $chunk i32) (local $chunkWords i32)
    (local $group i32) (local $groups i32) (local $p i32) (local $j i32) (local $r i32) (local $wl i32)
    (local $entries i32) (local $sumAt i32) (local $alphaJ f32) (local $outAt i32)
    (local $w0 i32) (local $w1 i32) (local $w2 i32) (local $w3 i32)
    (local $word0 i32) (local $word1 i32) (local $word2 i32) (local $word3 i32)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    (local $e0 v128) (local $e1 v128) (local $e2 v128) (local $e3 v128)
    (local $e4 v128) (local $e5 v128) (local $e6 v128) (local $e7 v128)
    (local $acc0 v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128)
    (local.set $words (i32.shr_u (i32.add (local.get $k) (i32.const 31)) (i32.const 5)))
    (block $blocksDone
      (loop $blocks
        (br_if $blocksDone (i32.ge_s (local.get $row0) (local.get $m)))
        (local.set $rows (i32.sub (local.get $m) (local.get $row0)))
        (if (i32.gt_s (local.get $rows) (i32.const 4)) (then (local.set $rows (i32.const 4))))
        (local.set $chunk (i32.const 0))
        (block $chunksDone
          (loop $chunks
            (br_if $chunksDone (i32.ge_s (local.get $chunk) (local.get $words)))
            (local.set $chunkWords (i32.sub (local.get $words) (local.get $chunk)))
            (if (i32.gt_s (local.get $chunkWords) (i32.const 8)) (then (local.set $chunkWords (i32.const 8))))
            ;; The chunk's table: group g (elements 4g .. 4g + 3 of the chunk) at table + 256 g, entry s at + 16 s.
            (local.set $groups (i32.shl (local.get $chunkWords) (i32.const 3)))
            (local.set $group (i32.const 0))
            (block $groupsDone
              (loop $groupLoop
                (br_if $groupsDone (i32.ge_s (local.get $group) (local.get $groups)))
                (local.set $p (i32.shl (i32.add (i32.shl (local.get $chunk) (i32.const 3)) (local.get $group)) (i32.const 2)))
                (local.set $x0 (call $column (local.get $x) (local.get $row0) (local.get $rows) (local.get $k) (local.get $p)))
                (local.set $x1 (call $column (local.get $x) (local.get $row0) (local.get $rows) (local.get $k)
                  (i32.add (local.get $p) (i32.const 1))))
                (local.set $x2 (call $column (local.get $x) (local.get $row0) (local.get $rows) (local.get $k)
                  (i32.add (local.get $p) (i32.const 2))))
                (local.set $x3 (call $column (local.get $x) (local.get $row0) (local.get $rows) (local.get $k)
                  (i32.add (local.get $p) (i32.const 3))))
                ;; Entry 0 is -(x0 + x1 + x2 + x3); setting bit b flips x_b from - to +: entry[s | 2^b] = entry[s] + 2 x_b.
                (local.set $e0 (f32x4.neg (f32x4.add (f32x4.add (local.get $x0) (local.get $x1))
                  (f32x4.add (local.get $x2) (local.get $x3)))))
                (local.set $x0 (f32x4.add (local.get $x0) (local.get $x0)))
                (local.set $x1 (f32x4.add (local.get $x1) (local.get $x1)))
                (local.set $x2 (f32x4.add (local.get $x2) (local.get $x2)))
                (local.set $x3 (f32x4.add (local.get $x3) (local.get $x3)))
                (local.set $e1 (f32x4.add (local.get $e0) (local.get $x0)))
                (local.set $e2 (f32x4.add (local.get $e0) (local.get $x1)))
                (local.set $e3 (f32x4.add (local.get $e1) (local.get $x1)))
                (local.set $e4 (f32x4.add (local.get $e0) (local.get $x2)))
                (local.set $e5 (f32x4.add (local.get $e1) (local.get $x2)))
                (local.set $e6 (f32x4.add (local.get $e2) (local.get $x2)))
                (local.set $e7 (f32x4.add (local.get $e3) (local.get $x2)))
                (local.set $entries (i32.add (local.get $table) (i32.shl (local.get $group) (i32.const 8))))
                (v128.store offset=0 (local.get $entries) (local.get $e0))
                (v128.store offset=16 (local.get $entries) (local.get $e1))
                (v128.store offset=32 (local.get $entries) (local.get $e2))
                (v128.store offset=48 (local.get $entries) (local.get $e3))
                (v128.store offset=64 (local.get $entries) (local.get $e4))
                (v128.store offset=80 (local.get $entries) (local.get $e5))
                (v128.store offset=96 (local.get $entries) (local.get $e6))
                (v128.store offset=112 (local.get $entries) (local.get $e7))
                (v128.store offset=128 (local.get $entries) (f32x4.add (local.get $e0) (local.get $x3)))
                (v128.store offset=144 (local.get $entries) (f32x4.add (local.get $e1) (local.get $x3)))
                (v128.store offset=160 (local.get $entries) (f32x4.add (local.get $e2) (local.get $x3)))
                (v128.store offset=176 (local.get $entries) (f32x4.add (local.get $e3) (local.get $x3)))
                (v128.store offset=192 (local.get $entries) (f32x4.add (local.get $e4) (local.get $x3)))
                (v128.store offset=208 (local.get $entries) (f32x4.add (local.get $e5) (local.get $x3)))
                (v128.store offset=224 (local.get $entries) (f32x4.add (local.get $e6) (local.get $x3)))
                (v128.store offset=240 (local.get $entries) (f32x4.add (local.get $e7) (local.get $x3)))
                (local.set $group (i32.add (local.get $group) (i32.const 1)))
                (br $groupLoop)))
            ;; Every weight row, 4 at a time, against the chunk's table.
            (local.set $j (i32.const 0))
            (block $tilesDone
              (loop $tiles
                (br_if $tilesDone (i32.ge_s (local.get $j) (local.get $n)))
                (local.set $w0
                  (i32.add (local.get $w)
                    (i32.add (i32.mul (local.get $j) (local.get $rowBytes)) (i32.shl (local.get $chunk) (i32.const 2)))))
                (local.set $w1 (i32.add (local.get $w0) (local.get $rowBytes)))
                (local.set $w2 (i32.add (local.get $w1) (local.get $rowBytes)))
                (local.set $w3 (i32.add (local.get $w2) (local.get $rowBytes)))
                (local.set $sumAt (i32.add (local.get $sums) (i32.shl (local.get $j) (i32.const 4))))
                (if (local.get $chunk)
                  (then
                    (local.set $acc0 (v128.load offset=0 (local.get $sumAt)))
                    (local.set $acc1 (v128.load offset=16 (local.get $sumAt)))
                    (local.set $acc2 (v128.load offset=32 (local.get $sumAt)))
                    (local.set $acc3 (v128.load offset=48 (local.get $sumAt))))
                  (else
                    (local.set $acc0 (v128.const i32x4 0 0 0 0))
                    (local.set $acc1 (v128.const i32x4 0 0 0 0))
                    (local.set $acc2 (v128.const i32x4 0 0 0 0))
                    (local.set $acc3 (v128.const i32x4 0 0 0 0))))
                (local.set $wl (i32.const 0))
                (loop $wordLoop
                  (local.set $word0 (i32.load (i32.add (local.get $w0) (i32.shl (local.get $wl) (i32.const 2)))))
                  (local.set $word1 (i32.load (i32.add (local.get $w1) (i32.shl (local.get $wl) (i32.const 2)))))
                  (local.set $word2 (i32.load (i32.add (local.get $w2) (i32.shl (local.get $wl) (i32.const 2)))))
                  (local.set $word3 (i32.load (i32.add (local.get $w3) (i32.shl (local.get $wl) (i32.const 2)))))
                  (local.set $entries (i32.add (local.get $table) (i32.shl (local.get $wl) (i32.const 11))))
                  ;; Nibble q of each word selects entry (word >> 4q) & 15 of group q, at offset 16 * that.
                  (local.set $acc0 (f32x4.add (local.get $acc0)
                    (v128.load offset=0 (i32.add (local.get $entries) (i32.and (i32.shl (local.get $word0) (i32.const 4)) (i32.const 0xf0))))))
                  (local.set $acc1 (f32x4.add (local.get $acc1)
                    (v128.load offset=0 (i32.add (local.get $entries) (i32.and (i32.shl (local.get $word1) (i32.const 4)) (i32.const 0xf0))))))
                  (local.set $acc2 (f32x4.add (local.get $acc2)
                    (v128.load offset=0 (i32.add (local.get $entries) (i32.and (i32.shl (local.get $word2) (i32.const 4)) (i32.const 0xf0))))))
                  (local.set $acc3 (f32x4.add (local.get $acc3)
                    (v128.load offset=0 (i32.add (local.get $entries) (i32.and (i32.shl (local.get $word3) (i32.const 4)) (i32.const 0xf0))))))
                  (local.set $acc0 (f32x4.add (local.get $acc0)
                    (v128.load offset=256 (i32.add (local.get $entries) (i32.and (local.get $word0) (i32.const 0xf0))))))
                  (local.set $acc1 (f32x4.add (local.get $acc1)
                    (v128.load offset=256 (i32.add (local.get $entries) (i32.and (local.get $word1) (i32.const 0xf0))))))
                  (local.set $acc2 (f32x4.add (local.get $acc2)
                    (v128.load offset=256 (i32.add (local.get $entries) (i32.and (local.get $word2) (i32.const 0xf0))))))
                  (local.set $acc3 (f32x4.add (local.get $acc3)
                    (v128.load offset=256 (i32.add (local.get $entries) (i32.and (local.get $word3) (i32.const 0xf0))))))
                  (local.set $acc0 (f32x4.add (local.get $acc0)
                    (v128.load offset=512 (i32.add (local.get $entries) (i32.and (i32.shr_u (local.get $word0) (i32.const 4)) (i32.const 0xf0))))))
                  (local.set $acc1 (f32x4.add (local.get $acc1)
                    (v128.load offset=512 (i32.add (local.get $entries) (i32.and (i32.shr_u (local.get $word1) (i32.const 4)) (i32.const 0xf0))))))
                  (local.set $acc2 (f32x4.add (local.get $acc2)
                    (v128.load offset=512 (i32.add (local.get $entries) (i32.and (i32.shr_u (local.get $word2) (i32.const 4)) (i32.const 0xf0))))))
                  (local.set $acc3 (f32x4.add (local.get $acc3)
                    (v128.load offset=512 (i32.add (local.get $entries) (i32.and (i32.shr_u (local.get $word3) (i32.const 4)) (i32.const 0xf0))))))
                  (local.set $acc0 (f32x4.add (local.get $acc0)
                    (v128.load offset=768 (i32.add (local.get $entries) (i32.and (i32.shr_u (local.get $word0) (i32.const 8)) (i32.const 0xf0))))))
                  (local.set $acc1 (f32x4.add (local.get $acc1)
                    (v128.load offset=768 (i32.add (local.get $entries) (i32.and (i32.shr_u (local.get $word1) (i32.const 8)) (i32.const 0xf0))))))
                  (local.set $acc2 (f32x4.add (local.get $acc2)
                    (v128.load offset=768 (i32.add (local.get $entries) (i32.and (i32.shr_u (local.get $word2) (i32.const 8)) (i32.const 0xf0))))))
                  (local.set $acc3 (f32x4.add (local.get $acc3)
                    (v128.load offset=768 (i32.add (local.get $entries) (i32.and (i32.shr_u (local.get $word3) (i32.const 8)) (i32.const 0xf0))))))
                  (local.set $acc0 (f32x4.add (local.get $acc0)
                    (v128.load offset=1024 (i32.add (local.get $entries) (i32.and (i32.shr_u (local.get $word0) (i32.const 12)) (i32.const 0xf0))))))
                  (local.set $acc1 (f32x4.add (local.get $acc1)
                    (v128.load offset=1024 (i32.add (local.get $entries) (i32.and (i32.shr_u (local.get $word1) (i32.const 12)) (i32.const 0xf0))))))
                  (local.set $acc2 (f32x4.add (local.get $acc2)
                    (v128.load offset=1024 (i32.add (local.get $entries) (i32.and (i32.shr_u (local.get $word2) (i32.const 12)) (i32.const 0xf0))))))
                  (local.set $acc3 (f32x4.add (local.get $acc3)
                    (v128.load offset=1024 (i32.add (local.get $entries) (i32.and (i32.shr_u (local.get $word3) (i32.const 12)) (i32.const 0xf0))))))
                  (local.set $acc0 (f32x4.add (local.get $acc0)
                    (v128.load offset=1280 (i32.add (local.get $entries) (i32.and (i32.shr_u (local.get $word0) (i32.const 16)) (i32.const 0xf0))))))
                  (local.set $acc1 (f32x4.add (local.get $acc1)
                    (v128.load offset=1280 (i32.add (local.get $entries) (i32.and (i32.shr_u (local.get $word1) (i32.const 16)) (i32.const 0xf0))))))
                  (local.set $acc2 (f32x4.add (local.get $acc2)
                    (v128.load offset=1280 (i32.add (local.get $entries) (i32.and (i32.shr_u (local.get $word2) (i32.const 16)) (i32.const 0xf0))))))
                  (local.set $acc3 (f32x4.add (local.get $acc3)
                    (v128.load offset=1280 (i32.add (local.get $entries) (i32.and (i32.shr_u (local.get $word3) (i32.const 16)) (i32.const 0xf0))))))
                  (local.set $acc0 (f32x4.add (local.get $acc0)
                    (v128.load offset=1536 (i32.add (local.get $entries) (i32.and (i32.shr_u (local.get $word0) (i32.const 20)) (i32.const 0xf0))))))
                  (local.set $acc1 (f32x4.add (local.get $acc1)
                    (v128.load offset=1536 (i32.add (local.get $entries) (i32.and (i32.shr_u (local.get $word1) (i32.const 20)) (i32.const 0xf0))))))
                  (local.set $acc2 (f32x4.add (local.get $acc2)
                    (v128.load offset=1536 (i32.add (local.get $entries) (i32.and (i32.shr_u (local.get $word2) (i32.const 20)) (i32.const 0xf0))))))
                  (local.set $acc3 (f32x4.add (local.get $acc3)
                    (v128.load offset=1536 (i32.add (local.get $entries) (i32.and (i32.shr_u (local.get $word3) (i32.const 20)) (i32.const 0xf0))))))
                  (local.set $acc0 (f32x4.add (local.get $acc0)
                    (v128.load offset=1792 (i32.add (local.get $entries) (i32.and (i32.shr_u (local.get $word0) (i32.const 24)) (i32.const 0xf0))))))
                  (local.set $acc1 (f32x4.add (local.get $acc1)
                    (v128.load offset=1792 (i32.add (local.get $entries) (i32.and (i32.shr_u (local.get $word1) (i32.const 24)) (i32.const 0xf0))))))
                  (local.set $acc2 (f32x4.add (local.get $acc2)
                    (v128.load offset=1792 (i32.add (local.get $entries) (i32.and (i32.shr_u (local.get $word2) (i32.const 24)) (i32.const 0xf0))))))
                  (local.set $acc3 (f32x4.add (local.get $acc3)
                    (v128.load offset=1792 (i32.add (local.get $entries) (i32.and (i32.shr_u (local.get $word3) (i32.const 24)) (i32.const 0xf0))))))
                  (local.set $wl (i32.add (local.get $wl) (i32.const 1)))
                  (br_if $wordLoop (i32.lt_s (local.get $wl) (local.get $chunkWords))))
                (v128.store offset=0 (local.get $sumAt) (local.get $acc0))
                (v128.store offset=16 (local.get $sumAt) (local.get $acc1))
                (v128.store offset=32 (local.get $sumAt) (local.get $acc2))
                (v128.store offset=48 (local.get $sumAt) (local.get $acc3))
                (local.set $j (i32.add (local.get $j) (i32.const 4)))
                (br $tiles)))
            (local.set $chunk (i32.add (local.get $chunk) (i32.const 8)))
            (br $chunks)))
        ;; The block's outputs: lane r of weight row j's sum, times alpha_j (K = 0 leaves no sums: zeros).
        (local.set $j (i32.const 0))
        (block $colsDone
          (loop $cols
            (br_if $colsDone (i32.ge_s (local.get $j) (local.get $n)))
            (local.set $alphaJ (f32.load (i32.add (local.get $alpha) (i32.shl (local.get $j) (i32.const 2)))))
            (local.set $r (i32.const 0))
            (loop $lanes
              (local.set $outAt
                (i32.add (local.get $out)
                  (i32.shl
                    (i32.add (i32.mul (i32.add (local.get $row0) (local.get $r)) (local.get $rowStride))
                      (i32.mul (local.get $j) (local.get $colStride)))
                    (i32.const 2))))
              (f32.store (local.get $outAt)
                (f32.mul (local.get $alphaJ)
                  (if (result f32) (local.get $words)
                    (then
                      (f32.load
                        (i32.add (local.get $sums)
                          (i32.add (i32.shl (local.get $j) (i32.const 4)) (i32.shl (local.get $r) (i32.const 2))))))
                    (else (f32.const 0)))))
              (local.set $r (i32.add (local.get $r) (i32.const 1)))
              (br_if $lanes (i32.lt_s (local.get $r) (local.get $rows))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $cols)))
        (local.set $row0 (i32.add (local.get $row0) (i32.const 4)))
        (br $blocks))))

  ;; Element p of rows row0 .. row0 + 3 of x (rows of k float32) as the lanes of an f32x4: 0 for rows past `rows`
  ;; and for p past k.
  (func $column (param $x i32) (param $row0 i32) (param $rows i32) (param $k i32) (param $p i32) (result v128)
    (local $at i32) (local $stride i32) (local $v v128)
    (if (i32.ge_s (local.get $p) (local.get $k)) (then (return (v128.const i32x4 0 0 0 0))))
    (local.set $stride (i32.shl (local.get $k) (i32.const 2)))
    (local.set $at
      (i32.add (local.get $x) (i32.shl (i32.add (i32.mul (local.get $row0) (local.get $k)) (local.get $p)) (i32.const 2))))
    (local.set $v (f32x4.replace_lane 0 (v128.const i32x4 0 0 0 0) (f32.load (local.get $at))))
    (if (i32.gt_s (local.get $rows) (i32.const 1))
      (then
        (local.set $at (i32.add (local.get $at) (local.get $stride)))
        (local.set $v (f32x4.replace_lane 1 (local.get $v) (f32.load (local.get $at))))))
    (if (i32.gt_s (local.get $rows) (i32.const 2))
      (then
        (local.set $at (i32.add (local.get $at) (local.get $stride)))
        (local.set $v (f32x4.replace_lane 2 (local.get $v) (f32.load (local.get $at))))))
    (if (i32.gt_s (local.get $rows) (i32.const 3))
      (then
        (local.set $at (i32.add (local.get $at) (local.get $stride)))
        (local.set $v (f32x4.replace_lane 3 (local.get $v) (f32.load (local.get $at))))))
    (local.get $v))

  ;; ------------------------------------------------------------------------------------------------------------
  ;; Log layout: one code byte per weight, weight rows of k; `rowTable` holds each row's table index (i32) and
  ;; `levels` 256 float32 levels per table (what each code is worth, scale included).

  ;; Log weights, float activations: out[i, j] = sum_p x[i, p] * level_j(code[j, p]). Four weight rows at a time
  ;; are decoded through their tables into `decoded` (4 rows of k rounded up to 4 float32, then 8 floats of sums:
  ;; 16 * ceil(k / 4) * 4 + 32 bytes), and every activation row, two at a time, is multiplied by them with f32x4.
  ;; x is m rows of k float32. Sums in float32 (the JS kernel: float64; results agree within float32 rounding).
  ;; When every code is below 16 (log codes of up to 4 bits), `planes` (else 0) holds per table the 16 levels'
  ;; bytes as 4 planes of 16 (byte b of level c at 16 b + c), and rows decode 16 codes at a time with
  ;; i8x16.swizzle, the bytes interleaved back into float32 by shuffles.
  (func (export "log_gemm")
    (param $x i32) (param $m i32) (param $k i32) (param $codes i32) (param $rowTable i32) (param $levels i32)
    (param $planes i32) (param $n i32) (param $decoded i32) (param $out i32) (param $rowStride i32)
    (param $colStride i32)
    (local $kPadded i32) (local $rowBytes i32) (local $j i32) (local $cols i32) (local $q i32) (local $p i32)
    (local $i i32) (local $rows i32) (local $r i32) (local $src i32) (local $dst i32) (local $level i32)
    (local $sums i32) (local $a0 i32) (local $a1 i32) (local $table i32) (local $at i32)
    (local $plane0 v128) (local $plane1 v128) (local $plane2 v128) (local $plane3 v128) (local $codes16 v128)
    (local $byte0 v128) (local $byte1 v128) (local $byte2 v128) (local $byte3 v128) (local $low v128) (local $high v128)
    (local.set $kPadded (i32.and (i32.add (local.get $k) (i32.const 3)) (i32.const -4)))
    (local.set $rowBytes (i32.shl (local.get $kPadded) (i32.const 2)))
    (local.set $sums (i32.add (local.get $decoded) (i32.shl (local.get $rowBytes) (i32.const 2))))
    (block $tilesDone
      (loop $tiles
        (br_if $tilesDone (i32.ge_s (local.get $j) (local.get $n)))
        (local.set $cols (i32.sub (local.get $n) (local.get $j)))
        (if (i32.gt_s (local.get $cols) (i32.const 4)) (then (local.set $cols (i32.const 4))))
        ;; Decode the tile's rows (rows past n are left as they are: their sums are dropped).
        (local.set $q (i32.const 0))
        (block $decodeDone
          (loop $decodeRows
            (br_if $decodeDone (i32.ge_s (local.get $q) (local.get $cols)))
            (local.set $dst (i32.add (local.get $decoded) (i32.mul (local.get $q) (local.get $rowBytes))))
            (local.set $src (i32.add (local.get $codes) (i32.mul (i32.add (local.get $j) (local.get $q)) (local.get $k))))
            (local.set $table
              (i32.load (i32.add (local.get $rowTable) (i32.shl (i32.add (local.get $j) (local.get $q)) (i32.const 2)))))
            (local.set $level (i32.add (local.get $levels) (i32.shl (local.get $table) (i32.const 10))))
            (local.set $p (i32.const 0))
            (if (local.get $planes)
              (then
                (local.set $at (i32.add (local.get $planes) (i32.shl (local.get $table) (i32.const 6))))
                (local.set $plane0 (v128.load offset=0 (local.get $at)))
                (local.set $plane1 (v128.load offset=16 (local.get $at)))
                (local.set $plane2 (v128.load offset=32 (local.get $at)))
                (local.set $plane3 (v128.load offset=48 (local.get $at)))
                (block $vectorsDone
                  (loop $vectors
                    (br_if $vectorsDone (i32.gt_s (i32.add (local.get $p) (i32.const 16)) (local.get $k)))
                    (local.set $codes16 (v128.load (i32.add (local.get $src) (local.get $p))))
                    (local.set $byte0 (i8x16.swizzle (local.get $plane0) (local.get $codes16)))
                    (local.set $byte1 (i8x16.swizzle (local.get $plane1) (local.get $codes16)))
                    (local.set $byte2 (i8x16.swizzle (local.get $plane2) (local.get $codes16)))
                    (local.set $byte3 (i8x16.swizzle (local.get $plane3) (local.get $codes16)))
                    (local.set $at (i32.add (local.get $dst) (i32.shl (local.get $p) (i32.const 2))))
                    ;; Bytes 0 and 1, and 2 and 3, of levels 0-7 paired, then the pairs paired into levels 0-3, 4-7.
                    (local.set $low
                      (i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23 (local.get $byte0) (local.get $byte1)))
                    (local.set $high
                      (i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23 (local.get $byte2) (local.get $byte3)))
                    (v128.store offset=0 (local.get $at)
                      (i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23 (local.get $low) (local.get $high)))
                    (v128.store offset=16 (local.get $at)
                      (i8x16.shuffle 8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31 (local.get $low) (local.get $high)))
                    ;; Levels 8-15 the same way from the upper halves.
                    (local.set $low
                      (i8x16.shuffle 8 24 9 25 10 26 11 27 12 28 13 29 14 30 15 31 (local.get $byte0) (local.get $byte1)))
                    (local.set $high
                      (i8x16.shuffle 8 24 9 25 10 26 11 27 12 28 13 29 14 30 15 31 (local.get $byte2) (local.get $byte3)))
                    (v128.store offset=32 (local.get $at)
                      (i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23 (local.get $low) (local.get $high)))
                    (v128.store offset=48 (local.get $at)
                      (i8x16.shuffle 8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31 (local.get $low) (local.get $high)))
                    (local.set $p (i32.add (local.get $p) (i32.const 16)))
                    (br $vectors)))))
            (block $codesDone
              (loop $codesLoop
                (br_if $codesDone (i32.ge_s (local.get $p) (local.get $k)))
                (f32.store (i32.add (local.get $dst) (i32.shl (local.get $p) (i32.const 2)))
                  (f32.load
                    (i32.add (local.get $level) (i32.shl (i32.load8_u (i32.add (local.get $src) (local.get $p))) (i32.const 2)))))
                (local.set $p (i32.add (local.get $p) (i32.const 1)))
                (br $codesLoop)))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            (br $decodeRows)))
        ;; Every activation row against the tile, two at a time (a lone last row is paired with itself).
        (local.set $i (i32.const 0))
        (block $rowsDone
          (loop $rowLoop
            (br_if $rowsDone (i32.ge_s (local.get $i) (local.get $m)))
            (local.set $rows (i32.sub (local.get $m) (local.get $i)))
            (if (i32.gt_s (local.get $rows) (i32.const 2)) (then (local.set $rows (i32.const 2))))
            (local.set $a0 (i32.add (local.get $x) (i32.shl (i32.mul (local.get $i) (local.get $k)) (i32.const 2))))
            (local.set $a1
              (select (i32.add (local.get $a0) (i32.shl (local.get $k) (i32.const 2))) (local.get $a0)
                (i32.eq (local.get $rows) (i32.const 2))))
            (call $log_2x4 (local.get $a0) (local.get $a1) (local.get $decoded) (local.get $rowBytes) (local.get $k)
              (local.get $sums))
            (local.set $r (i32.const 0))
            (loop $outRows
              (local.set $q (i32.const 0))
              (loop $outCols
                (f32.store
                  (i32.add (local.get $out)
                    (i32.shl
                      (i32.add (i32.mul (i32.add (local.get $i) (local.get $r)) (local.get $rowStride))
                        (i32.mul (i32.add (local.get $j) (local.get $q)) (local.get $colStride)))
                      (i32.const 2)))
                  (f32.load
                    (i32.add (local.get $sums) (i32.shl (i32.add (i32.shl (local.get $r) (i32.const 2)) (local.get $q)) (i32.const 2)))))
                (local.set $q (i32.add (local.get $q) (i32.const 1)))
                (br_if $outCols (i32.lt_s (local.get $q) (local.get $cols))))
              (local.set $r (i32.add (local.get $r) (i32.const 1)))
              (br_if $outRows (i32.lt_s (local.get $r) (local.get $rows))))
            (local.set $i (i32.add (local.get $i) (local.get $rows)))
            (br $rowLoop)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $tiles))))

  ;; Rows a0 and a1 (k float32 each) times the 4 decoded rows at b (`rowBytes` apart): 8 sums to `sums`, row-major
  ;; 2 x 4. Whole vectors of 4, then the last k % 4 elements one by one.
  (func $log_2x4 (param $a0 i32) (param $a1 i32) (param $b i32) (param $rowBytes i32) (param $k i32) (param $sums i32)
    (local $b1 i32) (local $b2 i32) (local $b3 i32) (local $at i32) (local $end i32) (local $tail i32)
    (local $x0 v128) (local $x1 v128) (local $y0 v128) (local $y1 v128) (local $y2 v128) (local $y3 v128)
    (local $c00 v128) (local $c01 v128) (local $c02 v128) (local $c03 v128)
    (local $c10 v128) (local $c11 v128) (local $c12 v128) (local $c13 v128)
    (local $v0 f32) (local $v1 f32)
    (local $s00 f32) (local $s01 f32) (local $s02 f32) (local $s03 f32)
    (local $s10 f32) (local $s11 f32) (local $s12 f32) (local $s13 f32)
    (local.set $b1 (i32.add (local.get $b) (local.get $rowBytes)))
    (local.set $b2 (i32.add (local.get $b1) (local.get $rowBytes)))
    (local.set $b3 (i32.add (local.get $b2) (local.get $rowBytes)))
    (local.set $end (i32.shl (i32.and (local.get $k) (i32.const -4)) (i32.const 2)))
    (block $vectorsDone
      (br_if $vectorsDone (i32.eqz (local.get $end)))
      (loop $vectors
        (local.set $x0 (v128.load (i32.add (local.get $a0) (local.get $at))))
        (local.set $x1 (v128.load (i32.add (local.get $a1) (local.get $at))))
        (local.set $y0 (v128.load (i32.add (local.get $b) (local.get $at))))
        (local.set $y1 (v128.load (i32.add (local.get $b1) (local.get $at))))
        (local.set $y2 (v128.load (i32.add (local.get $b2) (local.get $at))))
        (local.set $y3 (v128.load (i32.add (local.get $b3) (local.get $at))))
        (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x0) (local.get $y0))))
        (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x0) (local.get $y1))))
        (local.set $c02 (f32x4.add (local.get $c02) (f32x4.mul (local.get $x0) (local.get $y2))))
        (local.set $c03 (f32x4.add (local.get $c03) (f32x4.mul (local.get $x0) (local.get $y3))))
        (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x1) (local.get $y0))))
        (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x1) (local.get $y1))))
        (local.set $c12 (f32x4.add (local.get $c12) (f32x4.mul (local.get $x1) (local.get $y2))))
        (local.set $c13 (f32x4.add (local.get $c13) (f32x4.mul (local.get $x1) (local.get $y3))))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br_if $vectors (i32.lt_u (local.get $at) (local.get $end)))))
    (local.set $s00 (call $sum_f32 (local.get $c00)))
    (local.set $s01 (call $sum_f32 (local.get $c01)))
    (local.set $s02 (call $sum_f32 (local.get $c02)))
    (local.set $s03 (call $sum_f32 (local.get $c03)))
    (local.set $s10 (call $sum_f32 (local.get $c10)))
    (local.set $s11 (call $sum_f32 (local.get $c11)))
    (local.set $s12 (call $sum_f32 (local.get $c12)))
    (local.set $s13 (call $sum_f32 (local.get $c13)))
    (local.set $tail (i32.shl (local.get $k) (i32.const 2)))
    (block $tailDone
      (loop $tailLoop
        (br_if $tailDone (i32.ge_u (local.get $at) (local.get $tail)))
        (local.set $v0 (f32.load (i32.add (local.get $a0) (local.get $at))))
        (local.set $v1 (f32.load (i32.add (local.get $a1) (local.get $at))))
        (local.set $s00 (f32.add (local.get $s00) (f32.mul (local.get $v0) (f32.load (i32.add (local.get $b) (local.get $at))))))
        (local.set $s01 (f32.add (local.get $s01) (f32.mul (local.get $v0) (f32.load (i32.add (local.get $b1) (local.get $at))))))
        (local.set $s02 (f32.add (local.get $s02) (f32.mul (local.get $v0) (f32.load (i32.add (local.get $b2) (local.get $at))))))
        (local.set $s03 (f32.add (local.get $s03) (f32.mul (local.get $v0) (f32.load (i32.add (local.get $b3) (local.get $at))))))
        (local.set $s10 (f32.add (local.get $s10) (f32.mul (local.get $v1) (f32.load (i32.add (local.get $b) (local.get $at))))))
        (local.set $s11 (f32.add (local.get $s11) (f32.mul (local.get $v1) (f32.load (i32.add (local.get $b1) (local.get $at))))))
        (local.set $s12 (f32.add (local.get $s12) (f32.mul (local.get $v1) (f32.load (i32.add (local.get $b2) (local.get $at))))))
        (local.set $s13 (f32.add (local.get $s13) (f32.mul (local.get $v1) (f32.load (i32.add (local.get $b3) (local.get $at))))))
        (local.set $at (i32.add (local.get $at) (i32.const 4)))
        (br $tailLoop)))
    (f32.store offset=0 (local.get $sums) (local.get $s00))
    (f32.store offset=4 (local.get $sums) (local.get $s01))
    (f32.store offset=8 (local.get $sums) (local.get $s02))
    (f32.store offset=12 (local.get $sums) (local.get $s03))
    (f32.store offset=16 (local.get $sums) (local.get $s10))
    (f32.store offset=20 (local.get $sums) (local.get $s11))
    (f32.store offset=24 (local.get $sums) (local.get $s12))
    (f32.store offset=28 (local.get $sums) (local.get $s13)))

  ;; The sum of the 4 lanes of v.
  (func $sum_f32 (param $v v128) (result f32)
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))

  ;; ------------------------------------------------------------------------------------------------------------
  ;; Log weights, 8-bit integer activations (widened to i16 by the JS side): exact integer sums per bucket of the
  ;; weights' shift plan (see logShiftPlan in src/js/kernels/packed-log-gemm.ts), combined in float64 with the
  ;; buckets' scales in the JS kernel's order, so the outputs equal the JS kernel's bit for bit.

  ;; The vector form: each weight row as one stream of int16 weights per bucket, +-2^shift (0 outside the
  ;; bucket), `kPadded` (a multiple of 8, zeros past k) elements per stream, streams of row j at j * buckets ..
  ;; j * buckets + buckets - 1, rounded up to a multiple of 4 in memory. C[i, s] (i32, at c + 4 * (i * ldc + s))
  ;; = sum_p x[i, p] * stream_s[p] by i32x4.dot_i16x8_s: WebAssembly SIMD has no per-lane shift, so x << shift is
  ;; taken as x * 2^shift, exact in i32 like the shift (the plan keeps every bucket's sum inside int32). x is m
  ;; rows of k int16.
  (func (export "i16_gemm")
    (param $x i32) (param $m i32) (param $k i32) (param $w i32) (param $kPadded i32) (param $streams i32)
    (param $c i32) (param $ldc i32)
    (local $rowBytes i32) (local $j i32) (local $i i32) (local $rows i32) (local $tile i32) (local $a0 i32)
    (local $cAt i32)
    (local.set $rowBytes (i32.shl (local.get $kPadded) (i32.const 1)))
    (block $tilesDone
      (loop $tiles
        (br_if $tilesDone (i32.ge_s (local.get $j) (local.get $streams)))
        (local.set $tile (i32.add (local.get $w) (i32.mul (local.get $j) (local.get $rowBytes))))
        (local.set $i (i32.const 0))
        (block $rowsDone
          (loop $rowLoop
            (br_if $rowsDone (i32.ge_s (local.get $i) (local.get $m)))
            (local.set $rows (i32.sub (local.get $m) (local.get $i)))
            (if (i32.gt_s (local.get $rows) (i32.const 2)) (then (local.set $rows (i32.const 2))))
            (local.set $a0 (i32.add (local.get $x) (i32.shl (i32.mul (local.get $i) (local.get $k)) (i32.const 1))))
            (local.set $cAt
              (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $ldc)) (local.get $j)) (i32.const 2))))
            (call $i16_2x4 (local.get $a0)
              (select (i32.add (local.get $a0) (i32.shl (local.get $k) (i32.const 1))) (local.get $a0)
                (i32.eq (local.get $rows) (i32.const 2)))
              (local.get $tile) (local.get $rowBytes) (local.get $k) (local.get $cAt)
              (i32.shl (local.get $ldc) (i32.const 2)) (local.get $rows))
            (local.set $i (i32.add (local.get $i) (local.get $rows)))
            (br $rowLoop)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $tiles))))

  ;; Rows a0 and a1 (k int16 each) times the 4 streams at w (`rowBytes` apart): 4 sums to c, and 4 more to c + ldc
  ;; when `rows` is 2. Whole vectors of 8, then the last k % 8 elements one by one.
  (func $i16_2x4
    (param $a0 i32) (param $a1 i32) (param $w i32) (param $rowBytes i32) (param $k i32) (param $c i32)
    (param $ldc i32) (param $rows i32)
    (local $w1 i32) (local $w2 i32) (local $w3 i32) (local $at i32) (local $end i32) (local $tail i32)
    (local $x0 v128) (local $x1 v128) (local $y0 v128) (local $y1 v128) (local $y2 v128) (local $y3 v128)
    (local $c00 v128) (local $c01 v128) (local $c02 v128) (local $c03 v128)
    (local $c10 v128) (local $c11 v128) (local $c12 v128) (local $c13 v128)
    (local $v0 i32) (local $v1 i32)
    (local $s00 i32) (local $s01 i32) (local $s02 i32) (local $s03 i32)
    (local $s10 i32) (local $s11 i32) (local $s12 i32) (local $s13 i32)
    (local.set $w1 (i32.add (local.get $w) (local.get $rowBytes)))
    (local.set $w2 (i32.add (local.get $w1) (local.get $rowBytes)))
    (local.set $w3 (i32.add (local.get $w2) (local.get $rowBytes)))
    (local.set $end (i32.shl (i32.and (local.get $k) (i32.const -8)) (i32.const 1)))
    (block $vectorsDone
      (br_if $vectorsDone (i32.eqz (local.get $end)))
      (loop $vectors
        (local.set $x0 (v128.load (i32.add (local.get $a0) (local.get $at))))
        (local.set $x1 (v128.load (i32.add (local.get $a1) (local.get $at))))
        (local.set $y0 (v128.load (i32.add (local.get $w) (local.get $at))))
        (local.set $y1 (v128.load (i32.add (local.get $w1) (local.get $at))))
        (local.set $y2 (v128.load (i32.add (local.get $w2) (local.get $at))))
        (local.set $y3 (v128.load (i32.add (local.get $w3) (local.get $at))))
        (local.set $c00 (i32x4.add (local.get $c00) (i32x4.dot_i16x8_s (local.get $x0) (local.get $y0))))
        (local.set $c01 (i32x4.add (local.get $c01) (i32x4.dot_i16x8_s (local.get $x0) (local.get $y1))))
        (local.set $c02 (i32x4.add (local.get $c02) (i32x4.dot_i16x8_s (local.get $x0) (local.get $y2))))
        (local.set $c03 (i32x4.add (local.get $c03) (i32x4.dot_i16x8_s (local.get $x0) (local.get $y3))))
        (local.set $c10 (i32x4.add (local.get $c10) (i32x4.dot_i16x8_s (local.get $x1) (local.get $y0))))
        (local.set $c11 (i32x4.add (local.get $c11) (i32x4.dot_i16x8_s (local.get $x1) (local.get $y1))))
        (local.set $c12 (i32x4.add (local.get $c12) (i32x4.dot_i16x8_s (local.get $x1) (local.get $y2))))
        (local.set $c13 (i32x4.add (local.get $c13) (i32x4.dot_i16x8_s (local.get $x1) (local.get $y3))))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br_if $vectors (i32.lt_u (local.get $at) (local.get $end)))))
    (local.set $s00 (call $sum_i32 (local.get $c00)))
    (local.set $s01 (call $sum_i32 (local.get $c01)))
    (local.set $s02 (call $sum_i32 (local.get $c02)))
    (local.set $s03 (call $sum_i32 (local.get $c03)))
    (local.set $s10 (call $sum_i32 (local.get $c10)))
    (local.set $s11 (call $sum_i32 (local.get $c11)))
    (local.set $s12 (call $sum_i32 (local.get $c12)))
    (local.set $s13 (call $sum_i32 (local.get $c13)))
    (local.set $tail (i32.shl (local.get $k) (i32.const 1)))
    (block $tailDone
      (loop $tailLoop
        (br_if $tailDone (i32.ge_u (local.get $at) (local.get $tail)))
        (local.set $v0 (i32.load16_s (i32.add (local.get $a0) (local.get $at))))
        (local.set $v1 (i32.load16_s (i32.add (local.get $a1) (local.get $at))))
        (local.set $s00 (i32.add (local.get $s00) (i32.mul (local.get $v0) (i32.load16_s (i32.add (local.get $w) (local.get $at))))))
        (local.set $s01 (i32.add (local.get $s01) (i32.mul (local.get $v0) (i32.load16_s (i32.add (local.get $w1) (local.get $at))))))
        (local.set $s02 (i32.add (local.get $s02) (i32.mul (local.get $v0) (i32.load16_s (i32.add (local.get $w2) (local.get $at))))))
        (local.set $s03 (i32.add (local.get $s03) (i32.mul (local.get $v0) (i32.load16_s (i32.add (local.get $w3) (local.get $at))))))
        (local.set $s10 (i32.add (local.get $s10) (i32.mul (local.get $v1) (i32.load16_s (i32.add (local.get $w) (local.get $at))))))
        (local.set $s11 (i32.add (local.get $s11) (i32.mul (local.get $v1) (i32.load16_s (i32.add (local.get $w1) (local.get $at))))))
        (local.set $s12 (i32.add (local.get $s12) (i32.mul (local.get $v1) (i32.load16_s (i32.add (local.get $w2) (local.get $at))))))
        (local.set $s13 (i32.add (local.get $s13) (i32.mul (local.get $v1) (i32.load16_s (i32.add (local.get $w3) (local.get $at))))))
        (local.set $at (i32.add (local.get $at) (i32.const 2)))
        (br $tailLoop)))
    (i32.store offset=0 (local.get $c) (local.get $s00))
    (i32.store offset=4 (local.get $c) (local.get $s01))
    (i32.store offset=8 (local.get $c) (local.get $s02))
    (i32.store offset=12 (local.get $c) (local.get $s03))
    (if (i32.eq (local.get $rows) (i32.const 2))
      (then
        (local.set $c (i32.add (local.get $c) (local.get $ldc)))
        (i32.store offset=0 (local.get $c) (local.get $s10))
        (i32.store offset=4 (local.get $c) (local.get $s11))
        (i32.store offset=8 (local.get $c) (local.get $s12))
        (i32.store offset=12 (local.get $c) (local.get $s13)))))

  ;; The sum of the 4 lanes of v (wrapping, as the JS kernel's int32 sums).
  (func $sum_i32 (param $v v128) (result i32)
    (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $v)) (i32x4.extract_lane 1 (local.get $v)))
      (i32.add (i32x4.extract_lane 2 (local.get $v)) (i32x4.extract_lane 3 (local.get $v)))))

  ;; The outputs from i16_gemm's bucket sums: out[i, j] = sum over buckets b of C[i, j * buckets + b] *
  ;; bucketScale[table_j * buckets + b], in float64 in bucket order, rounded to float32 once.
  (func (export "shift_epilogue")
    (param $c i32) (param $ldc i32) (param $m i32) (param $n i32) (param $buckets i32) (param $rowTable i32)
    (param $bucketScale i32) (param $out i32) (param $rowStride i32) (param $colStride i32)
    (local $i i32) (local $j i32) (local $b i32) (local $cAt i32) (local $scaleAt i32) (local $sum f64)
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_s (local.get $i) (local.get $m)))
        (local.set $j (i32.const 0))
        (block $colsDone
          (loop $cols
            (br_if $colsDone (i32.ge_s (local.get $j) (local.get $n)))
            (local.set $cAt
              (i32.add (local.get $c)
                (i32.shl
                  (i32.add (i32.mul (local.get $i) (local.get $ldc)) (i32.mul (local.get $j) (local.get $buckets)))
                  (i32.const 2))))
            (local.set $scaleAt
              (i32.add (local.get $bucketScale)
                (i32.shl
                  (i32.mul (i32.load (i32.add (local.get $rowTable) (i32.shl (local.get $j) (i32.const 2)))) (local.get $buckets))
                  (i32.const 3))))
            (local.set $sum (f64.const 0))
            (local.set $b (i32.const 0))
            (block $bucketsDone
              (loop $bucketLoop
                (br_if $bucketsDone (i32.ge_s (local.get $b) (local.get $buckets)))
                (local.set $sum
                  (f64.add (local.get $sum)
                    (f64.mul
                      (f64.convert_i32_s (i32.load (i32.add (local.get $cAt) (i32.shl (local.get $b) (i32.const 2)))))
                      (f64.load (i32.add (local.get $scaleAt) (i32.shl (local.get $b) (i32.const 3)))))))
                (local.set $b (i32.add (local.get $b) (i32.const 1)))
                (br $bucketLoop)))
            (f32.store
              (i32.add (local.get $out)
                (i32.shl
                  (i32.add (i32.mul (local.get $i) (local.get $rowStride)) (i32.mul (local.get $j) (local.get $colStride)))
                  (i32.const 2)))
              (f32.demote_f64 (local.get $sum)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $cols)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))

  ;; Transposes m rows of k int16 (x) into k rows of `mPadded` int32 (xT, zeros past m), for shift_add_rows.
  (func (export "transpose_i16")
    (param $x i32) (param $m i32) (param $k i32) (param $mPadded i32) (param $xT i32)
    (local $i i32) (local $p i32) (local $src i32) (local $dst i32)
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_s (local.get $i) (local.get $mPadded)))
        (local.set $src (i32.add (local.get $x) (i32.shl (i32.mul (local.get $i) (local.get $k)) (i32.const 1))))
        (local.set $dst (i32.add (local.get $xT) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $p (i32.const 0))
        (block $colsDone
          (loop $cols
            (br_if $colsDone (i32.ge_s (local.get $p) (local.get $k)))
            (i32.store (local.get $dst)
              (if (result i32) (i32.lt_s (local.get $i) (local.get $m))
                (then (i32.load16_s (i32.add (local.get $src) (i32.shl (local.get $p) (i32.const 1)))))
                (else (i32.const 0))))
            (local.set $dst (i32.add (local.get $dst) (i32.shl (local.get $mPadded) (i32.const 2))))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $cols)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))

  ;; The shift-add form across activation rows, for plans the vector form does not fit and two or more rows: each
  ;; weight's entry (as shift_add_gemm reads it) applies to 4 rows at once, i32x4.shl by the weight's one shift,
  ;; negated or not, added into the lanes of its bucket's accumulators (`accumulators`: buckets rows of `mPadded`
  ;; int32). xT is k rows of `mPadded` int32 (transpose_i16); the sums and outputs are shift_add_gemm's.
  (func (export "shift_add_rows")
    (param $xT i32) (param $mPadded i32) (param $m i32) (param $k i32) (param $codes i32) (param $rowTable i32)
    (param $entry i32) (param $buckets i32) (param $bucketScale i32) (param $accumulators i32) (param $n i32)
    (param $out i32) (param $rowStride i32) (param $colStride i32)
    (local $j i32) (local $p i32) (local $i i32) (local $b i32) (local $g i32) (local $codeRow i32)
    (local $table i32) (local $entries i32) (local $packed i32) (local $shift i32) (local $rowBytes i32)
    (local $xRow i32) (local $accRow i32) (local $at i32) (local $end i32) (local $scaleAt i32) (local $total f64)
    (local $negate v128) (local $term v128)
    (local.set $rowBytes (i32.shl (local.get $mPadded) (i32.const 2)))
    (block $colsDone
      (loop $cols
        (br_if $colsDone (i32.ge_s (local.get $j) (local.get $n)))
        (local.set $codeRow (i32.add (local.get $codes) (i32.mul (local.get $j) (local.get $k))))
        (local.set $table (i32.load (i32.add (local.get $rowTable) (i32.shl (local.get $j) (i32.const 2)))))
        (local.set $entries (i32.add (local.get $entry) (i32.shl (local.get $table) (i32.const 10))))
        ;; Clear the accumulators.
        (local.set $at (local.get $accumulators))
        (local.set $end (i32.add (local.get $accumulators) (i32.mul (local.get $buckets) (local.get $rowBytes))))
        (block $clearDone
          (loop $clear
            (br_if $clearDone (i32.ge_u (local.get $at) (local.get $end)))
            (v128.store (local.get $at) (v128.const i32x4 0 0 0 0))
            (local.set $at (i32.add (local.get $at) (i32.const 16)))
            (br $clear)))
        (local.set $p (i32.const 0))
        (local.set $xRow (local.get $xT))
        (block $termsDone
          (loop $terms
            (br_if $termsDone (i32.ge_s (local.get $p) (local.get $k)))
            (local.set $packed
              (i32.load
                (i32.add (local.get $entries)
                  (i32.shl (i32.load8_u (i32.add (local.get $codeRow) (local.get $p))) (i32.const 2)))))
            ;; The zero level adds nothing.
            (if (i32.and (local.get $packed) (i32.const 32))
              (then
                (local.set $shift (i32.and (local.get $packed) (i32.const 31)))
                (local.set $negate
                  (i32x4.splat (i32.sub (i32.const 0) (i32.and (i32.shr_u (local.get $packed) (i32.const 6)) (i32.const 1)))))
                (local.set $accRow
                  (i32.add (local.get $accumulators) (i32.mul (i32.shr_u (local.get $packed) (i32.const 7)) (local.get $rowBytes))))
                (local.set $g (i32.const 0))
                (loop $groups
                  (local.set $term
                    (i32x4.sub
                      (v128.xor
                        (i32x4.shl (v128.load (i32.add (local.get $xRow) (local.get $g))) (local.get $shift))
                        (local.get $negate))
                      (local.get $negate)))
                  (local.set $at (i32.add (local.get $accRow) (local.get $g)))
                  (v128.store (local.get $at) (i32x4.add (v128.load (local.get $at)) (local.get $term)))
                  (local.set $g (i32.add (local.get $g) (i32.const 16)))
                  (br_if $groups (i32.lt_u (local.get $g) (local.get $rowBytes))))))
            (local.set $xRow (i32.add (local.get $xRow) (local.get $rowBytes)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $terms)))
        ;; Outputs: the buckets' sums times their scales, in float64 in bucket order.
        (local.set $scaleAt
          (i32.add (local.get $bucketScale) (i32.shl (i32.mul (local.get $table) (local.get $buckets)) (i32.const 3))))
        (local.set $i (i32.const 0))
        (block $rowsDone
          (loop $rows
            (br_if $rowsDone (i32.ge_s (local.get $i) (local.get $m)))
            (local.set $total (f64.const 0))
            (local.set $b (i32.const 0))
            (block $bucketsDone
              (loop $bucketLoop
                (br_if $bucketsDone (i32.ge_s (local.get $b) (local.get $buckets)))
                (local.set $total
                  (f64.add (local.get $total)
                    (f64.mul
                      (f64.convert_i32_s
                        (i32.load
                          (i32.add (local.get $accumulators)
                            (i32.add (i32.mul (local.get $b) (local.get $rowBytes)) (i32.shl (local.get $i) (i32.const 2))))))
                      (f64.load (i32.add (local.get $scaleAt) (i32.shl (local.get $b) (i32.const 3)))))))
                (local.set $b (i32.add (local.get $b) (i32.const 1)))
                (br $bucketLoop)))
            (f32.store
              (i32.add (local.get $out)
                (i32.shl
                  (i32.add (i32.mul (local.get $i) (local.get $rowStride)) (i32.mul (local.get $j) (local.get $colStride)))
                  (i32.const 2)))
              (f32.demote_f64 (local.get $total)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $rows)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $cols))))

  ;; The scalar form, for a single row when the vector form does not fit the plan (many buckets, as log-nnie's 16
  ;; factors; shifts past 14), the JS kernel's loop: per weight, its code's packed entry (`entry`: 256 i32 per table; bits 0-4 shift,
  ;; bit 5 keep, bit 6 negate, bits 7 and up the bucket) gives the term ((x << shift) & keep) negated or not, added
  ;; into its bucket's int32 accumulator (`accumulators`: 4 bytes per bucket; a local when there is one). x is m
  ;; rows of k int16, codes n rows of k bytes.
  (func (export "shift_add_gemm")
    (param $x i32) (param $m i32) (param $k i32) (param $codes i32) (param $rowTable i32) (param $entry i32)
    (param $buckets i32) (param $bucketScale i32) (param $accumulators i32) (param $n i32) (param $out i32)
    (param $rowStride i32) (param $colStride i32)
    (local $i i32) (local $j i32) (local $p i32) (local $b i32) (local $xRow i32) (local $codeRow i32)
    (local $entries i32) (local $table i32) (local $packed i32) (local $negate i32) (local $term i32)
    (local $sum i32) (local $total f64) (local $slot i32)
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_s (local.get $i) (local.get $m)))
        (local.set $xRow (i32.add (local.get $x) (i32.shl (i32.mul (local.get $i) (local.get $k)) (i32.const 1))))
        (local.set $j (i32.const 0))
        (block $colsDone
          (loop $cols
            (br_if $colsDone (i32.ge_s (local.get $j) (local.get $n)))
            (local.set $codeRow (i32.add (local.get $codes) (i32.mul (local.get $j) (local.get $k))))
            (local.set $table (i32.load (i32.add (local.get $rowTable) (i32.shl (local.get $j) (i32.const 2)))))
            (local.set $entries (i32.add (local.get $entry) (i32.shl (local.get $table) (i32.const 10))))
            (local.set $p (i32.const 0))
            (if (i32.eq (local.get $buckets) (i32.const 1))
              (then
                (local.set $sum (i32.const 0))
                (block $termsDone
                  (loop $terms
                    (br_if $termsDone (i32.ge_s (local.get $p) (local.get $k)))
                    (local.set $packed
                      (i32.load
                        (i32.add (local.get $entries)
                          (i32.shl (i32.load8_u (i32.add (local.get $codeRow) (local.get $p))) (i32.const 2)))))
                    (local.set $negate (i32.sub (i32.const 0) (i32.and (i32.shr_u (local.get $packed) (i32.const 6)) (i32.const 1))))
                    (local.set $sum
                      (i32.add (local.get $sum)
                        (i32.sub
                          (i32.xor
                            (i32.and
                              (i32.shl
                                (i32.load16_s (i32.add (local.get $xRow) (i32.shl (local.get $p) (i32.const 1))))
                                (local.get $packed))
                              (i32.sub (i32.const 0) (i32.and (i32.shr_u (local.get $packed) (i32.const 5)) (i32.const 1))))
                            (local.get $negate))
                          (local.get $negate))))
                    (local.set $p (i32.add (local.get $p) (i32.const 1)))
                    (br $terms)))
                (local.set $total
                  (f64.mul (f64.convert_i32_s (local.get $sum))
                    (f64.load (i32.add (local.get $bucketScale) (i32.shl (local.get $table) (i32.const 3)))))))
              (else
                (local.set $b (i32.const 0))
                (block $clearDone
                  (loop $clear
                    (br_if $clearDone (i32.ge_s (local.get $b) (local.get $buckets)))
                    (i32.store (i32.add (local.get $accumulators) (i32.shl (local.get $b) (i32.const 2))) (i32.const 0))
                    (local.set $b (i32.add (local.get $b) (i32.const 1)))
                    (br $clear)))
                (block $termsDone
                  (loop $terms
                    (br_if $termsDone (i32.ge_s (local.get $p) (local.get $k)))
                    (local.set $packed
                      (i32.load
                        (i32.add (local.get $entries)
                          (i32.shl (i32.load8_u (i32.add (local.get $codeRow) (local.get $p))) (i32.const 2)))))
                    (local.set $negate (i32.sub (i32.const 0) (i32.and (i32.shr_u (local.get $packed) (i32.const 6)) (i32.const 1))))
                    (local.set $term
                      (i32.sub
                        (i32.xor
                          (i32.and
                            (i32.shl
                              (i32.load16_s (i32.add (local.get $xRow) (i32.shl (local.get $p) (i32.const 1))))
                              (local.get $packed))
                            (i32.sub (i32.const 0) (i32.and (i32.shr_u (local.get $packed) (i32.const 5)) (i32.const 1))))
                          (local.get $negate))
                        (local.get $negate)))
                    (local.set $slot
                      (i32.add (local.get $accumulators) (i32.shl (i32.shr_u (local.get $packed) (i32.const 7)) (i32.const 2))))
                    (i32.store (local.get $slot) (i32.add (i32.load (local.get $slot)) (local.get $term)))
                    (local.set $p (i32.add (local.get $p) (i32.const 1)))
                    (br $terms)))
                (local.set $total (f64.const 0))
                (local.set $b (i32.const 0))
                (block $sumDone
                  (loop $sumLoop
                    (br_if $sumDone (i32.ge_s (local.get $b) (local.get $buckets)))
                    (local.set $total
                      (f64.add (local.get $total)
                        (f64.mul
                          (f64.convert_i32_s (i32.load (i32.add (local.get $accumulators) (i32.shl (local.get $b) (i32.const 2)))))
                          (f64.load
                            (i32.add (local.get $bucketScale)
                              (i32.shl (i32.add (i32.mul (local.get $table) (local.get $buckets)) (local.get $b)) (i32.const 3)))))))
                    (local.set $b (i32.add (local.get $b) (i32.const 1)))
                    (br $sumLoop)))))
            (f32.store
              (i32.add (local.get $out)
                (i32.shl
                  (i32.add (i32.mul (local.get $i) (local.get $rowStride)) (i32.mul (local.get $j) (local.get $colStride)))
                  (i32.const 2)))
              (f32.demote_f64 (local.get $total)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $cols)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows)))))
