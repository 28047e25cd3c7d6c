/* check.h — the unit tests' assert helper: CHECK counts, reports the first failures, and check_done() makes the
 * process exit non-zero when any check failed. */
#ifndef CHECK_H
#define CHECK_H

#include <stdio.h>
#include <stdlib.h>

static unsigned long check_n, check_failed;

#define CHECK(cond, ...)                                                                                          \
    do {                                                                                                          \
        check_n++;                                                                                                \
        if (!(cond)) {                                                                                            \
            check_failed++;                                                                                       \
            if (check_failed <= 30) {                                                                             \
                fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond);                          \
                fprintf(stderr, __VA_ARGS__);                                                                     \
                fputc('\n', stderr);                                                                              \
            }                                                                                                     \
        }                                                                                                         \
    } while (0)

static int check_done(const char *name)
{
    printf("%s: %lu checks, %lu failed\n", name, check_n, check_failed);
    return check_failed ? 1 : 0;
}

#endif
