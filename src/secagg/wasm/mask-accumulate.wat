;; Mask accumulation kernel: acc[i] = (acc[i] ± ks[i]) & mask for 32-bit little-endian words.
;;
;; JavaScript has no SIMD, and its word-at-a-time add loop cost more than the keystream it
;; consumes; with 128-bit lanes the add is a small fraction of it. The host places a chunk of the
;; accumulator and of the keystream in this module's memory, calls add or sub, and copies the
;; accumulator chunk back. `bytes` must be a multiple of 64 (the host pads the last chunk; lanes
;; past the data are scratch). Regenerate mask-accumulate.wasm.ts with `npm run build:wasm`.
(module
  (memory (export "memory") 2)

  (func (export "add") (param $acc i32) (param $ks i32) (param $bytes i32) (param $mask i32)
    (local $end i32) (local $m v128)
    (local.set $end (i32.add (local.get $acc) (local.get $bytes)))
    (local.set $m (i32x4.splat (local.get $mask)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $acc) (local.get $end)))
        (v128.store offset=0 (local.get $acc)
          (v128.and (i32x4.add (v128.load offset=0 (local.get $acc)) (v128.load offset=0 (local.get $ks))) (local.get $m)))
        (v128.store offset=16 (local.get $acc)
          (v128.and (i32x4.add (v128.load offset=16 (local.get $acc)) (v128.load offset=16 (local.get $ks))) (local.get $m)))
        (v128.store offset=32 (local.get $acc)
          (v128.and (i32x4.add (v128.load offset=32 (local.get $acc)) (v128.load offset=32 (local.get $ks))) (local.get $m)))
        (v128.store offset=48 (local.get $acc)
          (v128.and (i32x4.add (v128.load offset=48 (local.get $acc)) (v128.load offset=48 (local.get $ks))) (local.get $m)))
        (local.set $acc (i32.add (local.get $acc) (i32.const 64)))
        (local.set $ks (i32.add (local.get $ks) (i32.const 64)))
        (br $next))))

  (func (export "sub") (param $acc i32) (param $ks i32) (param $bytes i32) (param $mask i32)
    (local $end i32) (local $m v128)
    (local.set $end (i32.add (local.get $acc) (local.get $bytes)))
    (local.set $m (i32x4.splat (local.get $mask)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $acc) (local.get $end)))
        (v128.store offset=0 (local.get $acc)
          (v128.and (i32x4.sub (v128.load offset=0 (local.get $acc)) (v128.load offset=0 (local.get $ks))) (local.get $m)))
        (v128.store offset=16 (local.get $acc)
          (v128.and (i32x4.sub (v128.load offset=16 (local.get $acc)) (v128.load offset=16 (local.get $ks))) (local.get $m)))
        (v128.store offset=32 (local.get $acc)
          (v128.and (i32x4.sub (v128.load offset=32 (local.get $acc)) (v128.load offset=32 (local.get $ks))) (local.get $m)))
        (v128.store offset=48 (local.get $acc)
          (v128.and (i32x4.sub (v128.load offset=48 (local.get $acc)) (v128.load offset=48 (local.get $ks))) (local.get $m)))
        (local.set $acc (i32.add (local.get $acc) (i32.const 64)))
        (local.set $ks (i32.add (local.get $ks) (i32.const 64)))
        (br $next)))))
