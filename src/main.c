/* main — the process: OpenBLAS's idle workers told to sleep soon, then the CLI. */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include <stdlib.h>

#include "cli.h"

/* OpenBLAS starts its worker threads when the program starts and, by default, has them spin (sched_yield) for 2^28
 * cycles — about a tenth of a second — waiting for work before they sleep, after start-up and after every threaded
 * product. Most commands make no threaded BLAS call at all, and that tenth of a second of a core is taken from our
 * own threads (a --batch run or a conversion uses both cores). 2^20 cycles (well under a millisecond) keeps the
 * workers warm between the back-to-back products of training. This runs before OpenBLAS reads its settings (a
 * constructor of priority 101 runs before unprioritised ones); a value the user set is kept. */
__attribute__((constructor(101))) static void openblas_idle_briefly(void)
{
    setenv("OPENBLAS_THREAD_TIMEOUT", "20", 0);
}

int main(int argc, char **argv) { return cli_main(argc, argv); }
