/* bench_parse_floor — the floor of GloVe text → floats: the time to parse every number of the file with the
 * fastest correct parser we have (numparse_float_token: one pass over each value, strtof's float), single-threaded,
 * from an mmap'd page-cache-resident file, with no storage of words, no allocation per row, no output. Prints "values N best_seconds S" (best of 3 passes).
 * Built and run by `make bench`; not a test. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "numparse.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_parse_floor GLOVE.txt\n");
        return 2;
    }
    int fd = open(argv[1], O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        perror(argv[1]);
        return 3;
    }
    size_t n = (size_t)st.st_size;
    const char *p = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 3;
    }
    double best = 1e30;
    size_t values = 0;
    volatile float sink = 0;
    for (int pass = 0; pass < 3; pass++) {
        double t0 = now();
        const char *q = p, *end = p + n;
        size_t v = 0;
        float acc = 0;
        while (q < end) {
            while (q < end && *q != ' ' && *q != '\n') /* the word */
                q++;
            while (q < end && *q != '\n') {
                q++; /* the space */
                float f;
                if (numparse_float_token(q, end, &f, &q) == NUMPARSE_OK) {
                    acc += f;
                    v++;
                }
            }
            q++;
        }
        double t = now() - t0;
        sink = acc;
        if (t < best)
            best = t;
        values = v;
    }
    (void)sink;
    printf("values %zu best_seconds %.4f\n", values, best);
    return 0;
}
