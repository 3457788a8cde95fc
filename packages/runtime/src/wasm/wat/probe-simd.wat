;; The smallest module that uses 128-bit SIMD: WebAssembly.validate on it tells whether the engine has SIMD.
(module
  (func (result v128)
    (i32x4.add (v128.const i32x4 1 2 3 4) (v128.const i32x4 5 6 7 8))))
