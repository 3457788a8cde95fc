;; The wasm-simd backend's kernels: float32 and int8 GEMM over panel-packed B, with their packing and epilogue
;; helpers, and the convolutions built on them (im2col into packed B, depthwise kernels; see "Convolution" below).
;; The JS side (src/wasm/) owns the memory layout: it copies operands in, calls these, and copies out.
;;
;; Conventions: every pointer and stride is in bytes; matrices are row-major. B is packed into panels of 8 columns
;; (zero-padded past N), so the micro-kernels read it as one contiguous stream and C is written with the padded
;; width (panels * 8 columns); the JS side copies the first N columns out.
;;
;; Built by `pnpm --filter @quantkit/runtime generate` into src/generated/kernels-wasm.ts.
(module
  (memory (export "memory") 1)

  ;; ------------------------------------------------------------------------------------------------------------
  ;; float32

  ;; Packs B[kk, j] (at src + 4 * (kk * rowStride + j * colStride), strides in elements) into panels of 8 columns:
  ;; panel p holds, for each kk, the 8 values B[kk, 8p .. 8p+7] (zero past n).
  (func (export "pack_b_f32")
    (param $src i32) (param $k i32) (param $n i32) (param $rowStride i32) (param $colStride i32) (param $dst i32)
    (local $j0 i32) (local $kk i32) (local $jj i32) (local $width i32) (local $row i32)
    (block $done
      (loop $panels
        (br_if $done (i32.ge_s (local.get $j0) (local.get $n)))
        (local.set $width (i32.sub (local.get $n) (local.get $j0)))
        (local.set $kk (i32.const 0))
        (if (i32.and (i32.ge_s (local.get $width) (i32.const 8)) (i32.eq (local.get $colStride) (i32.const 1)))
          (then
            ;; A full panel of a row-major B: two vector copies per row.
            (block $rowsDone
              (loop $rows
                (br_if $rowsDone (i32.ge_s (local.get $kk) (local.get $k)))
                (local.set $row
                  (i32.add (local.get $src)
                    (i32.shl (i32.add (i32.mul (local.get $kk) (local.get $rowStride)) (local.get $j0)) (i32.const 2))))
                (v128.store (local.get $dst) (v128.load (local.get $row)))
                (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $row)))
                (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
                (local.set $kk (i32.add (local.get $kk) (i32.const 1)))
                (br $rows))))
          (else
            (block $rowsDone
              (loop $rows
                (br_if $rowsDone (i32.ge_s (local.get $kk) (local.get $k)))
                (local.set $jj (i32.const 0))
                (loop $cols
                  (f32.store (local.get $dst)
                    (if (result f32) (i32.lt_s (local.get $jj) (local.get $width))
                      (then
                        (f32.load
                          (i32.add (local.get $src)
                            (i32.shl
                              (i32.add (i32.mul (local.get $kk) (local.get $rowStride))
                                (i32.mul (i32.add (local.get $j0) (local.get $jj)) (local.get $colStride)))
                              (i32.const 2)))))
                      (else (f32.const 0))))
                  (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
                  (local.set $jj (i32.add (local.get $jj) (i32.const 1)))
                  (br_if $cols (i32.lt_s (local.get $jj) (i32.const 8))))
                (local.set $kk (i32.add (local.get $kk) (i32.const 1)))
                (br $rows)))))
        (local.set $j0 (i32.add (local.get $j0) (i32.const 8)))
        (br $panels))))

  ;; Packs A[i, kk] (at src + 4 * (i * rowStride + kk * colStride), strides in elements) for gemm_f32: rows in
  ;; groups of 5 interleaved (for each kk, the 5 rows' values), then the rows left over one after another, so a
  ;; tile reads its A from one pointer. Row i's data starts at dst + 4 * i * k either way.
  (func (export "pack_a_f32")
    (param $src i32) (param $m i32) (param $k i32) (param $rowStride i32) (param $colStride i32) (param $dst i32)
    (local $i i32) (local $r i32) (local $kk i32) (local $rows i32) (local $out i32)
    (block $done
      (loop $groups
        (br_if $done (i32.ge_s (local.get $i) (local.get $m)))
        ;; A group of 5 rows, or a single row past the last whole group.
        (local.set $rows (select (i32.const 5) (i32.const 1) (i32.le_s (i32.add (local.get $i) (i32.const 5)) (local.get $m))))
        (local.set $r (i32.const 0))
        (loop $rowLoop
          (local.set $out
            (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $k)) (local.get $r)) (i32.const 2))))
          (local.set $kk (i32.const 0))
          (block $colsDone
            (loop $cols
              (br_if $colsDone (i32.ge_s (local.get $kk) (local.get $k)))
              (f32.store (local.get $out)
                (f32.load
                  (i32.add (local.get $src)
                    (i32.shl
                      (i32.add (i32.mul (i32.add (local.get $i) (local.get $r)) (local.get $rowStride))
                        (i32.mul (local.get $kk) (local.get $colStride)))
                      (i32.const 2)))))
              (local.set $out (i32.add (local.get $out) (i32.shl (local.get $rows) (i32.const 2))))
              (local.set $kk (i32.add (local.get $kk) (i32.const 1)))
              (br $cols)))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br_if $rowLoop (i32.lt_s (local.get $r) (local.get $rows))))
        (local.set $i (i32.add (local.get $i) (local.get $rows)))
        (br $groups))))

  ;; C[0:m, 0:8*panels] = packed A (pack_a_f32) * packed B. C's rows are ldc bytes apart. Whole groups of 5 rows
  ;; run 5x8 tiles; the rows left over run 1x16 tiles over pairs of panels (two streams of B, for M = 1) and 1x8
  ;; on an odd last panel.
  (func (export "gemm_f32")
    (param $a i32) (param $b i32) (param $c i32) (param $ldc i32) (param $m i32) (param $panels i32) (param $k i32)
    (local $p i32) (local $i i32) (local $panelBytes i32) (local $groupRows i32)
    (local.set $panelBytes (i32.shl (local.get $k) (i32.const 5)))
    (local.set $groupRows (i32.sub (local.get $m) (i32.rem_u (local.get $m) (i32.const 5))))
    (block $done
      (loop $panelLoop
        (br_if $done (i32.ge_s (local.get $p) (local.get $panels)))
        (local.set $i (i32.const 0))
        (block $groupsDone
          (loop $groups
            (br_if $groupsDone (i32.ge_s (local.get $i) (local.get $groupRows)))
            (call $f32_5x8
              (i32.add (local.get $a) (i32.shl (i32.mul (local.get $i) (local.get $k)) (i32.const 2)))
              (i32.add (local.get $b) (i32.mul (local.get $p) (local.get $panelBytes)))
              (i32.add (local.get $c) (i32.add (i32.mul (local.get $i) (local.get $ldc)) (i32.shl (local.get $p) (i32.const 5))))
              (local.get $ldc) (local.get $k))
            (local.set $i (i32.add (local.get $i) (i32.const 5)))
            (br $groups)))
        (if (i32.lt_s (i32.add (local.get $p) (i32.const 1)) (local.get $panels))
          (then
            ;; The next panel's groups, then the leftover rows over both panels at once.
            (local.set $i (i32.const 0))
            (block $groupsDone
              (loop $groups
                (br_if $groupsDone (i32.ge_s (local.get $i) (local.get $groupRows)))
                (call $f32_5x8
                  (i32.add (local.get $a) (i32.shl (i32.mul (local.get $i) (local.get $k)) (i32.const 2)))
                  (i32.add (local.get $b) (i32.mul (i32.add (local.get $p) (i32.const 1)) (local.get $panelBytes)))
                  (i32.add (local.get $c)
                    (i32.add (i32.mul (local.get $i) (local.get $ldc)) (i32.shl (i32.add (local.get $p) (i32.const 1)) (i32.const 5))))
                  (local.get $ldc) (local.get $k))
                (local.set $i (i32.add (local.get $i) (i32.const 5)))
                (br $groups)))
            (block $rowsDone
              (loop $rows
                (br_if $rowsDone (i32.ge_s (local.get $i) (local.get $m)))
                (call $f32_1x16
                  (i32.add (local.get $a) (i32.shl (i32.mul (local.get $i) (local.get $k)) (i32.const 2)))
                  (i32.add (local.get $b) (i32.mul (local.get $p) (local.get $panelBytes)))
                  (local.get $panelBytes)
                  (i32.add (local.get $c) (i32.add (i32.mul (local.get $i) (local.get $ldc)) (i32.shl (local.get $p) (i32.const 5))))
                  (local.get $k))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $rows)))
            (local.set $p (i32.add (local.get $p) (i32.const 2))))
          (else
            (block $rowsDone
              (loop $rows
                (br_if $rowsDone (i32.ge_s (local.get $i) (local.get $m)))
                (call $f32_1x8
                  (i32.add (local.get $a) (i32.shl (i32.mul (local.get $i) (local.get $k)) (i32.const 2)))
                  (i32.add (local.get $b) (i32.mul (local.get $p) (local.get $panelBytes)))
                  (i32.add (local.get $c) (i32.add (i32.mul (local.get $i) (local.get $ldc)) (i32.shl (local.get $p) (i32.const 5))))
                  (local.get $k))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $rows)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))))
        (br $panelLoop))))

  ;; A 5x8 tile of C: ten f32x4 accumulators (five rows of two vectors: the most that stay in registers), one
  ;; broadcast of A per row and two vectors of B per k. A is a group of 5 interleaved rows.
  (func $f32_5x8 (param $a i32) (param $b i32) (param $c i32) (param $ldc i32) (param $k i32)
    (local $end i32) (local $b0 v128) (local $b1 v128) (local $x v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128) (local $c20 v128) (local $c21 v128)
    (local $c30 v128) (local $c31 v128) (local $c40 v128) (local $c41 v128)
    (local.set $end (i32.add (local.get $a) (i32.mul (local.get $k) (i32.const 20))))
    (if (i32.gt_s (local.get $k) (i32.const 0))
      (then
        (loop $kLoop
          (local.set $b0 (v128.load (local.get $b)))
          (local.set $b1 (v128.load offset=16 (local.get $b)))
          (local.set $x (v128.load32_splat (local.get $a)))
          (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
          (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (local.get $b1))))
          (local.set $x (v128.load32_splat offset=4 (local.get $a)))
          (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x) (local.get $b0))))
          (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x) (local.get $b1))))
          (local.set $x (v128.load32_splat offset=8 (local.get $a)))
          (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x) (local.get $b0))))
          (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x) (local.get $b1))))
          (local.set $x (v128.load32_splat offset=12 (local.get $a)))
          (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x) (local.get $b0))))
          (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x) (local.get $b1))))
          (local.set $x (v128.load32_splat offset=16 (local.get $a)))
          (local.set $c40 (f32x4.add (local.get $c40) (f32x4.mul (local.get $x) (local.get $b0))))
          (local.set $c41 (f32x4.add (local.get $c41) (f32x4.mul (local.get $x) (local.get $b1))))
          (local.set $b (i32.add (local.get $b) (i32.const 32)))
          (local.set $a (i32.add (local.get $a) (i32.const 20)))
          (br_if $kLoop (i32.lt_u (local.get $a) (local.get $end))))))
    (v128.store (local.get $c) (local.get $c00))
    (v128.store offset=16 (local.get $c) (local.get $c01))
    (local.set $c (i32.add (local.get $c) (local.get $ldc)))
    (v128.store (local.get $c) (local.get $c10))
    (v128.store offset=16 (local.get $c) (local.get $c11))
    (local.set $c (i32.add (local.get $c) (local.get $ldc)))
    (v128.store (local.get $c) (local.get $c20))
    (v128.store offset=16 (local.get $c) (local.get $c21))
    (local.set $c (i32.add (local.get $c) (local.get $ldc)))
    (v128.store (local.get $c) (local.get $c30))
    (v128.store offset=16 (local.get $c) (local.get $c31))
    (local.set $c (i32.add (local.get $c) (local.get $ldc)))
    (v128.store (local.get $c) (local.get $c40))
    (v128.store offset=16 (local.get $c) (local.get $c41)))

  ;; A 1x16 tile over two panels (b and b + next): one row of A against two streams of B, which is what bounds
  ;; M = 1 (a plain loop here ran faster than one unrolled over two k).
  (func $f32_1x16 (param $a i32) (param $b i32) (param $next i32) (param $c i32) (param $k i32)
    (local $end i32) (local $x v128) (local $b2 i32)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local.set $b2 (i32.add (local.get $b) (local.get $next)))
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $k) (i32.const 2))))
    (if (i32.ge_s (local.get $k) (i32.const 1))
      (then
        (loop $kLoop
          (local.set $x (v128.load32_splat (local.get $a)))
          (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $x) (v128.load (local.get $b)))))
          (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $x) (v128.load offset=16 (local.get $b)))))
          (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $x) (v128.load (local.get $b2)))))
          (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $x) (v128.load offset=16 (local.get $b2)))))
          (local.set $b (i32.add (local.get $b) (i32.const 32)))
          (local.set $b2 (i32.add (local.get $b2) (i32.const 32)))
          (local.set $a (i32.add (local.get $a) (i32.const 4)))
          (br_if $kLoop (i32.lt_u (local.get $a) (local.get $end))))))
    (v128.store (local.get $c) (local.get $c0))
    (v128.store offset=16 (local.get $c) (local.get $c1))
    (v128.store offset=32 (local.get $c) (local.get $c2))
    (v128.store offset=48 (local.get $c) (local.get $c3)))

  ;; A 1x8 tile of C (a row left over, on an odd last panel), two k per step on separate accumulators.
  (func $f32_1x8 (param $a i32) (param $b i32) (param $c i32) (param $k i32)
    (local $end i32) (local $x v128)
    (local $c0 v128) (local $c1 v128) (local $d0 v128) (local $d1 v128)
    (local.set $end (i32.add (local.get $a) (i32.shl (i32.and (local.get $k) (i32.const -2)) (i32.const 2))))
    (if (i32.ge_s (local.get $k) (i32.const 2))
      (then
        (loop $kLoop
          (local.set $x (v128.load32_splat (local.get $a)))
          (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $x) (v128.load (local.get $b)))))
          (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $x) (v128.load offset=16 (local.get $b)))))
          (local.set $x (v128.load32_splat offset=4 (local.get $a)))
          (local.set $d0 (f32x4.add (local.get $d0) (f32x4.mul (local.get $x) (v128.load offset=32 (local.get $b)))))
          (local.set $d1 (f32x4.add (local.get $d1) (f32x4.mul (local.get $x) (v128.load offset=48 (local.get $b)))))
          (local.set $b (i32.add (local.get $b) (i32.const 64)))
          (local.set $a (i32.add (local.get $a) (i32.const 8)))
          (br_if $kLoop (i32.lt_u (local.get $a) (local.get $end))))))
    (if (i32.and (local.get $k) (i32.const 1))
      (then
        (local.set $x (v128.load32_splat (local.get $a)))
        (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $x) (v128.load (local.get $b)))))
        (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $x) (v128.load offset=16 (local.get $b)))))))
    (v128.store (local.get $c) (f32x4.add (local.get $c0) (local.get $d0)))
    (v128.store offset=16 (local.get $c) (f32x4.add (local.get $c1) (local.get $d1))))

  ;; ------------------------------------------------------------------------------------------------------------
  ;; int8: codes widened to i16 and multiplied pairwise with i32x4.dot_i16x8_s into i32 accumulators.
  ;;
  ;; K is padded to a multiple of 4 (kPadded) with zeros. Packed A: the codes widened to i16, rows in groups of 5
  ;; interleaved by pairs of k (for each pair, the 5 rows' two values), then the rows left over one after another;
  ;; row i starts at dst + 2 * i * kPadded either way. Packed B: panels of 8 columns; for each pair of k (2q, 2q+1),
  ;; 16 bytes holding, per column j, B[2q, j] then B[2q+1, j] as s8 (u8 codes are stored xor 0x80, i.e. minus
  ;; 128, and the JS side moves the zero point by the same 128). The 5-row tiles read B widened ahead to i16
  ;; (widen_b_i8: 32 bytes a pair of k, twice the memory, 15-20% faster here); single rows read the s8 panels
  ;; (half the memory traffic, which is what bounds M = 1).

  ;; Packs B[kk, j] (byte at src + kk * rowStride + j * colStride) xor flip into panels, and writes each column's
  ;; sum of its stored s8 values to colSums (an i32 per padded column).
  (func (export "pack_b_i8")
    (param $src i32) (param $k i32) (param $n i32) (param $rowStride i32) (param $colStride i32) (param $flip i32)
    (param $dst i32) (param $colSums i32) (param $kPadded i32)
    (local $j i32) (local $columns i32) (local $kk i32) (local $value i32) (local $sum i32) (local $out i32)
    (local.set $columns (i32.and (i32.add (local.get $n) (i32.const 7)) (i32.const -8)))
    (block $done
      (loop $cols
        (br_if $done (i32.ge_s (local.get $j) (local.get $columns)))
        ;; Column j sits in panel j / 8 at byte (j % 8) * 2 of each 16-byte k-pair row.
        (local.set $out
          (i32.add (local.get $dst)
            (i32.add (i32.mul (i32.shr_u (local.get $j) (i32.const 3)) (i32.shl (local.get $kPadded) (i32.const 3)))
              (i32.shl (i32.and (local.get $j) (i32.const 7)) (i32.const 1)))))
        (local.set $sum (i32.const 0))
        (local.set $kk (i32.const 0))
        (block $rowsDone
          (loop $rows
            (br_if $rowsDone (i32.ge_s (local.get $kk) (local.get $kPadded)))
            (local.set $value (i32.const 0))
            (if (i32.and (i32.lt_s (local.get $kk) (local.get $k)) (i32.lt_s (local.get $j) (local.get $n)))
              (then
                (local.set $value
                  (i32.extend8_s
                    (i32.xor (local.get $flip)
                      (i32.load8_u
                        (i32.add (local.get $src)
                          (i32.add (i32.mul (local.get $kk) (local.get $rowStride))
                            (i32.mul (local.get $j) (local.get $colStride))))))))))
            (i32.store8
              (i32.add (local.get $out)
                (i32.add (i32.shl (i32.shr_u (local.get $kk) (i32.const 1)) (i32.const 4))
                  (i32.and (local.get $kk) (i32.const 1))))
              (local.get $value))
            (local.set $sum (i32.add (local.get $sum) (local.get $value)))
            (local.set $kk (i32.add (local.get $kk) (i32.const 1)))
            (br $rows)))
        (i32.store (i32.add (local.get $colSums) (i32.shl (local.get $j) (i32.const 2))) (local.get $sum))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $cols))))

  ;; Packs A[i, kk] (byte at src + i * lda + kk, s8 when isSigned else u8) widened to i16 in the layout above,
  ;; zero past k; writes each row's sum to rowSums (an i32 per row).
  (func (export "pack_a_i8")
    (param $src i32) (param $m i32) (param $k i32) (param $lda i32) (param $isSigned i32)
    (param $dst i32) (param $rowSums i32) (param $kPadded i32)
    (local $i i32) (local $r i32) (local $rows i32) (local $kk i32) (local $value i32) (local $sum i32)
    (local $row i32) (local $out i32)
    (block $done
      (loop $groups
        (br_if $done (i32.ge_s (local.get $i) (local.get $m)))
        ;; A group of 5 rows, or a single row past the last whole group.
        (local.set $rows
          (select (i32.const 5) (i32.const 1) (i32.le_s (i32.add (local.get $i) (i32.const 5)) (local.get $m))))
        (local.set $r (i32.const 0))
        (loop $rowLoop
          (local.set $row (i32.add (local.get $src) (i32.mul (i32.add (local.get $i) (local.get $r)) (local.get $lda))))
          (local.set $sum (i32.const 0))
          (local.set $kk (i32.const 0))
          (block $colsDone
            (loop $cols
              (br_if $colsDone (i32.ge_s (local.get $kk) (local.get $kPadded)))
              (local.set $value (i32.const 0))
              (if (i32.lt_s (local.get $kk) (local.get $k))
                (then
                  (local.set $value (i32.load8_u (i32.add (local.get $row) (local.get $kk))))
                  (if (local.get $isSigned) (then (local.set $value (i32.extend8_s (local.get $value)))))))
              ;; Pair kk / 2 of row r of the group, at 4 bytes per row of the group per pair.
              (i32.store16
                (i32.add
                  (i32.add (local.get $dst) (i32.shl (i32.mul (local.get $i) (local.get $kPadded)) (i32.const 1)))
                  (i32.add
                    (i32.shl (i32.mul (i32.shr_u (local.get $kk) (i32.const 1)) (local.get $rows)) (i32.const 2))
                    (i32.add (i32.shl (local.get $r) (i32.const 2)) (i32.shl (i32.and (local.get $kk) (i32.const 1)) (i32.const 1)))))
                (local.get $value))
              (local.set $sum (i32.add (local.get $sum) (local.get $value)))
              (local.set $kk (i32.add (local.get $kk) (i32.const 1)))
              (br $cols)))
          (i32.store (i32.add (local.get $rowSums) (i32.shl (i32.add (local.get $i) (local.get $r)) (i32.const 2)))
            (local.get $sum))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br_if $rowLoop (i32.lt_s (local.get $r) (local.get $rows))))
        (local.set $i (i32.add (local.get $i) (local.get $rows)))
        (br $groups))))

  ;; Widens packed B (bytes of s8) to i16 for the 5-row tiles: each 16 bytes become their low and high halves
  ;; extended, 32 bytes.
  (func (export "widen_b_i8") (param $src i32) (param $bytes i32) (param $dst i32)
    (local $end i32) (local $x v128)
    (local.set $end (i32.add (local.get $src) (local.get $bytes)))
    (block $done
      (loop $chunks
        (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
        (local.set $x (v128.load (local.get $src)))
        (v128.store (local.get $dst) (i16x8.extend_low_i8x16_s (local.get $x)))
        (v128.store offset=16 (local.get $dst) (i16x8.extend_high_i8x16_s (local.get $x)))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
        (br $chunks))))

  ;; C[0:m, 0:8*panels] (i32) = packed A * packed B over kPadded (a multiple of 4): whole groups of 5 rows on
  ;; widened B (bWide, unused when m < 5), the rows left over on the s8 panels (b). ldc in bytes.
  (func (export "gemm_i8")
    (param $a i32) (param $b i32) (param $bWide i32) (param $c i32) (param $ldc i32)
    (param $m i32) (param $panels i32) (param $kPadded i32)
    (local $p i32) (local $i i32) (local $groupRows i32) (local $cp i32)
    (local.set $groupRows (i32.sub (local.get $m) (i32.rem_u (local.get $m) (i32.const 5))))
    (block $done
      (loop $panelLoop
        (br_if $done (i32.ge_s (local.get $p) (local.get $panels)))
        (local.set $cp (i32.add (local.get $c) (i32.shl (local.get $p) (i32.const 5))))
        (local.set $i (i32.const 0))
        (block $groupsDone
          (loop $groups
            (br_if $groupsDone (i32.ge_s (local.get $i) (local.get $groupRows)))
            (call $i8_5x8
              (i32.add (local.get $a) (i32.shl (i32.mul (local.get $i) (local.get $kPadded)) (i32.const 1)))
              (i32.add (local.get $bWide) (i32.shl (i32.mul (local.get $p) (local.get $kPadded)) (i32.const 4)))
              (i32.add (local.get $cp) (i32.mul (local.get $i) (local.get $ldc))) (local.get $ldc) (local.get $kPadded))
            (local.set $i (i32.add (local.get $i) (i32.const 5)))
            (br $groups)))
        (block $rowsDone
          (loop $rows
            (br_if $rowsDone (i32.ge_s (local.get $i) (local.get $m)))
            (call $i8_1x8
              (i32.add (local.get $a) (i32.shl (i32.mul (local.get $i) (local.get $kPadded)) (i32.const 1)))
              (i32.add (local.get $b) (i32.shl (i32.mul (local.get $p) (local.get $kPadded)) (i32.const 3)))
              (i32.add (local.get $cp) (i32.mul (local.get $i) (local.get $ldc))) (local.get $kPadded))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $rows)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $panelLoop))))

  ;; A 5x8 tile: per pair of k, the two i16x8 vectors of widened B (columns 0-3 and 4-7) and per row the A pair
  ;; broadcast to all four lanes, so each dot gives four columns' partial sums. A is a group of 5 interleaved rows.
  (func $i8_5x8 (param $a i32) (param $b i32) (param $c i32) (param $ldc i32) (param $kPadded i32)
    (local $end i32) (local $b0 v128) (local $b1 v128) (local $x v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128) (local $c20 v128) (local $c21 v128)
    (local $c30 v128) (local $c31 v128) (local $c40 v128) (local $c41 v128)
    (local.set $end (i32.add (local.get $a) (i32.mul (local.get $kPadded) (i32.const 10))))
    (if (i32.gt_s (local.get $kPadded) (i32.const 0))
      (then
        (loop $kLoop
          (local.set $b0 (v128.load (local.get $b)))
          (local.set $b1 (v128.load offset=16 (local.get $b)))
          (local.set $x (v128.load32_splat (local.get $a)))
          (local.set $c00 (i32x4.add (local.get $c00) (i32x4.dot_i16x8_s (local.get $x) (local.get $b0))))
          (local.set $c01 (i32x4.add (local.get $c01) (i32x4.dot_i16x8_s (local.get $x) (local.get $b1))))
          (local.set $x (v128.load32_splat offset=4 (local.get $a)))
          (local.set $c10 (i32x4.add (local.get $c10) (i32x4.dot_i16x8_s (local.get $x) (local.get $b0))))
          (local.set $c11 (i32x4.add (local.get $c11) (i32x4.dot_i16x8_s (local.get $x) (local.get $b1))))
          (local.set $x (v128.load32_splat offset=8 (local.get $a)))
          (local.set $c20 (i32x4.add (local.get $c20) (i32x4.dot_i16x8_s (local.get $x) (local.get $b0))))
          (local.set $c21 (i32x4.add (local.get $c21) (i32x4.dot_i16x8_s (local.get $x) (local.get $b1))))
          (local.set $x (v128.load32_splat offset=12 (local.get $a)))
          (local.set $c30 (i32x4.add (local.get $c30) (i32x4.dot_i16x8_s (local.get $x) (local.get $b0))))
          (local.set $c31 (i32x4.add (local.get $c31) (i32x4.dot_i16x8_s (local.get $x) (local.get $b1))))
          (local.set $x (v128.load32_splat offset=16 (local.get $a)))
          (local.set $c40 (i32x4.add (local.get $c40) (i32x4.dot_i16x8_s (local.get $x) (local.get $b0))))
          (local.set $c41 (i32x4.add (local.get $c41) (i32x4.dot_i16x8_s (local.get $x) (local.get $b1))))
          (local.set $b (i32.add (local.get $b) (i32.const 32)))
          (local.set $a (i32.add (local.get $a) (i32.const 20)))
          (br_if $kLoop (i32.lt_u (local.get $a) (local.get $end))))))
    (v128.store (local.get $c) (local.get $c00))
    (v128.store offset=16 (local.get $c) (local.get $c01))
    (local.set $c (i32.add (local.get $c) (local.get $ldc)))
    (v128.store (local.get $c) (local.get $c10))
    (v128.store offset=16 (local.get $c) (local.get $c11))
    (local.set $c (i32.add (local.get $c) (local.get $ldc)))
    (v128.store (local.get $c) (local.get $c20))
    (v128.store offset=16 (local.get $c) (local.get $c21))
    (local.set $c (i32.add (local.get $c) (local.get $ldc)))
    (v128.store (local.get $c) (local.get $c30))
    (v128.store offset=16 (local.get $c) (local.get $c31))
    (local.set $c (i32.add (local.get $c) (local.get $ldc)))
    (v128.store (local.get $c) (local.get $c40))
    (v128.store offset=16 (local.get $c) (local.get $c41)))

  ;; A 1x8 tile on the s8 panels, two pairs of k (kPadded is a multiple of 4) per step on separate accumulators.
  (func $i8_1x8 (param $a i32) (param $b i32) (param $c i32) (param $kPadded i32)
    (local $end i32) (local $x v128) (local $y v128)
    (local $c0 v128) (local $c1 v128) (local $d0 v128) (local $d1 v128)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $kPadded) (i32.const 1))))
    (if (i32.gt_s (local.get $kPadded) (i32.const 0))
      (then
        (loop $kLoop
          (local.set $y (v128.load (local.get $b)))
          (local.set $x (v128.load32_splat (local.get $a)))
          (local.set $c0 (i32x4.add (local.get $c0) (i32x4.dot_i16x8_s (local.get $x) (i16x8.extend_low_i8x16_s (local.get $y)))))
          (local.set $c1 (i32x4.add (local.get $c1) (i32x4.dot_i16x8_s (local.get $x) (i16x8.extend_high_i8x16_s (local.get $y)))))
          (local.set $y (v128.load offset=16 (local.get $b)))
          (local.set $x (v128.load32_splat offset=4 (local.get $a)))
          (local.set $d0 (i32x4.add (local.get $d0) (i32x4.dot_i16x8_s (local.get $x) (i16x8.extend_low_i8x16_s (local.get $y)))))
          (local.set $d1 (i32x4.add (local.get $d1) (i32x4.dot_i16x8_s (local.get $x) (i16x8.extend_high_i8x16_s (local.get $y)))))
          (local.set $b (i32.add (local.get $b) (i32.const 32)))
          (local.set $a (i32.add (local.get $a) (i32.const 8)))
          (br_if $kLoop (i32.lt_u (local.get $a) (local.get $end))))))
    (v128.store (local.get $c) (i32x4.add (local.get $c0) (local.get $d0)))
    (v128.store offset=16 (local.get $c) (i32x4.add (local.get $c1) (local.get $d1))))

  ;; Zero points, in place on C (i32): C[i, j] = raw - za[i] * colSums[j] + zb[j] * (k * za[i] - rowSums[i]), which
  ;; is sum_k (a - za[i]) (b - zb[j]) in wrapping i32 arithmetic. za: an i32 per row; zb: an i32 per padded column.
  (func (export "apply_zero_points")
    (param $c i32) (param $ldc i32) (param $m i32) (param $panels i32) (param $rowSums i32) (param $za i32)
    (param $colSums i32) (param $zb i32) (param $k i32)
    (local $i i32) (local $j i32) (local $columns i32) (local $zaRow v128) (local $t v128) (local $row i32)
    (local $offset i32) (local $zaValue i32)
    (local.set $columns (i32.shl (local.get $panels) (i32.const 3)))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_s (local.get $i) (local.get $m)))
        (local.set $zaValue (i32.load (i32.add (local.get $za) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $zaRow (i32x4.splat (local.get $zaValue)))
        (local.set $t
          (i32x4.splat
            (i32.sub (i32.mul (local.get $k) (local.get $zaValue))
              (i32.load (i32.add (local.get $rowSums) (i32.shl (local.get $i) (i32.const 2)))))))
        (local.set $row (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ldc))))
        (local.set $j (i32.const 0))
        (block $colsDone
          (loop $cols
            (br_if $colsDone (i32.ge_s (local.get $j) (local.get $columns)))
            (local.set $offset (i32.shl (local.get $j) (i32.const 2)))
            (v128.store (i32.add (local.get $row) (local.get $offset))
              (i32x4.add
                (i32x4.sub (v128.load (i32.add (local.get $row) (local.get $offset)))
                  (i32x4.mul (local.get $zaRow) (v128.load (i32.add (local.get $colSums) (local.get $offset)))))
                (i32x4.mul (local.get $t) (v128.load (i32.add (local.get $zb) (local.get $offset))))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $cols)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))

  ;; Requantizes C (i32) into 8-bit codes as onnxruntime does: float(c) * scale[j] (float32), rounded half to even,
  ;; plus the zero point, saturated to [low, high] (0..255 or -128..127, per isSigned). out rows are ldo bytes
  ;; apart; 8 padded columns are written per step.
  (func (export "requantize")
    (param $c i32) (param $ldc i32) (param $m i32) (param $panels i32) (param $scales i32) (param $zeroPoint i32)
    (param $isSigned i32) (param $out i32) (param $ldo i32)
    (local $i i32) (local $j i32) (local $columns i32) (local $row i32) (local $outRow i32)
    (local $zero v128) (local $low v128) (local $high v128) (local $r0 v128) (local $r1 v128) (local $narrow v128)
    (local.set $columns (i32.shl (local.get $panels) (i32.const 3)))
    (local.set $zero (i32x4.splat (local.get $zeroPoint)))
    (local.set $low (i32x4.splat (select (i32.const -128) (i32.const 0) (local.get $isSigned))))
    (local.set $high (i32x4.splat (select (i32.const 127) (i32.const 255) (local.get $isSigned))))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_s (local.get $i) (local.get $m)))
        (local.set $row (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ldc))))
        (local.set $outRow (i32.add (local.get $out) (i32.mul (local.get $i) (local.get $ldo))))
        (local.set $j (i32.const 0))
        (block $colsDone
          (loop $cols
            (br_if $colsDone (i32.ge_s (local.get $j) (local.get $columns)))
            (local.set $r0
              (i32x4.min_s (local.get $high)
                (i32x4.max_s (local.get $low)
                  (i32x4.add (local.get $zero)
                    (i32x4.trunc_sat_f32x4_s
                      (f32x4.nearest
                        (f32x4.mul
                          (f32x4.convert_i32x4_s
                            (v128.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))))
                          (v128.load (i32.add (local.get $scales) (i32.shl (local.get $j) (i32.const 2)))))))))))
            (local.set $r1
              (i32x4.min_s (local.get $high)
                (i32x4.max_s (local.get $low)
                  (i32x4.add (local.get $zero)
                    (i32x4.trunc_sat_f32x4_s
                      (f32x4.nearest
                        (f32x4.mul
                          (f32x4.convert_i32x4_s
                            (v128.load offset=16 (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))))
                          (v128.load offset=16
                            (i32.add (local.get $scales) (i32.shl (local.get $j) (i32.const 2)))))))))))
            (local.set $narrow (i16x8.narrow_i32x4_s (local.get $r0) (local.get $r1)))
            (if (local.get $isSigned)
              (then (local.set $narrow (i8x16.narrow_i16x8_s (local.get $narrow) (local.get $narrow))))
              (else (local.set $narrow (i8x16.narrow_i16x8_u (local.get $narrow) (local.get $narrow)))))
            (v128.store64_lane 0 (i32.add (local.get $outRow) (local.get $j)) (local.get $narrow))
            (local.set $j (i32.add (local.get $j) (i32.const 8)))
            (br $cols)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))

  ;; ------------------------------------------------------------------------------------------------------------
  ;; Convolution. A convolution runs per image and group as C[M, P] = W[M, K] * patches[K, P]: W (M output
  ;; channels by K = input channels x kernel taps) packed once as A (pack_a_f32, pack_a_i8), the input's patches
  ;; written by im2col straight into packed-B panels of 8 output positions, a range of panels at a time so they
  ;; stay in cache, and the epilogues write C's rows, which are output channels, as NCHW rows. Depthwise
  ;; convolutions (one input channel per output channel) run direct kernels over a padded copy of each plane.
  ;;
  ;; Geometry block (i32s at $geometry) of a 2-D window (1-D: height 1): 0 inH, 4 inW, 8 outH, 12 outW, 16 kH,
  ;; 20 kW, 24 sH, 28 sW, 32 dH, 36 dW, 40 pH, 44 pW (padding before), 48 planes (im2col: entries of the plane
  ;; table), 52 PH, 56 PW (depthwise: the padded plane's height and width).

  ;; The code at column `column` of the row at `row`, padByte outside [0, width).
  (func $row_byte (param $row i32) (param $column i32) (param $width i32) (param $padByte i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $column) (local.get $width))
      (then (i32.load8_u (i32.add (local.get $row) (local.get $column))))
      (else (local.get $padByte))))

  ;; Writes panels [firstPanel, firstPanel + panelCount) of the float patches matrix in pack_b_f32's layout at
  ;; dst: per panel, per row (plane e, then tap kh, kw) the 8 positions' values, zero in the padding and past the
  ;; last position. planes: an i32 per plane, its byte address, or -1 for a plane wholly in the padding (depth
  ;; padding of a 3-D convolution run slice by slice). Reads up to 4 bytes past a plane's last element.
  (func (export "im2col_f32")
    (param $geometry i32) (param $planes i32) (param $firstPanel i32) (param $panelCount i32) (param $dst i32)
    (local $inH i32) (local $inW i32) (local $outW i32) (local $kH i32) (local $kW i32) (local $sH i32)
    (local $sW i32) (local $dH i32) (local $dW i32) (local $pH i32) (local $pW i32) (local $planeEnd i32)
    (local $q i32) (local $end i32) (local $p0 i32) (local $oh i32) (local $ow0 i32) (local $fast i32)
    (local $e i32) (local $plane i32) (local $kh i32) (local $kw i32) (local $ih i32) (local $iw i32)
    (local $row i32) (local $lane i32) (local $offset i32)
    (local $hb0 i32) (local $wb0 i32) (local $hb1 i32) (local $wb1 i32) (local $hb2 i32) (local $wb2 i32) (local $hb3 i32) (local $wb3 i32) (local $hb4 i32) (local $wb4 i32) (local $hb5 i32) (local $wb5 i32) (local $hb6 i32) (local $wb6 i32) (local $hb7 i32) (local $wb7 i32) (local $sh i32) (local $sw i32) (local $position i32) (local $positions i32)
    (local.set $inH (i32.load (local.get $geometry)))
    (local.set $inW (i32.load offset=4 (local.get $geometry)))
    (local.set $outW (i32.load offset=12 (local.get $geometry)))
    (local.set $kH (i32.load offset=16 (local.get $geometry)))
    (local.set $kW (i32.load offset=20 (local.get $geometry)))
    (local.set $sH (i32.load offset=24 (local.get $geometry)))
    (local.set $sW (i32.load offset=28 (local.get $geometry)))
    (local.set $dH (i32.load offset=32 (local.get $geometry)))
    (local.set $dW (i32.load offset=36 (local.get $geometry)))
    (local.set $pH (i32.load offset=40 (local.get $geometry)))
    (local.set $pW (i32.load offset=44 (local.get $geometry)))
    (local.set $positions (i32.mul (i32.load offset=8 (local.get $geometry)) (local.get $outW)))
    (local.set $planeEnd
      (i32.add (local.get $planes) (i32.shl (i32.load offset=48 (local.get $geometry)) (i32.const 2))))
    (local.set $q (local.get $firstPanel))
    (local.set $end (i32.add (local.get $firstPanel) (local.get $panelCount)))
    (block $done
      (loop $panels
        (br_if $done (i32.ge_s (local.get $q) (local.get $end)))
        (local.set $p0 (i32.shl (local.get $q) (i32.const 3)))
        (local.set $oh (i32.div_u (local.get $p0) (local.get $outW)))
        (local.set $ow0 (i32.sub (local.get $p0) (i32.mul (local.get $oh) (local.get $outW))))
        ;; The 8 positions lie in one output row (so all are real positions).
        (local.set $fast (i32.le_s (i32.add (local.get $ow0) (i32.const 8)) (local.get $outW)))
        ;; Positions across output rows or past the last one: each lane's window origin, once per panel (past the
        ;; last position, an origin far above the input, so every tap lands in the padding).
        (if (i32.eqz (local.get $fast))
          (then
            (local.set $position (i32.add (local.get $p0) (i32.const 0)))
            (local.set $hb0 (i32.const -0x40000000))
            (local.set $wb0 (i32.const 0))
            (if (i32.lt_u (local.get $position) (local.get $positions))
              (then
                (local.set $sh (i32.div_u (local.get $position) (local.get $outW)))
                (local.set $hb0 (i32.sub (i32.mul (local.get $sh) (local.get $sH)) (local.get $pH)))
                (local.set $wb0
                  (i32.sub (i32.mul (i32.sub (local.get $position) (i32.mul (local.get $sh) (local.get $outW))) (local.get $sW))
                    (local.get $pW)))))
            (local.set $position (i32.add (local.get $p0) (i32.const 1)))
            (local.set $hb1 (i32.const -0x40000000))
            (local.set $wb1 (i32.const 0))
            (if (i32.lt_u (local.get $position) (local.get $positions))
              (then
                (local.set $sh (i32.div_u (local.get $position) (local.get $outW)))
                (local.set $hb1 (i32.sub (i32.mul (local.get $sh) (local.get $sH)) (local.get $pH)))
                (local.set $wb1
                  (i32.sub (i32.mul (i32.sub (local.get $position) (i32.mul (local.get $sh) (local.get $outW))) (local.get $sW))
                    (local.get $pW)))))
            (local.set $position (i32.add (local.get $p0) (i32.const 2)))
            (local.set $hb2 (i32.const -0x40000000))
            (local.set $wb2 (i32.const 0))
            (if (i32.lt_u (local.get $position) (local.get $positions))
              (then
                (local.set $sh (i32.div_u (local.get $position) (local.get $outW)))
                (local.set $hb2 (i32.sub (i32.mul (local.get $sh) (local.get $sH)) (local.get $pH)))
                (local.set $wb2
                  (i32.sub (i32.mul (i32.sub (local.get $position) (i32.mul (local.get $sh) (local.get $outW))) (local.get $sW))
                    (local.get $pW)))))
            (local.set $position (i32.add (local.get $p0) (i32.const 3)))
            (local.set $hb3 (i32.const -0x40000000))
            (local.set $wb3 (i32.const 0))
            (if (i32.lt_u (local.get $position) (local.get $positions))
              (then
                (local.set $sh (i32.div_u (local.get $position) (local.get $outW)))
                (local.set $hb3 (i32.sub (i32.mul (local.get $sh) (local.get $sH)) (local.get $pH)))
                (local.set $wb3
                  (i32.sub (i32.mul (i32.sub (local.get $position) (i32.mul (local.get $sh) (local.get $outW))) (local.get $sW))
                    (local.get $pW)))))
            (local.set $position (i32.add (local.get $p0) (i32.const 4)))
            (local.set $hb4 (i32.const -0x40000000))
            (local.set $wb4 (i32.const 0))
            (if (i32.lt_u (local.get $position) (local.get $positions))
              (then
                (local.set $sh (i32.div_u (local.get $position) (local.get $outW)))
                (local.set $hb4 (i32.sub (i32.mul (local.get $sh) (local.get $sH)) (local.get $pH)))
                (local.set $wb4
                  (i32.sub (i32.mul (i32.sub (local.get $position) (i32.mul (local.get $sh) (local.get $outW))) (local.get $sW))
                    (local.get $pW)))))
            (local.set $position (i32.add (local.get $p0) (i32.const 5)))
            (local.set $hb5 (i32.const -0x40000000))
            (local.set $wb5 (i32.const 0))
            (if (i32.lt_u (local.get $position) (local.get $positions))
              (then
                (local.set $sh (i32.div_u (local.get $position) (local.get $outW)))
                (local.set $hb5 (i32.sub (i32.mul (local.get $sh) (local.get $sH)) (local.get $pH)))
                (local.set $wb5
                  (i32.sub (i32.mul (i32.sub (local.get $position) (i32.mul (local.get $sh) (local.get $outW))) (local.get $sW))
                    (local.get $pW)))))
            (local.set $position (i32.add (local.get $p0) (i32.const 6)))
            (local.set $hb6 (i32.const -0x40000000))
            (local.set $wb6 (i32.const 0))
            (if (i32.lt_u (local.get $position) (local.get $positions))
              (then
                (local.set $sh (i32.div_u (local.get $position) (local.get $outW)))
                (local.set $hb6 (i32.sub (i32.mul (local.get $sh) (local.get $sH)) (local.get $pH)))
                (local.set $wb6
                  (i32.sub (i32.mul (i32.sub (local.get $position) (i32.mul (local.get $sh) (local.get $outW))) (local.get $sW))
                    (local.get $pW)))))
            (local.set $position (i32.add (local.get $p0) (i32.const 7)))
            (local.set $hb7 (i32.const -0x40000000))
            (local.set $wb7 (i32.const 0))
            (if (i32.lt_u (local.get $position) (local.get $positions))
              (then
                (local.set $sh (i32.div_u (local.get $position) (local.get $outW)))
                (local.set $hb7 (i32.sub (i32.mul (local.get $sh) (local.get $sH)) (local.get $pH)))
                (local.set $wb7
                  (i32.sub (i32.mul (i32.sub (local.get $position) (i32.mul (local.get $sh) (local.get $outW))) (local.get $sW))
                    (local.get $pW)))))
        ))
        (local.set $e (local.get $planes))
        (block $planesDone
          (loop $planeLoop
            (br_if $planesDone (i32.ge_u (local.get $e) (local.get $planeEnd)))
            (local.set $plane (i32.load (local.get $e)))
            (local.set $kh (i32.const 0))
            (loop $khLoop
              (local.set $ih
                (i32.add (i32.sub (i32.mul (local.get $oh) (local.get $sH)) (local.get $pH))
                  (i32.mul (local.get $kh) (local.get $dH))))
              (local.set $row
                (i32.add (local.get $plane) (i32.shl (i32.mul (local.get $ih) (local.get $inW)) (i32.const 2))))
              (local.set $kw (i32.const 0))
              (loop $kwLoop
                (local.set $iw
                  (i32.add (i32.sub (i32.mul (local.get $ow0) (local.get $sW)) (local.get $pW))
                    (i32.mul (local.get $kw) (local.get $dW))))
                (block $written
                  (if (local.get $fast)
                    (then
                      (if (i32.or (i32.lt_s (local.get $plane) (i32.const 0))
                            (i32.ge_u (local.get $ih) (local.get $inH)))
                        (then
                          (v128.store (local.get $dst) (v128.const i32x4 0 0 0 0))
                          (v128.store offset=16 (local.get $dst) (v128.const i32x4 0 0 0 0))
                          (br $written)))
                      (if (i32.and (i32.ge_s (local.get $iw) (i32.const 0))
                            (i32.lt_s (i32.add (local.get $iw) (i32.mul (local.get $sW) (i32.const 7)))
                              (local.get $inW)))
                        (then
                          (local.set $offset (i32.add (local.get $row) (i32.shl (local.get $iw) (i32.const 2))))
                          (if (i32.eq (local.get $sW) (i32.const 1))
                            (then
                              (v128.store (local.get $dst) (v128.load (local.get $offset)))
                              (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $offset)))
                              (br $written)))
                          (if (i32.eq (local.get $sW) (i32.const 2))
                            (then
                              (v128.store (local.get $dst)
                                (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
                                  (v128.load (local.get $offset)) (v128.load offset=16 (local.get $offset))))
                              (v128.store offset=16 (local.get $dst)
                                (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
                                  (v128.load offset=32 (local.get $offset)) (v128.load offset=48 (local.get $offset))))
                              (br $written)))
                          (local.set $lane (i32.const 0))
                          (loop $lanes
                            (f32.store (i32.add (local.get $dst) (i32.shl (local.get $lane) (i32.const 2)))
                              (f32.load
                                (i32.add (local.get $offset)
                                  (i32.shl (i32.mul (local.get $lane) (local.get $sW)) (i32.const 2)))))
                            (local.set $lane (i32.add (local.get $lane) (i32.const 1)))
                            (br_if $lanes (i32.lt_u (local.get $lane) (i32.const 8))))
                          (br $written)))
                      ;; Windows over the left or right edge: column by column.
                      (local.set $lane (i32.const 0))
                      (loop $edge
                        (local.set $offset (i32.add (local.get $iw) (i32.mul (local.get $lane) (local.get $sW))))
                        (f32.store (i32.add (local.get $dst) (i32.shl (local.get $lane) (i32.const 2)))
                          (if (result f32) (i32.lt_u (local.get $offset) (local.get $inW))
                            (then (f32.load (i32.add (local.get $row) (i32.shl (local.get $offset) (i32.const 2)))))
                            (else (f32.const 0))))
                        (local.set $lane (i32.add (local.get $lane) (i32.const 1)))
                        (br_if $edge (i32.lt_u (local.get $lane) (i32.const 8))))
                      (br $written)))
                  ;; Lane by lane, from the lanes' window origins.
                  (local.set $sh (i32.add (local.get $hb0) (i32.mul (local.get $kh) (local.get $dH))))
                  (local.set $sw (i32.add (local.get $wb0) (i32.mul (local.get $kw) (local.get $dW))))
                  (local.set $sh
                    (select (i32.add (i32.mul (local.get $sh) (local.get $inW)) (local.get $sw)) (i32.const -1)
                      (i32.and (i32.ge_s (local.get $plane) (i32.const 0))
                        (i32.and (i32.lt_u (local.get $sh) (local.get $inH)) (i32.lt_u (local.get $sw) (local.get $inW))))))
                  (f32.store offset=0 (local.get $dst)
                    (if (result f32) (i32.lt_s (local.get $sh) (i32.const 0))
                      (then (f32.const 0))
                      (else (f32.load (i32.add (local.get $plane) (i32.shl (local.get $sh) (i32.const 2)))))))
                  (local.set $sh (i32.add (local.get $hb1) (i32.mul (local.get $kh) (local.get $dH))))
                  (local.set $sw (i32.add (local.get $wb1) (i32.mul (local.get $kw) (local.get $dW))))
                  (local.set $sh
                    (select (i32.add (i32.mul (local.get $sh) (local.get $inW)) (local.get $sw)) (i32.const -1)
                      (i32.and (i32.ge_s (local.get $plane) (i32.const 0))
                        (i32.and (i32.lt_u (local.get $sh) (local.get $inH)) (i32.lt_u (local.get $sw) (local.get $inW))))))
                  (f32.store offset=4 (local.get $dst)
                    (if (result f32) (i32.lt_s (local.get $sh) (i32.const 0))
                      (then (f32.const 0))
                      (else (f32.load (i32.add (local.get $plane) (i32.shl (local.get $sh) (i32.const 2)))))))
                  (local.set $sh (i32.add (local.get $hb2) (i32.mul (local.get $kh) (local.get $dH))))
                  (local.set $sw (i32.add (local.get $wb2) (i32.mul (local.get $kw) (local.get $dW))))
                  (local.set $sh
                    (select (i32.add (i32.mul (local.get $sh) (local.get $inW)) (local.get $sw)) (i32.const -1)
                      (i32.and (i32.ge_s (local.get $plane) (i32.const 0))
                        (i32.and (i32.lt_u (local.get $sh) (local.get $inH)) (i32.lt_u (local.get $sw) (local.get $inW))))))
                  (f32.store offset=8 (local.get $dst)
                    (if (result f32) (i32.lt_s (local.get $sh) (i32.const 0))
                      (then (f32.const 0))
                      (else (f32.load (i32.add (local.get $plane) (i32.shl (local.get $sh) (i32.const 2)))))))
                  (local.set $sh (i32.add (local.get $hb3) (i32.mul (local.get $kh) (local.get $dH))))
                  (local.set $sw (i32.add (local.get $wb3) (i32.mul (local.get $kw) (local.get $dW))))
                  (local.set $sh
                    (select (i32.add (i32.mul (local.get $sh) (local.get $inW)) (local.get $sw)) (i32.const -1)
                      (i32.and (i32.ge_s (local.get $plane) (i32.const 0))
                        (i32.and (i32.lt_u (local.get $sh) (local.get $inH)) (i32.lt_u (local.get $sw) (local.get $inW))))))
                  (f32.store offset=12 (local.get $dst)
                    (if (result f32) (i32.lt_s (local.get $sh) (i32.const 0))
                      (then (f32.const 0))
                      (else (f32.load (i32.add (local.get $plane) (i32.shl (local.get $sh) (i32.const 2)))))))
                  (local.set $sh (i32.add (local.get $hb4) (i32.mul (local.get $kh) (local.get $dH))))
                  (local.set $sw (i32.add (local.get $wb4) (i32.mul (local.get $kw) (local.get $dW))))
                  (local.set $sh
                    (select (i32.add (i32.mul (local.get $sh) (local.get $inW)) (local.get $sw)) (i32.const -1)
                      (i32.and (i32.ge_s (local.get $plane) (i32.const 0))
                        (i32.and (i32.lt_u (local.get $sh) (local.get $inH)) (i32.lt_u (local.get $sw) (local.get $inW))))))
                  (f32.store offset=16 (local.get $dst)
                    (if (result f32) (i32.lt_s (local.get $sh) (i32.const 0))
                      (then (f32.const 0))
                      (else (f32.load (i32.add (local.get $plane) (i32.shl (local.get $sh) (i32.const 2)))))))
                  (local.set $sh (i32.add (local.get $hb5) (i32.mul (local.get $kh) (local.get $dH))))
                  (local.set $sw (i32.add (local.get $wb5) (i32.mul (local.get $kw) (local.get $dW))))
                  (local.set $sh
                    (select (i32.add (i32.mul (local.get $sh) (local.get $inW)) (local.get $sw)) (i32.const -1)
                      (i32.and (i32.ge_s (local.get $plane) (i32.const 0))
                        (i32.and (i32.lt_u (local.get $sh) (local.get $inH)) (i32.lt_u (local.get $sw) (local.get $inW))))))
                  (f32.store offset=20 (local.get $dst)
                    (if (result f32) (i32.lt_s (local.get $sh) (i32.const 0))
                      (then (f32.const 0))
                      (else (f32.load (i32.add (local.get $plane) (i32.shl (local.get $sh) (i32.const 2)))))))
                  (local.set $sh (i32.add (local.get $hb6) (i32.mul (local.get $kh) (local.get $dH))))
                  (local.set $sw (i32.add (local.get $wb6) (i32.mul (local.get $kw) (local.get $dW))))
                  (local.set $sh
                    (select (i32.add (i32.mul (local.get $sh) (local.get $inW)) (local.get $sw)) (i32.const -1)
                      (i32.and (i32.ge_s (local.get $plane) (i32.const 0))
                        (i32.and (i32.lt_u (local.get $sh) (local.get $inH)) (i32.lt_u (local.get $sw) (local.get $inW))))))
                  (f32.store offset=24 (local.get $dst)
                    (if (result f32) (i32.lt_s (local.get $sh) (i32.const 0))
                      (then (f32.const 0))
                      (else (f32.load (i32.add (local.get $plane) (i32.shl (local.get $sh) (i32.const 2)))))))
                  (local.set $sh (i32.add (local.get $hb7) (i32.mul (local.get $kh) (local.get $dH))))
                  (local.set $sw (i32.add (local.get $wb7) (i32.mul (local.get $kw) (local.get $dW))))
                  (local.set $sh
                    (select (i32.add (i32.mul (local.get $sh) (local.get $inW)) (local.get $sw)) (i32.const -1)
                      (i32.and (i32.ge_s (local.get $plane) (i32.const 0))
                        (i32.and (i32.lt_u (local.get $sh) (local.get $inH)) (i32.lt_u (local.get $sw) (local.get $inW))))))
                  (f32.store offset=28 (local.get $dst)
                    (if (result f32) (i32.lt_s (local.get $sh) (i32.const 0))
                      (then (f32.const 0))
                      (else (f32.load (i32.add (local.get $plane) (i32.shl (local.get $sh) (i32.const 2))))))))
                (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
                (local.set $kw (i32.add (local.get $kw) (i32.const 1)))
                (br_if $kwLoop (i32.lt_s (local.get $kw) (local.get $kW))))
              (local.set $kh (i32.add (local.get $kh) (i32.const 1)))
              (br_if $khLoop (i32.lt_s (local.get $kh) (local.get $kH))))
            (local.set $e (i32.add (local.get $e) (i32.const 4)))
            (br $planeLoop)))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $panels))))

  ;; The int8 im2col: panels [firstPanel, firstPanel + panelCount) of the patches matrix of 8-bit codes in
  ;; pack_b_i8's layout at dst (kPadded rows, zero past K = planes * kH * kW), each code xor flip and the padding
  ;; padByte xor flip (so it is the stored zero point). Rows are gathered 8 positions at a time and interleaved
  ;; by pairs. Reads up to 1 byte past a plane's last element.
  (func (export "im2col_i8")
    (param $geometry i32) (param $planes i32) (param $firstPanel i32) (param $panelCount i32)
    (param $padByte i32) (param $flip i32) (param $kPadded i32) (param $dst i32)
    (local $inH i32) (local $inW i32) (local $outW i32) (local $kH i32) (local $kW i32) (local $sH i32)
    (local $sW i32) (local $dH i32) (local $dW i32) (local $pH i32) (local $pW i32) (local $planeEnd i32)
    (local $q i32) (local $end i32) (local $p0 i32) (local $oh i32) (local $ow0 i32) (local $fast i32)
    (local $e i32) (local $plane i32) (local $kh i32) (local $kw i32) (local $ih i32) (local $iw i32)
    (local $row i32) (local $offset i32) (local $panelEnd i32) (local $odd i32)
    (local $cur v128) (local $previous v128) (local $pad v128) (local $flips v128)
    (local $hb0 i32) (local $wb0 i32) (local $hb1 i32) (local $wb1 i32) (local $hb2 i32) (local $wb2 i32) (local $hb3 i32) (local $wb3 i32) (local $hb4 i32) (local $wb4 i32) (local $hb5 i32) (local $wb5 i32) (local $hb6 i32) (local $wb6 i32) (local $hb7 i32) (local $wb7 i32) (local $sh i32) (local $sw i32) (local $position i32) (local $positions i32)
    (local.set $inH (i32.load (local.get $geometry)))
    (local.set $inW (i32.load offset=4 (local.get $geometry)))
    (local.set $outW (i32.load offset=12 (local.get $geometry)))
    (local.set $kH (i32.load offset=16 (local.get $geometry)))
    (local.set $kW (i32.load offset=20 (local.get $geometry)))
    (local.set $sH (i32.load offset=24 (local.get $geometry)))
    (local.set $sW (i32.load offset=28 (local.get $geometry)))
    (local.set $dH (i32.load offset=32 (local.get $geometry)))
    (local.set $dW (i32.load offset=36 (local.get $geometry)))
    (local.set $pH (i32.load offset=40 (local.get $geometry)))
    (local.set $pW (i32.load offset=44 (local.get $geometry)))
    (local.set $positions (i32.mul (i32.load offset=8 (local.get $geometry)) (local.get $outW)))
    (local.set $planeEnd
      (i32.add (local.get $planes) (i32.shl (i32.load offset=48 (local.get $geometry)) (i32.const 2))))
    (local.set $pad (i8x16.splat (local.get $padByte)))
    (local.set $flips (i8x16.splat (local.get $flip)))
    (local.set $q (local.get $firstPanel))
    (local.set $end (i32.add (local.get $firstPanel) (local.get $panelCount)))
    (block $done
      (loop $panels
        (br_if $done (i32.ge_s (local.get $q) (local.get $end)))
        (local.set $panelEnd (i32.add (local.get $dst) (i32.shl (local.get $kPadded) (i32.const 3))))
        (local.set $p0 (i32.shl (local.get $q) (i32.const 3)))
        (local.set $oh (i32.div_u (local.get $p0) (local.get $outW)))
        (local.set $ow0 (i32.sub (local.get $p0) (i32.mul (local.get $oh) (local.get $outW))))
        (local.set $fast (i32.le_s (i32.add (local.get $ow0) (i32.const 8)) (local.get $outW)))
        ;; Positions across output rows or past the last one: each lane's window origin, once per panel (past the
        ;; last position, an origin far above the input, so every tap lands in the padding).
        (if (i32.eqz (local.get $fast))
          (then
            (local.set $position (i32.add (local.get $p0) (i32.const 0)))
            (local.set $hb0 (i32.const -0x40000000))
            (local.set $wb0 (i32.const 0))
            (if (i32.lt_u (local.get $position) (local.get $positions))
              (then
                (local.set $sh (i32.div_u (local.get $position) (local.get $outW)))
                (local.set $hb0 (i32.sub (i32.mul (local.get $sh) (local.get $sH)) (local.get $pH)))
                (local.set $wb0
                  (i32.sub (i32.mul (i32.sub (local.get $position) (i32.mul (local.get $sh) (local.get $outW))) (local.get $sW))
                    (local.get $pW)))))
            (local.set $position (i32.add (local.get $p0) (i32.const 1)))
            (local.set $hb1 (i32.const -0x40000000))
            (local.set $wb1 (i32.const 0))
            (if (i32.lt_u (local.get $position) (local.get $positions))
              (then
                (local.set $sh (i32.div_u (local.get $position) (local.get $outW)))
                (local.set $hb1 (i32.sub (i32.mul (local.get $sh) (local.get $sH)) (local.get $pH)))
                (local.set $wb1
                  (i32.sub (i32.mul (i32.sub (local.get $position) (i32.mul (local.get $sh) (local.get $outW))) (local.get $sW))
                    (local.get $pW)))))
            (local.set $position (i32.add (local.get $p0) (i32.const 2)))
            (local.set $hb2 (i32.const -0x40000000))
            (local.set $wb2 (i32.const 0))
            (if (i32.lt_u (local.get $position) (local.get $positions))
              (then
                (local.set $sh (i32.div_u (local.get $position) (local.get $outW)))
                (local.set $hb2 (i32.sub (i32.mul (local.get $sh) (local.get $sH)) (local.get $pH)))
                (local.set $wb2
                  (i32.sub (i32.mul (i32.sub (local.get $position) (i32.mul (local.get $sh) (local.get $outW))) (local.get $sW))
                    (local.get $pW)))))
            (local.set $position (i32.add (local.get $p0) (i32.const 3)))
            (local.set $hb3 (i32.const -0x40000000))
            (local.set $wb3 (i32.const 0))
            (if (i32.lt_u (local.get $position) (local.get $positions))
              (then
                (local.set $sh (i32.div_u (local.get $position) (local.get $outW)))
                (local.set $hb3 (i32.sub (i32.mul (local.get $sh) (local.get $sH)) (local.get $pH)))
                (local.set $wb3
                  (i32.sub (i32.mul (i32.sub (local.get $position) (i32.mul (local.get $sh) (local.get $outW))) (local.get $sW))
                    (local.get $pW)))))
            (local.set $position (i32.add (local.get $p0) (i32.const 4)))
            (local.set $hb4 (i32.const -0x40000000))
            (local.set $wb4 (i32.const 0))
            (if (i32.lt_u (local.get $position) (local.get $positions))
              (then
                (local.set $sh (i32.div_u (local.get $position) (local.get $outW)))
                (local.set $hb4 (i32.sub (i32.mul (local.get $sh) (local.get $sH)) (local.get $pH)))
                (local.set $wb4
                  (i32.sub (i32.mul (i32.sub (local.get $position) (i32.mul (local.get $sh) (local.get $outW))) (local.get $sW))
                    (local.get $pW)))))
            (local.set $position (i32.add (local.get $p0) (i32.const 5)))
            (local.set $hb5 (i32.const -0x40000000))
            (local.set $wb5 (i32.const 0))
            (if (i32.lt_u (local.get $position) (local.get $positions))
              (then
                (local.set $sh (i32.div_u (local.get $position) (local.get $outW)))
                (local.set $hb5 (i32.sub (i32.mul (local.get $sh) (local.get $sH)) (local.get $pH)))
                (local.set $wb5
                  (i32.sub (i32.mul (i32.sub (local.get $position) (i32.mul (local.get $sh) (local.get $outW))) (local.get $sW))
                    (local.get $pW)))))
            (local.set $position (i32.add (local.get $p0) (i32.const 6)))
            (local.set $hb6 (i32.const -0x40000000))
            (local.set $wb6 (i32.const 0))
            (if (i32.lt_u (local.get $position) (local.get $positions))
              (then
                (local.set $sh (i32.div_u (local.get $position) (local.get $outW)))
                (local.set $hb6 (i32.sub (i32.mul (local.get $sh) (local.get $sH)) (local.get $pH)))
                (local.set $wb6
                  (i32.sub (i32.mul (i32.sub (local.get $position) (i32.mul (local.get $sh) (local.get $outW))) (local.get $sW))
                    (local.get $pW)))))
            (local.set $position (i32.add (local.get $p0) (i32.const 7)))
            (local.set $hb7 (i32.const -0x40000000))
            (local.set $wb7 (i32.const 0))
            (if (i32.lt_u (local.get $position) (local.get $positions))
              (then
                (local.set $sh (i32.div_u (local.get $position) (local.get $outW)))
                (local.set $hb7 (i32.sub (i32.mul (local.get $sh) (local.get $sH)) (local.get $pH)))
                (local.set $wb7
                  (i32.sub (i32.mul (i32.sub (local.get $position) (i32.mul (local.get $sh) (local.get $outW))) (local.get $sW))
                    (local.get $pW)))))
        ))
        (local.set $odd (i32.const 0))
        (local.set $e (local.get $planes))
        (block $planesDone
          (loop $planeLoop
            (br_if $planesDone (i32.ge_u (local.get $e) (local.get $planeEnd)))
            (local.set $plane (i32.load (local.get $e)))
            (local.set $kh (i32.const 0))
            (loop $khLoop
              (local.set $ih
                (i32.add (i32.sub (i32.mul (local.get $oh) (local.get $sH)) (local.get $pH))
                  (i32.mul (local.get $kh) (local.get $dH))))
              (local.set $row (i32.add (local.get $plane) (i32.mul (local.get $ih) (local.get $inW))))
              (local.set $kw (i32.const 0))
              (loop $kwLoop
                (local.set $iw
                  (i32.add (i32.sub (i32.mul (local.get $ow0) (local.get $sW)) (local.get $pW))
                    (i32.mul (local.get $kw) (local.get $dW))))
                (block $gathered
                  (if (local.get $fast)
                    (then
                      (if (i32.or (i32.lt_s (local.get $plane) (i32.const 0))
                            (i32.ge_u (local.get $ih) (local.get $inH)))
                        (then
                          (local.set $cur (local.get $pad))
                          (br $gathered)))
                      (if (i32.and (i32.ge_s (local.get $iw) (i32.const 0))
                            (i32.lt_s (i32.add (local.get $iw) (i32.mul (local.get $sW) (i32.const 7)))
                              (local.get $inW)))
                        (then
                          (local.set $offset (i32.add (local.get $row) (local.get $iw)))
                          (if (i32.eq (local.get $sW) (i32.const 1))
                            (then
                              (local.set $cur (v128.load64_zero (local.get $offset)))
                              (br $gathered)))
                          (if (i32.eq (local.get $sW) (i32.const 2))
                            (then
                              (local.set $cur (v128.load (local.get $offset)))
                              (local.set $cur
                                (i8x16.shuffle 0 2 4 6 8 10 12 14 0 0 0 0 0 0 0 0 (local.get $cur) (local.get $cur)))
                              (br $gathered)))
                          (local.set $cur (i8x16.splat (i32.load8_u (local.get $offset))))
                          (local.set $offset (i32.add (local.get $offset) (local.get $sW)))
                          (local.set $cur (i8x16.replace_lane 1 (local.get $cur) (i32.load8_u (local.get $offset))))
                          (local.set $offset (i32.add (local.get $offset) (local.get $sW)))
                          (local.set $cur (i8x16.replace_lane 2 (local.get $cur) (i32.load8_u (local.get $offset))))
                          (local.set $offset (i32.add (local.get $offset) (local.get $sW)))
                          (local.set $cur (i8x16.replace_lane 3 (local.get $cur) (i32.load8_u (local.get $offset))))
                          (local.set $offset (i32.add (local.get $offset) (local.get $sW)))
                          (local.set $cur (i8x16.replace_lane 4 (local.get $cur) (i32.load8_u (local.get $offset))))
                          (local.set $offset (i32.add (local.get $offset) (local.get $sW)))
                          (local.set $cur (i8x16.replace_lane 5 (local.get $cur) (i32.load8_u (local.get $offset))))
                          (local.set $offset (i32.add (local.get $offset) (local.get $sW)))
                          (local.set $cur (i8x16.replace_lane 6 (local.get $cur) (i32.load8_u (local.get $offset))))
                          (local.set $offset (i32.add (local.get $offset) (local.get $sW)))
                          (local.set $cur (i8x16.replace_lane 7 (local.get $cur) (i32.load8_u (local.get $offset))))
                          (br $gathered)))
                      ;; Windows over the left or right edge: column by column.
                      (local.set $offset (local.get $iw))
                      (local.set $cur
                        (i8x16.splat (call $row_byte (local.get $row) (local.get $offset) (local.get $inW) (local.get $padByte))))
                      (local.set $offset (i32.add (local.get $offset) (local.get $sW)))
                      (local.set $cur
                        (i8x16.replace_lane 1 (local.get $cur)
                          (call $row_byte (local.get $row) (local.get $offset) (local.get $inW) (local.get $padByte))))
                      (local.set $offset (i32.add (local.get $offset) (local.get $sW)))
                      (local.set $cur
                        (i8x16.replace_lane 2 (local.get $cur)
                          (call $row_byte (local.get $row) (local.get $offset) (local.get $inW) (local.get $padByte))))
                      (local.set $offset (i32.add (local.get $offset) (local.get $sW)))
                      (local.set $cur
                        (i8x16.replace_lane 3 (local.get $cur)
                          (call $row_byte (local.get $row) (local.get $offset) (local.get $inW) (local.get $padByte))))
                      (local.set $offset (i32.add (local.get $offset) (local.get $sW)))
                      (local.set $cur
                        (i8x16.replace_lane 4 (local.get $cur)
                          (call $row_byte (local.get $row) (local.get $offset) (local.get $inW) (local.get $padByte))))
                      (local.set $offset (i32.add (local.get $offset) (local.get $sW)))
                      (local.set $cur
                        (i8x16.replace_lane 5 (local.get $cur)
                          (call $row_byte (local.get $row) (local.get $offset) (local.get $inW) (local.get $padByte))))
                      (local.set $offset (i32.add (local.get $offset) (local.get $sW)))
                      (local.set $cur
                        (i8x16.replace_lane 6 (local.get $cur)
                          (call $row_byte (local.get $row) (local.get $offset) (local.get $inW) (local.get $padByte))))
                      (local.set $offset (i32.add (local.get $offset) (local.get $sW)))
                      (local.set $cur
                        (i8x16.replace_lane 7 (local.get $cur)
                          (call $row_byte (local.get $row) (local.get $offset) (local.get $inW) (local.get $padByte))))
                      (br $gathered)))
                  ;; Lane by lane, from the lanes' window origins.
                  (local.set $sh (i32.add (local.get $hb0) (i32.mul (local.get $kh) (local.get $dH))))
                  (local.set $sw (i32.add (local.get $wb0) (i32.mul (local.get $kw) (local.get $dW))))
                  (local.set $sh
                    (select (i32.add (i32.mul (local.get $sh) (local.get $inW)) (local.get $sw)) (i32.const -1)
                      (i32.and (i32.ge_s (local.get $plane) (i32.const 0))
                        (i32.and (i32.lt_u (local.get $sh) (local.get $inH)) (i32.lt_u (local.get $sw) (local.get $inW))))))
                  (local.set $cur
                    (i8x16.splat
                      (if (result i32) (i32.lt_s (local.get $sh) (i32.const 0))
                      (then (local.get $padByte))
                      (else (i32.load8_u (i32.add (local.get $plane) (local.get $sh)))))))
                  (local.set $sh (i32.add (local.get $hb1) (i32.mul (local.get $kh) (local.get $dH))))
                  (local.set $sw (i32.add (local.get $wb1) (i32.mul (local.get $kw) (local.get $dW))))
                  (local.set $sh
                    (select (i32.add (i32.mul (local.get $sh) (local.get $inW)) (local.get $sw)) (i32.const -1)
                      (i32.and (i32.ge_s (local.get $plane) (i32.const 0))
                        (i32.and (i32.lt_u (local.get $sh) (local.get $inH)) (i32.lt_u (local.get $sw) (local.get $inW))))))
                  (local.set $cur
                    (i8x16.replace_lane 1 (local.get $cur)
                      (if (result i32) (i32.lt_s (local.get $sh) (i32.const 0))
                      (then (local.get $padByte))
                      (else (i32.load8_u (i32.add (local.get $plane) (local.get $sh)))))))
                  (local.set $sh (i32.add (local.get $hb2) (i32.mul (local.get $kh) (local.get $dH))))
                  (local.set $sw (i32.add (local.get $wb2) (i32.mul (local.get $kw) (local.get $dW))))
                  (local.set $sh
                    (select (i32.add (i32.mul (local.get $sh) (local.get $inW)) (local.get $sw)) (i32.const -1)
                      (i32.and (i32.ge_s (local.get $plane) (i32.const 0))
                        (i32.and (i32.lt_u (local.get $sh) (local.get $inH)) (i32.lt_u (local.get $sw) (local.get $inW))))))
                  (local.set $cur
                    (i8x16.replace_lane 2 (local.get $cur)
                      (if (result i32) (i32.lt_s (local.get $sh) (i32.const 0))
                      (then (local.get $padByte))
                      (else (i32.load8_u (i32.add (local.get $plane) (local.get $sh)))))))
                  (local.set $sh (i32.add (local.get $hb3) (i32.mul (local.get $kh) (local.get $dH))))
                  (local.set $sw (i32.add (local.get $wb3) (i32.mul (local.get $kw) (local.get $dW))))
                  (local.set $sh
                    (select (i32.add (i32.mul (local.get $sh) (local.get $inW)) (local.get $sw)) (i32.const -1)
                      (i32.and (i32.ge_s (local.get $plane) (i32.const 0))
                        (i32.and (i32.lt_u (local.get $sh) (local.get $inH)) (i32.lt_u (local.get $sw) (local.get $inW))))))
                  (local.set $cur
                    (i8x16.replace_lane 3 (local.get $cur)
                      (if (result i32) (i32.lt_s (local.get $sh) (i32.const 0))
                      (then (local.get $padByte))
                      (else (i32.load8_u (i32.add (local.get $plane) (local.get $sh)))))))
                  (local.set $sh (i32.add (local.get $hb4) (i32.mul (local.get $kh) (local.get $dH))))
                  (local.set $sw (i32.add (local.get $wb4) (i32.mul (local.get $kw) (local.get $dW))))
                  (local.set $sh
                    (select (i32.add (i32.mul (local.get $sh) (local.get $inW)) (local.get $sw)) (i32.const -1)
                      (i32.and (i32.ge_s (local.get $plane) (i32.const 0))
                        (i32.and (i32.lt_u (local.get $sh) (local.get $inH)) (i32.lt_u (local.get $sw) (local.get $inW))))))
                  (local.set $cur
                    (i8x16.replace_lane 4 (local.get $cur)
                      (if (result i32) (i32.lt_s (local.get $sh) (i32.const 0))
                      (then (local.get $padByte))
                      (else (i32.load8_u (i32.add (local.get $plane) (local.get $sh)))))))
                  (local.set $sh (i32.add (local.get $hb5) (i32.mul (local.get $kh) (local.get $dH))))
                  (local.set $sw (i32.add (local.get $wb5) (i32.mul (local.get $kw) (local.get $dW))))
                  (local.set $sh
                    (select (i32.add (i32.mul (local.get $sh) (local.get $inW)) (local.get $sw)) (i32.const -1)
                      (i32.and (i32.ge_s (local.get $plane) (i32.const 0))
                        (i32.and (i32.lt_u (local.get $sh) (local.get $inH)) (i32.lt_u (local.get $sw) (local.get $inW))))))
                  (local.set $cur
                    (i8x16.replace_lane 5 (local.get $cur)
                      (if (result i32) (i32.lt_s (local.get $sh) (i32.const 0))
                      (then (local.get $padByte))
                      (else (i32.load8_u (i32.add (local.get $plane) (local.get $sh)))))))
                  (local.set $sh (i32.add (local.get $hb6) (i32.mul (local.get $kh) (local.get $dH))))
                  (local.set $sw (i32.add (local.get $wb6) (i32.mul (local.get $kw) (local.get $dW))))
                  (local.set $sh
                    (select (i32.add (i32.mul (local.get $sh) (local.get $inW)) (local.get $sw)) (i32.const -1)
                      (i32.and (i32.ge_s (local.get $plane) (i32.const 0))
                        (i32.and (i32.lt_u (local.get $sh) (local.get $inH)) (i32.lt_u (local.get $sw) (local.get $inW))))))
                  (local.set $cur
                    (i8x16.replace_lane 6 (local.get $cur)
                      (if (result i32) (i32.lt_s (local.get $sh) (i32.const 0))
                      (then (local.get $padByte))
                      (else (i32.load8_u (i32.add (local.get $plane) (local.get $sh)))))))
                  (local.set $sh (i32.add (local.get $hb7) (i32.mul (local.get $kh) (local.get $dH))))
                  (local.set $sw (i32.add (local.get $wb7) (i32.mul (local.get $kw) (local.get $dW))))
                  (local.set $sh
                    (select (i32.add (i32.mul (local.get $sh) (local.get $inW)) (local.get $sw)) (i32.const -1)
                      (i32.and (i32.ge_s (local.get $plane) (i32.const 0))
                        (i32.and (i32.lt_u (local.get $sh) (local.get $inH)) (i32.lt_u (local.get $sw) (local.get $inW))))))
                  (local.set $cur
                    (i8x16.replace_lane 7 (local.get $cur)
                      (if (result i32) (i32.lt_s (local.get $sh) (i32.const 0))
                      (then (local.get $padByte))
                      (else (i32.load8_u (i32.add (local.get $plane) (local.get $sh))))))))
                (local.set $cur (v128.xor (local.get $cur) (local.get $flips)))
                ;; Rows in pairs: an even row waits for the odd one, then both go out interleaved.
                (if (local.get $odd)
                  (then
                    (v128.store (local.get $dst)
                      (i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23 (local.get $previous) (local.get $cur)))
                    (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
                    (local.set $odd (i32.const 0)))
                  (else
                    (local.set $previous (local.get $cur))
                    (local.set $odd (i32.const 1))))
                (local.set $kw (i32.add (local.get $kw) (i32.const 1)))
                (br_if $kwLoop (i32.lt_s (local.get $kw) (local.get $kW))))
              (local.set $kh (i32.add (local.get $kh) (i32.const 1)))
              (br_if $khLoop (i32.lt_s (local.get $kh) (local.get $kH))))
            (local.set $e (i32.add (local.get $e) (i32.const 4)))
            (br $planeLoop)))
        ;; An odd K's last row pairs with a zero row; rows past K up to kPadded are zero.
        (if (local.get $odd)
          (then
            (v128.store (local.get $dst)
              (i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23 (local.get $previous) (v128.const i32x4 0 0 0 0)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 16)))))
        (block $zerosDone
          (loop $zeros
            (br_if $zerosDone (i32.ge_u (local.get $dst) (local.get $panelEnd)))
            (v128.store (local.get $dst) (v128.const i32x4 0 0 0 0))
            (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
            (br $zeros)))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $panels))))

  ;; Packs panels [firstPanel, firstPanel + panelCount) of `rows` rows of 8-bit codes (row r at src + r *
  ;; rowStride, 8 columns a panel) xor flip into pack_b_i8's layout at dst, zero past `rows` up to kPadded: the
  ;; int8 im2col of a 1x1 window without stride or pads. The last panel's columns past a row's end hold what
  ;; follows it (their results are not used); reads up to 8 bytes past the last row.
  (func (export "pack_rows_i8")
    (param $src i32) (param $rowStride i32) (param $rows i32) (param $firstPanel i32) (param $panelCount i32)
    (param $flip i32) (param $kPadded i32) (param $dst i32)
    (local $q i32) (local $end i32) (local $from i32) (local $pair i32) (local $pairs i32) (local $panelEnd i32)
    (local $flips v128)
    (local.set $flips (i8x16.splat (local.get $flip)))
    (local.set $pairs (i32.shr_u (local.get $rows) (i32.const 1)))
    (local.set $q (local.get $firstPanel))
    (local.set $end (i32.add (local.get $firstPanel) (local.get $panelCount)))
    (block $done
      (loop $panels
        (br_if $done (i32.ge_s (local.get $q) (local.get $end)))
        (local.set $panelEnd (i32.add (local.get $dst) (i32.shl (local.get $kPadded) (i32.const 3))))
        (local.set $from (i32.add (local.get $src) (i32.shl (local.get $q) (i32.const 3))))
        (local.set $pair (i32.const 0))
        (block $pairsDone
          (loop $pairLoop
            (br_if $pairsDone (i32.ge_s (local.get $pair) (local.get $pairs)))
            (v128.store (local.get $dst)
              (v128.xor (local.get $flips)
                (i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23
                  (v128.load64_zero (local.get $from))
                  (v128.load64_zero (i32.add (local.get $from) (local.get $rowStride))))))
            (local.set $from (i32.add (local.get $from) (i32.shl (local.get $rowStride) (i32.const 1))))
            (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
            (local.set $pair (i32.add (local.get $pair) (i32.const 1)))
            (br $pairLoop)))
        ;; An odd last row pairs with a zero row; rows past it up to kPadded are zero.
        (if (i32.and (local.get $rows) (i32.const 1))
          (then
            (v128.store (local.get $dst)
              (i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23
                (v128.xor (local.get $flips) (v128.load64_zero (local.get $from))) (v128.const i32x4 0 0 0 0)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 16)))))
        (block $zerosDone
          (loop $zeros
            (br_if $zerosDone (i32.ge_u (local.get $dst) (local.get $panelEnd)))
            (v128.store (local.get $dst) (v128.const i32x4 0 0 0 0))
            (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
            (br $zeros)))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $panels))))

  ;; Column sums of `panels` packed B panels in pack_b_i8's layout (s8 values, kPadded rows): an i32 per column.
  (func (export "col_sums_i8") (param $packed i32) (param $panels i32) (param $kPadded i32) (param $colSums i32)
    (local $q i32) (local $end i32) (local $sum0 v128) (local $sum1 v128) (local $pairs v128)
    (block $done
      (loop $panelLoop
        (br_if $done (i32.ge_s (local.get $q) (local.get $panels)))
        (local.set $end (i32.add (local.get $packed) (i32.shl (local.get $kPadded) (i32.const 3))))
        (local.set $sum0 (v128.const i32x4 0 0 0 0))
        (local.set $sum1 (v128.const i32x4 0 0 0 0))
        (block $rowsDone
          (loop $rows
            (br_if $rowsDone (i32.ge_u (local.get $packed) (local.get $end)))
            ;; 16 bytes: columns 0-7, two rows each; the pairwise sums are per column.
            (local.set $pairs (i16x8.extadd_pairwise_i8x16_s (v128.load (local.get $packed))))
            (local.set $sum0 (i32x4.add (local.get $sum0) (i32x4.extend_low_i16x8_s (local.get $pairs))))
            (local.set $sum1 (i32x4.add (local.get $sum1) (i32x4.extend_high_i16x8_s (local.get $pairs))))
            (local.set $packed (i32.add (local.get $packed) (i32.const 16)))
            (br $rows)))
        (v128.store (local.get $colSums) (local.get $sum0))
        (v128.store offset=16 (local.get $colSums) (local.get $sum1))
        (local.set $colSums (i32.add (local.get $colSums) (i32.const 32)))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $panelLoop))))

  ;; Copies the first n 32-bit values of each of m rows of C (ldc bytes apart) to dst (ldd bytes apart), exactly n
  ;; per row, adding the f32 bias[i] to row i when bias is not 0 (float C).
  (func (export "copy_rows_32")
    (param $c i32) (param $ldc i32) (param $m i32) (param $n i32) (param $bias i32) (param $dst i32) (param $ldd i32)
    (local $i i32) (local $j i32) (local $full i32) (local $from i32) (local $to i32) (local $b v128) (local $v v128)
    (local.set $full (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (local.set $n (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_s (local.get $i) (local.get $m)))
        (local.set $from (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ldc))))
        (local.set $to (i32.add (local.get $dst) (i32.mul (local.get $i) (local.get $ldd))))
        (local.set $j (i32.const 0))
        (if (local.get $bias)
          (then
            (local.set $b (v128.load32_splat (i32.add (local.get $bias) (i32.shl (local.get $i) (i32.const 2)))))
            (block $vectorsDone
              (loop $vectors
                (br_if $vectorsDone (i32.ge_s (local.get $j) (local.get $full)))
                (v128.store (i32.add (local.get $to) (local.get $j))
                  (f32x4.add (v128.load (i32.add (local.get $from) (local.get $j))) (local.get $b)))
                (local.set $j (i32.add (local.get $j) (i32.const 16)))
                (br $vectors)))
            (block $tailDone
              (loop $tail
                (br_if $tailDone (i32.ge_s (local.get $j) (local.get $n)))
                (f32.store (i32.add (local.get $to) (local.get $j))
                  (f32.add (f32.load (i32.add (local.get $from) (local.get $j))) (f32x4.extract_lane 0 (local.get $b))))
                (local.set $j (i32.add (local.get $j) (i32.const 4)))
                (br $tail))))
          (else
            (block $vectorsDone
              (loop $vectors
                (br_if $vectorsDone (i32.ge_s (local.get $j) (local.get $full)))
                (v128.store (i32.add (local.get $to) (local.get $j)) (v128.load (i32.add (local.get $from) (local.get $j))))
                (local.set $j (i32.add (local.get $j) (i32.const 16)))
                (br $vectors)))
            (block $tailDone
              (loop $tail
                (br_if $tailDone (i32.ge_s (local.get $j) (local.get $n)))
                (i32.store (i32.add (local.get $to) (local.get $j)) (i32.load (i32.add (local.get $from) (local.get $j))))
                (local.set $j (i32.add (local.get $j) (i32.const 4)))
                (br $tail)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))

  ;; Stores the first `count` (at most 8) bytes of v's low half at `to`.
  (func $store_bytes (param $to i32) (param $v v128) (param $count i32)
    (local $bits i64) (local $end i32)
    (if (i32.ge_s (local.get $count) (i32.const 8))
      (then
        (v128.store64_lane 0 (local.get $to) (local.get $v))
        (return)))
    (local.set $bits (i64x2.extract_lane 0 (local.get $v)))
    (local.set $end (i32.add (local.get $to) (local.get $count)))
    (block $done
      (loop $bytes
        (br_if $done (i32.ge_s (local.get $to) (local.get $end)))
        (i64.store8 (local.get $to) (local.get $bits))
        (local.set $bits (i64.shr_u (local.get $bits) (i64.const 8)))
        (local.set $to (i32.add (local.get $to) (i32.const 1)))
        (br $bytes))))

  ;; Requantizes m rows of n i32 values of C (ldc bytes apart, readable up to n rounded up to 8) into 8-bit codes
  ;; at out (ldo bytes apart, exactly n per row) as onnxruntime's QLinearConv does: (c + bias[i]), wrapping in
  ;; i32, times scales[i] in float32, clamped to [low - zeroPoint, high - zeroPoint] (low, high: the code type's
  ;; range per isSigned), rounded half to even, plus the zero point. The rounding adds 1.5 * 2^23, whose float
  ;; sum has unit spacing and rounds ties to even, so its bits minus those of 1.5 * 2^23 are the integer (zero
  ;; point folded in: $zero holds 0x4b400000 - zeroPoint). bias 0: none.
  (func (export "requantize_rows")
    (param $c i32) (param $ldc i32) (param $m i32) (param $n i32) (param $scales i32) (param $bias i32)
    (param $zeroPoint i32) (param $isSigned i32) (param $out i32) (param $ldo i32)
    (local $i i32) (local $j i32) (local $row i32) (local $outRow i32) (local $scale v128) (local $add v128)
    (local $zero v128) (local $low v128) (local $high v128) (local $acc0 v128) (local $acc1 v128)
    (local $narrow v128)
    (local.set $zero (i32x4.splat (i32.sub (i32.const 0x4b400000) (local.get $zeroPoint))))
    (local.set $low (call $code_bound (i32.const 0) (local.get $isSigned) (local.get $zeroPoint)))
    (local.set $high (call $code_bound (i32.const 1) (local.get $isSigned) (local.get $zeroPoint)))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_s (local.get $i) (local.get $m)))
        (local.set $row (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ldc))))
        (local.set $outRow (i32.add (local.get $out) (i32.mul (local.get $i) (local.get $ldo))))
        (local.set $scale (v128.load32_splat (i32.add (local.get $scales) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $add (v128.const i32x4 0 0 0 0))
        (if (local.get $bias)
          (then
            (local.set $add (v128.load32_splat (i32.add (local.get $bias) (i32.shl (local.get $i) (i32.const 2)))))))
        (local.set $j (i32.const 0))
        (block $colsDone
          (loop $cols
            (br_if $colsDone (i32.ge_s (local.get $j) (local.get $n)))
            (local.set $acc0 (i32x4.add (local.get $add) (v128.load (local.get $row))))
            (local.set $acc1 (i32x4.add (local.get $add) (v128.load offset=16 (local.get $row))))
            (local.set $narrow
              (i16x8.narrow_i32x4_s
                (i32x4.sub
                  (f32x4.add (v128.const f32x4 12582912 12582912 12582912 12582912)
                    (f32x4.pmax (f32x4.pmin (f32x4.mul (f32x4.convert_i32x4_s (local.get $acc0)) (local.get $scale)) (local.get $high))
                      (local.get $low)))
                  (local.get $zero))
                (i32x4.sub
                  (f32x4.add (v128.const f32x4 12582912 12582912 12582912 12582912)
                    (f32x4.pmax (f32x4.pmin (f32x4.mul (f32x4.convert_i32x4_s (local.get $acc1)) (local.get $scale)) (local.get $high))
                      (local.get $low)))
                  (local.get $zero))))
            (local.set $narrow
              (if (result v128) (local.get $isSigned)
                (then (i8x16.narrow_i16x8_s (local.get $narrow) (local.get $narrow)))
                (else (i8x16.narrow_i16x8_u (local.get $narrow) (local.get $narrow)))))
            (if (i32.ge_s (i32.sub (local.get $n) (local.get $j)) (i32.const 8))
              (then (v128.store64_lane 0 (i32.add (local.get $outRow) (local.get $j)) (local.get $narrow)))
              (else (call $store_bytes (i32.add (local.get $outRow) (local.get $j)) (local.get $narrow) (i32.sub (local.get $n) (local.get $j)))))
            (local.set $row (i32.add (local.get $row) (i32.const 32)))
            (local.set $j (i32.add (local.get $j) (i32.const 8)))
            (br $cols)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))

  ;; The float bound the requantization clamps scaled sums to: the code type's lowest (which 0) or highest
  ;; (which 1) code minus the zero point, in all four lanes.
  (func $code_bound (param $which i32) (param $isSigned i32) (param $zeroPoint i32) (result v128)
    (f32x4.splat
      (f32.convert_i32_s
        (i32.sub
          (if (result i32) (local.get $which)
            (then (select (i32.const 127) (i32.const 255) (local.get $isSigned)))
            (else (select (i32.const -128) (i32.const 0) (local.get $isSigned))))
          (local.get $zeroPoint)))))

  ;; Stores the first `count` (at most 8) of the i32 pair (acc0, acc1) at `to`.
  (func $store_i32 (param $to i32) (param $acc0 v128) (param $acc1 v128) (param $count i32)
    (if (i32.ge_s (local.get $count) (i32.const 8))
      (then
        (v128.store (local.get $to) (local.get $acc0))
        (v128.store offset=16 (local.get $to) (local.get $acc1))
        (return)))
    (block $done
      (loop $lanes
        (br_if $done (i32.le_s (local.get $count) (i32.const 0)))
        (i32.store (local.get $to) (i32x4.extract_lane 0 (local.get $acc0)))
        (local.set $acc0 (i8x16.shuffle 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 (local.get $acc0) (local.get $acc1)))
        (local.set $acc1 (i8x16.shuffle 4 5 6 7 8 9 10 11 12 13 14 15 0 1 2 3 (local.get $acc1) (local.get $acc1)))
        (local.set $to (i32.add (local.get $to) (i32.const 4)))
        (local.set $count (i32.sub (local.get $count) (i32.const 1)))
        (br $lanes))))

  ;; 4 floats from addr, `stride` floats apart.
  (func $load_strided_f32 (param $addr i32) (param $stride i32) (result v128)
    (local $v v128)
    (if (i32.eq (local.get $stride) (i32.const 1)) (then (return (v128.load (local.get $addr)))))
    (if (i32.eq (local.get $stride) (i32.const 2))
      (then
        (return
          (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
            (v128.load (local.get $addr)) (v128.load offset=16 (local.get $addr))))))
    (local.set $stride (i32.shl (local.get $stride) (i32.const 2)))
    (local.set $v (v128.load32_splat (local.get $addr)))
    (local.set $addr (i32.add (local.get $addr) (local.get $stride)))
    (local.set $v (f32x4.replace_lane 1 (local.get $v) (f32.load (local.get $addr))))
    (local.set $addr (i32.add (local.get $addr) (local.get $stride)))
    (local.set $v (f32x4.replace_lane 2 (local.get $v) (f32.load (local.get $addr))))
    (local.set $addr (i32.add (local.get $addr) (local.get $stride)))
    (f32x4.replace_lane 3 (local.get $v) (f32.load (local.get $addr))))

  ;; 8 codes from addr, `stride` bytes apart, zero-extended to i16.
  (func $load_strided_u8 (param $addr i32) (param $stride i32) (result v128)
    (local $v v128)
    (if (i32.eq (local.get $stride) (i32.const 1)) (then (return (v128.load8x8_u (local.get $addr)))))
    (if (i32.eq (local.get $stride) (i32.const 2))
      (then
        (return
          (i16x8.extend_low_i8x16_u
            (i8x16.shuffle 0 2 4 6 8 10 12 14 0 0 0 0 0 0 0 0
              (v128.load (local.get $addr)) (v128.load (local.get $addr)))))))
    (local.set $v (i16x8.splat (i32.load8_u (local.get $addr))))
    (local.set $addr (i32.add (local.get $addr) (local.get $stride)))
    (local.set $v (i16x8.replace_lane 1 (local.get $v) (i32.load8_u (local.get $addr))))
    (local.set $addr (i32.add (local.get $addr) (local.get $stride)))
    (local.set $v (i16x8.replace_lane 2 (local.get $v) (i32.load8_u (local.get $addr))))
    (local.set $addr (i32.add (local.get $addr) (local.get $stride)))
    (local.set $v (i16x8.replace_lane 3 (local.get $v) (i32.load8_u (local.get $addr))))
    (local.set $addr (i32.add (local.get $addr) (local.get $stride)))
    (local.set $v (i16x8.replace_lane 4 (local.get $v) (i32.load8_u (local.get $addr))))
    (local.set $addr (i32.add (local.get $addr) (local.get $stride)))
    (local.set $v (i16x8.replace_lane 5 (local.get $v) (i32.load8_u (local.get $addr))))
    (local.set $addr (i32.add (local.get $addr) (local.get $stride)))
    (local.set $v (i16x8.replace_lane 6 (local.get $v) (i32.load8_u (local.get $addr))))
    (local.set $addr (i32.add (local.get $addr) (local.get $stride)))
    (i16x8.replace_lane 7 (local.get $v) (i32.load8_u (local.get $addr))))

  ;; Stores the first `count` (at most 4 are stored) floats of v at `to`.
  (func $store_f32 (param $to i32) (param $v v128) (param $count i32)
    (if (i32.ge_s (local.get $count) (i32.const 4))
      (then
        (v128.store (local.get $to) (local.get $v))
        (return)))
    (f32.store (local.get $to) (f32x4.extract_lane 0 (local.get $v)))
    (if (i32.gt_s (local.get $count) (i32.const 1))
      (then (f32.store offset=4 (local.get $to) (f32x4.extract_lane 1 (local.get $v)))))
    (if (i32.gt_s (local.get $count) (i32.const 2))
      (then (f32.store offset=8 (local.get $to) (f32x4.extract_lane 2 (local.get $v))))))

  ;; One output row of a 3x3 depthwise kernel at stride 1: r0 points at the row's first window's top-left input,
  ;; step and gap are the bytes between vertical and horizontal taps, tap at the 9 weights; 8 positions per step,
  ;; the last ones written exactly.
  (func $dw3_row_stride1
    (param $r0 i32) (param $step i32) (param $gap i32) (param $out i32) (param $outW i32) (param $b v128)
    (param $tap i32)
    (local $r1 i32) (local $r2 i32) (local $gap2 i32) (local $ow i32) (local $acc v128)
    (local $w0 v128) (local $w1 v128) (local $w2 v128) (local $w3 v128) (local $w4 v128) (local $w5 v128) (local $w6 v128) (local $w7 v128) (local $w8 v128)
    (local.set $w0 (v128.load32_splat offset=0 (local.get $tap)))
    (local.set $w1 (v128.load32_splat offset=4 (local.get $tap)))
    (local.set $w2 (v128.load32_splat offset=8 (local.get $tap)))
    (local.set $w3 (v128.load32_splat offset=12 (local.get $tap)))
    (local.set $w4 (v128.load32_splat offset=16 (local.get $tap)))
    (local.set $w5 (v128.load32_splat offset=20 (local.get $tap)))
    (local.set $w6 (v128.load32_splat offset=24 (local.get $tap)))
    (local.set $w7 (v128.load32_splat offset=28 (local.get $tap)))
    (local.set $w8 (v128.load32_splat offset=32 (local.get $tap)))
    (local.set $r1 (i32.add (local.get $r0) (local.get $step)))
    (local.set $r2 (i32.add (local.get $r1) (local.get $step)))
    (local.set $gap2 (i32.shl (local.get $gap) (i32.const 1)))
    (block $pairsDone
      (loop $pairs
        (br_if $pairsDone (i32.gt_s (i32.add (local.get $ow) (i32.const 8)) (local.get $outW)))
        (v128.store (local.get $out)
      (f32x4.add
        (f32x4.add (local.get $b)
          (f32x4.add
          (f32x4.add (f32x4.mul (local.get $w0) (v128.load (local.get $r0)))
            (f32x4.mul (local.get $w1) (v128.load (i32.add (local.get $r0) (local.get $gap)))))
          (f32x4.mul (local.get $w2) (v128.load (i32.add (local.get $r0) (local.get $gap2))))))
        (f32x4.add
          (f32x4.add
          (f32x4.add (f32x4.mul (local.get $w3) (v128.load (local.get $r1)))
            (f32x4.mul (local.get $w4) (v128.load (i32.add (local.get $r1) (local.get $gap)))))
          (f32x4.mul (local.get $w5) (v128.load (i32.add (local.get $r1) (local.get $gap2)))))
          (f32x4.add
          (f32x4.add (f32x4.mul (local.get $w6) (v128.load (local.get $r2)))
            (f32x4.mul (local.get $w7) (v128.load (i32.add (local.get $r2) (local.get $gap)))))
          (f32x4.mul (local.get $w8) (v128.load (i32.add (local.get $r2) (local.get $gap2))))))))
        (v128.store offset=16 (local.get $out)
      (f32x4.add
        (f32x4.add (local.get $b)
          (f32x4.add
          (f32x4.add (f32x4.mul (local.get $w0) (v128.load offset=16 (local.get $r0)))
            (f32x4.mul (local.get $w1) (v128.load offset=16 (i32.add (local.get $r0) (local.get $gap)))))
          (f32x4.mul (local.get $w2) (v128.load offset=16 (i32.add (local.get $r0) (local.get $gap2))))))
        (f32x4.add
          (f32x4.add
          (f32x4.add (f32x4.mul (local.get $w3) (v128.load offset=16 (local.get $r1)))
            (f32x4.mul (local.get $w4) (v128.load offset=16 (i32.add (local.get $r1) (local.get $gap)))))
          (f32x4.mul (local.get $w5) (v128.load offset=16 (i32.add (local.get $r1) (local.get $gap2)))))
          (f32x4.add
          (f32x4.add (f32x4.mul (local.get $w6) (v128.load offset=16 (local.get $r2)))
            (f32x4.mul (local.get $w7) (v128.load offset=16 (i32.add (local.get $r2) (local.get $gap)))))
          (f32x4.mul (local.get $w8) (v128.load offset=16 (i32.add (local.get $r2) (local.get $gap2))))))))
        (local.set $r0 (i32.add (local.get $r0) (i32.const 32)))
        (local.set $r1 (i32.add (local.get $r1) (i32.const 32)))
        (local.set $r2 (i32.add (local.get $r2) (i32.const 32)))
        (local.set $out (i32.add (local.get $out) (i32.const 32)))
        (local.set $ow (i32.add (local.get $ow) (i32.const 8)))
        (br $pairs)))
    (if (i32.lt_s (local.get $ow) (local.get $outW))
      (then
        ;; The row's last 1 to 7 positions: a vector, and the rest stored exactly.
        (local.set $acc
      (f32x4.add
        (f32x4.add (local.get $b)
          (f32x4.add
          (f32x4.add (f32x4.mul (local.get $w0) (v128.load (local.get $r0)))
            (f32x4.mul (local.get $w1) (v128.load (i32.add (local.get $r0) (local.get $gap)))))
          (f32x4.mul (local.get $w2) (v128.load (i32.add (local.get $r0) (local.get $gap2))))))
        (f32x4.add
          (f32x4.add
          (f32x4.add (f32x4.mul (local.get $w3) (v128.load (local.get $r1)))
            (f32x4.mul (local.get $w4) (v128.load (i32.add (local.get $r1) (local.get $gap)))))
          (f32x4.mul (local.get $w5) (v128.load (i32.add (local.get $r1) (local.get $gap2)))))
          (f32x4.add
          (f32x4.add (f32x4.mul (local.get $w6) (v128.load (local.get $r2)))
            (f32x4.mul (local.get $w7) (v128.load (i32.add (local.get $r2) (local.get $gap)))))
          (f32x4.mul (local.get $w8) (v128.load (i32.add (local.get $r2) (local.get $gap2))))))))
        (call $store_f32 (local.get $out) (local.get $acc) (i32.sub (local.get $outW) (local.get $ow)))
        (if (i32.gt_s (i32.sub (local.get $outW) (local.get $ow)) (i32.const 4))
          (then
            (call $store_f32 (i32.add (local.get $out) (i32.const 16))
      (f32x4.add
        (f32x4.add (local.get $b)
          (f32x4.add
          (f32x4.add (f32x4.mul (local.get $w0) (v128.load offset=16 (local.get $r0)))
            (f32x4.mul (local.get $w1) (v128.load offset=16 (i32.add (local.get $r0) (local.get $gap)))))
          (f32x4.mul (local.get $w2) (v128.load offset=16 (i32.add (local.get $r0) (local.get $gap2))))))
        (f32x4.add
          (f32x4.add
          (f32x4.add (f32x4.mul (local.get $w3) (v128.load offset=16 (local.get $r1)))
            (f32x4.mul (local.get $w4) (v128.load offset=16 (i32.add (local.get $r1) (local.get $gap)))))
          (f32x4.mul (local.get $w5) (v128.load offset=16 (i32.add (local.get $r1) (local.get $gap2)))))
          (f32x4.add
          (f32x4.add (f32x4.mul (local.get $w6) (v128.load offset=16 (local.get $r2)))
            (f32x4.mul (local.get $w7) (v128.load offset=16 (i32.add (local.get $r2) (local.get $gap)))))
          (f32x4.mul (local.get $w8) (v128.load offset=16 (i32.add (local.get $r2) (local.get $gap2)))))))
              (i32.sub (local.get $outW) (i32.add (local.get $ow) (i32.const 4)))))))))

  ;; One output row of a 3x3 depthwise kernel at stride 2 with adjacent taps (gap 4): as $dw3_row_stride1, each
  ;; kernel row's three vectors from the even and odd lanes of two loads (and of two loads 8 bytes on).
  (func $dw3_row_stride2
    (param $r0 i32) (param $step i32) (param $gap i32) (param $out i32) (param $outW i32) (param $b v128)
    (param $tap i32)
    (local $r1 i32) (local $r2 i32) (local $gap2 i32) (local $ow i32) (local $acc v128)
    (local $w0 v128) (local $w1 v128) (local $w2 v128) (local $w3 v128) (local $w4 v128) (local $w5 v128) (local $w6 v128) (local $w7 v128) (local $w8 v128)
    (local.set $w0 (v128.load32_splat offset=0 (local.get $tap)))
    (local.set $w1 (v128.load32_splat offset=4 (local.get $tap)))
    (local.set $w2 (v128.load32_splat offset=8 (local.get $tap)))
    (local.set $w3 (v128.load32_splat offset=12 (local.get $tap)))
    (local.set $w4 (v128.load32_splat offset=16 (local.get $tap)))
    (local.set $w5 (v128.load32_splat offset=20 (local.get $tap)))
    (local.set $w6 (v128.load32_splat offset=24 (local.get $tap)))
    (local.set $w7 (v128.load32_splat offset=28 (local.get $tap)))
    (local.set $w8 (v128.load32_splat offset=32 (local.get $tap)))
    (local.set $r1 (i32.add (local.get $r0) (local.get $step)))
    (local.set $r2 (i32.add (local.get $r1) (local.get $step)))
    (local.set $gap2 (i32.shl (local.get $gap) (i32.const 1)))
    (block $pairsDone
      (loop $pairs
        (br_if $pairsDone (i32.gt_s (i32.add (local.get $ow) (i32.const 8)) (local.get $outW)))
        (v128.store (local.get $out)
      (f32x4.add
        (f32x4.add (local.get $b)
          (f32x4.add
          (f32x4.add (f32x4.mul (local.get $w0) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load (local.get $r0)) (v128.load offset=16 (local.get $r0))))
            (f32x4.mul (local.get $w1) (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (v128.load (local.get $r0)) (v128.load offset=16 (local.get $r0)))))
          (f32x4.mul (local.get $w2) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load offset=8 (local.get $r0)) (v128.load offset=24 (local.get $r0))))))
        (f32x4.add
          (f32x4.add
          (f32x4.add (f32x4.mul (local.get $w3) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load (local.get $r1)) (v128.load offset=16 (local.get $r1))))
            (f32x4.mul (local.get $w4) (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (v128.load (local.get $r1)) (v128.load offset=16 (local.get $r1)))))
          (f32x4.mul (local.get $w5) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load offset=8 (local.get $r1)) (v128.load offset=24 (local.get $r1)))))
          (f32x4.add
          (f32x4.add (f32x4.mul (local.get $w6) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load (local.get $r2)) (v128.load offset=16 (local.get $r2))))
            (f32x4.mul (local.get $w7) (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (v128.load (local.get $r2)) (v128.load offset=16 (local.get $r2)))))
          (f32x4.mul (local.get $w8) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load offset=8 (local.get $r2)) (v128.load offset=24 (local.get $r2))))))))
        (v128.store offset=16 (local.get $out)
      (f32x4.add
        (f32x4.add (local.get $b)
          (f32x4.add
          (f32x4.add (f32x4.mul (local.get $w0) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load offset=32 (local.get $r0)) (v128.load offset=48 (local.get $r0))))
            (f32x4.mul (local.get $w1) (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (v128.load offset=32 (local.get $r0)) (v128.load offset=48 (local.get $r0)))))
          (f32x4.mul (local.get $w2) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load offset=40 (local.get $r0)) (v128.load offset=56 (local.get $r0))))))
        (f32x4.add
          (f32x4.add
          (f32x4.add (f32x4.mul (local.get $w3) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load offset=32 (local.get $r1)) (v128.load offset=48 (local.get $r1))))
            (f32x4.mul (local.get $w4) (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (v128.load offset=32 (local.get $r1)) (v128.load offset=48 (local.get $r1)))))
          (f32x4.mul (local.get $w5) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load offset=40 (local.get $r1)) (v128.load offset=56 (local.get $r1)))))
          (f32x4.add
          (f32x4.add (f32x4.mul (local.get $w6) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load offset=32 (local.get $r2)) (v128.load offset=48 (local.get $r2))))
            (f32x4.mul (local.get $w7) (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (v128.load offset=32 (local.get $r2)) (v128.load offset=48 (local.get $r2)))))
          (f32x4.mul (local.get $w8) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load offset=40 (local.get $r2)) (v128.load offset=56 (local.get $r2))))))))
        (local.set $r0 (i32.add (local.get $r0) (i32.const 64)))
        (local.set $r1 (i32.add (local.get $r1) (i32.const 64)))
        (local.set $r2 (i32.add (local.get $r2) (i32.const 64)))
        (local.set $out (i32.add (local.get $out) (i32.const 32)))
        (local.set $ow (i32.add (local.get $ow) (i32.const 8)))
        (br $pairs)))
    (if (i32.lt_s (local.get $ow) (local.get $outW))
      (then
        ;; The row's last 1 to 7 positions: a vector, and the rest stored exactly.
        (local.set $acc
      (f32x4.add
        (f32x4.add (local.get $b)
          (f32x4.add
          (f32x4.add (f32x4.mul (local.get $w0) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load (local.get $r0)) (v128.load offset=16 (local.get $r0))))
            (f32x4.mul (local.get $w1) (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (v128.load (local.get $r0)) (v128.load offset=16 (local.get $r0)))))
          (f32x4.mul (local.get $w2) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load offset=8 (local.get $r0)) (v128.load offset=24 (local.get $r0))))))
        (f32x4.add
          (f32x4.add
          (f32x4.add (f32x4.mul (local.get $w3) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load (local.get $r1)) (v128.load offset=16 (local.get $r1))))
            (f32x4.mul (local.get $w4) (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (v128.load (local.get $r1)) (v128.load offset=16 (local.get $r1)))))
          (f32x4.mul (local.get $w5) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load offset=8 (local.get $r1)) (v128.load offset=24 (local.get $r1)))))
          (f32x4.add
          (f32x4.add (f32x4.mul (local.get $w6) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load (local.get $r2)) (v128.load offset=16 (local.get $r2))))
            (f32x4.mul (local.get $w7) (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (v128.load (local.get $r2)) (v128.load offset=16 (local.get $r2)))))
          (f32x4.mul (local.get $w8) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load offset=8 (local.get $r2)) (v128.load offset=24 (local.get $r2))))))))
        (call $store_f32 (local.get $out) (local.get $acc) (i32.sub (local.get $outW) (local.get $ow)))
        (if (i32.gt_s (i32.sub (local.get $outW) (local.get $ow)) (i32.const 4))
          (then
            (call $store_f32 (i32.add (local.get $out) (i32.const 16))
      (f32x4.add
        (f32x4.add (local.get $b)
          (f32x4.add
          (f32x4.add (f32x4.mul (local.get $w0) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load offset=32 (local.get $r0)) (v128.load offset=48 (local.get $r0))))
            (f32x4.mul (local.get $w1) (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (v128.load offset=32 (local.get $r0)) (v128.load offset=48 (local.get $r0)))))
          (f32x4.mul (local.get $w2) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load offset=40 (local.get $r0)) (v128.load offset=56 (local.get $r0))))))
        (f32x4.add
          (f32x4.add
          (f32x4.add (f32x4.mul (local.get $w3) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load offset=32 (local.get $r1)) (v128.load offset=48 (local.get $r1))))
            (f32x4.mul (local.get $w4) (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (v128.load offset=32 (local.get $r1)) (v128.load offset=48 (local.get $r1)))))
          (f32x4.mul (local.get $w5) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load offset=40 (local.get $r1)) (v128.load offset=56 (local.get $r1)))))
          (f32x4.add
          (f32x4.add (f32x4.mul (local.get $w6) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load offset=32 (local.get $r2)) (v128.load offset=48 (local.get $r2))))
            (f32x4.mul (local.get $w7) (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (v128.load offset=32 (local.get $r2)) (v128.load offset=48 (local.get $r2)))))
          (f32x4.mul (local.get $w8) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load offset=40 (local.get $r2)) (v128.load offset=56 (local.get $r2)))))))
              (i32.sub (local.get $outW) (i32.add (local.get $ow) (i32.const 4)))))))))

  ;; Depthwise float convolution of one image (output channel m reads input channel m / multiplier alone). Each
  ;; input plane is copied into the middle of a zeroed PH x PW buffer at `padded` (pH rows and pW columns before
  ;; it), then each of its output channels is computed row by row, 4 or 8 positions at a time, from bias[m] (bias
  ;; 0: none) over the taps (3x3 at stride 1, and at stride 2 without dilation, unrolled into three row sums).
  ;; weights: kH * kW f32 per output channel; src: the image's first input plane; dst: its first output plane,
  ;; written exactly. PH and PW leave room for the reads of the last vector of a row (JS side: PW >= ceil8(outW)
  ;; * sW + (kW - 1) * dW, plus 16 bytes after the buffer).
  (func (export "depthwise_f32")
    (param $geometry i32) (param $src i32) (param $weights i32) (param $bias i32) (param $multiplier i32)
    (param $outChannels i32) (param $dst i32) (param $padded i32)
    (local $inH i32) (local $inW i32) (local $outH i32) (local $outW i32) (local $kH i32) (local $kW i32)
    (local $sH i32) (local $sW i32) (local $dH i32) (local $dW i32) (local $pH i32) (local $pW i32)
    (local $rowBytes i32) (local $m i32) (local $ih i32) (local $oh i32) (local $ow i32) (local $taps i32)
    (local $plane i32) (local $base i32) (local $out i32) (local $tap i32) (local $kh i32) (local $kw i32)
    (local $r0 i32) (local $r1 i32) (local $step i32) (local $gap i32) (local $path i32)
    (local $b v128) (local $acc v128)
    (local $w0 v128) (local $w1 v128) (local $w2 v128) (local $w3 v128) (local $w4 v128) (local $w5 v128)
    (local $w6 v128) (local $w7 v128) (local $w8 v128)
    (local.set $inH (i32.load (local.get $geometry)))
    (local.set $inW (i32.load offset=4 (local.get $geometry)))
    (local.set $outH (i32.load offset=8 (local.get $geometry)))
    (local.set $outW (i32.load offset=12 (local.get $geometry)))
    (local.set $kH (i32.load offset=16 (local.get $geometry)))
    (local.set $kW (i32.load offset=20 (local.get $geometry)))
    (local.set $sH (i32.load offset=24 (local.get $geometry)))
    (local.set $sW (i32.load offset=28 (local.get $geometry)))
    (local.set $dH (i32.load offset=32 (local.get $geometry)))
    (local.set $dW (i32.load offset=36 (local.get $geometry)))
    (local.set $pH (i32.load offset=40 (local.get $geometry)))
    (local.set $pW (i32.load offset=44 (local.get $geometry)))
    (local.set $rowBytes (i32.shl (i32.load offset=56 (local.get $geometry)) (i32.const 2)))
    (memory.fill (local.get $padded) (i32.const 0)
      (i32.mul (i32.load offset=52 (local.get $geometry)) (local.get $rowBytes)))
    (local.set $taps (i32.mul (local.get $kH) (local.get $kW)))
    ;; 1: 3x3 at stride 1; 2: 3x3 at stride 2, taps adjacent; 0: any other, tap by tap.
    (if (i32.and (i32.eq (local.get $kH) (i32.const 3)) (i32.eq (local.get $kW) (i32.const 3)))
      (then
        (if (i32.eq (local.get $sW) (i32.const 1)) (then (local.set $path (i32.const 1))))
        (if (i32.and (i32.eq (local.get $sW) (i32.const 2)) (i32.eq (local.get $dW) (i32.const 1)))
          (then (local.set $path (i32.const 2))))))
    ;; Bytes between vertical taps and between horizontal taps.
    (local.set $step (i32.mul (local.get $dH) (local.get $rowBytes)))
    (local.set $gap (i32.shl (local.get $dW) (i32.const 2)))
    (local.set $out (local.get $dst))
    (block $channelsDone
      (loop $channels
        (br_if $channelsDone (i32.ge_s (local.get $m) (local.get $outChannels)))
        (if (i32.eqz (i32.rem_u (local.get $m) (local.get $multiplier)))
          (then
            ;; A new input plane: its rows into the middle of the buffer (the border stays zero).
            (local.set $plane
              (i32.add (local.get $src)
                (i32.shl
                  (i32.mul (i32.div_u (local.get $m) (local.get $multiplier)) (i32.mul (local.get $inH) (local.get $inW)))
                  (i32.const 2))))
            (local.set $ih (i32.const 0))
            (block $rowsDone
              (loop $rows
                (br_if $rowsDone (i32.ge_s (local.get $ih) (local.get $inH)))
                (memory.copy
                  (i32.add (local.get $padded)
                    (i32.add (i32.mul (i32.add (local.get $ih) (local.get $pH)) (local.get $rowBytes))
                      (i32.shl (local.get $pW) (i32.const 2))))
                  (i32.add (local.get $plane) (i32.shl (i32.mul (local.get $ih) (local.get $inW)) (i32.const 2)))
                  (i32.shl (local.get $inW) (i32.const 2)))
                (local.set $ih (i32.add (local.get $ih) (i32.const 1)))
                (br $rows)))))
        (local.set $b (v128.const i32x4 0 0 0 0))
        (if (local.get $bias)
          (then (local.set $b (v128.load32_splat (i32.add (local.get $bias) (i32.shl (local.get $m) (i32.const 2)))))))
        (local.set $tap (i32.add (local.get $weights) (i32.shl (i32.mul (local.get $m) (local.get $taps)) (i32.const 2))))
        (if (local.get $path)
          (then
            (local.set $w0 (v128.load32_splat (local.get $tap)))
            (local.set $w1 (v128.load32_splat offset=4 (local.get $tap)))
            (local.set $w2 (v128.load32_splat offset=8 (local.get $tap)))
            (local.set $w3 (v128.load32_splat offset=12 (local.get $tap)))
            (local.set $w4 (v128.load32_splat offset=16 (local.get $tap)))
            (local.set $w5 (v128.load32_splat offset=20 (local.get $tap)))
            (local.set $w6 (v128.load32_splat offset=24 (local.get $tap)))
            (local.set $w7 (v128.load32_splat offset=28 (local.get $tap)))
            (local.set $w8 (v128.load32_splat offset=32 (local.get $tap)))))
        (local.set $oh (i32.const 0))
        (block $outRowsDone
          (loop $outRows
            (br_if $outRowsDone (i32.ge_s (local.get $oh) (local.get $outH)))
            (local.set $base
              (i32.add (local.get $padded) (i32.mul (i32.mul (local.get $oh) (local.get $sH)) (local.get $rowBytes))))
            (block $rowDone
              (if (i32.eq (local.get $path) (i32.const 1))
                (then
                  (call $dw3_row_stride1 (local.get $base) (local.get $step) (local.get $gap) (local.get $out)
                    (local.get $outW) (local.get $b) (local.get $tap))
                  (br $rowDone)))
              (if (i32.eq (local.get $path) (i32.const 2))
                (then
                  (call $dw3_row_stride2 (local.get $base) (local.get $step) (local.get $gap) (local.get $out)
                    (local.get $outW) (local.get $b) (local.get $tap))
                  (br $rowDone)))
              ;; Any kernel: 4 positions at a time, tap by tap.
              (local.set $ow (i32.const 0))
              (block $colsDone
                (loop $cols
                  (br_if $colsDone (i32.ge_s (local.get $ow) (local.get $outW)))
                  (local.set $r0
                    (i32.add (local.get $base) (i32.shl (i32.mul (local.get $ow) (local.get $sW)) (i32.const 2))))
                  (local.set $acc (local.get $b))
                  (local.set $kh (i32.const 0))
                  (loop $khLoop
                    (local.set $r1 (i32.add (local.get $r0) (i32.mul (local.get $kh) (local.get $step))))
                    (local.set $kw (i32.const 0))
                    (loop $kwLoop
                      (local.set $acc
                        (f32x4.add (local.get $acc)
                          (f32x4.mul
                            (v128.load32_splat
                              (i32.add (local.get $tap)
                                (i32.shl (i32.add (i32.mul (local.get $kh) (local.get $kW)) (local.get $kw)) (i32.const 2))))
                            (call $load_strided_f32 (i32.add (local.get $r1) (i32.mul (local.get $kw) (local.get $gap)))
                              (local.get $sW)))))
                      (local.set $kw (i32.add (local.get $kw) (i32.const 1)))
                      (br_if $kwLoop (i32.lt_s (local.get $kw) (local.get $kW))))
                    (local.set $kh (i32.add (local.get $kh) (i32.const 1)))
                    (br_if $khLoop (i32.lt_s (local.get $kh) (local.get $kH))))
                  (call $store_f32 (i32.add (local.get $out) (i32.shl (local.get $ow) (i32.const 2))) (local.get $acc)
                    (i32.sub (local.get $outW) (local.get $ow)))
                  (local.set $ow (i32.add (local.get $ow) (i32.const 4)))
                  (br $cols))))
            (local.set $out (i32.add (local.get $out) (i32.shl (local.get $outW) (i32.const 2))))
            (local.set $oh (i32.add (local.get $oh) (i32.const 1)))
            (br $outRows)))
        (local.set $m (i32.add (local.get $m) (i32.const 1)))
        (br $channels))))

  ;; One output row of a 3x3 depthwise integer kernel at stride 1 without dilation: r0 points at the row's first
  ;; window's top-left code in the padded plane, step is the bytes between its rows, tap at the 9 i16 taps; 8
  ;; positions per step from init, requantized (codes: see depthwise_i8) or written as i32, the last ones exactly.
  (func $dw3_row_u8_stride1
    (param $r0 i32) (param $step i32) (param $out i32) (param $outW i32) (param $tap i32) (param $init v128)
    (param $codes i32) (param $scale v128) (param $zero v128) (param $low v128) (param $high v128) (param $isSigned i32)
    (local $r1 i32) (local $r2 i32) (local $ow i32) (local $count i32) (local $acc0 v128) (local $acc1 v128)
    (local $x v128) (local $v v128) (local $narrow v128) (local $lowBytes v128)
    (local $w0 v128) (local $w1 v128) (local $w2 v128) (local $w3 v128) (local $w4 v128) (local $w5 v128) (local $w6 v128) (local $w7 v128) (local $w8 v128)
    (local.set $w0 (i16x8.splat (i32.load16_s offset=0 (local.get $tap))))
    (local.set $w1 (i16x8.splat (i32.load16_s offset=2 (local.get $tap))))
    (local.set $w2 (i16x8.splat (i32.load16_s offset=4 (local.get $tap))))
    (local.set $w3 (i16x8.splat (i32.load16_s offset=6 (local.get $tap))))
    (local.set $w4 (i16x8.splat (i32.load16_s offset=8 (local.get $tap))))
    (local.set $w5 (i16x8.splat (i32.load16_s offset=10 (local.get $tap))))
    (local.set $w6 (i16x8.splat (i32.load16_s offset=12 (local.get $tap))))
    (local.set $w7 (i16x8.splat (i32.load16_s offset=14 (local.get $tap))))
    (local.set $w8 (i16x8.splat (i32.load16_s offset=16 (local.get $tap))))
    (local.set $lowBytes (v128.const i16x8 255 255 255 255 255 255 255 255))
    (local.set $r1 (i32.add (local.get $r0) (local.get $step)))
    (local.set $r2 (i32.add (local.get $r1) (local.get $step)))
    (block $done
      (loop $cols
        (br_if $done (i32.ge_s (local.get $ow) (local.get $outW)))
        (local.set $acc0 (local.get $init))
        (local.set $acc1 (local.get $init))
        (local.set $x (v128.load8x8_u (local.get $r0)))
        (local.set $acc0 (i32x4.add (local.get $acc0) (i32x4.extmul_low_i16x8_s (local.get $x) (local.get $w0))))
        (local.set $acc1 (i32x4.add (local.get $acc1) (i32x4.extmul_high_i16x8_s (local.get $x) (local.get $w0))))
        (local.set $x (v128.load8x8_u offset=1 (local.get $r0)))
        (local.set $acc0 (i32x4.add (local.get $acc0) (i32x4.extmul_low_i16x8_s (local.get $x) (local.get $w1))))
        (local.set $acc1 (i32x4.add (local.get $acc1) (i32x4.extmul_high_i16x8_s (local.get $x) (local.get $w1))))
        (local.set $x (v128.load8x8_u offset=2 (local.get $r0)))
        (local.set $acc0 (i32x4.add (local.get $acc0) (i32x4.extmul_low_i16x8_s (local.get $x) (local.get $w2))))
        (local.set $acc1 (i32x4.add (local.get $acc1) (i32x4.extmul_high_i16x8_s (local.get $x) (local.get $w2))))
        (local.set $x (v128.load8x8_u (local.get $r1)))
        (local.set $acc0 (i32x4.add (local.get $acc0) (i32x4.extmul_low_i16x8_s (local.get $x) (local.get $w3))))
        (local.set $acc1 (i32x4.add (local.get $acc1) (i32x4.extmul_high_i16x8_s (local.get $x) (local.get $w3))))
        (local.set $x (v128.load8x8_u offset=1 (local.get $r1)))
        (local.set $acc0 (i32x4.add (local.get $acc0) (i32x4.extmul_low_i16x8_s (local.get $x) (local.get $w4))))
        (local.set $acc1 (i32x4.add (local.get $acc1) (i32x4.extmul_high_i16x8_s (local.get $x) (local.get $w4))))
        (local.set $x (v128.load8x8_u offset=2 (local.get $r1)))
        (local.set $acc0 (i32x4.add (local.get $acc0) (i32x4.extmul_low_i16x8_s (local.get $x) (local.get $w5))))
        (local.set $acc1 (i32x4.add (local.get $acc1) (i32x4.extmul_high_i16x8_s (local.get $x) (local.get $w5))))
        (local.set $x (v128.load8x8_u (local.get $r2)))
        (local.set $acc0 (i32x4.add (local.get $acc0) (i32x4.extmul_low_i16x8_s (local.get $x) (local.get $w6))))
        (local.set $acc1 (i32x4.add (local.get $acc1) (i32x4.extmul_high_i16x8_s (local.get $x) (local.get $w6))))
        (local.set $x (v128.load8x8_u offset=1 (local.get $r2)))
        (local.set $acc0 (i32x4.add (local.get $acc0) (i32x4.extmul_low_i16x8_s (local.get $x) (local.get $w7))))
        (local.set $acc1 (i32x4.add (local.get $acc1) (i32x4.extmul_high_i16x8_s (local.get $x) (local.get $w7))))
        (local.set $x (v128.load8x8_u offset=2 (local.get $r2)))
        (local.set $acc0 (i32x4.add (local.get $acc0) (i32x4.extmul_low_i16x8_s (local.get $x) (local.get $w8))))
        (local.set $acc1 (i32x4.add (local.get $acc1) (i32x4.extmul_high_i16x8_s (local.get $x) (local.get $w8))))
        (local.set $count (i32.sub (local.get $outW) (local.get $ow)))
        (if (local.get $codes)
          (then
            (local.set $narrow
              (i16x8.narrow_i32x4_s
                (i32x4.sub
                  (f32x4.add (v128.const f32x4 12582912 12582912 12582912 12582912)
                    (f32x4.pmax (f32x4.pmin (f32x4.mul (f32x4.convert_i32x4_s (local.get $acc0)) (local.get $scale)) (local.get $high))
                      (local.get $low)))
                  (local.get $zero))
                (i32x4.sub
                  (f32x4.add (v128.const f32x4 12582912 12582912 12582912 12582912)
                    (f32x4.pmax (f32x4.pmin (f32x4.mul (f32x4.convert_i32x4_s (local.get $acc1)) (local.get $scale)) (local.get $high))
                      (local.get $low)))
                  (local.get $zero))))
            (local.set $narrow
              (if (result v128) (local.get $isSigned)
                (then (i8x16.narrow_i16x8_s (local.get $narrow) (local.get $narrow)))
                (else (i8x16.narrow_i16x8_u (local.get $narrow) (local.get $narrow)))))
            (if (i32.ge_s (local.get $count) (i32.const 8))
              (then (v128.store64_lane 0 (local.get $out) (local.get $narrow)))
              (else (call $store_bytes (local.get $out) (local.get $narrow) (local.get $count))))
            (local.set $out (i32.add (local.get $out) (i32.const 8))))
          (else
            (call $store_i32 (local.get $out) (local.get $acc0) (local.get $acc1) (local.get $count))
            (local.set $out (i32.add (local.get $out) (i32.const 32)))))
        (local.set $r0 (i32.add (local.get $r0) (i32.const 8)))
        (local.set $r1 (i32.add (local.get $r1) (i32.const 8)))
        (local.set $r2 (i32.add (local.get $r2) (i32.const 8)))
        (local.set $ow (i32.add (local.get $ow) (i32.const 8)))
        (br $cols))))

  ;; One output row of a 3x3 depthwise integer kernel at stride 2 without dilation: as $dw3_row_u8_stride1, the
  ;; 16 codes under 8 positions read as i16 lanes whose low bytes are the even codes and high bytes the odd ones.
  (func $dw3_row_u8_stride2
    (param $r0 i32) (param $step i32) (param $out i32) (param $outW i32) (param $tap i32) (param $init v128)
    (param $codes i32) (param $scale v128) (param $zero v128) (param $low v128) (param $high v128) (param $isSigned i32)
    (local $r1 i32) (local $r2 i32) (local $ow i32) (local $count i32) (local $acc0 v128) (local $acc1 v128)
    (local $x v128) (local $v v128) (local $narrow v128) (local $lowBytes v128)
    (local $w0 v128) (local $w1 v128) (local $w2 v128) (local $w3 v128) (local $w4 v128) (local $w5 v128) (local $w6 v128) (local $w7 v128) (local $w8 v128)
    (local.set $w0 (i16x8.splat (i32.load16_s offset=0 (local.get $tap))))
    (local.set $w1 (i16x8.splat (i32.load16_s offset=2 (local.get $tap))))
    (local.set $w2 (i16x8.splat (i32.load16_s offset=4 (local.get $tap))))
    (local.set $w3 (i16x8.splat (i32.load16_s offset=6 (local.get $tap))))
    (local.set $w4 (i16x8.splat (i32.load16_s offset=8 (local.get $tap))))
    (local.set $w5 (i16x8.splat (i32.load16_s offset=10 (local.get $tap))))
    (local.set $w6 (i16x8.splat (i32.load16_s offset=12 (local.get $tap))))
    (local.set $w7 (i16x8.splat (i32.load16_s offset=14 (local.get $tap))))
    (local.set $w8 (i16x8.splat (i32.load16_s offset=16 (local.get $tap))))
    (local.set $lowBytes (v128.const i16x8 255 255 255 255 255 255 255 255))
    (local.set $r1 (i32.add (local.get $r0) (local.get $step)))
    (local.set $r2 (i32.add (local.get $r1) (local.get $step)))
    (block $done
      (loop $cols
        (br_if $done (i32.ge_s (local.get $ow) (local.get $outW)))
        (local.set $acc0 (local.get $init))
        (local.set $acc1 (local.get $init))
        (local.set $v (v128.load (local.get $r0)))
        (local.set $x (v128.and (local.get $v) (local.get $lowBytes)))
        (local.set $acc0 (i32x4.add (local.get $acc0) (i32x4.extmul_low_i16x8_s (local.get $x) (local.get $w0))))
        (local.set $acc1 (i32x4.add (local.get $acc1) (i32x4.extmul_high_i16x8_s (local.get $x) (local.get $w0))))
        (local.set $x (i16x8.shr_u (local.get $v) (i32.const 8)))
        (local.set $acc0 (i32x4.add (local.get $acc0) (i32x4.extmul_low_i16x8_s (local.get $x) (local.get $w1))))
        (local.set $acc1 (i32x4.add (local.get $acc1) (i32x4.extmul_high_i16x8_s (local.get $x) (local.get $w1))))
        (local.set $x (v128.and (v128.load offset=2 (local.get $r0)) (local.get $lowBytes)))
        (local.set $acc0 (i32x4.add (local.get $acc0) (i32x4.extmul_low_i16x8_s (local.get $x) (local.get $w2))))
        (local.set $acc1 (i32x4.add (local.get $acc1) (i32x4.extmul_high_i16x8_s (local.get $x) (local.get $w2))))
        (local.set $v (v128.load (local.get $r1)))
        (local.set $x (v128.and (local.get $v) (local.get $lowBytes)))
        (local.set $acc0 (i32x4.add (local.get $acc0) (i32x4.extmul_low_i16x8_s (local.get $x) (local.get $w3))))
        (local.set $acc1 (i32x4.add (local.get $acc1) (i32x4.extmul_high_i16x8_s (local.get $x) (local.get $w3))))
        (local.set $x (i16x8.shr_u (local.get $v) (i32.const 8)))
        (local.set $acc0 (i32x4.add (local.get $acc0) (i32x4.extmul_low_i16x8_s (local.get $x) (local.get $w4))))
        (local.set $acc1 (i32x4.add (local.get $acc1) (i32x4.extmul_high_i16x8_s (local.get $x) (local.get $w4))))
        (local.set $x (v128.and (v128.load offset=2 (local.get $r1)) (local.get $lowBytes)))
        (local.set $acc0 (i32x4.add (local.get $acc0) (i32x4.extmul_low_i16x8_s (local.get $x) (local.get $w5))))
        (local.set $acc1 (i32x4.add (local.get $acc1) (i32x4.extmul_high_i16x8_s (local.get $x) (local.get $w5))))
        (local.set $v (v128.load (local.get $r2)))
        (local.set $x (v128.and (local.get $v) (local.get $lowBytes)))
        (local.set $acc0 (i32x4.add (local.get $acc0) (i32x4.extmul_low_i16x8_s (local.get $x) (local.get $w6))))
        (local.set $acc1 (i32x4.add (local.get $acc1) (i32x4.extmul_high_i16x8_s (local.get $x) (local.get $w6))))
        (local.set $x (i16x8.shr_u (local.get $v) (i32.const 8)))
        (local.set $acc0 (i32x4.add (local.get $acc0) (i32x4.extmul_low_i16x8_s (local.get $x) (local.get $w7))))
        (local.set $acc1 (i32x4.add (local.get $acc1) (i32x4.extmul_high_i16x8_s (local.get $x) (local.get $w7))))
        (local.set $x (v128.and (v128.load offset=2 (local.get $r2)) (local.get $lowBytes)))
        (local.set $acc0 (i32x4.add (local.get $acc0) (i32x4.extmul_low_i16x8_s (local.get $x) (local.get $w8))))
        (local.set $acc1 (i32x4.add (local.get $acc1) (i32x4.extmul_high_i16x8_s (local.get $x) (local.get $w8))))
        (local.set $count (i32.sub (local.get $outW) (local.get $ow)))
        (if (local.get $codes)
          (then
            (local.set $narrow
              (i16x8.narrow_i32x4_s
                (i32x4.sub
                  (f32x4.add (v128.const f32x4 12582912 12582912 12582912 12582912)
                    (f32x4.pmax (f32x4.pmin (f32x4.mul (f32x4.convert_i32x4_s (local.get $acc0)) (local.get $scale)) (local.get $high))
                      (local.get $low)))
                  (local.get $zero))
                (i32x4.sub
                  (f32x4.add (v128.const f32x4 12582912 12582912 12582912 12582912)
                    (f32x4.pmax (f32x4.pmin (f32x4.mul (f32x4.convert_i32x4_s (local.get $acc1)) (local.get $scale)) (local.get $high))
                      (local.get $low)))
                  (local.get $zero))))
            (local.set $narrow
              (if (result v128) (local.get $isSigned)
                (then (i8x16.narrow_i16x8_s (local.get $narrow) (local.get $narrow)))
                (else (i8x16.narrow_i16x8_u (local.get $narrow) (local.get $narrow)))))
            (if (i32.ge_s (local.get $count) (i32.const 8))
              (then (v128.store64_lane 0 (local.get $out) (local.get $narrow)))
              (else (call $store_bytes (local.get $out) (local.get $narrow) (local.get $count))))
            (local.set $out (i32.add (local.get $out) (i32.const 8))))
          (else
            (call $store_i32 (local.get $out) (local.get $acc0) (local.get $acc1) (local.get $count))
            (local.set $out (i32.add (local.get $out) (i32.const 32)))))
        (local.set $r0 (i32.add (local.get $r0) (i32.const 16)))
        (local.set $r1 (i32.add (local.get $r1) (i32.const 16)))
        (local.set $r2 (i32.add (local.get $r2) (i32.const 16)))
        (local.set $ow (i32.add (local.get $ow) (i32.const 8)))
        (br $cols))))

  ;; Depthwise integer convolution of one image (output channel m reads input channel m / multiplier alone). Each
  ;; input plane's codes, xor flip (signed codes become unsigned ones plus 128), are copied into the middle of a
  ;; PH x PW byte buffer at `padded` filled with padByte xor flip (the input zero point), then each of its output
  ;; channels is computed row by row, 8 positions at a time: accInit[m] (i32) plus the sum over taps of code *
  ;; taps[m][t] (i16 per tap, the weight minus its zero point), which the JS side makes the integer convolution
  ;; (3x3 without dilation at strides 1 and 2 unrolled). With scales (f32 per output channel) the sums are
  ;; requantized into 8-bit codes at dst as requantize_rows does, else written as i32 (scales 0). src: the image's
  ;; first input plane; dst: its first output plane, written exactly. PW leaves room for the reads past a row's
  ;; last position (JS side: PW >= ceil8(outW) * sW + (kW - 1) * dW, plus 16 bytes after the buffer).
  (func (export "depthwise_i8")
    (param $geometry i32) (param $src i32) (param $taps i32) (param $accInit i32) (param $multiplier i32)
    (param $outChannels i32) (param $padByte i32) (param $flip i32) (param $scales i32) (param $zeroPoint i32)
    (param $isSigned i32) (param $dst i32) (param $padded i32)
    (local $inH i32) (local $inW i32) (local $outH i32) (local $outW i32) (local $kH i32) (local $kW i32)
    (local $sH i32) (local $sW i32) (local $dH i32) (local $dW i32) (local $pH i32) (local $pW i32)
    (local $PW i32) (local $m i32) (local $ih i32) (local $j i32) (local $oh i32) (local $ow i32) (local $count i32)
    (local $plane i32) (local $from i32) (local $to i32) (local $base i32) (local $out i32) (local $tap i32)
    (local $kh i32) (local $kw i32) (local $r i32) (local $tapCount i32) (local $path i32) (local $codes i32)
    (local $outBytes i32)
    (local $init v128) (local $acc0 v128) (local $acc1 v128) (local $x v128) (local $flips v128)
    (local $scale v128) (local $zero v128) (local $low v128) (local $high v128) (local $narrow v128)
    (local.set $inH (i32.load (local.get $geometry)))
    (local.set $inW (i32.load offset=4 (local.get $geometry)))
    (local.set $outH (i32.load offset=8 (local.get $geometry)))
    (local.set $outW (i32.load offset=12 (local.get $geometry)))
    (local.set $kH (i32.load offset=16 (local.get $geometry)))
    (local.set $kW (i32.load offset=20 (local.get $geometry)))
    (local.set $sH (i32.load offset=24 (local.get $geometry)))
    (local.set $sW (i32.load offset=28 (local.get $geometry)))
    (local.set $dH (i32.load offset=32 (local.get $geometry)))
    (local.set $dW (i32.load offset=36 (local.get $geometry)))
    (local.set $pH (i32.load offset=40 (local.get $geometry)))
    (local.set $pW (i32.load offset=44 (local.get $geometry)))
    (local.set $PW (i32.load offset=56 (local.get $geometry)))
    (memory.fill (local.get $padded) (i32.xor (local.get $padByte) (local.get $flip))
      (i32.mul (i32.load offset=52 (local.get $geometry)) (local.get $PW)))
    (local.set $flips (i8x16.splat (local.get $flip)))
    (local.set $tapCount (i32.mul (local.get $kH) (local.get $kW)))
    (local.set $codes (i32.ne (local.get $scales) (i32.const 0)))
    (local.set $outBytes (select (i32.const 1) (i32.const 4) (local.get $codes)))
    (local.set $zero (i32x4.splat (i32.sub (i32.const 0x4b400000) (local.get $zeroPoint))))
    (local.set $low (call $code_bound (i32.const 0) (local.get $isSigned) (local.get $zeroPoint)))
    (local.set $high (call $code_bound (i32.const 1) (local.get $isSigned) (local.get $zeroPoint)))
    ;; 1: 3x3 at stride 1; 2: 3x3 at stride 2; both without dilation. 0: any other, tap by tap.
    (if (i32.and
          (i32.and (i32.eq (local.get $kH) (i32.const 3)) (i32.eq (local.get $kW) (i32.const 3)))
          (i32.eq (local.get $dW) (i32.const 1)))
      (then
        (if (i32.eq (local.get $sW) (i32.const 1)) (then (local.set $path (i32.const 1))))
        (if (i32.eq (local.get $sW) (i32.const 2)) (then (local.set $path (i32.const 2))))))
    (local.set $out (local.get $dst))
    (block $channelsDone
      (loop $channels
        (br_if $channelsDone (i32.ge_s (local.get $m) (local.get $outChannels)))
        (if (i32.eqz (i32.rem_u (local.get $m) (local.get $multiplier)))
          (then
            (local.set $plane
              (i32.add (local.get $src)
                (i32.mul (i32.div_u (local.get $m) (local.get $multiplier)) (i32.mul (local.get $inH) (local.get $inW)))))
            (local.set $ih (i32.const 0))
            (block $rowsDone
              (loop $rows
                (br_if $rowsDone (i32.ge_s (local.get $ih) (local.get $inH)))
                (local.set $from (i32.add (local.get $plane) (i32.mul (local.get $ih) (local.get $inW))))
                (local.set $to
                  (i32.add (local.get $padded)
                    (i32.add (i32.mul (i32.add (local.get $ih) (local.get $pH)) (local.get $PW)) (local.get $pW))))
                (local.set $j (i32.const 0))
                (block $chunksDone
                  (loop $chunks
                    (br_if $chunksDone (i32.gt_s (i32.add (local.get $j) (i32.const 16)) (local.get $inW)))
                    (v128.store (i32.add (local.get $to) (local.get $j))
                      (v128.xor (v128.load (i32.add (local.get $from) (local.get $j))) (local.get $flips)))
                    (local.set $j (i32.add (local.get $j) (i32.const 16)))
                    (br $chunks)))
                (block $tailDone
                  (loop $tail
                    (br_if $tailDone (i32.ge_s (local.get $j) (local.get $inW)))
                    (i32.store8 (i32.add (local.get $to) (local.get $j))
                      (i32.xor (i32.load8_u (i32.add (local.get $from) (local.get $j))) (local.get $flip)))
                    (local.set $j (i32.add (local.get $j) (i32.const 1)))
                    (br $tail)))
                (local.set $ih (i32.add (local.get $ih) (i32.const 1)))
                (br $rows)))))
        (local.set $init (v128.load32_splat (i32.add (local.get $accInit) (i32.shl (local.get $m) (i32.const 2)))))
        (if (local.get $codes)
          (then
            (local.set $scale (v128.load32_splat (i32.add (local.get $scales) (i32.shl (local.get $m) (i32.const 2)))))))
        (local.set $tap (i32.add (local.get $taps) (i32.shl (i32.mul (local.get $m) (local.get $tapCount)) (i32.const 1))))
        (local.set $oh (i32.const 0))
        (block $outRowsDone
          (loop $outRows
            (br_if $outRowsDone (i32.ge_s (local.get $oh) (local.get $outH)))
            (local.set $base
              (i32.add (local.get $padded) (i32.mul (i32.mul (local.get $oh) (local.get $sH)) (local.get $PW))))
            (block $rowDone
              (if (i32.eq (local.get $path) (i32.const 1))
                (then
                  (call $dw3_row_u8_stride1 (local.get $base) (i32.mul (local.get $dH) (local.get $PW)) (local.get $out)
                    (local.get $outW) (local.get $tap) (local.get $init) (local.get $codes) (local.get $scale)
                    (local.get $zero) (local.get $low) (local.get $high) (local.get $isSigned))
                  (br $rowDone)))
              (if (i32.eq (local.get $path) (i32.const 2))
                (then
                  (call $dw3_row_u8_stride2 (local.get $base) (i32.mul (local.get $dH) (local.get $PW)) (local.get $out)
                    (local.get $outW) (local.get $tap) (local.get $init) (local.get $codes) (local.get $scale)
                    (local.get $zero) (local.get $low) (local.get $high) (local.get $isSigned))
                  (br $rowDone)))
              ;; Any kernel: 8 positions at a time, tap by tap.
              (local.set $ow (i32.const 0))
              (local.set $to (local.get $out))
              (block $colsDone
                (loop $cols
                  (br_if $colsDone (i32.ge_s (local.get $ow) (local.get $outW)))
                  (local.set $acc0 (local.get $init))
                  (local.set $acc1 (local.get $init))
                  (local.set $from (local.get $tap))
                  (local.set $kh (i32.const 0))
                  (loop $khLoop
                    (local.set $r
                      (i32.add (i32.add (local.get $base) (i32.mul (local.get $ow) (local.get $sW)))
                        (i32.mul (i32.mul (local.get $kh) (local.get $dH)) (local.get $PW))))
                    (local.set $kw (i32.const 0))
                    (loop $kwLoop
                      (local.set $x (call $load_strided_u8 (local.get $r) (local.get $sW)))
                      (local.set $narrow (i16x8.splat (i32.load16_s (local.get $from))))
                      (local.set $acc0
                        (i32x4.add (local.get $acc0) (i32x4.extmul_low_i16x8_s (local.get $x) (local.get $narrow))))
                      (local.set $acc1
                        (i32x4.add (local.get $acc1) (i32x4.extmul_high_i16x8_s (local.get $x) (local.get $narrow))))
                      (local.set $from (i32.add (local.get $from) (i32.const 2)))
                      (local.set $r (i32.add (local.get $r) (local.get $dW)))
                      (local.set $kw (i32.add (local.get $kw) (i32.const 1)))
                      (br_if $kwLoop (i32.lt_s (local.get $kw) (local.get $kW))))
                    (local.set $kh (i32.add (local.get $kh) (i32.const 1)))
                    (br_if $khLoop (i32.lt_s (local.get $kh) (local.get $kH))))
                  (local.set $count (i32.sub (local.get $outW) (local.get $ow)))
                  (if (local.get $codes)
                    (then
                      (local.set $narrow
                        (i16x8.narrow_i32x4_s
                          (i32x4.sub
                            (f32x4.add (v128.const f32x4 12582912 12582912 12582912 12582912)
                              (f32x4.pmax (f32x4.pmin (f32x4.mul (f32x4.convert_i32x4_s (local.get $acc0)) (local.get $scale)) (local.get $high))
                                (local.get $low)))
                            (local.get $zero))
                          (i32x4.sub
                            (f32x4.add (v128.const f32x4 12582912 12582912 12582912 12582912)
                              (f32x4.pmax (f32x4.pmin (f32x4.mul (f32x4.convert_i32x4_s (local.get $acc1)) (local.get $scale)) (local.get $high))
                                (local.get $low)))
                            (local.get $zero))))
                      (local.set $narrow
                        (if (result v128) (local.get $isSigned)
                          (then (i8x16.narrow_i16x8_s (local.get $narrow) (local.get $narrow)))
                          (else (i8x16.narrow_i16x8_u (local.get $narrow) (local.get $narrow)))))
                      (if (i32.ge_s (local.get $count) (i32.const 8))
                        (then (v128.store64_lane 0 (local.get $to) (local.get $narrow)))
                        (else (call $store_bytes (local.get $to) (local.get $narrow) (local.get $count))))
                      (local.set $to (i32.add (local.get $to) (i32.const 8))))
                    (else
                      (call $store_i32 (local.get $to) (local.get $acc0) (local.get $acc1) (local.get $count))
                      (local.set $to (i32.add (local.get $to) (i32.const 32)))))
                  (local.set $ow (i32.add (local.get $ow) (i32.const 8)))
                  (br $cols))))
            (local.set $out (i32.add (local.get $out) (i32.mul (local.get $outW) (local.get $outBytes))))
            (local.set $oh (i32.add (local.get $oh) (i32.const 1)))
            (br $outRows)))
        (local.set $m (i32.add (local.get $m) (i32.const 1)))
        (br $channels))))
)
