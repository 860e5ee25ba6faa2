;; Mask accumulation kernel over 32-bit little-endian words, subtracting instead of adding when
;; $negate is 1:
;;   one:  acc[i] = (acc[i] ± ks[i]) & mask
;;   four: acc[i] = (acc[i] ± (ks0[i] + ks1[i] + ks2[i] + ks3[i])) & mask, operands $stride apart
;;
;; JavaScript has no SIMD, and its word-at-a-time add loop cost more than the keystream it
;; consumes; with 128-bit lanes the add is a small fraction of it. The host places a chunk of the
;; accumulator and of up to four operands in this module's memory, calls a kernel, and copies the
;; accumulator chunk back. Four operands per call load and store the accumulator a quarter as often.
;; `bytes` must be a multiple of 32 (the host pads the last chunk; lanes past the data are scratch).
;; Regenerate mask-accumulate.wasm.ts with `npm run build:wasm`.
(module
  (memory (export "memory") 5)

  (func (export "one") (param $acc i32) (param $ks i32) (param $bytes i32) (param $mask i32) (param $negate i32)
    (local $end i32) (local $m v128) (local $s v128)
    (local.set $end (i32.add (local.get $acc) (local.get $bytes)))
    (local.set $m (i32x4.splat (local.get $mask)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $acc) (local.get $end)))
        (local.set $s (v128.load offset=0 (local.get $ks)))
        (if (local.get $negate) (then (local.set $s (i32x4.neg (local.get $s)))))
        (v128.store offset=0 (local.get $acc)
          (v128.and (i32x4.add (v128.load offset=0 (local.get $acc)) (local.get $s)) (local.get $m)))
        (local.set $s (v128.load offset=16 (local.get $ks)))
        (if (local.get $negate) (then (local.set $s (i32x4.neg (local.get $s)))))
        (v128.store offset=16 (local.get $acc)
          (v128.and (i32x4.add (v128.load offset=16 (local.get $acc)) (local.get $s)) (local.get $m)))
        (local.set $acc (i32.add (local.get $acc) (i32.const 32)))
        (local.set $ks (i32.add (local.get $ks) (i32.const 32)))
        (br $next))))

  (func (export "four") (param $acc i32) (param $ks i32) (param $stride i32) (param $bytes i32) (param $mask i32) (param $negate i32)
    (local $end i32) (local $m v128) (local $k1 i32) (local $k2 i32) (local $k3 i32) (local $s v128)
    (local.set $end (i32.add (local.get $acc) (local.get $bytes)))
    (local.set $m (i32x4.splat (local.get $mask)))
    (local.set $k1 (i32.add (local.get $ks) (local.get $stride)))
    (local.set $k2 (i32.add (local.get $k1) (local.get $stride)))
    (local.set $k3 (i32.add (local.get $k2) (local.get $stride)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $acc) (local.get $end)))
        (local.set $s (i32x4.add
          (i32x4.add (v128.load offset=0 (local.get $ks)) (v128.load offset=0 (local.get $k1)))
          (i32x4.add (v128.load offset=0 (local.get $k2)) (v128.load offset=0 (local.get $k3)))))
        (if (local.get $negate) (then (local.set $s (i32x4.neg (local.get $s)))))
        (v128.store offset=0 (local.get $acc)
          (v128.and (i32x4.add (v128.load offset=0 (local.get $acc)) (local.get $s)) (local.get $m)))
        (local.set $s (i32x4.add
          (i32x4.add (v128.load offset=16 (local.get $ks)) (v128.load offset=16 (local.get $k1)))
          (i32x4.add (v128.load offset=16 (local.get $k2)) (v128.load offset=16 (local.get $k3)))))
        (if (local.get $negate) (then (local.set $s (i32x4.neg (local.get $s)))))
        (v128.store offset=16 (local.get $acc)
          (v128.and (i32x4.add (v128.load offset=16 (local.get $acc)) (local.get $s)) (local.get $m)))
        (local.set $acc (i32.add (local.get $acc) (i32.const 32)))
        (local.set $ks (i32.add (local.get $ks) (i32.const 32)))
        (local.set $k1 (i32.add (local.get $k1) (i32.const 32)))
        (local.set $k2 (i32.add (local.get $k2) (i32.const 32)))
        (local.set $k3 (i32.add (local.get $k3) (i32.const 32)))
        (br $next)))))
