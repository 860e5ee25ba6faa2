;; AES-256 (FIPS 197) in counter mode as OpenSSL's aes-256-ctr runs it: the 16-byte counter block
;; is one big-endian 128-bit integer, incremented per block and wrapping at 2^128. `expand()` turns
;; the key at [KEY, KEY + 32) into the 15 round keys at [KEY, KEY + 240); `ctr(p, blocks)` XORs
;; `blocks` × 16 bytes of keystream from the counter block at CTR into memory[p..] and leaves the
;; next counter block at CTR. The host copies the round keys and the counter in, calls, copies the
;; data and the counter out and wipes.
;;
;; For the browser participant, whose randomized rounding and noise samplers draw a word or more
;; of AES-256-CTR per coordinate (4 MB per round at d = 10⁶): the JavaScript AES produced one
;; 16-byte block per call at about 25 MB/s in Chromium and was half of the masked-input phase.
;; This is the 32-bit T-table formulation on little-endian column words (a column's row-r byte is
;; bits 8r..8r+7), 16 table lookups per round. NOT constant-time: the lookups are indexed by
;; key-dependent state, so cache timing can see key bytes (see README, "Taking part from a web
;; browser"). Regenerate aes256ctr.wasm.ts with `npm run build:wasm`.
(module
  ;; [0, 4096): TE0..TE3, 256 little-endian words each, filled by the start function;
  ;; [4096, 4352): the S-box; [4352, 4592): the round keys (KEY); [4592, 4608): the counter
  ;; block (CTR); [4608, 4608 + 65536): data (the host passes at most 64 KiB per call).
  (memory (export "memory") 2)
  (data (i32.const 4096)
    "\63\7c\77\7b\f2\6b\6f\c5\30\01\67\2b\fe\d7\ab\76\ca\82\c9\7d\fa\59\47\f0\ad\d4\a2\af\9c\a4\72\c0"
    "\b7\fd\93\26\36\3f\f7\cc\34\a5\e5\f1\71\d8\31\15\04\c7\23\c3\18\96\05\9a\07\12\80\e2\eb\27\b2\75"
    "\09\83\2c\1a\1b\6e\5a\a0\52\3b\d6\b3\29\e3\2f\84\53\d1\00\ed\20\fc\b1\5b\6a\cb\be\39\4a\4c\58\cf"
    "\d0\ef\aa\fb\43\4d\33\85\45\f9\02\7f\50\3c\9f\a8\51\a3\40\8f\92\9d\38\f5\bc\b6\da\21\10\ff\f3\d2"
    "\cd\0c\13\ec\5f\97\44\17\c4\a7\7e\3d\64\5d\19\73\60\81\4f\dc\22\2a\90\88\46\ee\b8\14\de\5e\0b\db"
    "\e0\32\3a\0a\49\06\24\5c\c2\d3\ac\62\91\95\e4\79\e7\c8\37\6d\8d\d5\4e\a9\6c\56\f4\ea\65\7a\ae\08"
    "\ba\78\25\2e\1c\a6\b4\c6\e8\dd\74\1f\4b\bd\8b\8a\70\3e\b5\66\48\03\f6\0e\61\35\57\b9\86\c1\1d\9e"
    "\e1\f8\98\11\69\d9\8e\94\9b\1e\87\e9\ce\55\28\df\8c\a1\89\0d\bf\e6\42\68\41\99\2d\0f\b0\54\bb\16"
  )

  ;; TE0[x] = (2·S[x], S[x], S[x], 3·S[x]) as bytes 0..3 of a little-endian word: the MixColumns
  ;; column of SubBytes(x) at row 0; TE1..TE3 are it rotated left by 8, 16 and 24 bits (rows 1..3).
  (func $tables
    (local $x i32) (local $s i32) (local $s2 i32) (local $w i32)
    (loop $next
      (local.set $s (i32.load8_u offset=4096 (local.get $x)))
      (local.set $s2 (i32.and
        (i32.xor (i32.shl (local.get $s) (i32.const 1)) (i32.mul (i32.shr_u (local.get $s) (i32.const 7)) (i32.const 0x1b)))
        (i32.const 0xff)))
      (local.set $w (i32.or
        (i32.or (local.get $s2) (i32.shl (local.get $s) (i32.const 8)))
        (i32.or (i32.shl (local.get $s) (i32.const 16)) (i32.shl (i32.xor (local.get $s2) (local.get $s)) (i32.const 24)))))
      (i32.store offset=0 (i32.shl (local.get $x) (i32.const 2)) (local.get $w))
      (i32.store offset=1024 (i32.shl (local.get $x) (i32.const 2)) (i32.rotl (local.get $w) (i32.const 8)))
      (i32.store offset=2048 (i32.shl (local.get $x) (i32.const 2)) (i32.rotl (local.get $w) (i32.const 16)))
      (i32.store offset=3072 (i32.shl (local.get $x) (i32.const 2)) (i32.rotl (local.get $w) (i32.const 24)))
      (local.set $x (i32.add (local.get $x) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $x) (i32.const 256)))))
  (start $tables)

  ;; SubWord: the S-box on each byte of a word.
  (func $subWord (param $t i32) (result i32)
    (i32.or
      (i32.or
        (i32.load8_u offset=4096 (i32.and (local.get $t) (i32.const 0xff)))
        (i32.shl (i32.load8_u offset=4096 (i32.and (i32.shr_u (local.get $t) (i32.const 8)) (i32.const 0xff))) (i32.const 8)))
      (i32.or
        (i32.shl (i32.load8_u offset=4096 (i32.and (i32.shr_u (local.get $t) (i32.const 16)) (i32.const 0xff))) (i32.const 16))
        (i32.shl (i32.load8_u offset=4096 (i32.shr_u (local.get $t) (i32.const 24))) (i32.const 24)))))

  ;; Byte swap: the big-endian counter words and the little-endian column words are byte-reversed.
  (func $bswap (param $x i32) (result i32)
    (i32.or
      (i32.and (i32.rotl (local.get $x) (i32.const 8)) (i32.const 0x00ff00ff))
      (i32.and (i32.rotr (local.get $x) (i32.const 8)) (i32.const 0xff00ff00))))

  ;; The key schedule (FIPS 197 §5.2, Nk = 8): w[i] = w[i-8] ^ t, t = w[i-1], through
  ;; SubWord(RotWord(t)) ^ Rcon every eighth word and SubWord(t) four words later. RotWord of a
  ;; little-endian word is a right rotation by 8; Rcon is in its low byte.
  (func (export "expand")
    (local $i i32) (local $t i32) (local $rcon i32)
    (local.set $i (i32.const 32))
    (local.set $rcon (i32.const 1))
    (loop $word
      (local.set $t (i32.load offset=4348 (local.get $i)))
      (if (i32.eqz (i32.and (local.get $i) (i32.const 31)))
        (then
          (local.set $t (i32.xor (call $subWord (i32.rotr (local.get $t) (i32.const 8))) (local.get $rcon)))
          (local.set $rcon (i32.shl (local.get $rcon) (i32.const 1))))
        (else
          (if (i32.eq (i32.and (local.get $i) (i32.const 31)) (i32.const 16))
            (then (local.set $t (call $subWord (local.get $t)))))))
      (i32.store offset=4352 (local.get $i) (i32.xor (i32.load offset=4320 (local.get $i)) (local.get $t)))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br_if $word (i32.lt_u (local.get $i) (i32.const 240)))))

  (func (export "ctr") (param $p i32) (param $blocks i32)
    (local $c0 i32) (local $c1 i32) (local $c2 i32) (local $c3 i32)
    (local $s0 i32) (local $s1 i32) (local $s2 i32) (local $s3 i32)
    (local $t0 i32) (local $t1 i32) (local $t2 i32) (local $t3 i32)
    (local $r i32)
    ;; the counter as four big-endian words, most significant first
    (local.set $c0 (call $bswap (i32.load offset=4592 (i32.const 0))))
    (local.set $c1 (call $bswap (i32.load offset=4596 (i32.const 0))))
    (local.set $c2 (call $bswap (i32.load offset=4600 (i32.const 0))))
    (local.set $c3 (call $bswap (i32.load offset=4604 (i32.const 0))))
    (block $done
      (loop $block
        (br_if $done (i32.eqz (local.get $blocks)))
        ;; AddRoundKey of the counter block, as little-endian column words
        (local.set $s0 (i32.xor (call $bswap (local.get $c0)) (i32.load offset=4352 (i32.const 0))))
        (local.set $s1 (i32.xor (call $bswap (local.get $c1)) (i32.load offset=4356 (i32.const 0))))
        (local.set $s2 (i32.xor (call $bswap (local.get $c2)) (i32.load offset=4360 (i32.const 0))))
        (local.set $s3 (i32.xor (call $bswap (local.get $c3)) (i32.load offset=4364 (i32.const 0))))
        ;; rounds 1..13: column c takes row r from column c + r (ShiftRows) through TEr
        (local.set $r (i32.const 16))
        (loop $round
          (local.set $t0 (i32.xor
            (i32.xor (i32.xor (i32.load offset=0 (i32.shl (i32.and (local.get $s0) (i32.const 0xff)) (i32.const 2)))
                              (i32.load offset=1024 (i32.and (i32.shr_u (local.get $s1) (i32.const 6)) (i32.const 0x3fc))))
                     (i32.xor (i32.load offset=2048 (i32.and (i32.shr_u (local.get $s2) (i32.const 14)) (i32.const 0x3fc)))
                              (i32.load offset=3072 (i32.shl (i32.shr_u (local.get $s3) (i32.const 24)) (i32.const 2)))))
            (i32.load offset=4352 (local.get $r))))
          (local.set $t1 (i32.xor
            (i32.xor (i32.xor (i32.load offset=0 (i32.shl (i32.and (local.get $s1) (i32.const 0xff)) (i32.const 2)))
                              (i32.load offset=1024 (i32.and (i32.shr_u (local.get $s2) (i32.const 6)) (i32.const 0x3fc))))
                     (i32.xor (i32.load offset=2048 (i32.and (i32.shr_u (local.get $s3) (i32.const 14)) (i32.const 0x3fc)))
                              (i32.load offset=3072 (i32.shl (i32.shr_u (local.get $s0) (i32.const 24)) (i32.const 2)))))
            (i32.load offset=4356 (local.get $r))))
          (local.set $t2 (i32.xor
            (i32.xor (i32.xor (i32.load offset=0 (i32.shl (i32.and (local.get $s2) (i32.const 0xff)) (i32.const 2)))
                              (i32.load offset=1024 (i32.and (i32.shr_u (local.get $s3) (i32.const 6)) (i32.const 0x3fc))))
                     (i32.xor (i32.load offset=2048 (i32.and (i32.shr_u (local.get $s0) (i32.const 14)) (i32.const 0x3fc)))
                              (i32.load offset=3072 (i32.shl (i32.shr_u (local.get $s1) (i32.const 24)) (i32.const 2)))))
            (i32.load offset=4360 (local.get $r))))
          (local.set $t3 (i32.xor
            (i32.xor (i32.xor (i32.load offset=0 (i32.shl (i32.and (local.get $s3) (i32.const 0xff)) (i32.const 2)))
                              (i32.load offset=1024 (i32.and (i32.shr_u (local.get $s0) (i32.const 6)) (i32.const 0x3fc))))
                     (i32.xor (i32.load offset=2048 (i32.and (i32.shr_u (local.get $s1) (i32.const 14)) (i32.const 0x3fc)))
                              (i32.load offset=3072 (i32.shl (i32.shr_u (local.get $s2) (i32.const 24)) (i32.const 2)))))
            (i32.load offset=4364 (local.get $r))))
          (local.set $s0 (local.get $t0))
          (local.set $s1 (local.get $t1))
          (local.set $s2 (local.get $t2))
          (local.set $s3 (local.get $t3))
          (local.set $r (i32.add (local.get $r) (i32.const 16)))
          (br_if $round (i32.lt_u (local.get $r) (i32.const 224))))
        ;; round 14: SubBytes and ShiftRows, no MixColumns; XORed into the data
        (i32.store offset=0 (local.get $p) (i32.xor (i32.load offset=0 (local.get $p)) (i32.xor
          (i32.or (i32.or (i32.load8_u offset=4096 (i32.and (local.get $s0) (i32.const 0xff)))
                          (i32.shl (i32.load8_u offset=4096 (i32.and (i32.shr_u (local.get $s1) (i32.const 8)) (i32.const 0xff))) (i32.const 8)))
                  (i32.or (i32.shl (i32.load8_u offset=4096 (i32.and (i32.shr_u (local.get $s2) (i32.const 16)) (i32.const 0xff))) (i32.const 16))
                          (i32.shl (i32.load8_u offset=4096 (i32.shr_u (local.get $s3) (i32.const 24))) (i32.const 24))))
          (i32.load offset=4576 (i32.const 0)))))
        (i32.store offset=4 (local.get $p) (i32.xor (i32.load offset=4 (local.get $p)) (i32.xor
          (i32.or (i32.or (i32.load8_u offset=4096 (i32.and (local.get $s1) (i32.const 0xff)))
                          (i32.shl (i32.load8_u offset=4096 (i32.and (i32.shr_u (local.get $s2) (i32.const 8)) (i32.const 0xff))) (i32.const 8)))
                  (i32.or (i32.shl (i32.load8_u offset=4096 (i32.and (i32.shr_u (local.get $s3) (i32.const 16)) (i32.const 0xff))) (i32.const 16))
                          (i32.shl (i32.load8_u offset=4096 (i32.shr_u (local.get $s0) (i32.const 24))) (i32.const 24))))
          (i32.load offset=4580 (i32.const 0)))))
        (i32.store offset=8 (local.get $p) (i32.xor (i32.load offset=8 (local.get $p)) (i32.xor
          (i32.or (i32.or (i32.load8_u offset=4096 (i32.and (local.get $s2) (i32.const 0xff)))
                          (i32.shl (i32.load8_u offset=4096 (i32.and (i32.shr_u (local.get $s3) (i32.const 8)) (i32.const 0xff))) (i32.const 8)))
                  (i32.or (i32.shl (i32.load8_u offset=4096 (i32.and (i32.shr_u (local.get $s0) (i32.const 16)) (i32.const 0xff))) (i32.const 16))
                          (i32.shl (i32.load8_u offset=4096 (i32.shr_u (local.get $s1) (i32.const 24))) (i32.const 24))))
          (i32.load offset=4584 (i32.const 0)))))
        (i32.store offset=12 (local.get $p) (i32.xor (i32.load offset=12 (local.get $p)) (i32.xor
          (i32.or (i32.or (i32.load8_u offset=4096 (i32.and (local.get $s3) (i32.const 0xff)))
                          (i32.shl (i32.load8_u offset=4096 (i32.and (i32.shr_u (local.get $s0) (i32.const 8)) (i32.const 0xff))) (i32.const 8)))
                  (i32.or (i32.shl (i32.load8_u offset=4096 (i32.and (i32.shr_u (local.get $s1) (i32.const 16)) (i32.const 0xff))) (i32.const 16))
                          (i32.shl (i32.load8_u offset=4096 (i32.shr_u (local.get $s2) (i32.const 24))) (i32.const 24))))
          (i32.load offset=4588 (i32.const 0)))))
        ;; the next counter block: +1 with the carry through all 128 bits (wrapping at 2^128)
        (local.set $c3 (i32.add (local.get $c3) (i32.const 1)))
        (if (i32.eqz (local.get $c3))
          (then
            (local.set $c2 (i32.add (local.get $c2) (i32.const 1)))
            (if (i32.eqz (local.get $c2))
              (then
                (local.set $c1 (i32.add (local.get $c1) (i32.const 1)))
                (if (i32.eqz (local.get $c1))
                  (then (local.set $c0 (i32.add (local.get $c0) (i32.const 1)))))))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $blocks (i32.sub (local.get $blocks) (i32.const 1)))
        (br $block)))
    (i32.store offset=4592 (i32.const 0) (call $bswap (local.get $c0)))
    (i32.store offset=4596 (i32.const 0) (call $bswap (local.get $c1)))
    (i32.store offset=4600 (i32.const 0) (call $bswap (local.get $c2)))
    (i32.store offset=4604 (i32.const 0) (call $bswap (local.get $c3)))))
