#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "console.h"

void console_write(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

size_t console_relay_lines(int fd, char *buf, size_t len, bool all)
{
	char out[CONSOLE_LINE_MAX + 8];
	size_t start = 0;

	while (start < len) {
		char *nl = memchr(buf + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - buf) : len;

		if (nl == NULL && !all && len - start < CONSOLE_LINE_MAX)
			break; /* the rest of this line is still to come */
		if (end - start > CONSOLE_LINE_MAX)
			end = start + CONSOLE_LINE_MAX;
		memcpy(out, "\r\033[K", 4);
		memcpy(out + 4, buf + start, end - start);
		out[4 + end - start] = '\n';
		console_write(fd, out, 5 + end - start);
		start = nl != NULL && (size_t)(nl - buf) == end ? end + 1 : end;
	}
	memmove(buf, buf + start, len - start);
	return len - start;
}

/* Copies lines until every writer is gone or, once stopped, for 1 s at most. */
static void *console_main(void *arg)
{
	struct console *con = arg;
	char buf[CONSOLE_LINE_MAX];
	size_t len = 0;
	int64_t until = 0;

	for (;;) {
		struct pollfd pfd = {.fd = con->pipe_r, .events = POLLIN};
		int r = poll(&pfd, 1, 100);

		if (atomic_load(&con->stop)) {
			if (until == 0)
				until = clock_ms() + 1000;
			if (r == 0 || clock_ms() > until)
				break;
		}
		if (r < 0 && errno != EINTR)
			break;
		if (r <= 0)
			continue;
		ssize_t n = read(con->pipe_r, buf + len, sizeof(buf) - len);
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			break;
		if (n > 0)
			len = console_relay_lines(con->out_fd, buf, len + (size_t)n, false);
	}
	console_relay_lines(con->out_fd, buf, len, true);
	return NULL;
}

int console_capture(struct console *con, bool quiet)
{
	int fds[2];

	memset(con, 0, sizeof(*con));
	con->terminal_fd = con->pipe_w = con->pipe_r = con->out_fd = -1;
	if (quiet || !isatty(STDERR_FILENO))
		return 0;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	con->pipe_r = fds[0];
	con->pipe_w = fds[1];
	con->out_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	con->terminal_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	atomic_store(&con->stop, false);
	if (con->out_fd < 0 || con->terminal_fd < 0 ||
	    pthread_create(&con->thread, NULL, console_main, con) != 0)
		goto fail;
	/* dup2 leaves fd 2 without O_CLOEXEC: the children inherit it. */
	if (dup2(con->pipe_w, STDERR_FILENO) < 0) {
		atomic_store(&con->stop, true);
		pthread_join(con->thread, NULL);
		goto fail;
	}
	con->on = true;
	return 0;
fail:
	close(con->pipe_r);
	close(con->pipe_w);
	if (con->out_fd >= 0)
		close(con->out_fd);
	if (con->terminal_fd >= 0)
		close(con->terminal_fd);
	con->terminal_fd = con->pipe_w = con->pipe_r = con->out_fd = -1;
	return -1;
}

void console_release(struct console *con)
{
	if (!con->on || con->terminal_fd < 0)
		return;
	/* Our stderr is the terminal again; only the children hold the pipe now. */
	dup2(con->terminal_fd, STDERR_FILENO);
	close(con->terminal_fd);
	close(con->pipe_w);
	con->terminal_fd = con->pipe_w = -1;
}

void console_stop(struct console *con)
{
	if (!con->on)
		return;
	console_release(con);
	atomic_store(&con->stop, true);
	pthread_join(con->thread, NULL);
	close(con->pipe_r);
	close(con->out_fd);
	con->pipe_r = con->out_fd = -1;
	con->on = false;
}
