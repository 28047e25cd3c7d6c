/* cli — argument parsing, the subcommand table, output and exit codes. The only layer that prints or exits. */
#ifndef CLI_H
#define CLI_H

/* Runs embvsattn with the given arguments; returns the process exit code (see README, "Exit codes"). */
int cli_main(int argc, char **argv);

#endif
