/*
 * reap — stopping child processes within a deadline: a signal, a bounded
 * wait, then SIGKILL for whatever is left. No caller waits on a child for ever.
 */
#ifndef CONNSCALE_REAP_H
#define CONNSCALE_REAP_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Sends sig to each child in pids (its whole process group when group, the
 * child alone if that fails), reaps them for up to timeout_ms, then SIGKILLs
 * and reaps what is left. The wait ends early once *hurry is nonzero (hurry
 * may be NULL): a second Ctrl-C. Entries <= 0 are skipped; each reaped one
 * becomes 0. Returns how many had to be killed.
 */
int reap_stop(pid_t *pids, int n, int sig, bool group, int64_t timeout_ms,
              const volatile sig_atomic_t *hurry);

#endif
