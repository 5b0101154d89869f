#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

#include "clock.h"
#include "reap.h"

int reap_stop(pid_t *pids, int n, int sig, bool group, int64_t timeout_ms,
              const volatile sig_atomic_t *hurry)
{
	int64_t deadline = clock_ms() + timeout_ms;
	int left = 0, killed = 0;

	for (int i = 0; i < n; i++)
		if (pids[i] > 0 && ((group && kill(-pids[i], sig) == 0) || kill(pids[i], sig) == 0))
			left++;
	while (left > 0) {
		for (int i = 0; i < n; i++)
			if (pids[i] > 0 && waitpid(pids[i], NULL, WNOHANG) == pids[i]) {
				pids[i] = 0;
				left--;
			}
		if (left > 0 && (clock_ms() > deadline || (hurry != NULL && *hurry)))
			break;
		if (left > 0)
			poll(NULL, 0, 20);
	}
	for (int i = 0; left > 0 && i < n; i++)
		if (pids[i] > 0) {
			if (!group || kill(-pids[i], SIGKILL) < 0)
				kill(pids[i], SIGKILL);
			waitpid(pids[i], NULL, 0);
			pids[i] = 0;
			killed++;
		}
	return killed;
}
