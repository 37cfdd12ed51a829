;; SIMD: memargs, lanes, v128.const, shuffle, and opcodes from 0x80 up
;; (two-byte LEB128 encodings).
(module
  (memory 1)
  (func (export "run") (param $n i32) (result i32)
    (local $v v128) (local $i i32)
    (i32.store (i32.const 0) (i32.const 1))
    (v128.store (i32.const 16) (v128.const i32x4 1 2 3 4))
    (local.set $v (v128.load offset=16 align=16 (i32.const 0)))
    (loop $l
      (local.set $v (i32x4.add (local.get $v) (v128.const i32x4 1 1 1 1)))
      (local.set $v (i16x8.abs (local.get $v)))
      (local.set $v (i32x4.dot_i16x8_s (local.get $v) (v128.const i16x8 1 0 1 0 1 0 1 0)))
      (local.set $v (i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v)))
      (local.set $v (i32x4.replace_lane 3 (local.get $v) (i32.const 9)))
      (local.set $v (v128.load32_lane 1 (i32.const 0) (local.get $v)))
      (v128.store64_lane 0 (i32.const 32) (local.get $v))
      (local.set $v (v128.or (local.get $v) (v128.load32_zero (i32.const 32))))
      (local.set $v (f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero (local.get $v))))
      (local.set $v (i32x4.trunc_sat_f64x2_s_zero (f64x2.convert_low_i32x4_s (local.get $v))))
      (local.set $v (i64x2.extmul_low_i32x4_u (local.get $v) (local.get $v)))
      (local.set $v (i64x2.neg (i64x2.neg (local.get $v))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (i32.add
      (i32x4.extract_lane 0 (local.get $v))
      (i32.add (i8x16.extract_lane_u 5 (local.get $v))
        (i32.add (i32x4.bitmask (local.get $v)) (i64x2.all_true (local.get $v)))))))
