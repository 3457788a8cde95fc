;; The wasm-simd backend's kernels: float32 and int8 GEMM over panel-packed B, with their packing and epilogue
;; helpers. The JS side (src/wasm/) owns the memory layout: it copies operands in, calls these, and copies out.
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
)
