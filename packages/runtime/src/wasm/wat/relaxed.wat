;; The int8 GEMM on relaxed SIMD's i32x4.relaxed_dot_i8x16_i7x16_add_s, kept apart from kernels.wat so engines
;; without relaxed SIMD still compile the main module. It shares the main module's memory (imported).
;;
;; The instruction is exact only when its second operand is in [0, 127] (x86 lowers it to pmaddubsw, which reads
;; that operand as unsigned and saturates larger pairs), so A's u8 codes are split as a = low + 128 * high with
;; low = a & 127 and high = a >> 7, both in range, and C = dot(B, low) + 128 * dot(B, high). Signed A codes are
;; stored xor 0x80 (plus 128) and the JS side moves their zero point by the same 128. The backend checks this
;; module's results on known inputs before using it (some engines compute this instruction wrongly).
;;
;; K is padded to a multiple of 4. Packed A: per row, for each group of 4 k, 4 bytes of low then 4 bytes of high
;; (kPadded * 2 bytes a row, like the i16 packing). Packed B: panels of 8 columns; per group of 4 k, 32 bytes:
;; columns 0-3 then 4-7, each column's 4 consecutive k as s8 (u8 codes stored xor 0x80, as in kernels.wat).
;;
;; Built by `pnpm --filter @quantkit/runtime generate` into src/generated/relaxed-wasm.ts.
(module
  (import "env" "memory" (memory 1))

  ;; Same contract as kernels.wat's pack_b_i8, in this module's layout.
  (func (export "pack_b_relaxed")
    (param $src i32) (param $k i32) (param $n i32) (param $rowStride i32) (param $colStride i32) (param $flip i32)
    (param $dst i32) (param $colSums i32) (param $kPadded i32)
    (local $j i32) (local $columns i32) (local $kk i32) (local $value i32) (local $sum i32) (local $out i32)
    (local.set $columns (i32.and (i32.add (local.get $n) (i32.const 7)) (i32.const -8)))
    (block $done
      (loop $cols
        (br_if $done (i32.ge_s (local.get $j) (local.get $columns)))
        ;; Column j sits in panel j / 8, at byte (j % 8) * 4 of each 32-byte group.
        (local.set $out
          (i32.add (local.get $dst)
            (i32.add (i32.mul (i32.shr_u (local.get $j) (i32.const 3)) (i32.shl (local.get $kPadded) (i32.const 3)))
              (i32.shl (i32.and (local.get $j) (i32.const 7)) (i32.const 2)))))
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
                (i32.add (i32.shl (i32.shr_u (local.get $kk) (i32.const 2)) (i32.const 5))
                  (i32.and (local.get $kk) (i32.const 3))))
              (local.get $value))
            (local.set $sum (i32.add (local.get $sum) (local.get $value)))
            (local.set $kk (i32.add (local.get $kk) (i32.const 1)))
            (br $rows)))
        (i32.store (i32.add (local.get $colSums) (i32.shl (local.get $j) (i32.const 2))) (local.get $sum))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $cols))))

  ;; Packs A[i, kk] (byte at src + i * lda + kk; s8 codes are flipped to u8 when isSigned) as low/high groups;
  ;; rowSums gets each row's sum of the u8 values (low + 128 * high).
  (func (export "pack_a_relaxed")
    (param $src i32) (param $m i32) (param $k i32) (param $lda i32) (param $isSigned i32)
    (param $dst i32) (param $rowSums i32) (param $kPadded i32)
    (local $i i32) (local $kk i32) (local $value i32) (local $sum i32) (local $row i32) (local $out i32)
    (block $done
      (loop $rowLoop
        (br_if $done (i32.ge_s (local.get $i) (local.get $m)))
        (local.set $row (i32.add (local.get $src) (i32.mul (local.get $i) (local.get $lda))))
        (local.set $sum (i32.const 0))
        (local.set $kk (i32.const 0))
        (block $colsDone
          (loop $cols
            (br_if $colsDone (i32.ge_s (local.get $kk) (local.get $kPadded)))
            (local.set $value (i32.const 0))
            (if (i32.lt_s (local.get $kk) (local.get $k))
              (then
                (local.set $value (i32.load8_u (i32.add (local.get $row) (local.get $kk))))
                (if (local.get $isSigned)
                  (then (local.set $value (i32.xor (local.get $value) (i32.const 128)))))))
            (local.set $out
              (i32.add (local.get $dst)
                (i32.add (i32.shl (i32.shr_u (local.get $kk) (i32.const 2)) (i32.const 3))
                  (i32.and (local.get $kk) (i32.const 3)))))
            (i32.store8 (local.get $out) (i32.and (local.get $value) (i32.const 127)))
            (i32.store8 offset=4 (local.get $out) (i32.shr_u (local.get $value) (i32.const 7)))
            (local.set $sum (i32.add (local.get $sum) (local.get $value)))
            (local.set $kk (i32.add (local.get $kk) (i32.const 1)))
            (br $cols)))
        (i32.store (i32.add (local.get $rowSums) (i32.shl (local.get $i) (i32.const 2))) (local.get $sum))
        (local.set $dst (i32.add (local.get $dst) (i32.shl (local.get $kPadded) (i32.const 1))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rowLoop))))

  ;; C[0:m, 0:8*panels] (i32) = packed A * packed B over kPadded; ldc in bytes. Same signature as kernels.wat's
  ;; gemm_i8 (this layout has no widened B: bWide is unused).
  (func (export "gemm_relaxed")
    (param $a i32) (param $b i32) (param $bWide i32) (param $c i32) (param $ldc i32)
    (param $m i32) (param $panels i32) (param $kPadded i32)
    (local $p i32) (local $i i32) (local $panelBytes i32) (local $bp i32) (local $cp i32) (local $lda i32)
    (local.set $panelBytes (i32.shl (local.get $kPadded) (i32.const 3)))
    (local.set $lda (i32.shl (local.get $kPadded) (i32.const 1)))
    (block $done
      (loop $panelLoop
        (br_if $done (i32.ge_s (local.get $p) (local.get $panels)))
        (local.set $bp (i32.add (local.get $b) (i32.mul (local.get $p) (local.get $panelBytes))))
        (local.set $cp (i32.add (local.get $c) (i32.shl (local.get $p) (i32.const 5))))
        (local.set $i (i32.const 0))
        (block $pairsDone
          (loop $pairs
            (br_if $pairsDone (i32.gt_s (i32.add (local.get $i) (i32.const 2)) (local.get $m)))
            (call $relaxed_2x8
              (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $lda))) (local.get $lda) (local.get $bp)
              (i32.add (local.get $cp) (i32.mul (local.get $i) (local.get $ldc))) (local.get $ldc)
              (local.get $kPadded))
            (local.set $i (i32.add (local.get $i) (i32.const 2)))
            (br $pairs)))
        (if (i32.lt_s (local.get $i) (local.get $m))
          (then
            (call $relaxed_1x8
              (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $lda))) (local.get $bp)
              (i32.add (local.get $cp) (i32.mul (local.get $i) (local.get $ldc))) (local.get $kPadded))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $panelLoop))))

  ;; A 2x8 tile: per group of 4 k, two B vectors and per row a broadcast of the low and of the high bytes, each
  ;; dot adding 16 products into 4 columns.
  (func $relaxed_2x8
    (param $a0 i32) (param $lda i32) (param $b i32) (param $c i32) (param $ldc i32) (param $kPadded i32)
    (local $a1 i32) (local $end i32)
    (local $b0 v128) (local $b1 v128) (local $low v128) (local $high v128)
    (local $l00 v128) (local $l01 v128) (local $h00 v128) (local $h01 v128)
    (local $l10 v128) (local $l11 v128) (local $h10 v128) (local $h11 v128)
    (local.set $a1 (i32.add (local.get $a0) (local.get $lda)))
    (local.set $end (i32.add (local.get $a0) (i32.shl (local.get $kPadded) (i32.const 1))))
    (if (i32.gt_s (local.get $kPadded) (i32.const 0))
      (then
        (loop $kLoop
          (local.set $b0 (v128.load (local.get $b)))
          (local.set $b1 (v128.load offset=16 (local.get $b)))
          (local.set $low (v128.load32_splat (local.get $a0)))
          (local.set $high (v128.load32_splat offset=4 (local.get $a0)))
          (local.set $l00 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $b0) (local.get $low) (local.get $l00)))
          (local.set $l01 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $b1) (local.get $low) (local.get $l01)))
          (local.set $h00 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $b0) (local.get $high) (local.get $h00)))
          (local.set $h01 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $b1) (local.get $high) (local.get $h01)))
          (local.set $low (v128.load32_splat (local.get $a1)))
          (local.set $high (v128.load32_splat offset=4 (local.get $a1)))
          (local.set $l10 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $b0) (local.get $low) (local.get $l10)))
          (local.set $l11 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $b1) (local.get $low) (local.get $l11)))
          (local.set $h10 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $b0) (local.get $high) (local.get $h10)))
          (local.set $h11 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $b1) (local.get $high) (local.get $h11)))
          (local.set $b (i32.add (local.get $b) (i32.const 32)))
          (local.set $a0 (i32.add (local.get $a0) (i32.const 8)))
          (local.set $a1 (i32.add (local.get $a1) (i32.const 8)))
          (br_if $kLoop (i32.lt_u (local.get $a0) (local.get $end))))))
    (v128.store (local.get $c) (i32x4.add (local.get $l00) (i32x4.shl (local.get $h00) (i32.const 7))))
    (v128.store offset=16 (local.get $c) (i32x4.add (local.get $l01) (i32x4.shl (local.get $h01) (i32.const 7))))
    (local.set $c (i32.add (local.get $c) (local.get $ldc)))
    (v128.store (local.get $c) (i32x4.add (local.get $l10) (i32x4.shl (local.get $h10) (i32.const 7))))
    (v128.store offset=16 (local.get $c) (i32x4.add (local.get $l11) (i32x4.shl (local.get $h11) (i32.const 7)))))

  ;; A 1x8 tile.
  (func $relaxed_1x8 (param $a i32) (param $b i32) (param $c i32) (param $kPadded i32)
    (local $end i32) (local $b0 v128) (local $b1 v128) (local $low v128) (local $high v128)
    (local $l0 v128) (local $l1 v128) (local $h0 v128) (local $h1 v128)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $kPadded) (i32.const 1))))
    (if (i32.gt_s (local.get $kPadded) (i32.const 0))
      (then
        (loop $kLoop
          (local.set $b0 (v128.load (local.get $b)))
          (local.set $b1 (v128.load offset=16 (local.get $b)))
          (local.set $low (v128.load32_splat (local.get $a)))
          (local.set $high (v128.load32_splat offset=4 (local.get $a)))
          (local.set $l0 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $b0) (local.get $low) (local.get $l0)))
          (local.set $l1 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $b1) (local.get $low) (local.get $l1)))
          (local.set $h0 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $b0) (local.get $high) (local.get $h0)))
          (local.set $h1 (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $b1) (local.get $high) (local.get $h1)))
          (local.set $b (i32.add (local.get $b) (i32.const 32)))
          (local.set $a (i32.add (local.get $a) (i32.const 8)))
          (br_if $kLoop (i32.lt_u (local.get $a) (local.get $end))))))
    (v128.store (local.get $c) (i32x4.add (local.get $l0) (i32x4.shl (local.get $h0) (i32.const 7))))
    (v128.store offset=16 (local.get $c) (i32x4.add (local.get $l1) (i32x4.shl (local.get $h1) (i32.const 7)))))
)
