/* cpu — which vector kernels this process runs: the one place that reads the CPU's features.
 *
 * Levels: CPU_SIMD_C (plain C, every machine), CPU_SIMD_AVX2 (AVX2 and FMA), CPU_SIMD_AVX512 (AVX-512F),
 * CPU_SIMD_AVX512BF16 (AVX-512F and AVX512-BF16: the AVX-512 kernels plus the batched search's bf16 first pass). The
 * level is the widest the CPU runs, capped by the environment variable EMBVSATTN_SIMD ("c", "avx2", "avx512" or
 * "avx512bf16"):
 * the test suite runs its kernel-dependent checks once per level, so a machine with AVX-512 also covers the paths
 * a machine without it takes. A cap above what the CPU runs is no cap (the CPU's level is used); so is an empty value.
 */
#ifndef CPU_H
#define CPU_H

#include "ev_error.h"

/* 1 where the x86 kernels are compiled (x86-64 with GCC or Clang: target attributes, __builtin_cpu_supports and
 * <immintrin.h>), else 0: every level is then CPU_SIMD_C. A file with kernels includes <immintrin.h> under it. */
#if defined(__x86_64__) && defined(__GNUC__)
#define CPU_X86 1
#else
#define CPU_X86 0
#endif

typedef enum { CPU_SIMD_C = 0, CPU_SIMD_AVX2 = 1, CPU_SIMD_AVX512 = 2, CPU_SIMD_AVX512BF16 = 3 } cpu_simd;

/* The level kernels use: the CPU's widest, capped by EMBVSATTN_SIMD. Read once (thread-safe); an unknown value of
 * EMBVSATTN_SIMD counts as no cap here (cpu_simd_check reports it). */
cpu_simd cpu_simd_level(void);

/* One of three variants of a kernel (plain C, AVX2, AVX-512: the same function type) for cpu_simd_level() (the
 * AVX-512 variant at both AVX-512 levels). Where
 * CPU_X86 is 0 it names only the C variant, so the others need not exist there. */
#if CPU_X86
#define CPU_PICK(c, avx2, avx512)                                                                                 \
    (cpu_simd_level() >= CPU_SIMD_AVX512 ? (avx512) : cpu_simd_level() == CPU_SIMD_AVX2 ? (avx2) : (c))
#else
#define CPU_PICK(c, avx2, avx512) (c)
#endif

/* The widest level the CPU itself runs, ignoring EMBVSATTN_SIMD. */
cpu_simd cpu_simd_detected(void);

/* "c", "avx2", "avx512" or "avx512bf16". */
const char *cpu_simd_name(cpu_simd level);

/* Parses a level name ("c", "avx2", "avx512", "avx512bf16"); -1 when it is none of them. NULL gives -1. */
int cpu_simd_parse(const char *name);

/* EV_ERR_USAGE with a message when EMBVSATTN_SIMD is set to something other than a level name; EV_OK otherwise.
 * The CLI calls it at start, so a typo is an error instead of a silent full-width run. */
ev_status cpu_simd_check(ev_error *err);

#endif
