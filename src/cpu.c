#include "cpu.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>


static cpu_simd detected, level;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init(void)
{
#if CPU_X86
    __builtin_cpu_init();
    detected = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bf16")    ? CPU_SIMD_AVX512BF16
               : __builtin_cpu_supports("avx512f")                                          ? CPU_SIMD_AVX512
               : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")            ? CPU_SIMD_AVX2
                                                                                            : CPU_SIMD_C;
#else
    detected = CPU_SIMD_C;
#endif
    int cap = cpu_simd_parse(getenv("EMBVSATTN_SIMD"));
    level = cap >= 0 && (cpu_simd)cap < detected ? (cpu_simd)cap : detected;
}

cpu_simd cpu_simd_level(void)
{
    pthread_once(&once, init);
    return level;
}

cpu_simd cpu_simd_detected(void)
{
    pthread_once(&once, init);
    return detected;
}

const char *cpu_simd_name(cpu_simd l)
{
    return l == CPU_SIMD_AVX512BF16 ? "avx512bf16"
           : l == CPU_SIMD_AVX512   ? "avx512"
           : l == CPU_SIMD_AVX2     ? "avx2"
                                    : "c";
}

int cpu_simd_parse(const char *name)
{
    if (!name)
        return -1;
    if (strcmp(name, "c") == 0)
        return CPU_SIMD_C;
    if (strcmp(name, "avx2") == 0)
        return CPU_SIMD_AVX2;
    if (strcmp(name, "avx512") == 0)
        return CPU_SIMD_AVX512;
    if (strcmp(name, "avx512bf16") == 0)
        return CPU_SIMD_AVX512BF16;
    return -1;
}

ev_status cpu_simd_check(ev_error *err)
{
    const char *v = getenv("EMBVSATTN_SIMD");
    if (!v || !*v || cpu_simd_parse(v) >= 0)
        return EV_OK;
    char *q = ev_quote(v, strlen(v), 40);
    ev_status st = ev_fail(err, EV_ERR_USAGE, "EMBVSATTN_SIMD: expected c, avx2, avx512 or avx512bf16, found '%s'", q ? q : "?");
    free(q);
    return st;
}
